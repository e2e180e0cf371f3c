import assert from 'node:assert/strict';
import { CLOCK_TOKEN } from '../../core/clock';
import type { NetworkEvent } from '../../core/events';
import { createProcessor } from '../../core/processor-helper';
import { CollectingConsumer, ManualClock, createTestHost, createTestSettings } from '../../core/testing';
import { sampleEvent } from '../helpers/test-factories';

describe('core/processor-helper periodic tasks', () => {
  it('run on the component clock from start to shutdown and pass their events on', async () => {
    const settings = createTestSettings('processor', 'ticker');
    const clock = new ManualClock(1000);
    settings.container.register(CLOCK_TOKEN, { useValue: clock });
    const sink = new CollectingConsumer();
    let runs = 0;
    let failNext = false;
    const processor = createProcessor(settings, sink, {
      mutatesData: false,
      process: (batch) => batch,
      periodic: [
        {
          name: 'tick',
          intervalMs: 100,
          run(out: NetworkEvent[]) {
            runs++;
            out.push(sampleEvent(runs));
            if (failNext) throw new Error('broken table');
          },
        },
      ],
    });
    clock.advance(500);
    assert.equal(runs, 0, 'nothing runs before start');
    await processor.start(createTestHost());
    clock.advance(250);
    assert.equal(runs, 2);
    assert.equal(sink.events.length, 2);
    assert.equal(settings.telemetry.get('emitted'), 2);
    failNext = true;
    clock.advance(100);
    assert.equal(settings.telemetry.get('errors'), 1, 'a failed run is counted');
    assert.equal(sink.events.length, 3, 'what it produced before failing still goes out');
    await processor.shutdown();
    assert.equal(clock.pendingTimers, 0);
    clock.advance(1000);
    assert.equal(runs, 3, 'nothing runs after shutdown');
  });
});
