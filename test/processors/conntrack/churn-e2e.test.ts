/**
 * Every connection ends in conntrack under churn (issue 12): short loopback connections as fast
 * as one client process makes them, through the ebpf_network receiver (filtered in the kernel to
 * the test server's port) into conntrack. Afterwards conntrack holds no active connection, and
 * every connection.opened it passed on (both ends of each connection) was matched by exactly one
 * connection.closed.
 * Runs as root (CI=true must run it); skips with the reason elsewhere.
 */
import assert from 'node:assert/strict';
import type { Consumer } from '../../../core/component';
import type { NetworkEvent } from '../../../core/events';
import { requireKernel, runPeer, startPeer } from '../../receivers/ebpf_network/helpers';
import { conntrackPipeline } from './kernel-pipeline';

const CONNECTIONS = 100_000;

/** Counts opens and closes per socket cookie on one port, without keeping the events. */
class LifecycleTally implements Consumer {
  readonly mutatesData = false;
  readonly opened = new Set<number>();
  readonly closes = new Map<number, number>();
  reopened = 0;

  constructor(private readonly port: number) {}

  consume(batch: NetworkEvent[]): void {
    for (const e of batch) {
      if (e.localPort !== this.port && e.remotePort !== this.port) continue;
      if (e.kind === 'connection.opened') {
        if (this.opened.has(e.socketCookie)) this.reopened++;
        this.opened.add(e.socketCookie);
      } else if (e.kind === 'connection.closed') {
        this.closes.set(e.socketCookie, (this.closes.get(e.socketCookie) ?? 0) + 1);
      }
    }
  }
}

describe('conntrack under connection churn on the real kernel', function () {
  this.timeout(90_000);

  it(`${CONNECTIONS.toLocaleString('en')} short connections: none left active, every open matched by one close`, async function () {
    requireKernel(this);
    const server = startPeer(['echo-server', '127.0.0.1']);
    try {
      const port = (await server.next('listening')).port!;
      const tally = new LifecycleTally(port);
      const p = await conntrackPipeline(
        tally,
        { flush_interval: 0 },
        { ports: [port], enable_udp: false, enable_icmp: false, enable_l7_capture: false, ring_buffer_size: 16 * 1024 * 1024, tls_uprobes: false },
      );
      try {
        const started = Date.now();
        await runPeer(['churn-client', '127.0.0.1', String(port), String(CONNECTIONS), '64'], 'done', 60_000);
        const churnMs = Date.now() - started;
        const deadline = Date.now() + 15_000;
        while (tally.closes.size < 2 * CONNECTIONS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        await new Promise((r) => setTimeout(r, 200)); // late duplicates, if any
        const unclosed = [...tally.opened].filter((c) => !tally.closes.has(c));
        const closedTwice = [...tally.closes].filter(([, n]) => n > 1).length;
        const closedUnopened = [...tally.closes.keys()].filter((c) => !tally.opened.has(c)).length;
        const summary = `${CONNECTIONS} connections in ${churnMs} ms: ${tally.opened.size} ends opened, ${tally.closes.size} closed, ` +
          `${unclosed.length} unclosed, ${closedTwice} closed twice, ${closedUnopened} closed unopened, ${tally.reopened} opened twice`;
        assert.equal(tally.opened.size, 2 * CONNECTIONS, `both ends of every connection opened (${summary})`);
        assert.equal(unclosed.length, 0, summary);
        assert.equal(closedTwice + closedUnopened + tally.reopened, 0, summary);
        assert.equal(p.telemetry.get('active'), 0, `conntrack's active gauge (${summary})`);
        assert.equal(p.telemetry.get('closed_without_open'), 0, 'closed_without_open');
      } finally {
        await p.stop();
      }
    } finally {
      await server.stop();
    }
  });
});
