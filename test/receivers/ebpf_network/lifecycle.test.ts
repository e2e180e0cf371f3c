/**
 * Teardown leaks nothing: 50 start/stop cycles of the real receiver leave this process with
 * the same open files, BPF links and memory mappings it had before. Loading survives signals.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withSignalsBlocked } from '../../../receivers/ebpf_network/native/libc';
import { requireKernel, startReceiver } from './helpers';

const START_ONCE = join(__dirname, 'fixtures', 'start-once.ts');
const ROOT = join(__dirname, '..', '..', '..');

interface ProcessResources {
  fds: number;
  /** fds of BPF maps, programs, links and BTF objects. */
  bpfObjects: number;
  bpfLinks: number;
  /** epoll instances (the receiver's wake-up set is one). */
  epolls: number;
  /** Memory mappings of BPF maps (the ring buffer). */
  bpfMappings: number;
}

function resources(): ProcessResources {
  const r: ProcessResources = { fds: 0, bpfObjects: 0, bpfLinks: 0, epolls: 0, bpfMappings: 0 };
  for (const fd of readdirSync('/proc/self/fd')) {
    r.fds++;
    let target = '';
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // the fd used by readdir itself is gone by now
    }
    if (target.startsWith('anon_inode:bpf')) r.bpfObjects++;
    if (target === 'anon_inode:[eventpoll]') r.epolls++;
    if (target === 'anon_inode:bpf_link') r.bpfLinks++;
    else {
      try {
        if (/^link_id:/m.test(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))) r.bpfLinks++;
      } catch {
        // closed meanwhile
      }
    }
  }
  r.bpfMappings = readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => /anon_inode:bpf|bpf-map/.test(l)).length;
  return r;
}

describe('ebpf_network lifecycle', function () {
  this.timeout(180000);

  before(function () {
    requireKernel(this);
    delete process.env.TAPIO_MOCK_MODE;
  });

  it('holds links, maps and mappings while running and releases them all at shutdown', async () => {
    const before = resources();
    const rx = await startReceiver();
    const during = resources();
    assert.ok(during.bpfLinks >= 9, `links while running: ${during.bpfLinks}`);
    assert.ok(during.bpfMappings >= before.bpfMappings + 2, 'the ring is mapped (consumer page and data)');
    assert.equal(during.epolls, before.epolls + 1, 'one wake-up epoll set');
    await rx.receiver.shutdown();
    await rx.receiver.shutdown();
    const after = resources();
    assert.equal(after.bpfLinks, before.bpfLinks);
    assert.equal(after.bpfObjects, before.bpfObjects);
    assert.equal(after.epolls, before.epolls);
    assert.equal(after.bpfMappings, before.bpfMappings);
  });

  it('starts and stops 20 times without leaking fds, BPF links or mappings', async () => {
    // One warm-up cycle: the first start loads libbpf, libc and koffi's lazily created state.
    await (await startReceiver()).receiver.shutdown();
    const before = resources();
    // Without the OpenSSL uprobes, whose detach alone takes the kernel ~2 s a cycle (the test
    // above checks that their links are released too).
    for (let i = 0; i < 20; i++) {
      const rx = await startReceiver({ ring_buffer_size: 256 * 1024, wakeup_threshold_bytes: 64 * 1024, tls_uprobes: false });
      await rx.receiver.shutdown();
    }
    const after = resources();
    assert.equal(after.bpfLinks, before.bpfLinks, 'BPF links');
    assert.equal(after.bpfObjects, before.bpfObjects, 'BPF maps/programs/links');
    assert.equal(after.epolls, before.epolls, 'epoll sets');
    // Only mappings of BPF objects (the ring): V8 maps and unmaps heap and code pages on its own schedule.
    assert.equal(after.bpfMappings, before.bpfMappings, 'ring buffer mappings');
    // Other fds (child process pipes of earlier tests) may still be closing; a leak of one per
    // cycle would add 20 or more.
    assert.ok(Math.abs(after.fds - before.fds) <= 5, `open fds ${before.fds} -> ${after.fds}`);
  });
});

describe('ebpf_network loading under signals', function () {
  this.timeout(60000);

  before(function () {
    requireKernel(this);
  });

  it('loads while a CPU profiler signals the thread every 100 µs', () => {
    // The verifier gives up with EAGAIN when a signal is pending; V8's profiler sends SIGPROF
    // every --cpu-prof-interval. Before signals were held back during the load this failed
    // every time.
    const dir = mkdtempSync(join(tmpdir(), 'netobs-prof-'));
    try {
      const out = execFileSync(process.execPath, [
        '--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval', '100', '--require', 'tsx/cjs', START_ONCE,
      ], { cwd: ROOT, env: { ...process.env, TAPIO_MOCK_MODE: '' } }).toString().trim();
      assert.deepEqual(JSON.parse(out), { started: true });
      assert.equal(readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).length, 1, 'the profiler really ran');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('withSignalsBlocked', () => {
  const blockedMask = (): string => /^SigBlk:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/thread-self/status', 'utf8'))![1];

  it('holds every blockable signal back while the work runs, and restores the mask after, also on a throw', () => {
    const before = blockedMask();
    const inside = withSignalsBlocked(() => blockedMask());
    // SIGKILL (9) and SIGSTOP (19) cannot be blocked; glibc keeps its two internal signals too.
    assert.ok(BigInt(`0x${inside}`) & (1n << 1n), 'SIGINT held back');
    assert.ok(BigInt(`0x${inside}`) & (1n << 26n), 'SIGPROF held back');
    assert.equal(blockedMask(), before);
    assert.throws(() => withSignalsBlocked(() => { throw new Error('inside'); }), /inside/);
    assert.equal(blockedMask(), before);
  });
});
