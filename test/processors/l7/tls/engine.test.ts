/**
 * TLS through the l7 engine at the server's end of a handshake, read the way servers read:
 * OpenSSL reads the 5-byte record header and then the record body in two read() calls, and
 * nginx first peeks at one byte (recv with MSG_PEEK) to tell TLS from plain HTTP. Also what
 * the engine counts for streams that start like TLS and then break.
 */
import assert from 'node:assert/strict';
import type { NetworkEvent, PayloadEvent, TlsHandshakeEvent } from '../../../../core/events';
import { engineOptions, factory } from '../../../../processors/l7';
import { L7Engine } from '../../../../processors/l7/engine';
import { ALL_MODULES } from '../../../../processors/l7/modules';
import { Fuzzer } from '../../../helpers/fuzz';
import { loadFixture, payloadEvent, rawChunks, type Perspective, type RawChunk } from '../http2/replay';
import { closed, payload, type Endpoint } from '../payloads';

const engine = (): L7Engine => new L7Engine(engineOptions(factory.createDefaultConfig()), ALL_MODULES);

function handshakes(out: NetworkEvent[]): TlsHandshakeEvent[] {
  return out.filter((e): e is TlsHandshakeEvent => e.kind === 'l7.tls');
}

/** The fields both ends of one handshake must agree on. */
const offer = (e: TlsHandshakeEvent): unknown => ({
  serverName: e.serverName,
  offeredVersions: e.offeredVersions,
  offeredAlpn: e.offeredAlpn,
  version: e.version,
  cipher: e.cipher,
  ja4: e.ja4,
  errorType: e.errorType,
});

/** Cuts every record the client sent into its 5-byte header and its body, as OpenSSL's server reads them. */
function recordByRecord(chunks: RawChunk[], peekFirst: boolean): RawChunk[] {
  const out: RawChunk[] = [];
  let first = true;
  for (const c of chunks) {
    if (c.dir !== 'c2s') {
      out.push(c);
      continue;
    }
    if (first && peekFirst) out.push({ ...c, data: c.data.subarray(0, 1) }); // recv(fd, buf, 1, MSG_PEEK)
    first = false;
    for (let o = 0; o < c.data.length; ) {
      const length = o + 5 <= c.data.length ? (c.data[o + 3] << 8) | c.data[o + 4] : 0;
      out.push({ ...c, data: c.data.subarray(o, Math.min(o + 5, c.data.length)) });
      if (length > 0) out.push({ ...c, data: c.data.subarray(o + 5, Math.min(o + 5 + length, c.data.length)) });
      o += 5 + length;
    }
  }
  return out;
}

function run(chunks: RawChunk[], perspective: Perspective, port: number): { events: TlsHandshakeEvent[]; engine: L7Engine } {
  const e = engine();
  const events: PayloadEvent[] = chunks.map((c) => {
    const p = payloadEvent(c, perspective);
    return perspective === 'server' ? { ...p, localPort: port } : { ...p, remotePort: port };
  });
  const out = [...e.process(events), ...e.flush(events[events.length - 1].timeUs + 1000)];
  return { events: handshakes(out), engine: e };
}

describe('TLS at the server end of a handshake, in the l7 engine', () => {
  for (const scenario of ['openssl-s-client', 'node-tls13', 'node-tls12', 'curl-https', 'node-tls13-alpn-mismatch']) {
    for (const port of [443, 23457]) {
      for (const peek of [false, true]) {
        it(`${scenario} on port ${port}: record header and body read apart${peek ? ' after a 1-byte peek' : ''} give what the client's end gives`, () => {
          const chunks = rawChunks(loadFixture('tls', scenario));
          const client = run(chunks, 'client', port);
          const server = run(recordByRecord(chunks, peek), 'server', port);
          assert.equal(client.events.length, 1);
          assert.equal(server.events.length, 1, 'the server end reports the handshake');
          assert.equal(server.events[0].side, 'server');
          assert.deepEqual(offer(server.events[0]), offer(client.events[0]));
          assert.ok(server.events[0].ja4, 'JA4 from the ClientHello read in pieces');
          assert.equal(server.engine.counters.malformed_tls, 0);
          assert.equal(server.engine.counters.detected_tls, 1);
        });
      }
    }
  }

  it('counts 50 connections of bogus TLS records as detected and malformed TLS', () => {
    const fuzz = new Fuzzer(12);
    const e = engine();
    const events: NetworkEvent[] = [];
    for (let i = 0; i < 50; i++) {
      const client: Endpoint = { pid: 1001, comm: 'client', address: '127.0.0.1', port: 41000 + i, cookie: 1000 + i };
      const server: Endpoint = { pid: 2002, comm: 'server', address: '127.0.0.1', port: 8443, cookie: 5000 + i };
      // A handshake record header with a random (often impossible) length, then random bytes.
      const body = fuzz.bytes(20 + fuzz.int(200));
      const length = i % 2 === 0 ? 0x4801 + fuzz.int(0xb7fe) : fuzz.int(0x4800);
      const bytes = Uint8Array.from([22, 3, i % 4, length >> 8, length & 0xff, ...body]);
      events.push(payload(client, server, 'send', bytes, 10 * i + 1), closed(client, server, 10 * i + 2));
    }
    e.process(events);
    assert.equal(e.counters.detected_tls, 50);
    assert.equal(e.counters.malformed_tls, 50);
    assert.equal(e.counters.transactions_tls, 0, 'nothing is reported from a handshake that was not one');
    assert.equal(e.counters.detected_http2 + e.counters.detected_http1 + e.counters.detected_dns, 0);
  });
});
