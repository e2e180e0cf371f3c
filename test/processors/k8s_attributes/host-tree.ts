/**
 * A host's /proc and cgroup2 tree laid out in a temp dir: `<root>/proc/<pid>/cgroup`,
 * `<root>/proc/mounts` naming `<root>/cgroup` as the cgroup2 mount, and real directories under
 * it whose inode numbers play the cgroup ids. The processor reads it exactly as it reads a host.
 */
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class HostTree {
  readonly root = mkdtempSync(join(tmpdir(), 'k8s-attrs-host-'));
  readonly proc = join(this.root, 'proc');
  readonly cgroup = join(this.root, 'cgroup');

  constructor() {
    mkdirSync(this.proc);
    mkdirSync(this.cgroup);
    writeFileSync(join(this.proc, 'mounts'), `proc /proc proc rw 0 0\ncgroup2 ${this.cgroup} cgroup2 rw,nosuid,nodev,noexec,relatime 0 0\n`);
  }

  /** Creates the cgroup directory (and parents); returns its cgroup id (inode). */
  addCgroup(path: string): number {
    const dir = join(this.cgroup, path);
    mkdirSync(dir, { recursive: true });
    return Number(statSync(dir).ino);
  }

  /** A process in the cgroup `path` (cgroup v2 line), plus optional v1 lines; returns the cgroup id. */
  addProcess(pid: number, path: string, v1Lines: string[] = []): number {
    const id = this.addCgroup(path);
    mkdirSync(join(this.proc, String(pid)), { recursive: true });
    writeFileSync(join(this.proc, String(pid), 'cgroup'), [...v1Lines, `0::${path}`, ''].join('\n'));
    return id;
  }

  removeProcess(pid: number): void {
    rmSync(join(this.proc, String(pid)), { recursive: true, force: true });
  }

  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** A containerd container of a pod under the systemd cgroup driver. */
export function systemdContainerdPath(podUid: string, containerId: string, qos = 'burstable'): string {
  const escaped = podUid.replace(/-/g, '_');
  return `/kubepods.slice/kubepods-${qos}.slice/kubepods-${qos}-pod${escaped}.slice/cri-containerd-${containerId}.scope`;
}

/** A 64-hex container id from a short seed. */
export function containerId(seed: string): string {
  return Buffer.from(seed.padEnd(32, '0').slice(0, 32)).toString('hex');
}
