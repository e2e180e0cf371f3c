/**
 * A kernel that rejects the capture programs with HTTP/1 summaries (older than 6.8) still runs a
 * configuration that asks for them: the plain programs are loaded instead, with a warning.
 */
import assert from 'node:assert/strict';
import { BpfLoadError } from '../../../receivers/ebpf_network/bpf-object';
import type { KernelConfig } from '../../../receivers/ebpf_network/kernel-config';
import { kernelConfigFrom, loadWithoutSummariesIfRejected } from '../../../receivers/ebpf_network/receiver';
import { factory } from '../../../receivers/ebpf_network';

describe('ebpf_network without HTTP/1 summaries where the kernel rejects them', () => {
  const withSummaries = kernelConfigFrom({ ...factory.createDefaultConfig(), http1_summary_above: 10_000 }, 2);

  function run(fail: (k: KernelConfig) => BpfLoadError | undefined, kernel = withSummaries) {
    const tried: number[] = [];
    const warnings: string[] = [];
    const result = loadWithoutSummariesIfRejected(
      kernel,
      (k) => {
        tried.push(k.h1FullPerCpu);
        const error = fail(k);
        if (error) throw error;
        return 'object';
      },
      (m) => warnings.push(m),
    );
    return { result, tried, warnings };
  }

  it('loads the plain programs, says why, and runs with the summaries off', () => {
    const rejected = new BpfLoadError('loading net.bpf.o: load: EINVAL\nverifier log ...', 22, 'arg#0 reference type');
    const { result, tried, warnings } = run((k) => (k.h1FullPerCpu > 0 ? rejected : undefined));
    assert.deepEqual(tried, [5000, 0]);
    assert.equal(result.kernel.h1FullPerCpu, 0);
    assert.equal(result.object, 'object');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /http1_summary_above is ignored.*kernel 6\.8\+.*EINVAL/);
  });

  it('a verifier rejection with EACCES falls back too; missing privileges do not', () => {
    assert.deepEqual(run((k) => (k.h1FullPerCpu > 0 ? new BpfLoadError('load: EACCES', 13, 'R1 invalid mem access') : undefined)).tried, [5000, 0]);
    assert.throws(() => run(() => new BpfLoadError('load: EPERM', 1)), /EPERM/);
    assert.throws(() => run(() => new BpfLoadError('load: EACCES', 13, '')), /EACCES/);
  });

  it('changes nothing when summaries were not asked for or loading works', () => {
    const plain = kernelConfigFrom(factory.createDefaultConfig(), 2);
    assert.throws(() => run(() => new BpfLoadError('load: EINVAL', 22, 'log'), plain), /EINVAL/);
    const ok = run(() => undefined);
    assert.deepEqual(ok.tried, [5000]);
    assert.equal(ok.warnings.length, 0);
    assert.equal(ok.result.kernel.h1FullPerCpu, 5000);
  });
});
