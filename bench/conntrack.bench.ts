/**
 * conntrack benchmark: events per second through the connection table, and heap per tracked
 * connection at 65,536 connections.
 *
 *   node --expose-gc -r tsx/cjs bench/conntrack.bench.ts [--seconds 3] [--only table|throughput|memory] [--fresh-strings]
 *   (npx tsx bench/conntrack.bench.ts works too, without the memory part's forced GC)
 *
 * Throughput workload (steady state, after a warm-up pass): 65,536 open TCP connections; each
 * step opens one connection, closes the one opened 65,536 steps earlier (cumulative counters at
 * close, peer pairing on), and adds two delta observations to one of 4,096 UDP flows. So 25 %
 * opened, 25 % closed, 50 % flow.updated. Events are plain object literals, as a receiver builds
 * them, created before timing starts. Measured three ways: the tracker alone (the table), the
 * processor's consume() in batches of 1,024 without metrics, and with metrics (default
 * attribute set; 1,024 peer addresses, so the default series cap of 300 overflows as it would).
 *
 * Memory: heapUsed + arrayBuffers (the typed arrays live outside the JS heap) after global.gc(),
 * before and after opening 65,536 connections whose events are then dropped, divided by 65,536.
 * Two address mixes: 1,024 distinct peer addresses, and one distinct address per connection.
 */
import { MetricReader } from '@opentelemetry/sdk-metrics';
import { CLOCK_TOKEN } from '../core/clock';
import type { Consumer } from '../core/component';
import type { ConnectionClosedEvent, ConnectionOpenedEvent, FlowUpdatedEvent, NetworkEvent, ProcessInfo } from '../core/events';
import { silentLogger } from '../core/logger';
import { ComponentTelemetry } from '../core/telemetry';
import { ManualClock, createTestHost, createTestSettings } from '../core/testing';
import { createConntrackProcessor, factory, trackerOptions, type ConntrackConfig } from '../processors/conntrack';
import { ConnTracker } from '../processors/conntrack/tracker';

/** A reader nobody collects from: with it attached the processor records its metrics. */
class IdleReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

const LIVE = 65_536;
const TUPLES = LIVE * 2;
const FLOWS = 4_096;
const PEERS = 1_024;
const NETNS = 4026531840;
const T0_US = 1_700_000_000_000_000;

const args = process.argv.slice(2);
const arg = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const SECONDS = Number(arg('seconds', '3'));
const ONLY = arg('only', '');

const PROCESSES: ProcessInfo[] = Array.from({ length: 16 }, (_, i) => ({ pid: 1000 + i, tid: 1000 + i, comm: `svc${i}`, cgroupId: 9000 + i }));
// The receiver's decoder caches formatted IPv4 addresses by value (ip-format.ts), so events share
// address strings; the same is done here. With --fresh-strings every event formats its own.
const FRESH_STRINGS = args.includes('--fresh-strings');
const formatLocal = (i: number): string => `10.0.0.${(i & 3) + 1}`;
const formatPeer = (i: number): string => `10.1.${(i >> 8) & 255}.${i & 255}`;
const LOCAL_CACHE = Array.from({ length: 4 }, (_, i) => formatLocal(i));
const PEER_CACHE = Array.from({ length: LIVE }, (_, i) => formatPeer(i));
const localAddress = (i: number): string => (FRESH_STRINGS ? formatLocal(i) : LOCAL_CACHE[i & 3]);
const peerAddress = (i: number): string => (FRESH_STRINGS ? formatPeer(i) : PEER_CACHE[i]);

function openedEvent(i: number, peers: number, timeUs: number): ConnectionOpenedEvent {
  return {
    kind: 'connection.opened', timeUs, process: PROCESSES[i & 15], transport: 'tcp', networkType: 'ipv4',
    localAddress: localAddress(i), localPort: 1024 + (i % 60_000), remoteAddress: peerAddress(i % peers),
    remotePort: 443 + ((i / 60_000) | 0), direction: 'outbound', socketCookie: i + 1, netnsId: NETNS,
  };
}

