import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Collector } from '../../core/collector';
import { ConfigError, formatIssue } from '../../core/config/errors';
import { loadConfigText } from '../../core/config/load';
import { silentLogger } from '../../core/logger';
import { recorded, resetJournal, testFactories } from '../helpers/test-factories';

/** A processor plugin written as a third party would, outside the repository. */
const UPPERCASE_PLUGIN = `
module.exports.factories = [{
  kind: 'processor',
  type: 'uppercase_comm',
  stability: 'alpha',
  description: 'upper-cases process names',
  configSchema: { type: 'object', additionalProperties: false, properties: { only_pid: { type: 'integer' } } },
  createDefaultConfig: () => ({ only_pid: 0 }),
  createProcessor(settings, config, next) {
    return {
      mutatesData: true,
      start() {},
      shutdown() {},
      consume(batch) {
        for (const e of batch) if (!config.only_pid || e.process.pid === config.only_pid) e.process = { ...e.process, comm: e.process.comm.toUpperCase() };
        settings.telemetry.received(batch.length);
        return next.consume(batch);
      },
    };
  },
}];
`;

function pipelineWith(plugin: string, extra = ''): string {
  return `
plugins: [${plugin}]
receivers: { test_replay: { count: 2 } }
processors: { uppercase_comm: {${extra}} }
exporters: { test_record: }
service: { pipelines: { p: { receivers: [test_replay], processors: [uppercase_comm], exporters: [test_record] } } }
`;
}

function pluginIssues(dir: string, yaml: string): string[] {
  try {
    loadConfigText(yaml, 'test.yaml', dir, { builtins: testFactories });
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.issues.map(formatIssue);
  }
  assert.fail('config was accepted');
}

describe('plugins', () => {
  const dir = mkdtempSync(join(tmpdir(), 'observer-plugins-'));
  writeFileSync(join(dir, 'uppercase.js'), UPPERCASE_PLUGIN);
  writeFileSync(join(dir, 'typed.ts'), UPPERCASE_PLUGIN.replace("type: 'uppercase_comm'", "type: 'uppercase_ts'").replace('createProcessor(settings, config, next)', 'createProcessor(settings: any, config: any, next: any)').replace('consume(batch)', 'consume(batch: any[])').replace('for (const e of batch)', 'for (const e of batch as any[])'));
  writeFileSync(join(dir, 'throws.js'), "throw new Error('plugin exploded at import');");
  writeFileSync(join(dir, 'empty.js'), 'module.exports = { helper: 1 };');
  writeFileSync(join(dir, 'bad-former.js'), UPPERCASE_PLUGIN.replace("type: 'uppercase_comm',", "type: 'uppercase_comm',\n  formerTypes: 'UpperCase',"));
  writeFileSync(join(dir, 'bad-schema.js'), UPPERCASE_PLUGIN.replace("{ type: 'object', additionalProperties: false", "{ type: 'objekt', additionalProperties: false"));
  beforeEach(resetJournal);

  it('runs a processor from a module outside the repository, named in collector.yaml', async () => {
    const { config, registry } = loadConfigText(pipelineWith('./uppercase.js'), 'test.yaml', dir, { builtins: testFactories });
    assert.equal(registry.list('processor').find((r) => r.factory.type === 'uppercase_comm')!.origin, 'plugin "./uppercase.js"');
    const collector = new Collector(config, registry, silentLogger);
    await collector.start();
    await collector.shutdown();
    assert.deepEqual(recorded.get('test_record')!.flat().map((e) => e.process.comm), ['TEST', 'TEST']);
  });

  it('loads TypeScript plugins too', () => {
    const { registry } = loadConfigText(pipelineWith('./typed.ts').replace(/uppercase_comm/g, 'uppercase_ts'), 'test.yaml', dir, { builtins: testFactories });
    assert.ok(registry.lookup('processor', 'uppercase_ts'));
  });

  it('validates the plugin component config against the schema the plugin ships', () => {
    assert.deepEqual(pluginIssues(dir, pipelineWith('./uppercase.js', 'only_pid: abc, extra: 1')).sort(), [
      'processors::uppercase_comm::extra: unknown key',
      'processors::uppercase_comm::only_pid: must be an integer',
    ]);
  });

  it('names the plugin when its module throws, exports nothing, is missing, or ships a broken schema', () => {
    const cases: Array<[string, RegExp]> = [
      ['./throws.js', /^plugins::0: plugin "\.\/throws\.js" failed to load: plugin exploded at import$/],
      ['./empty.js', /^plugins::0: plugin "\.\/empty\.js" exports no factory/],
      ['./missing.js', /^plugins::0: plugin "\.\/missing\.js" cannot be found/],
      ['./bad-former.js', /^plugins::0: plugin "\.\/bad-former\.js" factory #0 \(uppercase_comm\): formerTypes must be a list of snake_case strings when present$/],
      ['./bad-schema.js', /^plugins::0: plugin "\.\/bad-schema\.js" factory #0 \(uppercase_comm\): configSchema is not a valid JSON Schema/],
    ];
    for (const [plugin, expected] of cases) {
      const issues = pluginIssues(dir, pipelineWith(plugin));
      assert.match(issues[0], expected, issues.join('\n'));
      // The component it would have provided is then unknown, and says so.
      assert.ok(issues.some((i) => i.startsWith('processors::uppercase_comm: unknown processor type')), issues.join('\n'));
    }
  });

  it('refuses a plugin type that collides with a registered one', () => {
    writeFileSync(join(dir, 'clash.js'), UPPERCASE_PLUGIN.replace("kind: 'processor',\n  type: 'uppercase_comm'", "kind: 'processor',\n  type: 'test_tag'"));
    const issues = pluginIssues(dir, pipelineWith('./clash.js'));
    assert.match(issues[0], /processor type "test_tag" is already registered by builtin/);
  });
});

describe('plugin failures that are the plugin author\'s', () => {
  const dir = mkdtempSync(join(tmpdir(), 'observer-plugins-'));
  writeFileSync(join(dir, 'needs-dep.js'), "require('surely-not-installed-dependency'); module.exports.factories = [];");
  writeFileSync(join(dir, 'bad-default.js'), UPPERCASE_PLUGIN.replace('createDefaultConfig: () => ({ only_pid: 0 })', "createDefaultConfig: () => ({ only_pid: 'zero' })"));

  it('names the missing dependency of a plugin, not the plugin, as what cannot be found', () => {
    const issues = pluginIssues(dir, pipelineWith('./needs-dep.js'));
    assert.match(issues[0], /^plugins::0: plugin "\.\/needs-dep\.js" failed to load: Cannot find module 'surely-not-installed-dependency'/);
  });

  it('blames the plugin when its default config fails its own schema', () => {
    const issues = pluginIssues(dir, pipelineWith('./bad-default.js'));
    assert.match(issues[0], /^plugins::0: plugin "\.\/bad-default\.js" factory #0 \(uppercase_comm\): its default config does not pass its own schema: only_pid: must be an integer$/);
  });

  it('resolves a relative plugin path without its extension', () => {
    writeFileSync(join(dir, 'plain.js'), UPPERCASE_PLUGIN);
    const { registry } = loadConfigText(pipelineWith('./plain'), 'test.yaml', dir, { builtins: testFactories });
    assert.ok(registry.lookup('processor', 'uppercase_comm'));
  });
});
