import assert from 'node:assert/strict';
import { Collector, StartupError } from '../../core/collector';
import { loadConfigText } from '../../core/config/load';
import { resolveConfig } from '../../core/config/resolve';
import { ComponentRegistry } from '../../core/registry';
import { silentLogger } from '../../core/logger';
import { createLogger } from '../../core/logger';
import { hosts, journal, recorded, resetJournal, testFactories } from '../helpers/test-factories';

async function collectorFor(yaml: string): Promise<Collector> {
  const { config, registry } = loadConfigText(yaml, 'test.yaml', __dirname, { builtins: testFactories });
  const collector = new Collector(config, registry, silentLogger);
  await collector.build();
  return collector;
}

describe('collector runtime', () => {
  beforeEach(resetJournal);

  it('an exporter whose destination is gone stops alone; when none is left the collector is finished', async () => {
    const lines: string[] = [];
    const { config, registry } = loadConfigText(`
receivers: { test_replay: { count: 1 } }
exporters: { test_record/a: , test_record/b: }
service: { pipelines: { p: { receivers: [test_replay], exporters: [test_record/a, test_record/b] } } }
`, 'test.yaml', __dirname, { builtins: testFactories });
    const c = new Collector(config, registry, createLogger('info', (line) => lines.push(line)));
    const finished: string[] = [];
    c.onFinished((reason) => finished.push(reason));
    await c.start();
    hosts.get('test_record/a')!.reportStopped('its reader went away');
    hosts.get('test_record/a')!.reportStopped('its reader went away');
    assert.deepEqual(finished, [], 'test_record/b still runs');
    assert.equal(lines.filter((l) => l.includes('[exporter/test_record/a] its reader went away; exporter/test_record/b keep running')).length, 1, lines.join('\n'));
    hosts.get('test_record/b')!.reportStopped('closed');
    assert.deepEqual(finished, ['exporter/test_record/b: closed; no exporter is left']);
    await c.shutdown();
    hosts.get('test_record/b')!.reportStopped('closed again');
    assert.equal(finished.length, 1, 'nothing is reported once the collector stops');
  });

  it('starts exporters, processors, receivers in that order and stops in reverse', async () => {
    const c = await collectorFor(`
receivers: { test_replay: { count: 2 } }
processors: { test_tag: }
exporters: { test_record: }
service: { pipelines: { p: { receivers: [test_replay], processors: [test_tag], exporters: [test_record] } } }
`);
    await c.start();
    await c.shutdown();
    await c.shutdown();
    assert.deepEqual(journal, ['start test_record', 'start test_tag', 'start test_replay', 'stop test_replay', 'stop test_tag', 'stop test_record']);
    assert.equal(recorded.get('test_record')!.flat().length, 2);
    assert.ok(recorded.get('test_record')!.flat().every((e) => e.process.comm === 'tagged'));
  });

  it('shares one exporter instance between pipelines and fans a receiver out to several pipelines', async () => {
    const c = await collectorFor(`
receivers: { test_replay: { count: 3 } }
processors: { test_tag/x: { tag: x }, test_tag/y: { tag: y } }
exporters: { test_record/shared: , test_record/only_b: }
service:
  pipelines:
    a: { receivers: [test_replay], processors: [test_tag/x], exporters: [test_record/shared] }
    b: { receivers: [test_replay], processors: [test_tag/y], exporters: [test_record/shared, test_record/only_b] }
`);
    await c.start();
    await c.shutdown();
    assert.equal(journal.filter((l) => l === 'start test_record/shared').length, 1);
    assert.equal(journal.filter((l) => l === 'start test_replay').length, 1);
    const shared = recorded.get('test_record/shared')!.flat();
    assert.equal(shared.length, 6);
    // Both processors mutate, so each pipeline got its own copy: no event carries the other's tag.
    assert.deepEqual(shared.map((e) => e.process.comm).sort(), ['x', 'x', 'x', 'y', 'y', 'y']);
    assert.deepEqual(recorded.get('test_record/only_b')!.flat().map((e) => e.process.comm), ['y', 'y', 'y']);
  });

  it('a read-only consumer shares the batch; the counters show what flowed', async () => {
    const c = await collectorFor(`
receivers: { test_replay: { count: 4 } }
exporters: { test_record/a: , test_record/b: }
service: { pipelines: { p: { receivers: [test_replay], exporters: [test_record/a, test_record/b] } } }
`);
    await c.start();
    await c.shutdown();
    assert.equal(recorded.get('test_record/a')![0], recorded.get('test_record/b')![0]);
    assert.match(c.telemetry.statusLine(), /receiver\/test_replay received=0 emitted=4/);
    assert.match(c.telemetry.summary(), /exporter\/test_record\/b: received=4/);
  });

  it('a component that fails to start stops those already started and names itself', async () => {
    const c = await collectorFor(`
receivers: { test_replay: { fail_on_start: true } }
processors: { test_tag: }
exporters: { test_record: }
service: { pipelines: { p: { receivers: [test_replay], processors: [test_tag], exporters: [test_record] } } }
`);
    await assert.rejects(c.start(), (error: Error) => {
      assert.ok(error instanceof StartupError);
      assert.equal(error.message, 'starting receiver/test_replay failed: refusing to start as configured');
      return true;
    });
    assert.deepEqual(journal, ['start test_record', 'start test_tag', 'start test_replay', 'stop test_tag', 'stop test_record']);
  });

  it('isolates an exporter that throws: the other exporter still gets the data and the error is counted', async () => {
    const c = await collectorFor(`
receivers: { test_replay: { count: 2 } }
exporters: { test_record/bad: { fail_consume: true }, test_record/good: }
service: { pipelines: { p: { receivers: [test_replay], exporters: [test_record/bad, test_record/good] } } }
`);
    await c.start();
    await c.shutdown();
    assert.equal(recorded.get('test_record/good')!.flat().length, 2);
    const bad = c.telemetry.all().find((t) => t.componentKey === 'exporter/test_record/bad')!;
    assert.equal(bad.get('errors'), 1);
    assert.equal(bad.get('dropped'), 2);
  });
});

describe('collector runtime: isolation of a throwing processor', () => {
  it('a plugin processor that throws loses its batch and counts it; the receiver is not affected', async () => {
    const registry = new ComponentRegistry();
    for (const f of testFactories()) registry.register(f, 'builtin');
    registry.register({
      kind: 'processor', type: 'explode', stability: 'development', description: 'throws on every batch (tests)',
      configSchema: { type: 'object', additionalProperties: false, properties: {} },
      createDefaultConfig: () => ({}),
      createProcessor: () => ({ mutatesData: false, start() {}, shutdown() {}, consume() { throw new Error('boom'); } }),
    }, 'test');
    const config = resolveConfig({
      receivers: { test_replay: { count: 3 } }, processors: { explode: null }, exporters: { test_record: null },
      service: { pipelines: { p: { receivers: ['test_replay'], processors: ['explode'], exporters: ['test_record'] } } },
    }, registry, 'inline');
    resetJournal();
    const c = new Collector(config, registry, silentLogger);
    await c.start();
    await c.shutdown();
    const explode = c.telemetry.all().find((t) => t.componentKey === 'processor/explode')!;
    assert.equal(explode.get('errors'), 1);
    assert.equal(explode.get('dropped'), 3);
    assert.equal(recorded.get('test_record')!.length, 0);
  });
});
