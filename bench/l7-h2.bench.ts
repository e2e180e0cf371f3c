/**
 * HTTP/2 + gRPC and TLS parsing benchmark: gRPC calls parsed and correlated per second, and
 * TLS handshakes (ClientHello + ServerHello, JA4 included) per second, on one core.
 *
 *   npx tsx bench/l7-h2.bench.ts [--seconds 2] [--calls 2000] [--only grpc|tls]
 *   node --expose-gc -r tsx/cjs bench/l7-h2.bench.ts   (adds the heap held per connection)
 *
 * gRPC workload: real bytes, recorded at start-up. A node:http2 client makes --calls unary gRPC
 * calls (content-type application/grpc, 5-byte length-prefixed messages, grpc-status in
 * trailers, custom metadata, a traceparent on every call) on ONE connection to a node:http2
 * server, through a loopback proxy that keeps every chunk it relays; so the HPACK dynamic
 * tables are in the steady state a long-lived gRPC channel has. Timing then replays those
 * chunks, as payload events prepared beforehand, into fresh sessions, seen from the client and
 * from the server alternately: frame parsing, HPACK decoding of every header block, stream
 * correlation, status and trace context extraction, event construction.
 *
 * TLS workload: the recorded ClientHello and ServerHello chunks of test/fixtures/l7/tls (node,
 * OpenSSL s_client, curl), one session per handshake: record layer, hello parsing, JA4
 * (SHA-256 twice), event construction. Plus the ClientHello parse + JA4 alone.
 *
 * Bounded: each measurement runs at most --seconds; the recording at most 20 s.
 */
import * as http2 from 'node:http2';
import * as net from 'node:net';
import type { L7Event, PayloadEvent } from '../core/events';
import { http2Protocol } from '../processors/l7/http2';
import type { L7Options } from '../processors/l7/protocol';
import { ja4, parseClientHello, tlsProtocol } from '../processors/l7/tls';
import { loadFixture, payloadEvent, rawChunks, type RawChunk } from '../test/processors/l7/http2/replay';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const SECONDS = Number(arg('seconds', '2'));
const CALLS = Number(arg('calls', '2000'));
const ONLY = arg('only', '');
const OPTIONS: L7Options = { captureQuery: false, transactionTimeoutMs: 30_000, maxBufferBytes: 64 * 1024 };

function grpcMessage(size: number): Buffer {
  const out = Buffer.alloc(5 + size, 0x61);
  out[0] = 0;
  out.writeUInt32BE(size, 1);
  return out;
}

