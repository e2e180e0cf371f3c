import assert from 'node:assert/strict';
import { realpathSync } from 'node:fs';
import { runDoctorChecks, verifierHeadroom } from '../../../receivers/ebpf_network/doctor';
import { PROGRAMS } from '../../../receivers/ebpf_network/bpf-object';
import { requireKernel, startReceiver } from './helpers';

describe('ebpf_network doctor: verifier headroom', () => {
  it('says how much of the limit a program took, and warns from 80 % of it', () => {
    assert.equal(verifierHeadroom(56978), 'the verifier walked 56,978 of its 1,000,000 instructions');
    assert.doesNotMatch(verifierHeadroom(794_999), /close to the limit/);
    assert.match(verifierHeadroom(991_313), /^the verifier walked 991,313 of its 1,000,000 instructions \(close to the limit: /);
  });
});

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
    for (const p of PROGRAMS) {
      const loads = p.uprobe ? 'loads (attached per OpenSSL copy, listed below)' : 'loads and attaches';
      const check = checks.find((c) => c.name === `ebpf: program ${p.name}`);
      assert.ok(check, p.name);
      // This kernel (6.18) reports what the verifier walked; each program is well within its limit.
      const walked = /^(.*); the verifier walked ([\d,]+) of its 1,000,000 instructions$/.exec(check.detail);
      assert.ok(walked, `${p.name}: ${check.detail}`);
      assert.equal(walked[1], loads);
      const instructions = Number(walked[2].replace(/,/g, ''));
      assert.ok(instructions > 0 && instructions < 800_000, `${p.name}: ${instructions}`);
    }
    for (const name of ['kernel version', 'kernel BTF', 'privileges', 'cgroup v2', 'libbpf']) {
      assert.ok(checks.some((c) => c.name === `ebpf: ${name}`), name);
    }
  });

  it('lists the OpenSSL copies in use and attaches the HTTPS uprobes to each on trial', async () => {
    const checks = await runDoctorChecks();
    const openssl = checks.filter((c) => c.name.startsWith('ebpf: OpenSSL '));
    // node itself carries OpenSSL with exported symbols, so at least its binary is listed.
    const node = openssl.find((c) => c.name === `ebpf: OpenSSL ${realpathSync(process.execPath)}`);
    assert.ok(node, `the node binary is listed: ${JSON.stringify(openssl)}`);
    assert.equal(node.ok, true);
    assert.match(node.detail, /^executable, mapped by pid \d+: uprobes attached on .*SSL_read/);
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
