/**
 * Exponential backoff as the OpenTelemetry Collector's exporterhelper does it
 * (retry_on_failure: initial_interval, max_interval, multiplier, randomization_factor,
 * max_elapsed_time), plus the outcome type every sender returns.
 */

export interface RetryPolicy {
  enabled: boolean;
  initialIntervalMs: number;
  maxIntervalMs: number;
  multiplier: number;
  /** Delay is drawn uniformly from [d*(1-f), d*(1+f)]. */
  randomizationFactor: number;
  /** Give up (and drop) once this much time has passed since the first attempt; 0 = never. */
  maxElapsedMs: number;
}

/** What one send attempt produced. Senders never throw; they describe the failure. */
export type SendOutcome =
  | { ok: true }
  | {
      ok: false;
      /** True for transient failures: network errors, timeouts, 429/502/503/504. */
      retryable: boolean;
      /** Server-requested delay (Retry-After), honoured instead of the backoff. */
      retryAfterMs?: number;
      error: Error;
    };

/** Delay before retry number `retry` (0-based), without Retry-After. */
export function backoffDelay(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const base = Math.min(policy.maxIntervalMs, policy.initialIntervalMs * policy.multiplier ** retry);
  const f = policy.randomizationFactor;
  if (f <= 0) return base;
  const delay = base * (1 - f + 2 * f * random());
  return Math.min(policy.maxIntervalMs * (1 + f), Math.max(0, delay));
}

/**
 * The delay before the next attempt, or undefined when the item must be given up: retries
 * disabled, a permanent failure, or the next attempt would start after max_elapsed_time.
 */
export function nextRetryDelay(policy: RetryPolicy, outcome: SendOutcome, retry: number, elapsedMs: number, random?: () => number): number | undefined {
  if (outcome.ok || !outcome.retryable || !policy.enabled) return undefined;
  const delay = outcome.retryAfterMs !== undefined && outcome.retryAfterMs >= 0 ? outcome.retryAfterMs : backoffDelay(policy, retry, random);
  if (policy.maxElapsedMs > 0 && elapsedMs + delay > policy.maxElapsedMs) return undefined;
  return delay;
}

/**
 * Retry-After as milliseconds: delta-seconds or an HTTP date; undefined when absent or
 * unparsable.
 */
export function parseRetryAfter(value: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const header = Array.isArray(value) ? value[0] : value;
  if (header === undefined) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
