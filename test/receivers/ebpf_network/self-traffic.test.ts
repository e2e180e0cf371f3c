/**
 * The observer's own traffic is reported at neither end (issue 12): its sockets are excluded
 * by pid, and the far end of its connections on this host (a node-local collector it exports
 * to) is left out in the kernel too. Processes can also be excluded by task name. Real peers
 * on loopback; the test process stands for the observer (exclude_self).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { get } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import type { NetworkEvent } from '../../../core/events';
import { freshKernelStats, requireKernel, runPeer, startPeer, startReceiver, type RunningReceiver } from './helpers';

const settle = () => new Promise((r) => setTimeout(r, 400));

function eventsOf(events: readonly NetworkEvent[], pid: number | undefined, port: number): NetworkEvent[] {
  return events.filter((e) => 'process' in e && e.process.pid === pid && (e.localPort === port || e.remotePort === port));
}

describe('ebpf_network leaves out its own traffic at both ends, on the real kernel', function () {
  this.timeout(30000);
  let rx: RunningReceiver;

  before(async function () {
    requireKernel(this);
    delete process.env.TAPIO_MOCK_MODE;
    rx = await startReceiver({ capture_bytes: 4096, exclude_processes: ['netobs-cli*'] });
  });

  after(async () => {
    await rx?.receiver.shutdown();
  });

  it('a TCP connection of its own to a local server: the server end is not reported either', async () => {
    const server = startPeer(['http-server', '127.0.0.1']);
    try {
      const port = (await server.next('listening')).port!;
      const before = freshKernelStats(rx).selfPeerSkipped;
      await new Promise<void>((resolve, reject) => {
        get({ host: '127.0.0.1', port, path: '/v1/traces', agent: false }, (res) => res.resume().on('end', resolve)).on('error', reject);
      });
      // The same server, called by another process, is reported as usual.
      const curl = spawnSync('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${port}/other`]);
      assert.equal(curl.status, 0);
      await rx.consumer.waitFor((evs) => evs.some((e) => e.kind === 'connection.closed' && e.process.pid === server.child.pid), 10000, 'the server end of the curl');
      await settle();
      const atServer = eventsOf(rx.consumer.events, server.child.pid, port);
      const opened = atServer.filter((e) => e.kind === 'connection.opened');
      assert.equal(opened.length, 1, 'one reported connection at the server: the curl, not ours');
      assert.ok(!atServer.some((e) => e.kind === 'payload' && Buffer.from(e.data).toString('latin1').includes('/v1/traces')), 'our request is not captured at the server');
      assert.equal(eventsOf(rx.consumer.events, process.pid, port).length, 0, 'nothing of our own end');
      assert.ok(freshKernelStats(rx).selfPeerSkipped > before, 'counted');
    } finally {
      await server.stop();
    }
  });

  it('a process excluded by task name, and the far end of its connections', async () => {
    const server = startPeer(['http-server', '127.0.0.1']);
    try {
      const port = (await server.next('listening')).port!;
      const client = await runPeer(['http-client', '127.0.0.1', String(port), '/excluded'], 'done');
      assert.equal(client.status, 200);
      await settle();
      assert.deepEqual(eventsOf(rx.consumer.events, client.pid, port), [], 'nothing at the client (netobs-client matches netobs-cli*)');
      assert.deepEqual(eventsOf(rx.consumer.events, server.child.pid, port), [], 'nothing at its server end');
    } finally {
      await server.stop();
    }
  });

  it('its own DNS-like datagrams on a connected socket: the answering end is not reported', async () => {
    const server = startPeer(['udp-server', '127.0.0.1', '40']);
    try {
      const port = (await server.next('listening')).port!;
      const sock = createSocket('udp4');
      await new Promise<void>((resolve) => sock.connect(port, '127.0.0.1', resolve));
      const query = Buffer.from('12340100000100000000000004746573740765786d706c650000010001', 'hex');
      await new Promise<void>((resolve) => {
        sock.once('message', () => resolve());
        sock.send(query);
      });
      sock.close();
      await settle();
      assert.deepEqual(eventsOf(rx.consumer.events, server.child.pid, port), [], 'no payload or flow at the answering end');
    } finally {
      await server.stop();
    }
  });
});

/*
 * A listener of its own that predates the receiver (the health or metrics endpoint, which the
 * collector starts before its receivers) is unknown to the kernel side: the first connection it
 * accepts is opened with pid 0 (README, Limitations); serving it shows the listener is the
 * observer's, and the connections it accepts after that are not reported at all.
 */
describe('ebpf_network learns that a listener older than itself is its own', function () {
  this.timeout(30000);
  let rx: RunningReceiver | undefined;
  let server: Server | undefined;

  before(function () {
    requireKernel(this);
    delete process.env.TAPIO_MOCK_MODE;
  });

  after(async () => {
    await rx?.receiver.shutdown();
    server?.close();
  });

  it('reports no connection the listener accepts once it has served one', async () => {
    server = createServer((sock) => {
      sock.on('data', () => undefined);
      sock.on('end', () => sock.end('ok'));
    });
    const port = await new Promise<number>((resolve) => server!.listen(0, '127.0.0.1', () => resolve((server!.address() as AddressInfo).port)));
    rx = await startReceiver({ capture_bytes: 4096 });
    const first = await runPeer(['tcp-client', '127.0.0.1', String(port), '5'], 'done');
    const second = await runPeer(['tcp-client', '127.0.0.1', String(port), '5'], 'done');
    // The client ends are another process's and reported as usual; wait for the second one's close.
    await rx.consumer.waitFor(
      (evs) => evs.some((e) => e.kind === 'connection.closed' && e.localPort === second.localPort && e.remotePort === port),
      10000,
      'the client end of the second connection',
    );
    await settle();
    const serverEnd = (client: number) => rx!.consumer.events.filter((e) => e.localPort === port && e.remotePort === client);
    assert.deepEqual(
      serverEnd(first.localPort!).map((e) => [e.kind, e.process.pid]),
      [['connection.opened', 0]],
      'the first: opened before its owner was known, nothing after',
    );
    assert.deepEqual(serverEnd(second.localPort!), [], 'the second: nothing at all');
  });
});
