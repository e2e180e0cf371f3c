import assert from 'node:assert/strict';
import type { L7Event, TlsHandshakeEvent } from '../../../../core/events';
import { parseClientHello, tlsProtocol, TlsSession } from '../../../../processors/l7/tls';
import { startsLikeTlsHandshake } from '../../../../processors/l7/tls/records';
import { Fuzzer } from '../../../helpers/fuzz';
import { BASE_US, coalesce, DEFAULT_OPTIONS, loadFixture, payloadEvent, rawChunks, replay, resplit, type Perspective, type RawChunk } from '../http2/replay';
import { alpn, clientHelloBody, handshake, HRR_RANDOM, record, selectedVersion, serverHelloBody, sni, supportedVersions } from './tls-builders';

const tlsEvents = (events: L7Event[]): TlsHandshakeEvent[] => events.filter((e): e is TlsHandshakeEvent => e.kind === 'l7.tls');

function run(chunks: RawChunk[], perspective: Perspective, capture?: number): { events: TlsHandshakeEvent[]; session: TlsSession; rejectedAt: number } {
  const r = replay(tlsProtocol, chunks.map((c) => payloadEvent(c, perspective, capture)), DEFAULT_OPTIONS);
  return { events: tlsEvents(r.events), session: r.session as TlsSession, rejectedAt: r.rejectedAt };
}

/** The fields that do not depend on when the recording was made. */
function summary(e: TlsHandshakeEvent): Record<string, unknown> {
  return {
    serverName: e.serverName,
    offeredVersions: e.offeredVersions,
    offeredAlpn: e.offeredAlpn,
    version: e.version,
    cipher: e.cipher,
    alpn: e.alpn,
    ja4: e.ja4,
    errorType: e.errorType,
  };
}

const EXPECTED: Record<string, Record<string, unknown>> = {
  'node-tls13': {
    serverName: 'api.example.test',
    offeredVersions: ['1.3', '1.2'],
    offeredAlpn: ['h2', 'http/1.1'],
    version: '1.3',
    cipher: 'TLS_AES_256_GCM_SHA384',
    alpn: undefined, // TLS 1.3 sends the chosen ALPN encrypted (EncryptedExtensions)
    ja4: 't13d5911h2_a33745022dd6_1f22a2ca17c4',
    errorType: undefined,
  },
  'node-tls12': {
    serverName: 'legacy.example.test',
    offeredVersions: ['1.2'],
    offeredAlpn: ['http/1.1'],
    version: '1.2',
    cipher: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
    alpn: 'http/1.1',
    ja4: 't12d5608h1_99d8c53049f3_e7e480e5a997',
    errorType: undefined,
  },
  'node-tls13-no-sni': {
    serverName: undefined,
    offeredVersions: ['1.3', '1.2'],
    offeredAlpn: [],
    version: '1.3',
    cipher: 'TLS_AES_256_GCM_SHA384',
    alpn: undefined,
    ja4: 't13i590900_a33745022dd6_1f22a2ca17c4',
    errorType: undefined,
  },
  'node-tls13-alpn-mismatch': {
    serverName: 'api.example.test',
    offeredVersions: ['1.3', '1.2'],
    offeredAlpn: ['spdy/3'],
    version: '',
    cipher: undefined,
    alpn: undefined,
    ja4: 't13d5911s3_a33745022dd6_1f22a2ca17c4',
    errorType: 'alert:no_application_protocol',
  },
  'openssl-s-client': {
    serverName: 'openssl.example.test',
    offeredVersions: ['1.3', '1.2', '1.1', '1.0'],
    offeredAlpn: ['h2', 'http/1.1'],
    version: '1.3',
    cipher: 'TLS_AES_256_GCM_SHA384',
    alpn: undefined,
    ja4: 't13d3111h2_e8f1e7e78f70_1f22a2ca17c4',
    errorType: undefined,
  },
  'curl-https': {
    serverName: 'curl.example.test',
    offeredVersions: ['1.3', '1.2', '1.1', '1.0'],
    offeredAlpn: ['h2', 'http/1.1'],
    version: '1.3',
    cipher: 'TLS_AES_256_GCM_SHA384',
    alpn: undefined,
    ja4: 't13d3112h2_e8f1e7e78f70_b26ce05bbdd6',
    errorType: undefined,
  },
};

