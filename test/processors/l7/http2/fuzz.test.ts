/**
 * Fuzzing the HTTP/2 parsers with a fixed seed: random and mutated inputs (mutations of real
 * recorded traffic and of the RFC 7541 examples), at least 100,000 per parser. Nothing may
 * throw, state must stay within its bounds, and malformed input must be counted.
 */
import assert from 'node:assert/strict';
import type { L7Event } from '../../../../core/events';
import { FrameReader, type FrameSink } from '../../../../processors/l7/http2/frames';
import { HpackDecoder, MAX_DYNAMIC_TABLE_SIZE } from '../../../../processors/l7/http2/hpack/decoder';
import { huffmanDecode, huffmanMaxDecodedLength } from '../../../../processors/l7/http2/hpack/huffman';
import { http2Protocol, Http2Session, MAX_TRACKED_STREAMS } from '../../../../processors/l7/http2';
import { Fuzzer, heapUsed } from '../../../helpers/fuzz';
import { DEFAULT_OPTIONS, loadFixture, payloadEvent, rawChunks, type RawChunk } from './replay';

const ITERATIONS = 100_000;
/** Inputs are cut to this size before mutation, to keep each run to a few seconds. */
const MAX_INPUT = 1536;
const MAX_HEAP_GROWTH = 64 * 1024 * 1024;

/** The recorded connections, each a list of chunks in order. */
function connections(): RawChunk[][] {
  const out: RawChunk[][] = [];
  for (const name of ['h2c-node', 'grpc-node', 'h2c-curl', 'h2c-goaway']) {
    const fixture = loadFixture('http2', name);
    for (let i = 0; i < fixture.connections.length; i++) out.push(rawChunks(fixture, i));
  }
  return out;
}

/** The frame reader starts after the preface (the session strips it). */
function withoutPreface(chunks: RawChunk[]): RawChunk[] {
  const first = chunks.findIndex((c) => c.dir === 'c2s');
  return chunks.map((c, i) => (i === first ? { ...c, data: c.data.subarray(24) } : c));
}

/**
 * A recorded connection with damage: chunks mutated, replaced by noise, dropped, duplicated
 * or re-split. Undamaged stretches keep the parsers busy with real frames in between.
 */
function damaged(fuzz: Fuzzer, chunks: RawChunk[]): RawChunk[] {
  const out: RawChunk[] = [];
  for (const c of chunks) {
    const roll = fuzz.random();
    if (roll < 0.03) continue; // dropped
    let data = c.data;
    if (roll < 0.13) data = fuzz.mutate(data.length > MAX_INPUT ? data.subarray(0, MAX_INPUT) : data);
    else if (roll < 0.16) data = fuzz.bytes(200);
    for (const piece of fuzz.split(data, 3)) out.push({ ...c, data: piece });
    if (roll > 0.98) out.push({ ...c, data });
  }
  return out;
}

const RFC_BLOCKS = [
  '828684410f7777772e6578616d706c652e636f6d',
  '828684be58086e6f2d6361636865',
  '828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565',
  '828684418cf1e3c2e5f23a6ba0ab90f4ff',
  '828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf',
  '488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3',
  '4883640effc1c0bf',
  '88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007',
  '3fe11f',
  '20',
].map((h) => new Uint8Array(Buffer.from(h, 'hex')));

