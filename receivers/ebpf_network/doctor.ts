/**
 * The eBPF receiver's part of `network-observer doctor`: machine requirements, then a trial
 * load and attach of every kernel program on its own (so one rejected program is named, not
 * hidden behind the first failure), then the loss counters of receivers running here.
 */
import type { DoctorCheck } from '../../core/cli/doctor';
import { BpfNetObject, DEFAULT_OBJECT_PATH, PROGRAMS } from './bpf-object';
import { factory } from './index';
import { findCgroup2Mount, requirements } from './preflight';
import { kernelConfigFrom, runningReceivers } from './receiver';

export type { DoctorCheck } from '../../core/cli/doctor';

const TRIAL_RING_SIZE = 64 * 1024;
const TRIAL_LOG_SIZE = 16 * 1024 * 1024;

export async function runDoctorChecks(): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = requirements(true).map((r) => ({
    name: `ebpf: ${r.name}`, ok: r.ok, detail: r.detail, ...(r.ok || !r.fix ? {} : { fix: r.fix }),
  }));
  const blocking = checks.filter((c) => !c.ok && !c.name.endsWith('cgroup v2'));
  const cgroupPath = findCgroup2Mount();
  const config = factory.createDefaultConfig();
  for (const spec of PROGRAMS.filter((p) => p.group !== 'bench')) {
    const name = `ebpf: program ${spec.name}`;
    if (blocking.length > 0) {
      checks.push({ name, ok: false, detail: `not tried: ${blocking.map((c) => c.name.slice(6)).join(', ')} failed above` });
      continue;
    }
    if (spec.cgroup && !cgroupPath) {
      checks.push({ name, ok: false, detail: 'not tried: no cgroup2 mount to attach to', fix: 'mount cgroup v2 or disable UDP and ICMP' });
      continue;
    }
    try {
      const object = BpfNetObject.load({
        objectPath: DEFAULT_OBJECT_PATH,
        kernel: kernelConfigFrom(config, 1),
        ringBufferSize: TRIAL_RING_SIZE,
        maxTrackedSockets: 1024,
        verifierLogSize: TRIAL_LOG_SIZE,
        cgroupPath: cgroupPath ?? '',
        only: [spec.name],
      });
      object.close();
      checks.push({ name, ok: true, detail: 'loads and attaches' });
    } catch (error) {
      const message = (error as Error).message;
      const lines = message.split('\n');
      checks.push({
        name,
        ok: false,
        detail: lines.length > 12 ? [...lines.slice(0, 2), '...', ...lines.slice(-8)].join('\n') : message,
        fix: 'see the verifier log above; a kernel older than 5.12 or without BTF cannot run this program',
      });
    }
  }
  if (runningReceivers.size === 0) {
    checks.push({ name: 'ebpf: kernel counters', ok: true, detail: 'no eBPF receiver is running in this process' });
  }
  for (const receiver of runningReceivers) {
    const s = receiver.kernelStats();
    checks.push({
      name: `ebpf: ${receiver.componentKey} counters`,
      ok: s.ringLost === 0,
      detail: `records=${s.records} ring_lost=${s.ringLost} truncated=${s.truncated} sampled_out=${s.sampledOut} ` +
        `rate_limited=${s.rateLimited} map_full=${s.mapFull}`,
      ...(s.ringLost === 0 ? {} : { fix: 'records were lost: raise ring_buffer_size, lower wakeup_threshold_bytes or sample in the kernel' }),
    });
  }
  return checks;
}
