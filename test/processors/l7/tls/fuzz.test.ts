/**
 * Fuzzing the TLS parsers with a fixed seed: at least 100,000 random and mutated inputs each
 * (mutations of recorded handshakes). Nothing may throw, state stays bounded, malformed input
 * is counted.
 */
import assert from 'node:assert/strict';
import type { L7Event } from '../../../../core/events';
import { ja4, parseClientHello, parseServerHello, tlsProtocol, TlsSession } from '../../../../processors/l7/tls';
import { TlsRecordReader } from '../../../../processors/l7/tls/records';
import { Fuzzer, heapUsed } from '../../../helpers/fuzz';
import { DEFAULT_OPTIONS, loadFixture, payloadEvent, rawChunks, type RawChunk } from '../http2/replay';

const ITERATIONS = 100_000;
const MAX_HEAP_GROWTH = 64 * 1024 * 1024;
const SCENARIOS = ['node-tls13', 'node-tls12', 'node-tls13-no-sni', 'node-tls13-alpn-mismatch', 'openssl-s-client', 'curl-https'];

function connections(): RawChunk[][] {
  return SCENARIOS.map((s) => rawChunks(loadFixture('tls', s)));
}

/** Handshake message bodies (ClientHello, ServerHello) cut out of the recordings. */
function helloBodies(): { client: Uint8Array[]; server: Uint8Array[] } {
  const client: Uint8Array[] = [];
  const server: Uint8Array[] = [];
  for (const chunks of connections()) {
    const c = chunks.find((x) => x.dir === 'c2s' && x.data[5] === 1);
    const s = chunks.find((x) => x.dir === 's2c' && x.data[5] === 2);
    if (c) client.push(c.data.subarray(9, 9 + ((c.data[6] << 16) | (c.data[7] << 8) | c.data[8])));
    if (s) server.push(s.data.subarray(9, 9 + ((s.data[6] << 16) | (s.data[7] << 8) | s.data[8])));
  }
  return { client, server };
}

function damaged(fuzz: Fuzzer, chunks: RawChunk[]): RawChunk[] {
  const out: RawChunk[] = [];
  for (const c of chunks) {
    const roll = fuzz.random();
    if (roll < 0.03) continue;
    let data = c.data;
    if (roll < 0.25) data = fuzz.mutate(data.length > 2048 ? data.subarray(0, 2048) : data);
    else if (roll < 0.28) data = fuzz.bytes(200);
    for (const piece of fuzz.split(data, 4)) out.push({ ...c, data: piece });
  }
  return out;
}

describe('TLS parsers under fuzzing (seeded)', function () {
  this.timeout(60_000);

  it(`ClientHello/ServerHello parsers and JA4: ${ITERATIONS} mutated and random hellos`, () => {
    const fuzz = new Fuzzer(0x7151);
    const { client, server } = helloBodies();
    assert.equal(client.length, SCENARIOS.length);
    let parsed = 0;
    let rejected = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const isClient = fuzz.bool();
      const input = fuzz.bool(0.1) ? fuzz.bytes(300) : fuzz.mutate(fuzz.pick(isClient ? client : server), 1 + fuzz.int(3));
      if (isClient) {
        const hello = parseClientHello(input, 0, input.length);
        if (hello) {
          parsed++;
          assert.match(ja4(hello), /^t[0-9a-z]{2}[di]\d{4}[0-9a-zA-Z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$/);
          assert.ok(hello.alpn.length <= 16 && (hello.serverName?.length ?? 0) <= 255);
        } else {
          rejected++;
        }
      } else if (parseServerHello(input, 0, input.length)) {
        parsed++;
      } else {
        rejected++;
      }
    }
    assert.ok(parsed > ITERATIONS / 10, `parsed ${parsed}`);
    assert.ok(rejected > ITERATIONS / 10, `rejected ${rejected}`);
  });

  it(`record reader: ${ITERATIONS} chunks of damaged recordings and noise, with gaps`, () => {
    const fuzz = new Fuzzer(0x7152);
    const recorded = connections();
    let messages = 0;
    let records = 0;
    let inputs = 0;
    const sink = {
      onHandshake(_type: number, _body: Uint8Array, start: number, end: number) {
        messages++;
        assert.ok(end - start <= 16 * 1024);
      },
      onRecord() {
        records++;
      },
    };
    while (inputs < ITERATIONS) {
      const readers = [new TlsRecordReader(sink, 16 * 1024), new TlsRecordReader(sink, 16 * 1024)];
      for (const chunk of damaged(fuzz, fuzz.pick(recorded))) {
        const reader = readers[chunk.dir === 'c2s' ? 0 : 1];
        reader.push(chunk.data, 0, chunk.data.length);
        if (fuzz.bool(0.03)) reader.gap(fuzz.int(500));
        inputs++;
      }
    }
    assert.ok(messages > 1000, `handshake messages ${messages}`);
    assert.ok(records > 1000, `records ${records}`);
  });

  it(`TLS session: ${ITERATIONS} payloads of damaged recordings, truncation included`, () => {
    const fuzz = new Fuzzer(0x7153);
    const recorded = connections();
    const before = heapUsed();
    let emitted = 0;
    let malformed = 0;
    let rejected = 0;
    let inputs = 0;
    const emit = (e: L7Event): void => {
      assert.equal(e.kind, 'l7.tls');
      emitted++;
    };
    while (inputs < ITERATIONS) {
      const session = tlsProtocol.createSession(DEFAULT_OPTIONS) as TlsSession;
      const perspective = fuzz.bool() ? 'client' : 'server';
      let last = 0;
      let kept = true;
      const emittedBefore = emitted;
      for (const chunk of damaged(fuzz, fuzz.pick(recorded))) {
        const event = payloadEvent(chunk, perspective, fuzz.bool(0.05) ? fuzz.int(chunk.data.length + 1) : undefined);
        last = event.timeUs;
        inputs++;
        kept = session.onPayload(event, emit);
        if (!kept) {
          rejected++;
          break;
        }
      }
      if (kept) session.close(last, emit);
      assert.ok(emitted - emittedBefore <= 1, 'at most one handshake event per connection');
      malformed += session.malformed;
    }
    assert.ok(malformed > 500, `malformed counted: ${malformed}`);
    assert.ok(emitted > 5000, `handshakes still recognized: ${emitted}`);
    assert.ok(rejected > 0, 'sessions that turned out not to be TLS were given up');
    assert.ok(heapUsed() - before < MAX_HEAP_GROWTH);
  });
});
