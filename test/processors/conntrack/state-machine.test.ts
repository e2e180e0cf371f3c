import assert from 'node:assert/strict';
import type { NetworkEvent, PayloadEvent } from '../../../core/events';
import { closed, failed, flow, harness, header, icmp, opened, proc, updated } from './helpers';

const CLIENT = { pid: 10, comm: 'curl', local: '127.0.0.1', localPort: 40000, remote: '127.0.0.1', remotePort: 8080, direction: 'outbound' as const, cookie: 1 };
const SERVER = { pid: 20, comm: 'server', local: '127.0.0.1', localPort: 8080, remote: '127.0.0.1', remotePort: 40000, direction: 'inbound' as const, cookie: 2 };

describe('conntrack state machine', () => {
  describe('TCP lifecycle', () => {
    it('passes the opened event on and closes with the table view: counters, duration, reason', async () => {
      const h = await harness();
      const open = opened({ ...CLIENT, timeUs: h.nowUs() });
      await h.feed(open);
      assert.equal(h.telemetry.get('active'), 1);
      h.time.advance(250);
      await h.feed(closed({ ...CLIENT, timeUs: h.nowUs() }, { bytesSent: 120, bytesReceived: 4000, segmentsSent: 4, segmentsReceived: 6, srttUs: 80, retransmits: 1 }));
      assert.deepEqual(h.out('connection.opened'), [open], 'the opened event itself is passed on, unchanged');
      const [c] = h.out('connection.closed');
      assert.equal(c.closeReason, 'fin');
      assert.equal(c.durationNs, 250e6, 'duration from the open timestamp when the receiver gives none');
      assert.deepEqual([c.bytesSent, c.bytesReceived, c.segmentsSent, c.segmentsReceived, c.srttUs, c.retransmits], [120, 4000, 4, 6, 80, 1]);
      assert.deepEqual(c.process, proc(10, 'curl'));
      assert.equal(c.peerProcess, undefined, 'no local peer for this connection');
      assert.equal([c.localAddress, c.localPort, c.remoteAddress, c.remotePort, c.direction, c.socketCookie].join(' '), '127.0.0.1 40000 127.0.0.1 8080 outbound 1');
      assert.equal(h.telemetry.get('active'), 0);
    });

    it("prefers the receiver's own duration when it has one", async () => {
      const h = await harness();
      await h.feed(opened({ ...CLIENT, timeUs: h.nowUs() }));
      h.time.advance(1000);
      await h.feed(closed({ ...CLIENT, timeUs: h.nowUs() }, { durationNs: 987_654_321 }));
      assert.equal(h.out('connection.closed')[0].durationNs, 987_654_321);
    });

    it('recognises both ends of a loopback connection as one connection seen from two processes', async () => {
      const h = await harness();
      await h.feed(opened(CLIENT), opened(SERVER));
      await h.feed(closed(CLIENT, { bytesSent: 100, bytesReceived: 2000 }));
      await h.feed(closed(SERVER, { bytesSent: 2000, bytesReceived: 100 }));
      const [client, server] = h.out('connection.closed');
      assert.deepEqual([client.process.pid, client.peerProcess?.pid], [10, 20]);
      assert.deepEqual([server.process.pid, server.peerProcess?.pid], [20, 10]);
      assert.equal(client.peerProcess?.comm, 'server');
      assert.equal(server.peerProcess?.comm, 'curl');
      assert.equal(client.direction, 'outbound');
      assert.equal(server.direction, 'inbound');
    });

    it('pairs the ends whatever the order: server first, server closes first', async () => {
      const h = await harness();
      await h.feed(opened(SERVER), opened(CLIENT), closed(SERVER), closed(CLIENT));
      const byPid = new Map(h.out('connection.closed').map((c) => [c.process.pid, c.peerProcess?.pid]));
      assert.deepEqual([...byPid], [[20, 10], [10, 20]]);
    });

    it('pairs the ends of a connection seen only at close (started before the processor)', async () => {
      const h = await harness();
      await h.feed(closed(CLIENT, { durationNs: 5e9 }), closed(SERVER, { durationNs: 5e9 }));
      const [client, server] = h.out('connection.closed');
      assert.equal(client.peerProcess, undefined, 'the server end was not known yet');
      assert.equal(server.peerProcess?.pid, 10, "the client's close is remembered for the server's");
      assert.equal(h.telemetry.get('closed_without_open'), 2);
    });

    it('does not pair loopback tuples from different network namespaces (each has its own 127.0.0.1)', async () => {
      const h = await harness();
      await h.feed(opened(CLIENT), opened({ ...SERVER, netns: 1234 }), closed(CLIENT));
      assert.equal(h.out('connection.closed')[0].peerProcess, undefined);
    });

    it('pairs two pods on this host talking pod IP to pod IP from their own namespaces', async () => {
      const h = await harness();
      const podA = { local: '10.244.0.5', remote: '10.244.0.9', netns: 4026532001 };
      const podB = { local: '10.244.0.9', remote: '10.244.0.5', netns: 4026532002 };
      await h.feed(
        opened({ ...CLIENT, ...podA }),
        opened({ ...SERVER, ...podB }),
        closed({ ...CLIENT, ...podA }),
        closed({ ...SERVER, ...podB }),
      );
      const [client, server] = h.out('connection.closed');
      assert.deepEqual([client.process.pid, client.peerProcess?.pid], [10, 20]);
      assert.deepEqual([server.process.pid, server.peerProcess?.pid], [20, 10]);
    });

    it('does not pair across namespaces when the peer address is local in more than one', async () => {
      const h = await harness();
      // 10.244.0.9 is local in namespaces 2 and 3 (overlapping private networks): which one the
      // client in namespace 1 talks to cannot be told from tuples, so neither is its peer.
      await h.feed(
        opened({ ...SERVER, local: '10.244.0.9', remote: '10.244.0.5', netns: 2 }),
        opened({ ...CLIENT, local: '10.244.0.5', remote: '10.244.0.9', netns: 1, localPort: 40001 }),
        opened({ ...SERVER, pid: 30, local: '10.244.0.9', remote: '10.244.0.5', netns: 3, remotePort: 40001 }),
        closed({ ...CLIENT, local: '10.244.0.5', remote: '10.244.0.9', netns: 1, localPort: 40001 }),
      );
      const [client] = h.out('connection.closed');
      assert.equal(client.peerProcess, undefined);
    });

    it('learns the owning process from a later event when the first had pid 0 (softirq)', async () => {
      const h = await harness();
      await h.feed(opened({ ...SERVER, pid: 0 }), updated(SERVER, { bytesSent: 5 }), closed({ ...SERVER, pid: 0 }));
      const [c] = h.out('connection.closed');
      assert.equal(c.process.pid, 20);
      assert.equal(c.process.comm, 'server');
    });

    it('reports a connection.failed and ends the entry its connect opened as refused', async () => {
      const h = await harness();
      const fail = failed(CLIENT, 'refused');
      await h.feed(opened(CLIENT), fail);
      assert.deepEqual(h.out('connection.failed'), [fail]);
      const [c] = h.out('connection.closed');
      assert.equal(c.closeReason, 'refused');
      assert.equal(h.telemetry.get('active'), 0);
    });

    it('passes a failed connect with no entry on without inventing a close', async () => {
      const h = await harness();
      await h.feed(failed(CLIENT, 'timeout'));
      assert.equal(h.out('connection.failed').length, 1);
      assert.equal(h.out('connection.closed').length, 0);
    });

    it('tracks a connection first seen in a connection.updated and uses its age', async () => {
      const h = await harness();
      await h.feed(updated({ ...CLIENT, timeUs: h.nowUs() }, { bytesSent: 10, durationNs: 60e9 }));
      const [u] = h.out('connection.updated');
      assert.equal(u.bytesSent, 10);
      assert.equal(u.durationNs, 60e9);
      h.time.advance(1000);
      await h.feed(closed({ ...CLIENT, timeUs: h.nowUs() }, { bytesSent: 30 }));
      const [c] = h.out('connection.closed');
      assert.equal(c.durationNs, 61e9);
      assert.equal(c.bytesSent, 30);
      assert.equal(h.out('connection.opened').length, 0, 'no opened event is invented');
    });

    it('keeps the highest cumulative counters when updates arrive out of order', async () => {
      const h = await harness();
      await h.feed(opened(CLIENT), updated(CLIENT, { bytesSent: 500, retransmits: 2 }), closed(CLIENT, { bytesSent: 300, retransmits: 1 }));
      const [c] = h.out('connection.closed');
      assert.equal(c.bytesSent, 500);
      assert.equal(c.retransmits, 2);
    });
  });

  describe('malformed and out-of-order input', () => {
    it('emits a close without an open and counts it', async () => {
      const h = await harness();
      await h.feed(closed(CLIENT, { bytesSent: 7, durationNs: 1e6 }, 'reset'));
      const [c] = h.out('connection.closed');
      assert.equal(c.closeReason, 'reset');
      assert.equal(c.bytesSent, 7);
      assert.equal(c.durationNs, 1e6);
      assert.equal(h.telemetry.get('closed_without_open'), 1);
      assert.equal(h.telemetry.get('active'), 0, 'a close never creates a live entry');
    });

    it('drops a repeated close', async () => {
      const h = await harness();
      await h.feed(opened(CLIENT), closed(CLIENT), closed(CLIENT));
      assert.equal(h.out('connection.closed').length, 1);
      assert.equal(h.telemetry.get('duplicate'), 1);
      assert.equal(h.telemetry.get('dropped'), 1);
    });

    it('drops a duplicate open and still closes once', async () => {
      const h = await harness();
      await h.feed(opened(CLIENT), opened(CLIENT), closed(CLIENT));
      assert.equal(h.out('connection.opened').length, 1);
      assert.equal(h.out('connection.closed').length, 1);
      assert.equal(h.telemetry.get('duplicate'), 1);
    });

    it('treats an open with a new socket cookie on a live tuple as a new connection (missed close)', async () => {
      const h = await harness();
      await h.feed(opened({ ...CLIENT, cookie: 1 }), opened({ ...CLIENT, cookie: 9 }));
      const [c] = h.out('connection.closed');
      assert.equal(c.closeReason, 'unknown');
      assert.equal(c.socketCookie, 1);
      assert.equal(h.out('connection.opened').length, 2);
      assert.equal(h.telemetry.get('active'), 1);
    });

    it('reports a late close of an older socket without disturbing the newer one on the same tuple', async () => {
      const h = await harness();
      await h.feed(opened({ ...CLIENT, cookie: 9 }), closed({ ...CLIENT, cookie: 1 }, { bytesSent: 3 }));
      const [c] = h.out('connection.closed');
      assert.equal(c.socketCookie, 1);
      assert.equal(c.bytesSent, 3);
      assert.equal(h.telemetry.get('active'), 1, 'the newer connection is still tracked');
      await h.feed(closed({ ...CLIENT, cookie: 9 }));
      assert.equal(h.out('connection.closed').length, 2);
      assert.equal(h.telemetry.get('active'), 0);
    });

    it('reopening a tuple after a close starts a new connection', async () => {
      const h = await harness();
      await h.feed(opened(CLIENT), closed(CLIENT), opened(CLIENT), closed(CLIENT, { bytesSent: 9 }));
      assert.equal(h.out('connection.opened').length, 2);
      const closes = h.out('connection.closed');
      assert.equal(closes.length, 2);
      assert.equal(closes[1].bytesSent, 9);
    });

    it('drops an update that arrives after the close', async () => {
      const h = await harness();
      await h.feed(opened(CLIENT), closed(CLIENT), updated(CLIENT, { bytesSent: 1 }));
      assert.equal(h.out('connection.updated').length, 0);
      assert.equal(h.telemetry.get('late'), 1);
      assert.equal(h.telemetry.get('active'), 0, 'no entry is resurrected');
    });

    it('survives garbage fields without throwing, and passes such events on', async () => {
      const h = await harness();
      const broken = {
        kind: 'connection.closed', transport: 'tcp', timeUs: Number.NaN, process: undefined, localAddress: undefined,
        remoteAddress: 42, localPort: 'x', remotePort: -1, direction: 'sideways', socketCookie: -5, netnsId: undefined,
        bytesSent: Number.NaN, bytesReceived: -10, segmentsSent: Infinity, segmentsReceived: undefined, srttUs: 'slow',
        retransmits: null, durationNs: -1, closeReason: 'meteor',
      } as unknown as NetworkEvent;
      const weirdOpen = { ...opened(CLIENT), process: null } as unknown as NetworkEvent;
      await h.feed(broken, weirdOpen, flow({ local: undefined as unknown as string }, { bytesSent: Number.NaN }));
      assert.equal(h.telemetry.get('errors'), 0);
      const [c] = h.out('connection.closed');
      assert.equal(c.bytesSent, 0);
      assert.equal(c.closeReason, 'unknown');
      assert.equal(h.out('connection.opened').length, 1);
    });

    it('passes every other event kind through untouched and in order', async () => {
      const h = await harness();
      const payload: PayloadEvent = {
        ...header(CLIENT), kind: 'payload', dataDirection: 'send', fd: 3, data: new Uint8Array([1, 2]), originalLength: 2, truncated: false,
      };
      const http: NetworkEvent = {
        ...header(CLIENT), kind: 'l7.http', side: 'client', startUs: 1, endUs: 2, method: 'GET', path: '/', httpVersion: '1.1',
        statusCode: 200, requestBodySize: 0, responseBodySize: 0,
      };
      const ping = icmp({}, 8, 7);
      await h.feed(payload, http, ping);
      assert.deepEqual(h.next.events, [payload, http, ping]);
      assert.equal(h.next.events[0], payload, 'same object, not a copy');
    });
  });

  describe('emit_lifecycle_events: false', () => {
    it('absorbs connection and flow events (counted as dropped) and still passes the rest', async () => {
      const h = await harness({ emit_lifecycle_events: false });
      const ping = icmp({}, 8, 7);
      await h.feed(opened(CLIENT), updated(CLIENT), failed(SERVER), closed(CLIENT), flow({}, { bytesSent: 1 }), ping);
      assert.deepEqual(h.next.events, [ping]);
      assert.equal(h.telemetry.get('dropped'), 4);
      assert.equal(h.telemetry.get('aggregated'), 1);
      await h.processor.shutdown();
      assert.deepEqual(h.next.events, [ping], 'nothing emitted on shutdown either');
    });
  });

  describe('UDP and ICMP flows', () => {
    const DNS_CLIENT = { pid: 30, comm: 'dig', local: '127.0.0.1', localPort: 5353, remote: '127.0.0.53', remotePort: 53, direction: 'outbound' as const };

    it('adds up delta observations and emits cumulative counters, final on the last', async () => {
      const h = await harness({ flow_counters: 'delta' });
      await h.feed(flow(DNS_CLIENT, { bytesSent: 40, packetsSent: 1 }), flow(DNS_CLIENT, { bytesReceived: 90, packetsReceived: 1 }));
      await h.feed(flow(DNS_CLIENT, { bytesSent: 40, packetsSent: 1, final: true }));
      const out = h.out('flow.updated');
      assert.equal(out.length, 1, 'observations are absorbed; one final flow event comes out');
      assert.deepEqual([out[0].bytesSent, out[0].bytesReceived, out[0].packetsSent, out[0].packetsReceived, out[0].final], [80, 90, 2, 1, true]);
      assert.equal(out[0].process.pid, 30);
      assert.equal(h.telemetry.get('aggregated'), 3);
      assert.equal(h.telemetry.get('active'), 0);
    });

    it('takes the growth of cumulative observations with flow_counters: cumulative', async () => {
      const h = await harness({ flow_counters: 'cumulative' });
      await h.feed(flow(DNS_CLIENT, { bytesSent: 40, packetsSent: 1 }), flow(DNS_CLIENT, { bytesSent: 100, packetsSent: 2 }));
      await h.feed(flow(DNS_CLIENT, { bytesSent: 90, packetsSent: 2 }), flow(DNS_CLIENT, { bytesSent: 130, packetsSent: 3, final: true }));
      const [f] = h.out('flow.updated');
      assert.deepEqual([f.bytesSent, f.packetsSent], [130, 3]);
    });

    it('pairs the two ends of a local UDP exchange', async () => {
      const h = await harness();
      const server = { pid: 31, comm: 'resolver', local: '127.0.0.53', localPort: 53, remote: '127.0.0.1', remotePort: 5353, direction: 'inbound' as const };
      await h.feed(flow(DNS_CLIENT, { bytesSent: 40, packetsSent: 1 }), flow(server, { bytesReceived: 40, packetsReceived: 1 }));
      await h.processor.shutdown();
      const byPid = new Map(h.out('flow.updated').map((f) => [f.process.pid, f.peerProcess?.pid]));
      assert.deepEqual([...byPid], [[30, 31], [31, 30]]);
    });

    it('builds ICMP echo flows from icmp events by echo id', async () => {
      const h = await harness();
      const out = { local: '127.0.0.1', remote: '127.0.0.2', direction: 'outbound' as const, pid: 40, comm: 'ping' };
      await h.feed(icmp(out, 8, 77, 64), icmp(out, 0, 77, 64), icmp(out, 8, 77, 64), icmp(out, 8, 78, 64), icmp(out, 3, 0, 90));
      assert.equal(h.out('icmp').length, 5, 'icmp events pass through');
      assert.equal(h.telemetry.get('active'), 2, 'one flow per echo id; unreachable makes none');
      await h.processor.shutdown();
      const flows = h.out('flow.updated').filter((f) => f.transport === 'icmp');
      const e77 = flows.find((f) => f.localPort === 77)!;
      assert.deepEqual([e77.packetsSent, e77.packetsReceived, e77.bytesSent, e77.bytesReceived, e77.final], [2, 1, 128, 64, true]);
    });

    it('counts an inbound ping as requests received and replies sent', async () => {
      const h = await harness();
      const inbound = { local: '127.0.0.1', remote: '127.0.0.9', direction: 'inbound' as const };
      await h.feed(icmp(inbound, 8, 5), icmp(inbound, 0, 5));
      await h.processor.shutdown();
      const [f] = h.out('flow.updated');
      assert.deepEqual([f.packetsReceived, f.packetsSent], [1, 1]);
    });

    it('lets the receiver own ICMP flows once it sends them, so nothing is counted twice', async () => {
      const h = await harness();
      const out = { local: '127.0.0.1', remote: '127.0.0.2', localPort: 77, remotePort: 0 };
      await h.feed(flow(out, { bytesSent: 64, packetsSent: 1 }, 'icmp'), icmp(out, 8, 77), icmp(out, 8, 78));
      assert.equal(h.telemetry.get('active'), 1);
      await h.processor.shutdown();
      const [f] = h.out('flow.updated');
      assert.deepEqual([f.transport, f.bytesSent, f.packetsSent], ['icmp', 64, 1]);
    });
  });
});
