/**
 * Kernel payload capture end to end: a Node.js HTTP server and client, each its own process,
 * talk over loopback; the receiver must hand the pipeline payload events that hold the
 * request line (sent by the client, received by the server) and the status line (sent by the
 * server, received by the client), each with the right pid, fd, ports and direction.
 */
import assert from 'node:assert/strict';
import type { NetworkEvent, PayloadEvent } from '../../../core/events';
import { assertDnsCapturedAtBothEnds, freshKernelStats, requireKernel, runPeer, startPeer, startReceiver, type RunningReceiver } from './helpers';

const text = (e: PayloadEvent) => Buffer.from(e.data).toString('latin1');

describe('ebpf_network payload capture on the real kernel', function () {
  this.timeout(30000);
  let rx: RunningReceiver;

  before(async function () {
    requireKernel(this);
    delete process.env.TAPIO_MOCK_MODE;
    rx = await startReceiver({ capture_bytes: 4096 });
  });

  after(async () => {
    await rx?.receiver.shutdown();
  });

  for (const host of ['127.0.0.1', '::1']) {
    it(`captures an HTTP/1.1 request and response over ${host} with the right pids`, async () => {
      const server = startPeer(['http-server', host]);
      try {
        const listening = await server.next('listening');
        const port = listening.port!;
        const client = await runPeer(['http-client', host, String(port), '/orders?id=42'], 'done');
        assert.equal(client.status, 200);
        const clientPort = client.localPort!;
        const mine = (e: PayloadEvent, pid: number) =>
          e.process.pid === pid && (e.localPort === clientPort || e.remotePort === clientPort);
        const isRequest = (e: PayloadEvent) => text(e).startsWith('GET /orders?id=42 HTTP/1.1\r\n');
        const isResponse = (e: PayloadEvent) => text(e).startsWith('HTTP/1.1 200 OK\r\n');
        await rx.consumer.waitFor(
          (events) => {
            const p = events.filter((e): e is PayloadEvent => e.kind === 'payload');
            return p.some((e) => mine(e, client.pid) && e.dataDirection === 'recv' && isResponse(e)) &&
              p.some((e) => mine(e, listening.pid) && e.dataDirection === 'recv' && isRequest(e)) &&
              p.some((e) => mine(e, client.pid) && e.dataDirection === 'send' && isRequest(e)) &&
              p.some((e) => mine(e, listening.pid) && e.dataDirection === 'send' && isResponse(e));
          },
          10000,
          'request and response payloads on both sides',
        );
        const payloads = rx.consumer.ofKind('payload');
        const sent = payloads.find((e) => mine(e, client.pid) && e.dataDirection === 'send' && isRequest(e))!;
        assert.equal(sent.process.comm, 'netobs-client');
        assert.equal(sent.transport, 'tcp');
        assert.equal(sent.localPort, clientPort);
        assert.equal(sent.remotePort, port);
        assert.equal(sent.remoteAddress, host);
        assert.equal(sent.direction, 'outbound');
        assert.ok(sent.fd > 2);
        assert.ok(sent.socketCookie > 0, 'joins the connection events by socket cookie');
        assert.equal(sent.truncated, false);
        assert.equal(sent.originalLength, sent.data.length);
        assert.match(text(sent), /\r\nHost: /i);

        const received = payloads.find((e) => mine(e, listening.pid) && e.dataDirection === 'recv' && isRequest(e))!;
        assert.equal(received.process.comm, 'netobs-server');
        assert.equal(received.localPort, port);
        assert.equal(received.remotePort, clientPort);
        assert.equal(received.direction, 'inbound');

        const response = payloads.find((e) => mine(e, client.pid) && e.dataDirection === 'recv' && isResponse(e))!;
        assert.match(text(response), /hello \/orders\?id=42$/);

        const opened = rx.consumer.ofKind('connection.opened').find((e) => e.process.pid === client.pid && e.localPort === clientPort);
        assert.equal(opened?.socketCookie, sent.socketCookie);
      } finally {
        await server.stop();
      }
    });
  }

  it('marks and counts captures cut at capture_bytes', async () => {
    const server = startPeer(['tcp-server', '127.0.0.1', '10']);
    try {
      const port = (await server.next('listening')).port!;
      const client = await runPeer(['tcp-client', '127.0.0.1', String(port), '20000'], 'done');
      const events = await rx.consumer.waitFor(
        (evs) => evs.some((e) => e.kind === 'payload' && e.process.pid === client.pid && e.dataDirection === 'send' && e.truncated),
        10000,
        'a truncated capture',
      );
      const cut = events.find((e): e is PayloadEvent => e.kind === 'payload' && e.process.pid === client.pid && e.truncated)!;
      assert.equal(cut.data.length, 4096);
      assert.ok(cut.originalLength > 4096);
      assert.ok(cut.data.every((b) => b === 0x62), 'the first bytes the client wrote');
      const telemetry = (rx.receiver as unknown as { settings: { telemetry: { get(n: string): number } } }).settings.telemetry;
      await new Promise((r) => setTimeout(r, 1100)); // kernel counters are cached for a second
      assert.ok(telemetry.get('truncated') >= 1);
    } finally {
      await server.stop();
    }
  });

  it('gives bytes read after the reader\'s socket closed that socket\'s own ports', async () => {
    // TCP releases a socket's port when it reaches CLOSE; bytes still queued are read after
    // that, and their capture must not take the released (zero) port for the socket's.
    const server = startPeer(['tcp-server', '127.0.0.1', '300']);
    try {
      const port = (await server.next('listening')).port!;
      const client = await runPeer(['tcp-client', '127.0.0.1', String(port), '40', '500'], 'done');
      assert.equal(client.received, 300);
      const isRead = (e: NetworkEvent): e is PayloadEvent => e.kind === 'payload' && e.process.pid === client.pid && e.dataDirection === 'recv';
      const events = await rx.consumer.waitFor((evs) => evs.some(isRead), 10000, 'the late reader\'s capture');
      const read = events.find(isRead)!;
      const closed = rx.consumer.ofKind('connection.closed').find((e) => e.socketCookie === read.socketCookie);
      assert.ok(closed, 'the reader\'s socket was reported closed');
      assert.ok(closed.timeUs <= read.timeUs, 'the socket had closed before the reply was read');
      assert.equal(read.localPort, client.localPort);
      assert.equal(read.remotePort, port);
      assert.ok(read.data.every((byte) => byte === 0x61), 'the reply the server wrote');
    } finally {
      await server.stop();
    }
  });

  it('captures DNS datagrams with the peer of an unconnected socket, at the sender and the receiver', async () => {
    await assertDnsCapturedAtBothEnds(rx);
  });

  it('counts datagrams that are not DNS instead of copying them', async () => {
    const server = startPeer(['udp-server', '127.0.0.1', '5']);
    try {
      const port = (await server.next('listening')).port!;
      const before = freshKernelStats(rx).skippedOpaque;
      const client = await runPeer(['udp-client', '127.0.0.1', String(port), '64', '3'], 'done');
      await new Promise((r) => setTimeout(r, 300));
      const copied = rx.consumer.ofKind('payload').filter((e) => e.transport === 'udp' && (e.process.pid === client.pid || e.process.pid === server.child.pid));
      assert.deepEqual(copied, [], 'no datagram of this exchange was copied');
      // 3 sent and 3 received at the client, 3 received and 3 answered at the server.
      assert.ok(freshKernelStats(rx).skippedOpaque - before >= 12, 'each counted as skipped');
    } finally {
      await server.stop();
    }
  });
});
