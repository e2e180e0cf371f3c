import assert from 'node:assert/strict';
import { systemClock } from '../../../core/clock';
import type { NetworkEvent } from '../../../core/events';
import { silentLogger } from '../../../core/logger';
import { ComponentTelemetry } from '../../../core/telemetry';
import { ManualClock } from '../../../core/testing';
import { RateLimiter, effectiveBurst, type RateLimiterOptions } from '../../../processors/rate_limit/limiter';
import { http, opened, nthConnection } from '../probabilistic_sampler/fixtures';

interface Rig {
  clock: ManualClock;
  limiter: RateLimiter;
  telemetry: ComponentTelemetry;
  /** Batches released from the delay queue, with the clock time they left at. */
  released: Array<{ at: number; events: NetworkEvent[] }>;
}

function rig(overrides: Partial<RateLimiterOptions>, start = 1000): Rig {
  const clock = new ManualClock(start);
  const telemetry = new ComponentTelemetry('processor/rate_limit');
  const released: Rig['released'] = [];
  const limiter = new RateLimiter(
    { eventsPerSecond: 100, burst: 10, key: 'none', maxKeys: 16, behavior: 'drop', maxDelayMs: 1000, maxQueuedEvents: 1000, ...overrides },
    clock,
    telemetry,
    silentLogger,
    (events) => {
      released.push({ at: clock.now(), events });
    },
  );
  return { clock, limiter, telemetry, released };
}

function events(n: number, make: (i: number) => NetworkEvent = (i) => opened(nthConnection(i), 'client')): NetworkEvent[] {
  return Array.from({ length: n }, (_, i) => make(i));
}

function withPid(pid: number): (i: number) => NetworkEvent {
  return (i) => {
    const e = opened(nthConnection(i), 'client');
    e.process = { ...e.process, pid };
    return e;
  };
}

describe('rate_limit limiter: drop', () => {
  it('passes a full burst, then drops until tokens refill', () => {
    const { clock, limiter, telemetry } = rig({});
    const first = events(50);
    const passed = limiter.admit(first);
    assert.deepEqual(passed, first.slice(0, 10));
    assert.equal(telemetry.get('dropped'), 40);
    assert.equal(limiter.admit(events(5)).length, 0, 'no tokens left');
    clock.advance(100); // 100/s -> 10 tokens
    assert.equal(limiter.admit(events(50)).length, 10);
    clock.advance(35);
    assert.equal(limiter.admit(events(50)).length, 3, 'fractional refill carries over');
    clock.advance(5);
    assert.equal(limiter.admit(events(50)).length, 1);
  });

  it('returns the batch itself when everything passes', () => {
    const { limiter } = rig({ burst: 100 });
    const batch = events(100);
    assert.equal(limiter.admit(batch), batch);
  });

  it('holds the long-run rate at events_per_second under a steady overload', () => {
    const { clock, limiter, telemetry } = rig({ eventsPerSecond: 1000, burst: 50 });
    let passed = 0;
    let offered = 0;
    for (let tick = 0; tick < 1000; tick++) { // 10 s in 10 ms steps, 3000 events/s offered
      const batch = events(30);
      offered += batch.length;
      passed += limiter.admit(batch).length;
      clock.advance(10);
    }
    // 10 s at 1000/s plus the initial burst; the last tick's refill is not spent.
    assert.ok(passed >= 10_000 - 10 && passed <= 10_000 + 50, `passed ${passed}`);
    assert.equal(telemetry.get('dropped'), offered - passed);
  });

  it('never passes more than burst at once after a quiet period', () => {
    const { clock, limiter } = rig({ eventsPerSecond: 100, burst: 25 });
    clock.advance(3_600_000);
    assert.equal(limiter.admit(events(1000)).length, 25);
  });

  it('refills fractional rates: 0.5 events per second is one every 2 s', () => {
    const { clock, limiter } = rig({ eventsPerSecond: 0.5, burst: 1 });
    assert.equal(limiter.admit(events(3)).length, 1);
    clock.advance(1999);
    assert.equal(limiter.admit(events(3)).length, 0);
    clock.advance(1);
    assert.equal(limiter.admit(events(3)).length, 1);
  });

  it('limits per process: a noisy pid cannot starve a quiet one', () => {
    const { limiter } = rig({ key: 'process', burst: 5 });
    assert.equal(limiter.admit(events(100, withPid(1))).length, 5);
    assert.equal(limiter.admit(events(3, withPid(2))).length, 3);
    assert.equal(limiter.keys, 2);
  });

  it('limits per pod; events outside pods share one bucket', () => {
    const { limiter } = rig({ key: 'pod', burst: 2 });
    const inPod = (ns: string, pod: string) => (i: number) => ({ ...opened(nthConnection(i), 'client'), k8s: { namespace: ns, podName: pod } });
    assert.equal(limiter.admit(events(5, inPod('shop', 'cart-1'))).length, 2);
    assert.equal(limiter.admit(events(5, inPod('shop', 'cart-2'))).length, 2);
    assert.equal(limiter.admit(events(5, inPod('dev', 'cart-1'))).length, 2, 'same name, other namespace');
    assert.equal(limiter.admit(events(5, withPid(7))).length, 2);
    assert.equal(limiter.admit(events(5, withPid(8))).length, 0, 'host processes share the no-pod bucket');
    assert.equal(limiter.keys, 4);
  });

  it('limits per destination: the server endpoint, whichever side observed it', () => {
    const { limiter } = rig({ key: 'destination', burst: 3 });
    const spec = { client: { address: '10.0.0.1', port: 40000 }, server: { address: '10.0.0.9', port: 443 } };
    const mixed = [
      opened(spec, 'client'), // outbound: remote is the server
      opened(spec, 'server'), // inbound: local is the server
      http(spec, 'client'),
      http(spec, 'server'),
      opened({ ...spec, client: { address: '10.0.0.2', port: 40001 } }, 'client'),
    ];
    assert.equal(limiter.admit(mixed).length, 3, 'all five hit 10.0.0.9:443');
    assert.equal(limiter.keys, 1);
    const other = opened({ ...spec, server: { address: '10.0.0.9', port: 8443 } }, 'client');
    assert.equal(limiter.admit([other]).length, 1);
  });

  it('bounds keys: excess busy keys share the overflow bucket, counted', () => {
    const { clock, limiter, telemetry } = rig({ key: 'process', burst: 2, maxKeys: 3, eventsPerSecond: 10 });
    for (const pid of [1, 2, 3]) assert.equal(limiter.admit(events(2, withPid(pid))).length, 2);
    // pids 4..6 find three busy keys: they share one overflow bucket (2 tokens between them).
    const passed = [4, 5, 6].map((pid) => limiter.admit(events(2, withPid(pid))).length);
    assert.deepEqual(passed, [2, 0, 0]);
    assert.equal(telemetry.get('overflow'), 6);
    assert.equal(limiter.keys, 3);
    // Once the tracked keys are idle again (full after 200 ms), a new key gets its own slot.
    clock.advance(200);
    assert.equal(limiter.admit(events(2, withPid(9))).length, 2);
    assert.equal(telemetry.get('overflow'), 6);
    assert.equal(limiter.keys, 3);
  });
});

