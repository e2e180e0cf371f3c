/**
 * Time conversions at the export edge. Events carry wall-clock epoch microseconds (exact in a
 * double); OpenTelemetry wants HrTime [seconds, nanoseconds] and humans want ISO-8601.
 */
import type { HrTime } from '@opentelemetry/api';

export function usToHrTime(us: number): HrTime {
  const seconds = Math.floor(us / 1e6);
  return [seconds, Math.round((us - seconds * 1e6) * 1000)];
}

/** Non-negative difference of two epoch-microsecond stamps as HrTime. */
export function durationHrTime(startUs: number, endUs: number): HrTime {
  return usToHrTime(Math.max(0, endUs - startUs));
}

const pad6 = (n: number): string => (n < 10 ? '00000' : n < 100 ? '0000' : n < 1000 ? '000' : n < 10000 ? '00' : n < 100000 ? '0' : '') + n;

// Events come in time order, so most share the second of the one before: its text is kept.
let cachedSecond = NaN;
let cachedSecondText = '';

/** `2024-05-01T12:00:00.123456Z`: ISO-8601 with microseconds (Date alone keeps milliseconds). */
export function isoFromUs(us: number): string {
  const second = Math.floor(us / 1e6);
  if (second !== cachedSecond) {
    cachedSecondText = new Date(second * 1000).toISOString().slice(0, 19);
    cachedSecond = second;
  }
  return `${cachedSecondText}.${pad6(Math.floor(us - second * 1e6))}Z`;
}

export function isoFromHrTime(time: HrTime): string {
  return isoFromUs(time[0] * 1e6 + time[1] / 1000);
}

export function hrTimeToSeconds(time: HrTime): number {
  return time[0] + time[1] / 1e9;
}
