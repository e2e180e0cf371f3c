/**
 * The example plugin through the real runtime: named in collector.yaml, loaded without a
 * build, its schema enforced, running in a pipeline next to the built-in processors. And the
 * ways a plugin can be broken, each reported against the plugin or the YAML path at fault.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { builtinFactories } from '../../../distribution/components';
import { Collector, StartupError } from '../../../core/collector';
import { ConfigError, formatIssue } from '../../../core/config/errors';
import { loadConfigFile, loadConfigText, type LoadedConfig } from '../../../core/config/load';
import type { Factory } from '../../../core/component';
import { silentLogger } from '../../../core/logger';
import { recorded, resetJournal, testFactories } from '../../helpers/test-factories';

const REPO = resolve(__dirname, '../../..');
const EXAMPLES = join(REPO, 'examples');
const PLUGIN = join(EXAMPLES, 'redact-cidr-processor/index.ts');
const builtins = (): Factory[] => [...builtinFactories(), ...testFactories()];

/** test_replay emits connection.opened events 127.0.0.1:4000x -> 127.0.0.1:8080. */
function pipeline(plugin: string, redact = '', processors = '[redact_cidr]'): string {
  return `
plugins: [${plugin}]
receivers: { test_replay: { count: 20 } }
processors:
  probabilistic_sampler: { sampling_percentage: 100 }
  redact_cidr: {${redact}}
  rate_limit: { events_per_second: 1000, burst: 15 }
exporters: { test_record: }
service: { pipelines: { p: { receivers: [test_replay], processors: ${processors}, exporters: [test_record] } } }
`;
}

function load(yaml: string, dir = EXAMPLES): LoadedConfig {
  return loadConfigText(yaml, 'collector.yaml', dir, { builtins });
}

function issuesOf(yaml: string, dir = EXAMPLES): string[] {
  try {
    load(yaml, dir);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.issues.map(formatIssue);
  }
  assert.fail('the config was accepted');
}

async function runToCompletion(loaded: LoadedConfig): Promise<Collector> {
  const collector = new Collector(loaded.config, loaded.registry, silentLogger);
  await collector.start();
  await collector.shutdown();
  return collector;
}

