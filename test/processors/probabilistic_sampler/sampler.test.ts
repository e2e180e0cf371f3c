import assert from 'node:assert/strict';
import type { NetworkEvent } from '../../../core/events';
import { Sampler, type BatchCounts, type SamplerOptions } from '../../../processors/probabilistic_sampler/sampler';
import { closed, connectionEvents, http, nthConnection, opened, prng, randomTraceId } from './fixtures';

function sampler(overrides: Partial<SamplerOptions> = {}): Sampler {
  return new Sampler({
    samplingPercentage: 10,
    hashSeed: 0,
    mode: 'per_connection',
    connectionKey: 'tuple',
    useTraceId: true,
    excludeKinds: [],
    ...overrides,
  });
}

/**
 * Kept count of n Bernoulli(p) trials must be within 5 sigma of n*p: a correct sampler fails
 * this about once in 1.7 million runs, and the streams are deterministic anyway.
 */
function assertWithinSigma(kept: number, n: number, p: number, what: string): void {
  const sigma = Math.sqrt(n * p * (1 - p));
  const deviation = Math.abs(kept - n * p) / sigma;
  assert.ok(deviation < 5, `${what}: kept ${kept} of ${n}, expected ${(n * p).toFixed(0)} ± ${sigma.toFixed(0)} (${deviation.toFixed(1)} sigma)`);
}

const N = 100_000;

describe('probabilistic_sampler decisions', () => {
  for (const percentage of [1, 10, 50, 90]) {
    for (const seed of [0, 42, 0xdeadbeef]) {
      it(`keeps ${percentage} % of 100k connections (tuple key, seed ${seed})`, () => {
        const s = sampler({ samplingPercentage: percentage, hashSeed: seed });
        let kept = 0;
        for (let i = 0; i < N; i++) if (s.keep(opened(nthConnection(i), 'client'))) kept++;
        assertWithinSigma(kept, N, s.ratio, `${percentage} %`);
      });
    }
  }

  it('keeps 10 % of 100k connections keyed by sequential socket cookies', () => {
    const s = sampler({ connectionKey: 'socket_cookie' });
    let kept = 0;
    for (let i = 0; i < N; i++) if (s.keep(opened(nthConnection(i), 'client'))) kept++;
    assertWithinSigma(kept, N, s.ratio, 'cookies');
  });

  it('keeps 10 % of 100k IPv6 connections from one client', () => {
    const s = sampler();
    let kept = 0;
    for (let i = 0; i < N; i++) {
      const spec = { client: { address: '2001:db8::1', port: i % 65536 }, server: { address: '2001:db8::2', port: 443 + Math.floor(i / 65536) } };
      if (s.keep(opened(spec, 'client'))) kept++;
    }
    assertWithinSigma(kept, N, s.ratio, 'ipv6');
  });

  it('keeps 10 % of 100k traces', () => {
    const s = sampler();
    const next = prng(1);
    // One event whose trace id is rewritten: building 100k events would dominate the run time.
    const event = http(nthConnection(0), 'server', '4bf92f3577b34da6a3ce929d0e0e4736');
    let kept = 0;
    for (let i = 0; i < N; i++) {
      event.traceContext!.traceId = randomTraceId(next);
      if (s.keep(event)) kept++;
    }
    assertWithinSigma(kept, N, s.ratio, 'traces');
  });

  it('keeps 10 % of 100k events per event, independent of the connection', () => {
    const s = sampler({ mode: 'per_event' });
    const spec = nthConnection(0);
    let kept = 0;
    let keptOfSecondHalf = 0;
    for (let i = 0; i < N; i++) {
      if (s.keep(opened(spec, 'client'))) {
        kept++;
        if (i >= N / 2) keptOfSecondHalf++;
      }
    }
    assertWithinSigma(kept, N, s.ratio, 'per event');
    assertWithinSigma(keptOfSecondHalf, N / 2, s.ratio, 'per event, second half');
  });

  it('gives every event of a connection, from both ends, one fate', () => {
    const s = sampler({ samplingPercentage: 30 });
    let keptConnections = 0;
    for (let i = 0; i < 2000; i++) {
      const fates = connectionEvents(nthConnection(i * 7)).map((e) => s.keep(e));
      assert.ok(fates.every((f) => f === fates[0]), `connection ${i} split: ${fates}`);
      if (fates[0]) keptConnections++;
    }
    assert.ok(keptConnections > 400 && keptConnections < 800, `kept ${keptConnections} of 2000 at 30 %`);
  });

  it('gives every span of a trace one fate, across connections', () => {
    const s = sampler({ samplingPercentage: 30 });
    const next = prng(9);
    let keptTraces = 0;
    for (let t = 0; t < 2000; t++) {
      const traceId = randomTraceId(next);
      const fates = [0, 1, 2, 3].map((hop) => s.keep(http(nthConnection(t * 4 + hop), hop % 2 ? 'server' : 'client', traceId)));
      assert.ok(fates.every((f) => f === fates[0]), `trace ${traceId} split: ${fates}`);
      if (fates[0]) keptTraces++;
    }
    assert.ok(keptTraces > 400 && keptTraces < 800, `kept ${keptTraces} of 2000 traces at 30 %`);
  });

  it('keeps traces whole in per_event mode too', () => {
    const s = sampler({ samplingPercentage: 30, mode: 'per_event' });
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const fates = Array.from({ length: 50 }, (_, i) => s.keep(http(nthConnection(i), 'client', traceId)));
    assert.ok(fates.every((f) => f === fates[0]));
  });

  it('is reproducible for a seed and differs across seeds', () => {
    const decide = (seed: number): boolean[] =>
      Array.from({ length: 500 }, (_, i) => sampler({ hashSeed: seed, samplingPercentage: 50 }).keep(opened(nthConnection(i), 'client')));
    assert.deepEqual(decide(5), decide(5));
    assert.notDeepEqual(decide(5), decide(6));
  });

  it('nests: a connection kept at 10 % is kept at 20 % with the same seed', () => {
    const low = sampler({ samplingPercentage: 10 });
    const high = sampler({ samplingPercentage: 20 });
    for (let i = 0; i < 5000; i++) {
      const event = opened(nthConnection(i), 'client');
      if (low.keep(event)) assert.ok(high.keep(event), `connection ${i}`);
    }
  });

  it('keeps everything at 100 % and nothing at 0 %', () => {
    const all = sampler({ samplingPercentage: 100 });
    const none = sampler({ samplingPercentage: 0 });
    for (let i = 0; i < 1000; i++) {
      const event = opened(nthConnection(i), 'client');
      assert.equal(all.keep(event), true);
      assert.equal(none.keep(event), false);
    }
  });
});

