/**
 * An unconnected UDP receive is finished at the syscall's exit, when the sender's address is
 * in user memory. Where tracefs is mounted the receiving syscalls' own exit tracepoints do it;
 * elsewhere a program at every syscall's exit. Both paths on the real kernel: tracefs is
 * unmounted in a private mount namespace for the fallback, and mounted for the other.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { groupsFor, syscallTracepointsAvailable } from '../../../receivers/ebpf_network/bpf-object';
import { kernelConfigFrom } from '../../../receivers/ebpf_network/receiver';
import { factory } from '../../../receivers/ebpf_network';
import { assertDnsCapturedAtBothEnds, requireKernel, startReceiver } from './helpers';

describe('ebpf_network UDP receive capture at syscall exit', function () {
  this.timeout(30000);

  it('chooses the syscall tracepoints where tracefs has them, the sys_exit program elsewhere', () => {
    const kernel = kernelConfigFrom(factory.createDefaultConfig(), 2);
    assert.ok(groupsFor(kernel, true).has('udp_payload_tracefs'));
    assert.ok(!groupsFor(kernel, true).has('udp_payload'));
    assert.ok(groupsFor(kernel, false).has('udp_payload'));
    assert.ok(!groupsFor({ ...kernel, enableUdp: false }, true).has('udp_payload_tracefs'));
  });

  it('without tracefs: the program at every syscall\'s exit captures the sender', function () {
    requireKernel(this);
    // A mount namespace of its own, where tracefs is unmounted if the host has it.
    const script = `umount /sys/kernel/tracing 2>/dev/null; umount /sys/kernel/debug/tracing 2>/dev/null; exec "${process.execPath}" -r tsx/cjs "${join(__dirname, 'fixtures', 'udp-capture-check.ts')}"`;
    const run = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], { encoding: 'utf8', timeout: 25000, env: { ...process.env, TAPIO_MOCK_MODE: '' } });
    assert.equal(run.status, 0, `${run.stdout}${run.stderr}`);
    const { attached } = JSON.parse(run.stdout.trim().split('\n').pop()!) as { attached: string[] };
    assert.ok(attached.includes('on_udp_recv_exit') && !attached.includes('on_recvfrom_exit'), attached.join(', '));
  });

  it('with tracefs mounted: the receiving syscalls\' exit tracepoints capture the sender', async function () {
    requireKernel(this);
    delete process.env.TAPIO_MOCK_MODE;
    if (!syscallTracepointsAvailable()) {
      // A standard mount (systemd makes it at boot); this host did not have it.
      const mount = spawnSync('mount', ['-t', 'tracefs', 'tracefs', '/sys/kernel/tracing'], { encoding: 'utf8' });
      assert.equal(mount.status, 0, `mounting tracefs: ${mount.stderr}`);
    }
    assert.ok(syscallTracepointsAvailable(), 'tracefs lists sys_exit_recvfrom, sys_exit_recvmsg and sys_exit_recvmmsg');
    const rx = await startReceiver({ capture_bytes: 4096 });
    try {
      const attached = (rx.receiver as unknown as { object: { attached: string[] } }).object.attached;
      assert.ok(attached.includes('on_recvfrom_exit') && !attached.includes('on_udp_recv_exit'), attached.join(', '));
      await assertDnsCapturedAtBothEnds(rx);
    } finally {
      await rx.receiver.shutdown();
    }
  });
});
