/**
 * User values over factory defaults: mappings merge key by key, everything else (scalars,
 * lists) replaces, as in the OpenTelemetry Collector. An explicit null keeps the default.
 */
export function deepMerge<T>(defaults: T, overrides: Record<string, unknown>): T {
  if (!isPlainObject(defaults)) return overrides as T;
  const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [key, value] of Object.entries(overrides)) {
    if (value === null || value === undefined) continue;
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return out as T;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
