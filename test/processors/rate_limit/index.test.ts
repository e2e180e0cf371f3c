import assert from 'node:assert/strict';
import type { NetworkEvent } from '../../../core/events';
import { CollectingConsumer, createClockedTestSettings, createTestHost } from '../../../core/testing';
import { factory, type RateLimitConfig } from '../../../processors/rate_limit';
import { opened, nthConnection } from '../probabilistic_sampler/fixtures';

function config(overrides: Partial<RateLimitConfig>): RateLimitConfig {
  return { ...factory.createDefaultConfig(), ...overrides };
}

function batch(n: number): NetworkEvent[] {
  return Array.from({ length: n }, (_, i) => opened(nthConnection(i), 'client'));
}

describe('rate_limit processor', () => {
  it('defaults: 10000 events/s with a one-second burst, read-only', async () => {
    const defaults = factory.createDefaultConfig();
    assert.deepEqual(factory.validate!(defaults), []);
    const { settings, clock } = createClockedTestSettings('processor', 'rate_limit');
    const sink = new CollectingConsumer();
    const processor = await factory.createProcessor(settings, defaults, sink);
    assert.equal(processor.mutatesData, false);
    await processor.start(createTestHost());
    const input = batch(12_000);
    await processor.consume(input);
    assert.equal(sink.events.length, 10_000);
    assert.equal(settings.telemetry.get('dropped'), 2_000);
    assert.equal(input.length, 12_000, 'the input batch is not modified');
    clock.advance(100);
    await processor.consume(batch(5000));
    assert.equal(sink.events.length, 11_000);
    await processor.shutdown();
  });

  it('delays through the injected clock and counts what it emits later', async () => {
    const { settings, clock } = createClockedTestSettings('processor', 'rate_limit/slow');
    const sink = new CollectingConsumer();
    const processor = await factory.createProcessor(
      settings,
      config({ events_per_second: 10, burst: 1, behavior: 'delay', max_delay: 300 }),
      sink,
    );
    await processor.start(createTestHost());
    await processor.consume(batch(10));
    assert.equal(sink.events.length, 1);
    const t = settings.telemetry;
    assert.equal(t.get('delayed'), 3);
    assert.equal(t.get('queued'), 3);
    assert.equal(t.get('dropped'), 6);
    const stopped = processor.shutdown();
    clock.advance(300);
    await stopped;
    assert.equal(sink.events.length, 4);
    assert.equal(t.get('received'), 10);
    assert.equal(t.get('emitted'), 4);
    assert.equal(t.get('queued'), 0);
  });

  it('rejects delay without a usable max_delay, naming the option', () => {
    assert.deepEqual(factory.validate!(config({ behavior: 'delay', max_delay: 0 })).map((i) => i.path), [['max_delay']]);
    assert.deepEqual(factory.validate!(config({ behavior: 'delay', max_delay: 120_000 })).map((i) => i.path), [['max_delay']]);
    assert.deepEqual(factory.validate!(config({ behavior: 'drop', max_delay: 0 })), []);
  });
});
