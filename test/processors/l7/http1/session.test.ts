import assert from 'node:assert/strict';
import type { HttpTransactionEvent, L7Event, PayloadEvent } from '../../../../core/events';
import { http1Protocol } from '../../../../processors/l7/http1';
import type { L7Options } from '../../../../processors/l7/protocol';
import { CLIENT, SERVER, SessionDriver, enc, payload, summary } from '../payloads';
import { loadFixture, replay } from '../fixtures';

const OPTIONS: L7Options = { captureQuery: false, transactionTimeoutMs: 5000, maxBufferBytes: 16384 };

function driver(options: Partial<L7Options> = {}): SessionDriver {
  return new SessionDriver(http1Protocol.createSession({ ...OPTIONS, ...options }));
}

function http(events: L7Event[]): HttpTransactionEvent[] {
  return events.map((e) => {
    assert.equal(e.kind, 'l7.http');
    return e as HttpTransactionEvent;
  });
}

/** Client-side chunks: requests sent, responses received. */
const send = (data: string | Uint8Array, t: number, captureLimit?: number): PayloadEvent => payload(CLIENT, SERVER, 'send', data, t, { captureLimit });
const recv = (data: string | Uint8Array, t: number, captureLimit?: number): PayloadEvent => payload(CLIENT, SERVER, 'recv', data, t, { captureLimit });

