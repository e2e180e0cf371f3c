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
import { benchEngine, measurePasses, report } from './l7-harness';

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
  const engine = benchEngine(30_000);
  let transactions = 0;
  const runPass = (): void => {
    transactions = 0;
    for (const b of batches) {
      const out = engine.process(b);
      transactions += out.length;
    }
  };
  runPass(); // warm-up: JIT and session table
  if (engine.counters.transactions_http !== TRANSACTIONS || engine.counters.malformed_http1 !== 0) {
    throw new Error(`workload check failed: ${engine.counters.transactions_http} transactions, ${engine.counters.malformed_http1} malformed`);
  }
  const passes = measurePasses(seconds, runPass, () => transactions);
  report('l7 http1', 'transactions', passes, TARGET);
  console.log(`  (${TRANSACTIONS.toLocaleString('en-US')} transactions = ${(TRANSACTIONS * 2).toLocaleString('en-US')} payload reads per pass, ${engine.sessionCount} sessions)`);
}

main();
