/**
 * Re-records the HTTP/2, gRPC and TLS byte fixtures under test/fixtures/l7/{http2,tls}.
 *
 *   npx tsx scripts/record-l7-fixtures-h2-tls.ts            # all scenarios
 *   npx tsx scripts/record-l7-fixtures-h2-tls.ts grpc tls13  # some of them
 *
 * Every scenario runs a real server and a real client on 127.0.0.1 with a recording TCP proxy
 * between them: the proxy writes each direction's chunks, as it read them from its sockets,
 * with their arrival times. So the fixtures are the bytes real peers exchanged (node's http2,
 * curl, node tls, openssl s_client/s_server), not bytes we built ourselves.
 *
 * Needs: node >= 20, openssl (Debian package `openssl`) and curl (package `curl`, built with
 * nghttp2 as Debian's is) on PATH. Certificates are throwaway, generated into a temporary
 * directory on each run. Everything listens on 127.0.0.1 with ports chosen by the kernel.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as tls from 'node:tls';

export interface FixtureChunk {
  /** c2s: client to server; s2c: server to client. */
  dir: 'c2s' | 's2c';
  /** Microseconds since the connection was accepted by the proxy. */
  tUs: number;
  /** The bytes, base64. */
  data: string;
}

export interface FixtureConnection {
  chunks: FixtureChunk[];
}

export interface Fixture {
  scenario: string;
  description: string;
  recordedWith: string;
  connections: FixtureConnection[];
}

const ROOT = resolve(__dirname, '..');
const H2_DIR = join(ROOT, 'test/fixtures/l7/http2');
const TLS_DIR = join(ROOT, 'test/fixtures/l7/tls');
/** Every step of a scenario is bounded so a hung peer fails the run instead of stalling it. */
const STEP_TIMEOUT_MS = 10_000;

// ---------------------------------------------------------------------------------------------
// Recording proxy

class RecordingProxy {
  readonly connections: FixtureConnection[] = [];
  private server: net.Server | undefined;
  private open = new Set<net.Socket>();

