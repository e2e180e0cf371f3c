/**
 * Throughput and per-event allocation of probabilistic_sampler and rate_limit on prepared
 * batches. Allocation is judged by garbage collections during the timed loop: a hot path that
 * allocates nothing per event triggers none. Run: npx tsx bench/sampling-rate-limit.bench.ts
 */
import { PerformanceObserver, performance } from 'node:perf_hooks';
import type { NetworkEvent } from '../core/events';
import { silentLogger } from '../core/logger';
import { ComponentTelemetry } from '../core/telemetry';
import { Sampler, type BatchCounts } from '../processors/probabilistic_sampler/sampler';
import { ManualClock } from '../core/testing';
import { RateLimiter, type RateLimiterOptions } from '../processors/rate_limit/limiter';

const BATCH = 1000;
const BATCHES = 200;

function makeEvents(): NetworkEvent[][] {
  const batches: NetworkEvent[][] = [];
  for (let b = 0; b < BATCHES; b++) {
    const batch: NetworkEvent[] = [];
    for (let i = 0; i < BATCH; i++) {
      const n = b * BATCH + i;
      const v6 = n % 5 === 0;
      batch.push({
        kind: 'connection.closed', transport: 'tcp', timeUs: 1.7e15 + n,
        process: { pid: 1000 + (n % 300), tid: 1000, comm: 'app', cgroupId: 0 },
        networkType: v6 ? 'ipv6' : 'ipv4',
        localAddress: v6 ? `2001:db8::${(n % 65535).toString(16)}` : `10.0.${(n >> 8) & 255}.${n & 255}`,
        localPort: 32768 + (n % 28000),
        remoteAddress: v6 ? '2001:db8::1' : `10.1.0.${n % 50}`,
        remotePort: 443, direction: 'outbound', socketCookie: n + 1, netnsId: 4026531840,
        bytesSent: 1, bytesReceived: 1, segmentsSent: 1, segmentsReceived: 1, srttUs: 1, retransmits: 0,
        durationNs: 1, closeReason: 'fin', sampleRatio: 1,
      });
    }
    batches.push(batch);
  }
  return batches;
}

let gcs = 0;
const observer = new PerformanceObserver((list) => {
  gcs += list.getEntries().length;
});
observer.observe({ entryTypes: ['gc'] });

let quiet = false;

async function measure(name: string, rounds: number, body: () => number): Promise<void> {
  body(); // warm up (JIT, hidden classes, buckets, string flattening)
  body();
  await new Promise((r) => setImmediate(r));
  const gcBefore = gcs;
  const start = performance.now();
  let events = 0;
  for (let r = 0; r < rounds; r++) events += body();
  const ms = performance.now() - start;
  await new Promise((r) => setImmediate(r)); // let the gc observer report
  const rate = events / ms / 1000;
  if (quiet) return;
  console.log(`${name.padEnd(44)} ${rate.toFixed(2).padStart(6)} M events/s  (${(ms / events * 1e6).toFixed(0)} ns/event, ${gcs - gcBefore} GCs over ${(events / 1e6).toFixed(1)} M events)`);
}

async function main(): Promise<void> {
  const batches = makeEvents();
  // One unreported pass first: promoting the freshly built events out of the young generation
  // and one-time work (string flattening, JIT) would otherwise show up as GCs in the first case.
  quiet = true;
  await runAll(batches);
  quiet = false;
  await runAll(batches);
  observer.disconnect();
  console.log('(shared 2-core machine; numbers vary with other load)');
}

async function runAll(batches: NetworkEvent[][]): Promise<void> {
  const scratch: NetworkEvent[] = new Array<NetworkEvent>(BATCH);
  const counts: BatchCounts = { kept: 0, dropped: 0, excluded: 0 };

  for (const connectionKey of ['tuple', 'socket_cookie'] as const) {
    const sampler = new Sampler({ samplingPercentage: 10, hashSeed: 1, mode: 'per_connection', connectionKey, useTraceId: true, excludeKinds: [] });
    await measure(`probabilistic_sampler decision (${connectionKey})`, 5, () => {
      let kept = 0;
      for (const batch of batches) for (let i = 0; i < BATCH; i++) if (sampler.keep(batch[i])) kept++;
      return kept >= 0 ? BATCH * BATCHES : 0;
    });
    await measure(`probabilistic_sampler batch (${connectionKey})`, 5, () => {
      for (const batch of batches) {
        // Copy into a reused array: sampleInPlace compacts what it is given.
        scratch.length = BATCH;
        for (let i = 0; i < BATCH; i++) {
          scratch[i] = batch[i];
          batch[i].sampleRatio = 1;
        }
        sampler.sampleInPlace(scratch, counts);
      }
      return BATCH * BATCHES;
    });
  }

  for (const key of ['none', 'process', 'destination'] as const) {
    const clock = new ManualClock();
    const options: RateLimiterOptions = { eventsPerSecond: 1e12, burst: 1e12, key, maxKeys: 4096, behavior: 'drop', maxDelayMs: 1000, maxQueuedEvents: 1 };
    const limiter = new RateLimiter(options, clock, new ComponentTelemetry('bench'), silentLogger, () => undefined);
    await measure(`rate_limit all pass (key ${key})`, 5, () => {
      for (const batch of batches) {
        clock.advance(1);
        limiter.admit(batch);
      }
      return BATCH * BATCHES;
    });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
