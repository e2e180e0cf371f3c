/**
 * Self-telemetry: per-component counters. The four standard ones (received, emitted, dropped,
 * errors) exist for every component; components add their own (e.g. ring_lost) by name.
 * Counters are plain numbers incremented on hot paths, read when the status line, the shutdown
 * summary or the metrics export asks.
 */

export const STANDARD_COUNTERS = ['received', 'emitted', 'dropped', 'errors'] as const;
export type StandardCounter = (typeof STANDARD_COUNTERS)[number];

export class ComponentTelemetry {
  private readonly counters = new Map<string, number>();
  private readonly gauges = new Map<string, () => number>();

  constructor(readonly componentKey: string) {
    for (const name of STANDARD_COUNTERS) this.counters.set(name, 0);
  }

  add(name: string, delta = 1): void {
    this.counters.set(name, (this.counters.get(name) ?? 0) + delta);
  }

  received(n: number): void { this.add('received', n); }
  emitted(n: number): void { this.add('emitted', n); }
  dropped(n: number): void { this.add('dropped', n); }
  errors(n = 1): void { this.add('errors', n); }

  /** A value computed on read, e.g. a table size or a kernel-side loss counter. */
  registerGauge(name: string, read: () => number): void {
    this.gauges.set(name, read);
  }

  get(name: string): number {
    const gauge = this.gauges.get(name);
    if (gauge) return gauge();
    return this.counters.get(name) ?? 0;
  }

  /** Counters then gauges, in registration order. */
  snapshot(): Array<[string, number]> {
    const out: Array<[string, number]> = [...this.counters.entries()];
    for (const [name, read] of this.gauges) {
      let value: number;
      try { value = read(); } catch { value = NaN; }
      out.push([name, value]);
    }
    return out;
  }
}

/** All components' telemetry, in pipeline-build order. */
export class TelemetryRegistry {
  private readonly byComponent = new Map<string, ComponentTelemetry>();

  forComponent(key: string): ComponentTelemetry {
    let telemetry = this.byComponent.get(key);
    if (!telemetry) {
      telemetry = new ComponentTelemetry(key);
      this.byComponent.set(key, telemetry);
    }
    return telemetry;
  }

  all(): ComponentTelemetry[] {
    return [...this.byComponent.values()];
  }

  /** One line: `receiver/ebpf_network received=10 emitted=10 ... | processor/...`. */
  statusLine(): string {
    return this.all()
      .map((t) => `${t.componentKey} ${t.snapshot().map(([k, v]) => `${k}=${v}`).join(' ')}`)
      .join(' | ');
  }

  /** A multi-line table for the shutdown summary. */
  summary(): string {
    const lines = ['component counters:'];
    for (const t of this.all()) {
      lines.push(`  ${t.componentKey}: ${t.snapshot().map(([k, v]) => `${k}=${v}`).join(' ')}`);
    }
    return lines.join('\n');
  }
}