  async start(targetPort: number): Promise<number> {
    this.server = net.createServer((client) => {
      const t0 = process.hrtime.bigint();
      const conn: FixtureConnection = { chunks: [] };
      this.connections.push(conn);
      const upstream = net.connect(targetPort, '127.0.0.1');
      this.open.add(client);
      this.open.add(upstream);
      const record = (dir: 'c2s' | 's2c', data: Buffer): void => {
        conn.chunks.push({ dir, tUs: Number((process.hrtime.bigint() - t0) / 1000n), data: data.toString('base64') });
      };
      client.on('data', (d: Buffer) => {
        record('c2s', d);
        upstream.write(d);
      });
      upstream.on('data', (d: Buffer) => {
        record('s2c', d);
        client.write(d);
      });
      const end = (): void => {
        client.destroy();
        upstream.destroy();
        this.open.delete(client);
        this.open.delete(upstream);
      };
      client.on('end', () => upstream.end());
      upstream.on('end', () => client.end());
      client.on('close', end);
      upstream.on('close', end);
      client.on('error', end);
      upstream.on('error', end);
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    return (this.server.address() as net.AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const s of this.open) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

function withTimeout<T>(promise: Promise<T>, what: string, ms = STEP_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Runs a client program asynchronously: the proxy and the servers live in this process, so a
 * synchronous exec would block the very event loop that has to relay its bytes.
 */
function run(command: string, args: string[], input = ''): Promise<{ code: number | null; stdout: string }> {
  return withTimeout(
    new Promise((r, reject) => {
      const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'ignore'] });
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => r({ code, stdout }));
      child.stdin.end(input);
    }),
    `${command} ${args.join(' ')}`,
  );
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function save(dir: string, fixture: Fixture): void {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${fixture.scenario}.json`);
  writeFileSync(file, JSON.stringify(fixture, null, 1) + '\n');
  const chunks = fixture.connections.reduce((n, c) => n + c.chunks.length, 0);
  console.log(`wrote ${file}: ${fixture.connections.length} connection(s), ${chunks} chunks`);
}

// ---------------------------------------------------------------------------------------------
// HTTP/2 and gRPC

/** A plain h2c server with a few routes that exercise statuses, bodies and stream resets. */
function startH2Server(): Promise<{ server: http2.Http2Server; port: number }> {
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    const path = String(headers[':path'] ?? '');
    if (path.startsWith('/hello')) {
      stream.respond({ ':status': 200, 'content-type': 'text/plain', 'x-request-id': 'r-1' });
      stream.end('hello\n');
    } else if (path === '/submit') {
      let n = 0;
      stream.on('data', (d: Buffer) => (n += d.length));
      stream.on('end', () => {
        stream.respond({ ':status': 201, 'content-type': 'application/json' });
        stream.end(JSON.stringify({ received: n }));
      });
    } else if (path === '/slow') {
      // Never answers: the client cancels it (RST_STREAM CANCEL).
      setTimeout(() => {
        if (!stream.destroyed) stream.close();
      }, 3000);
    } else if (path === '/big-headers') {
      stream.respond({ ':status': 204 });
      stream.end();
    } else {
      stream.respond({ ':status': 404 });
      stream.end();
    }
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r({ server, port: (server.address() as net.AddressInfo).port })));
}

function h2Request(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders, body?: string): Promise<number> {
  return withTimeout(
    new Promise<number>((resolveStatus, reject) => {
      const req = session.request(headers, { endStream: body === undefined });
      let status = 0;
      req.on('response', (h) => (status = Number(h[':status'])));
      req.on('data', () => undefined);
      req.on('end', () => resolveStatus(status));
      req.on('error', reject);
      if (body !== undefined) req.end(body);
    }),
    `h2 request ${String(headers[':path'])}`,
  );
}

async function recordH2cNode(): Promise<Fixture> {
  const { server, port } = await startH2Server();
  const proxy = new RecordingProxy();
  const proxyPort = await proxy.start(port);
  try {
    const session = http2.connect(`http://127.0.0.1:${proxyPort}`);
    session.on('error', () => undefined);
    await withTimeout(new Promise<void>((r) => session.once('connect', () => r())), 'h2 connect');
    await h2Request(session, {
      ':method': 'GET',
      ':path': '/hello?name=world&token=secret',
      'user-agent': 'fixture-recorder/1',
      traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    });
    await h2Request(session, { ':method': 'POST', ':path': '/submit', 'content-type': 'application/json' }, JSON.stringify({ a: 1, b: 'two' }));
    // Same headers again: now mostly indexed from the dynamic table.
    await h2Request(session, { ':method': 'GET', ':path': '/hello?name=again', 'user-agent': 'fixture-recorder/1' });
    await h2Request(session, { ':method': 'GET', ':path': '/missing' });
    // A header block larger than one frame (16 KiB): HEADERS + CONTINUATION.
    await h2Request(session, { ':method': 'GET', ':path': '/big-headers', 'x-big': 'v'.repeat(20_000) });
    // Concurrent streams.
    await Promise.all([1, 2, 3].map((i) => h2Request(session, { ':method': 'GET', ':path': `/hello/${i}` })));
    // A request the client cancels: RST_STREAM(CANCEL).
    await withTimeout(
      new Promise<void>((r) => {
        const req = session.request({ ':method': 'GET', ':path': '/slow' });
        req.on('error', () => undefined);
        setTimeout(() => {
          req.close(http2.constants.NGHTTP2_CANCEL);
          r();
        }, 100);
      }),
      'cancel',
    );
    await sleep(100);
    await withTimeout(new Promise<void>((r) => session.close(() => r())), 'h2 close');
    await sleep(100);
  } finally {
    await proxy.stop();
    server.close();
  }
  return {
    scenario: 'h2c-node',
    description:
      'node http2 client -> node http2 server, prior-knowledge h2c: GET with query and traceparent (200), POST with body (201), ' +
      'repeated GET (dynamic table hits), GET /missing (404), GET with a 20 kB header (HEADERS+CONTINUATION, 204), ' +
      '3 concurrent GETs, GET /slow cancelled by the client (RST_STREAM CANCEL), then GOAWAY on close.',
    recordedWith: `node ${process.version} node:http2 (nghttp2 ${process.versions.nghttp2})`,
    connections: proxy.connections,
  };
}

async function recordH2cCurl(): Promise<Fixture> {
  const { server, port } = await startH2Server();
  const proxy = new RecordingProxy();
  const proxyPort = await proxy.start(port);
  try {
    // One connection per URL: curl 7.88 fails (exit 16) when it reuses a prior-knowledge
    // connection for a second URL.
    for (const path of ['/hello/curl?q=1', '/missing']) {
      const { code } = await run('curl', ['-sS', '-o', '/dev/null', '--http2-prior-knowledge', '-H', 'traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        `http://127.0.0.1:${proxyPort}${path}`]);
      if (code !== 0) throw new Error(`curl --http2-prior-knowledge ${path} exited with ${code}`);
    }
    await sleep(100);
  } finally {
    await proxy.stop();
    server.close();
  }
  const curlVersion = execFileSync('curl', ['-V']).toString().split('\n')[0];
  return {
    scenario: 'h2c-curl',
    description: 'curl --http2-prior-knowledge -> node http2 server, one connection each: GET /hello/curl?q=1 with traceparent (200); GET /missing with traceparent (404).',
    recordedWith: `${curlVersion}; server node ${process.version}`,
    connections: proxy.connections,
  };
}

/** gRPC length-prefixed message: compressed flag, 4-byte big-endian length, message. */
function grpcFrame(message: Buffer): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  message.copy(out, 5);
  return out;
}

/**
 * A minimal gRPC server on node:http2 (unary calls, as PROTOCOL-HTTP2.md describes them):
 * SayHello answers with a message and grpc-status 0 in trailers; GetMissing answers
 * Trailers-Only with grpc-status 5; Fail answers a message and grpc-status 13 in trailers;
 * Blob/Echo answers the request's messages back, then grpc-status 0 in trailers.
 * The messages are opaque bytes: the observer never looks into them.
 */
function startGrpcServer(): Promise<{ server: http2.Http2Server; port: number }> {
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    const path = String(headers[':path'] ?? '');
    const chunks: Buffer[] = [];
    stream.on('data', (d: Buffer) => chunks.push(d));
    stream.on('end', () => {
      if (path === '/demo.v1.Blob/Echo') {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc+proto' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': '' }));
        stream.end(Buffer.concat(chunks));
      } else if (path === '/helloworld.Greeter/SayHello' || path === '/demo.v1.Inventory/Fail') {
        const fail = path.endsWith('/Fail');
        stream.respond({ ':status': 200, 'content-type': 'application/grpc+proto', 'grpc-accept-encoding': 'identity' }, { waitForTrailers: true });
        stream.on('wantTrailers', () => {
          stream.sendTrailers(fail ? { 'grpc-status': '13', 'grpc-message': 'boom' } : { 'grpc-status': '0', 'grpc-message': '' });
        });
        stream.end(grpcFrame(Buffer.from(`reply to ${Buffer.concat(chunks).length} bytes`)));
      } else {
        stream.respond(
          { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '5', 'grpc-message': 'no such item' },
          { endStream: true },
        );
      }
    });
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r({ server, port: (server.address() as net.AddressInfo).port })));
}

