/**
 * gRPC with large messages under the kernel's capture: only the first 4096 bytes of each
 * read/write are captured, so DATA frames, and frame headers between them, fall into bytes the
 * session never sees. The recorded connection (grpc-large: a 100 KiB request echoed back, then
 * three small calls) is re-cut into the syscalls a sender or a reader could make.
 */
import assert from 'node:assert/strict';
import type { GrpcCallEvent, L7Event, NetworkEvent, PayloadEvent } from '../../../../core/events';
import { engineOptions, factory } from '../../../../processors/l7';
import { L7Engine } from '../../../../processors/l7/engine';
import { http2Protocol, Http2Session } from '../../../../processors/l7/http2';
import { ALL_MODULES } from '../../../../processors/l7/modules';
import { frame } from './h2-builders';
import { loadFixture, payloadEvent, rawChunks, replay, type Perspective, type RawChunk } from './replay';

const CAPTURE = 4096;
const EXPECTED = [
  '1 demo.v1.Blob/Echo 200 0 OK',
  '3 helloworld.Greeter/SayHello 200 0 OK',
  '5 demo.v1.Inventory/GetMissing 200 5 NOT_FOUND',
  '7 demo.v1.Inventory/Fail 200 13 INTERNAL',
];

const summary = (e: GrpcCallEvent): string => [e.streamId, e.rpcMethod ?? '-', e.httpStatusCode, e.grpcStatusCode, e.grpcStatusName ?? '-'].join(' ');
const grpcEvents = (events: L7Event[]): GrpcCallEvent[] => events.filter((e): e is GrpcCallEvent => e.kind === 'l7.grpc');

/** Offsets of the HEADERS frames in one direction's byte stream (after the preface for c2s). */
function headersOffsets(stream: Uint8Array, from: number): number[] {
  const out: number[] = [];
  for (let o = from; o + 9 <= stream.length; o += 9 + ((stream[o] << 16) | (stream[o + 1] << 8) | stream[o + 2])) {
    if (stream[o + 3] === 0x1) out.push(o);
  }
  return out;
}

/**
 * Re-cuts the recorded chunks into syscalls: each direction is cut where the recording has a
 * chunk boundary, at every HEADERS frame (a sender writes a header block when it starts a stream
 * or sends trailers, so blocks begin a syscall and are captured), every `size` bytes after such
 * a cut, and at `extra(offset)` of each HEADERS frame (a frame header split across reads).
 */
function recut(chunks: RawChunk[], size: number, extra: number[] = []): RawChunk[] {
  const streams: Record<RawChunk['dir'], Uint8Array> = {
    c2s: Buffer.concat(chunks.filter((c) => c.dir === 'c2s').map((c) => c.data)),
    s2c: Buffer.concat(chunks.filter((c) => c.dir === 's2c').map((c) => c.data)),
  };
  const cuts: Record<RawChunk['dir'], Set<number>> = { c2s: new Set(), s2c: new Set() };
  for (const dir of ['c2s', 's2c'] as const) {
    const stream = streams[dir];
    const starts = [0, ...headersOffsets(stream, dir === 'c2s' ? 24 : 0)];
    starts.forEach((start, i) => {
      const end = starts[i + 1] ?? stream.length;
      for (let o = start; o < end; o += size) cuts[dir].add(o);
      if (start > 0) for (const e of extra) cuts[dir].add(start + e);
    });
  }
  const out: RawChunk[] = [];
  const position: Record<RawChunk['dir'], number> = { c2s: 0, s2c: 0 };
  for (const chunk of chunks) {
    const base = position[chunk.dir];
    let from = 0;
    for (let i = 1; i <= chunk.data.length; i++) {
      if (i === chunk.data.length || cuts[chunk.dir].has(base + i)) {
        out.push({ dir: chunk.dir, tUs: chunk.tUs, data: chunk.data.subarray(from, i) });
        from = i;
      }
    }
    position[chunk.dir] += chunk.data.length;
  }
  return out;
}

function run(chunks: RawChunk[], perspective: Perspective): { events: GrpcCallEvent[]; session: Http2Session } {
  const r = replay(http2Protocol, chunks.map((c) => payloadEvent(c, perspective, CAPTURE)));
  assert.equal(r.rejectedAt, -1, 'the session keeps the connection');
  return { events: grpcEvents(r.events), session: r.session as Http2Session };
}