describe('redact_cidr plugin through the runtime', () => {
  const broken = mkdtempSync(join(tmpdir(), 'redact-cidr-broken-'));
  const example = JSON.stringify(PLUGIN);
  writeFileSync(join(broken, 'throws.ts'), `export { factories } from ${example};\nthrow new Error('redact_cidr: license file missing');\n`);
  writeFileSync(join(broken, 'bad-schema.ts'), [
    `import { factory } from ${example};`,
    `export default { ...factory, configSchema: { ...factory.configSchema, properties: { cidrs: { type: 'lisst' } } } };`,
  ].join('\n'));
  writeFileSync(join(broken, 'create-throws.ts'), [
    `import { factory } from ${example};`,
    `export const factories = [{ ...factory, createProcessor() { throw new Error('cannot open GeoIP database'); } }];`,
  ].join('\n'));
  beforeEach(resetJournal);

  it('loads from collector.yaml, validates with its own schema, and redacts in a running pipeline', async () => {
    const loaded = load(pipeline('./redact-cidr-processor/index.ts', 'cidrs: [127.0.0.0/8], action: replace, replacement: loopback, fields: [remote_address]',
      '[probabilistic_sampler, redact_cidr, rate_limit]'));
    const registered = loaded.registry.list('processor').find((r) => r.factory.type === 'redact_cidr');
    assert.equal(registered?.origin, 'plugin "./redact-cidr-processor/index.ts"');
    assert.deepEqual(loaded.config.components.processor.get('redact_cidr')!.config, {
      cidrs: ['127.0.0.0/8'], action: 'replace', replacement: 'loopback', fields: ['remote_address'], cache_size: 4096,
    });
    const collector = await runToCompletion(loaded);
    const events = recorded.get('test_record')!.flat();
    assert.equal(events.length, 15, 'rate_limit after the plugin capped the burst');
    assert.ok(events.every((e) => e.remoteAddress === 'loopback' && e.localAddress === '127.0.0.1'));
    const telemetry = collector.telemetry.all().find((t) => t.componentKey === 'processor/redact_cidr')!;
    assert.equal(telemetry.get('redacted'), 20);
    assert.equal(telemetry.get('received'), 20);
  });

  it('runs with its defaults when configured with an empty body', async () => {
    const collector = await runToCompletion(load(pipeline('./redact-cidr-processor/index.ts')));
    // Loopback is not in the default private ranges: nothing to redact.
    assert.ok(recorded.get('test_record')!.flat().every((e) => e.localAddress === '127.0.0.1'));
    assert.equal(collector.telemetry.all().find((t) => t.componentKey === 'processor/redact_cidr')!.get('redacted'), 0);
  });

  it('reports every bad option of the plugin config with its YAML path', () => {
    const issues = issuesOf(pipeline('./redact-cidr-processor/index.ts', 'cidrs: [10.0.0.0/8, 10.0.0.0, 300.1.1.1/8], action: mask, colour: red'));
    assert.deepEqual(issues.sort(), [
      'processors::redact_cidr::action: must be one of "network", "replace"',
      'processors::redact_cidr::colour: unknown key',
    ]);
    // Cross-field rules (validate) run once the shape is right, and report every item.
    const ruleIssues = issuesOf(pipeline('./redact-cidr-processor/index.ts', 'cidrs: [10.0.0.0/8, 10.0.0.0, 300.1.1.1/8]'));
    assert.equal(ruleIssues.length, 2, ruleIssues.join('\n'));
    assert.match(ruleIssues[0], /^processors::redact_cidr::cidrs::1: "10\.0\.0\.0" has no prefix length/);
    assert.match(ruleIssues[1], /^processors::redact_cidr::cidrs::2: "300\.1\.1\.1" in "300\.1\.1\.1\/8" is not an IPv4 or IPv6 address/);
  });

  it('names the plugin when its module throws at import', () => {
    const issues = issuesOf(pipeline('./throws.ts'), broken);
    assert.equal(issues[0], 'plugins::0: plugin "./throws.ts" failed to load: redact_cidr: license file missing');
    assert.ok(issues.some((i) => i.startsWith('processors::redact_cidr: unknown processor type "redact_cidr"')), issues.join('\n'));
  });

  it('names the plugin when the module exports no factory (pointed at the wrong file)', () => {
    const issues = issuesOf(pipeline('./redact-cidr-processor/redactor.ts'));
    assert.match(issues[0], /^plugins::0: plugin "\.\/redact-cidr-processor\/redactor\.ts" exports no factory: export `factories`/);
  });

  it('names the plugin and factory when the shipped schema is not a valid JSON Schema', () => {
    const issues = issuesOf(pipeline('./bad-schema.ts'), broken);
    assert.match(issues[0], /^plugins::0: plugin "\.\/bad-schema\.ts" factory #0 \(redact_cidr\): configSchema is not a valid JSON Schema/);
  });

  it('names the component when the plugin fails while creating it', async () => {
    const loaded = load(pipeline('./create-throws.ts'), broken);
    const collector = new Collector(loaded.config, loaded.registry, silentLogger);
    await assert.rejects(collector.start(), (error: Error) => {
      assert.ok(error instanceof StartupError);
      assert.equal(error.message, 'starting processor/redact_cidr failed: cannot open GeoIP database');
      return true;
    });
    await collector.shutdown();
  });

  it('works from outside the repository, importing the API as network-observer/core/*', async () => {
    // A third-party project with this package installed (here: linked) in its node_modules.
    const project = mkdtempSync(join(tmpdir(), 'third-party-plugin-'));
    mkdirSync(join(project, 'node_modules'));
    symlinkSync(REPO, join(project, 'node_modules', 'network-observer'), 'dir');
    writeFileSync(join(project, 'hide-ports.ts'), `
import type { ConfigSchema, ProcessorFactory } from 'network-observer/core/component';
import { defaultsFromSchema } from 'network-observer/core/config/schema-defaults';
import { createProcessor } from 'network-observer/core/processor-helper';

interface HidePortsConfig { port: number }

const schema: ConfigSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { port: { type: 'integer', minimum: 1, maximum: 65535, default: 8080, description: 'port to hide' } },
};

export const factory: ProcessorFactory<HidePortsConfig> = {
  kind: 'processor',
  type: 'hide_ports',
  stability: 'development',
  description: 'zeroes one local port (third-party plugin test)',
  configSchema: schema,
  createDefaultConfig: () => defaultsFromSchema<HidePortsConfig>(schema),
  createProcessor(settings, config, next) {
    return createProcessor(settings, next, {
      mutatesData: true,
      process(batch) {
        for (const event of batch) if (event.remotePort === config.port) event.remotePort = 0;
        return batch;
      },
    });
  },
};
`);
    const loaded = load(pipeline('./hide-ports.ts', '', '[hide_ports]').replace('redact_cidr: {}', 'hide_ports: {}'), project);
    await runToCompletion(loaded);
    const events = recorded.get('test_record')!.flat();
    assert.equal(events.length, 20);
    assert.ok(events.every((e) => e.remotePort === 0));
  });
});

describe('examples/collector-with-plugin.yaml', () => {
  const file = join(EXAMPLES, 'collector-with-plugin.yaml');
  beforeEach(resetJournal);

  it('validates as shipped, with the built-in components and the plugin', () => {
    const loaded = loadConfigFile(file, { builtins: builtinFactories });
    assert.deepEqual(loaded.config.pipelines[0].processors, ['probabilistic_sampler', 'redact_cidr', 'rate_limit']);
    assert.equal(loaded.registry.list('processor').find((r) => r.factory.type === 'redact_cidr')?.origin, 'plugin "./redact-cidr-processor/index.ts"');
    assert.deepEqual(loaded.config.warnings, []);
  });

  it('runs end to end on the mock receiver (stdout swapped for a recording exporter)', async function () {
    this.timeout(15_000);
    const text = readFileSync(file, 'utf8');
    // Mock mode is the product's no-eBPF development mode; stdout would print into the test
    // report. The plugin line and every processor block are used exactly as shipped.
    const swapped = text
      .replace(/^receivers:\n {2}ebpf_network:$/m, 'receivers:\n  ebpf_network: { mock_mode: true, mock_events_per_second: 2000, flush_interval: 50ms }')
      .replace(/^exporters:\n {2}stdout:\n {4}format: text$/m, 'exporters:\n  test_record:')
      .replace('exporters: [stdout]', 'exporters: [test_record]');
    assert.doesNotMatch(swapped, /stdout/);
    const loaded = loadConfigText(swapped, 'examples/collector-with-plugin.yaml', EXAMPLES, { builtins });
    const collector = new Collector(loaded.config, loaded.registry, silentLogger);
    await collector.start();
    try {
      const deadline = Date.now() + 10_000;
      while ((recorded.get('test_record') ?? []).flat().length < 200 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    } finally {
      await collector.shutdown();
    }
    const events = recorded.get('test_record')!.flat();
    assert.ok(events.length >= 200, `got ${events.length} events`);
    // The mock traffic runs between private addresses: every one is replaced by its range.
    const ranges = new Set(['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7']);
    for (const e of events) {
      assert.ok(ranges.has(e.localAddress) && ranges.has(e.remoteAddress), `${e.kind} ${e.localAddress} -> ${e.remoteAddress}`);
      assert.equal(e.sampleRatio, 0.5);
    }
    const redactor = collector.telemetry.all().find((t) => t.componentKey === 'processor/redact_cidr')!;
    assert.ok(redactor.get('redacted') >= 2 * events.length);
  });
});
