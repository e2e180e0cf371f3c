import assert from 'node:assert/strict';
import type { DnsTransactionEvent, L7Event, PayloadEvent } from '../../../../core/events';
import { dnsProtocol } from '../../../../processors/l7/dns';
import type { L7Options } from '../../../../processors/l7/protocol';
import { loadFixture, replay } from '../fixtures';
import { CLIENT, SERVER, SessionDriver, payload, type Endpoint } from '../payloads';
import { A, dnsMessage, withLengthPrefix } from './build';

const OPTIONS: L7Options = { captureQuery: false, transactionTimeoutMs: 5000, maxBufferBytes: 16384 };
const RESOLVER: Endpoint = { pid: 3003, comm: 'dnsmasq', address: '127.0.0.1', port: 15353, cookie: 33 };

function driver(options: Partial<L7Options> = {}): SessionDriver {
  return new SessionDriver(dnsProtocol.createSession({ ...OPTIONS, ...options }));
}

function dns(events: L7Event[]): DnsTransactionEvent[] {
  return events.map((e) => {
    assert.equal(e.kind, 'l7.dns');
    return e as DnsTransactionEvent;
  });
}

const query = (id: number, name = 'svc.test', type = A): Uint8Array => dnsMessage({ id, questions: [{ name, type }] });
const answer = (id: number, name = 'svc.test', ip = [10, 0, 0, 1], rcode = 0): Uint8Array =>
  dnsMessage({ id, response: true, rcode, questions: [{ name, type: A }], answers: rcode === 0 ? [{ name, type: A, ttl: 30, rdata: ip }] : [] });

const udp = (self: Endpoint, peer: Endpoint, dir: 'send' | 'recv', data: Uint8Array, t: number, captureLimit?: number): PayloadEvent =>
  payload(self, peer, dir, data, t, { transport: 'udp', captureLimit });
const tcp = (dir: 'send' | 'recv', data: Uint8Array, t: number, originalLength?: number): PayloadEvent =>
  payload(CLIENT, RESOLVER, dir, data, t, { originalLength });

