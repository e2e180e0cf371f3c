/**
 * Shared pieces of the kernel tests: a privilege gate (skip with a reason locally, fail under
 * CI=true where these tests must run), child-process peers, and a receiver on loopback.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Receiver } from '../../../core/component';
import type { NetworkEvent, PayloadEvent } from '../../../core/events';
import { CollectingConsumer, createTestHost, createTestSettings } from '../../../core/testing';
import type { BpfNetObject, KernelStats } from '../../../receivers/ebpf_network/bpf-object';
import { factory, type EbpfNetworkConfig } from '../../../receivers/ebpf_network';
import { requirements } from '../../../receivers/ebpf_network/preflight';

export const PEER = join(__dirname, 'fixtures', 'peer.js');

/** Skips (locally) or fails (CI=true) when this machine cannot load eBPF programs. */
export function requireKernel(ctx: Mocha.Context): void {
  const unmet = requirements(true).filter((r) => !r.ok);
  if (unmet.length === 0) return;
  const why = unmet.map((r) => `${r.name}: ${r.detail}`).join('; ');
  if (process.env.CI === 'true') throw new Error(`eBPF tests must run in CI but cannot: ${why}`);
  ctx.skip();
}

/** One JSON line printed by fixtures/peer.js. */
export interface PeerLine {
  pid: number;
  event: string;
  port?: number;
  localPort?: number;
  remotePort?: number;
  sent?: number;
  received?: number;
  datagrams?: number;
  code?: string;
  status?: number;
  body?: string;
}

export interface Peer<L extends { event: string } = PeerLine> {
  child: ChildProcess;
  lines: L[];
  /** The first line whose event is `event` (or one of `a|b`). */
  next(event: string, timeoutMs?: number): Promise<L>;
  stop(): Promise<void>;
}

/**
 * `wrapper` runs the peer through another command, e.g. `ip netns exec NAME`; `script` is what
 * node runs (fixtures/peer.js, or node options and another script that prints JSON lines).
 */
export function startPeer<L extends { event: string } = PeerLine>(args: string[], wrapper: string[] = [], script: string[] = [PEER]): Peer<L> {
  const argv = [...wrapper, process.execPath, ...script, ...args];
  const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: L[] = [];
  const waiters: Array<() => void> = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    lines.push(JSON.parse(line) as L);
    for (const w of waiters.splice(0)) w();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    lines,
    async next(event, timeoutMs = 10000) {
      const deadline = Date.now() + timeoutMs;
      const wanted = event.split('|');
      for (;;) {
        const found = lines.find((l) => wanted.includes(l.event));
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`peer ${args.join(' ')}: no '${event}' line within ${timeoutMs} ms`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
    },
    async stop() {
      child.stdin?.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Runs a peer until it prints `event` and returns that line. */
export async function runPeer(args: string[], event: string, timeoutMs?: number): Promise<PeerLine> {
  const peer = startPeer(args);
  try {
    return await peer.next(event, timeoutMs);
  } finally {
    await peer.stop();
  }
}

export interface RunningReceiver {
  receiver: Receiver;
  consumer: CollectingConsumer;
}

/** The kernel counters now (the receiver's gauges cache them for a second). */
export function freshKernelStats(rx: RunningReceiver): KernelStats {
  const object = (rx.receiver as unknown as { object?: BpfNetObject }).object;
  if (!object) throw new Error('the receiver has no kernel object: not started on the real kernel');
  return object.readStats();
}

export function testConfig(overrides: Partial<EbpfNetworkConfig> = {}): EbpfNetworkConfig {
  return {
    ...factory.createDefaultConfig(),
    flush_interval: 20,
    poll_interval: 5,
    flow_report_interval: 100,
    flow_idle_timeout: 60000,
    ring_buffer_size: 4 * 1024 * 1024,
    ...overrides,
  };
}

export async function startReceiver(overrides: Partial<EbpfNetworkConfig> = {}): Promise<RunningReceiver> {
  const consumer = new CollectingConsumer();
  const receiver = await factory.createReceiver(createTestSettings('receiver', 'ebpf_network'), testConfig(overrides), consumer);
  await receiver.start(createTestHost());
  return { receiver, consumer };
}

/**
 * A DNS query from an unconnected UDP socket to a peer's unconnected socket is captured where
 * it is sent (peer from sendto) and where it is received (peer from recvfrom's result).
 */
export async function assertDnsCapturedAtBothEnds(rx: RunningReceiver): Promise<void> {
  const server = startPeer(['udp-server', '127.0.0.1', '5']);
  try {
    const port = (await server.next('listening')).port!;
    const client = await runPeer(['udp-client', '127.0.0.1', String(port), 'dns', '1'], 'done');
    const isQuery = (e: NetworkEvent): e is PayloadEvent => e.kind === 'payload' && e.transport === 'udp' && e.data.length > 2 && e.data[0] === 0x12 && e.data[1] === 0x34;
    const mine = (e: NetworkEvent) => isQuery(e) && (e.process.pid === client.pid || e.process.pid === server.child.pid);
    const events = await rx.consumer.waitFor((evs) => evs.filter(mine).length >= 2, 10000, 'the DNS query at both ends');
    const sent = events.filter(isQuery).find((e) => e.process.pid === client.pid && e.dataDirection === 'send');
    assert.ok(sent, 'captured where it was sent');
    assert.equal(sent.remotePort, port);
    assert.equal(sent.remoteAddress, '127.0.0.1');
    assert.equal(sent.data.length, 30);
    const received = events.filter(isQuery).find((e) => e.process.pid === server.child.pid && e.dataDirection === 'recv');
    assert.ok(received, 'captured where it was received');
    assert.equal(received.localPort, port);
    assert.equal(received.remotePort, client.localPort);
    assert.equal(received.remoteAddress, '127.0.0.1');
    assert.deepEqual(received.data, sent.data);
  } finally {
    await server.stop();
  }
}

/** Batches are filled in preallocated arrays and trimmed when partial: none may keep a hole. */
export function assertDenseBatches(batches: NetworkEvent[][], bufferSize: number): void {
  assert.ok(batches.length > 0);
  for (const batch of batches) {
    assert.ok(batch.length > 0 && batch.length <= bufferSize, `batch of ${batch.length}`);
    for (let i = 0; i < batch.length; i++) assert.ok(i in batch && batch[i] !== undefined, `hole at ${i} of ${batch.length}`);
  }
}

/** A child whose main thread calls getuid() `n` times for each line `n` it reads, then says `done`: the ring generator's trigger. */
const GETUID_CALLER = `
const say = (event) => process.stdout.write(JSON.stringify({ event, pid: process.pid }) + '\\n');
say('ready');
require('readline').createInterface({ input: process.stdin }).on('line', (line) => {
  for (let i = 0; i < Number(line); i++) process.getuid();
  say('done');
});
`;

export function startGetuidCaller(): Peer {
  return startPeer([], [], ['-e', GETUID_CALLER]);
}