describe('rate_limit limiter: delay', () => {
  it('holds excess events and releases them at the refill rate, in order', () => {
    const { clock, limiter, telemetry, released } = rig({ behavior: 'delay', eventsPerSecond: 100, burst: 2 });
    const batch = events(6);
    assert.deepEqual(limiter.admit(batch), batch.slice(0, 2));
    assert.equal(limiter.queued, 4);
    assert.equal(telemetry.get('delayed'), 4);
    assert.equal(telemetry.get('dropped'), 0);
    clock.advance(100);
    assert.deepEqual(released.map((r) => [r.at - 1000, r.events.length]), [[10, 1], [20, 1], [30, 1], [40, 1]]);
    assert.deepEqual(released.flatMap((r) => r.events), batch.slice(2));
    assert.equal(limiter.queued, 0);
    assert.equal(clock.pendingTimers, 0);
  });

  it('never releases faster than the rate', () => {
    const { clock, limiter, released } = rig({ behavior: 'delay', eventsPerSecond: 50, burst: 1, maxDelayMs: 10_000 });
    let passedNow = 0;
    for (let tick = 0; tick < 100; tick++) {
      passedNow += limiter.admit(events(3)).length;
      clock.advance(7);
    }
    clock.advance(10_000);
    const times = released.flatMap((r) => r.events.map(() => r.at));
    const all = passedNow + times.length;
    // 700 ms of arrivals at 50/s plus one burst token, then queued events at 20 ms spacing.
    for (let i = 1; i < times.length; i++) assert.ok(times[i] - times[i - 1] >= 20 - 1e-9, `gap ${times[i] - times[i - 1]} at ${i}`);
    assert.ok(all <= 1 + 50 * (700 + 10_000) / 1000);
  });

  it('drops what would wait longer than max_delay', () => {
    const { clock, limiter, telemetry, released } = rig({ behavior: 'delay', eventsPerSecond: 10, burst: 1, maxDelayMs: 250 });
    assert.equal(limiter.admit(events(10)).length, 1);
    // Tokens every 100 ms: waits of 100 and 200 ms fit, 300 ms does not.
    assert.equal(limiter.queued, 2);
    assert.equal(telemetry.get('dropped'), 7);
    clock.advance(1000);
    assert.deepEqual(released.map((r) => r.at - 1000), [100, 200]);
  });

  it('drops what does not fit max_queued_events', () => {
    const { limiter, telemetry } = rig({ behavior: 'delay', eventsPerSecond: 1000, burst: 1, maxQueuedEvents: 5, maxDelayMs: 60_000 });
    limiter.admit(events(100));
    assert.equal(limiter.queued, 5);
    assert.equal(telemetry.get('delayed'), 5);
    assert.equal(telemetry.get('dropped'), 94);
  });

  it('keeps each key in order while keys interleave', () => {
    const { clock, limiter, released } = rig({ behavior: 'delay', key: 'process', eventsPerSecond: 10, burst: 1 });
    const tagged = (pid: number, seq: number): NetworkEvent => {
      const e = withPid(pid)(seq);
      e.timeUs = seq;
      return e;
    };
    const batch = [tagged(1, 0), tagged(2, 0), tagged(1, 1), tagged(2, 1), tagged(1, 2), tagged(2, 2)];
    assert.equal(limiter.admit(batch).length, 2);
    clock.advance(1000);
    const out = released.flatMap((r) => r.events);
    assert.deepEqual(out.map((e) => [e.process.pid, e.timeUs]), [[1, 1], [2, 1], [1, 2], [2, 2]]);
  });

  it('drains on shutdown within max_delay, and takes nothing new into the queue', async () => {
    const { clock, limiter, telemetry, released } = rig({ behavior: 'delay', eventsPerSecond: 10, burst: 1, maxDelayMs: 500 });
    limiter.admit(events(20));
    assert.equal(limiter.queued, 5);
    let done = false;
    const stopping = limiter.shutdown().then(() => {
      done = true;
    });
    limiter.admit(events(3));
    assert.equal(limiter.queued, 5, 'no new holds while stopping');
    clock.advance(499);
    await Promise.resolve();
    assert.equal(done, false);
    clock.advance(1);
    await stopping;
    assert.equal(released.flatMap((r) => r.events).length, 5);
    assert.equal(telemetry.get('dropped'), 14 + 3);
  });

  it('shutdown waits for a slow downstream to accept released events', async () => {
    const clock = new ManualClock(0);
    let finish: () => void = () => undefined;
    let accepted = 0;
    const limiter = new RateLimiter(
      { eventsPerSecond: 100, burst: 1, key: 'none', maxKeys: 1, behavior: 'delay', maxDelayMs: 100, maxQueuedEvents: 10 },
      clock,
      new ComponentTelemetry('x'),
      silentLogger,
      (batch) => new Promise<void>((resolve) => {
        finish = () => {
          accepted += batch.length;
          resolve();
        };
      }),
    );
    limiter.admit(events(2));
    let done = false;
    const stopping = limiter.shutdown().then(() => {
      done = true;
    });
    clock.advance(10);
    await new Promise((r) => setImmediate(r));
    assert.equal(done, false, 'released batch still in flight');
    finish();
    await stopping;
    assert.equal(accepted, 1);
  });

  it('drains with real timers too, within max_delay', async () => {
    const released: NetworkEvent[] = [];
    const limiter = new RateLimiter(
      { eventsPerSecond: 100, burst: 1, key: 'none', maxKeys: 1, behavior: 'delay', maxDelayMs: 60, maxQueuedEvents: 100 },
      systemClock,
      new ComponentTelemetry('x'),
      silentLogger,
      (batch) => {
        released.push(...batch);
      },
    );
    limiter.admit(events(10));
    const queued = limiter.queued;
    assert.equal(queued, 6, 'waits of 10..60 ms fit');
    const started = Date.now();
    await limiter.shutdown();
    const took = Date.now() - started;
    assert.equal(released.length, queued);
    assert.ok(took >= 40 && took < 1000, `shutdown took ${took} ms`);
  });
});

describe('rate_limit burst setting', () => {
  it('0 means one second of events, at least one', () => {
    assert.equal(effectiveBurst(0, 10000), 10000);
    assert.equal(effectiveBurst(0, 2.5), 3);
    assert.equal(effectiveBurst(0, 0.2), 1);
    assert.equal(effectiveBurst(7, 10000), 7);
  });
});
