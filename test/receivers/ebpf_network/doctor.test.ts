import assert from 'node:assert/strict';
import { runDoctorChecks } from '../../../receivers/ebpf_network/doctor';
import { PROGRAMS } from '../../../receivers/ebpf_network/bpf-object';
import { requireKernel, startReceiver } from './helpers';

describe('ebpf_network doctor', function () {
  this.timeout(60000);

  before(function () {
    requireKernel(this);
    delete process.env.TAPIO_MOCK_MODE;
  });

  it('passes every requirement and loads and attaches each program on its own', async () => {
    const checks = await runDoctorChecks();
    const failed = checks.filter((c) => !c.ok);
    assert.deepEqual(failed, []);
    for (const p of PROGRAMS.filter((spec) => spec.group !== 'bench')) {
      assert.ok(checks.some((c) => c.name === `ebpf: program ${p.name}` && c.detail === 'loads and attaches'), p.name);
    }
    for (const name of ['kernel version', 'kernel BTF', 'privileges', 'cgroup v2', 'libbpf']) {
      assert.ok(checks.some((c) => c.name === `ebpf: ${name}`), name);
    }
  });

  it("shows a running receiver's lost and truncated counters", async () => {
    const rx = await startReceiver();
    try {
      const checks = await runDoctorChecks();
      const counters = checks.find((c) => c.name === 'ebpf: ebpf_network counters');
      assert.ok(counters, 'counter check for the running receiver');
      assert.match(counters.detail, /ring_lost=0 truncated=\d+/);
    } finally {
      await rx.receiver.shutdown();
    }
  });
});
