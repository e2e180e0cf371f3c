import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DnsTransactionEvent, HttpTransactionEvent, NetworkEvent, PayloadEvent } from '../../../core/events';
import { L7Engine, MAX_SNIFF_CHUNKS, type L7EngineOptions } from '../../../processors/l7/engine';
import { ALL_MODULES } from '../../../processors/l7/modules';
import type { ProtocolModule } from '../../../processors/l7/protocol';
import { A, dnsMessage, withLengthPrefix } from './dns/build';
import { CLIENT, SERVER, closed, payload, type Endpoint } from './payloads';

const BASE: L7EngineOptions = {
  captureQuery: false,
  transactionTimeoutMs: 5000,
  maxBufferBytes: 16384,
  protocols: ['http1', 'http2', 'dns', 'tls'],
  httpPorts: [80, 8080, 3000],
  dnsPort: 53,
  httpsPorts: [443],
  grpcPorts: [50051],
  portMode: 'hint',
  maxSessions: 1000,
  sessionIdleTimeoutMs: 60_000,
  forwardPayload: false,
  dropSelfTraffic: true,
};

function engine(options: Partial<L7EngineOptions> = {}, modules: readonly ProtocolModule[] = ALL_MODULES): L7Engine {
  return new L7Engine({ ...BASE, ...options }, modules);
}

const DNS_SERVER: Endpoint = { pid: 3003, comm: 'dnsmasq', address: '127.0.0.1', port: 15353, cookie: 33 };
const DNS_CLIENT: Endpoint = { pid: 4004, comm: 'dig', address: '127.0.0.1', port: 45000, cookie: 44 };

