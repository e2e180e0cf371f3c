/**
 * The whole l7 engine (every protocol module, detection, the session table) under random
 * and mutated payload streams on a handful of connections, some of the chunks as summarised
 * HTTP/1 exchanges (h1Response): nothing throws out of the batch,
 * events keep their invariants, and the table and memory stay bounded.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { L7Event, NetworkEvent, PayloadEvent } from '../../../core/events';
import { L7Engine } from '../../../processors/l7/engine';
import { ALL_MODULES } from '../../../processors/l7/modules';
import { Fuzzer, heapUsed } from '../../helpers/fuzz';
import { checkL7Event } from './checks';
import { CLIENT, SERVER, closed, payload, type Endpoint } from './payloads';

const EVENTS = 100_000;
const FIXTURES = join(__dirname, '../../fixtures/l7');

/** Every recorded chunk of every protocol's fixtures, as seeds. */
function seeds(): Array<{ data: Uint8Array; transport: 'tcp' | 'udp'; dir: 'c2s' | 's2c' }> {
  const out: Array<{ data: Uint8Array; transport: 'tcp' | 'udp'; dir: 'c2s' | 's2c' }> = [];
  for (const protocol of readdirSync(FIXTURES)) {
    for (const file of readdirSync(join(FIXTURES, protocol)).filter((f) => f.endsWith('.json'))) {
      const fixture = JSON.parse(readFileSync(join(FIXTURES, protocol, file), 'utf8')) as {
        connections?: Array<{ transport?: 'tcp' | 'udp'; chunks?: Array<{ dir: 'c2s' | 's2c'; data: string }> }>;
      };
      for (const conn of fixture.connections ?? []) {
        for (const chunk of conn.chunks ?? []) {
          out.push({ data: new Uint8Array(Buffer.from(chunk.data, 'base64')), transport: conn.transport ?? 'tcp', dir: chunk.dir });
        }
      }
    }
  }
  return out;
}

describe('l7 engine fuzz', function () {
  this.timeout(60_000);

  it(`survives ${EVENTS} random and mutated payload events across all protocols`, () => {
    const f = new Fuzzer(0x17_0017);
    const corpus = seeds();
    assert.ok(corpus.length > 50);
    const engine = new L7Engine(
      {
        captureQuery: true, transactionTimeoutMs: 1000, maxBufferBytes: 4096, protocols: ['http1', 'http2', 'dns', 'tls'],
        httpPorts: [80], dnsPort: 53, httpsPorts: [443], grpcPorts: [50051], portMode: 'hint',
        maxSessions: 64, sessionIdleTimeoutMs: 30_000, forwardPayload: false, dropSelfTraffic: true,
      },
      ALL_MODULES,
    );
    const ports = [80, 53, 443, 50051, 18080, 15353];
    let t = 1_000_000;
    let l7 = 0;
    let heapAtStart = 0;
    for (let sent = 0; sent < EVENTS; ) {
      if (sent >= 20_000 && heapAtStart === 0) heapAtStart = heapUsed();
      const batch: NetworkEvent[] = [];
      for (let i = 0; i < 50; i++, sent++) {
        const seed = f.pick(corpus);
        const conn = f.int(80);
        const self: Endpoint = { ...CLIENT, port: 30000 + conn, cookie: conn === 0 ? 0 : conn };
        const peer: Endpoint = { ...SERVER, port: ports[conn % ports.length] };
        t += f.int(3000);
        if (f.bool(0.01)) {
          batch.push(closed(self, peer, t));
          continue;
        }
        const data = f.bool(0.5) ? f.mutate(seed.data, 1 + f.int(4)) : f.bool(0.8) ? seed.data : f.bytes(200);
        const sendDir = (seed.dir === 'c2s') !== f.bool(0.1);
        const e: PayloadEvent = payload(self, peer, sendDir ? 'send' : 'recv', data, t, {
          transport: f.bool(0.95) ? seed.transport : seed.transport === 'tcp' ? 'udp' : 'tcp',
          captureLimit: f.bool(0.1) ? f.int(data.length + 1) : undefined,
        });
        if (f.bool(0.05)) {
          // As if the kernel had summarised an exchange with these bytes for its request.
          e.h1Response = {
            timeUs: t + f.int(5000), length: f.int(10_000), bodyLength: f.int(5000), status: f.int(700), versionMinor: f.int(2),
            pid: self.pid, tid: self.pid, dataDirection: sendDir ? 'recv' : 'send',
          };
        }
        batch.push(e);
      }
      const out = engine.process(batch);
      if (f.bool(0.05)) out.push(...engine.tick(t + f.int(5_000_000)));
      for (const e of out) {
        if (e.kind.startsWith('l7.')) {
          checkL7Event(e as L7Event);
          l7++;
        }
      }
      assert.ok(engine.sessionCount <= 64);
    }
    engine.flush(t);
    const growth = heapUsed() - heapAtStart;
    const malformed = ['http1', 'http2', 'dns', 'tls'].reduce((n, p) => n + engine.counters[`malformed_${p}`], 0);
    assert.ok(engine.counters.transactions_summarised > 0, 'some summaries made transactions');
    if (process.env.FUZZ_STATS) console.log({ l7, malformed, growth, counters: engine.counters });
    assert.ok(l7 > 500, `only ${l7} L7 events`);
    assert.ok(malformed > 500, `malformed ${malformed}`);
    assert.equal(engine.counters.session_errors, 0, 'no protocol module threw');
    assert.ok(growth < 24 * 1024 * 1024, `heap grew ${(growth / 1048576).toFixed(1)} MiB`);
  });
});
