/**
 * HTTP/1.x under random and mutated input (deterministic seed): nothing throws, emitted
 * events keep their invariants, memory stays bounded, malformed input is counted.
 */
import assert from 'node:assert/strict';
import type { L7Event, PayloadEvent } from '../../../../core/events';
import { http1Protocol } from '../../../../processors/l7/http1';
import type { L7Options, ProtocolSession } from '../../../../processors/l7/protocol';
import { Fuzzer, heapUsed } from '../../../helpers/fuzz';
import { checkL7Event } from '../checks';
import { loadFixture, replay } from '../fixtures';
import { CLIENT, SERVER, enc, payload } from '../payloads';

const OPTIONS: L7Options = { captureQuery: true, transactionTimeoutMs: 1000, maxBufferBytes: 4096 };
const INPUTS = 120_000;

/** Seed conversations: recorded ones plus hand-written edge cases. */
function corpus(): PayloadEvent[][] {
  const recorded = ['curl-keepalive', 'curl-post-secrets', 'curl-head-big', 'node-client-chunked-upload', 'pipelined'].flatMap((name) => [
    replay(loadFixture('http1', name), 'client', { captureLimit: 2048 }),
    replay(loadFixture('http1', name), 'server', { captureLimit: 2048 }),
  ]);
  const send = (s: string, t: number): PayloadEvent => payload(CLIENT, SERVER, 'send', s, t);
  const recv = (s: string, t: number): PayloadEvent => payload(CLIENT, SERVER, 'recv', s, t);
  const crafted = [
    [send('POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nT: 1\r\n\r\n', 1), recv('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFF\r\n', 2)],
    [send('GET / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n', 1), recv('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101 Switching\r\n\r\n', 2)],
    [send('CONNECT host:443 HTTP/1.1\r\n\r\n', 1), recv('HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01', 2)],
    [send('GET /a HTTP/1.0\n\n', 1), recv('HTTP/1.0 200 OK\n\nbody until close', 2)],
    [send('HEAD /x HTTP/1.1\r\ntraceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\n\r\n', 1), recv('HTTP/1.1 304 Not Modified\r\nContent-Length: 100\r\n\r\n', 2)],
  ];
  return [...recorded, ...crafted];
}

function reshape(f: Fuzzer, e: PayloadEvent, data: Uint8Array, t: number): PayloadEvent {
  // Sometimes pretend the syscall moved more than was captured, as the kernel reports.
  const extra = f.bool(0.15) ? f.pick([1, 7, 100, 4096, 1_000_000]) : 0;
  return { ...e, data, originalLength: data.length + extra, truncated: extra > 0, timeUs: t, dataDirection: f.bool(0.05) ? (e.dataDirection === 'send' ? 'recv' : 'send') : e.dataDirection };
}

describe('l7 http1 fuzz', function () {
  this.timeout(60_000);

  it(`survives ${INPUTS} random and mutated inputs with bounded memory`, () => {
    const f = new Fuzzer(0x4854_5450);
    const seeds = corpus();
    let emitted = 0;
    let malformed = 0;
    let inputs = 0;
    let t = 1;
    const emit = (e: L7Event): void => {
      checkL7Event(e);
      emitted++;
    };
    // One long-lived session sees everything (state must stay bounded); short ones see one conversation each.
    const longLived = http1Protocol.createSession(OPTIONS);
    let heapAtStart = 0;
    const feedBoth = (session: ProtocolSession, event: PayloadEvent): void => {
      session.onPayload(event, emit);
      longLived.onPayload(event, emit);
      inputs++;
    };
    while (inputs < INPUTS) {
      if (inputs >= 20_000 && heapAtStart === 0) heapAtStart = heapUsed();
      const session = http1Protocol.createSession(OPTIONS);
      const mode = f.int(10);
      if (mode < 6) {
        // A recorded or crafted conversation, each chunk mutated and re-split.
        for (const e of f.pick(seeds)) {
          const data = f.bool(0.7) ? f.mutate(e.data) : e.data;
          for (const part of f.split(data, 3)) feedBoth(session, reshape(f, e, part, (t += f.int(1000))));
        }
      } else if (mode < 8) {
        // Plausible heads with random values.
        const method = f.pick(['GET', 'POST', 'HEAD', 'PUT', 'X-CUSTOM', 'G', '']);
        const cl = f.pick(['0', '5', '-1', '99999999999999999', 'abc', '']);
        const head = `${method} /${f.int(100)} HTTP/1.${f.int(3)}\r\nContent-Length: ${cl}\r\nTransfer-Encoding: ${f.pick(['chunked', 'gzip', ''])}\r\n\r\n${f.pick(['', 'x'.repeat(f.int(20)), '5\r\nhello\r\n0\r\n\r\n'])}`;
        feedBoth(session, payload(CLIENT, SERVER, 'send', enc(head), (t += 10)));
        const status = `HTTP/1.${f.int(2)} ${f.int(700)} R\r\nContent-Length: ${cl}\r\nTransfer-Encoding: ${f.pick(['chunked', ''])}\r\n\r\n${f.pick(['', '3\r\nabc\r\n0\r\n\r\n', 'zz'])}`;
        feedBoth(session, payload(CLIENT, SERVER, 'recv', enc(status), (t += 10)));
      } else {
        // Pure noise, sometimes behind a valid request line so it reaches the deeper states.
        const prefix = f.bool() ? enc('GET / HTTP/1.1\r\n') : new Uint8Array(0);
        const noise = f.bytes(300);
        const data = new Uint8Array(prefix.length + noise.length);
        data.set(prefix);
        data.set(noise, prefix.length);
        feedBoth(session, payload(CLIENT, SERVER, f.bool() ? 'send' : 'recv', data, (t += 10)));
      }
      if (f.bool(0.3)) session.expire(t + 2_000_000, emit);
      session.close(t, emit);
      malformed += session.malformed;
      if (f.bool(0.01)) longLived.expire(t, emit);
    }
    longLived.close(t, emit);
    malformed += longLived.malformed;
    const growth = heapUsed() - heapAtStart;
    if (process.env.FUZZ_STATS) console.log({ inputs, emitted, malformed, growth });
    assert.ok(emitted > 1000, `only ${emitted} transactions came out of the corpus`);
    assert.ok(malformed > 1000, `malformed input must be counted (counted ${malformed})`);
    assert.ok(growth < 16 * 1024 * 1024, `heap grew ${(growth / 1048576).toFixed(1)} MiB`);
  });
});
