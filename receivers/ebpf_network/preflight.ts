/**
 * What the eBPF receiver needs from the machine, checked before touching the kernel so a
 * missing piece becomes one clear paragraph instead of an errno from deep inside libbpf.
 * Shared by receiver start and `network-observer doctor`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';

export interface Requirement {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

/** Ring buffers, tp_btf, boot-time stamps and socket cookies in tracing programs: 5.12+. */
export const MIN_KERNEL: readonly [number, number] = [5, 12];
export const BTF_PATH = '/sys/kernel/btf/vmlinux';
const CAP_NET_ADMIN = 12;
const CAP_SYS_ADMIN = 21;
const CAP_PERFMON = 38;
const CAP_BPF = 39;

const PRIVILEGE_FIX =
  'run as root, or grant CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN (e.g. `setcap cap_bpf,cap_perfmon,cap_net_admin+ep "$(command -v node)"`, ' +
  'or securityContext.capabilities.add in Kubernetes)';
export const MOCK_HINT = 'for development without eBPF set TAPIO_MOCK_MODE=true (or mock_mode: true) to run on synthetic traffic';

export function kernelRequirement(text = release()): Requirement {
  const m = /^(\d+)\.(\d+)/.exec(text);
  const major = m ? Number(m[1]) : 0;
  const minor = m ? Number(m[2]) : 0;
  const ok = major > MIN_KERNEL[0] || (major === MIN_KERNEL[0] && minor >= MIN_KERNEL[1]);
  return {
    name: 'kernel version',
    ok,
    detail: `${text} (needs ${MIN_KERNEL.join('.')} or newer)`,
    fix: `upgrade the kernel to ${MIN_KERNEL.join('.')} or newer`,
  };
}

export function btfRequirement(path = BTF_PATH): Requirement {
  const ok = existsSync(path);
  return {
    name: 'kernel BTF',
    ok,
    detail: ok ? `${path} present` : `${path} is missing`,
    fix: 'use a kernel built with CONFIG_DEBUG_INFO_BTF=y (the default on current distributions)',
  };
}

/** Effective capability bits of this process. */
export function effectiveCapabilityMask(status?: string): bigint {
  let text = status;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/status', 'utf8');
    } catch {
      return 0n;
    }
  }
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(text);
  return m ? BigInt(`0x${m[1]}`) : 0n;
}

export function privilegeRequirement(mask = effectiveCapabilityMask()): Requirement {
  const has = (bit: number) => ((mask >> BigInt(bit)) & 1n) === 1n;
  const sysAdmin = has(CAP_SYS_ADMIN);
  const missing: string[] = [];
  if (!has(CAP_BPF) && !sysAdmin) missing.push('CAP_BPF');
  if (!has(CAP_PERFMON) && !sysAdmin) missing.push('CAP_PERFMON');
  if (!has(CAP_NET_ADMIN)) missing.push('CAP_NET_ADMIN');
  const uid = process.getuid?.();
  return {
    name: 'privileges',
    ok: missing.length === 0,
    detail: missing.length === 0
      ? `${uid === 0 ? 'root' : `uid ${uid}`} with the needed capabilities`
      : `${uid === 0 ? 'root' : `uid ${uid}`} lacks ${missing.join(', ')}`,
    fix: PRIVILEGE_FIX,
  };
}

/** The cgroup2 mount point from /proc/mounts, or undefined. */
export function findCgroup2Mount(mounts?: string): string | undefined {
  let text = mounts;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/mounts', 'utf8');
    } catch {
      return undefined;
    }
  }
  for (const line of text.split('\n')) {
    const fields = line.split(' ');
    // Mount points escape spaces as \040.
    if (fields[2] === 'cgroup2') return fields[1].replace(/\\040/g, ' ');
  }
  return undefined;
}

export function cgroupRequirement(configured = ''): Requirement {
  const path = configured || findCgroup2Mount();
  const ok = path !== undefined && existsSync(path);
  return {
    name: 'cgroup v2',
    ok,
    detail: ok ? `packet programs attach at ${path}` : configured ? `${configured} does not exist` : 'no cgroup2 mount in /proc/mounts',
    fix: 'mount cgroup v2 (e.g. `mount -t cgroup2 none /sys/fs/cgroup/unified`) or set cgroup_path; without it UDP and ICMP cannot be observed (enable_udp/enable_icmp: false)',
  };
}

export function libbpfRequirement(): Requirement {
  try {
    // Loaded through the same path the receiver uses, so the verdict is the receiver's.
    const { libbpf } = require('./native/libbpf') as typeof import('./native/libbpf');
    return { name: 'libbpf', ok: true, detail: `libbpf.so.1 ${libbpf().version()}` };
  } catch (error) {
    return {
      name: 'libbpf',
      ok: false,
      detail: `libbpf.so.1 cannot be loaded: ${(error as Error).message.split('\n')[0]}`,
      fix: 'install the libbpf runtime (Debian/Ubuntu: apt-get install libbpf1; Fedora/RHEL: dnf install libbpf)',
    };
  }
}

/**
 * Everything the receiver needs before load, in order. `needCgroup` is false when neither UDP
 * nor ICMP is enabled (only the packet programs use it).
 */
export function requirements(needCgroup: boolean, cgroupPath = ''): Requirement[] {
  const list = [kernelRequirement(), btfRequirement(), privilegeRequirement()];
  if (needCgroup) list.push(cgroupRequirement(cgroupPath));
  list.push(libbpfRequirement());
  return list;
}

/** One paragraph: what is missing and how to fix it. */
export function explainUnmet(unmet: Requirement[]): string {
  const what = unmet.map((r) => `${r.name}: ${r.detail}`).join('; ');
  const fixes = [...new Set(unmet.map((r) => r.fix).filter((f): f is string => Boolean(f)))].join('; ');
  return `The eBPF network receiver cannot start on this machine (${what}). To fix: ${fixes}. Alternatively, ${MOCK_HINT}.`;
}
