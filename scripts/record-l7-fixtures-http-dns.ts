/**
 * Re-records the HTTP/1.x and DNS byte fixtures under test/fixtures/l7/{http1,dns}/ from real
 * clients and servers on loopback:
 *
 *   HTTP/1.x: curl and node's http client against a node http server (port 18080)
 *   DNS:      dig (Debian dnsutils) against dnsmasq (Debian dnsmasq, port 15353), UDP and TCP
 *
 * The bytes are taken by a recording relay between client and server (TCP: one read = one
 * chunk, as a recv syscall sees it; UDP: one datagram = one chunk), so no eBPF is needed to
 * re-record. Run as: `npx tsx scripts/record-l7-fixtures-http-dns.ts` (needs curl, dig and
 * dnsmasq on PATH; dnsmasq must be allowed to bind 127.0.0.1:15353).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

const ROOT = join(__dirname, '..');
const HTTP_DIR = join(ROOT, 'test/fixtures/l7/http1');
const DNS_DIR = join(ROOT, 'test/fixtures/l7/dns');
const HTTP_PORT = 18080;
const HTTP_RELAY_PORT = 18081;
const DNS_PORT = 15353;
const DNS_UDP_RELAY_PORT = 15354;
const DNS_TCP_RELAY_PORT = 15355;

const run = promisify(execFile);

/** One read (TCP) or datagram (UDP), from the client's point of view. */
export interface FixtureChunk {
  /** c2s: the client wrote it (the server read it); s2c: the other way. */
  dir: 'c2s' | 's2c';
  /** Microseconds since the first chunk of the fixture. */
  t: number;
  /** base64 */
  data: string;
}

export interface FixtureConnection {
  transport: 'tcp' | 'udp';
  chunks: FixtureChunk[];
}

export interface Fixture {
  description: string;
  client: string;
  server: string;
  connections: FixtureConnection[];
}

class Recorder {
  readonly connections: FixtureConnection[] = [];
  private origin: bigint | undefined;

  connection(transport: 'tcp' | 'udp'): FixtureConnection {
    const conn: FixtureConnection = { transport, chunks: [] };
    this.connections.push(conn);
    return conn;
  }

  record(conn: FixtureConnection, dir: 'c2s' | 's2c', data: Buffer): void {
    const now = process.hrtime.bigint();
    this.origin ??= now;
    conn.chunks.push({ dir, t: Number((now - this.origin) / 1000n), data: data.toString('base64') });
  }
}

/** A TCP relay that records every read in both directions, one FixtureConnection per accept. */
function tcpRelay(listenPort: number, targetPort: number, recorder: () => Recorder): Promise<net.Server> {
  const server = net.createServer((client) => {
    const conn = recorder().connection('tcp');
    const upstream = net.connect(targetPort, '127.0.0.1');
    client.on('data', (d) => {
      recorder().record(conn, 'c2s', d);
      upstream.write(d);
    });
    upstream.on('data', (d) => {
      recorder().record(conn, 's2c', d);
      client.write(d);
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPort, '127.0.0.1', () => resolve(server));
  });
}

/** A UDP relay: each client address gets its own upstream socket and FixtureConnection. */
function udpRelay(listenPort: number, targetPort: number, recorder: () => Recorder): Promise<UdpSocket> {
  const front = createSocket('udp4');
  const peers = new Map<string, { upstream: UdpSocket; conn: FixtureConnection }>();
  front.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
    const id = `${rinfo.address}:${rinfo.port}`;
    let peer = peers.get(id);
    if (!peer) {
      const upstream = createSocket('udp4');
      const conn = recorder().connection('udp');
      upstream.on('message', (reply: Buffer) => {
        recorder().record(conn, 's2c', reply);
        front.send(reply, rinfo.port, rinfo.address);
      });
      peer = { upstream, conn };
      peers.set(id, peer);
    }
    recorder().record(peer.conn, 'c2s', msg);
    peer.upstream.send(msg, targetPort, '127.0.0.1');
  });
  return new Promise((resolve, reject) => {
    front.once('error', reject);
    front.bind(listenPort, '127.0.0.1', () => resolve(front));
  });
}

function startHttpServer(): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    let body = 0;
    req.on('data', (d: Buffer) => (body += d.length));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      switch (url.pathname) {
        case '/hello':
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end('hello world\n');
          break;
        case '/chunked':
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('first part\n');
          setTimeout(() => {
            res.write('second part, a little longer\n');
            res.end('end\n');
          }, 5);
          break;
        case '/echo':
          res.writeHead(201, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ received: body }));
          break;
        case '/big':
          res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': 100_000 });
          res.end(Buffer.alloc(100_000, 0x61));
          break;
        case '/empty':
          res.writeHead(204);
          res.end();
          break;
        default:
          res.writeHead(404, { 'content-type': 'text/plain' });
          res.end('not found\n');
      }
    });
  });
  return new Promise((resolve) => server.listen(HTTP_PORT, '127.0.0.1', () => resolve(server)));
}

