/**
 * Durations and sizes as written in collector.yaml. Durations follow the Go/Collector style
 * (`500ms`, `10s`, `5m`, `1h30m`); a bare number is milliseconds. Sizes accept a number of
 * bytes or a string with a binary or decimal unit (`8MiB`, `64KB`, `1024`).
 */

/**
 * The longest duration a config may hold: 2^31-1 ms (about 24.8 days), the longest delay a
 * Node.js timer takes. A longer one makes Node warn and fire the timer after 1 ms, so
 * `tcp_update_interval: 1e400` would run its scan a thousand times a second.
 */
export const MAX_DURATION_MS = 2 ** 31 - 1;

const DURATION_UNITS_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const DURATION_PART = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;

/** Milliseconds for a duration string, or undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  if (trimmed.length === 0) return undefined;
  DURATION_PART.lastIndex = 0;
  let total = 0;
  let pos = 0;
  while (pos < trimmed.length) {
    DURATION_PART.lastIndex = pos;
    const match = DURATION_PART.exec(trimmed);
    if (!match) return undefined;
    total += Number(match[1]) * DURATION_UNITS_MS[match[2]];
    pos = DURATION_PART.lastIndex;
  }
  return total;
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
};

/** Bytes for a size string, or undefined when it is not one. */
export function parseSize(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  if (!match) return undefined;
  const unit = SIZE_UNITS[match[2].toLowerCase()];
  if (unit === undefined) return undefined;
  const bytes = Number(match[1]) * unit;
  return Number.isSafeInteger(Math.round(bytes)) ? Math.round(bytes) : undefined;
}

/** `1.5s`, `250ms`: for log lines and reports. */
export function formatDuration(ms: number): string {
  if (ms >= 1000 && ms % 1000 === 0) return `${ms / 1000}s`;
  if (ms >= 1000) return `${(ms / 1000).toFixed(3)}s`;
  return `${ms}ms`;
}