function closedEvent(i: number, timeUs: number): ConnectionClosedEvent {
  return {
    kind: 'connection.closed', timeUs, process: PROCESSES[i & 15], transport: 'tcp', networkType: 'ipv4',
    localAddress: localAddress(i), localPort: 1024 + (i % 60_000), remoteAddress: peerAddress(i % PEERS),
    remotePort: 443 + ((i / 60_000) | 0), direction: 'outbound', socketCookie: i + 1, netnsId: NETNS,
    bytesSent: 500 + (i & 1023), bytesReceived: 4000 + (i & 4095), segmentsSent: 5, segmentsReceived: 7,
    srttUs: 120 + (i & 63), retransmits: i & 1, durationNs: 0, closeReason: 'fin',
  };
}

function flowEvent(i: number, timeUs: number): FlowUpdatedEvent {
  return {
    kind: 'flow.updated', timeUs, process: PROCESSES[i & 15], transport: 'udp', networkType: 'ipv4',
    localAddress: localAddress(i), localPort: 20_000 + i, remoteAddress: peerAddress(i % PEERS), remotePort: 53,
    direction: 'outbound', socketCookie: 0, netnsId: NETNS, bytesSent: 60, bytesReceived: 120,
    packetsSent: 1, packetsReceived: 1, durationNs: 0, final: false,
  };
}

const BATCH = 1024;

/**
 * The workload as a cycle of TUPLES steps, each [open i, close i - LIVE, flow, flow]; after one
 * full cycle the table is in steady state and every further cycle repeats it exactly.
 */
class Workload {
  private step = 0;

  /** A fresh batch of BATCH events (4 per step), like one the receiver decoded. */
  next(): NetworkEvent[] {
    const batch: NetworkEvent[] = new Array(BATCH);
    for (let j = 0; j < BATCH; j += 4) {
      const i = this.step;
      const t = T0_US + i;
      batch[j] = openedEvent(i, PEERS, t);
      batch[j + 1] = closedEvent((i + TUPLES - LIVE) % TUPLES, t);
      batch[j + 2] = flowEvent((i * 7) & (FLOWS - 1), t);
      batch[j + 3] = flowEvent((i * 13 + 5) & (FLOWS - 1), t);
      this.step = (i + 1) % TUPLES;
    }
    return batch;
  }
}

function benchConfig(metrics: boolean): ConntrackConfig {
  const config = factory.createDefaultConfig();
  // Room for the steady state (65,536 connections + 4,096 flows) so the run measures tracking,
  // not eviction churn.
  return { ...config, max_connections: LIVE * 2, flush_interval: 0, metrics: { ...config.metrics, enabled: metrics } };
}

/**
 * Feeds fresh batches until `process` has used SECONDS of CPU; only `process` is timed. The rate is
 * per CPU-second of this process (getrusage: user + system, GC threads included), because on a
 * shared machine wall time mostly measures the other tenants; wall time is printed too.
 */
function rate(label: string, workload: Workload, process: (batch: NetworkEvent[]) => void): void {
  let events = 0;
  let cpuUs = 0;
  let wallMs = 0;
  while (cpuUs < SECONDS * 1e6) {
    const batch = workload.next();
    const wall = performance.now();
    const cpu = globalThis.process.cpuUsage();
    process(batch);
    const used = globalThis.process.cpuUsage(cpu);
    wallMs += performance.now() - wall;
    cpuUs += used.user + used.system;
    events += batch.length;
  }
  console.log(
    `  ${label.padEnd(48)} ${(events / cpuUs).toFixed(2)} M events per CPU-second` +
      `  (${events} events, ${(cpuUs / 1e6).toFixed(2)} s CPU, wall ${(events / wallMs / 1e3).toFixed(2)} M/s)`,
  );
}

