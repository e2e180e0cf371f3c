/**
 * Writes one chunk of UTF-8 per batch to a stream, respecting backpressure without ever making the
 * pipeline wait: while the stream is full, output is held up to a byte budget; beyond it whole
 * chunks are dropped and counted. Events count as written only once the stream reports the
 * chunk written. A broken stream turns the writer into a counter of drops instead of crashing
 * the process; a closed one (EPIPE: the reader of the pipe exited, as `| head -1` does) is
 * reported to the owner, which stops: nobody will read its output again.
 */
import type { Logger } from '../../core/logger';

export interface LineWriterHooks {
  /** Events whose output the stream wrote. */
  written(events: number): void;
  /** Events whose output was dropped. */
  dropped(events: number): void;
  /** The reader is gone for good (EPIPE); `reason` says so in the user's words. */
  closed(reason: string): void;
}

export interface WritableLike {
  /** `done` reports an error for a chunk the stream accepted but could not deliver. */
  write(chunk: Uint8Array, done?: (error?: Error | null) => void): boolean;
  once(event: 'drain' | 'close', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  /** Streams that can be given up on (a pipe nobody reads) let shutdown finish. */
  destroy?(): unknown;
  /** Bytes accepted by write() but not yet handed to the OS (asynchronous streams). */
  readonly writableLength?: number;
}

const FLUSH_POLL_MS = 10;
const ABANDON_WAIT_MS = 500;

export interface LineWriterStats {
  /** Events whose output was dropped. */
  droppedEvents: number;
  /** Bytes currently held while waiting for the stream to drain. */
  bufferedBytes: number;
}

export class LineWriter {
  private pending: Uint8Array[] = [];
  private pendingEvents: number[] = [];
  private pendingBytes = 0;
  private waitingForDrain = false;
  private broken = false;
  private droppedEvents = 0;
  private readonly onError = (error: Error): void => {
    if (this.broken) return;
    this.breakOff();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EPIPE') this.hooks.closed('standard output was closed by its reader (EPIPE)');
    else this.logger.error(`standard output failed (${code ?? error.message}); further output is dropped and counted`);
  };

  constructor(
    private readonly stream: WritableLike,
    private readonly maxBufferedBytes: number,
    private readonly logger: Logger,
    private readonly hooks: LineWriterHooks,
  ) {
    stream.on('error', this.onError);
  }

  /** Writes `chunk` (the rendering of `events` events) now, later, or not at all (counted). */
  write(chunk: Uint8Array, events: number): void {
    if (chunk.length === 0) return;
    if (this.broken) {
      this.dropped(events);
      return;
    }
    if (this.waitingForDrain) {
      if (this.pendingBytes + chunk.length > this.maxBufferedBytes) {
        this.dropped(events);
        return;
      }
      this.pending.push(chunk);
      this.pendingEvents.push(events);
      this.pendingBytes += chunk.length;
      return;
    }
    this.writeNow(chunk, events);
  }

  private writeNow(chunk: Uint8Array, events: number): void {
    let ok: boolean;
    try {
      // Accepted is not delivered: an asynchronous stream destroyed at shutdown fails what it held.
      ok = this.stream.write(chunk, (error) => {
        if (error) this.dropped(events);
        else if (events > 0) this.hooks.written(events);
      });
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
      const chunk = Buffer.concat(this.pending);
      const events = this.pendingEvents.reduce((a, b) => a + b, 0);
      this.pending = [];
      this.pendingEvents = [];
      this.pendingBytes = 0;
      this.writeNow(chunk, events);
    }
  }

  /** From now on nothing is written: what is held is dropped and counted. */
  private breakOff(): void {
    this.broken = true;
    this.dropped(this.pendingEvents.reduce((a, b) => a + b, 0));
    this.pending = [];
    this.pendingEvents = [];
    this.pendingBytes = 0;
    this.waitingForDrain = false;
  }

  private dropped(events: number): void {
    if (events <= 0) return;
    this.droppedEvents += events;
    this.hooks.dropped(events);
  }

  /**
   * Resolves true once everything held was handed to the stream and the stream has passed it to
   * the OS, or false after `timeoutMs`. An asynchronous stream can hold bytes without asking for
   * a drain, and they would keep the process alive at exit if nobody reads them.
   */
  flush(timeoutMs: number): Promise<boolean> {
    const done = (): boolean => this.broken || (!this.waitingForDrain && !((this.stream.writableLength ?? 0) > 0));
    if (done()) return Promise.resolve(true);
    const deadline = Date.now() + timeoutMs;
    return new Promise((resolve) => {
      const check = (): void => {
        if (done()) resolve(true);
        else if (Date.now() >= deadline) resolve(false);
        else setTimeout(check, FLUSH_POLL_MS);
      };
      check();
    });
  }

  /**
   * Gives up on what is still held and on the stream, if it can be closed. Resolves with the
   * bytes given up, held here or accepted by the stream and not yet written, once the
   * stream is closed (or after a short wait). Events held here are counted as dropped; what the
   * stream had accepted is counted only where it reports the failure per write.
   */
  abandon(): Promise<number> {
    const lostBytes = this.pendingBytes + (this.stream.writableLength ?? 0);
    this.breakOff();
    const { stream } = this;
    if (!stream.destroy) return Promise.resolve(lostBytes);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(lostBytes), ABANDON_WAIT_MS);
      stream.once('close', () => {
        clearTimeout(timer);
        resolve(lostBytes);
      });
      stream.destroy!();
    });
  }

  stats(): LineWriterStats {
    return { droppedEvents: this.droppedEvents, bufferedBytes: this.pendingBytes };
  }
}