describe('l7 http1 session', () => {
  it('reports a GET with its response, joined to the client connection', () => {
    const d = driver();
    d.feed(send('GET /users/42 HTTP/1.1\r\nHost: api.test:18080\r\nUser-Agent: curl/8.0\r\nAccept: */*\r\n\r\n', 1000));
    assert.equal(d.out.length, 0, 'nothing before the response');
    d.feed(recv('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello', 1800));
    const [tx] = http(d.out);
    assert.equal(d.out.length, 1);
    assert.equal(tx.side, 'client');
    assert.equal(tx.process.pid, CLIENT.pid);
    assert.equal(tx.socketCookie, CLIENT.cookie);
    assert.equal(tx.localPort, CLIENT.port);
    assert.equal(tx.remotePort, SERVER.port);
    assert.equal(tx.method, 'GET');
    assert.equal(tx.path, '/users/42');
    assert.equal(tx.query, undefined);
    assert.equal(tx.host, 'api.test:18080');
    assert.equal(tx.userAgent, 'curl/8.0');
    assert.equal(tx.httpVersion, '1.1');
    assert.equal(tx.statusCode, 200);
    assert.equal(tx.requestBodySize, 0);
    assert.equal(tx.responseBodySize, 5);
    assert.equal(tx.startUs, 1000);
    assert.equal(tx.endUs, 1800);
    assert.equal(tx.errorType, undefined);
    assert.equal(d.session.malformed, 0);
  });

  it('attributes the server side to the server process', () => {
    const d = driver();
    d.feed(payload(SERVER, CLIENT, 'recv', 'POST /orders HTTP/1.1\r\nHost: shop\r\nContent-Length: 3\r\n\r\nabc', 10));
    d.feed(payload(SERVER, CLIENT, 'send', 'HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n', 25));
    const [tx] = http(d.out);
    assert.equal(tx.side, 'server');
    assert.equal(tx.process.pid, SERVER.pid);
    assert.equal(tx.localPort, SERVER.port);
    assert.equal(tx.statusCode, 201);
    assert.equal(tx.requestBodySize, 3);
    assert.equal(tx.endUs - tx.startUs, 15);
  });

  it('keeps the query string only when asked to', () => {
    for (const captureQuery of [false, true]) {
      const d = driver({ captureQuery });
      d.feed(send('GET /search?q=observer&page=2#frag HTTP/1.1\r\n\r\n', 1), recv('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', 2));
      const [tx] = http(d.out);
      assert.equal(tx.path, '/search');
      assert.equal(tx.query, captureQuery ? 'q=observer&page=2' : undefined);
    }
  });

  it('parses a W3C traceparent and ignores an invalid one', () => {
    const d = driver();
    d.feed(send('GET / HTTP/1.1\r\nTraceParent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n\r\n', 1), recv('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', 2));
    d.feed(send('GET / HTTP/1.1\r\ntraceparent: 00-00000000000000000000000000000000-b7ad6b7169203331-01\r\n\r\n', 3), recv('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', 4));
    const [valid, invalid] = http(d.out);
    assert.deepEqual(valid.traceContext, { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 });
    assert.equal(invalid.traceContext, undefined);
  });

  it('never keeps Authorization, Cookie or bodies', () => {
    const d = driver();
    d.feed(
      send('POST /login HTTP/1.1\r\nAuthorization: Basic c2VjcmV0LXVzZXI=\r\nCookie: sid=cookie-secret\r\nX-Api-Key: key-secret\r\nContent-Length: 15\r\n\r\npassword=body-s', 1),
      recv('HTTP/1.1 200 OK\r\nSet-Cookie: sid=set-cookie-secret\r\nContent-Length: 11\r\n\r\nbody-secret', 2),
    );
    const text = JSON.stringify(d.out);
    for (const secret of ['c2VjcmV0', 'cookie-secret', 'key-secret', 'body-s', 'set-cookie-secret', 'body-secret']) {
      assert.ok(!text.includes(secret), `${secret} leaked into ${text}`);
    }
    assert.equal(http(d.out)[0].requestBodySize, 15);
  });

  it('correlates many requests on one keep-alive connection', () => {
    const d = driver();
    for (let i = 0; i < 100; i++) {
      d.feed(send(`GET /item/${i} HTTP/1.1\r\nHost: h\r\n\r\n`, i * 100), recv(`HTTP/1.1 200 OK\r\nContent-Length: ${i}\r\n\r\n${'x'.repeat(i)}`, i * 100 + 50));
    }
    const txs = http(d.out);
    assert.equal(txs.length, 100);
    txs.forEach((tx, i) => {
      assert.equal(tx.path, `/item/${i}`);
      assert.equal(tx.responseBodySize, i);
      assert.equal(tx.endUs - tx.startUs, 50);
    });
  });

  it('matches pipelined responses to requests in order', () => {
    const d = driver();
    d.feed(send('GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\nHEAD /c HTTP/1.1\r\n\r\n', 10));
    d.feed(recv('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\naaHTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\nb', 20));
    d.feed(recv('HTTP/1.1 200 OK\r\nContent-Length: 999\r\n\r\n', 30));
    const txs = http(d.out);
    assert.deepEqual(txs.map((t) => [t.method, t.path, t.statusCode, t.responseBodySize]), [
      ['GET', '/a', 200, 2],
      ['GET', '/b', 404, 1],
      ['HEAD', '/c', 200, 0],
    ]);
  });

  it('sizes chunked bodies in both directions, with extensions and trailers', () => {
    const d = driver();
    d.feed(send('PUT /up HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n4;name=v\r\nabcd\r\n3\r\nefg\r\n0\r\nX-Checksum: 1\r\n\r\n', 1));
    d.feed(recv('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n', 2));
    d.feed(send('GET /next HTTP/1.1\r\n\r\n', 3), recv('HTTP/1.1 204 No Content\r\n\r\n', 4));
    const txs = http(d.out);
    assert.equal(txs.length, 2);
    assert.equal(txs[0].requestBodySize, 7);
    assert.equal(txs[0].responseBodySize, 10);
    assert.equal(txs[1].path, '/next');
    assert.equal(txs[1].statusCode, 204);
    assert.equal(d.session.malformed, 0);
  });

  it('gives the same result however the bytes are split across reads', () => {
    const request = 'POST /split?x=1 HTTP/1.1\r\nHost: split.test\r\nUser-Agent: ua/1\r\ntraceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n';
    const response = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n11\r\n0123456789abcdefg\r\n0\r\n\r\n';
    const whole = driver({ captureQuery: true });
    whole.feed(send(request, 1), recv(response, 2));
    const expected = http(whole.out)[0];
    assert.equal(expected.responseBodySize, 20);
    const req = enc(request);
    const res = enc(response);
    for (let cut = 1; cut < Math.max(req.length, res.length); cut++) {
      const d = driver({ captureQuery: true });
      if (cut < req.length) d.feed(send(req.subarray(0, cut), 1), send(req.subarray(cut), 1));
      else d.feed(send(req, 1));
      if (cut < res.length) d.feed(recv(res.subarray(0, cut), 2), recv(res.subarray(cut), 2));
      else d.feed(recv(res, 2));
      assert.deepEqual(d.out, [expected], `split at ${cut}`);
    }
    // And one byte per read.
    const bytewise = driver({ captureQuery: true });
    for (const b of req) bytewise.feed(send(Uint8Array.of(b), 1));
    for (const b of res) bytewise.feed(recv(Uint8Array.of(b), 2));
    assert.deepEqual(bytewise.out, [expected]);
  });

  it('counts bodies beyond the capture size from the syscall length', () => {
    const d = driver();
    const big = 'HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n' + 'z'.repeat(60_000);
    d.feed(send('GET /big HTTP/1.1\r\n\r\n', 1));
    d.feed(recv(big, 2, 256)); // only 256 bytes captured of the first read
    for (let i = 0; i < 15; i++) d.feed(payload(CLIENT, SERVER, 'recv', new Uint8Array(64), 3 + i, { originalLength: 62_000 }));
    assert.equal(d.out.length, 0, 'body not complete yet');
    d.feed(payload(CLIENT, SERVER, 'recv', new Uint8Array(64), 100, { originalLength: 1_000_000 - (60_000 + 15 * 62_000) }));
    const [tx] = http(d.out);
    assert.equal(tx.responseBodySize, 1_000_000);
    assert.equal(tx.endUs, 100);
    // The connection is still in sync for the next exchange.
    d.feed(send('GET /after HTTP/1.1\r\n\r\n', 200), recv('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', 201));
    assert.equal(http(d.out)[1].path, '/after');
    assert.equal(d.session.malformed, 0);
  });

  it('counts a chunked body whose chunk-size lines were not captured until the last chunk ends a call', () => {
    const d = driver();
    const chunk = (n: number) => `${n.toString(16)}\r\n${'c'.repeat(n)}\r\n`;
    // One read of a head and four 64 KiB chunks, 4096 bytes captured: the second chunk-size line is in the gap.
    const first = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' + chunk(65536).repeat(4);
    d.feed(send('GET /big HTTP/1.1\r\n\r\n', 1));
    d.feed(recv(first, 2, 4096));
    // A large read captured only at its head (mid-chunk bytes), then its tail record with the last chunk.
    d.feed(payload(CLIENT, SERVER, 'recv', enc('c'.repeat(64)), 3, { originalLength: 4 * (65536 + 9) }));
    assert.equal(d.out.length, 0, 'the body goes on');
    d.feed(recv('c'.repeat(40) + '\r\n0\r\n\r\n', 4));
    const [tx] = http(d.out);
    assert.equal(tx.endUs, 4, 'ends with the call that held the last chunk');
    const exact = 8 * 65536 + 40;
    assert.ok(tx.responseBodySize! >= exact && tx.responseBodySize! <= exact + 8 * 9, `about ${exact} bytes: ${tx.responseBodySize}`);
    // Still in sync for the next exchange on the connection.
    d.feed(send('GET /after HTTP/1.1\r\n\r\n', 5), recv('HTTP/1.1 204 No Content\r\n\r\n', 6));
    assert.deepEqual(http(d.out).map((t) => [t.path, t.statusCode]), [['/big', 200], ['/after', 204]]);
  });

  it('ends a blind chunked body at the next message when its last chunk was not seen', () => {
    const d = driver();
    const body = `10000\r\n${'c'.repeat(65536)}\r\n`.repeat(3) + '0\r\n\r\n';
    d.feed(send('GET /big HTTP/1.1\r\n\r\n', 1));
    // The whole response in one write captured at its first 4096 bytes: the last chunk is in the gap.
    d.feed(recv('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' + body, 2, 4096));
    assert.equal(d.out.length, 0);
    d.feed(send('GET /next HTTP/1.1\r\n\r\n', 3), recv('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', 4));
    const txs = http(d.out);
    assert.deepEqual(txs.map((t) => [t.path, t.endUs]), [['/big', 2], ['/next', 4]], 'the blind body ended with its own call');
    assert.ok(txs[0].responseBodySize! >= 3 * 65536, `${txs[0].responseBodySize}`);
  });

  it('completes a blind chunked body at the close without an error', () => {
    const d = driver();
    const body = `10000\r\n${'c'.repeat(65536)}\r\n`.repeat(2) + '0\r\n\r\n';
    d.feed(send('GET /big HTTP/1.1\r\n\r\n', 1), recv('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n' + body, 2, 4096));
    d.session.close(9, d.emit);
    const [tx] = http(d.out);
    assert.deepEqual([tx.path, tx.statusCode, tx.errorType, tx.endUs], ['/big', 200, undefined, 2]);
  });

  it('keeps what it can of a head cut by the capture size and resynchronises', () => {
    const d = driver();
    const longHeader = 'X-Padding: ' + 'p'.repeat(500) + '\r\n';
    d.feed(send(`GET /cut HTTP/1.1\r\nHost: cut.test\r\n${longHeader}\r\n`, 1, 64));
    d.feed(recv(`HTTP/1.1 503 Service Unavailable\r\nContent-Length: 7\r\n${longHeader}\r\nbusy...`, 2, 64));
    d.feed(send('GET /next HTTP/1.1\r\n\r\n', 3), recv('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', 4));
    const txs = http(d.out);
    assert.deepEqual(txs.map((t) => [t.path, t.host, t.statusCode, t.responseBodySize]), [
      ['/cut', 'cut.test', 503, 7],
      ['/next', undefined, 200, 2],
    ]);
  });

  it('times out a request without a response, and drops the late response', () => {
    const d = driver({ transactionTimeoutMs: 1000 });
    d.feed(send('GET /slow HTTP/1.1\r\n\r\n', 5_000));
    d.session.expire(5_900, d.emit);
    assert.equal(d.out.length, 0);
    d.session.expire(6_001_000, d.emit);
    const [tx] = http(d.out);
    assert.equal(tx.errorType, 'timeout');
    assert.equal(tx.statusCode, 0);
    assert.equal(tx.endUs, 5_000 + 1_000_000);
    d.feed(recv('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', 7_000_000));
    assert.equal(d.out.length, 1, 'a response with no request pending is not reported');
    d.feed(send('GET /fast HTTP/1.1\r\n\r\n', 8_000_000), recv('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', 8_000_010));
    assert.equal(http(d.out)[1].path, '/fast');
  });

  it('does not time out a response still streaming its body', () => {
    const d = driver({ transactionTimeoutMs: 1000 });
    d.feed(send('GET /stream HTTP/1.1\r\n\r\n', 0), recv('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345', 10));
    d.session.expire(10_000_000, d.emit);
    assert.equal(d.out.length, 0);
    d.feed(recv('67890', 11_000_000));
    assert.equal(http(d.out)[0].responseBodySize, 10);
  });

  it('completes a body delimited by connection close, and flushes unanswered requests', () => {
    const d = driver();
    d.feed(send('GET /old HTTP/1.0\r\n\r\n', 1), recv('HTTP/1.0 200 OK\r\n\r\nsome bytes', 2), recv(' and more', 3));
    assert.equal(d.out.length, 0);
    d.session.close(9, d.emit);
    const [tx] = http(d.out);
    assert.equal(tx.httpVersion, '1.0');
    assert.equal(tx.responseBodySize, 19);
    assert.equal(tx.endUs, 3);
    assert.equal(tx.errorType, undefined);

    const e = driver();
    e.feed(send('GET /never HTTP/1.1\r\n\r\n', 1));
    e.session.close(50, e.emit);
    assert.equal(http(e.out)[0].errorType, 'connection_closed');
    assert.equal(http(e.out)[0].endUs, 50);
  });

  it('skips interim 1xx responses', () => {
    const d = driver();
    d.feed(send('POST /upload HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n', 1));
    d.feed(recv('HTTP/1.1 100 Continue\r\n\r\n', 2), send('data', 3), recv('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', 4));
    const [tx] = http(d.out);
    assert.equal(tx.statusCode, 200);
    assert.equal(tx.requestBodySize, 4);
  });

  it('hands the connection back after 101 Switching Protocols', () => {
    const d = driver();
    assert.equal(d.feed(send('GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n', 1)), true);
    assert.equal(d.feed(recv('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello', 2)), false);
    assert.equal(http(d.out)[0].statusCode, 101);
  });

  it('reports a stream that only looked like HTTP as not HTTP', () => {
    const d = driver();
    assert.equal(d.feed(send('GET /\x00\x01\x02 binary junk\r\n\r\n', 1)), false);
    assert.equal(d.session.malformed, 1);
  });

  it('counts garbage between messages as malformed and resynchronises on the next request', () => {
    const d = driver();
    d.feed(send('GET /one HTTP/1.1\r\n\r\n', 1), recv('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', 2));
    assert.equal(d.feed(send('GARBAGE!! not a request\r\n\r\n', 3)), true);
    d.feed(send('GET /two HTTP/1.1\r\n\r\n', 4), recv('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', 5));
    assert.ok(d.session.malformed >= 1);
    assert.deepEqual(http(d.out).map((t) => t.path), ['/one', '/two']);
  });

  it('reports a header block larger than max_buffer_bytes as malformed without buffering it', () => {
    const d = driver({ maxBufferBytes: 1024 });
    d.feed(send('GET /ok HTTP/1.1\r\n\r\n', 0), recv('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', 1));
    d.feed(send('GET /huge HTTP/1.1\r\n', 2));
    for (let i = 0; i < 100; i++) d.feed(send(`X-H-${i}: ${'v'.repeat(100)}\r\n`, 3));
    assert.equal(d.session.malformed, 1);
    d.feed(send('GET /after HTTP/1.1\r\n\r\n', 4), recv('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', 5));
    assert.deepEqual(http(d.out).map((t) => t.path), ['/ok', '/after']);
  });

  it('accepts bare LF line ends and absolute-form targets', () => {
    const d = driver({ captureQuery: true });
    d.feed(send('GET http://proxied.test:8080/p/q?z=1 HTTP/1.1\nUser-Agent: lf\n\n', 1), recv('HTTP/1.1 200 OK\nContent-Length: 1\n\nx', 2));
    const [tx] = http(d.out);
    assert.equal(tx.host, 'proxied.test:8080');
    assert.equal(tx.path, '/p/q');
    assert.equal(tx.query, 'z=1');
    assert.equal(tx.userAgent, 'lf');
    assert.equal(tx.responseBodySize, 1);
  });

  it('ignores a response when the capture began mid-connection', () => {
    const d = driver();
    assert.equal(d.feed(recv('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc', 1)), true);
    assert.equal(d.out.length, 0);
    d.feed(send('GET /x HTTP/1.1\r\n\r\n', 2), recv('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', 3));
    assert.deepEqual(http(d.out).map((t) => t.path), ['/x']);
  });

  it('bounds the pipeline of unanswered requests', () => {
    const d = driver();
    for (let i = 0; i < 100; i++) d.feed(send(`GET /${i} HTTP/1.1\r\n\r\n`, i));
    assert.equal(d.out.length, 36);
    assert.ok(http(d.out).every((t) => t.errorType === 'queue_overflow'));
  });
});

