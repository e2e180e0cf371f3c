/**
 * Loads the byte fixtures recorded by scripts/record-l7-fixtures-http-dns.ts and replays them
 * as the payload events the eBPF receiver would produce on either end of each connection.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PayloadEvent } from '../../../core/events';
import type { Fixture } from '../../../scripts/record-l7-fixtures-http-dns';
import { payload, type Endpoint } from './payloads';

const FIXTURES = join(__dirname, '../../fixtures/l7');

export function loadFixture(protocol: 'http1' | 'dns', name: string): Fixture {
  return JSON.parse(readFileSync(join(FIXTURES, protocol, `${name}.json`), 'utf8')) as Fixture;
}

export interface ReplayOptions {
  /** Capture only the first N bytes of each chunk, as the kernel does. */
  captureLimit?: number;
  baseUs?: number;
}

/**
 * The payload events of every connection as seen by `view`: the client's socket (its writes
 * are c2s) or the server's socket (its writes are s2c). Each connection gets its own port and
 * socket cookie; events come out in time order.
 */
export function replay(fixture: Fixture, view: 'client' | 'server', options: ReplayOptions = {}): PayloadEvent[] {
  const base = options.baseUs ?? 1_700_000_000_000_000;
  const out: PayloadEvent[] = [];
  fixture.connections.forEach((conn, i) => {
    const client: Endpoint = { pid: 1001, comm: 'client', address: '127.0.0.1', port: 40000 + i, cookie: 100 + i };
    const server: Endpoint = { pid: 2002, comm: 'server', address: '127.0.0.1', port: 18080, cookie: 200 + i };
    for (const chunk of conn.chunks) {
      const data = new Uint8Array(Buffer.from(chunk.data, 'base64'));
      const self = view === 'client' ? client : server;
      const peer = view === 'client' ? server : client;
      const sent = (chunk.dir === 'c2s') === (view === 'client');
      out.push(payload(self, peer, sent ? 'send' : 'recv', data, base + chunk.t, { transport: conn.transport, captureLimit: options.captureLimit }));
    }
  });
  return out.sort((a, b) => a.timeUs - b.timeUs);
}