async function toolVersion(cmd: string, args: string[]): Promise<string> {
  const { stdout, stderr } = await run(cmd, args);
  return (stdout || stderr).split('\n').find((l) => l.trim().length > 0)?.trim() ?? cmd;
}

function save(dir: string, name: string, fixture: Fixture): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), JSON.stringify(fixture, null, 2) + '\n');
  const chunks = fixture.connections.reduce((n, c) => n + c.chunks.length, 0);
  console.log(`wrote ${name}.json (${fixture.connections.length} connections, ${chunks} chunks)`);
}

const settle = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function recordHttp(): Promise<void> {
  let recorder = new Recorder();
  const server = await startHttpServer();
  const relay = await tcpRelay(HTTP_RELAY_PORT, HTTP_PORT, () => recorder);
  const base = `http://127.0.0.1:${HTTP_RELAY_PORT}`;
  const curl = await toolVersion('curl', ['--version']);
  const serverName = `node ${process.version} http.Server`;

  const scenarios: Array<{ name: string; description: string; client: string; action: () => Promise<unknown> }> = [
    {
      name: 'curl-keepalive',
      description: 'curl: four requests on one keep-alive connection (content-length, chunked, 404, 204)',
      client: curl,
      action: () => run('curl', ['-s', '-o', '/dev/null', `${base}/hello`, '-o', '/dev/null', `${base}/chunked`, '-o', '/dev/null', `${base}/missing`, '-o', '/dev/null', `${base}/empty`]),
    },
    {
      name: 'curl-post-secrets',
      description: 'curl: POST with a body, a query string, traceparent, Authorization and Cookie headers',
      client: curl,
      action: () =>
        run('curl', [
          '-s', '-o', '/dev/null', '-X', 'POST', '--data-binary', 'name=observer&secret=hunter2',
          '-H', 'traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
          '-H', 'Authorization: Bearer very-secret-token', '-H', 'Cookie: session=also-secret',
          `${base}/echo?user=alice&token=abc123`,
        ]),
    },
    {
      name: 'curl-head-big',
      description: 'curl: HEAD then GET of a 100000-byte body (larger than any capture size)',
      client: curl,
      action: () => run('curl', ['-s', '-o', '/dev/null', '-I', `${base}/big`]).then(() => run('curl', ['-s', '-o', '/dev/null', `${base}/big`])),
    },
    {
      name: 'node-client-chunked-upload',
      description: 'node http client: keep-alive agent, a chunked request body (no content-length), then a GET',
      client: `node ${process.version} http.request`,
      action: async () => {
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        await new Promise<void>((resolve, reject) => {
          const req = http.request(`${base}/echo`, { method: 'PUT', agent }, (res) => {
            res.resume();
            res.on('end', resolve);
          });
          req.on('error', reject);
          req.write('part one;');
          req.write('part two;');
          req.end('part three');
        });
        await new Promise<void>((resolve, reject) => {
          http.get(`${base}/hello`, { agent, headers: { 'user-agent': 'fixture-recorder/1' } }, (res) => {
            res.resume();
            res.on('end', resolve);
          }).on('error', reject);
        });
        agent.destroy();
      },
    },
    {
      name: 'pipelined',
      description: 'raw socket: three pipelined GETs written at once; node answers in order',
      client: 'node net.Socket (hand-written requests)',
      action: () =>
        new Promise<void>((resolve, reject) => {
          const sock = net.connect(HTTP_RELAY_PORT, '127.0.0.1', () => {
            sock.write(
              'GET /hello HTTP/1.1\r\nHost: pipelined.test\r\n\r\n' +
                'GET /missing HTTP/1.1\r\nHost: pipelined.test\r\n\r\n' +
                'GET /hello?again=1 HTTP/1.1\r\nHost: pipelined.test\r\nConnection: close\r\n\r\n',
            );
          });
          sock.on('data', () => undefined);
          sock.on('end', resolve);
          sock.on('error', reject);
        }),
    },
  ];

  for (const s of scenarios) {
    recorder = new Recorder();
    await s.action();
    await settle(100);
    save(HTTP_DIR, s.name, { description: s.description, client: s.client, server: serverName, connections: recorder.connections });
  }
  relay.close();
  server.close();
  server.closeAllConnections();
}

