/**
 * otlp export throughput: L7 events in, spans acknowledged by a loopback OTLP/HTTP
 * receiver out.
 *
 *   npx tsx bench/otlp-export.bench.ts [--seconds 3] [--only proto-gzip|json-gzip|proto-none|json-none|proto-gzip+metrics|grpc-gzip|grpc-none]
 *
 * The receiver runs in a child process (so it does not share the exporter's event loop); it
 * reads every body, counts requests and bytes, and answers 200. The exporter runs as the
 * collector runs it: consume() with batches of 1,000 events (a mix of HTTP, DNS, gRPC and TLS
 * transactions built before timing), mapping to spans, OpenTelemetry serializers (large span
 * requests in the exporter's serializer worker thread), gzip on the libuv thread pool,
 * keep-alive HTTP. Process CPU includes the worker thread. The feeder only offers data while
 * the sending queue has room, so the number is sustained delivery, not enqueue speed; a span
 * counts when the receiver has acknowledged its request. Warnings (e.g. a serializer worker that
 * failed, which silently halves throughput) are printed. Profile with
 * `node --cpu-prof --import tsx bench/otlp-export.bench.ts --only proto-gzip` (one file per thread). Bounded: at most --seconds per configuration and 3,000,000 spans.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import type { Host } from '../core/component';
import type { NetworkEvent } from '../core/events';
import { createLogger } from '../core/logger';
import { L7MetricsRecorder } from '../core/otel/l7-metrics';
import { createTestSettings } from '../core/testing';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { factory, OtlpExporter, type OtlpConfig } from '../exporters/otlp';
import { dnsEvent, grpcEvent, httpEvent, tlsEvent } from '../test/exporters/fixtures';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const SECONDS = Number(arg('seconds', '3'));
const ONLY = arg('only', '');
const BATCH = 1000;
const MAX_SPANS = 3_000_000;

const RECEIVER_SOURCE = `
const http = require('node:http');
let requests = 0, bytes = 0;
const server = http.createServer((req, res) => {
  req.on('data', (c) => { bytes += c.length; });
  req.on('end', () => { requests++; res.writeHead(200, { 'content-type': req.headers['content-type'] || 'application/x-protobuf' }); res.end(); });
});
server.keepAliveTimeout = 60000;
// OTLP/gRPC: every Export call answered OK with an empty response message. Windows of 8 MiB, as
// a gRPC server's flow-control estimate grows to on a fast link (node's default is 64 KiB).
const grpc = require('node:http2').createServer({ settings: { initialWindowSize: 8 * 1024 * 1024 } });
grpc.on('session', (session) => session.setLocalWindowSize(64 * 1024 * 1024));
grpc.on('stream', (stream, headers) => {
  stream.on('data', (c) => { bytes += c.length; });
  stream.on('end', () => {
    requests++;
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    stream.end(Buffer.from([0, 0, 0, 0, 0]));
  });
});
server.listen(0, '127.0.0.1', () => grpc.listen(0, '127.0.0.1', () => process.send({ port: server.address().port, grpcPort: grpc.address().port })));
process.on('message', (m) => { if (m === 'stats') process.send({ requests, bytes }); if (m === 'exit') process.exit(0); });
`;

interface Stats {
  requests: number;
  bytes: number;
}

async function startReceiver(dir: string): Promise<{ child: ChildProcess; port: number; grpcPort: number; stats(): Promise<Stats> }> {
  const file = join(dir, 'receiver.cjs');
  writeFileSync(file, RECEIVER_SOURCE);
  const child = fork(file, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const { port, grpcPort } = await new Promise<{ port: number; grpcPort: number }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { port: number; grpcPort: number }));
    child.once('error', reject);
  });
  const stats = (): Promise<Stats> =>
    new Promise((resolve) => {
      child.once('message', (m) => resolve(m as Stats));
      child.send('stats');
    });
  return { child, port, grpcPort, stats };
}

function makeBatches(): NetworkEvent[][] {
  // 16 distinct batches, reused: 70 % HTTP, 10 % each DNS, gRPC, TLS, with varied paths/ports.
  const batches: NetworkEvent[][] = [];
  for (let b = 0; b < 16; b++) {
    const batch: NetworkEvent[] = [];
    for (let i = 0; i < BATCH; i++) {
      const n = b * BATCH + i;
      const r = n % 10;
      if (r < 7) batch.push(httpEvent({ path: `/api/items/${n % 500}`, statusCode: n % 50 === 0 ? 503 : 200, localPort: 40000 + (n % 2000) }));
      else if (r === 7) batch.push(dnsEvent({ questionName: `svc-${n % 100}.example.com` }));
      else if (r === 8) batch.push(grpcEvent({ streamId: n % 1000 }));
      else batch.push(tlsEvent());
    }
    batches.push(batch);
  }
  return batches;
}

async function run(name: string, patch: Partial<OtlpConfig>, port: number, batches: NetworkEvent[][]): Promise<void> {
  const defaults = factory.createDefaultConfig();
  const config: OtlpConfig = {
    ...defaults,
    endpoint: `http://127.0.0.1:${port}`,
    signals: { traces: true, metrics: false, logs: false },
    ...patch,
  };
  const settings = createTestSettings('exporter', 'otlp', createLogger('warn', (line) => console.error(`  ${name}: ${line}`)));
  const exporter = new OtlpExporter(settings, config);
  const provider = new MeterProvider({ readers: exporter.metricReaders() });
  const host: Host = { meterProvider: provider, metricsEnabled: config.signals.metrics, reportFatalError: (e) => { throw e; }, reportStopped: (reason) => { throw new Error(reason); } };
  exporter.start(host);
  // In a pipeline the l7 processor records the duration histograms the exporter's reader sends.
  const metrics = config.signals.metrics ? new L7MetricsRecorder(provider) : undefined;
  const feed = (batch: NetworkEvent[]): void => {
    metrics?.recordBatch(batch);
    void exporter.consume(batch);
  };
  const t = settings.telemetry;
  const room = config.sending_queue.queue_size - BATCH;

  // Warm-up (JIT, sockets), not timed.
  for (let i = 0; i < 20; i++) feed(batches[i % batches.length]);
  while (t.get('sent_spans') < 20 * BATCH) await new Promise((r) => setTimeout(r, 5));

  const sentBefore = t.get('sent_spans');
  const started = process.hrtime.bigint();
  const cpuBefore = process.cpuUsage();
  const deadline = Date.now() + SECONDS * 1000;
  let offered = 0;
  let b = 0;
  while (Date.now() < deadline && offered < MAX_SPANS) {
    if (t.get('queue_items') < room) {
      feed(batches[b++ % batches.length]);
      offered += BATCH;
      // Let sockets and the thread pool's gzip completions run between batches.
      await new Promise((r) => setImmediate(r));
    } else {
      await new Promise((r) => setTimeout(r, 1));
    }
  }
  await exporter.shutdown();
  await provider.shutdown();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const sent = t.get('sent_spans') - sentBefore;
  const rate = sent / seconds;
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const cpuPct = (cpuSeconds / seconds) * 100;
  // Spans per CPU-second of the exporter process (main thread + gzip on the thread pool): the
  // rate one dedicated core would sustain. On a machine shared with other work the wall-clock
  // rate only says how much CPU this process happened to get.
  const perCpu = sent / cpuSeconds;
  console.log(
    `${name.padEnd(18)} ${Math.round(rate).toLocaleString('en-US').padStart(9)} spans/s wall, ` +
      `${Math.round(perCpu).toLocaleString('en-US').padStart(9)} spans per CPU-second  ` +
      `(${sent.toLocaleString('en-US')} spans in ${seconds.toFixed(2)} s, process CPU ${cpuPct.toFixed(0)} %, dropped ${t.get('dropped')})`,
  );
  if (t.get('dropped') !== 0) throw new Error(`${name}: ${t.get('dropped')} spans dropped; the benchmark must not lose data`);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'otlp-bench-'));
  const receiver = await startReceiver(dir);
  const batches = makeBatches();
  console.log(`otlp export to a loopback receiver (child process; OTLP/HTTP, and OTLP/gRPC for grpc-*); ${cpus().length} CPUs (shared machine), batches of ${BATCH} events, ${SECONDS}s per configuration`);
  const configs: Array<[string, Partial<OtlpConfig>]> = [
    ['proto-gzip', { protocol: 'http/protobuf', compression: 'gzip' }],
    ['json-gzip', { protocol: 'http/json', compression: 'gzip' }],
    ['proto-none', { protocol: 'http/protobuf', compression: 'none' }],
    ['json-none', { protocol: 'http/json', compression: 'none' }],
    // The default signals: spans plus the semconv duration histograms recorded per span.
    ['proto-gzip+metrics', { protocol: 'http/protobuf', compression: 'gzip', signals: { traces: true, metrics: true, logs: false }, metrics: { temporality: 'cumulative', export_interval: 1000 } }],
    ['grpc-gzip', { protocol: 'grpc', compression: 'gzip' }],
    ['grpc-none', { protocol: 'grpc', compression: 'none' }],
  ];
  try {
    for (const [name, patch] of configs) {
      if (ONLY && name !== ONLY) continue;
      await run(name, patch, patch.protocol === 'grpc' ? receiver.grpcPort : receiver.port, batches);
    }
    const stats = await receiver.stats();
    console.log(`receiver: ${stats.requests.toLocaleString('en-US')} requests, ${(stats.bytes / 1024 / 1024).toFixed(1)} MiB received`);
  } finally {
    receiver.child.send('exit');
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: Error) => {
  console.error(`benchmark failed: ${error.message}`);
  process.exitCode = 1;
});
