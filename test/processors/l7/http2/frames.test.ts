import assert from 'node:assert/strict';
import {
  FRAME_DATA,
  FRAME_GOAWAY,
  FRAME_HEADERS,
  FRAME_PING,
  FRAME_SETTINGS,
  FrameReader,
  h2ErrorName,
  isPlausibleFrameChain,
  type FrameSink,
} from '../../../../processors/l7/http2/frames';
import { detectHttp2 } from '../../../../processors/l7/http2';
import { cat, frame, PREFACE } from './h2-builders';

interface Seen {
  type: number;
  flags: number;
  stream: number;
  length: number;
  payload: string;
  intact: boolean;
}

function collector(): { sink: FrameSink; seen: Seen[] } {
  const seen: Seen[] = [];
  return {
    seen,
    sink: {
      onFrame(type, flags, stream, length, payload, start, end, intact) {
        seen.push({ type, flags, stream, length, payload: Buffer.from(payload.subarray(start, end)).toString('hex'), intact });
      },
    },
  };
}

const SAMPLE = cat(
  frame(FRAME_SETTINGS, 0, 0, [0, 1, 0, 0, 0x10, 0, 0, 3, 0, 0, 0, 100]),
  frame(FRAME_HEADERS, 0x05, 1, [0x82, 0x84]),
  frame(FRAME_DATA, 0x01, 1, Buffer.from('hello world')),
  frame(FRAME_PING, 0, 0, [1, 2, 3, 4, 5, 6, 7, 8]),
  frame(FRAME_GOAWAY, 0, 0, [0, 0, 0, 1, 0, 0, 0, 0, 0x64, 0x65, 0x62, 0x75, 0x67]),
  frame(0x20, 0, 0, [9, 9]), // unknown extension frame type: delivered, payload not kept
);

describe('HTTP/2 frame reader', () => {
  it('delivers each frame with the payload prefix the session needs', () => {
    const { sink, seen } = collector();
    const reader = new FrameReader(sink, 1024);
    reader.push(SAMPLE, 0, SAMPLE.length);
    assert.deepEqual(seen.map((s) => [s.type, s.flags, s.stream, s.length, s.payload, s.intact]), [
      [FRAME_SETTINGS, 0, 0, 12, '000100001000000300000064', true],
      [FRAME_HEADERS, 5, 1, 2, '8284', true],
      [FRAME_DATA, 1, 1, 11, '', true], // bodies are never kept
      [FRAME_PING, 0, 0, 8, '', true],
      [FRAME_GOAWAY, 0, 0, 13, '0000000100000000', true], // debug data dropped
      [0x20, 0, 0, 2, '', true],
    ]);
    assert.ok(reader.atFrameBoundary);
  });

  it('gives the same frames whatever the chunk boundaries, down to single bytes', () => {
    const whole = collector();
    new FrameReader(whole.sink, 1024).push(SAMPLE, 0, SAMPLE.length);
    for (const step of [1, 2, 3, 5, 7, 9, 10, 13]) {
      const c = collector();
      const reader = new FrameReader(c.sink, 1024);
      for (let i = 0; i < SAMPLE.length; i += step) reader.push(SAMPLE, i, Math.min(SAMPLE.length, i + step));
      assert.deepEqual(c.seen, whole.seen, `step ${step}`);
    }
  });

  it('marks header blocks larger than it keeps as not intact, without buffering them', () => {
    const { sink, seen } = collector();
    const reader = new FrameReader(sink, 16);
    const big = frame(FRAME_HEADERS, 4, 1, new Uint8Array(40));
    reader.push(big, 0, big.length);
    assert.equal(seen.length, 1);
    assert.equal(seen[0].intact, false);
    assert.equal(seen[0].payload, '');
    assert.ok(reader.atFrameBoundary);
  });

  it('skips bytes lost inside a DATA payload and stays in sync', () => {
    const { sink, seen } = collector();
    const reader = new FrameReader(sink, 1024);
    const data = frame(FRAME_DATA, 1, 1, new Uint8Array(100));
    reader.push(data, 0, 30);
    reader.gap(79); // the remaining 79 bytes of the frame were not captured
    const next = frame(FRAME_HEADERS, 4, 3, [0x82]);
    reader.push(next, 0, next.length);
    assert.equal(reader.lost, false);
    assert.deepEqual(seen.map((s) => [s.type, s.stream, s.intact]), [[FRAME_DATA, 1, true], [FRAME_HEADERS, 3, true]]);
  });

  it('delivers a header block cut by a gap as not intact and stays in sync', () => {
    const { sink, seen } = collector();
    const reader = new FrameReader(sink, 1024);
    const headers = frame(FRAME_HEADERS, 4, 1, new Uint8Array(50).fill(0x82));
    reader.push(headers, 0, 20);
    reader.gap(39);
    assert.deepEqual(seen.map((s) => [s.type, s.intact]), [[FRAME_HEADERS, false]]);
    assert.ok(reader.atFrameBoundary);
  });

  it('loses sync when a gap covers a frame header, and resyncs on request', () => {
    const { sink, seen } = collector();
    const reader = new FrameReader(sink, 1024);
    const data = frame(FRAME_DATA, 0, 1, new Uint8Array(10));
    reader.push(data, 0, 15);
    reader.gap(20); // past the end of the frame: the next header is gone
    assert.ok(reader.lost);
    assert.equal(reader.syncLosses, 1);
    reader.push(SAMPLE, 0, SAMPLE.length);
    assert.equal(seen.length, 1, 'nothing is parsed while lost');
    reader.resync();
    reader.push(SAMPLE, 0, SAMPLE.length);
    assert.equal(seen.length, 7);
  });

  it('rejects a stream whose first frames are implausible (strict mode)', () => {
    const { sink } = collector();
    const reader = new FrameReader(sink, 1024, 4);
    const http1 = Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    reader.push(http1, 0, http1.length);
    assert.ok(reader.rejected);
    assert.ok(reader.lost);
  });

  it('names error codes', () => {
    assert.equal(h2ErrorName(0), 'NO_ERROR');
    assert.equal(h2ErrorName(8), 'CANCEL');
    assert.equal(h2ErrorName(0xb), 'ENHANCE_YOUR_CALM');
    assert.equal(h2ErrorName(0x1234), '0x1234');
  });
});

