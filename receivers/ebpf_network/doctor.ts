/**
 * The eBPF receiver's part of `network-observer doctor`: machine requirements, then a trial
 * load and attach of every kernel program on its own (so one rejected program is named, not
 * hidden behind the first failure), then the loss counters of receivers running here.
 */
import type { DoctorCheck } from '../../core/component';
import { defaultsFromSchema } from '../../core/config/schema-defaults';
import { BpfNetObject, DEFAULT_OBJECT_PATH, PROGRAMS } from './bpf-object';
import schema from './config.schema.json';
import { findCgroup2Mount, requirements } from './preflight';
import { kernelConfigFrom, runningReceivers, type EbpfNetworkConfig } from './receiver';
import { TlsUprobes, type TlsFileStatus } from './tls/tls-uprobes';


const TRIAL_RING_SIZE = 64 * 1024;
const TRIAL_LOG_SIZE = 16 * 1024 * 1024;
/** The verifier gives up on a program after walking this many instructions. */
const VERIFIER_LIMIT = 1_000_000;

/**
 * How much of the verifier's budget a program took: a change to the C, or a kernel that walks
 * more paths, can push one near the limit long before it is rejected.
 */
export function verifierHeadroom(walked: number): string {
  const share = Math.round((100 * walked) / VERIFIER_LIMIT);
  const near = share >= 80 ? ' (close to the limit: a newer kernel or a small change to the program may be rejected)' : '';
  return `the verifier walked ${walked.toLocaleString('en-US')} of its ${VERIFIER_LIMIT.toLocaleString('en-US')} instructions${near}`;
}

export async function runDoctorChecks(): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = requirements(true).map((r) => ({
    name: `ebpf: ${r.name}`, ok: r.ok, detail: r.detail, ...(r.ok || !r.fix ? {} : { fix: r.fix }),
  }));
  const blocking = checks.filter((c) => !c.ok && !c.name.endsWith('cgroup v2'));
  const cgroupPath = findCgroup2Mount();
  const config = defaultsFromSchema<EbpfNetworkConfig>(schema);
  for (const spec of PROGRAMS) {
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
        // The summary programs carry their code only with summaries on: try them that way.
        kernel: kernelConfigFrom(spec.group === 'owner_h1' ? { ...config, http1_summary_above: 1 } : config, 1),
        ringBufferSize: TRIAL_RING_SIZE,
        maxTrackedSockets: 1024,
        verifierLogSize: TRIAL_LOG_SIZE,
        cgroupPath: cgroupPath ?? '',
        only: [spec.name],
      });
      const walked = object.verifiedInstructions(spec.name);
      object.close();
      const loads = spec.uprobe ? 'loads (attached per OpenSSL copy, listed below)' : 'loads and attaches';
      checks.push({ name, ok: true, detail: walked ? `${loads}; ${verifierHeadroom(walked)}` : loads });
    } catch (error) {
      const message = (error as Error).message;
      const lines = message.split('\n');
      checks.push({
        name,
        ok: false,
        detail: lines.length > 12 ? [...lines.slice(0, 2), '...', ...lines.slice(-8)].join('\n') : message,
        fix:
          spec.group === 'owner_h1'
            ? 'HTTP/1 summaries need kernel 6.8+; with http1_summary_above set, the receiver loads the plain programs instead and copies every exchange in full'
            : 'see the verifier log above; a kernel older than 5.12 or without BTF cannot run this program',
      });
    }
  }
  if (blocking.length === 0) checks.push(...opensslChecks(config, cgroupPath ?? ''));
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
      ...(s.ringLost === 0 ? {} : { fix: 'records were lost: raise ring_buffer_size or burst_buffer_size, lower wakeup_threshold_bytes or sample in the kernel' }),
    });
  }
  return checks;
}

const TLS_PROGRAMS = PROGRAMS.filter((p) => p.group === 'tls').map((p) => p.name);

/**
 * The OpenSSL copies in use and whether the HTTPS uprobes attach to each: those of a receiver
 * running here, or else found now and attached on trial (then detached).
 */
function opensslChecks(config: EbpfNetworkConfig, cgroupPath: string): DoctorCheck[] {
  let files: TlsFileStatus[];
  const running = [...runningReceivers].find((r) => r.tlsStatus().length > 0);
  if (running) {
    files = running.tlsStatus();
  } else {
    let object: BpfNetObject | undefined;
    let tls: TlsUprobes<unknown> | undefined;
    try {
      object = BpfNetObject.load({
        objectPath: DEFAULT_OBJECT_PATH,
        kernel: { ...kernelConfigFrom(config, 1), enableTlsPlain: true, enablePayload: true },
        ringBufferSize: TRIAL_RING_SIZE,
        maxTrackedSockets: 1024,
        verifierLogSize: TRIAL_LOG_SIZE,
        cgroupPath,
        only: TLS_PROGRAMS,
      });
      tls = new TlsUprobes<unknown>(object, { paths: config.tls_libraries, rescanIntervalMs: 0, maxFiles: config.tls_max_files });
      tls.start();
      files = tls.status();
    } catch (error) {
      return [{ name: 'ebpf: OpenSSL uprobes', ok: false, detail: (error as Error).message, fix: 'HTTPS plaintext needs uprobes (CONFIG_UPROBE_EVENTS); set tls_uprobes: false to run without it' }];
    } finally {
      tls?.shutdown();
      object?.close();
    }
  }
  if (files.length === 0) {
    return [{ name: 'ebpf: OpenSSL copies', ok: true, detail: 'none found: no libssl.so in the library directories or in running processes, and no executable exporting SSL_read/SSL_write' }];
  }
  return files.map((f) => {
    const where = `${f.kind}${f.pid ? `, mapped by pid ${f.pid}` : ''}`;
    if (f.attached) return { name: `ebpf: OpenSSL ${f.path}`, ok: true, detail: `${where}: uprobes attached on ${f.functions.join(', ')}` };
    // A copy that cannot be probed at all (no symbols) is a limit of the method, not a fault here.
    const fault = f.functions.length > 0 || f.kind === 'configured';
    return {
      name: `ebpf: OpenSSL ${f.path}`,
      ok: !fault,
      detail: `${where}: not attached: ${f.error ?? 'unknown reason'}`,
      ...(fault ? { fix: f.error?.includes('tls_max_files') ? 'raise tls_max_files' : 'check the path in tls_libraries, or the error above' } : {}),
    };
  });
}
