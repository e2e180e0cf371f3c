/**
 * Prometheus metric names carry their unit (`http_client_request_duration_seconds`), as the
 * OpenTelemetry specification's Prometheus compatibility rules and the Collector's prometheus
 * exporter (`add_metric_suffixes`) name them. @opentelemetry/exporter-prometheus 0.2xx only
 * sanitizes names and appends `_total` to counters, so the unit suffix is added here, before
 * its serializer runs. Written by hand because no library of ours does it; the table covers
 * the UCUM units the spec lists.
 */
import { DataPointType, type MetricData, type ScopeMetrics } from '@opentelemetry/sdk-metrics';

const UNIT_WORDS: Readonly<Record<string, string>> = {
  d: 'days',
  h: 'hours',
  min: 'minutes',
  s: 'seconds',
  ms: 'milliseconds',
  us: 'microseconds',
  ns: 'nanoseconds',
  By: 'bytes',
  KiBy: 'kibibytes',
  MiBy: 'mebibytes',
  GiBy: 'gibibytes',
  TiBy: 'tebibytes',
  KBy: 'kilobytes',
  MBy: 'megabytes',
  GBy: 'gigabytes',
  TBy: 'terabytes',
  m: 'meters',
  V: 'volts',
  A: 'amperes',
  J: 'joules',
  W: 'watts',
  g: 'grams',
  Cel: 'celsius',
  Hz: 'hertz',
  '%': 'percent',
};

const PER_UNIT_WORDS: Readonly<Record<string, string>> = { s: 'second', m: 'minute', h: 'hour', d: 'day', w: 'week', mo: 'month', y: 'year' };

/**
 * The suffix for a UCUM unit: `s` -> `seconds`, `By/s` -> `bytes_per_second`, `1` -> `ratio`
 * (gauges only, as the spec says); annotations in braces (`{connection}`) add nothing.
 */
export function unitSuffix(unit: string, isGauge: boolean): string {
  const bare = unit.replace(/\{[^}]*\}/g, '').trim();
  if (bare === '') return '';
  if (bare === '1') return isGauge ? 'ratio' : '';
  const slash = bare.indexOf('/');
  if (slash >= 0) {
    const num = bare.slice(0, slash);
    const den = bare.slice(slash + 1);
    const left = num === '' || num === '1' ? '' : (UNIT_WORDS[num] ?? num);
    const right = PER_UNIT_WORDS[den] ?? UNIT_WORDS[den] ?? den;
    return sanitize(left ? `${left}_per_${right}` : `per_${right}`);
  }
  return sanitize(UNIT_WORDS[bare] ?? bare);
}

function sanitize(word: string): string {
  return word.replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
}

/** Adds unit suffixes to metric names; names are computed once per metric. */
export class UnitSuffixer {
  private readonly names = new Map<string, string>();

  scopeMetrics(scopes: readonly ScopeMetrics[]): ScopeMetrics[] {
    return scopes.map((scope) => ({ scope: scope.scope, metrics: scope.metrics.map((metric) => this.metric(metric)) }));
  }

  private metric(metric: MetricData): MetricData {
    const { name, unit } = metric.descriptor;
    const key = `${name}\u0000${unit}\u0000${metric.dataPointType}`;
    let renamed = this.names.get(key);
    if (renamed === undefined) {
      const isGauge = metric.dataPointType === DataPointType.GAUGE || (metric.dataPointType === DataPointType.SUM && !metric.isMonotonic);
      const suffix = unitSuffix(unit, isGauge);
      const normalized = name.replace(/[^A-Za-z0-9_:]+/g, '_');
      renamed = suffix && !normalized.endsWith(`_${suffix}`) ? `${name}_${suffix}` : name;
      this.names.set(key, renamed);
    }
    return renamed === name ? metric : { ...metric, descriptor: { ...metric.descriptor, name: renamed } };
  }
}