describe('HTTP/2 detection', () => {
  it('recognizes the client preface, also cut short', () => {
    assert.ok(detectHttp2(cat(PREFACE, frame(FRAME_SETTINGS, 0, 0)), false));
    assert.ok(detectHttp2(PREFACE.subarray(0, 10), true));
    assert.ok(!detectHttp2(Buffer.from('PRI * HTTP/1.1\r\n'), false));
  });

  it('recognizes a server connection start and mid-connection frames', () => {
    assert.ok(detectHttp2(cat(frame(FRAME_SETTINGS, 0, 0, [0, 3, 0, 0, 0, 100]), frame(8, 0, 0, [0, 0, 0xff, 0xff])), false));
    assert.ok(detectHttp2(cat(frame(FRAME_HEADERS, 4, 5, [0x88]), frame(FRAME_DATA, 1, 5, [1, 2, 3])), false));
    // A truncated capture may end inside a frame.
    const long = frame(FRAME_DATA, 0, 1, new Uint8Array(4000));
    assert.ok(detectHttp2(long.subarray(0, 100), true));
    assert.ok(!detectHttp2(long.subarray(0, 100), false));
  });

  it('does not take other protocols for HTTP/2', () => {
    const samples = [
      Buffer.from('GET /index.html HTTP/1.1\r\nHost: example\r\n\r\n'),
      Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'),
      Buffer.from('160301010001000100030300000000', 'hex'), // TLS ClientHello start
      Buffer.from('123401000001000000000000076578616d706c6503636f6d0000010001', 'hex'), // DNS query
      Buffer.from('0000000a0000000000000000000000', 'hex'), // zeros
      Buffer.from('*1\r\n$4\r\nPING\r\n'), // redis
      Buffer.alloc(0),
    ];
    for (const s of samples) assert.equal(detectHttp2(s, false), false, s.toString('hex').slice(0, 20));
    assert.equal(isPlausibleFrameChain(Buffer.alloc(5), false), false);
  });
});
