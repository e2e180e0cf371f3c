/**
 * Groups records into requests of at most `maxSize`, flushing a partial request after
 * `flushTimeoutMs` (the Collector's sending_queue::batch). Batches arriving from the pipeline
 * may be tiny (one event) or huge; requests of a steady size keep per-request costs (HTTP,
 * serialization setup, compression) amortized and bodies below server limits.
 */
export class Batcher<T> {
  private pending: T[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly maxSize: number,
    private readonly flushTimeoutMs: number,
    private readonly emit: (records: T[]) => void,
  ) {}

  add(record: T): void {
    this.pending.push(record);
    if (this.pending.length >= this.maxSize) this.flush();
    else if (this.timer === undefined) this.arm();
  }

  addAll(records: readonly T[]): void {
    for (let i = 0; i < records.length; i++) {
      this.pending.push(records[i]);
      if (this.pending.length >= this.maxSize) this.flush();
    }
    if (this.pending.length > 0 && this.timer === undefined) this.arm();
  }

  /** Emits what is pending now. */
  flush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending.length === 0) return;
    const records = this.pending;
    this.pending = [];
    this.emit(records);
  }

  get size(): number {
    return this.pending.length;
  }

  private arm(): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.flushTimeoutMs);
    // Pending data must not keep a finished process alive; shutdown flushes explicitly.
    this.timer.unref();
  }
}
