import assert from 'node:assert/strict';
import { ConfigError, formatIssue } from '../../../core/config/errors';
import { loadConfigText } from '../../../core/config/load';
import { builtinFactories } from '../../../distribution/components';
import { recordExporter, replayReceiver, tagProcessor, testFactories } from '../../helpers/test-factories';

function load(yaml: string) {
  return loadConfigText(yaml, 'test.yaml', __dirname, { builtins: testFactories, env: { REPLAY_COUNT: '7' } });
}

function problems(yaml: string): string[] {
  try {
    load(yaml);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${(error as Error).stack}`);
    return error.issues.map(formatIssue);
  }
  assert.fail('config was accepted');
}

const GOOD = `
receivers:
  test_replay:
    count: \${env:REPLAY_COUNT}
    interval: 250ms
processors:
  test_tag/a:
exporters:
  test_record:
service:
  telemetry:
    shutdown_timeout: 3s
  pipelines:
    events:
      receivers: [test_replay]
      processors: [test_tag/a]
      exporters: [test_record]
`;

describe('config resolution', () => {
  it('merges user values over factory defaults and normalizes units', () => {
    const { config } = load(GOOD);
    assert.deepEqual(config.components.receiver.get('test_replay')!.config, { count: 7, fail_on_start: false, interval: 250 });
    assert.deepEqual(config.components.processor.get('test_tag/a')!.config, { tag: 'tagged' });
    assert.equal(config.components.processor.get('test_tag/a')!.id.name, 'a');
    assert.equal(config.telemetry.shutdownTimeoutMs, 3000);
    assert.deepEqual(config.pipelines, [{ name: 'events', receivers: ['test_replay'], processors: ['test_tag/a'], exporters: ['test_record'] }]);
  });

  it('reports an unknown key, a wrongly typed value and an undefined processor together', () => {
    const found = problems(`
receivers:
  test_replay:
    count: many
    colour: blue
exporters:
  test_record:
service:
  pipelines:
    events:
      receivers: [test_replay]
      processors: [batch]
      exporters: [test_record]
`);
    assert.deepEqual(found.sort(), [
      'receivers::test_replay::colour: unknown key',
      'receivers::test_replay::count: must be an integer',
      'service::pipelines::events::processors::0: references undefined processor "batch" (defined under processors: none)',
    ]);
  });

  it('names an unknown component type with the valid ones', () => {
    const found = problems(`
receivers: { test_replay: }
exporters: { kafka: { brokers: [x] }, test_record: }
service: { pipelines: { p: { receivers: [test_replay], exporters: [test_record] } } }
`);
    assert.deepEqual(found, ['exporters::kafka: unknown exporter type "kafka" (valid exporter types: test_record)']);
  });

  it('checks the graph: empty pipelines and duplicate processors', () => {
    const found = problems(`
receivers: { test_replay: }
processors: { test_tag: }
exporters: { test_record: }
service:
  pipelines:
    p:
      receivers: []
      processors: [test_tag, test_tag]
      exporters: []
`);
    assert.deepEqual(found.sort(), [
      'service::pipelines::p::exporters: a pipeline needs at least one exporter',
      'service::pipelines::p::processors::1: processor "test_tag" appears twice in this pipeline',
      'service::pipelines::p::receivers: a pipeline needs at least one receiver',
    ]);
  });

  it('reports bad durations, bad enums and unknown top-level keys', () => {
    const found = problems(`
receivers: { test_replay: { count: 5000, interval: soon } }
exporters: { test_record: }
extensions: {}
service:
  pipelines: { p: { receivers: [test_replay], exporters: [test_record] } }
  telemetry: { log_level: loud }
`);
    // validate() (count <= 1000) is not run while the schema still fails.
    assert.deepEqual(found.sort(), [
      'extensions: unknown key',
      'receivers::test_replay::interval: must be a duration such as 500ms, 10s, 5m or 1h',
      'service::telemetry::log_level: must be one of "debug", "info", "warn", "error"',
    ]);
  });

  it('runs validate() once the schema passes', () => {
    const found = problems(`
receivers: { test_replay: { count: 5000 } }
exporters: { test_record: }
service: { pipelines: { p: { receivers: [test_replay], exporters: [test_record] } } }
`);
    assert.deepEqual(found, ['receivers::test_replay::count: must be at most 1000 in tests']);
  });

  it('reports YAML syntax errors with a line number', () => {
    const found = problems('receivers:\n  test_replay: [\n');
    assert.equal(found.length, 1);
    assert.match(found[0], /^YAML: .*line \d+/);
  });

  it('says what an empty file or one without service needs', () => {
    assert.match(problems('')[0], /^the file is empty: a config needs receivers, exporters and service::pipelines/);
    assert.deepEqual(problems('receivers: {}\n'), ['service: is required']);
  });

  it('warns about components that no pipeline uses', () => {
    const { config } = load(GOOD.replace('exporters:\n  test_record:', 'exporters:\n  test_record:\n  test_record/unused:'));
    assert.deepEqual(config.warnings, ['exporters::test_record/unused is defined but not used in any pipeline; it will not run']);
  });
});

describe('renamed options', () => {
  const withL7 = (body: string) => loadConfigText(`
receivers:
  ebpf_network: { mock_mode: true }
processors:
  l7: ${body}
exporters:
  stdout:
service:
  pipelines:
    p: { receivers: [ebpf_network], processors: [l7], exporters: [stdout] }
`, 'renamed.yaml', __dirname, { builtins: builtinFactories });

  it('reads an old option name as the new one, with a warning that names both', () => {
    const { config } = withL7('{ enable: false }');
    assert.equal((config.components.processor.get('l7')!.config as { enabled: boolean }).enabled, false);
    assert.deepEqual(config.warnings, ['processors::l7::enable is now called enabled; the old name still works but will go away']);
  });

  it('refuses the old and the new name together, at the old one\'s path', () => {
    assert.throws(() => withL7('{ enable: false, enabled: true }'), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(error.issues.map(formatIssue), ['processors::l7::enable: is the old name of enabled, which is set too: keep only enabled']);
      return true;
    });
  });
});

describe('renamed component types', () => {
  // test_record, renamed test_sink: the factory lists its former type.
  const renamed = { ...recordExporter, type: 'test_sink', formerTypes: ['test_record'] };
  const yaml = `
receivers: { test_replay: }
exporters: { test_record: , test_record/b: , test_sink/c: }
service: { pipelines: { p: { receivers: [test_replay], exporters: [test_record, test_record/b, test_sink/c] } } }
`;

  it('reads the former type (with or without a name) as the new one, warning with the new spelling', () => {
    const { config } = loadConfigText(yaml, 'renamed.yaml', __dirname, { builtins: () => [replayReceiver, renamed] });
    assert.deepEqual([...config.components.exporter.values()].map((c) => [c.id.key, c.factory.type]), [
      ['test_record', 'test_sink'], ['test_record/b', 'test_sink'], ['test_sink/c', 'test_sink'],
    ]);
    assert.deepEqual(config.warnings, [
      'exporters::test_record: the test_record exporter is now called test_sink: write test_sink, here and in service::pipelines; the old name still works but will go away',
      'exporters::test_record/b: the test_record exporter is now called test_sink: write test_sink/b, here and in service::pipelines; the old name still works but will go away',
    ]);
  });

  it('leaves a type to the factory registered under it, and does not list former types as valid', () => {
    const { config } = loadConfigText(yaml.replace(', test_sink/c: ', '').replace(', test_sink/c', ''), 'renamed.yaml', __dirname, {
      builtins: () => [replayReceiver, renamed, recordExporter],
    });
    assert.equal(config.components.exporter.get('test_record')!.factory, recordExporter);
    assert.deepEqual(config.warnings, []);
    assert.throws(() => loadConfigText(yaml.replace('test_record: ,', 'kafka: ,'), 'renamed.yaml', __dirname, { builtins: () => [replayReceiver, renamed] }),
      /unknown exporter type "kafka" \(valid exporter types: test_sink\)/);
  });
});

describe('older option values (upgradeConfig)', () => {
  // test_tag once took `tag: upper` for what is now `tag: UPPER`.
  const upgrading = {
    ...tagProcessor,
    upgradeConfig(given: Readonly<Record<string, unknown>>) {
      if (given.tag !== 'upper' && given.tag !== 'lower') return { config: { ...given }, warnings: [], issues: [] };
      if (given.tag === 'lower') {
        const { tag: _, ...rest } = given;
        return { config: rest, warnings: [], issues: [{ path: ['tag'], message: 'lower is no longer offered' }] };
      }
      return { config: { ...given, tag: 'UPPER' }, warnings: [{ path: ['tag'], message: 'upper is now written UPPER' }], issues: [] };
    },
  };
  const withTag = (tag: string, factory = upgrading) => loadConfigText(`
receivers: { test_replay: }
processors: { test_tag/a: { tag: ${tag} } }
exporters: { test_record: }
service: { pipelines: { p: { receivers: [test_replay], processors: [test_tag/a], exporters: [test_record] } } }
`, 'upgrade.yaml', __dirname, { builtins: () => [replayReceiver, factory, recordExporter] });

  it('reads an old value as today\'s, warning at its path', () => {
    const { config } = withTag('upper');
    assert.deepEqual(config.components.processor.get('test_tag/a')!.config, { tag: 'UPPER' });
    assert.deepEqual(config.warnings, ['processors::test_tag/a::tag: upper is now written UPPER']);
    assert.deepEqual(withTag('UPPER').config.warnings, []);
  });

  it('reports what it cannot read, and a factory that throws, as problems of the component', () => {
    assert.throws(() => withTag('lower, colour: blue'), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(error.issues.map(formatIssue), ['processors::test_tag/a::tag: lower is no longer offered', 'processors::test_tag/a::colour: unknown key']);
      return true;
    });
    const throwing = { ...tagProcessor, upgradeConfig: (): never => { throw new Error('boom'); } };
    assert.throws(() => withTag('upper', throwing as typeof upgrading), /processors::test_tag\/a: reading older option spellings failed inside the component: boom/);
  });
});
