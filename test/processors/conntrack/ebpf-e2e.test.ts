/**
 * End to end on the real kernel: ebpf_network receiver -> conntrack -> collector, with real
 * child processes talking over loopback. One TCP connection must come out as one closed event
 * per endpoint, each naming its own process and the other end's, with exact byte counts.
 * Runs as root (CI=true must run it); skips with the reason elsewhere.
 */
import assert from 'node:assert/strict';
import type { ConnectionClosedEvent, ConnectionUpdatedEvent, FlowUpdatedEvent, NetworkEvent } from '../../../core/events';
import { CollectingConsumer } from '../../../core/testing';
import { requireKernel, runPeer, startPeer } from '../../receivers/ebpf_network/helpers';
import { vethLink } from '../../receivers/ebpf_network/netns';
import { conntrackPipeline } from './kernel-pipeline';

describe('conntrack end to end with the ebpf_network receiver on loopback', function () {
  this.timeout(40_000);

  const pipeline = (overrides: Parameters<typeof conntrackPipeline>[1] = {}, receiverOverrides: Parameters<typeof conntrackPipeline>[2] = {}) =>
    conntrackPipeline(new CollectingConsumer(), overrides, receiverOverrides);

  it('an idle connection held open past connection_timeout stays open, kept alive by the kernel scan', async function () {
    // No byte moves for ~3 s, twice connection_timeout: only the receiver's live scan
    // (tcp_update_interval) tells conntrack the connection is still there.
    requireKernel(this);
    const p = await pipeline(
      { connection_timeout: 1_500, cleanup_interval: 500, flush_interval: 0 },
      { tcp_update_interval: 300, enable_udp: false, enable_icmp: false, enable_l7_capture: false },
    );
    const server = startPeer(['tcp-server', '127.0.0.1', '50']);
    try {
      const port = (await server.next('listening')).port!;
      const client = startPeer(['tcp-hold', '127.0.0.1', String(port), '1234']);
      const clientPort = (await client.next('holding')).localPort!;
      const ours = (e: NetworkEvent): boolean =>
        (e.localPort === clientPort && e.remotePort === port) || (e.localPort === port && e.remotePort === clientPort);
      await new Promise((r) => setTimeout(r, 3_000));
      assert.deepEqual(p.out.events.filter((e) => ours(e) && e.kind === 'connection.closed'), [], 'not timed out');
      const updates = p.out.events.filter((e): e is ConnectionUpdatedEvent => ours(e) && e.kind === 'connection.updated');
      const fromClient = updates.filter((u) => u.localPort === clientPort);
      assert.ok(fromClient.length >= 5, `the client end refreshed every 300 ms, got ${fromClient.length} updates`);
      const last = fromClient[fromClient.length - 1];
      assert.equal(last.process.pid, client.child.pid);
      assert.equal(last.bytesSent, 1234);
      assert.equal(last.peerProcess?.comm, 'netobs-server');
      assert.ok(updates.some((u) => u.localPort === port && u.bytesReceived === 1234), 'the server end too');

      await client.stop();
      const closes = await p.out.waitFor((evs) => evs.filter((e) => ours(e) && e.kind === 'connection.closed').length >= 2, 10_000, 'both ends closed');
      assert.deepEqual(
        closes.filter((e): e is ConnectionClosedEvent => ours(e) && e.kind === 'connection.closed').map((c) => c.closeReason),
        ['fin', 'fin'],
      );
    } finally {
      await server.stop();
      await p.stop();
    }
  });

  it('pairs the two ends of a connection between two network namespaces joined by a veth pair', async function () {
    // Two pods on one node, as the kernel sees them: each end in its own namespace, addressed by
    // its own IP, no NAT. Each close must name the process at the other end.
    requireKernel(this);
    const link = await vethLink('10.231.0');
    try {
      const p = await pipeline();
      const server = startPeer(['tcp-server', link.addresses[1], '3000'], link.exec(1));
      try {
        const listening = await server.next('listening');
        const port = listening.port!;
        const client = startPeer(['tcp-client', link.addresses[1], String(port), '700'], link.exec(0));
        const done = await client.next('done');
        const clientPort = done.localPort!;
        const ours = (e: NetworkEvent): e is ConnectionClosedEvent =>
          e.kind === 'connection.closed' && ((e.localPort === clientPort && e.remotePort === port) || (e.localPort === port && e.remotePort === clientPort));
        await p.out.waitFor((evs) => evs.filter(ours).length >= 2, 15_000, 'both ends closed');
        const closes = p.out.events.filter(ours);
        const fromClient = closes.find((e) => e.localPort === clientPort)!;
        const fromServer = closes.find((e) => e.localPort === port)!;
        assert.notEqual(fromClient.netnsId, fromServer.netnsId, 'the two ends are in different namespaces');
        assert.equal(fromClient.localAddress, link.addresses[0]);
        assert.equal(fromClient.peerProcess?.pid, listening.pid, "the client's close names the server");
        assert.equal(fromServer.peerProcess?.pid, done.pid, "the server's close names the client");
        assert.equal(fromClient.bytesSent, 700);
        assert.equal(fromServer.bytesSent, 3000);
        await client.stop();
      } finally {
        await server.stop();
        await p.stop();
      }
    } finally {
      await link.remove();
    }
  });

  it('one TCP connection: a closed event per endpoint with both pids and exact bytes', async function () {
    requireKernel(this);
    const p = await pipeline();
    const server = startPeer(['tcp-server', '127.0.0.1', '7000']);
    try {
      const listening = await server.next('listening');
      const port = listening.port!;
      const serverPid = listening.pid;
      const client = await runPeer(['tcp-client', '127.0.0.1', String(port), '1234'], 'done');
      await server.next('served');
      const clientPort = client.localPort!;
      const ours = (e: NetworkEvent): e is ConnectionClosedEvent =>
        e.kind === 'connection.closed' &&
        ((e.localPort === clientPort && e.remotePort === port) || (e.localPort === port && e.remotePort === clientPort));
      const events = await p.out.waitFor((evs) => evs.filter(ours).length >= 2, 15_000, 'both endpoints closed');
      // Give late duplicates a moment to show up if the table failed to drop them.
      await new Promise((r) => setTimeout(r, 300));
      const closes = p.out.events.filter(ours);
      assert.equal(closes.length, 2, `one closed event per endpoint, got ${closes.length}`);

      const fromClient = closes.find((e) => e.localPort === clientPort)!;
      assert.equal(fromClient.process.pid, client.pid);
      assert.equal(fromClient.process.comm, 'netobs-client');
      assert.equal(fromClient.peerProcess?.pid, serverPid, "the client's close names the server");
      assert.equal(fromClient.peerProcess?.comm, 'netobs-server');
      assert.equal(fromClient.direction, 'outbound');
      assert.equal(fromClient.bytesSent, 1234);
      assert.equal(fromClient.bytesReceived, 7000);
      assert.equal(fromClient.closeReason, 'fin');
      assert.ok(fromClient.durationNs > 0 && fromClient.durationNs < 15e9);

      const fromServer = closes.find((e) => e.localPort === port)!;
      assert.equal(fromServer.process.pid, serverPid);
      assert.equal(fromServer.peerProcess?.pid, client.pid, "the server's close names the client");
      assert.equal(fromServer.direction, 'inbound');
      assert.equal(fromServer.bytesSent, 7000);
      assert.equal(fromServer.bytesReceived, 1234);

      const opens = events.filter((e) => e.kind === 'connection.opened' && (e.localPort === clientPort || e.localPort === port) && (e.remotePort === port || e.remotePort === clientPort));
      assert.equal(opens.length, 2, 'both opened events passed on once');
    } finally {
      await server.stop();
      await p.stop();
    }
  });

  it("UDP: the receiver's cumulative flow reports (flow_counters: cumulative) total exactly, ends paired", async function () {
    requireKernel(this);
    const p = await pipeline({ flow_counters: 'cumulative' });
    const server = startPeer(['udp-server', '127.0.0.1', '300']);
    let port = 0;
    let clientPort = 0;
    let serverPid = 0;
    let clientPid = 0;
    try {
      const listening = await server.next('listening');
      port = listening.port!;
      serverPid = listening.pid;
      const client = await runPeer(['udp-client', '127.0.0.1', String(port), '120', '3'], 'done');
      clientPort = client.localPort!;
      clientPid = client.pid;
      // Let the receiver report the flows (every 100 ms in the test config) before shutdown.
      await new Promise((r) => setTimeout(r, 600));
    } finally {
      await server.stop();
      await p.stop();
    }
    const finals = p.out.events.filter((e): e is FlowUpdatedEvent => e.kind === 'flow.updated' && e.final &&
      ((e.localPort === clientPort && e.remotePort === port) || (e.localPort === port && e.remotePort === clientPort)));
    const fromClient = finals.find((e) => e.localPort === clientPort);
    const fromServer = finals.find((e) => e.localPort === port);
    assert.ok(fromClient && fromServer, `final flow updates for both ends, got ${finals.length}`);
    assert.deepEqual([fromClient.bytesSent, fromClient.bytesReceived, fromClient.packetsSent, fromClient.packetsReceived], [360, 900, 3, 3]);
    assert.deepEqual([fromServer.bytesSent, fromServer.bytesReceived, fromServer.packetsSent, fromServer.packetsReceived], [900, 360, 3, 3]);
    assert.equal(fromClient.process.pid, clientPid);
    assert.equal(fromClient.peerProcess?.pid, serverPid);
    assert.equal(fromServer.peerProcess?.pid, clientPid);
  });
});
