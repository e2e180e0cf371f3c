/**
 * The real kernel path on loopback: child processes make real connections, and the events
 * must carry their pid and comm, both ports, the direction, and exactly the bytes they moved.
 * Runs as root (CI); skips with the reason elsewhere.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type {
  ConnectionClosedEvent, ConnectionFailedEvent, ConnectionOpenedEvent, ConnectionUpdatedEvent, FlowUpdatedEvent, IcmpEvent, NetworkEvent,
} from '../../../core/events';
import { assertDenseBatches, requireKernel, runPeer, startPeer, startReceiver, testConfig, type RunningReceiver } from './helpers';

const run = promisify(execFile);

function find<E extends NetworkEvent>(events: NetworkEvent[], kind: E['kind'], pred: (e: E) => boolean): E | undefined {
  return events.find((e): e is E => e.kind === kind && pred(e as E));
}

describe('ebpf_network on the real kernel', function () {
  this.timeout(30000);
  let rx: RunningReceiver;

  before(async function () {
    requireKernel(this);
    delete process.env.TAPIO_MOCK_MODE;
    rx = await startReceiver();
  });

  after(async () => {
    await rx?.receiver.shutdown();
  });

  for (const { label, listenHost, connectHost, networkType, address } of [
    { label: 'IPv4', listenHost: '127.0.0.1', connectHost: '127.0.0.1', networkType: 'ipv4', address: '127.0.0.1' },
    { label: 'IPv6', listenHost: '::1', connectHost: '::1', networkType: 'ipv6', address: '::1' },
    // An IPv6 dual-stack listener accepting IPv4: the kernel socket is AF_INET6 with ::ffff:
    // addresses; the event reports the IPv4 the wire carried.
    { label: 'IPv4 to a dual-stack listener (v4-mapped)', listenHost: '::', connectHost: '127.0.0.1', networkType: 'ipv4', address: '127.0.0.1' },
  ] as const) {
    it(`TCP over ${label}: open and close with pids, ports, direction and exact bytes`, async () => {
      const server = startPeer(['tcp-server', listenHost, '7000']);
      try {
        const listening = await server.next('listening');
        const port = listening.port!;
        const serverPid = listening.pid;
        const client = await runPeer(['tcp-client', connectHost, String(port), '1234'], 'done');
        const served = await server.next('served');
        assert.equal(client.received, 7000);
        assert.equal(served.received, 1234);
        const clientPort = client.localPort!;

        const matches = (e: NetworkEvent, pid: number, local: number, remote: number) =>
          e.process.pid === pid && e.localPort === local && e.remotePort === remote;
        const events = await rx.consumer.waitFor(
          (evs) =>
            evs.some((e) => e.kind === 'connection.closed' && matches(e, client.pid, clientPort, port)) &&
            evs.some((e) => e.kind === 'connection.closed' && matches(e, serverPid, port, clientPort)),
          10000,
          `TCP ${label} close events`,
        );

        const opened = find<ConnectionOpenedEvent>(events, 'connection.opened', (e) => matches(e, client.pid, clientPort, port));
        assert.ok(opened, 'client connection.opened');
        assert.equal(opened.direction, 'outbound');
        assert.equal(opened.process.comm, 'netobs-client');
        assert.equal(opened.networkType, networkType);
        assert.equal(opened.localAddress, address);
        assert.equal(opened.remoteAddress, address);
        assert.ok(opened.socketCookie > 0);
        assert.ok(opened.netnsId > 0);
        assert.ok(opened.process.cgroupId > 0);
        assert.ok(Math.abs(opened.timeUs - Date.now() * 1000) < 30e6, 'wall-clock time within 30 s of now');

        const accepted = find<ConnectionOpenedEvent>(events, 'connection.opened', (e) => matches(e, serverPid, port, clientPort));
        assert.ok(accepted, 'server connection.opened');
        assert.equal(accepted.direction, 'inbound');
        assert.equal(accepted.process.comm, 'netobs-server');
        assert.equal(accepted.networkType, networkType);

        const closed = find<ConnectionClosedEvent>(events, 'connection.closed', (e) => matches(e, client.pid, clientPort, port))!;
        assert.equal(closed.direction, 'outbound');
        assert.equal(closed.process.comm, 'netobs-client');
        assert.equal(closed.bytesSent, 1234);
        assert.equal(closed.bytesReceived, 7000);
        assert.equal(closed.closeReason, 'fin');
        assert.equal(closed.socketCookie, opened.socketCookie);
        assert.ok(closed.durationNs > 0 && closed.durationNs < 10e9);
        assert.ok(closed.segmentsSent >= 2 && closed.segmentsReceived >= 2);
        assert.ok(closed.srttUs > 0);

        const serverClosed = find<ConnectionClosedEvent>(events, 'connection.closed', (e) => matches(e, serverPid, port, clientPort))!;
        assert.equal(serverClosed.direction, 'inbound');
        assert.equal(serverClosed.bytesSent, 7000);
        assert.equal(serverClosed.bytesReceived, 1234);
      } finally {
        await server.stop();
      }
    });
  }

  it('a refused connect is a connection.failed with the client pid, both ports and reason refused', async () => {
    // Port 1 on loopback: nothing listens there in a test environment.
    const client = await runPeer(['tcp-client', '127.0.0.1', '1', '10'], 'error');
    assert.equal(client.code, 'ECONNREFUSED');
    const events = await rx.consumer.waitFor(
      (evs) => evs.some((e) => e.kind === 'connection.failed' && e.process.pid === client.pid),
      10000,
      'connection.failed',
    );
    const failed = find<ConnectionFailedEvent>(events, 'connection.failed', (e) => e.process.pid === client.pid)!;
    assert.equal(failed.reason, 'refused');
    assert.equal(failed.errorName, 'ECONNREFUSED');
    assert.equal(failed.process.comm, 'netobs-client');
    assert.equal(failed.direction, 'outbound');
    assert.equal(failed.remotePort, 1);
    assert.ok(failed.localPort > 0, 'the ephemeral port the kernel chose');
    assert.equal(failed.remoteAddress, '127.0.0.1');
  });

  for (const { label, host, networkType } of [
    { label: 'IPv4', host: '127.0.0.1', networkType: 'ipv4' },
    { label: 'IPv6', host: '::1', networkType: 'ipv6' },
  ] as const) {
    it(`UDP over ${label}: flows on both sides with pids, ports, direction and exact bytes/datagrams`, async () => {
      const server = startPeer(['udp-server', host, '300']);
      try {
        const listening = await server.next('listening');
        const port = listening.port!;
        const serverPid = listening.pid;
        const client = await runPeer(['udp-client', host, String(port), '120', '3'], 'done');
        assert.equal(client.received, 900);
        const clientPort = client.localPort!;
        const isClientFlow = (e: FlowUpdatedEvent) => e.transport === 'udp' && e.localPort === clientPort && e.remotePort === port;
        const isServerFlow = (e: FlowUpdatedEvent) => e.transport === 'udp' && e.localPort === port && e.remotePort === clientPort;
        const complete = (e: FlowUpdatedEvent) => e.packetsSent === 3 && e.packetsReceived === 3;
        const events = await rx.consumer.waitFor(
          (evs) =>
            evs.some((e) => e.kind === 'flow.updated' && isClientFlow(e) && complete(e)) &&
            evs.some((e) => e.kind === 'flow.updated' && isServerFlow(e) && complete(e)),
          10000,
          `UDP ${label} flows`,
        );
        const flow = find<FlowUpdatedEvent>(events, 'flow.updated', (e) => isClientFlow(e) && complete(e))!;
        assert.equal(flow.process.pid, client.pid);
        assert.equal(flow.process.comm, 'netobs-client');
        assert.equal(flow.direction, 'outbound');
        assert.equal(flow.networkType, networkType);
        assert.equal(flow.remoteAddress, host);
        assert.equal(flow.bytesSent, 360);
        assert.equal(flow.bytesReceived, 900);
        assert.ok(flow.netnsId > 0);
        assert.ok(flow.socketCookie > 0);

        const served = find<FlowUpdatedEvent>(events, 'flow.updated', (e) => isServerFlow(e) && complete(e))!;
        assert.equal(served.process.pid, serverPid);
        assert.equal(served.process.comm, 'netobs-server');
        assert.equal(served.direction, 'inbound');
        assert.equal(served.bytesSent, 900);
        assert.equal(served.bytesReceived, 360);
      } finally {
        await server.stop();
      }
    });
  }

  for (const { label, args, networkType, request, reply } of [
    { label: 'IPv4', args: ['-c', '1', '-W', '5', '127.0.0.1'], networkType: 'ipv4', request: 8, reply: 0 },
    { label: 'IPv6', args: ['-6', '-c', '1', '-W', '5', '::1'], networkType: 'ipv6', request: 128, reply: 129 },
  ] as const) {
    it(`ICMP echo over ${label}: request and reply with the ping's pid and comm`, async () => {
      const ping = execFile('ping', [...args]);
      const pid = ping.pid!;
      await new Promise<void>((resolve, reject) => ping.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ping exited ${code}`)))));
      const mine = (e: IcmpEvent) => e.process.pid === pid;
      const events = await rx.consumer.waitFor(
        (evs) => evs.some((e) => e.kind === 'icmp' && mine(e) && e.icmpType === reply),
        10000,
        `ICMP ${label} echo reply`,
      );
      const sent = find<IcmpEvent>(events, 'icmp', (e) => mine(e) && e.icmpType === request)!;
      assert.ok(sent, 'echo request');
      assert.equal(sent.icmpName, 'echo-request');
      assert.equal(sent.direction, 'outbound');
      assert.equal(sent.process.comm, 'ping');
      assert.equal(sent.networkType, networkType);
      assert.equal(sent.echoSequence, 1);
      assert.equal(sent.bytes, 64);
      const got = find<IcmpEvent>(events, 'icmp', (e) => mine(e) && e.icmpType === reply)!;
      assert.equal(got.icmpName, 'echo-reply');
      assert.equal(got.direction, 'inbound');
      assert.equal(got.echoId, sent.echoId);
    });
  }

  it('ICMP port unreachable for a UDP datagram to a closed port', async () => {
    await run(process.execPath, ['-e', "const s=require('dgram').createSocket('udp4');s.send(Buffer.alloc(10),1,'127.0.0.1',()=>setTimeout(()=>s.close(),50))"]);
    await rx.consumer.waitFor(
      (evs) => evs.some((e) => e.kind === 'icmp' && e.icmpName === 'port-unreachable' && e.networkType === 'ipv4'),
      10000,
      'port-unreachable',
    );
  });

  it("excludes the observer's own traffic by default", async () => {
    const server = startPeer(['tcp-server', '127.0.0.1', '10']);
    try {
      const port = (await server.next('listening')).port!;
      const net = await import('node:net');
      // The reply is read only after the kernel has closed our socket (FIN both ways, the
      // socket's entry gone): the bytes still waiting in its queue are ours all the same.
      const ownPort = await new Promise<number>((resolve, reject) => {
        let local = 0;
        const sock = net.connect({ host: '127.0.0.1', port }, () => {
          local = sock.localPort ?? 0;
          sock.end('self');
          setTimeout(() => sock.resume(), 300);
        });
        sock.pause(); // before the connect completes, so node does not start reading
        sock.on('error', reject);
        sock.on('close', () => resolve(local));
      });
      // A connection by another process to the same server is reported at both ends...
      const other = await runPeer(['tcp-client', '127.0.0.1', String(port), '5'], 'done');
      await rx.consumer.waitFor(
        (evs) => evs.some((e) => e.kind === 'connection.closed' && e.localPort === port && e.remotePort === other.localPort),
        10000,
        'server side of the other connection',
      );
      // ...ours at neither: the server's end of it is the far end of the observer's own traffic.
      assert.ok(!rx.consumer.events.some((e) => e.localPort === port && e.remotePort === ownPort), 'no server side of our connection');
      assert.deepEqual(rx.consumer.events.filter((e) => e.process.pid === process.pid), []);
    } finally {
      await server.stop();
    }
  });

  it('exports kernel counters as gauges, with nothing lost', async () => {
    const settings = (rx.receiver as unknown as { settings: { telemetry: { snapshot(): Array<[string, number]> } } }).settings;
    const counters = new Map(settings.telemetry.snapshot());
    for (const name of ['ring_lost', 'truncated', 'sampled_out', 'rate_limited', 'map_full', 'kernel_records']) {
      assert.ok(counters.has(name), `gauge ${name}`);
    }
    assert.equal(counters.get('ring_lost'), 0);
    assert.ok((counters.get('kernel_records') ?? 0) > 0);
    assert.ok((counters.get('received') ?? 0) > 0);
  });
});

describe('ebpf_network ring reading on the real kernel', function () {
  this.timeout(60000);

  before(function () {
    requireKernel(this);
    delete process.env.TAPIO_MOCK_MODE;
  });

  it('decodes every record while the ring wraps around many times', async () => {
    // 1 MiB ring, ~2.7 MB of 112-byte records (6,000 request/reply pairs, four records each):
    // the reader crosses the end of the ring more than twice, and since 1 MiB is not a multiple
    // of 112 a record straddles the end each time. The ring still holds ~200 ms of this traffic,
    // so a busy shared machine does not turn the test into a loss test.
    const rx = await startReceiver({ ring_buffer_size: 1024 * 1024, wakeup_threshold_bytes: 16 * 1024, enable_tcp: false, enable_icmp: false, enable_l7_capture: false });
    const telemetry = (rx.receiver as unknown as { settings: { telemetry: { get(n: string): number } } }).settings.telemetry;
    const server = startPeer(['udp-server', '127.0.0.1', '16']);
    try {
      const port = (await server.next('listening')).port!;
      const client = await runPeer(['udp-client', '127.0.0.1', String(port), '32', '6000'], 'done');
      const clientPort = client.localPort!;
      try {
        await rx.consumer.waitFor(
          (evs) => evs.some((e) => e.kind === 'flow.updated' && e.localPort === clientPort && e.packetsReceived === 6000),
          20000,
          'the client flow with all 6000 replies',
        );
      } catch (error) {
        throw new Error(`${(error as Error).message} (ring_lost=${telemetry.get('ring_lost')})`);
      }
      const flow = rx.consumer.ofKind('flow.updated').filter((e) => e.localPort === clientPort && e.packetsReceived === 6000)[0];
      assert.equal(flow.packetsSent, 6000);
      assert.equal(flow.bytesSent, 192000);
      assert.equal(flow.bytesReceived, 96000);
      assert.equal(telemetry.get('ring_lost'), 0);
      assert.equal(telemetry.get('malformed_records'), 0);
    } finally {
      await server.stop();
      await rx.receiver.shutdown();
    }
  });
});

describe('ebpf_network wake-ups on the real kernel', function () {
  this.timeout(60000);

  before(function () {
    requireKernel(this);
    delete process.env.TAPIO_MOCK_MODE;
  });

  it('wakes the reader about once per poll_interval under steady traffic, and not at all when the ring is quiet', async () => {
    // The reader has no polling timer: the kernel forces a wake-up when a record comes
    // poll_interval after the last one it forced. 100 datagrams 10 ms apart make ~400 records
    // over ~1 s, far below the threshold: about 10 wake-ups, not 400, and not 0.
    const server = startPeer(['udp-server', '127.0.0.1', '8']);
    const serverPort = (await server.next('listening')).port!;
    const rx = await startReceiver({
      poll_interval: 100, wakeup_threshold_bytes: 1024 * 1024, enable_tcp: false, enable_icmp: false,
      enable_l7_capture: false, ports: [serverPort],
    });
    const telemetry = (rx.receiver as unknown as { settings: { telemetry: { get(n: string): number } } }).settings.telemetry;
    try {
      await new Promise((r) => setTimeout(r, 500));
      assert.equal(telemetry.get('wakeups'), 0, 'no traffic on the filtered port, so no wake-up');
      const client = await runPeer(['udp-paced', '127.0.0.1', String(serverPort), '100', '10'], 'done');
      await rx.consumer.waitFor(
        (evs) => evs.some((e) => e.kind === 'flow.updated' && e.localPort === client.localPort && e.packetsSent === 100),
        10000,
        'the paced client flow with all 100 datagrams',
      );
      const wakeups = telemetry.get('wakeups');
      assert.ok(wakeups >= 3 && wakeups <= 30, `expected ~10 wake-ups for ~1 s of traffic at poll_interval 100 ms, got ${wakeups}`);
      // The tail after the last wake-up is collected by the receiver's timer, not by more wake-ups.
      await new Promise((r) => setTimeout(r, 500));
      assert.ok(telemetry.get('wakeups') <= wakeups + 1, 'a quiet ring wakes nobody');
      // Each drain that catches up passes its partial batch on: many short batches, no holes.
      assertDenseBatches(rx.consumer.batches, testConfig().buffer_size);
    } finally {
      await server.stop();
      await rx.receiver.shutdown();
    }
  });
  it('rests its housekeeping timer while the ring is quiet, and reads the first records after the rest at once', async () => {
    // Housekeeping (the 1 s safety drain and loss check) stops once a run finds no records
    // since the last; the first record after the rest forces a wake-up (it comes poll_interval
    // after the last one), whose drain starts housekeeping again.
    const server = startPeer(['tcp-server', '127.0.0.1', '10']);
    const port = (await server.next('listening')).port!;
    const rx = await startReceiver({ poll_interval: 100, enable_udp: false, enable_icmp: false, enable_l7_capture: false, ports: [port] });
    const internals = rx.receiver as unknown as { housekeepingTimer: unknown };
    try {
      assert.ok(internals.housekeepingTimer !== undefined, 'housekeeping runs from the start');
      await new Promise((r) => setTimeout(r, 2500));
      assert.equal(internals.housekeepingTimer, undefined, 'two quiet seconds: housekeeping rests');
      const started = Date.now();
      const client = await runPeer(['tcp-client', '127.0.0.1', String(port), '10'], 'done');
      await rx.consumer.waitFor(
        (evs) => evs.some((e) => e.kind === 'connection.closed' && e.localPort === client.localPort),
        5000,
        'the connection made after the rest',
      );
      assert.ok(Date.now() - started < 1500, `read ${Date.now() - started} ms after the connection started, not a housekeeping period later`);
      assert.ok(internals.housekeepingTimer !== undefined, 'the drain that read it started housekeeping again');
    } finally {
      await server.stop();
      await rx.receiver.shutdown();
    }
  });
});

describe('ebpf_network live connection scan on the real kernel', function () {
  this.timeout(60000);

  before(function () {
    requireKernel(this);
    delete process.env.TAPIO_MOCK_MODE;
  });

  /** A peer server and a peer client holding a connection to it (1000 bytes sent), made before the receiver starts. */
  async function heldConnection() {
    const server = startPeer(['tcp-server', '127.0.0.1', '50']);
    const listening = await server.next('listening');
    const port = listening.port!;
    const client = startPeer(['tcp-hold', '127.0.0.1', String(port), '1000']);
    const clientPort = (await client.next('holding')).localPort!;
    return { server, listening, port, client, clientPort };
  }

  /** The processes named by the closes of both ends of the held connection, sorted, once both came. */
  async function closingPids(rx: RunningReceiver, port: number, clientPort: number): Promise<number[]> {
    const ofIt = (e: NetworkEvent): e is ConnectionClosedEvent =>
      e.kind === 'connection.closed' && (e.localPort === clientPort || (e.localPort === port && e.remotePort === clientPort));
    const events = await rx.consumer.waitFor((evs) => evs.filter(ofIt).length >= 2, 10000, 'both closes of the held connection');
    return events.filter(ofIt).map((e) => e.process.pid).sort();
  }

  it('adopts a connection made before it started once it moves data: live updates and a close with both processes', async () => {
    const { server, listening, port, client, clientPort } = await heldConnection();
    const rx = await startReceiver({ tcp_update_interval: 200, enable_udp: false, enable_icmp: false, enable_l7_capture: false });
    try {
      client.child.stdin!.write('more\n');
      await client.next('wrote');
      const fromClient = () => rx.consumer.ofKind('connection.updated').filter((u) => u.localPort === clientPort && u.remotePort === port);
      const fromServer = () => rx.consumer.ofKind('connection.updated').filter((u) => u.localPort === port && u.remotePort === clientPort);
      await rx.consumer.waitFor(() => fromClient().length >= 2 && fromServer().length >= 2, 10000, 'live updates of both ends');
      assert.equal(rx.consumer.ofKind('connection.opened').filter((o) => o.localPort === clientPort).length, 0, 'its open is long past: none is made up');
      const c = fromClient().at(-1)!;
      assert.equal(c.process.pid, client.child.pid, 'the process that moved data owns it');
      assert.equal(c.bytesSent, 2000, 'the kernel counts from the start, before we were loaded');
      assert.equal(fromServer().at(-1)!.process.pid, listening.pid);
      assert.equal(fromServer().at(-1)!.bytesReceived, 2000);

      await client.stop();
      assert.deepEqual(await closingPids(rx, port, clientPort), [client.child.pid!, listening.pid].sort(), 'closes name the processes, not pid 0');
    } finally {
      await server.stop();
      await rx.receiver.shutdown();
    }
  });

  it('names the closing process of a connection made before it started that moved nothing since, and leaves out its own', async () => {
    const { server, listening, port, client, clientPort } = await heldConnection();
    const net = await import('node:net');
    const own = net.connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => own.once('connect', resolve).once('error', reject));
    const ownPort = own.localPort!;
    const rx = await startReceiver({ tcp_update_interval: 0, enable_udp: false, enable_icmp: false, enable_l7_capture: false });
    try {
      await client.stop();
      await new Promise<void>((resolve) => {
        own.on('close', () => resolve());
        own.resume();
        own.end();
      });
      assert.deepEqual(await closingPids(rx, port, clientPort), [client.child.pid!, listening.pid].sort(), 'closes name the processes, not pid 0');
      await new Promise((r) => setTimeout(r, 300));
      assert.deepEqual(rx.consumer.events.filter((e) => e.localPort === ownPort), [], "the observer's own end is not reported");
    } finally {
      own.destroy();
      await server.stop();
      await rx.receiver.shutdown();
    }
  });

  it('scans connections in other network namespaces too', async () => {
    // The iterator walks socket-local storage, not one namespace's socket table: a connection
    // inside a namespace of its own (a pod's, say) is reported like any other.
    const ns = `netobs-live-${process.pid}`;
    await run('ip', ['netns', 'add', ns]);
    try {
      await run('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
      const inNs = ['ip', 'netns', 'exec', ns];
      const server = startPeer(['tcp-server', '127.0.0.1', '50'], inNs);
      const rx = await startReceiver({ tcp_update_interval: 200, enable_udp: false, enable_icmp: false, enable_l7_capture: false });
      try {
        const port = (await server.next('listening')).port!;
        const client = startPeer(['tcp-hold', '127.0.0.1', String(port), '777'], inNs);
        const clientPort = (await client.next('holding')).localPort!;
        const updates = await rx.consumer.waitFor(
          (evs) => evs.some((e) => e.kind === 'connection.updated' && e.localPort === clientPort && e.remotePort === port),
          10000,
          'a live update from inside the namespace',
        );
        const u = updates.find((e): e is ConnectionUpdatedEvent => e.kind === 'connection.updated' && e.localPort === clientPort)!;
        const ownNetns = Number((await run('readlink', ['/proc/self/ns/net'])).stdout.match(/\[(\d+)\]/)![1]);
        assert.notEqual(u.netnsId, ownNetns, 'not the namespace the receiver runs in');
        assert.equal(u.netnsId, Number((await run('ip', ['netns', 'exec', ns, 'readlink', '/proc/self/ns/net'])).stdout.match(/\[(\d+)\]/)![1]));
        assert.equal(u.bytesSent, 777);
        await client.stop();
      } finally {
        await server.stop();
        await rx.receiver.shutdown();
      }
    } finally {
      await run('ip', ['netns', 'del', ns]);
    }
  });

  it('reports both ends of an open, idle connection every tcp_update_interval, and stops once it closed', async () => {
    const server = startPeer(['tcp-server', '127.0.0.1', '50']);
    const rx = await startReceiver({ tcp_update_interval: 200, enable_udp: false, enable_icmp: false, enable_l7_capture: false });
    try {
      const listening = await server.next('listening');
      const port = listening.port!;
      const client = startPeer(['tcp-hold', '127.0.0.1', String(port), '1234']);
      const clientPort = (await client.next('holding')).localPort!;
      const live = (local: number, remote: number) => () =>
        rx.consumer.ofKind('connection.updated').filter((u) => u.localPort === local && u.remotePort === remote);
      const fromClient = live(clientPort, port);
      const fromServer = live(port, clientPort);
      await rx.consumer.waitFor(() => fromClient().length >= 3 && fromServer().length >= 3, 10000, 'three scans of both ends');

      const c = fromClient();
      assert.equal(c[0].process.pid, client.child.pid);
      assert.equal(c[0].process.comm, 'netobs-client');
      assert.equal(c[0].direction, 'outbound');
      assert.equal(c[c.length - 1].bytesSent, 1234);
      assert.equal(c[c.length - 1].bytesReceived, 0);
      assert.ok(c[c.length - 1].durationNs > c[0].durationNs, 'the age grows from scan to scan');
      assert.equal(c[0].socketCookie, rx.consumer.ofKind('connection.opened').find((o) => o.localPort === clientPort)?.socketCookie);
      const srv = fromServer();
      assert.equal(srv[0].process.pid, listening.pid);
      assert.equal(srv[0].direction, 'inbound');
      assert.equal(srv[srv.length - 1].bytesReceived, 1234);

      await client.stop();
      await rx.consumer.waitFor((evs) => evs.some((e) => e.kind === 'connection.closed' && e.localPort === clientPort), 10000, 'the close');
      const afterClose = fromClient().length;
      await new Promise((r) => setTimeout(r, 600));
      assert.equal(fromClient().length, afterClose, 'a closed connection is not scanned again');
    } finally {
      await server.stop();
      await rx.receiver.shutdown();
    }
  });
});

