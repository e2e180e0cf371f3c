/**
 * Keeps a local copy of one resource in step with the API: list (paged), then watch from the
 * list's resourceVersion, re-watch when the server ends the stream, re-list on 410 Gone and
 * every resync interval, back off on errors. client-go's Reflector, in small.
 *
 * Why not the library's ListWatch informer: it keeps every full object (tens of kilobytes per
 * pod, no bound) and stops for good on the first error. Here objects are converted to slim
 * records as they arrive and the store decides what to keep.
 */
import type { ListPage, WatchStarter } from './kube-client';

export interface ReflectorHandlers<R> {
  /** The result of a full list: everything that exists now. */
  replace(records: R[]): void;
  upsert(record: R): void;
  remove(record: R): void;
}

export interface ReflectorOptions<T, R> {
  /** For messages: 'pods', 'services'. */
  resource: string;
  /** Collection path for the watch, e.g. /api/v1/pods. */
  watchPath: string;
  fieldSelector?: string;
  list(continueToken: string | undefined, signal: AbortSignal): Promise<ListPage<T>>;
  watcher: WatchStarter;
  convert(object: T): R | undefined;
  handlers: ReflectorHandlers<R>;
  /** Called after every successful full list. */
  onSynced(): void;
  onError(error: unknown): void;
  /** 0: never re-list unless the watch needs it. */
  resyncIntervalMs: number;
  listTimeoutMs?: number;
  /** Server-side watch timeout; the watch is re-opened after it. */
  watchTimeoutSeconds?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
}

/** More pages than this in one list means something is wrong (500 items each). */
const MAX_PAGES = 10_000;

export class Reflector<T, R> {
  private resourceVersion = '';
  private lastListAt = 0;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private readonly abort = new AbortController();
  private currentWatch: AbortController | undefined;
  private wake: (() => void) | undefined;
  lists = 0;
  watches = 0;

  constructor(private readonly options: ReflectorOptions<T, R>) {}

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.currentWatch?.abort();
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    const initial = this.options.initialBackoffMs ?? 1000;
    const max = this.options.maxBackoffMs ?? 30_000;
    let backoff = initial;
    while (!this.stopped) {
      let watching = false;
      try {
        const resyncDue = this.options.resyncIntervalMs > 0 && Date.now() - this.lastListAt >= this.options.resyncIntervalMs;
        if (!this.resourceVersion || resyncDue) await this.listAll();
        watching = true;
        const opened = Date.now();
        const events = await this.watchOnce();
        if (events === 0 && Date.now() - opened < 1000) {
          // A server ending watches at once would make this loop spin: treat it as an error.
          throw new Error(`the ${this.options.resource} watch ended immediately`);
        }
        backoff = initial;
      } catch (error) {
        if (this.stopped) break;
        // A watch from a compacted resourceVersion: list again at once. (A list answering 410,
        // an expired continue token, is retried with backoff like any error.)
        if (watching && isGone(error)) {
          this.resourceVersion = '';
          continue;
        }
        this.options.onError(error);
        // Full jitter keeps a fleet of agents from reconnecting in step after an API outage.
        await this.sleep(backoff / 2 + Math.random() * (backoff / 2));
        backoff = Math.min(backoff * 2, max);
      }
    }
  }

  private async listAll(): Promise<void> {
    const records: R[] = [];
    let token: string | undefined;
    let resourceVersion = '';
    let pages = 0;
    do {
      const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.options.listTimeoutMs ?? 30_000)]);
      const page = await this.options.list(token, signal);
      if (this.stopped) return;
      // Every page of one list shares the first page's snapshot.
      if (pages === 0) resourceVersion = page.resourceVersion;
      for (const item of page.items) {
        const record = this.options.convert(item);
        if (record !== undefined) records.push(record);
      }
      token = page.continueToken;
      pages++;
    } while (token && pages < MAX_PAGES);
    this.options.handlers.replace(records);
    this.resourceVersion = resourceVersion;
    this.lastListAt = Date.now();
    this.lists++;
    this.options.onSynced();
  }

  /** Resolves with the number of events seen when the watch ends normally; rejects on errors. */
  private watchOnce(): Promise<number> {
    const timeoutSeconds = this.options.watchTimeoutSeconds ?? 300 + Math.floor(Math.random() * 300);
    let deadlineMs = (timeoutSeconds + 30) * 1000;
    if (this.options.resyncIntervalMs > 0) {
      deadlineMs = Math.min(deadlineMs, Math.max(0, this.lastListAt + this.options.resyncIntervalMs - Date.now()));
    }
    return new Promise<number>((resolve, reject) => {
      let events = 0;
      let settled = false;
      let gone = false;
      let endedByUs = false;
      let controller: AbortController | undefined;
      const finish = (error: unknown): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (this.currentWatch === controller) this.currentWatch = undefined;
        controller?.abort();
        if (gone) reject(goneError());
        else if (error && !endedByUs && !this.stopped) reject(error);
        else resolve(events);
      };
      // The server closes the watch after timeoutSeconds; this ends it if the connection
      // went silent instead, and also when a resync is due.
      const timer = setTimeout(() => {
        endedByUs = true;
        events = Math.max(events, 1);
        finish(null);
      }, deadlineMs);
      timer.unref();
      const query = {
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds,
        fieldSelector: this.options.fieldSelector,
      };
      const onEvent = (type: string, object: unknown): void => {
        if (settled) return;
        events++;
        if (type === 'ERROR') {
          gone = (object as { code?: number } | undefined)?.code === 410;
          finish(gone ? null : new Error(`${this.options.resource} watch: ${(object as { message?: string } | undefined)?.message ?? 'error event'}`));
          return;
        }
        const rv = (object as { metadata?: { resourceVersion?: string } } | undefined)?.metadata?.resourceVersion;
        if (type !== 'BOOKMARK') {
          const record = this.options.convert(object as T);
          if (record !== undefined) {
            if (type === 'DELETED') this.options.handlers.remove(record);
            else if (type === 'ADDED' || type === 'MODIFIED') this.options.handlers.upsert(record);
          }
        }
        if (rv) this.resourceVersion = rv;
      };
      this.watches++;
      this.options.watcher.watch(this.options.watchPath, query, onEvent, finish).then(
        (c) => {
          controller = c;
          if (settled || this.stopped) c.abort();
          else this.currentWatch = c;
        },
        finish,
      );
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}

function goneError(): Error {
  return Object.assign(new Error('resourceVersion too old (410 Gone)'), { statusCode: 410 });
}

/** 410 Gone: the resourceVersion is too old to watch from; a fresh list is needed. */
export function isGone(error: unknown): boolean {
  const e = error as { statusCode?: number; code?: unknown } | undefined;
  return e?.statusCode === 410 || e?.code === 410;
}