function grpcCall(session: http2.ClientHttp2Session, method: string, message: Buffer, traceparent?: string): Promise<{ status: string }> {
  const headers: http2.OutgoingHttpHeaders = {
    ':method': 'POST',
    ':path': method,
    ':authority': 'inventory.internal:50051',
    ':scheme': 'http',
    'content-type': 'application/grpc',
    te: 'trailers',
    'grpc-timeout': '5S',
    'grpc-accept-encoding': 'identity,deflate,gzip',
    'user-agent': 'grpc-node-js/1.12.0 (fixture recorder on node:http2)',
  };
  if (traceparent) headers.traceparent = traceparent;
  return withTimeout(
    new Promise((resolveCall, reject) => {
      const req = session.request(headers);
      let status = '';
      req.on('response', (h) => {
        if (h['grpc-status'] !== undefined) status = String(h['grpc-status']);
      });
      req.on('trailers', (h) => (status = String(h['grpc-status'])));
      req.on('data', () => undefined);
      req.on('end', () => resolveCall({ status }));
      req.on('error', reject);
      req.end(grpcFrame(message));
    }),
    `grpc ${method}`,
  );
}

/** Runs `calls` one after the other on one node:http2 connection to the gRPC server above, through the recording proxy. */
async function recordGrpcCalls(scenario: string, description: string, calls: [method: string, message: Buffer, traceparent?: string][], statuses: string): Promise<Fixture> {
  const { server, port } = await startGrpcServer();
  const proxy = new RecordingProxy();
  const proxyPort = await proxy.start(port);
  try {
    const session = http2.connect(`http://127.0.0.1:${proxyPort}`);
    session.on('error', () => undefined);
    await withTimeout(new Promise<void>((r) => session.once('connect', () => r())), `${scenario} connect`);
    const results: { status: string }[] = [];
    for (const [method, message, traceparent] of calls) results.push(await grpcCall(session, method, message, traceparent));
    if (results.map((r) => r.status).join(',') !== statuses) throw new Error(`${scenario}: unexpected gRPC statuses ${JSON.stringify(results)}`);
    await withTimeout(new Promise<void>((r) => session.close(() => r())), `${scenario} close`);
    await sleep(100);
  } finally {
    await proxy.stop();
    server.close();
  }
  return { scenario, description, recordedWith: `node ${process.version} node:http2 (nghttp2 ${process.versions.nghttp2})`, connections: proxy.connections };
}