describe('l7 dns session', () => {
  it('correlates a UDP query with its response', () => {
    const d = driver();
    d.feed(udp(CLIENT, RESOLVER, 'send', query(0x1234), 1000));
    d.feed(udp(CLIENT, RESOLVER, 'recv', answer(0x1234), 1450));
    const [tx] = dns(d.out);
    assert.equal(tx.side, 'client');
    assert.equal(tx.transport, 'udp');
    assert.equal(tx.process.pid, CLIENT.pid);
    assert.equal(tx.transactionId, 0x1234);
    assert.equal(tx.questionName, 'svc.test');
    assert.equal(tx.questionType, 'A');
    assert.equal(tx.responseCode, 'NOERROR');
    assert.deepEqual(tx.answers, [{ name: 'svc.test', type: 'A', ttl: 30, data: '10.0.0.1' }]);
    assert.equal(tx.startUs, 1000);
    assert.equal(tx.endUs, 1450);
  });

  it('keeps clients of one server socket apart by peer address and port', () => {
    const d = driver();
    const a: Endpoint = { ...CLIENT, address: '10.0.0.5', port: 5000 };
    const b: Endpoint = { ...CLIENT, address: '10.0.0.6', port: 5000 };
    const c: Endpoint = { ...CLIENT, address: '10.0.0.5', port: 5001 };
    // Same transaction id from three clients.
    d.feed(udp(RESOLVER, a, 'recv', query(7, 'a.test'), 1), udp(RESOLVER, b, 'recv', query(7, 'b.test'), 2), udp(RESOLVER, c, 'recv', query(7, 'c.test'), 3));
    d.feed(udp(RESOLVER, b, 'send', answer(7, 'b.test'), 10), udp(RESOLVER, c, 'send', answer(7, 'c.test'), 11), udp(RESOLVER, a, 'send', answer(7, 'a.test'), 12));
    const txs = dns(d.out);
    assert.deepEqual(txs.map((t) => [t.questionName, t.remoteAddress, t.remotePort, t.side, t.endUs - t.startUs]), [
      ['b.test', '10.0.0.6', 5000, 'server', 8],
      ['c.test', '10.0.0.5', 5001, 'server', 8],
      ['a.test', '10.0.0.5', 5000, 'server', 11],
    ]);
    for (const t of txs) assert.equal(t.process.pid, RESOLVER.pid);
  });

  it('does not match a response for another question or from the same direction', () => {
    const d = driver();
    d.feed(udp(CLIENT, RESOLVER, 'send', query(9, 'asked.test'), 1));
    d.feed(udp(CLIENT, RESOLVER, 'recv', answer(9, 'other.test'), 2));
    d.feed(udp(CLIENT, RESOLVER, 'send', answer(9, 'asked.test'), 3));
    assert.equal(d.out.length, 0);
    d.feed(udp(CLIENT, RESOLVER, 'recv', answer(9, 'ASKED.test'), 4));
    assert.equal(dns(d.out)[0].endUs, 4, 'DNS names compare case-insensitively');
  });

  it('times a retransmitted query from its first attempt', () => {
    const d = driver();
    d.feed(udp(CLIENT, RESOLVER, 'send', query(11), 100), udp(CLIENT, RESOLVER, 'send', query(11), 1100), udp(CLIENT, RESOLVER, 'recv', answer(11), 1200));
    const [tx] = dns(d.out);
    assert.equal(d.out.length, 1);
    assert.equal(tx.startUs, 100);
  });

  it('times out unanswered queries and ignores their late responses', () => {
    const d = driver({ transactionTimeoutMs: 2000 });
    d.feed(udp(CLIENT, RESOLVER, 'send', query(12), 1_000_000));
    d.session.expire(2_500_000, d.emit);
    assert.equal(d.out.length, 0);
    d.session.expire(3_000_001, d.emit);
    const [tx] = dns(d.out);
    assert.equal(tx.errorType, 'timeout');
    assert.equal(tx.responseCode, '');
    assert.deepEqual(tx.answers, []);
    assert.equal(tx.endUs, 3_000_000);
    d.feed(udp(CLIENT, RESOLVER, 'recv', answer(12), 3_500_000));
    assert.equal(d.out.length, 1);
  });

  it('flushes pending queries when the connection closes', () => {
    const d = driver();
    d.feed(tcp('send', withLengthPrefix(query(13)), 5));
    d.session.close(99, d.emit);
    assert.equal(dns(d.out)[0].errorType, 'connection_closed');
    assert.equal(dns(d.out)[0].endUs, 99);
  });

  it('reassembles DNS over TCP split at every byte and coalesced in one read', () => {
    const q = withLengthPrefix(query(21, 'tcp.test'));
    const r = withLengthPrefix(answer(21, 'tcp.test', [192, 0, 2, 7]));
    for (let cut = 1; cut < r.length; cut++) {
      const d = driver();
      if (cut < q.length) d.feed(tcp('send', q.subarray(0, cut), 1), tcp('send', q.subarray(cut), 2));
      else d.feed(tcp('send', q, 1));
      d.feed(tcp('recv', r.subarray(0, cut), 3), tcp('recv', r.subarray(cut), 4));
      const [tx] = dns(d.out);
      assert.equal(d.out.length, 1, `cut at ${cut}`);
      assert.equal(tx.answers[0].data, '192.0.2.7');
      assert.equal(tx.transport, 'tcp');
      assert.equal(d.session.malformed, 0);
    }
    const d = driver();
    const qs = [withLengthPrefix(query(1, 'one.test')), withLengthPrefix(query(2, 'two.test'))];
    d.feed(tcp('send', Uint8Array.from([...qs[0], ...qs[1]]), 1));
    d.feed(tcp('recv', Uint8Array.from([...withLengthPrefix(answer(2, 'two.test')), ...withLengthPrefix(answer(1, 'one.test'))]), 2));
    assert.deepEqual(dns(d.out).map((t) => t.questionName), ['two.test', 'one.test']);
  });

  it('skips an uncaptured TCP message tail by its length prefix', () => {
    const d = driver();
    const big = withLengthPrefix(
      dnsMessage({ id: 30, response: true, questions: [{ name: 'big.test', type: A }], answers: Array.from({ length: 200 }, (_, i) => ({ name: 'big.test', type: A, rdata: [10, 1, i >> 8, i & 0xff] })) }),
    );
    d.feed(tcp('send', withLengthPrefix(query(30, 'big.test')), 1));
    d.feed(tcp('recv', big.subarray(0, 300), 2, big.length)); // one read, first 300 bytes captured
    const [tx] = dns(d.out);
    assert.equal(tx.responseCode, 'NOERROR');
    assert.ok(tx.answers.length > 5 && tx.answers.length <= 32, `kept ${tx.answers.length} answers`);
    // Still in sync.
    d.feed(tcp('send', withLengthPrefix(query(31, 'next.test')), 3), tcp('recv', withLengthPrefix(answer(31, 'next.test')), 4));
    assert.equal(dns(d.out)[1].questionName, 'next.test');
    assert.equal(d.session.malformed, 0);
  });

  it('counts malformed messages and reports a stream that is not DNS', () => {
    const d = driver();
    assert.equal(d.feed(udp(CLIENT, RESOLVER, 'send', Uint8Array.from([1, 2, 3]), 1)), false);
    assert.equal(d.session.malformed, 1);
    const e = driver();
    e.feed(udp(CLIENT, RESOLVER, 'send', query(1), 1));
    assert.equal(e.feed(udp(CLIENT, RESOLVER, 'recv', Uint8Array.from([1, 2, 3]), 2)), true, 'one bad datagram on a DNS socket is counted, not fatal');
    assert.equal(e.session.malformed, 1);
  });

  it('bounds the pending queries of one socket', () => {
    const d = driver();
    const peer: Endpoint = { ...CLIENT };
    for (let i = 0; i < 5000; i++) {
      peer.port = 1024 + (i % 60000);
      d.feed(udp(RESOLVER, { ...peer }, 'recv', query(i & 0xffff), i));
    }
    assert.equal(d.out.length, 5000 - 4096);
    assert.ok(dns(d.out).every((t) => t.errorType === 'evicted'));
  });
});

