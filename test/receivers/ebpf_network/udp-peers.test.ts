/**
 * The sender of a DNS datagram that an unconnected UDP socket reads is noted where the datagram
 * arrives (cgroup_skb ingress) and taken back by the receive, so no program runs at any
 * syscall's exit. On the real kernel: a server whose socket queues datagrams from many senders
 * before it reads them, a dual-stack server, and a datagram that arrived before the receiver.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PayloadEvent } from '../../../core/events';
import { PROGRAMS } from '../../../receivers/ebpf_network/bpf-object';
import { freshKernelStats, requireKernel, runPeer, startPeer, startReceiver, type Peer, type RunningReceiver } from './helpers';

interface HoldLine {
  pid: number;
  event: string;
  port?: number;
  senders?: Array<{ id: number; localPort: number }>;
}

const BURST = 6;

describe('ebpf_network senders of unconnected UDP receives', function () {
  this.timeout(40000);
  let dir: string;

  before(function () {
    requireKernel(this);
    delete process.env.TAPIO_MOCK_MODE;
    dir = mkdtempSync(join(tmpdir(), 'udp-peers-'));
  });

  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A server that stops reading until `release()`, so what arrives meanwhile queues up. */
  async function heldServer(host: string, name: string): Promise<{ server: Peer<HoldLine>; port: number; release(): void }> {
    const server = startPeer<HoldLine>(['udp-hold-server', host]);
    const port = (await server.next('listening')).port!;
    const gate = join(dir, name);
    server.child.stdin!.write(`hold ${gate}\n`);
    await server.next('held');
    return { server, port, release: () => writeFileSync(gate, '') };
  }

  /** The server's captured receives of the burst's queries (ids 0x2000..), once all are in. */
  async function capturedReceives(rx: RunningReceiver, server: Peer<HoldLine>, count: number): Promise<PayloadEvent[]> {
    const mine = (e: PayloadEvent) =>
      e.transport === 'udp' && e.dataDirection === 'recv' && e.process.pid === server.child.pid && e.data.length >= 12 && e.data[0] === 0x20;
    const events = await rx.consumer.waitFor((evs) => evs.filter((e) => e.kind === 'payload' && mine(e)).length >= count, 10000, `${count} queries read by the server`);
    return events.filter((e): e is PayloadEvent => e.kind === 'payload' && mine(e));
  }

  it('attaches nothing at a syscall: the receive path runs only for socket I/O and packets', async () => {
    const rx = await startReceiver({ capture_bytes: 4096 });
    try {
      const attached = (rx.receiver as unknown as { object: { attached: string[] } }).object.attached;
      assert.ok(attached.includes('on_ingress'), attached.join(', '));
      assert.ok(attached.every((name) => PROGRAMS.some((p) => p.name === name)), attached.join(', '));
      // What the kernel holds: none of our programs is a (syscall) tracepoint program, and no raw
      // tracepoint link of ours is sys_enter/sys_exit. Either would slow every syscall on the host.
      const bpftool = (what: string) => JSON.parse(execFileSync('bpftool', [what, 'show', '--json'], { encoding: 'utf8' })) as Array<Record<string, unknown>>;
      const ours = new Set(PROGRAMS.map((p) => p.name.slice(0, 15)));
      const programs = bpftool('prog').filter((p) => ours.has(String(p.name)));
      assert.ok(programs.length >= attached.length, `our programs in the kernel: ${programs.map((p) => p.name).join(', ')}`);
      assert.deepEqual(programs.filter((p) => p.type === 'tracepoint').map((p) => p.name), []);
      const ids = new Set(programs.map((p) => p.id));
      const links = bpftool('link').filter((l) => ids.has(l.prog_id) && l.type === 'raw_tracepoint');
      assert.ok(links.some((l) => l.tp_name === 'sock_recv_length'), JSON.stringify(links));
      assert.deepEqual(links.filter((l) => String(l.tp_name).startsWith('sys_')), []);
    } finally {
      await rx.receiver.shutdown();
    }
  });

  for (const host of ['127.0.0.1', '::1']) {
    it(`gives each of ${BURST} queued datagrams over ${host} its own sender, past datagrams that are not DNS`, async () => {
      const rx = await startReceiver({ capture_bytes: 4096 });
      const { server, port, release } = await heldServer(host, `gate-${host}`);
      try {
        const before = freshKernelStats(rx).udpPeerUnknown;
        const burst = await runPeer(['udp-burst', host, String(port), String(BURST)], 'sent') as unknown as HoldLine;
        release();
        await server.next('resumed');
        const received = await capturedReceives(rx, server, BURST);
        assert.equal(received.length, BURST, 'one capture per query read');
        for (const sender of burst.senders!) {
          const e = received.find((r) => (r.data[0] << 8 | r.data[1]) === sender.id);
          assert.ok(e, `query ${sender.id.toString(16)} captured at the server`);
          assert.equal(e.remotePort, sender.localPort, `query ${sender.id.toString(16)}: its sender's port`);
          assert.equal(e.remoteAddress, host);
          assert.equal(e.localPort, port);
        }
        assert.equal(freshKernelStats(rx).udpPeerUnknown - before, 0, 'every sender was noted');
      } finally {
        release();
        await server.stop();
        await rx.receiver.shutdown();
      }
    });
  }

  it('a dual-stack socket gets IPv4 senders as IPv4 and IPv6 senders as IPv6', async () => {
    const rx = await startReceiver({ capture_bytes: 4096 });
    const { server, port, release } = await heldServer('::', 'gate-dual');
    try {
      const v4 = await runPeer(['udp-burst', '127.0.0.1', String(port), '1'], 'sent') as unknown as HoldLine;
      const v6 = await runPeer(['udp-burst', '::1', String(port), '1'], 'sent') as unknown as HoldLine;
      release();
      await server.next('resumed');
      const received = await capturedReceives(rx, server, 2);
      for (const [address, burst] of [['127.0.0.1', v4], ['::1', v6]] as const) {
        const e = received.find((r) => r.remoteAddress === address);
        assert.ok(e, `the query from ${address}: ${received.map((r) => `${r.remoteAddress}:${r.remotePort}`).join(', ')}`);
        assert.equal(e.remotePort, burst.senders![0].localPort);
        assert.equal(e.localPort, port);
      }
    } finally {
      release();
      await server.stop();
      await rx.receiver.shutdown();
    }
  });

  it('says so when a datagram arrived before the receiver started: captured without a sender, counted', async () => {
    const { server, port, release } = await heldServer('127.0.0.1', 'gate-early');
    let rx: RunningReceiver | undefined;
    try {
      await runPeer(['udp-burst', '127.0.0.1', String(port), '1'], 'sent');
      rx = await startReceiver({ capture_bytes: 4096 });
      release();
      await server.next('resumed');
      const [e] = await capturedReceives(rx, server, 1);
      assert.equal(e.remotePort, 0, 'no sender rather than a wrong one');
      assert.equal(freshKernelStats(rx).udpPeerUnknown, 1);
    } finally {
      release();
      await server.stop();
      await rx?.receiver.shutdown();
    }
  });
});