describe('ebpf_network kernel-side options on the real kernel', function () {
  this.timeout(60000);

  before(function () {
    requireKernel(this);
    delete process.env.TAPIO_MOCK_MODE;
  });

  async function tcpExchange(): Promise<{ clientPid: number; clientPort: number; serverPort: number }> {
    const server = startPeer(['tcp-server', '127.0.0.1', '100']);
    try {
      const serverPort = (await server.next('listening')).port!;
      const client = await runPeer(['tcp-client', '127.0.0.1', String(serverPort), '100'], 'done');
      return { clientPid: client.pid, clientPort: client.localPort!, serverPort };
    } finally {
      await server.stop();
    }
  }

  const counters = (rx: RunningReceiver) => (rx.receiver as unknown as { kernelStats(): { sampledOut: number; rateLimited: number } }).kernelStats();

  it('a connection reset by the peer closes with reason reset', async () => {
    const rx = await startReceiver({ enable_udp: false, enable_icmp: false, enable_l7_capture: false });
    const server = startPeer(['tcp-server', '127.0.0.1', 'reset']);
    try {
      const port = (await server.next('listening')).port!;
      const client = await runPeer(['tcp-client', '127.0.0.1', String(port), '10'], 'done|error');
      const events = await rx.consumer.waitFor(
        (evs) => evs.some((e) => e.kind === 'connection.closed' && e.process.pid === client.pid),
        10000,
        'the reset connection',
      );
      const closed = events.find((e): e is ConnectionClosedEvent => e.kind === 'connection.closed' && e.process.pid === client.pid)!;
      assert.equal(closed.closeReason, 'reset');
      assert.equal(closed.remotePort, port);
    } finally {
      await server.stop();
      await rx.receiver.shutdown();
    }
  });

  it('kernel_sampling_percentage 0 drops every new socket in the kernel and counts it', async () => {
    const rx = await startReceiver({ kernel_sampling_percentage: 0, enable_udp: false, enable_icmp: false, enable_l7_capture: false });
    try {
      const { clientPid } = await tcpExchange();
      await new Promise((r) => setTimeout(r, 1200)); // past the receiver's flush interval and counter cache
      assert.equal(rx.consumer.events.filter((e) => e.process.pid === clientPid).length, 0);
      assert.ok(counters(rx).sampledOut >= 1, 'sampled_out counted');
    } finally {
      await rx.receiver.shutdown();
    }
  });

  it('events kept by kernel sampling carry the sampling ratio, so counts can be scaled back', async () => {
    const rx = await startReceiver({ kernel_sampling_percentage: 50, enable_udp: false, enable_icmp: false, enable_l7_capture: false });
    try {
      // Each exchange is a new socket pair: with 50 % per socket, 12 exchanges all dropped is a 1 in 16M event.
      for (let i = 0; i < 12; i++) await tcpExchange();
      const events = await rx.consumer.waitFor((evs) => evs.length > 0, 10000, 'any kept event');
      for (const e of events) assert.equal(e.sampleRatio, 0.5, `${e.kind} carries the kernel's ratio`);
    } finally {
      await rx.receiver.shutdown();
    }
  });

  it('ports keeps only matching traffic, exclude_ports drops it', async () => {
    const server = startPeer(['tcp-server', '127.0.0.1', '100']);
    const port = (await server.next('listening')).port!;
    const only = await startReceiver({ ports: [port], enable_l7_capture: false });
    const without = await startReceiver({ exclude_ports: [port], enable_l7_capture: false });
    try {
      const client = await runPeer(['tcp-client', '127.0.0.1', String(port), '100'], 'done');
      await only.consumer.waitFor(
        (evs) => evs.some((e) => e.kind === 'connection.closed' && e.process.pid === client.pid),
        10000,
        'the matching connection',
      );
      assert.ok(only.consumer.events.every((e) => e.transport === 'icmp' || e.localPort === port || e.remotePort === port));
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(without.consumer.events.filter((e) => e.localPort === port || e.remotePort === port).length, 0);
    } finally {
      await server.stop();
      await only.receiver.shutdown();
      await without.receiver.shutdown();
    }
  });

  it('kernel_max_events_per_second caps records in the kernel and counts the excess', async () => {
    const rx = await startReceiver({ kernel_max_events_per_second: 2, enable_tcp: false, enable_icmp: false, enable_l7_capture: false });
    const server = startPeer(['udp-server', '127.0.0.1', '8']);
    try {
      const port = (await server.next('listening')).port!;
      await runPeer(['udp-client', '127.0.0.1', String(port), '8', '50'], 'done');
      await new Promise((r) => setTimeout(r, 1200));
      assert.ok(counters(rx).rateLimited >= 50, `rate_limited ${counters(rx).rateLimited}`);
    } finally {
      await server.stop();
      await rx.receiver.shutdown();
    }
  });
});
