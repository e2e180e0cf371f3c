/**
 * l7 HTTP/1.x benchmark: transactions per second parsed and correlated on one core.
 *
 *   npx tsx bench/l7-http.bench.ts [--seconds 3]
 *
 * Workload: 1,024 keep-alive connections seen from the client side; each transaction is one
 * request read (a curl-like GET of ~120 bytes with Host, User-Agent, Accept and a W3C
 * traceparent) and one response read (~190 bytes: status line, five headers, Content-Length
 * body). One in eight responses is chunked, one in sixteen exchanges is a POST with a body.
 * Payload events are built before timing, as the receiver would deliver them, and go through
 * L7Engine.process() (detection, session table, parsing, correlation, event creation) in
 * batches of 512. The target in issue 5 is 500,000 transactions/s.
 */
import type { NetworkEvent, PayloadEvent, ProcessInfo } from '../core/events';
import { L7Engine } from '../processors/l7/engine';
import { ALL_MODULES } from '../processors/l7/modules';

const CONNECTIONS = 1024;
const TRANSACTIONS = 200_000;
const BATCH = 512;
const TARGET = 500_000;

const args = process.argv.slice(2);
const seconds = Number(args[args.indexOf('--seconds') + 1] ?? 3) || 3;

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const PROCESS: ProcessInfo = { pid: 4242, tid: 4242, comm: 'curl', cgroupId: 1 };

function requestBytes(i: number): Uint8Array {
  const traceparent = `00-${i.toString(16).padStart(32, '0')}-00f067aa0ba902b7-01`;
  if (i % 16 === 0) {
    return enc(`POST /api/orders HTTP/1.1\r\nHost: shop.internal:18080\r\nUser-Agent: curl/8.5.0\r\nContent-Type: application/json\r\nContent-Length: 27\r\ntraceparent: ${traceparent}\r\n\r\n{"item":42,"quantity":1000}`);
  }
  return enc(`GET /api/items/${i % 1000}?page=2 HTTP/1.1\r\nHost: shop.internal:18080\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\ntraceparent: ${traceparent}\r\n\r\n`);
}

const RESPONSE_CL = enc('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nDate: Thu, 26 Nov 2026 07:21:02 GMT\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nContent-Length: 27\r\n\r\n{"id":42,"name":"a widget"}');
const RESPONSE_CHUNKED = enc('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nDate: Thu, 26 Nov 2026 07:21:02 GMT\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\nb\r\nfirst part\n\r\n1d\r\nsecond part, a little longer\n\r\n0\r\n\r\n');

function chunk(conn: number, dir: 'send' | 'recv', data: Uint8Array, timeUs: number): PayloadEvent {
  return {
    kind: 'payload', timeUs, process: PROCESS, transport: 'tcp', networkType: 'ipv4',
    localAddress: '10.0.0.1', localPort: 30000 + conn, remoteAddress: '10.0.0.2', remotePort: 18080,
    direction: 'outbound', socketCookie: 1000 + conn, netnsId: 4026531840,
    dataDirection: dir, fd: 7, data, originalLength: data.length, truncated: false,
  };
}

function workload(): NetworkEvent[][] {
  const requests = Array.from({ length: 64 }, (_, i) => requestBytes(i));
  const batches: NetworkEvent[][] = [];
  let batch: NetworkEvent[] = [];
  let t = 1_700_000_000_000_000;
  for (let i = 0; i < TRANSACTIONS; i++) {
    const conn = i % CONNECTIONS;
    batch.push(chunk(conn, 'send', requests[i % 64], (t += 3)));
    batch.push(chunk(conn, 'recv', i % 8 === 7 ? RESPONSE_CHUNKED : RESPONSE_CL, t + 400));
    if (batch.length >= BATCH) {
      batches.push(batch);
      batch = [];
    }
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

function main(): void {
  const batches = workload();
  const engine = new L7Engine(
    {
      captureQuery: false, transactionTimeoutMs: 30_000, maxBufferBytes: 16384, protocols: ['http1', 'http2', 'dns', 'tls'],
      httpPorts: [80, 8080, 3000], dnsPort: 53, httpsPorts: [443], grpcPorts: [50051], portMode: 'hint',
      maxSessions: 16384, sessionIdleTimeoutMs: 300_000, forwardPayload: false,
    },
    ALL_MODULES,
  );
  let transactions = 0;
  const runPass = (): void => {
    for (const b of batches) {
      const out = engine.process(b);
      transactions += out.length;
    }
  };
  runPass(); // warm-up: JIT and session table
  if (engine.counters.transactions_http !== TRANSACTIONS || engine.counters.malformed_http1 !== 0) {
    throw new Error(`workload check failed: ${engine.counters.transactions_http} transactions, ${engine.counters.malformed_http1} malformed`);
  }
  const passes: Pass[] = [];
  const start = process.hrtime.bigint();
  while (Number(process.hrtime.bigint() - start) / 1e9 < seconds) {
    transactions = 0;
    passes.push(timed(runPass, () => transactions));
  }
  report('l7 http1', 'transactions', passes, TARGET);
  console.log(`  (${TRANSACTIONS.toLocaleString('en-US')} transactions = ${(TRANSACTIONS * 2).toLocaleString('en-US')} payload reads per pass, ${engine.sessionCount} sessions)`);
}

export interface Pass {
  count: number;
  wallSeconds: number;
  cpuSeconds: number;
}

/** Runs one pass and measures it in wall-clock and CPU time. */
export function timed(run: () => void, count: () => number): Pass {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  run();
  const wallSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  return { count: count(), wallSeconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

/**
 * Rates per CPU-second are the one-core figure: the machine is shared, so wall-clock time
 * includes waiting for a core. CPU time counts every thread of the process (GC helpers too),
 * so it errs on the low side. Other jobs on the machine still slow a pass down (caches,
 * hyperthread siblings), so the median and the best pass are both shown; the best pass is the
 * closest to what an uncontended core does.
 */
export function report(name: string, unit: string, passes: Pass[], target: number): void {
  const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
  const rates = passes.map((p) => p.count / p.cpuSeconds).sort((a, b) => a - b);
  const median = rates[Math.floor(rates.length / 2)];
  const best = rates[rates.length - 1];
  const count = passes.reduce((n, p) => n + p.count, 0);
  const wall = passes.reduce((n, p) => n + p.wallSeconds, 0);
  const cpu = passes.reduce((n, p) => n + p.cpuSeconds, 0);
  console.log(`${name}: ${fmt(count)} ${unit} in ${passes.length} passes, ${wall.toFixed(2)} s wall, ${cpu.toFixed(2)} s CPU`);
  console.log(`  per CPU-second (one core): median pass ${fmt(median)} ${unit}/s (${(1e9 / median).toFixed(0)} ns each), best pass ${fmt(best)}/s; wall clock overall ${fmt(count / wall)}/s`);
  console.log(`  target ${fmt(target)}/s: median ${median >= target ? 'meets' : 'does NOT meet'} it, best ${best >= target ? 'meets' : 'does NOT meet'} it (shared 2-core machine: numbers vary with its load)`);
}

if (require.main === module) main();
