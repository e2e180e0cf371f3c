/**
 * Exposes every component's self-telemetry counters as OpenTelemetry metrics, so the same
 * numbers the status line prints reach a metrics backend: `network_observer.component.<counter>`
 * with a `component` attribute (e.g. receiver/ebpf_network).
 */
import type { MeterProvider } from '@opentelemetry/api';
import { STANDARD_COUNTERS } from './telemetry';
import type { TelemetryRegistry } from './telemetry';

export function registerSelfMetrics(provider: MeterProvider, registry: TelemetryRegistry): void {
  const meter = provider.getMeter('network-observer/self');
  for (const name of STANDARD_COUNTERS) {
    const counter = meter.createObservableCounter(`network_observer.component.${name}`, {
      description: `Events ${name} per component (self-telemetry)`,
      unit: '{event}',
    });
    counter.addCallback((result) => {
      for (const t of registry.all()) result.observe(t.get(name), { component: t.componentKey });
    });
  }
  const other = meter.createObservableGauge('network_observer.component.counter', {
    description: 'Component-specific self-telemetry values (ring losses, table sizes, evictions, ...)',
  });
  other.addCallback((result) => {
    for (const t of registry.all()) {
      for (const [name, value] of t.snapshot()) {
        if ((STANDARD_COUNTERS as readonly string[]).includes(name) || !Number.isFinite(value)) continue;
        result.observe(value, { component: t.componentKey, counter: name });
      }
    }
  });
}
