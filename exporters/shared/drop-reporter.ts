/**
 * Logs dropped data at most once per period: the first drop is reported at once (the user
 * must learn the backend is in trouble), later ones are summed and reported when the period
 * ends. A backend outage at 100k spans/s must not turn into 100k log lines.
 */
import type { Logger } from '../../core/logger';

export class DropReporter {
  private readonly counts = new Map<string, number>();
  private lastReason = '';
  private lastLogAt = -Infinity;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly periodMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** `what` is a unit such as `spans`; `reason` says why, with the backend's error. */
  report(what: string, n: number, reason: string): void {
    if (n <= 0) return;
    this.counts.set(what, (this.counts.get(what) ?? 0) + n);
    this.lastReason = reason;
    if (this.now() - this.lastLogAt >= this.periodMs) {
      this.emit();
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.emit();
      }, Math.max(0, this.lastLogAt + this.periodMs - this.now()));
      this.timer.unref();
    }
  }

  /** Logs what is pending now (shutdown). */
  flush(): void {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.emit();
  }

  private emit(): void {
    if (this.counts.size === 0) return;
    const what = [...this.counts].map(([unit, n]) => `${n} ${unit}`).join(', ');
    this.counts.clear();
    this.lastLogAt = this.now();
    this.logger.warn(`dropped ${what}: ${this.lastReason}`);
  }
}
