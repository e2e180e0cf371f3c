/**
 * eBPF ring benchmark: how fast the ebpf_network receiver drains and decodes the kernel ring,
 * what it costs, and how long records wait.
 *
 *   npx tsx bench/ebpf-ring.bench.ts [--seconds 4] [--burst 64] [--rate 100000] [--high-rate 1000000]
 *     [--phases idle,paced,high,max] [--profile-dir DIR] [--threads]
 *     [--wakeup-threshold BYTES] [--poll-interval MS] [--buffer-size N]   (root)
 *
 * --profile-dir writes one V8 CPU profile per phase (the in-process inspector, so each phase has
 * a file of its own and the load is not in it). --threads adds the CPU of each thread of this
 * process from /proc/self/task (main, and by name the others: V8's GC and compiler helpers are
 * `node`, libuv's pool `libuv-worker`).
 *
 * Load generator: a child process calls getuid() in a (paced) loop; a benchmark-only program on
 * tp_btf/sys_enter (bench_burst in bpf/bench.bpf.o, an object of its own loaded by
 * ring-generator.ts) turns each getuid of that thread into `burst` realistic TCP close records
 * in the receiver's own ring. The receiver runs exactly as in production (mmap'd ring, batched
 * wake-ups, poll + timer, full decode into connection.closed events, batches to a consumer).
 *
 * Phases: idle; paced at --rate (default 100,000/s); paced at --high-rate (default 1,000,000/s);
 * then as fast as the generator can (the decoder's ceiling, with loss once it is exceeded).
 * Reported: records decoded per second, records lost in the kernel (failed reservations),
 * CPU of this Node.js process (process.cpuUsage, % of one core), and kernel timestamp ->
 * consumer latency p50/p99 (sampled: every 16th event, clocks from CLOCK_BOOTTIME/REALTIME).
 * Numbers come from a shared 2-core VM; other work on it moves them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { createInterface } from 'node:readline';
import type { Consumer } from '../core/component';
import type { NetworkEvent } from '../core/events';
import { createTestHost, createTestSettings } from '../core/testing';
import { factory } from '../receivers/ebpf_network';
import { BootClock } from '../receivers/ebpf_network/clock';
import { EbpfNetworkReceiver, resolveWakeupThreshold } from '../receivers/ebpf_network/receiver';
import { requirements } from '../receivers/ebpf_network/preflight';
import { GETUID_SYSCALL, RingGenerator } from './ring-generator';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? Number(args[i + 1]) : fallback;
};
const SECONDS = arg('seconds', 4);
const BURST = arg('burst', 64);
const PACED_RATE = arg('rate', 100_000);
const HIGH_RATE = arg('high-rate', 1_000_000);
const PHASES = new Set((args.includes('--phases') ? args[args.indexOf('--phases') + 1] : 'idle,paced,high,max').split(','));
const PROFILE_DIR = args.includes('--profile-dir') ? args[args.indexOf('--profile-dir') + 1] : undefined;
const THREADS = args.includes('--threads');
const LATENCY_SAMPLE_EVERY = 16;
const MAX_SAMPLES = 500_000;

// Syscall loop in a child: `max S` runs flat out for S seconds, `rate R S` paces to R syscalls/s.
const GENERATOR = `
process.stdout.write('ready\\n');
require('readline').createInterface({ input: process.stdin }).on('line', (line) => {
  const [mode, a, b] = line.split(' ');
  const seconds = Number(mode === 'max' ? a : b);
  const end = Date.now() + seconds * 1000;
  let calls = 0;
  if (mode === 'max') {
    while (Date.now() < end) { for (let i = 0; i < 256; i++) process.getuid(); calls += 256; }
    process.stdout.write('done ' + calls + '\\n');
  } else {
    const rate = Number(a);
    const start = Date.now();
    const timer = setInterval(() => {
      const now = Date.now();
      const due = Math.floor(((now - start) / 1000) * rate);
      while (calls < due) { process.getuid(); calls++; }
      if (now >= end) { clearInterval(timer); process.stdout.write('done ' + calls + '\\n'); }
    }, 1);
  }
});
`;

class MeasuringConsumer implements Consumer {
  readonly mutatesData = false;
  events = 0;
  samples: number[] = [];
  constructor(private readonly clock: BootClock) {}
  consume(batch: NetworkEvent[]): void {
    this.events += batch.length;
    if (this.samples.length >= MAX_SAMPLES) return;
    const nowUs = this.clock.toEpochUs(this.clock.nowBootNs());
    for (let i = 0; i < batch.length; i += LATENCY_SAMPLE_EVERY) this.samples.push(nowUs - batch[i].timeUs);
  }
  reset(): void {
    this.events = 0;
    this.samples = [];
  }
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function lines(child: ChildProcess): () => Promise<string> {
  const queue: string[] = [];
  const waiters: Array<(l: string) => void> = [];
  createInterface({ input: child.stdout! }).on('line', (l) => {
    const w = waiters.shift();
    if (w) w(l);
    else queue.push(l);
  });
  return () => new Promise((resolve) => {
    const l = queue.shift();
    if (l !== undefined) resolve(l);
    else waiters.push(resolve);
  });
}

/** CPU ticks (utime + stime) per thread of this process, keyed by tid, with the thread's name. */
function threadTicks(): Map<string, { name: string; ticks: number }> {
  const out = new Map<string, { name: string; ticks: number }>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const fields = stat.slice(close + 2).split(' ');
      out.set(tid, { name: stat.slice(stat.indexOf('(') + 1, close), ticks: Number(fields[11]) + Number(fields[12]) });
    } catch {
      // the thread ended
    }
  }
  return out;
}

