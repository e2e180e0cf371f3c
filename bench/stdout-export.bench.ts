/**
 * The stdout exporter's cost per exported event, as the shipped pipeline pays it: JSON lines,
 * batches of 1,000, written to /dev/null. At saturation the rate limit passes 10,000 events a
 * second, and every one of them is mapped, rendered and written here, so µs per event here is
 * roughly the observer's % of a core per 1,000 exported events a second.
 *
 *   npx tsx bench/stdout-export.bench.ts [--seconds 3]
 *
 * Two mixes: keep-alive HTTP (server and client spans) and short connections (per connection at
 * both ends: two opens, two spans, two closes). Events differ in ports, cookies and times, as a
 * real stream does, and are built before timing. Garbage collections during the timed loop are
 * counted (the exporter allocates per event; fewer collections mean less work for V8's helper
 * threads as well). The stream is what process.stdout is on a file: a Writable that writes
 * each batch synchronously.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import type { NetworkEvent } from '../core/events';
import { createTestSettings } from '../core/testing';
import { factory, StdoutExporter } from '../exporters/stdout';
import { connectionClosed, connectionOpened, httpEvent, T0_US } from '../test/exporters/fixtures';

const BATCH = 1000;
const BATCHES = 100;
const argv = process.argv.slice(2);
const secondsAt = argv.indexOf('--seconds');
const SECONDS = secondsAt >= 0 ? Number(argv[secondsAt + 1]) : 3;

/**
 * process.stdout on a file, as Node makes it (its internal SyncWriteStream): a Writable whose
 * _write writes each chunk synchronously; a string chunk is encoded by the Writable first.
 */
class FileStream extends Writable {
  constructor(private readonly fd: number) {
    super();
  }
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    writeSync(this.fd, chunk);
    done();
  }
}

function keepAlive(n: number): NetworkEvent[] {
  const server = n % 2 === 0;
  const t = T0_US + n * 13;
  return [
    httpEvent({
      side: server ? 'server' : 'client',
      direction: server ? 'inbound' : 'outbound',
      localAddress: '127.0.0.1',
      localPort: server ? 18181 : 40000 + (n % 20),
      remoteAddress: '127.0.0.1',
      remotePort: server ? 40000 + (n % 20) : 18181,
      socketCookie: 1000 + (n % 40),
      process: server ? { pid: 812, tid: 812, comm: 'nginx', cgroupId: 0 } : { pid: 977, tid: 977, comm: 'wrk', cgroupId: 0 },
      timeUs: t,
      startUs: t,
      endUs: t + 41 + (n % 17),
      path: '/ok',
      host: '127.0.0.1:18181',
      userAgent: undefined,
      responseBodySize: 3,
    }),
  ];
}

function shortConnection(n: number): NetworkEvent[] {
  const t = T0_US + n * 97;
  const port = 32768 + (n % 28000);
  const ends = [
    { local: port, remote: 18181, cookie: 2 * n + 1, direction: 'outbound' as const, side: 'client' as const, process: { pid: 977, tid: 977, comm: 'wrk', cgroupId: 0 } },
    { local: 18181, remote: port, cookie: 2 * n + 2, direction: 'inbound' as const, side: 'server' as const, process: { pid: 812, tid: 812, comm: 'nginx', cgroupId: 0 } },
  ];
  const out: NetworkEvent[] = [];
  for (const end of ends) {
    const tuple = { localAddress: '127.0.0.1', localPort: end.local, remoteAddress: '127.0.0.1', remotePort: end.remote, socketCookie: end.cookie, direction: end.direction, process: end.process };
    out.push(connectionOpened({ ...tuple, timeUs: t }));
    out.push(httpEvent({ ...tuple, side: end.side, timeUs: t + 20, startUs: t + 20, endUs: t + 80, path: '/ok', host: '127.0.0.1:18181', responseBodySize: 3 }));
    out.push(connectionClosed({ ...tuple, timeUs: t + 120, durationNs: 120_000 + (n % 1000), bytesSent: 81, bytesReceived: 157, segmentsSent: 4, segmentsReceived: 3, retransmits: 0, srttUs: 10 + (n % 7) }));
  }
  return out;
}

function batches(make: (n: number) => NetworkEvent[]): NetworkEvent[][] {
  const all: NetworkEvent[] = [];
  for (let n = 0; all.length < BATCH * BATCHES; n++) all.push(...make(n));
  const out: NetworkEvent[][] = [];
  for (let b = 0; b < BATCHES; b++) out.push(all.slice(b * BATCH, (b + 1) * BATCH));
  return out;
}

let gcs = 0;
new PerformanceObserver((list) => {
  gcs += list.getEntries().length;
}).observe({ entryTypes: ['gc'] });

async function run(name: string, input: NetworkEvent[][]): Promise<void> {
  const fd = openSync('/dev/null', 'w');
  const settings = createTestSettings('exporter', 'stdout');
  const exporter = new StdoutExporter(settings, { ...factory.createDefaultConfig(), format: 'json' }, new FileStream(fd));
  for (const batch of input) exporter.consume(batch); // warm-up: JIT and hidden classes
  await new Promise((r) => setImmediate(r));
  const gcBefore = gcs;
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  let events = 0;
  while (performance.now() - start < SECONDS * 1000) {
    for (const batch of input) exporter.consume(batch);
    events += BATCH * input.length;
  }
  const ms = performance.now() - start;
  const cpu = process.cpuUsage(cpuBefore);
  await new Promise((r) => setImmediate(r));
  closeSync(fd);
  const usPerEvent = (ms * 1000) / events;
  const cpuUsPerEvent = (cpu.user + cpu.system) / events;
  console.log(
    `${name.padEnd(18)} ${usPerEvent.toFixed(2)} µs/event on the main thread, ${cpuUsPerEvent.toFixed(2)} µs/event process CPU ` +
      `(${Math.round(events / ms)}k events/s, ${gcs - gcBefore} GCs in ${(ms / 1000).toFixed(1)} s)`,
  );
}

async function main(): Promise<void> {
  console.log(`stdout exporter, JSON lines to /dev/null, batches of ${BATCH}, ${SECONDS} s per mix`);
  await run('keep-alive spans', batches(keepAlive));
  await run('short connections', batches(shortConnection));
}

void main();