function warmUp(workload: Workload, process: (batch: NetworkEvent[]) => void): void {
  for (let n = 0; n < (TUPLES * 4) / BATCH; n++) process(workload.next());
}

async function throughput(): Promise<void> {
  console.log(`throughput (${LIVE} live TCP connections, ${FLOWS} UDP flows; ${SECONDS}s of processing per line):`);

  {
    const tracker = new ConnTracker(trackerOptions(benchConfig(false)), new ComponentTelemetry('processor/conntrack'));
    const workload = new Workload();
    const out: NetworkEvent[] = [];
    const handle = (batch: NetworkEvent[]): void => {
      tracker.setNow(Date.now());
      for (let i = 0; i < batch.length; i++) tracker.handle(batch[i], out);
      out.length = 0;
    };
    warmUp(workload, handle);
    rate('tracker.handle (the table)', workload, handle);
    if (tracker.liveCount !== LIVE + FLOWS) throw new Error(`steady state broken: ${tracker.liveCount} live entries`);
  }

  for (const metrics of ONLY === 'table' ? [] : [false, true]) {
    const settings = createTestSettings('processor', 'conntrack', silentLogger);
    const sink: Consumer = { mutatesData: false, consume: () => undefined };
    settings.container.register(CLOCK_TOKEN, { useValue: new ManualClock(Date.now()) });
    const processor = createConntrackProcessor(settings, benchConfig(metrics), sink);
    // Metrics are recorded only when something reads them: attach a reader for "metrics on".
    await processor.start(createTestHost(metrics ? { metricReaders: [new IdleReader()] } : {}));
    const workload = new Workload();
    const consume = (batch: NetworkEvent[]): void => void processor.consume(batch);
    warmUp(workload, consume);
    rate(`processor.consume(batch of ${BATCH}), metrics ${metrics ? 'on' : 'off'}`, workload, consume);
    await processor.shutdown();
  }
}

function heapNow(): number {
  const gc = (globalThis as { gc?: () => void }).gc!;
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** Heap growth from opening LIVE connections with `peers` distinct peer addresses. */
function measure(peers: number): { bytes: number; capacity: number } {
  const before = heapNow();
  const tracker = new ConnTracker(trackerOptions(benchConfig(false)), new ComponentTelemetry('processor/conntrack'));
  tracker.setNow(Date.now());
  const out: NetworkEvent[] = [];
  for (let start = 0; start < LIVE; start += BATCH) {
    // Events are built per batch and dropped, as a receiver's would be.
    for (let i = start; i < start + BATCH; i++) tracker.handle(openedEvent(i, peers, T0_US + i), out);
    out.length = 0;
  }
  if (tracker.liveCount !== LIVE) throw new Error(`expected ${LIVE} live connections, got ${tracker.liveCount}`);
  const bytes = heapNow() - before;
  // Keeps the tracker reachable until after the measurement.
  return { bytes: tracker.pool.size > 0 ? bytes : 0, capacity: tracker.table.capacity };
}

function memory(): void {
  if (typeof (globalThis as { gc?: unknown }).gc !== 'function') {
    console.log('memory: skipped (run with node --expose-gc -r tsx/cjs bench/conntrack.bench.ts)');
    return;
  }
  console.log(`memory at ${LIVE} tracked connections (heapUsed + arrayBuffers after GC, max_connections ${LIVE * 2}):`);
  for (const peers of [PEERS, LIVE]) {
    const { bytes, capacity } = measure(peers);
    console.log(`  ${String(peers).padStart(5)} distinct peer addresses: ${(bytes / LIVE).toFixed(0)} bytes per connection (${(bytes / 1048576).toFixed(1)} MiB; table capacity ${capacity} slots)`);
  }
}

async function main(): Promise<void> {
  console.log(`conntrack benchmark — node ${process.version}, shared 2-core machine: numbers vary with other load`);
  if (ONLY !== 'memory') await throughput();
  if (ONLY !== 'throughput' && ONLY !== 'table') memory();
}

void main();