describe('HTTP/2 parsers under fuzzing (seeded)', function () {
  this.timeout(60_000);

  it(`HPACK decoder and Huffman decoding: ${ITERATIONS} random and mutated blocks`, () => {
    const fuzz = new Fuzzer(0xc0ffee);
    const before = heapUsed();
    let decoder = new HpackDecoder({ fullDecode: true });
    const lean = new HpackDecoder();
    let errors = 0;
    let fields = 0;
    const out = new Uint8Array(huffmanMaxDecodedLength(256));
    const sink = (): void => {
      fields++;
    };
    for (let i = 0; i < ITERATIONS; i++) {
      const input = fuzz.bool(0.3) ? fuzz.bytes(64) : fuzz.mutate(fuzz.pick(RFC_BLOCKS));
      // Persistent decoders carry state (and its bugs) from one block to the next.
      errors += decoder.decode(input, 0, input.length, sink);
      errors += lean.decode(input, 0, input.length, sink);
      if (input.length <= 256) huffmanDecode(input, 0, input.length, out);
      assert.ok(decoder.tableSize <= MAX_DYNAMIC_TABLE_SIZE && lean.tableSize <= MAX_DYNAMIC_TABLE_SIZE);
      if (i % 10_000 === 0) decoder = new HpackDecoder({ fullDecode: true, degraded: fuzz.bool() });
    }
    assert.ok(errors > ITERATIONS / 10, `errors counted: ${errors}`);
    assert.ok(fields > ITERATIONS, `fields decoded: ${fields}`);
    assert.ok(lean.errors > 0);
    assert.ok(heapUsed() - before < MAX_HEAP_GROWTH);
  });

  it(`frame reader: ${ITERATIONS} chunks of damaged recordings and noise, with random gaps`, () => {
    const fuzz = new Fuzzer(0xf4a3e5);
    const recorded = connections();
    let frames = 0;
    let maxKept = 0;
    const sink: FrameSink = {
      onFrame(_type, _flags, _stream, _length, _payload, start, end) {
        frames++;
        if (end - start > maxKept) maxKept = end - start;
      },
    };
    const maxBlock = 4096;
    let inputs = 0;
    while (inputs < ITERATIONS) {
      const readers = [new FrameReader(sink, maxBlock, fuzz.int(5)), new FrameReader(sink, maxBlock, fuzz.int(5))];
      for (const chunk of damaged(fuzz, withoutPreface(fuzz.pick(recorded)))) {
        const reader = readers[chunk.dir === 'c2s' ? 0 : 1];
        reader.push(chunk.data, 0, chunk.data.length);
        if (fuzz.bool(0.03)) reader.gap(fuzz.int(300));
        if (reader.lost && fuzz.bool(0.5)) reader.resync();
        inputs++;
      }
      const noise = fuzz.bytes(300);
      readers[0].push(noise, 0, noise.length);
      inputs++;
    }
    assert.ok(frames > ITERATIONS / 2, `frames delivered: ${frames}`);
    assert.ok(maxKept <= maxBlock, `kept at most the block cap (${maxKept})`);
  });

  it(`HTTP/2 session: ${ITERATIONS} payloads of damaged recordings, truncation included`, () => {
    const fuzz = new Fuzzer(0x5e55);
    const recorded = connections();
    const before = heapUsed();
    let emitted = 0;
    let malformed = 0;
    let rejected = 0;
    const emit = (e: L7Event): void => {
      assert.equal(e.kind, 'l7.grpc');
      emitted++;
    };
    const options = { ...DEFAULT_OPTIONS, maxBufferBytes: 8192 };
    let inputs = 0;
    while (inputs < ITERATIONS) {
      const session = http2Protocol.createSession(options) as Http2Session;
      const perspective = fuzz.bool() ? 'client' : 'server';
      let last = 0;
      let kept = true;
      for (const chunk of damaged(fuzz, fuzz.pick(recorded))) {
        const capture = fuzz.bool(0.05) ? fuzz.int(chunk.data.length + 1) : undefined;
        const event = payloadEvent(chunk, perspective, capture);
        last = event.timeUs;
        inputs++;
        kept = session.onPayload(event, emit);
        assert.ok(session.openStreams <= MAX_TRACKED_STREAMS);
        if (!kept) {
          rejected++;
          break;
        }
        if (fuzz.bool(0.01)) session.expire(event.timeUs + fuzz.int(60_000_000), emit);
      }
      if (kept) session.close(last, emit);
      assert.equal(session.openStreams, 0, 'close flushes everything');
      malformed += session.malformed;
    }
    assert.ok(malformed > 1000, `malformed counted: ${malformed}`);
    assert.ok(emitted > 10_000, `calls still recognized: ${emitted}`);
    assert.ok(rejected > 0, 'sessions that turned out not to be HTTP/2 were given up');
    assert.ok(heapUsed() - before < MAX_HEAP_GROWTH);
  });
});
