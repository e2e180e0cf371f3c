/**
 * The services the runtime gives every component, through its settings and its container, are
 * the same for a plugin as for a built-in: the clock, the registry, the logger, and at start the
 * shared MeterProvider with whether anyone reads it.
 */
import assert from 'node:assert/strict';
import { CLOCK_TOKEN, systemClock } from '../../core/clock';
import { Collector } from '../../core/collector';
import type { ComponentSettings, Host, ProcessorFactory } from '../../core/component';
import { loadConfigText } from '../../core/config/load';
import { createLogger, silentLogger } from '../../core/logger';
import { createProcessor } from '../../core/processor-helper';
import { COMPONENT_REGISTRY_TOKEN, ComponentRegistry } from '../../core/registry';
import { ManualClock } from '../../core/testing';
import { resetJournal, testFactories } from '../helpers/test-factories';

interface Seen {
  settings: ComponentSettings;
  host?: Host;
}

/** A plugin processor that keeps what the runtime handed it. */
function probe(seen: Seen[]): ProcessorFactory<Record<string, never>> {
  return {
    kind: 'processor',
    type: 'test_probe',
    stability: 'development',
    description: 'remembers its settings and host (tests)',
    configSchema: { type: 'object', additionalProperties: false },
    createDefaultConfig: () => ({}),
    createProcessor(settings, _config, next) {
      const entry: Seen = { settings };
      seen.push(entry);
      return createProcessor(settings, next, {
        mutatesData: false,
        process: (batch) => batch,
        start: (host) => {
          entry.host = host;
        },
      });
    },
  };
}

const YAML = `
receivers:
  test_replay: { count: 0 }
processors:
  test_probe:
exporters:
  test_record:
service:
  pipelines:
    a: { receivers: [test_replay], processors: [test_probe], exporters: [test_record] }
`;

describe('services a component gets from the runtime', () => {
  beforeEach(resetJournal);

  it('the clock, the registry and a scoped logger through settings and the container; the MeterProvider at start', async () => {
    const seen: Seen[] = [];
    const { config, registry } = loadConfigText(YAML, 'services.yaml', __dirname, { builtins: () => [...testFactories(), probe(seen)] });
    const lines: string[] = [];
    const collector = new Collector(config, registry, createLogger('info', (line) => lines.push(line)));
    await collector.start();
    const [{ settings, host }] = seen;
    settings.logger.info('hello');
    assert.ok(lines.some((l) => l.endsWith('[processor/test_probe] hello')), lines.join('\n'));
    assert.equal(settings.clock, systemClock);
    assert.equal(settings.container.resolve<ComponentRegistry>(COMPONENT_REGISTRY_TOKEN), registry);
    assert.equal(settings.id.key, 'test_probe');
    assert.ok(host?.meterProvider, 'the shared MeterProvider');
    assert.equal(host.metricsEnabled, false, 'no exporter reads metrics');
    await collector.shutdown();
  });

  it('a clock registered on the registry reaches every component, as a test replaces it', async () => {
    const seen: Seen[] = [];
    const { config, registry } = loadConfigText(YAML, 'services.yaml', __dirname, { builtins: () => [...testFactories(), probe(seen)] });
    const clock = new ManualClock(42);
    registry.container.register(CLOCK_TOKEN, { useValue: clock });
    const collector = new Collector(config, registry, silentLogger);
    await collector.start();
    assert.equal(seen[0].settings.clock, clock);
    assert.equal(seen[0].settings.clock.now(), 42);
    await collector.shutdown();
  });
});
