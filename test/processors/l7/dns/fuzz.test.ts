/**
 * DNS under random and mutated input (deterministic seed): the message parser and the session
 * (UDP and TCP framing) never throw, events keep their invariants, memory stays bounded,
 * malformed input is counted.
 */
import assert from 'node:assert/strict';
import type { L7Event, PayloadEvent } from '../../../../core/events';
import { dnsProtocol } from '../../../../processors/l7/dns';
import { DnsMessage, looksLikeDns, parseDnsMessage, PARSE_BAD_RECORDS, PARSE_MALFORMED, PARSE_OK } from '../../../../processors/l7/dns/message';
import type { L7Options } from '../../../../processors/l7/protocol';
import { Fuzzer, heapUsed } from '../../../helpers/fuzz';
import { checkL7Event } from '../checks';
import { loadFixture } from '../fixtures';
import { CLIENT, payload, type Endpoint } from '../payloads';
import { A, dnsMessage, withLengthPrefix } from './build';

const OPTIONS: L7Options = { captureQuery: false, transactionTimeoutMs: 1000, maxBufferBytes: 4096 };
const RESOLVER: Endpoint = { pid: 3003, comm: 'dnsmasq', address: '127.0.0.1', port: 15353, cookie: 33 };
const PARSER_INPUTS = 150_000;
const SESSION_INPUTS = 120_000;

function corpus(): Uint8Array[] {
  const names = ['udp-a', 'udp-aaaa', 'udp-cname', 'udp-txt', 'udp-mx', 'udp-srv', 'udp-ptr', 'udp-nxdomain', 'udp-refused', 'tcp-a', 'tcp-keepopen'];
  const recorded = names.flatMap((n) =>
    loadFixture('dns', n).connections.flatMap((c) => c.chunks.map((ch) => {
      const bytes = new Uint8Array(Buffer.from(ch.data, 'base64'));
      return c.transport === 'tcp' ? bytes.subarray(2) : bytes;
    })),
  );
  const compressed = dnsMessage({
    id: 1,
    response: true,
    questions: [{ name: 'www.example.com', type: A }],
    answers: [
      { name: { pointer: 12 }, type: 5, rdata: [3, 0x63, 0x64, 0x6e, 0xc0, 16] },
      { name: { pointer: 12 }, type: 1, rdata: [1, 2, 3, 4] },
      { name: { pointer: 12 }, type: 15, rdata: [0, 5, 0xc0, 12] },
    ],
    additional: [{ name: '.', type: 41, cls: 1232, ttl: 0, rdata: [] }],
  });
  return [...recorded, compressed];
}

describe('l7 dns fuzz', function () {
  this.timeout(60_000);

  it(`message parser survives ${PARSER_INPUTS} random and mutated messages`, () => {
    const f = new Fuzzer(0xd45);
    const seeds = corpus();
    const msg = new DnsMessage();
    const results = [0, 0, 0];
    for (let i = 0; i < PARSER_INPUTS; i++) {
      const input = f.bool(0.8) ? f.mutate(f.pick(seeds), 1 + f.int(6)) : f.bytes(200);
      looksLikeDns(input, 0, input.length);
      const result = parseDnsMessage(input, 0, input.length, msg, true, f.bool(0.2));
      results[result]++;
      if (result !== PARSE_MALFORMED) {
        assert.ok(msg.answers.length <= 32);
        assert.ok(msg.questionName.length <= 4 * 255);
      }
    }
    assert.ok(results[PARSE_OK] > 10_000, `ok ${results[0]}`);
    assert.ok(results[PARSE_MALFORMED] > 10_000, `malformed ${results[1]}`);
    assert.ok(results[PARSE_BAD_RECORDS] > 1_000, `bad records ${results[2]}`);
  });

  it(`session survives ${SESSION_INPUTS} datagrams and TCP reads with bounded memory`, () => {
    const f = new Fuzzer(0x5e55);
    const seeds = corpus();
    let emitted = 0;
    let malformed = 0;
    let t = 1;
    const emit = (e: L7Event): void => {
      checkL7Event(e);
      emitted++;
    };
    const udpLong = dnsProtocol.createSession(OPTIONS);
    const tcpLong = dnsProtocol.createSession(OPTIONS);
    let heapAtStart = 0;
    for (let i = 0; i < SESSION_INPUTS; i++) {
      if (i === 20_000) heapAtStart = heapUsed();
      t += f.int(5000);
      const seed = f.pick(seeds);
      const message = f.bool(0.6) ? f.mutate(seed, 1 + f.int(3)) : f.bool(0.5) ? seed : f.bytes(100);
      const peer: Endpoint = { ...CLIENT, port: 40000 + f.int(8) };
      const dir = f.bool() ? 'send' : 'recv';
      if (f.bool()) {
        const limit = f.bool(0.1) ? f.int(message.length + 1) : undefined;
        udpLong.onPayload(payload(RESOLVER, peer, dir, message, t, { transport: 'udp', captureLimit: limit }), emit);
      } else {
        const framed = f.bool(0.9) ? withLengthPrefix(message) : f.mutate(withLengthPrefix(message));
        for (const part of f.split(framed, 4)) {
          const e: PayloadEvent = payload(CLIENT, RESOLVER, dir, part, t, { originalLength: part.length + (f.bool(0.05) ? f.int(300) : 0) });
          tcpLong.onPayload(e, emit);
        }
      }
      if (f.bool(0.01)) {
        udpLong.expire(t, emit);
        tcpLong.expire(t, emit);
      }
    }
    udpLong.close(t, emit);
    tcpLong.close(t, emit);
    malformed = udpLong.malformed + tcpLong.malformed;
    const growth = heapUsed() - heapAtStart;
    if (process.env.FUZZ_STATS) console.log({ emitted, malformed, growth });
    assert.ok(emitted > 1000, `only ${emitted} transactions`);
    assert.ok(malformed > 1000, `malformed input must be counted (counted ${malformed})`);
    assert.ok(growth < 16 * 1024 * 1024, `heap grew ${(growth / 1048576).toFixed(1)} MiB`);
  });
});