function recordGrpc(): Promise<Fixture> {
  return recordGrpcCalls(
    'grpc-node',
    'gRPC-shaped unary calls with node:http2 on both ends (content-type application/grpc, 5-byte length-prefixed messages, ' +
      'grpc-status in trailers): helloworld.Greeter/SayHello with traceparent (OK), SayHello again (OK, dynamic table hits), ' +
      'demo.v1.Inventory/GetMissing (Trailers-Only, NOT_FOUND), demo.v1.Inventory/Fail (INTERNAL in trailers).',
    [
      ['/helloworld.Greeter/SayHello', Buffer.from('\n\x05world'), '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
      ['/helloworld.Greeter/SayHello', Buffer.from('\n\x04mars')],
      ['/demo.v1.Inventory/GetMissing', Buffer.from('\n\x03abc')],
      ['/demo.v1.Inventory/Fail', Buffer.from('\n\x01x')],
    ],
    '0,0,5,13',
  );
}

/** A message body of `size` bytes that looks like payload, not like frames (and compresses in git). */
function blob(size: number): Buffer {
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) out[i] = (i * 37 + (i >> 8)) & 0xff;
  return out;
}

function recordGrpcLarge(): Promise<Fixture> {
  return recordGrpcCalls(
    'grpc-large',
    'gRPC-shaped unary calls with node:http2 on both ends on one connection: demo.v1.Blob/Echo with a 100 KiB request message ' +
      'echoed back (DATA frames of 16 KiB, flow control, trailers after the DATA), then helloworld.Greeter/SayHello (OK), ' +
      'demo.v1.Inventory/GetMissing (Trailers-Only, NOT_FOUND) and demo.v1.Inventory/Fail (INTERNAL in trailers).',
    [
      ['/demo.v1.Blob/Echo', blob(100 * 1024)],
      ['/helloworld.Greeter/SayHello', Buffer.from('\n\x05world')],
      ['/demo.v1.Inventory/GetMissing', Buffer.from('\n\x03abc')],
      ['/demo.v1.Inventory/Fail', Buffer.from('\n\x01x')],
    ],
    '0,0,5,13',
  );
}

async function recordGoaway(): Promise<Fixture> {
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    stream.on('error', () => undefined);
    if (headers[':path'] === '/first') {
      stream.respond({ ':status': 200 });
      stream.end('ok');
    } else {
      // Tell the client that nothing after stream 1 was processed, with an error code.
      stream.session?.goaway(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM, 1);
    }
  });
  const port = await new Promise<number>((r) => server.listen(0, '127.0.0.1', () => r((server.address() as net.AddressInfo).port)));
  const proxy = new RecordingProxy();
  const proxyPort = await proxy.start(port);
  try {
    const session = http2.connect(`http://127.0.0.1:${proxyPort}`);
    session.on('error', () => undefined);
    session.on('goaway', () => undefined);
    await withTimeout(new Promise<void>((r) => session.once('connect', () => r())), 'goaway connect');
    await h2Request(session, { ':method': 'GET', ':path': '/first' });
    await withTimeout(
      new Promise<void>((r) => {
        const req = session.request({ ':method': 'GET', ':path': '/second' });
        req.on('error', () => r());
        req.on('close', () => r());
        req.on('data', () => undefined);
      }),
      'goaway request',
    );
    await sleep(200);
    session.destroy();
    await sleep(100);
  } finally {
    await proxy.stop();
    server.close();
  }
  return {
    scenario: 'h2c-goaway',
    description: 'node http2: GET /first (200), then GET /second on stream 3, answered by a GOAWAY(ENHANCE_YOUR_CALM, last stream 1).',
    recordedWith: `node ${process.version} node:http2 (nghttp2 ${process.versions.nghttp2})`,
    connections: proxy.connections,
  };
}

// ---------------------------------------------------------------------------------------------
// TLS