describe('l7 http1 on recorded fixtures', () => {
  for (const view of ['client', 'server'] as const) {
    it(`curl keep-alive, ${view} side`, () => {
      const d = driver();
      d.feed(...replay(loadFixture('http1', 'curl-keepalive'), view));
      const txs = http(d.out);
      assert.deepEqual(txs.map((t) => [t.method, t.path, t.statusCode, t.responseBodySize]), [
        ['GET', '/hello', 200, 12],
        ['GET', '/chunked', 200, 44],
        ['GET', '/missing', 404, 10],
        ['GET', '/empty', 204, 0],
      ]);
      for (const t of txs) {
        assert.equal(t.side, view);
        assert.equal(t.process.pid, view === 'client' ? 1001 : 2002);
        assert.equal(t.host, '127.0.0.1:18081');
        assert.match(t.userAgent ?? '', /^curl\//);
        assert.ok(t.endUs > t.startUs);
      }
      assert.equal(d.session.malformed, 0);
    });
  }

  it('curl POST with secrets: body size, trace context, nothing secret kept', () => {
    const d = driver();
    d.feed(...replay(loadFixture('http1', 'curl-post-secrets'), 'server'));
    const [tx] = http(d.out);
    assert.equal(tx.method, 'POST');
    assert.equal(tx.path, '/echo');
    assert.equal(tx.query, undefined);
    assert.equal(tx.statusCode, 201);
    assert.equal(tx.requestBodySize, 'name=observer&secret=hunter2'.length);
    assert.deepEqual(tx.traceContext, { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 });
    const text = JSON.stringify(tx);
    for (const secret of ['very-secret-token', 'also-secret', 'hunter2', 'abc123', 'alice']) assert.ok(!text.includes(secret), secret);
  });

  it('HEAD then a 100000-byte GET, with and without capture truncation', () => {
    for (const captureLimit of [undefined, 4096, 256]) {
      const d = driver();
      const events = replay(loadFixture('http1', 'curl-head-big'), 'client', { captureLimit });
      // The fixture has two connections (two curl runs): give each its own session.
      const byCookie = new Map<number, SessionDriver>();
      for (const e of events) {
        let s = byCookie.get(e.socketCookie);
        if (!s) byCookie.set(e.socketCookie, (s = driver()));
        s.feed(e);
      }
      const txs = http([...byCookie.values()].flatMap((s) => s.out));
      assert.deepEqual(txs.map((t) => [t.method, t.statusCode, t.responseBodySize]), [
        ['HEAD', 200, 0],
        ['GET', 200, 100_000],
      ], `capture limit ${captureLimit}`);
      assert.equal(d.out.length, 0);
    }
  });

  it('node client: chunked upload then a GET on the same connection', () => {
    const d = driver();
    d.feed(...replay(loadFixture('http1', 'node-client-chunked-upload'), 'client'));
    const txs = http(d.out);
    assert.deepEqual(txs.map((t) => [t.method, t.path, t.statusCode, t.requestBodySize]), [
      ['PUT', '/echo', 201, 28],
      ['GET', '/hello', 200, 0],
    ]);
    assert.equal(txs[1].userAgent, 'fixture-recorder/1');
  });

  for (const view of ['client', 'server'] as const) {
    it(`three pipelined requests, ${view} side`, () => {
      const d = driver({ captureQuery: true });
      d.feed(...replay(loadFixture('http1', 'pipelined'), view));
      d.session.close(Number.MAX_SAFE_INTEGER, d.emit);
      assert.deepEqual(http(d.out).map((t) => [t.path, t.query, t.statusCode, t.host, t.errorType]), [
        ['/hello', undefined, 200, 'pipelined.test', undefined],
        ['/missing', undefined, 404, 'pipelined.test', undefined],
        ['/hello', 'again=1', 200, 'pipelined.test', undefined],
      ]);
    });
  }
});

describe('l7 http1 session: exchanges the kernel summarised', () => {
  const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

  it('builds the transaction from the request\'s own head and the summary, marked measuredOnly', () => {
    const d = driver();
    const request = `POST /orders/7?token=x HTTP/1.1\r\nHost: shop.test\r\nUser-Agent: curl/8.0\r\ntraceparent: ${TRACEPARENT}\r\nContent-Length: 5\r\n\r\nhello`;
    assert.equal(d.feed(summary(CLIENT, SERVER, request, 1000, { timeUs: 3500, status: 201, bodyLength: 17, versionMinor: 0 })), true);
    const [tx] = http(d.out);
    assert.equal(d.out.length, 1);
    assert.equal(tx.measuredOnly, true);
    assert.equal(tx.side, 'client');
    assert.equal(tx.process.pid, CLIENT.pid);
    assert.equal(tx.socketCookie, CLIENT.cookie);
    assert.equal(tx.method, 'POST');
    assert.equal(tx.path, '/orders/7');
    assert.equal(tx.query, undefined, 'query strings only with capture_query');
    assert.equal(tx.host, 'shop.test');
    assert.equal(tx.userAgent, 'curl/8.0');
    assert.deepEqual(tx.traceContext, { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 });
    assert.equal(tx.httpVersion, '1.1', 'the request\'s version, as for a parsed exchange');
    assert.equal(tx.statusCode, 201);
    assert.equal(tx.requestBodySize, 5);
    assert.equal(tx.responseBodySize, 17);
    assert.equal(tx.timeUs, 1000);
    assert.equal(tx.startUs, 1000);
    assert.equal(tx.endUs, 3500);
    assert.equal(tx.errorType, undefined);
    assert.equal(d.session.malformed, 0);
  });

  it('keeps the query string when asked, and reports a server\'s summary as the server', () => {
    const d = driver({ captureQuery: true });
    d.feed(summary(SERVER, CLIENT, 'GET /a?b=1 HTTP/1.0\r\n\r\n', 10, { timeUs: 25, status: 200, bodyLength: 3 }));
    const [tx] = http(d.out);
    assert.equal(tx.side, 'server');
    assert.equal(tx.process.pid, SERVER.pid);
    assert.equal(tx.localPort, SERVER.port);
    assert.equal(tx.query, 'b=1');
    assert.equal(tx.httpVersion, '1.0');
    assert.equal(tx.measuredOnly, true);
  });

  it('HEAD and 204 summaries have no response body', () => {
    const d = driver();
    d.feed(
      summary(CLIENT, SERVER, 'HEAD /big HTTP/1.1\r\nHost: h\r\n\r\n', 100, { timeUs: 150, status: 200, length: 60 }),
      summary(CLIENT, SERVER, 'DELETE /item/3 HTTP/1.1\r\nHost: h\r\n\r\n', 200, { timeUs: 240, status: 204, length: 40 }),
    );
    assert.deepEqual(http(d.out).map((t) => [t.method, t.path, t.statusCode, t.requestBodySize, t.responseBodySize, t.endUs - t.startUs, t.measuredOnly]), [
      ['HEAD', '/big', 200, 0, 0, 50, true],
      ['DELETE', '/item/3', 204, 0, 0, 40, true],
    ]);
    assert.equal(d.session.malformed, 0);
  });

  it('full exchange, summary, full exchange on one connection: each request with its own response', () => {
    const d = driver();
    d.feed(
      send('GET /first HTTP/1.1\r\nHost: h\r\n\r\n', 100),
      recv('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', 150),
      summary(CLIENT, SERVER, 'GET /second HTTP/1.1\r\nHost: h\r\n\r\n', 200, { timeUs: 260, status: 404, bodyLength: 9 }),
      send('POST /third HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc', 300),
      recv('HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\noops', 380),
    );
    assert.deepEqual(http(d.out).map((t) => [t.path, t.statusCode, t.requestBodySize, t.responseBodySize, t.startUs, t.endUs, t.measuredOnly]), [
      ['/first', 200, 0, 2, 100, 150, undefined],
      ['/second', 404, 0, 9, 200, 260, true],
      ['/third', 500, 3, 4, 300, 380, undefined],
    ]);
    assert.equal(d.session.malformed, 0);
  });

  it('request bytes that are no whole request: counted malformed, nothing emitted, never thrown', () => {
    // Each on a fresh session: the first thing a session sees, when it is not HTTP, ends it.
    for (const bytes of [
      enc('\x00\x01\x02 garbage, not a request line at all'),
      enc('GET /x HTTP/1.1\r\nHost: h\r\n'), // the head does not end
      enc('GET /x HTTP/1.1\r\nContent-Length: 10\r\n\r\nshort'), // the body does not match its length
      enc('GET /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'),
      enc('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'), // a response where the request should be
      new Uint8Array(0),
    ]) {
      const d = driver();
      assert.equal(d.feed(summary(CLIENT, SERVER, bytes, 10, { timeUs: 20, status: 200 })), false, 'the stream is given up, as for any first message that is not HTTP');
      assert.equal(d.out.length, 0);
      assert.equal(d.session.malformed, 1);
    }
    // After a parsed exchange the session keeps going, and the next exchange is reported.
    const d = driver();
    d.feed(send('GET /ok HTTP/1.1\r\n\r\n', 1), recv('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', 2));
    assert.equal(d.feed(summary(CLIENT, SERVER, 'GET /x HTTP/1.1\r\nHost: h\r\n', 10, { timeUs: 20, status: 200 })), true);
    assert.equal(d.feed(summary(CLIENT, SERVER, 'GET /y HTTP/1.1\r\n\r\n', 30, { timeUs: 40, status: 101 })), true, 'no interim status is ever summarised');
    d.feed(send('GET /next HTTP/1.1\r\n\r\n', 50), recv('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', 60));
    assert.deepEqual(http(d.out).map((t) => t.path), ['/ok', '/next']);
    assert.equal(d.session.malformed, 2);
  });

  it('a summary while an exchange is still open (records lost): counted malformed, and the stream resynchronises', () => {
    const d = driver();
    d.feed(send('GET /open HTTP/1.1\r\n\r\n', 10));
    assert.equal(d.feed(summary(CLIENT, SERVER, 'GET /summed HTTP/1.1\r\n\r\n', 20, { timeUs: 30, status: 200 })), true);
    assert.equal(d.out.length, 0);
    assert.equal(d.session.malformed, 1);
    // Inside a response body: the body's bytes are not taken for the next message.
    d.feed(recv('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart', 40));
    d.feed(summary(CLIENT, SERVER, 'GET /summed2 HTTP/1.1\r\n\r\n', 50, { timeUs: 60, status: 200 }));
    assert.equal(d.session.malformed, 2);
    assert.deepEqual(http(d.out).map((t) => [t.path, t.statusCode, t.responseBodySize, t.measuredOnly]), [['/open', 200, 4, undefined]], 'the open response as far as it was seen');
    d.feed(send('GET /after HTTP/1.1\r\n\r\n', 70), recv('HTTP/1.1 204 No Content\r\n\r\n', 80));
    assert.deepEqual(http(d.out).map((t) => [t.path, t.statusCode]), [['/open', 200], ['/after', 204]]);
    // A request travelling the other way round than this session has seen requests go.
    d.feed(summary(SERVER, CLIENT, 'GET /reversed HTTP/1.1\r\n\r\n', 90, { timeUs: 95, status: 200 }));
    assert.equal(d.session.malformed, 3);
    assert.equal(d.out.length, 2);
  });
});
