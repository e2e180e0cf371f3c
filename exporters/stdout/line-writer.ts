/**
 * Writes one string per batch to a stream, respecting backpressure without ever making the
 * pipeline wait: while the stream is full, output is held up to a byte budget; beyond it whole
 * chunks are dropped and counted. A broken stream (EPIPE when the reader of a pipe went away)
 * turns the writer into a counter of drops instead of crashing the process.
 */
import type { Logger } from '../../core/logger';

export interface WritableLike {
  write(chunk: string): boolean;
  once(event: 'drain', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

export interface LineWriterStats {
  /** Events whose output was dropped. */
  droppedEvents: number;
  /** Characters currently held while waiting for the stream to drain. */
  bufferedChars: number;
}

export class LineWriter {
  private pending: string[] = [];
  private pendingEvents: number[] = [];
  private pendingChars = 0;
  private waitingForDrain = false;
  private broken = false;
  private droppedEvents = 0;
  private idleWaiters: Array<() => void> = [];
  private readonly onError = (error: Error): void => {
    if (this.broken) return;
    this.broken = true;
    const lost = this.pendingEvents.reduce((a, b) => a + b, 0);
    this.dropped(lost);
    this.pending = [];
    this.pendingEvents = [];
    this.pendingChars = 0;
    this.waitingForDrain = false;
    this.logger.error(`standard output failed (${(error as NodeJS.ErrnoException).code ?? error.message}); further output is dropped and counted`);
    this.wakeIdle();
  };

  constructor(
    private readonly stream: WritableLike,
    private readonly maxBufferedChars: number,
    private readonly logger: Logger,
    private readonly onDrop: (events: number) => void,
  ) {
    stream.on('error', this.onError);
  }

  /** Writes `chunk` (the rendering of `events` events) now, later, or not at all (counted). */
  write(chunk: string, events: number): void {
    if (chunk.length === 0) return;
    if (this.broken) {
      this.dropped(events);
      return;
    }
    if (this.waitingForDrain) {
      if (this.pendingChars + chunk.length > this.maxBufferedChars) {
        this.dropped(events);
        return;
      }
      this.pending.push(chunk);
      this.pendingEvents.push(events);
      this.pendingChars += chunk.length;
      return;
    }
    this.writeNow(chunk);
  }

  private writeNow(chunk: string): void {
    let ok: boolean;
    try {
      ok = this.stream.write(chunk);
    } catch (error) {
      // Some streams throw synchronously (e.g. write after end); treat like an 'error' event.
      this.onError(error as Error);
      return;
    }
    if (!ok) {
      this.waitingForDrain = true;
      this.stream.once('drain', () => this.drained());
    }
  }

  private drained(): void {
    this.waitingForDrain = false;
    if (this.broken) return;
    if (this.pending.length > 0) {
      const chunk = this.pending.join('');
      this.pending = [];
      this.pendingEvents = [];
      this.pendingChars = 0;
      this.writeNow(chunk);
    }
    if (!this.waitingForDrain) this.wakeIdle();
  }

  private dropped(events: number): void {
    if (events <= 0) return;
    this.droppedEvents += events;
    this.onDrop(events);
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Resolves once everything held was handed to the stream, or after `timeoutMs`. */
  flush(timeoutMs: number): Promise<boolean> {
    if (!this.waitingForDrain || this.broken) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  stats(): LineWriterStats {
    return { droppedEvents: this.droppedEvents, bufferedChars: this.pendingChars };
  }
}