async function startDnsmasq(): Promise<ChildProcess> {
  const child = spawn(
    'dnsmasq',
    [
      `--port=${DNS_PORT}`, '--no-resolv', '--no-hosts', '--no-daemon', '--listen-address=127.0.0.1', '--bind-interfaces', '--pid-file=',
      '--address=/test.example/127.0.0.1', '--address=/test.example/::1', '--address=/nx.example/',
      '--cname=alias.other.example,test.example', '--txt-record=txt.other.example,v=spf1 -all,second string',
      '--mx-host=mx.other.example,mail.test.example,10', '--srv-host=_http._tcp.other.example,web.test.example,8080,1,5',
      '--ptr-record=1.0.0.127.in-addr.arpa,test.example',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  for (let i = 0; i < 50; i++) {
    await settle(100);
    if (stderr.includes('started')) return child;
    if (child.exitCode !== null) break;
  }
  child.kill();
  throw new Error(`dnsmasq did not start on port ${DNS_PORT}: ${stderr.trim() || 'no output'} (is another DNS server on that port?)`);
}

async function recordDns(): Promise<void> {
  let recorder = new Recorder();
  const dnsmasq = await startDnsmasq();
  const udp = await udpRelay(DNS_UDP_RELAY_PORT, DNS_PORT, () => recorder);
  const tcp = await tcpRelay(DNS_TCP_RELAY_PORT, DNS_PORT, () => recorder);
  const dig = await toolVersion('dig', ['-v']);
  const dnsmasqVersion = await toolVersion('dnsmasq', ['--version']);
  const digAt = (port: number, ...args: string[]) => run('dig', ['@127.0.0.1', '-p', String(port), '+tries=1', '+time=2', ...args]);

  const scenarios: Array<{ name: string; description: string; action: () => Promise<unknown> }> = [
    { name: 'udp-a', description: 'dig A over UDP', action: () => digAt(DNS_UDP_RELAY_PORT, 'test.example', 'A') },
    { name: 'udp-aaaa', description: 'dig AAAA over UDP', action: () => digAt(DNS_UDP_RELAY_PORT, 'test.example', 'AAAA') },
    { name: 'udp-cname', description: 'dig A for a CNAME over UDP', action: () => digAt(DNS_UDP_RELAY_PORT, 'alias.other.example', 'A') },
    { name: 'udp-txt', description: 'dig TXT (two strings) over UDP', action: () => digAt(DNS_UDP_RELAY_PORT, 'txt.other.example', 'TXT') },
    { name: 'udp-mx', description: 'dig MX over UDP', action: () => digAt(DNS_UDP_RELAY_PORT, 'mx.other.example', 'MX') },
    { name: 'udp-srv', description: 'dig SRV over UDP', action: () => digAt(DNS_UDP_RELAY_PORT, '_http._tcp.other.example', 'SRV') },
    { name: 'udp-ptr', description: 'dig -x (PTR) over UDP', action: () => digAt(DNS_UDP_RELAY_PORT, '-x', '127.0.0.1') },
    { name: 'udp-nxdomain', description: 'dig A for a name dnsmasq answers NXDOMAIN', action: () => digAt(DNS_UDP_RELAY_PORT, 'nope.nx.example', 'A') },
    { name: 'udp-refused', description: 'dig A dnsmasq cannot forward (no upstream): REFUSED', action: () => digAt(DNS_UDP_RELAY_PORT, 'unknown.other.example', 'A') },
    { name: 'tcp-a', description: 'dig +tcp A', action: () => digAt(DNS_TCP_RELAY_PORT, '+tcp', 'test.example', 'A') },
    {
      name: 'tcp-keepopen',
      description: 'dig +tcp +keepopen: three queries on one TCP connection',
      action: () => digAt(DNS_TCP_RELAY_PORT, '+tcp', '+keepopen', 'test.example', 'A', 'txt.other.example', 'TXT', 'mx.other.example', 'MX'),
    },
  ];
  try {
    for (const s of scenarios) {
      recorder = new Recorder();
      await s.action();
      await settle(100);
      save(DNS_DIR, s.name, { description: s.description, client: dig, server: dnsmasqVersion, connections: recorder.connections });
    }
  } finally {
    udp.close();
    tcp.close();
    dnsmasq.kill();
  }
}

async function main(): Promise<void> {
  await recordHttp();
  await recordDns();
}

main().catch((error: Error) => {
  console.error(`recording l7 fixtures failed: ${error.message}`);
  process.exitCode = 1;
});