interface Certs {
  dir: string;
  ecKey: string;
  ecCert: string;
  rsaKey: string;
  rsaCert: string;
}

function makeCerts(): Certs {
  const dir = mkdtempSync(join(tmpdir(), 'l7-fixture-certs-'));
  const ecKey = join(dir, 'ec.key');
  const ecCert = join(dir, 'ec.crt');
  const rsaKey = join(dir, 'rsa.key');
  const rsaCert = join(dir, 'rsa.crt');
  const opts = { stdio: 'ignore' as const, timeout: STEP_TIMEOUT_MS };
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', ecKey, '-out', ecCert,
    '-days', '2', '-subj', '/CN=api.example.test', '-addext', 'subjectAltName=DNS:api.example.test,DNS:openssl.example.test,IP:127.0.0.1'], opts);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', rsaKey, '-out', rsaCert,
    '-days', '2', '-subj', '/CN=legacy.example.test'], opts);
  return { dir, ecKey, ecCert, rsaKey, rsaCert };
}

async function startTlsServer(options: tls.TlsOptions): Promise<{ server: tls.Server; port: number }> {
  const server = tls.createServer(options, (socket) => {
    socket.on('error', () => undefined);
    socket.on('data', (d: Buffer) => socket.write(`echo ${d.length}\n`));
  });
  server.on('tlsClientError', () => undefined);
  return new Promise((r) => server.listen(0, '127.0.0.1', () => r({ server, port: (server.address() as net.AddressInfo).port })));
}

/** Connects, sends one line, waits for the answer (or a handshake error), closes. */
function tlsExchange(options: tls.ConnectionOptions): Promise<string> {
  return withTimeout(
    new Promise<string>((r) => {
      const socket = tls.connect({ ...options, rejectUnauthorized: false }, () => socket.write('ping\n'));
      socket.on('data', () => {
        const result = `ok ${socket.getProtocol()} ${socket.alpnProtocol || '-'} ${socket.getCipher().standardName}`;
        socket.end();
        r(result);
      });
      socket.on('error', (e) => r(`error ${e.message}`));
    }),
    'tls exchange',
  );
}

async function recordNodeTls(scenario: string, description: string, server: tls.TlsOptions, client: tls.ConnectionOptions, expectOk: boolean): Promise<Fixture> {
  const { server: srv, port } = await startTlsServer(server);
  const proxy = new RecordingProxy();
  const proxyPort = await proxy.start(port);
  try {
    const result = await tlsExchange({ ...client, host: '127.0.0.1', port: proxyPort });
    console.log(`  ${scenario}: ${result}`);
    if (expectOk !== result.startsWith('ok')) throw new Error(`${scenario}: unexpected result ${result}`);
    await sleep(150);
  } finally {
    await proxy.stop();
    srv.close();
  }
  return { scenario, description, recordedWith: `node ${process.version} (OpenSSL ${process.versions.openssl}) tls on both ends`, connections: proxy.connections };
}