describe('l7 dns on recorded dig/dnsmasq fixtures', () => {
  const cases: Array<[string, string, string, string, Array<[string, string]>]> = [
    ['udp-a', 'test.example', 'A', 'NOERROR', [['A', '127.0.0.1']]],
    ['udp-aaaa', 'test.example', 'AAAA', 'NOERROR', [['AAAA', '::1']]],
    ['udp-cname', 'alias.other.example', 'A', 'NOERROR', [['CNAME', 'test.example']]],
    ['udp-txt', 'txt.other.example', 'TXT', 'NOERROR', [['TXT', '"v=spf1 -all" "second string"']]],
    ['udp-mx', 'mx.other.example', 'MX', 'NOERROR', [['MX', '10 mail.test.example']]],
    ['udp-srv', '_http._tcp.other.example', 'SRV', 'NOERROR', [['SRV', '1 5 8080 web.test.example']]],
    ['udp-ptr', '1.0.0.127.in-addr.arpa', 'PTR', 'NOERROR', [['PTR', 'test.example']]],
    ['udp-nxdomain', 'nope.nx.example', 'A', 'NXDOMAIN', []],
    ['udp-refused', 'unknown.other.example', 'A', 'REFUSED', []],
    ['tcp-a', 'test.example', 'A', 'NOERROR', [['A', '127.0.0.1']]],
  ];
  for (const [name, question, type, rcode, answers] of cases) {
    for (const view of ['client', 'server'] as const) {
      it(`${name}, ${view} side`, () => {
        const fixture = loadFixture('dns', name);
        const d = driver();
        d.feed(...replay(fixture, view));
        const [tx] = dns(d.out);
        assert.equal(d.out.length, 1);
        assert.equal(tx.side, view);
        assert.equal(tx.transport, fixture.connections[0].transport);
        assert.equal(tx.questionName, question);
        assert.equal(tx.questionType, type);
        assert.equal(tx.responseCode, rcode);
        assert.deepEqual(tx.answers.map((a) => [a.type, a.data]), answers);
        assert.ok(tx.endUs > tx.startUs);
        assert.equal(d.session.malformed, 0);
      });
    }
  }

  it('tcp-keepopen: three queries on one connection', () => {
    const d = driver();
    d.feed(...replay(loadFixture('dns', 'tcp-keepopen'), 'client'));
    assert.deepEqual(dns(d.out).map((t) => [t.questionName, t.questionType, t.answers.length]), [
      ['test.example', 'A', 1],
      ['txt.other.example', 'TXT', 1],
      ['mx.other.example', 'MX', 1],
    ]);
  });

  it('a response captured only in part still reports its question and code', () => {
    const d = driver();
    d.feed(...replay(loadFixture('dns', 'udp-txt'), 'client', { captureLimit: 40 }));
    const [tx] = dns(d.out);
    assert.equal(tx.questionName, 'txt.other.example');
    assert.equal(tx.responseCode, 'NOERROR');
    assert.equal(d.session.malformed, 0);
  });
});

void SERVER;