/** Killed when the benchmark fails, so a failed start does not leave both processes running. */
let generator: ChildProcess | undefined;
let bursts: RingGenerator | undefined;

async function main(): Promise<void> {
  const unmet = requirements(true).filter((r) => !r.ok);
  if (unmet.length > 0) {
    console.log(`ebpf-ring bench skipped: ${unmet.map((r) => `${r.name}: ${r.detail}`).join('; ')}`);
    return;
  }
  delete process.env.TAPIO_MOCK_MODE;
  const child = spawn(process.execPath, ['-e', GENERATOR], { stdio: ['pipe', 'pipe', 'inherit'] });
  generator = child;
  const nextLine = lines(child);
  await nextLine(); // ready
  const clock = new BootClock();
  const consumer = new MeasuringConsumer(clock);
  const settings = createTestSettings('receiver', 'ebpf_network');
  const defaults = factory.createDefaultConfig();
  const config = {
    ...defaults,
    enable_l7_capture: false,
    wakeup_threshold_bytes: arg('wakeup-threshold', defaults.wakeup_threshold_bytes),
    poll_interval: arg('poll-interval', defaults.poll_interval),
    buffer_size: arg('buffer-size', defaults.buffer_size),
  };
  const receiver = new EbpfNetworkReceiver(settings, config, consumer);
  await receiver.start(createTestHost());
  const ring = receiver.kernelRing();
  if (!ring || child.pid === undefined) throw new Error('the receiver has no kernel ring, or the generator child no pid');
  bursts = RingGenerator.load({ ring, tid: child.pid, syscall: GETUID_SYSCALL, burst: BURST });
  const t = settings.telemetry;

  const phase = async (label: string, command: string): Promise<void> => {
    await new Promise((r) => setTimeout(r, 300));
    consumer.reset();
    await new Promise((r) => setTimeout(r, 1100)); // kernel counters are cached for 1 s
    const k0 = receiver.kernelStats();
    const decoded0 = t.get('received');
    const session = PROFILE_DIR ? new Session() : undefined;
    const post = (method: string): Promise<unknown> =>
      new Promise((resolve, reject) => session!.post(method, (error, result) => (error ? reject(error) : resolve(result))));
    if (session) {
      session.connect();
      await post('Profiler.enable');
      await post('Profiler.start');
    }
    const threads0 = THREADS ? threadTicks() : undefined;
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    child.stdin!.write(`${command}\n`);
    const done = await nextLine();
    // Let the reader catch up on what the kernel already wrote (bounded).
    void done;
    for (let i = 0, last = -1; i < 50 && t.get('received') !== last; i++) {
      last = t.get('received');
      await new Promise((r) => setTimeout(r, 30));
    }
    const wallMs = performance.now() - wall0;
    const cpu = process.cpuUsage(cpu0);
    if (threads0) {
      const byName = new Map<string, number>();
      for (const [tid, t] of threadTicks()) {
        const name = Number(tid) === process.pid ? 'main' : t.name;
        byName.set(name, (byName.get(name) ?? 0) + t.ticks - (threads0.get(tid)?.ticks ?? 0));
      }
      // clock ticks are 1/100 s on Linux: ticks / seconds = % of one core
      console.log(`  threads (% of one core): ${[...byName].filter(([, v]) => v > 0).map(([n, v]) => `${n} ${(v / (wallMs / 1000)).toFixed(1)}`).join(', ')}`);
    }
    if (session) {
      const { profile } = (await post('Profiler.stop')) as { profile: unknown };
      writeFileSync(`${PROFILE_DIR}/ebpf-ring-${label.replace(/[^a-z0-9]+/gi, '-')}.cpuprofile`, JSON.stringify(profile));
      session.disconnect();
    }
    await new Promise((r) => setTimeout(r, 1100)); // kernel counters are cached for 1 s
    // Offered = what the kernel produced (submitted + lost): the generator's event loop makes
    // syscalls of its own, each of which also emits a burst, so counting its loop is not exact.
    const k1 = receiver.kernelStats();
    const lost = k1.ringLost - k0.ringLost;
    const offered = k1.records - k0.records + lost;
    const decoded = t.get('received') - decoded0;
    const sorted = consumer.samples.sort((a, b) => a - b);
    const cpuPct = ((cpu.user + cpu.system) / 1000 / wallMs) * 100;
    console.log(
      `${label.padEnd(28)} offered ${(offered / (wallMs / 1000)).toFixed(0).padStart(9)}/s  ` +
        `decoded ${(decoded / (wallMs / 1000)).toFixed(0).padStart(9)}/s  lost ${lost}  ` +
        `cpu ${cpuPct.toFixed(1)}% of one core (user ${(cpu.user / 10 / wallMs).toFixed(1)}, sys ${(cpu.system / 10 / wallMs).toFixed(1)})  latency p50 ${(percentile(sorted, 50) / 1000).toFixed(2)} ms ` +
        `p99 ${(percentile(sorted, 99) / 1000).toFixed(2)} ms  (events ${consumer.events}, ${SECONDS}s)`,
    );
  };

  console.log(`ebpf-ring bench: burst ${BURST} records/syscall, ring ${config.ring_buffer_size / 1048576} MiB, ` +
    `wake-up threshold ${resolveWakeupThreshold(config) / 1024} KiB${config.wakeup_threshold_bytes === 0 ? ' (auto)' : ''}, poll_interval ${config.poll_interval} ms (shared 2-core VM)`);
  if (PHASES.has('idle')) await phase('idle (no load)', `rate 0 ${SECONDS}`);
  if (PHASES.has('paced')) await phase(`paced ${PACED_RATE}/s`, `rate ${Math.round(PACED_RATE / BURST)} ${SECONDS}`);
  if (PHASES.has('high')) await phase(`paced ${HIGH_RATE}/s`, `rate ${Math.round(HIGH_RATE / BURST)} ${SECONDS}`);
  if (PHASES.has('max')) await phase('as fast as the generator can', `max ${SECONDS}`);
  child.stdin!.end();
  bursts.close();
  await receiver.shutdown();
}

main().catch((error: Error) => {
  console.error(`ebpf-ring bench failed: ${error.message}`);
  bursts?.close();
  generator?.kill();
  process.exitCode = 1;
});
