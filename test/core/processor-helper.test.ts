import assert from 'node:assert/strict';
import type { NetworkEvent } from '../../core/events';
import { createProcessor } from '../../core/processor-helper';
import { CollectingConsumer, createClockedTestSettings, createTestHost } from '../../core/testing';
import { sampleEvent } from '../helpers/test-factories';

describe('core/processor-helper periodic tasks', () => {
  it('run on the component clock from start to shutdown and pass their events on', async () => {
    const { settings, clock } = createClockedTestSettings('processor', 'ticker', 1000);
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

  it('rest while idle and start again with the next batch', async () => {
    const { settings, clock } = createClockedTestSettings('processor', 'sweeper', 1000);
    const sink = new CollectingConsumer();
    let open = 0;
    let runs = 0;
    let alwaysRuns = 0;
    const processor = createProcessor(settings, sink, {
      mutatesData: false,
      process: (batch) => {
        open += batch.length;
        return batch;
      },
      periodic: [
        {
          name: 'sweep',
          intervalMs: 100,
          run(out: NetworkEvent[]) {
            runs++;
            // Each run closes one open entry and reports it.
            if (open > 0) {
              open--;
              out.push(sampleEvent(1000 + runs));
            }
          },
          idle: () => open === 0,
        },
        { name: 'always', intervalMs: 100, run: () => void alwaysRuns++ },
      ],
    });
    await processor.start(createTestHost());
    clock.advance(100);
    assert.equal(runs, 1, 'the first run finds it idle');
    clock.advance(1000);
    assert.equal(runs, 1, 'an idle task rests');
    assert.equal(alwaysRuns, 11, 'a task without idle() keeps its interval');
    assert.equal(clock.pendingTimers, 1);

    processor.consume([sampleEvent(1), sampleEvent(2)]);
    clock.advance(100);
    assert.equal(runs, 2, 'a batch starts it again');
    clock.advance(100);
    assert.equal(runs, 3);
    assert.equal(open, 0);
    clock.advance(1000);
    assert.equal(runs, 3, 'it rests again once its work is done');
    assert.equal(sink.events.length, 4, 'the batch and both closes went on');

    processor.consume([sampleEvent(3)]);
    await processor.shutdown();
    assert.equal(clock.pendingTimers, 0, 'shutdown cancels a woken task too');
    processor.consume([sampleEvent(4)]);
    clock.advance(1000);
    assert.equal(runs, 3, 'nothing wakes after shutdown');
  });
});