describe('probabilistic_sampler batches', () => {
  it('compacts the batch in place and stamps sampleRatio, multiplying an upstream ratio', () => {
    const s = sampler({ samplingPercentage: 25 });
    const batch: NetworkEvent[] = [];
    for (let i = 0; i < 400; i++) {
      const event = closed(nthConnection(i), 'client');
      if (i % 2 === 0) event.sampleRatio = 0.5;
      batch.push(event);
    }
    const expected = batch.filter((e) => s.keep(e));
    const counts: BatchCounts = { kept: 0, dropped: 0, excluded: 0 };
    s.sampleInPlace(batch, counts);
    assert.deepEqual(batch, expected);
    assert.equal(counts.kept, expected.length);
    assert.equal(counts.dropped, 400 - expected.length);
    assert.equal(counts.excluded, 0);
    assert.ok(expected.length > 50 && expected.length < 150);
    for (const event of batch) {
      const port = event.localPort - 32768;
      assert.equal(event.sampleRatio, port % 2 === 0 ? 0.5 * s.ratio : s.ratio);
    }
    assert.equal(s.ratio, 4096 / 16384);
  });

  it('passes excluded kinds through untouched', () => {
    const s = sampler({ samplingPercentage: 0, excludeKinds: ['connection.failed'] });
    const failed: NetworkEvent = { ...opened(nthConnection(1), 'client'), kind: 'connection.failed', reason: 'refused' };
    const batch: NetworkEvent[] = [opened(nthConnection(1), 'client'), failed, closed(nthConnection(1), 'client')];
    const counts: BatchCounts = { kept: 0, dropped: 0, excluded: 0 };
    s.sampleInPlace(batch, counts);
    assert.deepEqual(batch, [failed]);
    assert.equal(failed.sampleRatio, undefined);
    assert.deepEqual(counts, { kept: 0, dropped: 2, excluded: 1 });
  });
});
