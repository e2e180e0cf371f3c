/**
 * Every TCP connection ends (issue 12): under churn, each connection.opened is followed by its
 * connection.closed, at both ends, so conntrack never holds a connection that is gone. Real
 * short connections over loopback, as fast as one client process makes them.
 */
import assert from 'node:assert/strict';
import type { NetworkEvent } from '../../../core/events';
import { freshKernelStats, requireKernel, runPeer, startPeer, startReceiver, type RunningReceiver } from './helpers';

const CONNECTIONS = 20000;

describe('ebpf_network under connection churn on the real kernel', function () {
  this.timeout(60000);
  let rx: RunningReceiver;

  before(async function () {
    requireKernel(this);
    delete process.env.TAPIO_MOCK_MODE;
    rx = await startReceiver({ enable_l7_capture: false, ring_buffer_size: 16 * 1024 * 1024 });
  });

  after(async () => {
    await rx?.receiver.shutdown();
  });

  it(`${CONNECTIONS} short connections: every open at both ends is closed, nothing lost`, async () => {
    const server = startPeer(['echo-server', '127.0.0.1']);
    try {
      const port = (await server.next('listening')).port!;
      await runPeer(['churn-client', '127.0.0.1', String(port), String(CONNECTIONS), '64'], 'done', 19000);
      const ours = (e: NetworkEvent) => (e.kind === 'connection.opened' || e.kind === 'connection.closed') && (e.localPort === port || e.remotePort === port);
      await rx.consumer.waitFor((evs) => evs.filter(ours).length >= 4 * CONNECTIONS, 20000, 'an open and a close per connection end');
      const open = new Set<number>();
      const closed = new Set<number>();
      for (const e of rx.consumer.events) {
        if (!ours(e)) continue;
        (e.kind === 'connection.opened' ? open : closed).add((e as { socketCookie: number }).socketCookie);
      }
      assert.equal(open.size, 2 * CONNECTIONS, 'both ends of every connection opened');
      const unclosed = [...open].filter((c) => !closed.has(c));
      assert.deepEqual(unclosed, [], 'every opened connection end is closed');
      assert.equal(freshKernelStats(rx).ringLost, 0);
    } finally {
      await server.stop();
    }
  });
});