const get = (path: string, t: number, self = CLIENT, peer = SERVER): PayloadEvent => payload(self, peer, self === SERVER ? 'recv' : 'send', `GET ${path} HTTP/1.1\r\nHost: h\r\n\r\n`, t);
const ok = (t: number, self = CLIENT, peer = SERVER): PayloadEvent => payload(self, peer, self === SERVER ? 'send' : 'recv', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', t);

function ofKind<K extends NetworkEvent['kind']>(events: NetworkEvent[], kind: K): Extract<NetworkEvent, { kind: K }>[] {
  return events.filter((e): e is Extract<NetworkEvent, { kind: K }> => e.kind === kind);
}

describe('l7 engine', () => {
  it('recognises HTTP and DNS on unprivileged ports by content, and consumes payload', () => {
    const e = engine();
    const q = dnsMessage({ id: 5, questions: [{ name: 'test.example', type: A }] });
    const r = dnsMessage({ id: 5, response: true, questions: [{ name: 'test.example', type: A }], answers: [{ name: 'test.example', type: A, rdata: [127, 0, 0, 1] }] });
    const out = e.process([
      get('/a', 10),
      payload(DNS_CLIENT, DNS_SERVER, 'send', q, 11, { transport: 'udp' }),
      ok(20),
      payload(DNS_CLIENT, DNS_SERVER, 'recv', r, 21, { transport: 'udp' }),
    ]);
    assert.equal(ofKind(out, 'payload').length, 0);
    assert.equal(ofKind(out, 'l7.http').length, 1);
    const [dns] = ofKind(out, 'l7.dns');
    assert.equal(dns.questionName, 'test.example');
    assert.equal(dns.process.comm, 'dig');
    assert.equal(e.counters.detected_http1, 1);
    assert.equal(e.counters.detected_dns, 1);
    assert.equal(e.counters.transactions_http, 1);
    assert.equal(e.counters.transactions_dns, 1);
    assert.equal(e.counters.payload_consumed, 4);
  });

  it('reports both ends of a loopback connection, each as its own process and side', () => {
    const e = engine();
    const out = e.process([get('/both', 1), get('/both', 2, SERVER, CLIENT), ok(3, SERVER, CLIENT), ok(4)]);
    const txs = ofKind(out, 'l7.http');
    assert.deepEqual(txs.map((t) => [t.side, t.process.pid, t.socketCookie]).sort(), [
      ['client', CLIENT.pid, CLIENT.cookie],
      ['server', SERVER.pid, SERVER.cookie],
    ]);
  });

  it('keys connections by pid and tuple when the socket cookie is unknown', () => {
    const e = engine();
    const c = { ...CLIENT, cookie: 0 };
    const s = { ...SERVER, cookie: 0 };
    const out = e.process([get('/nocookie', 1, c, s), get('/nocookie', 2, s, c), ok(3, s, c), ok(4, c, s)]);
    assert.equal(ofKind(out, 'l7.http').length, 2);
    assert.equal(e.sessionCount, 2);
  });

  it('forwards payload when asked, keeping the batch order', () => {
    const e = engine({ forwardPayload: true });
    const events = [get('/f', 1), ok(2)];
    const out = e.process(events);
    assert.deepEqual(out.map((x) => x.kind), ['payload', 'payload', 'l7.http']);
    assert.equal(out[0], events[0]);
  });

  it('passes other events through and emits a closed connection\'s transactions before its close', () => {
    const e = engine();
    const close = closed(CLIENT, SERVER, 100);
    const out = e.process([get('/pending', 1), close]);
    assert.deepEqual(out.map((x) => x.kind), ['l7.http', 'connection.closed']);
    assert.equal((out[0] as HttpTransactionEvent).errorType, 'connection_closed');
    assert.equal(out[1], close);
    assert.equal(e.sessionCount, 0);
  });

  it('restrict mode looks only at configured ports', () => {
    const e = engine({ portMode: 'restrict', httpPorts: [80] });
    assert.equal(ofKind(e.process([get('/x', 1), ok(2)]), 'l7.http').length, 0, '18080 is not an http port');
    assert.equal(e.sessionCount, 0, 'connections on other ports are not even tracked');
    const on80 = { ...SERVER, port: 80, cookie: 80 };
    const client = { ...CLIENT, cookie: 81 };
    assert.equal(ofKind(e.process([get('/x', 3, client, on80), ok(4, client, on80)]), 'l7.http').length, 1);
  });

  it('gives up sniffing an unknown stream, except on a hinted port', () => {
    const junk = (self: Endpoint, peer: Endpoint, t: number): PayloadEvent => payload(self, peer, 'send', '\x01\x02 not a protocol we know, just bytes', t);
    const e = engine();
    for (let i = 0; i < MAX_SNIFF_CHUNKS; i++) e.process([junk(CLIENT, SERVER, i)]);
    assert.equal(ofKind(e.process([get('/late', 100), ok(101)]), 'l7.http').length, 0, 'opaque after too many unknown reads');

    const hinted = { ...SERVER, port: 8080 };
    const client = { ...CLIENT, cookie: 99 };
    for (let i = 0; i < MAX_SNIFF_CHUNKS * 2; i++) e.process([junk(client, hinted, i)]);
    assert.equal(ofKind(e.process([get('/late', 200, client, hinted), ok(201, client, hinted)]), 'l7.http').length, 1);
  });

  it('recognises streams whose first reads are tiny (a DNS length prefix alone, a split request line)', () => {
    const e = engine();
    const q = withLengthPrefix(dnsMessage({ id: 77, questions: [{ name: 'split.test', type: A }] }));
    const r = withLengthPrefix(dnsMessage({ id: 77, response: true, questions: [{ name: 'split.test', type: A }], answers: [{ name: 'split.test', type: A, rdata: [1, 2, 3, 4] }] }));
    const out = e.process([
      payload(DNS_CLIENT, DNS_SERVER, 'send', q.subarray(0, 2), 1),
      payload(DNS_CLIENT, DNS_SERVER, 'send', q.subarray(2), 2),
      payload(DNS_CLIENT, DNS_SERVER, 'recv', r.subarray(0, 2), 3),
      payload(DNS_CLIENT, DNS_SERVER, 'recv', r.subarray(2), 4),
      payload(CLIENT, SERVER, 'send', 'GE', 5),
      payload(CLIENT, SERVER, 'send', 'T /split HTTP/1.1\r\n\r\n', 6),
      ok(7),
    ]);
    assert.equal((ofKind(out, 'l7.dns')[0] as DnsTransactionEvent).answers[0].data, '1.2.3.4');
    assert.equal(ofKind(out, 'l7.http')[0].path, '/split');
  });

  it('evicts the least recently used connection beyond max_sessions', () => {
    const e = engine({ maxSessions: 2 });
    const c = (n: number): Endpoint => ({ ...CLIENT, port: 41000 + n, cookie: 500 + n });
    e.process([get('/one', 1, c(1)), get('/two', 2, c(2))]);
    e.process([get('/one-again', 3, c(1))]); // c(1) is now the most recent
    const out = e.process([get('/three', 4, c(3))]);
    const [evicted] = ofKind(out, 'l7.http');
    assert.equal(evicted.path, '/two');
    assert.equal(evicted.errorType, 'session_evicted');
    assert.equal(e.sessionCount, 2);
    assert.equal(e.counters.sessions_evicted, 1);
  });

  it('times out transactions and forgets idle connections on tick', () => {
    const e = engine({ transactionTimeoutMs: 1000, sessionIdleTimeoutMs: 10_000 });
    e.process([get('/slow', 1_000_000)]);
    assert.deepEqual(e.tick(1_500_000), []);
    const [timedOut] = e.tick(2_000_001) as HttpTransactionEvent[];
    assert.equal(timedOut.errorType, 'timeout');
    assert.equal(e.counters.transactions_http, 1);
    assert.equal(e.sessionCount, 1);
    e.tick(11_000_001);
    assert.equal(e.sessionCount, 0);
    assert.equal(e.counters.sessions_idle_closed, 1);
  });

  it('flushes everything on shutdown', () => {
    const e = engine();
    e.process([get('/a', 1), get('/b', 2, { ...CLIENT, cookie: 7 })]);
    const out = e.flush(10);
    assert.equal(out.length, 2);
    assert.equal(e.sessionCount, 0);
  });

  it('survives a protocol module that throws, losing only that connection', () => {
    const broken: ProtocolModule = {
      name: 'tls',
      detect: (data) => data[0] === 0x16,
      createSession: () => ({
        malformed: 0,
        onPayload: () => {
          throw new Error('boom');
        },
        expire: () => undefined,
        close: () => undefined,
      }),
    };
    const errors: string[] = [];
    const e = new L7Engine({ ...BASE }, [broken, ...ALL_MODULES], (m) => errors.push(m));
    const out = e.process([payload({ ...CLIENT, cookie: 1 }, SERVER, 'send', '\x16\x03\x01 hello', 1), get('/fine', 2), ok(3)]);
    assert.equal(ofKind(out, 'l7.http').length, 1);
    assert.equal(e.counters.session_errors, 1);
    assert.match(errors[0], /tls on connection 1: boom/);
  });

  it('re-detects after a session gives the stream up (protocol upgrade)', () => {
    const e = engine();
    const out = e.process([
      payload(CLIENT, SERVER, 'send', 'GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n', 1),
      payload(CLIENT, SERVER, 'recv', 'HTTP/1.1 101 Switching Protocols\r\n\r\n', 2),
      payload(CLIENT, SERVER, 'send', '\x81\x85frame', 3),
    ]);
    assert.equal(ofKind(out, 'l7.http')[0].statusCode, 101);
    assert.equal(e.counters.detected_http1, 1);
    assert.equal(e.sessionCount, 1);
  });

  it('counts malformed input per protocol', () => {
    const e = engine();
    e.process([get('/a', 1), payload(CLIENT, SERVER, 'recv', 'HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n', 2)]);
    assert.equal(e.counters.malformed_http1, 1);
  });

  it('looks only for DNS in UDP datagrams', () => {
    const e = engine();
    e.process([payload(DNS_CLIENT, DNS_SERVER, 'send', 'GET / HTTP/1.1\r\nHost: h\r\n\r\n', 1, { transport: 'udp' })]);
    assert.equal(e.counters.detected_http1, 0);
  });

  it('runs only the enabled protocols', () => {
    const e = engine({ protocols: ['dns'] });
    assert.deepEqual(e.activeProtocols, ['dns']);
    assert.equal(ofKind(e.process([get('/a', 1), ok(2)]), 'l7.http').length, 0);
  });
});

interface AnyFixture {
  connections: Array<{ transport?: 'tcp' | 'udp'; chunks: Array<{ dir: 'c2s' | 's2c'; t?: number; tUs?: number; data: string }> }>;
}

/** Every connection of a recorded fixture (any of the l7 recorders' formats), client side, on `port`. */
function fixtureEvents(path: string, port: number): PayloadEvent[] {
  const fixture = JSON.parse(readFileSync(join(__dirname, '../../fixtures/l7', `${path}.json`), 'utf8')) as AnyFixture;
  const out: PayloadEvent[] = [];
  fixture.connections.forEach((conn, i) => {
    const self: Endpoint = { ...CLIENT, port: 42000 + i, cookie: 9000 + port + i };
    const peer: Endpoint = { ...SERVER, port };
    for (const chunk of conn.chunks) {
      const data = new Uint8Array(Buffer.from(chunk.data, 'base64'));
      out.push(payload(self, peer, chunk.dir === 'c2s' ? 'send' : 'recv', data, 1_000_000 + (chunk.t ?? chunk.tUs ?? 0), { transport: conn.transport ?? 'tcp' }));
    }
  });
  return out.sort((a, b) => a.timeUs - b.timeUs);
}

describe('l7 engine with every protocol module', () => {
  it('hands HTTP/2 and TLS streams on arbitrary ports to their modules, next to HTTP/1 and DNS', () => {
    const e = engine();
    assert.deepEqual(e.activeProtocols, ['tls', 'http2', 'http1', 'dns']);
    const out = e.process([
      ...fixtureEvents('http2/h2c-curl', 18081),
      ...fixtureEvents('tls/curl-https', 18443),
      ...fixtureEvents('http1/curl-keepalive', 18080),
      ...fixtureEvents('dns/tcp-keepopen', 15353),
    ]);
    out.push(...e.flush(9e15));
    assert.ok(ofKind(out, 'l7.grpc').length >= 2, 'h2c requests');
    assert.equal(ofKind(out, 'l7.tls').length, 1);
    assert.equal(ofKind(out, 'l7.tls')[0].serverName, 'curl.example.test');
    assert.equal(ofKind(out, 'l7.http').length, 4);
    assert.equal(ofKind(out, 'l7.dns').length, 3);
    for (const name of ['http1', 'http2', 'dns', 'tls']) assert.ok(e.counters[`detected_${name}`] >= 1, name);
  });
});
