/**
 * Boot-time nanoseconds (bpf_ktime_get_boot_ns) to wall-clock epoch microseconds. The offset
 * comes from the kernel's own clocks (CLOCK_REALTIME - CLOCK_BOOTTIME, read back to back) and
 * is refreshed periodically so NTP steps and slews are followed; never from Date.now() at the
 * first event, which would fold the delivery delay into every timestamp.
 */
import { CLOCK_BOOTTIME, CLOCK_REALTIME, libc } from './native/libc';

/** What the decoder needs from a clock. */
export interface EpochConverter {
  /** Epoch microseconds for a boot-time nanosecond stamp. */
  toEpochUs(bootNs: number): number;
}

export class BootClock implements EpochConverter {
  private offsetUs = 0;
  private lastRefresh = -Infinity;
  private readonly ts = new BigInt64Array(2);

  constructor(private readonly refreshMs = 1000) {
    this.refresh();
  }

  /** Re-reads the clocks when the last reading is older than refreshMs. Cheap otherwise. */
  maybeRefresh(nowMs = performance.now()): void {
    if (nowMs - this.lastRefresh >= this.refreshMs) this.refresh(nowMs);
  }

  refresh(nowMs = performance.now()): void {
    // boot, real, boot: take the real reading against the midpoint of the two boot readings.
    const b1 = this.read(CLOCK_BOOTTIME);
    const r = this.read(CLOCK_REALTIME);
    const b2 = this.read(CLOCK_BOOTTIME);
    this.offsetUs = r - (b1 + b2) / 2;
    this.lastRefresh = nowMs;
  }

  /** Epoch microseconds for a boot-time nanosecond stamp. */
  toEpochUs(bootNs: number): number {
    return Math.round(bootNs / 1000 + this.offsetUs);
  }

  /** Boot time now, in nanoseconds (for latency measurements against kernel stamps). */
  nowBootNs(): number {
    return this.read(CLOCK_BOOTTIME) * 1000;
  }

  /** Microseconds as a double; exact enough (boot µs < 2^53 for 285 years). */
  private read(clock: number): number {
    libc().clockGettime(clock, this.ts);
    return Number(this.ts[0]) * 1e6 + Number(this.ts[1]) / 1000;
  }
}