async function recordGrpcConnection(calls: number): Promise<RawChunk[]> {
  const server = http2.createServer();
  server.on('stream', (stream) => {
    stream.on('error', () => undefined);
    stream.on('data', () => undefined);
    stream.on('end', () => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc+proto', 'grpc-accept-encoding': 'identity,gzip' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': '' }));
      stream.end(grpcMessage(48));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const serverPort = (server.address() as net.AddressInfo).port;
  const chunks: RawChunk[] = [];
  const t0 = process.hrtime.bigint();
  const now = (): number => Number((process.hrtime.bigint() - t0) / 1000n);
  const proxy = net.createServer((client) => {
    const upstream = net.connect(serverPort, '127.0.0.1');
    client.on('data', (d: Buffer) => {
      chunks.push({ dir: 'c2s', tUs: now(), data: new Uint8Array(d) });
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      chunks.push({ dir: 's2c', tUs: now(), data: new Uint8Array(d) });
      client.write(d);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  const session = http2.connect(`http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`);
  session.on('error', () => undefined);
  const deadline = Date.now() + 20_000;
  const methods = ['/helloworld.Greeter/SayHello', '/shop.v1.Cart/AddItem', '/shop.v1.Cart/GetCart', '/shop.v1.Inventory/Reserve'];
  // Keep 16 calls in flight, as a busy channel does.
  let started = 0;
  await new Promise<void>((resolve, reject) => {
    let done = 0;
    const next = (): void => {
      if (started >= calls) return;
      if (Date.now() > deadline) return reject(new Error('recording the gRPC connection took longer than 20 s'));
      const i = started++;
      const req = session.request({
        ':method': 'POST',
        ':path': methods[i % methods.length],
        ':authority': 'shop.internal:50051',
        ':scheme': 'http',
        'content-type': 'application/grpc',
        te: 'trailers',
        'grpc-timeout': '5S',
        'user-agent': 'grpc-node-js/1.12.0',
        'x-tenant-id': `tenant-${i % 8}`,
        traceparent: `00-${(i + 1).toString(16).padStart(32, '0')}-${(i + 1).toString(16).padStart(16, '0')}-01`,
      });
      req.on('data', () => undefined);
      req.on('error', reject);
      req.on('end', () => {
        if (++done === calls) resolve();
        else next();
      });
      req.end(grpcMessage(32));
    };
    for (let k = 0; k < 16; k++) next();
  });
  await new Promise<void>((r) => session.close(() => r()));
  await new Promise((r) => setTimeout(r, 50));
  proxy.close();
  server.close();
  return chunks;
}

function measure(label: string, unit: string, perRound: number, round: () => void): void {
  for (let i = 0; i < 3; i++) round(); // warm-up: let the JIT settle
  let rounds = 0;
  const start = process.hrtime.bigint();
  const limit = BigInt(Math.round(SECONDS * 1e9));
  let elapsed = 0n;
  do {
    round();
    rounds++;
    elapsed = process.hrtime.bigint() - start;
  } while (elapsed < limit);
  const seconds = Number(elapsed) / 1e9;
  const rate = (rounds * perRound) / seconds;
  console.log(`  ${label.padEnd(58)} ${Math.round(rate).toLocaleString('en-US').padStart(12)} ${unit}/s  (${(1e6 / rate).toFixed(2)} µs each)`);
}

async function benchGrpc(): Promise<void> {
  console.log(`recording ${CALLS} gRPC calls on one node:http2 connection ...`);
  const chunks = await recordGrpcConnection(CALLS);
  const bytes = chunks.reduce((n, c) => n + c.data.length, 0);
  const asClient: PayloadEvent[] = chunks.map((c) => payloadEvent(c, 'client'));
  const asServer: PayloadEvent[] = chunks.map((c) => payloadEvent(c, 'server'));
  let calls = 0;
  let grpcOk = 0;
  const emit = (e: L7Event): void => {
    calls++;
    if (e.kind === 'l7.grpc' && e.grpcStatusName === 'OK' && e.traceContext !== undefined) grpcOk++;
  };
  let flip = false;
  const round = (): void => {
    const events = (flip = !flip) ? asClient : asServer;
    const session = http2Protocol.createSession(OPTIONS);
    for (let i = 0; i < events.length; i++) session.onPayload(events[i], emit);
    session.close(events[events.length - 1].timeUs, emit);
  };
  round();
  if (calls !== CALLS || grpcOk !== CALLS) throw new Error(`sanity check failed: ${calls} calls, ${grpcOk} complete, expected ${CALLS}`);
  console.log(`gRPC over HTTP/2: ${chunks.length} chunks, ${(bytes / 1024).toFixed(0)} KiB per replay of ${CALLS} calls`);
  measure('calls parsed + correlated (request, response, trailers)', 'calls', CALLS, round);
  memoryPerConnection(asClient);
}

/**
 * Heap held by an established HTTP/2 session between calls: sessions that have seen the start
 * of the recorded channel (preface, SETTINGS, the first calls and answers), kept alive.
 */
function memoryPerConnection(events: PayloadEvent[]): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) {
    console.log('  (run with node --expose-gc -r tsx/cjs to measure heap per connection)');
    return;
  }
  const prefix = events.slice(0, 12);
  const n = 5_000;
  const kept: unknown[] = [];
  gc();
  const before = process.memoryUsage();
  for (let i = 0; i < n; i++) {
    const session = http2Protocol.createSession(OPTIONS);
    for (const e of prefix) session.onPayload(e, () => undefined);
    kept.push(session);
  }
  gc();
  const after = process.memoryUsage();
  const perSession = (after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers) / n;
  console.log(`  ${'heap per established HTTP/2 connection (both HPACK tables)'.padEnd(58)} ${(perSession / 1024).toFixed(1).padStart(12)} KiB  (${kept.length} sessions)`);
}

function benchTls(): void {
  const handshakes: PayloadEvent[][] = [];
  const hellos: Uint8Array[] = [];
  for (const scenario of ['node-tls13', 'node-tls12', 'openssl-s-client', 'curl-https', 'node-tls13-no-sni']) {
    const chunks = rawChunks(loadFixture('tls', scenario));
    const clientHello = chunks.find((c) => c.dir === 'c2s') as RawChunk;
    const serverFlight = chunks.find((c) => c.dir === 's2c') as RawChunk;
    handshakes.push([payloadEvent(clientHello, 'client'), payloadEvent(serverFlight, 'client')]);
    hellos.push(clientHello.data);
  }
  let emitted = 0;
  const emit = (): void => {
    emitted++;
  };
  const round = (): void => {
    for (const [ch, sh] of handshakes) {
      const session = tlsProtocol.createSession(OPTIONS);
      session.onPayload(ch, emit);
      session.onPayload(sh, emit);
    }
  };
  round();
  if (emitted !== handshakes.length) throw new Error(`sanity check failed: ${emitted} handshakes`);
  console.log(`TLS: ${handshakes.length} recorded handshakes (node TLS 1.3/1.2, OpenSSL s_client, curl)`);
  measure('handshakes (ClientHello + ServerHello, JA4, event)', 'handshakes', handshakes.length, round);
  let sink = 0;
  measure('ClientHello parse + JA4 alone', 'ClientHellos', hellos.length, () => {
    for (const h of hellos) {
      const hello = parseClientHello(h, 9, h.length);
      if (hello) sink += ja4(hello).length;
    }
  });
  if (sink === 0) throw new Error('no ClientHello parsed');
}

async function main(): Promise<void> {
  console.log(`l7 HTTP/2 + TLS benchmark (node ${process.version}, one core; numbers from a shared 2-core machine vary by some 20 %)`);
  if (ONLY === '' || ONLY === 'grpc') await benchGrpc();
  if (ONLY === '' || ONLY === 'tls') benchTls();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`benchmark failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