function waitForPort(child: ChildProcess, pattern: RegExp): Promise<void> {
  return withTimeout(
    new Promise<void>((r, reject) => {
      let out = '';
      const onData = (d: Buffer): void => {
        out += d.toString();
        if (pattern.test(out)) r();
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.on('exit', (code) => reject(new Error(`exited with ${code} before ready: ${out}`)));
    }),
    'openssl s_server start',
  );
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function recordOpenssl(certs: Certs): Promise<Fixture> {
  const port = await freePort();
  // -naccept 1: the server exits after one connection, so a hung run cannot leak it.
  const server = spawn('openssl', ['s_server', '-accept', `127.0.0.1:${port}`, '-cert', certs.ecCert, '-key', certs.ecKey, '-alpn', 'h2,http/1.1', '-naccept', '1'], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const proxy = new RecordingProxy();
  try {
    await waitForPort(server, /ACCEPT/);
    const proxyPort = await proxy.start(port);
    const { stdout: out } = await run('openssl', ['s_client', '-connect', `127.0.0.1:${proxyPort}`, '-servername', 'openssl.example.test', '-alpn', 'h2,http/1.1'], 'ping\n');
    console.log(`  openssl-s-client: ALPN ${/ALPN protocol: (\S+)/.exec(out)?.[1] ?? '-'}`);
    await sleep(150);
  } finally {
    server.kill();
    await proxy.stop();
  }
  const version = execFileSync('openssl', ['version']).toString().trim();
  return {
    scenario: 'openssl-s-client',
    description: 'openssl s_client -servername openssl.example.test -alpn h2,http/1.1 -> openssl s_server -alpn h2,http/1.1 (EC P-256 certificate), TLS 1.3.',
    recordedWith: version,
    connections: proxy.connections,
  };
}

async function recordCurlTls(certs: Certs): Promise<Fixture> {
  const { server, port } = await startTlsServer({ key: readFileSync(certs.ecKey), cert: readFileSync(certs.ecCert), ALPNProtocols: ['http/1.1'] });
  const proxy = new RecordingProxy();
  const proxyPort = await proxy.start(port);
  try {
    // The server only echoes, so curl reports an HTTP error after the handshake; the
    // handshake is what we record.
    await run('curl', ['-sSk', '--max-time', '3', '-o', '/dev/null', '--resolve', `curl.example.test:${proxyPort}:127.0.0.1`, `https://curl.example.test:${proxyPort}/`]);
    await sleep(150);
  } finally {
    await proxy.stop();
    server.close();
  }
  const curlVersion = execFileSync('curl', ['-V']).toString().split('\n')[0];
  return {
    scenario: 'curl-https',
    description: 'curl -k https://curl.example.test/ (SNI curl.example.test, ALPN h2,http/1.1) -> node tls server choosing http/1.1.',
    recordedWith: curlVersion,
    connections: proxy.connections,
  };
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const only = new Set(process.argv.slice(2));
  const want = (name: string): boolean => only.size === 0 || only.has(name);
  if (want('h2c')) save(H2_DIR, await recordH2cNode());
  if (want('curl-h2c')) save(H2_DIR, await recordH2cCurl());
  if (want('grpc')) save(H2_DIR, await recordGrpc());
  if (want('grpc-large')) save(H2_DIR, await recordGrpcLarge());
  if (want('goaway')) save(H2_DIR, await recordGoaway());

  const tlsWanted = ['tls13', 'tls12', 'no-sni', 'alpn-mismatch', 'openssl', 'curl-https'].some(want);
  if (!tlsWanted) return;
  const certs = makeCerts();
  try {
    const ec = { key: readFileSync(certs.ecKey), cert: readFileSync(certs.ecCert) };
    const rsa = { key: readFileSync(certs.rsaKey), cert: readFileSync(certs.rsaCert) };
    if (want('tls13')) {
      save(TLS_DIR, await recordNodeTls('node-tls13', 'node tls client (SNI api.example.test, ALPN h2,http/1.1) -> node tls server (ALPN h2,http/1.1), TLS 1.3, then one line of application data.',
        { ...ec, ALPNProtocols: ['h2', 'http/1.1'] }, { servername: 'api.example.test', ALPNProtocols: ['h2', 'http/1.1'] }, true));
    }
    if (want('tls12')) {
      save(TLS_DIR, await recordNodeTls('node-tls12', 'node tls client limited to TLS 1.2 (SNI legacy.example.test, ALPN http/1.1) -> node tls server with an RSA certificate, ECDHE-RSA-AES128-GCM-SHA256.',
        { ...rsa, ALPNProtocols: ['http/1.1'], ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' }, { servername: 'legacy.example.test', ALPNProtocols: ['http/1.1'], maxVersion: 'TLSv1.2' }, true));
    }
    if (want('no-sni')) {
      save(TLS_DIR, await recordNodeTls('node-tls13-no-sni', 'node tls client connecting by IP (no SNI, no ALPN) -> node tls server, TLS 1.3.',
        { ...ec }, {}, true));
    }
    if (want('alpn-mismatch')) {
      save(TLS_DIR, await recordNodeTls('node-tls13-alpn-mismatch', 'node tls client offering only ALPN "spdy/3" -> node tls server accepting only h2: the server answers the ClientHello with a fatal no_application_protocol alert.',
        { ...ec, ALPNProtocols: ['h2'] }, { servername: 'api.example.test', ALPNProtocols: ['spdy/3'] }, false));
    }
    if (want('openssl')) save(TLS_DIR, await recordOpenssl(certs));
    if (want('curl-https')) save(TLS_DIR, await recordCurlTls(certs));
  } finally {
    rmSync(certs.dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`recording fixtures failed: ${error instanceof Error ? error.message : String(error)}`);
    console.error('Check that openssl and curl are installed (apt-get install -y openssl curl) and that 127.0.0.1 is usable.');
    process.exit(1);
  },
);
