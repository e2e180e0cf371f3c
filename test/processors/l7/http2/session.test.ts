import assert from 'node:assert/strict';
import type { GrpcCallEvent, L7Event, PayloadEvent } from '../../../../core/events';
import { http2Protocol, Http2Session, MAX_TRACKED_STREAMS } from '../../../../processors/l7/http2';
import type { L7Options } from '../../../../processors/l7/protocol';
import { Fuzzer } from '../../../helpers/fuzz';
import { cat, EMPTY_SETTINGS, frame, indexed, literalIndexed, literalIndexedName, literalNameRef, PREFACE, SETTINGS_ACK } from './h2-builders';
import {
  BASE_US,
  coalesce,
  DEFAULT_OPTIONS,
  loadFixture,
  payloadEvent,
  rawChunks,
  replay,
  resplit,
  type Perspective,
  type RawChunk,
} from './replay';

const grpcEvents = (events: L7Event[]): GrpcCallEvent[] => events.filter((e): e is GrpcCallEvent => e.kind === 'l7.grpc');

function run(chunks: RawChunk[], perspective: Perspective, options: L7Options = DEFAULT_OPTIONS, capture?: number): { events: GrpcCallEvent[]; session: Http2Session; rejectedAt: number } {
  const r = replay(http2Protocol, chunks.map((c) => payloadEvent(c, perspective, capture)), options);
  return { events: grpcEvents(r.events), session: r.session as Http2Session, rejectedAt: r.rejectedAt };
}

/** What a test compares: the fields that do not depend on when the fixture was recorded. */
function summary(e: GrpcCallEvent): string {
  return [e.streamId, e.method, e.path, e.httpStatusCode, e.isGrpc ? e.rpcMethod : '-', e.grpcStatusCode, e.grpcStatusName ?? '-', e.errorType ?? '-'].join(' ');
}

/**
 * Events from a damaged or partial capture may miss fields, but must never contradict what the
 * complete capture says about the same stream.
 */
function assertConsistent(events: GrpcCallEvent[], truth: GrpcCallEvent[], what: string): void {
  const byId = new Map(truth.map((e) => [e.streamId, e]));
  for (const e of events) {
    const t = byId.get(e.streamId);
    assert.ok(t, `${what}: stream ${e.streamId} does not exist`);
    if (e.method !== '') assert.equal(e.method, t.method, `${what}: method of ${e.streamId}`);
    if (e.path !== '') assert.equal(e.path, t.path, `${what}: path of ${e.streamId}`);
    if (e.httpStatusCode !== 0) assert.equal(e.httpStatusCode, t.httpStatusCode, `${what}: status of ${e.streamId}`);
    if (e.grpcStatusCode !== -1) assert.equal(e.grpcStatusCode, t.grpcStatusCode, `${what}: grpc-status of ${e.streamId}`);
    if (e.authority !== undefined) assert.equal(e.authority, t.authority, `${what}: authority of ${e.streamId}`);
    if (e.rpcMethod !== undefined) assert.equal(e.rpcMethod, t.rpcMethod, `${what}: rpc method of ${e.streamId}`);
    if (e.traceContext !== undefined) assert.deepEqual(e.traceContext, t.traceContext, `${what}: trace of ${e.streamId}`);
  }
}