describe('TLS session on recorded handshakes', () => {
  for (const [scenario, expected] of Object.entries(EXPECTED)) {
    for (const perspective of ['client', 'server'] as const) {
      it(`${scenario}, seen from the ${perspective}`, () => {
        const chunks = rawChunks(loadFixture('tls', scenario));
        assert.ok(tlsProtocol.detect(chunks[0].data, payloadEvent(chunks[0], perspective)), 'detected from the first chunk');
        const { events, session } = run(chunks, perspective);
        assert.equal(events.length, 1, 'one event per handshake');
        assert.deepEqual(summary(events[0]), expected);
        const e = events[0];
        assert.equal(e.side, perspective);
        assert.equal(e.process.pid, perspective === 'client' ? 1001 : 2002);
        assert.equal(e.startUs, BASE_US + chunks[0].tUs, 'starts at the ClientHello');
        assert.ok(e.endUs > e.startUs, 'handshake time is measured');
        assert.equal(session.malformed, 0);
        assert.ok(session.done);
      });
    }
  }

  it('parses the ClientHello details of a real client', () => {
    const [first] = rawChunks(loadFixture('tls', 'node-tls13'));
    const hello = parseClientHello(first.data, 9, first.data.length);
    assert.ok(hello);
    assert.equal(hello.legacyVersion, 0x0303);
    assert.deepEqual(hello.supportedVersions, [0x0304, 0x0303]);
    assert.ok(hello.signatureAlgorithms.includes(0x0804), 'rsa_pss_rsae_sha256 offered');
    assert.ok(hello.cipherSuites.includes(0x1301));
    assert.ok(hello.extensions.includes(0), 'server_name extension');
  });

  it('gives the same result for any chunking', () => {
    const fuzz = new Fuzzer(0x7157);
    for (const scenario of Object.keys(EXPECTED)) {
      const chunks = rawChunks(loadFixture('tls', scenario));
      for (let round = 0; round < 10; round++) {
        const { events } = run(resplit(chunks, (d) => fuzz.split(d, 10)), round % 2 ? 'client' : 'server');
        assert.deepEqual(events.map(summary), [EXPECTED[scenario]], `${scenario} round ${round}`);
      }
      assert.deepEqual(run(resplit(chunks, (d) => Array.from(d, (b) => Uint8Array.of(b))), 'client').events.map(summary), [EXPECTED[scenario]], `${scenario} byte by byte`);
      assert.deepEqual(run(coalesce(chunks), 'server').events.map(summary), [EXPECTED[scenario]], `${scenario} coalesced`);
    }
  });

  it('reports what a truncated capture leaves, and counts the loss', () => {
    const chunks = rawChunks(loadFixture('tls', 'node-tls12'));
    // 200 bytes hold the record header and most of the 287-byte ClientHello, not all of it.
    assert.ok(chunks[0].data.length > 200);
    const { events, session } = run(chunks, 'client', 200);
    assert.ok(session.malformed >= 1);
    // The ClientHello's contents are lost, not its time: the ServerHello completes the event.
    assert.deepEqual(events.map(summary), [
      { ...EXPECTED['node-tls12'], serverName: undefined, offeredVersions: [], offeredAlpn: [], ja4: undefined },
    ]);
    assert.equal(events[0].startUs, BASE_US + chunks[0].tUs);
    assert.equal(events[0].side, 'client');
    // With the full ClientHello but the server's flight (ServerHello, Certificate, ...) cut
    // after the ClientHello's length, the ServerHello (the first 89 bytes) is still whole.
    const first = chunks[0].data.length;
    assert.ok(chunks[1].data.length > first);
    const r = run(chunks, 'server', first);
    assert.deepEqual(r.events.map(summary), [EXPECTED['node-tls12']]);
  });
});

