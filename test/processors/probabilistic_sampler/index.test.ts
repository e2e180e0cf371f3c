import assert from 'node:assert/strict';
import { EVENT_KINDS, type NetworkEvent } from '../../../core/events';
import { CollectingConsumer, createTestHost, createTestSettings } from '../../../core/testing';
import { factory, samplingPercentageFromRate, type ProbabilisticSamplerConfig } from '../../../processors/probabilistic_sampler';
import { closed, connectionEvents, nthConnection } from './fixtures';

function config(overrides: Partial<ProbabilisticSamplerConfig>): ProbabilisticSamplerConfig {
  return { ...factory.createDefaultConfig(), ...overrides };
}

describe('probabilistic_sampler processor', () => {
  it('offers every event kind of the model to exclude_kinds (the schema lists them for editors)', () => {
    const items = (factory.configSchema as { properties: { exclude_kinds: { items: { enum: string[] } } } }).properties.exclude_kinds.items.enum;
    assert.deepEqual([...items].sort(), [...EVENT_KINDS].sort());
  });

  it('has a valid default config that keeps everything untouched', async () => {
    const defaults = factory.createDefaultConfig();
    assert.deepEqual(factory.validate!(defaults), []);
    const settings = createTestSettings('processor', 'probabilistic_sampler');
    const sink = new CollectingConsumer();
    const processor = await factory.createProcessor(settings, defaults, sink);
    assert.equal(processor.mutatesData, false);
    await processor.start(createTestHost());
    const batch = connectionEvents(nthConnection(1));
    await processor.consume(batch);
    assert.equal(sink.events.length, 6);
    assert.ok(sink.events.every((e) => e.sampleRatio === undefined));
    assert.equal(settings.telemetry.get('sampled'), 6);
    assert.equal(settings.telemetry.get('sampling_ratio'), 1);
    await processor.shutdown();
  });

  it('drops and counts, stamps kept events, and declares that it mutates', async () => {
    const settings = createTestSettings('processor', 'probabilistic_sampler/ten');
    const sink = new CollectingConsumer();
    const processor = await factory.createProcessor(settings, config({ sampling_percentage: 10, hash_seed: 3 }), sink);
    assert.equal(processor.mutatesData, true);
    await processor.start(createTestHost());
    let offered = 0;
    for (let b = 0; b < 20; b++) {
      const batch: NetworkEvent[] = [];
      for (let i = 0; i < 500; i++) batch.push(closed(nthConnection(b * 500 + i), 'server'));
      offered += batch.length;
      await processor.consume(batch);
    }
    const kept = sink.events.length;
    assert.ok(kept > 800 && kept < 1200, `kept ${kept} of ${offered}`);
    assert.ok(sink.events.every((e) => e.sampleRatio === 1638 / 16384));
    const t = settings.telemetry;
    assert.equal(t.get('received'), offered);
    assert.equal(t.get('sampled'), kept);
    assert.equal(t.get('emitted'), kept);
    assert.equal(t.get('dropped'), offered - kept);
    assert.equal(t.get('sampling_ratio'), 1638 / 16384);
    await processor.shutdown();
    await processor.shutdown();
  });

  it('counts excluded kinds separately', async () => {
    const settings = createTestSettings('processor', 'probabilistic_sampler');
    const sink = new CollectingConsumer();
    const processor = await factory.createProcessor(
      settings,
      config({ sampling_percentage: 0, exclude_kinds: ['connection.closed'] }),
      sink,
    );
    await processor.consume(connectionEvents(nthConnection(3)));
    assert.deepEqual(sink.events.map((e) => e.kind), ['connection.closed', 'connection.closed']);
    assert.equal(settings.telemetry.get('excluded'), 2);
    assert.equal(settings.telemetry.get('dropped'), 4);
    assert.equal(settings.telemetry.get('sampled'), 0);
  });

  it('rejects a percentage too small to keep anything, naming the option', () => {
    const issues = factory.validate!(config({ sampling_percentage: 0.001 }));
    assert.equal(issues.length, 1);
    assert.deepEqual(issues[0].path, ['sampling_percentage']);
    assert.match(issues[0].message, /0\.001 % is below the smallest percentage .*0\.0061035/);
    assert.deepEqual(factory.validate!(config({ sampling_percentage: 0 })), []);
    assert.deepEqual(factory.validate!(config({ sampling_percentage: 0.0062 })), []);
  });

  it('maps the original SamplingRate onto sampling_percentage', () => {
    assert.equal(samplingPercentageFromRate(1), 100);
    assert.equal(samplingPercentageFromRate(0.1), 10);
  });
});