describe('HTTP/2 session on recorded node:http2 traffic (h2c)', () => {
  const chunks = rawChunks(loadFixture('http2', 'h2c-node'));
  const expected = [
    '1 GET /hello 200 - -1 - -',
    '3 POST /submit 201 - -1 - -',
    '5 GET /hello 200 - -1 - -',
    '7 GET /missing 404 - -1 - -',
    '9 GET /big-headers 204 - -1 - -',
    '11 GET /hello/1 200 - -1 - -',
    '13 GET /hello/2 200 - -1 - -',
    '15 GET /hello/3 200 - -1 - -',
    '17 GET /slow 0 - -1 - rst_stream:CANCEL',
  ];

  for (const perspective of ['client', 'server'] as const) {
    it(`reports every request with its response, seen from the ${perspective}`, () => {
      const { events, session } = run(chunks, perspective);
      assert.deepEqual(events.map(summary), expected);
      assert.equal(session.malformed, 0);
      assert.equal(session.openStreams, 0);
      for (const e of events) {
        assert.equal(e.side, perspective);
        assert.equal(e.process.pid, perspective === 'client' ? 1001 : 2002);
        assert.equal(e.localPort, perspective === 'client' ? 40000 : 50051);
        assert.equal(e.isGrpc, false);
        assert.match(e.authority ?? '', /^127\.0\.0\.1:\d+$/);
        assert.ok(e.startUs >= BASE_US && e.endUs >= e.startUs, 'latency is non-negative');
        assert.equal(e.timeUs, e.startUs);
        assert.equal(e.query, undefined, 'query strings are off by default');
      }
      const [first, post] = events;
      assert.deepEqual(first.traceContext, { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 });
      assert.equal(post.requestBodySize, 17);
      assert.equal(post.responseBodySize, '{"received":17}'.length);
      assert.equal(first.responseBodySize, 6);
    });
  }

  it('keeps query strings only when configured to', () => {
    const { events } = run(chunks, 'client', { ...DEFAULT_OPTIONS, captureQuery: true });
    assert.equal(events[0].query, 'name=world&token=secret');
    assert.equal(events[0].path, '/hello');
    assert.equal(events[2].query, 'name=again');
    assert.equal(events[1].query, undefined);
  });

  it('gives the same result for any chunking of the byte streams', () => {
    const truth = run(chunks, 'server').events.map(summary);
    const fuzz = new Fuzzer(0x5eed);
    for (let round = 0; round < 20; round++) {
      const split = resplit(chunks, (d) => fuzz.split(d, 8));
      assert.deepEqual(run(split, 'server').events.map(summary), truth, `round ${round}`);
    }
    assert.deepEqual(run(resplit(chunks, (d) => Array.from(d, (b) => Uint8Array.of(b))), 'client').events.map(summary), truth, 'byte by byte');
    assert.deepEqual(run(coalesce(chunks), 'client').events.map(summary), truth, 'coalesced reads');
  });

  it('joins a connection mid-way: never reports a wrong field, recovers the later calls', () => {
    const truth = run(chunks, 'client').events;
    let reported = 0;
    for (let cut = 1; cut < chunks.length; cut++) {
      // As the processor does: start a session at the first chunk that looks like HTTP/2.
      const rest = chunks.slice(cut);
      const start = rest.findIndex((c) => http2Protocol.detect(c.data, payloadEvent(c, 'client')));
      if (start < 0) continue;
      const { events } = run(rest.slice(start), 'client');
      assertConsistent(events, truth, `cut at ${cut}`);
      reported += events.length;
    }
    assert.ok(reported > 10, `mid-connection sessions reported ${reported} calls`);
  });

  it('survives truncated captures: counts what it lost, never reports a wrong field', () => {
    const truth = run(chunks, 'client').events;
    for (const capture of [16, 64, 256, 1024, 4096]) {
      for (const perspective of ['client', 'server'] as const) {
        const { events, session } = run(chunks, perspective, DEFAULT_OPTIONS, capture);
        assertConsistent(events, truth, `capture ${capture}`);
        if (capture === 4096) {
          // Only the 20 kB header block is cut: the call carrying it loses its fields, the
          // others decode because the lost block's table insertions are tolerated. Capture
          // loss is not malformed input: it is counted as a lost block and an HPACK rebuild.
          assert.equal(session.malformed, 0);
          assert.ok(session.lostHeaderBlocks >= 1 && session.hpackDesyncs >= 1);
          assert.ok(events.filter((e) => e.path !== '').length >= 7, `capture 4096 ${perspective}: ${events.map(summary).join('; ')}`);
        }
      }
    }
  });
});

describe('HTTP/2 session on recorded gRPC traffic', () => {
  const chunks = rawChunks(loadFixture('http2', 'grpc-node'));

  for (const perspective of ['client', 'server'] as const) {
    it(`reports method, status from trailers and Trailers-Only, seen from the ${perspective}`, () => {
      const { events, session } = run(chunks, perspective);
      assert.deepEqual(events.map(summary), [
        '1 POST /helloworld.Greeter/SayHello 200 helloworld.Greeter/SayHello 0 OK -',
        '3 POST /helloworld.Greeter/SayHello 200 helloworld.Greeter/SayHello 0 OK -',
        '5 POST /demo.v1.Inventory/GetMissing 200 demo.v1.Inventory/GetMissing 5 NOT_FOUND -',
        '7 POST /demo.v1.Inventory/Fail 200 demo.v1.Inventory/Fail 13 INTERNAL -',
      ]);
      assert.equal(session.malformed, 0);
      for (const e of events) {
        assert.equal(e.isGrpc, true);
        assert.equal(e.authority, 'inventory.internal:50051');
        assert.equal(e.side, perspective);
        assert.ok(e.requestBodySize !== undefined && e.requestBodySize > 5, 'length-prefixed message');
      }
      assert.deepEqual(events[0].traceContext, { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 });
      assert.equal(events[1].traceContext, undefined);
    });
  }

  it('emits a call whose answer never came on timeout, and nothing twice', () => {
    // Only the client's first write: preface, SETTINGS and the first call.
    const firstWrite = chunks.filter((c) => c.dir === 'c2s').slice(0, 1);
    const session = http2Protocol.createSession(DEFAULT_OPTIONS);
    const out: L7Event[] = [];
    const emit = (e: L7Event): void => {
      out.push(e);
    };
    for (const c of firstWrite) session.onPayload(payloadEvent(c, 'client'), emit);
    const t = BASE_US + firstWrite[0].tUs;
    session.expire(t + 1_000_000, emit);
    assert.equal(out.length, 0, 'not yet');
    session.expire(t + 31_000_000, emit);
    session.close(t + 32_000_000, emit);
    assert.deepEqual(grpcEvents(out).map((e) => [e.rpcMethod, e.errorType, e.httpStatusCode, e.grpcStatusCode, e.endUs - e.startUs]), [
      ['helloworld.Greeter/SayHello', 'timeout', 0, -1, 31_000_000],
    ]);
  });

  it('flushes unanswered calls when the connection closes', () => {
    const requestsOnly = chunks.filter((c) => c.dir === 'c2s');
    const { events } = run(requestsOnly, 'server');
    assert.ok(events.length >= 1);
    for (const e of events) assert.equal(e.errorType, 'connection_closed');
  });
});