describe('TLS session on constructed handshakes', () => {
  const chunk = (dir: 'c2s' | 's2c', data: Uint8Array, tUs = 0): RawChunk => ({ dir, tUs, data });
  const clientHello = (...extra: number[][]): Uint8Array =>
    record(22, handshake(1, clientHelloBody({ ciphers: [0x1301, 0x1302], extensions: [sni('h.example'), alpn('h2'), supportedVersions(0x0304, 0x0303), ...extra] })), 0x0301);

  it('waits through a HelloRetryRequest for the real ServerHello', () => {
    const hrr = record(22, handshake(2, serverHelloBody({ cipher: 0x1301, extensions: [selectedVersion(0x0304)], random: HRR_RANDOM })));
    const sh = record(22, handshake(2, serverHelloBody({ cipher: 0x1302, extensions: [selectedVersion(0x0304)] })));
    const { events } = run(
      [chunk('c2s', clientHello(), 0), chunk('s2c', hrr, 100), chunk('c2s', clientHello(), 200), chunk('s2c', sh, 300)],
      'client',
    );
    assert.equal(events.length, 1);
    assert.equal(events[0].helloRetry, true);
    assert.equal(events[0].cipher, 'TLS_AES_256_GCM_SHA384');
    assert.equal(events[0].endUs - events[0].startUs, 300);
  });

  it('ends the handshake at the first encrypted server record when the ServerHello was not seen', () => {
    const { events } = run([chunk('c2s', clientHello(), 0), chunk('s2c', record(23, [1, 2, 3, 4]), 40)], 'server');
    assert.equal(events.length, 1);
    assert.equal(events[0].version, '');
    assert.equal(events[0].endUs - events[0].startUs, 40);
    assert.equal(events[0].side, 'server');
  });

  it('does not take client early data for the end of the handshake', () => {
    const sh = record(22, handshake(2, serverHelloBody({ cipher: 0x1301, extensions: [selectedVersion(0x0304)] })));
    const { events } = run([chunk('c2s', clientHello(), 0), chunk('c2s', record(23, [9, 9]), 5), chunk('s2c', sh, 70)], 'client');
    assert.equal(events.length, 1);
    assert.equal(events[0].version, '1.3');
    assert.equal(events[0].endUs - events[0].startUs, 70);
  });

  it('emits on timeout and on close, once', () => {
    const session = tlsProtocol.createSession(DEFAULT_OPTIONS);
    const out: L7Event[] = [];
    const emit = (e: L7Event): void => {
      out.push(e);
    };
    session.onPayload(payloadEvent(chunk('c2s', clientHello(), 0), 'client'), emit);
    session.expire(BASE_US + 1_000_000, emit);
    assert.equal(out.length, 0);
    session.expire(BASE_US + 31_000_000, emit);
    session.close(BASE_US + 32_000_000, emit);
    assert.deepEqual(tlsEvents(out).map((e) => e.errorType), ['timeout']);

    const closed = run([chunk('c2s', clientHello(), 0)], 'client');
    assert.deepEqual(closed.events.map((e) => e.errorType), ['connection_closed']);
  });

  it('reports a ServerHello without the ClientHello (capture joined late)', () => {
    const sh = record(22, handshake(2, serverHelloBody({ version: 0x0303, cipher: 0xc02f, extensions: [alpn('http/1.1')] })));
    const { events } = run([chunk('s2c', sh, 10)], 'client');
    assert.equal(events.length, 1);
    assert.equal(events[0].version, '1.2');
    assert.equal(events[0].alpn, 'http/1.1');
    assert.deepEqual(events[0].offeredVersions, []);
    assert.equal(events[0].startUs, events[0].endUs);
  });

  it('reassembles a ClientHello split across two records', () => {
    const message = handshake(1, clientHelloBody({ ciphers: [0x1301], extensions: [sni('split.example'), supportedVersions(0x0304)] }));
    const half = Math.floor(message.length / 2);
    const data = Uint8Array.from([...record(22, message.slice(0, half)), ...record(22, message.slice(half))]);
    const sh = record(22, handshake(2, serverHelloBody({ cipher: 0x1301, extensions: [selectedVersion(0x0304)] })));
    const { events, session } = run([chunk('c2s', data), chunk('s2c', sh, 9)], 'client');
    assert.equal(session.malformed, 0);
    assert.equal(events[0].serverName, 'split.example');
  });

  it('rejects what is not TLS and counts malformed hellos', () => {
    assert.equal(run([chunk('c2s', Buffer.from('GET / HTTP/1.1\r\n\r\n'))], 'client').rejectedAt, 0);
    const bad = record(22, handshake(1, [3, 3, 1, 2])); // far too short a ClientHello
    const r = run([chunk('c2s', bad)], 'client');
    assert.equal(r.session.malformed, 1);
    assert.equal(r.events.length, 0);
  });

  it('detects a stream that starts with a handshake record header, and nothing else', () => {
    assert.ok(startsLikeTlsHandshake(clientHello()));
    assert.ok(startsLikeTlsHandshake(clientHello().subarray(0, 5)), 'a record header read on its own (OpenSSL servers)');
    assert.ok(startsLikeTlsHandshake(Uint8Array.of(22, 3, 1, 0xff, 0xff, 0, 0)), 'an impossible length is malformed TLS, not something else');
    assert.ok(!startsLikeTlsHandshake(clientHello().subarray(0, 4)));
    assert.ok(!startsLikeTlsHandshake(record(23, [1, 2, 3, 4, 5, 6, 7, 8, 9])));
    assert.ok(!startsLikeTlsHandshake(Uint8Array.of(22, 3, 5, 0, 10)), 'no TLS version 3.5');
    assert.ok(!startsLikeTlsHandshake(Uint8Array.of(22, 2, 0, 0, 10)));
    assert.ok(!startsLikeTlsHandshake(Buffer.from('GET / HTTP/1.1\r\n\r\n')));
    assert.ok(!startsLikeTlsHandshake(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')));
    assert.ok(!startsLikeTlsHandshake(new Uint8Array(3)));
  });

  it('counts a stream that starts like a handshake and breaks as malformed TLS, once, without giving it up', () => {
    const cases: [string, Uint8Array][] = [
      ['impossible record length', Uint8Array.of(22, 3, 1, 0xff, 0xff, 1, 0, 0, 0)],
      ['empty handshake record', Uint8Array.of(22, 3, 1, 0, 0)],
      ['not a hello', record(22, handshake(11, new Array(40).fill(0)))],
      ['a hello longer than any hello', record(22, [1, 0x7f, 0xff, 0xff, 3, 3, ...new Array(40).fill(0)])],
      ['garbage hello', record(22, handshake(1, new Array(60).fill(0xee)))],
    ];
    for (const [what, bytes] of cases) {
      const r = run([chunk('c2s', bytes), chunk('c2s', bytes), chunk('s2c', Uint8Array.of(21, 3, 3, 0, 2, 2, 50))], 'server');
      assert.equal(r.rejectedAt, -1, `${what}: kept as TLS`);
      assert.equal(r.session.malformed, 1, what);
      assert.equal(r.events.length, 0, what);
    }
    // A hello whose length promises more than ever comes: counted when the connection ends.
    const r = run([chunk('c2s', record(22, [1, 0, 2, 0, 3, 3, ...new Array(40).fill(0)]))], 'server');
    assert.equal(r.rejectedAt, -1);
    assert.equal(r.session.malformed, 1);
  });
});
