/**
 * A stream that starts like a protocol and then breaks is that protocol's malformed input: the
 * engine counts it as detected and malformed under that protocol, not under another or nowhere.
 */
import assert from 'node:assert/strict';
import type { NetworkEvent } from '../../../core/events';
import { engineOptions, factory } from '../../../processors/l7';
import { L7Engine } from '../../../processors/l7/engine';
import { ALL_MODULES, type ProtocolName } from '../../../processors/l7/modules';
import { dnsMessage, withLengthPrefix } from './dns/build';
import { CLIENT, closed, enc, payload, SERVER } from './payloads';

function counted(chunks: { dir: 'send' | 'recv'; data: Uint8Array }[], transport: 'tcp' | 'udp' = 'tcp'): Record<string, number> {
  const e = new L7Engine(engineOptions(factory.createDefaultConfig()), ALL_MODULES);
  const events: NetworkEvent[] = chunks.map((c, i) => payload(CLIENT, SERVER, c.dir, c.data, 100 + i, { transport }));
  if (transport === 'tcp') events.push(closed(CLIENT, SERVER, 1000));
  e.process(events);
  return e.counters;
}

function assertCountedUnder(protocol: ProtocolName, counters: Record<string, number>): void {
  assert.equal(counters[`detected_${protocol}`], 1, `detected as ${protocol}`);
  assert.ok(counters[`malformed_${protocol}`] >= 1, `counted as malformed ${protocol}`);
  for (const other of ['http1', 'http2', 'dns', 'tls'].filter((p) => p !== protocol)) {
    assert.equal(counters[`malformed_${other}`], 0, `not counted under ${other}`);
  }
}

describe('l7 engine: malformed input is counted under the protocol it started as', () => {
  it('http1: a request line, then a line that is no header field', () => {
    assertCountedUnder('http1', counted([{ dir: 'send', data: enc('GET / HTTP/1.1\r\nHost: a\r\nthis is not a header\r\n\r\n') }]));
  });

  it('http1: a status line, then garbage', () => {
    assertCountedUnder('http1', counted([{ dir: 'recv', data: enc('HTTP/1.1 200 OK\r\n\x00\x01\x02 nonsense\r\n\r\n') }]));
  });

  it('http2: the client preface, then bytes that are not frames', () => {
    assertCountedUnder('http2', counted([{ dir: 'send', data: enc(`PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n${'garbage '.repeat(8)}`) }]));
  });

  it('http2: a preface that diverges in the next read', () => {
    assertCountedUnder('http2', counted([{ dir: 'send', data: enc('PRI * HTTP/2.0\r\n') }, { dir: 'send', data: enc('\r\nXY\r\n\r\n and then no frames') }]));
  });

  const question = { name: 'example.com', type: 1 };
  const answer = { name: 'example.com', type: 1, rdata: [10, 0, 0, 1] };
  for (const transport of ['udp', 'tcp'] as const) {
    it(`dns over ${transport}: a query, then a response whose answer runs past its end`, () => {
      const query = dnsMessage({ id: 7, questions: [question] });
      const response = dnsMessage({ id: 7, response: true, questions: [question], answers: [answer] }).subarray(0, -3);
      const wrap = transport === 'tcp' ? withLengthPrefix : (m: Uint8Array): Uint8Array => m;
      assertCountedUnder('dns', counted([{ dir: 'send', data: wrap(query) }, { dir: 'recv', data: wrap(response) }], transport));
    });
  }

  it('tls: a handshake record header with an impossible length', () => {
    assertCountedUnder('tls', counted([{ dir: 'send', data: Uint8Array.of(22, 3, 1, 0xff, 0xff, 1, 0, 0, 0x40, 3, 3) }]));
  });
});