describe('HTTP/2 session on curl and GOAWAY recordings', () => {
  it('reports curl --http2-prior-knowledge requests with their traceparent', () => {
    const fixture = loadFixture('http2', 'h2c-curl');
    const got = fixture.connections.map((_, i) => run(rawChunks(fixture, i), 'server').events.map((e) => `${summary(e)} ${e.traceContext?.spanId}`));
    assert.deepEqual(got, [['1 GET /hello/curl 200 - -1 - - b7ad6b7169203331'], ['1 GET /missing 404 - -1 - - b7ad6b7169203331']]);
  });

  it('fails the streams a GOAWAY says were not processed', () => {
    const chunks = rawChunks(loadFixture('http2', 'h2c-goaway'));
    for (const perspective of ['client', 'server'] as const) {
      assert.deepEqual(run(chunks, perspective).events.map(summary), ['1 GET /first 200 - -1 - -', '3 GET /second 0 - -1 - goaway:ENHANCE_YOUR_CALM']);
    }
  });
});

describe('HTTP/2 session on constructed input', () => {
  const t0 = BASE_US;
  const chunk = (dir: 'c2s' | 's2c', data: Uint8Array, dt = 0): RawChunk => ({ dir, tUs: dt, data });
  const request = (stream: number, path: string, endStream = true): Uint8Array =>
    frame(1, 0x04 | (endStream ? 1 : 0), stream, cat(indexed(2), indexed(6), literalNameRef(4, path), literalNameRef(1, 'svc')));
  const response = (stream: number, status = 8): Uint8Array => frame(1, 0x05, stream, indexed(status));

  it('handles PADDED and PRIORITY flags, CONTINUATION and request trailers', () => {
    const padded = frame(1, 0x08 | 0x20, 1, cat([3], [0x80, 0, 0, 0, 16], indexed(3), literalNameRef(4, '/pkg.Svc/Do'), [0, 0, 0]));
    const cont = frame(9, 0x04, 1, literalIndexedName(31, 'application/grpc'));
    const data = frame(0, 0x08, 1, cat([2], [0, 0, 0, 0, 1, 42], [0, 0]));
    const trailers = frame(1, 0x05, 1, literalIndexed('x-checksum', 'abc'));
    const resp = frame(1, 0x04, 1, cat(indexed(8), literalIndexedName(31, 'application/grpc')));
    const respTrailers = frame(1, 0x05, 1, literalIndexed('grpc-status', '0'));
    const { events, session } = run(
      [chunk('c2s', cat(PREFACE, EMPTY_SETTINGS, padded, cont, data, trailers)), chunk('s2c', cat(EMPTY_SETTINGS, SETTINGS_ACK, resp)), chunk('s2c', respTrailers, 500)],
      'client',
    );
    assert.equal(session.malformed, 0);
    assert.deepEqual(events.map(summary), ['1 POST /pkg.Svc/Do 200 pkg.Svc/Do 0 OK -']);
    assert.equal(events[0].requestBodySize, 6, 'padding is not body');
    assert.equal(events[0].endUs - events[0].startUs, 500);
  });

  it('keeps the server-side table in step through PUSH_PROMISE header blocks', () => {
    const push = frame(5, 0x04, 1, cat([0, 0, 0, 2], indexed(2), literalIndexedName(4, '/pushed.css')));
    // The response inserts :status 203 (now entry 62) and refers to the pushed :path entry,
    // which only exists (as 63) if the PUSH_PROMISE block was decoded into the table.
    const resp = frame(1, 0x05, 1, cat(literalIndexedName(8, '203'), indexed(63)));
    const { events, session } = run([chunk('c2s', cat(PREFACE, EMPTY_SETTINGS, request(1, '/index'))), chunk('s2c', cat(EMPTY_SETTINGS, push, resp))], 'client');
    assert.equal(session.malformed, 0);
    assert.deepEqual(events.map(summary), ['1 GET /index 203 - -1 - -']);
  });

  it('counts a header block interrupted by another frame and recovers on later streams', () => {
    const broken = frame(1, 0x00, 1, cat(indexed(2), indexed(6))); // no END_HEADERS
    const ping = frame(6, 0, 0, new Uint8Array(8));
    const { events, session } = run(
      [chunk('c2s', cat(PREFACE, EMPTY_SETTINGS, broken, ping, request(3, '/next'))), chunk('s2c', cat(EMPTY_SETTINGS, response(1), response(3)))],
      'client',
    );
    assert.ok(session.malformed >= 1);
    assert.deepEqual(events.map(summary), ['1   200 - -1 - malformed', '3 GET /next 200 - -1 - -']);
  });

  it('bounds the streams it tracks per connection', () => {
    const n = MAX_TRACKED_STREAMS + 88;
    const requests: Uint8Array[] = [];
    for (let i = 0; i < n; i++) requests.push(request(1 + 2 * i, `/r/${i}`));
    const { events, session } = run([chunk('c2s', cat(PREFACE, EMPTY_SETTINGS, ...requests))], 'client');
    assert.equal(session.evictedStreams, 88);
    assert.equal(events.filter((e) => e.errorType === 'evicted').length, 88);
    assert.equal(events.filter((e) => e.errorType === 'connection_closed').length, MAX_TRACKED_STREAMS);
    assert.equal(events[0].path, '/r/0', 'the oldest goes first');
  });

  it('gives up on what is not HTTP/2 after all', () => {
    const notH2 = run([chunk('c2s', Buffer.from('PRI * HTTP/1.1\r\nHost: x\r\n\r\n'))], 'client');
    assert.equal(notH2.rejectedAt, 0);
    const garbage = run([chunk('s2c', cat(EMPTY_SETTINGS, Buffer.from('this is not a frame at all......')))], 'client');
    assert.equal(garbage.rejectedAt, 0);
  });

  it('ignores responses to requests it never saw and trailers of finished streams', () => {
    const { events, session } = run(
      [chunk('s2c', cat(EMPTY_SETTINGS, response(41))), chunk('c2s', request(43, '/x')), chunk('s2c', response(43)), chunk('c2s', frame(1, 0x05, 43, literalIndexed('x-late', '1')))],
      'client',
    );
    assert.deepEqual(events.map(summary), ['43 GET /x 200 - -1 - -']);
    assert.equal(session.side, 'client');
  });

  it('reads the dynamic table size from SETTINGS and tolerates large tables', () => {
    const settings = frame(4, 0, 0, [0, 1, 0, 0, 0x40, 0]); // HEADER_TABLE_SIZE 16384
    const update = [0x3f, 0xe1, 0x7f]; // size update to 16384
    const req = frame(1, 0x05, 1, cat(update, indexed(2), literalIndexedName(4, '/big-table')));
    const { events, session } = run([chunk('s2c', settings), chunk('c2s', cat(PREFACE, EMPTY_SETTINGS, req)), chunk('s2c', response(1))], 'client');
    assert.equal(session.malformed, 0);
    assert.deepEqual(events.map(summary), ['1 GET /big-table 200 - -1 - -']);
  });

  it('copies the connection header from the payload and marks the side', () => {
    const p: PayloadEvent = payloadEvent(chunk('c2s', cat(PREFACE, EMPTY_SETTINGS, request(1, '/h'))), 'server');
    const session = http2Protocol.createSession(DEFAULT_OPTIONS);
    const out: L7Event[] = [];
    session.onPayload({ ...p, k8s: { namespace: 'shop', podName: 'api-0' }, sampleRatio: 0.5 }, (e) => out.push(e));
    session.onPayload(payloadEvent(chunk('s2c', response(1), 250), 'server'), (e) => out.push(e));
    const [e] = grpcEvents(out);
    assert.equal(e.side, 'server');
    assert.deepEqual(e.k8s, { namespace: 'shop', podName: 'api-0' });
    assert.equal(e.sampleRatio, 0.5);
    assert.equal(e.remotePort, 40000);
    assert.equal(e.startUs, t0);
    assert.equal(e.endUs, t0 + 250);
  });
});