describe('HTTP/2 session: large gRPC messages under a 4096-byte capture', () => {
  const chunks = rawChunks(loadFixture('http2', 'grpc-large'));

  it('the recording is what the tests assume: every call complete when fully captured', () => {
    const r = replay(http2Protocol, chunks.map((c) => payloadEvent(c, 'client')));
    const events = grpcEvents(r.events);
    assert.deepEqual(events.map(summary), EXPECTED);
    assert.equal(events[0].requestBodySize, 5 + 100 * 1024);
    assert.ok(chunks.some((c) => c.data.length > 4 * CAPTURE), 'some recorded reads move far more than the capture');
  });

  // Sizes of the syscalls; `lost`: whether frame headers fall into uncaptured bytes.
  const cases: { name: string; size: number; extra?: number[]; lost: boolean }[] = [
    { name: '16 KiB syscalls', size: 16 * 1024, lost: false },
    { name: '24 KiB syscalls', size: 24 * 1024, lost: true },
    { name: '40,000-byte syscalls (frame headers split and lost at varying offsets)', size: 40_000, lost: true },
    { name: '64 KiB syscalls (many frames per read)', size: 64 * 1024, lost: true },
    { name: '4099-byte syscalls', size: 4099, lost: false },
    { name: '1000-byte syscalls (every frame header split)', size: 1000, lost: false },
    { name: '24 KiB syscalls with header block frames split after 4 and 9 bytes', size: 24 * 1024, extra: [4, 9], lost: true },
  ];
  const message = 5 + 100 * 1024;
  for (const { name, size, extra, lost } of cases) {
    for (const perspective of ['client', 'server'] as const) {
      it(`${name}, seen from the ${perspective}: every call with its method and status`, () => {
        const cut = recut(chunks, size, extra);
        const { events, session } = run(cut, perspective);
        assert.deepEqual(events.map(summary), EXPECTED);
        assert.equal(session.frameSyncLosses > 0, lost, `frame sync losses: ${session.frameSyncLosses}`);
        assert.equal(session.hpackDesyncs, 0, 'no header block was lost, so HPACK stays exact');
        assert.equal(session.malformed, 0, 'capture loss is not malformed input');
        // DATA frames skipped by their length are counted; frames whose header was lost are not.
        for (const size of [events[0].requestBodySize, events[0].responseBodySize]) {
          if (lost) assert.ok(size! > 0 && size! <= message, `body size ${size}`);
          else assert.equal(size, message);
        }
      });
    }
  }

  /** The recording with every chunk of `dir` from byte `from` to byte `to` of that direction joined into one read. */
  function joined(dir: RawChunk['dir'], from: number, to: number): RawChunk[] {
    const out: RawChunk[] = [];
    let offset = 0;
    let into = -1;
    for (const c of chunks) {
      const start = offset;
      if (c.dir === dir) offset += c.data.length;
      if (c.dir !== dir || start < from || start >= to) {
        out.push(c);
      } else if (into < 0) {
        into = out.push({ ...c }) - 1;
      } else {
        out[into] = { ...out[into], data: Buffer.concat([out[into].data, c.data]) };
      }
    }
    return out;
  }
  const streamOf = (dir: RawChunk['dir']): Uint8Array => Buffer.concat(chunks.filter((c) => c.dir === dir).map((c) => c.data));

  it('trailers beyond the capture: the echo call has no status, later calls no wrong one', () => {
    // The server's trailers read together with the end of the echo (they were a read of their own).
    const s2c = streamOf('s2c');
    const trailers = headersOffsets(s2c, 0)[1];
    let before = 0; // start of the s2c read before the one holding the trailers
    for (let o = 0, i = 0; o < trailers; i++) {
      const c = chunks.filter((x) => x.dir === 's2c')[i];
      if (o + c.data.length <= trailers) before = o;
      o += c.data.length;
    }
    const cut = joined('s2c', before, trailers + 1);
    for (const perspective of ['client', 'server'] as const) {
      const { events, session } = run(cut, perspective);
      const byId = new Map(events.map((e) => [e.streamId, e]));
      assert.deepEqual([...byId.keys()].sort(), [1, 3, 5, 7]);
      assert.equal(byId.get(1)!.grpcStatusCode, -1, 'the status was not captured');
      assert.ok(session.hpackDesyncs >= 1, 'the lost trailers are counted: their table insertions are gone');
      assert.equal(session.malformed, 0);
      for (const e of events) {
        const [, rpcMethod, , grpcStatus, grpcName] = EXPECTED.find((line) => line.startsWith(`${e.streamId} `))!.split(' ');
        assert.equal(e.rpcMethod, rpcMethod, `${perspective}: the request blocks were all captured`);
        if (e.grpcStatusCode !== -1) assert.equal(`${e.grpcStatusCode} ${e.grpcStatusName}`, `${grpcStatus} ${grpcName}`, `${perspective}: stream ${e.streamId}`);
      }
    }
  });

  it('a lost request header block: counted, later calls carry no name from the broken table', () => {
    // The second call's HEADERS go in the uncaptured tail of one write with the end of the echo.
    const c2s = streamOf('c2s');
    const [, , third] = headersOffsets(c2s, 24); // HEADERS of streams 1, 3, 5, 7
    const firstWrite = chunks.find((c) => c.dir === 'c2s')!.data.length;
    for (const perspective of ['client', 'server'] as const) {
      const { events, session } = run(joined('c2s', firstWrite + 1, third), perspective);
      assert.ok(session.hpackDesyncs >= 1, 'the lost block is counted');
      assert.equal(session.malformed, 0);
      assert.deepEqual(events.map((e) => e.streamId), [1, 5, 7], `the call whose request was lost is not reported: ${events.map(summary).join('; ')}`);
      assert.equal(events[0].rpcMethod, 'demo.v1.Blob/Echo');
      for (const e of events) {
        const expected = EXPECTED.find((line) => line.startsWith(`${e.streamId} `))!.split(' ')[1];
        if (e.rpcMethod !== undefined) assert.equal(e.rpcMethod, expected, `stream ${e.streamId} is never given another call's name`);
        // The response direction is intact: every status is there, even where the request's
        // content-type (from the rebuilt request table) is not and the call is not known as gRPC.
        assert.equal(String(e.grpcStatusCode), EXPECTED.find((line) => line.startsWith(`${e.streamId} `))!.split(' ')[3], summary(e));
      }
    }
  });

  it('a 1 MiB request read in 48 KiB reads whose captures hold no frame header: the session waits it out', () => {
    // The echo request's DATA replaced by 64 frames of 16 KiB (1 MiB + the 5-byte prefix), read
    // so that no read's first 4096 bytes hold a frame header: 21 reads in a row without one.
    const c2s = streamOf('c2s');
    const frames: { offset: number; end: number; type: number; stream: number }[] = [];
    for (let o = 24; o + 9 <= c2s.length; ) {
      const end = o + 9 + ((c2s[o] << 16) | (c2s[o + 1] << 8) | c2s[o + 2]);
      frames.push({ offset: o, end, type: c2s[o + 3], stream: c2s[o + 8] });
      o = end;
    }
    const firstData = frames.find((f) => f.type === 0 && f.stream === 1)!.offset;
    const tailFrom = frames.filter((f) => f.type === 0 && f.stream === 1).pop()!.end;
    const total = 5 + 1024 * 1024;
    const data: Uint8Array[] = [];
    for (let sent = 0; sent < total; sent += 16384) {
      const n = Math.min(16384, total - sent);
      const payload = new Uint8Array(n).map((_, i) => (sent + i) * 7);
      if (sent === 0) payload.set([0, 0, 0x10, 0, 0]);
      data.push(frame(0, sent + n === total ? 0x1 : 0, 1, payload));
    }
    const body = Buffer.concat(data);
    const head = c2s.subarray(0, firstData);
    const reads: RawChunk[] = [{ dir: 'c2s', tUs: 0, data: Buffer.concat([head, body.subarray(0, 100)]) }];
    let o = 100;
    while (o < body.length) {
      const n = Math.min(3 * 16393, body.length - o);
      reads.push({ dir: 'c2s', tUs: 0, data: body.subarray(o, o + n) });
      o += n;
    }
    assert.ok(reads.length > 20);
    // Then the rest of the recording, less the c2s bytes replaced above.
    let c2sOffset = 0;
    for (const c of chunks) {
      if (c.dir === 's2c') {
        reads.push(c);
        continue;
      }
      const from = Math.max(c2sOffset, tailFrom);
      if (from < c2sOffset + c.data.length) reads.push({ ...c, data: c.data.subarray(from - c2sOffset) });
      c2sOffset += c.data.length;
    }
    const { events, session } = run(reads, 'server');
    assert.deepEqual(events.map(summary), EXPECTED);
    assert.ok(session.frameSyncLosses >= 1);
    assert.equal(session.hpackDesyncs, 0);
  });

  it('in the engine: hpack_desync is counted and the next connection is exact again', () => {
    const engine = new L7Engine(engineOptions(factory.createDefaultConfig()), ALL_MODULES);
    const c2s = streamOf('c2s');
    const damaged = joined('c2s', chunks.find((c) => c.dir === 'c2s')!.data.length + 1, headersOffsets(c2s, 24)[2]).map((c) => payloadEvent(c, 'client', CAPTURE));
    const clean: PayloadEvent[] = recut(chunks, 16 * 1024).map((c) => ({ ...payloadEvent(c, 'client', CAPTURE), socketCookie: 99, localPort: 40001 }));
    const lastUs = clean[clean.length - 1].timeUs;
    const out: NetworkEvent[] = [...engine.process(damaged), ...engine.process(clean), ...engine.flush(lastUs + 1000)];
    assert.ok(engine.counters.hpack_desync >= 1);
    assert.equal(engine.counters.malformed_http2, 0);
    const second = grpcEvents(out as L7Event[]).filter((e) => e.socketCookie === 99);
    assert.deepEqual(second.map(summary), EXPECTED);
  });
});
