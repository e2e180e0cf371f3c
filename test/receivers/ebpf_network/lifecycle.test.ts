/**
 * Teardown leaks nothing: 50 start/stop cycles of the real receiver leave this process with
 * the same open files, BPF links and memory mappings it had before.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { requireKernel, startReceiver } from './helpers';

interface ProcessResources {
  fds: number;
  bpfLinks: number;
  bpfObjects: number;
  mappings: number;
}

function resources(): ProcessResources {
  let fds = 0;
  let bpfLinks = 0;
  let bpfObjects = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    fds++;
    let target = '';
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // the fd used by readdir itself is gone by now
    }
    if (target.startsWith('anon_inode:bpf')) bpfObjects++;
    if (target === 'anon_inode:bpf_link') bpfLinks++;
    else {
      try {
        if (/^link_id:/m.test(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))) bpfLinks++;
      } catch {
        // closed meanwhile
      }
    }
  }
  // Only mappings of BPF objects (the ring buffers): V8 maps and unmaps heap and code pages on
  // its own schedule, which made a count of every mapping flaky on a fresh machine.
  const mappings = readFileSync('/proc/self/maps', 'utf8').split('\n').filter((line) => /anon_inode:bpf|bpf-map/.test(line)).length;
  return { fds, bpfLinks, bpfObjects, mappings };
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
    assert.ok(during.mappings > before.mappings, 'the ring is mapped');
    await rx.receiver.shutdown();
    await rx.receiver.shutdown();
    const after = resources();
    assert.equal(after.bpfLinks, before.bpfLinks);
    assert.equal(after.bpfObjects, before.bpfObjects);
  });

  it('starts and stops 50 times without leaking fds, BPF links or mappings', async () => {
    // One warm-up cycle: the first start loads libbpf, libc and koffi's lazily created state.
    await (await startReceiver()).receiver.shutdown();
    const before = resources();
    for (let i = 0; i < 50; i++) {
      const rx = await startReceiver({ ring_buffer_size: 256 * 1024, wakeup_threshold_bytes: 64 * 1024 });
      await rx.receiver.shutdown();
    }
    const after = resources();
    assert.equal(after.bpfLinks, before.bpfLinks, 'BPF links');
    assert.equal(after.bpfObjects, before.bpfObjects, 'BPF maps/programs/links');
    // A few fds may come and go with the event loop and the test runner; leaking one per cycle would add 50+.
    assert.ok(Math.abs(after.fds - before.fds) <= 3, `open fds ${before.fds} -> ${after.fds}`);
    assert.equal(after.mappings, before.mappings, 'ring buffer mappings');
  });
});
