/**
 * Which container (and pod) an event's process belongs to, from /proc/<pid>/cgroup while the
 * process lives and from the cgroup id afterwards. Both answers are cached in bounded LRUs;
 * reads are synchronous because /proc and cgroupfs are in-memory filesystems answering in
 * microseconds, and each process or cgroup is read once per cache lifetime.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { LruMap } from '../../core/lru';
import { parseProcCgroup, unifiedPath, type CgroupIdentity } from './cgroup-path';
import { CgroupWalker } from './cgroup-walker';

export interface ContainerResolverOptions {
  procPath: string;
  /** The cgroup2 mount; undefined when there is none (cgroup v1 host): no cgroup-id fallback then. */
  cgroupRoot: string | undefined;
  cacheSize: number;
  /**
   * How long a pid's answer is trusted. Pids are reused, so an answer cannot live forever;
   * when the event carries a cgroup id the answer is also checked against it.
   */
  pidTtlMs?: number;
  /** Least time between two walks of the cgroup tree. */
  walkIntervalMs?: number;
  /** Milliseconds for TTLs and walk intervals: the component's clock (Date.now when absent). */
  now?: () => number;
}

interface PidEntry {
  /** null: the process is not in a container or pod. */
  identity: CgroupIdentity | null;
  /** Inode of the process's cgroup v2 directory; 0 when it could not be checked. */
  cgroupId: number;
  at: number;
  /** /proc/<pid> could not be read: the process is gone or not visible from here. */
  gone: boolean;
}

const DEFAULT_PID_TTL_MS = 30_000;
const DEFAULT_WALK_INTERVAL_MS = 10_000;

export class ContainerResolver {
  readonly byPid: LruMap<number, PidEntry>;
  /** null: a cgroup known not to be a container's. cgroup ids are never reused, so no expiry. */
  readonly byCgroup: LruMap<number, CgroupIdentity | null>;
  readonly walker: CgroupWalker | undefined;
  /** /proc/<pid>/cgroup files read. */
  procReads = 0;
  private readonly pidTtlMs: number;
  private readonly now: () => number;

  constructor(private readonly options: ContainerResolverOptions) {
    this.byPid = new LruMap(options.cacheSize);
    this.byCgroup = new LruMap(options.cacheSize);
    this.pidTtlMs = options.pidTtlMs ?? DEFAULT_PID_TTL_MS;
    this.now = options.now ?? Date.now;
    this.walker = options.cgroupRoot
      ? new CgroupWalker(options.cgroupRoot, options.cacheSize, options.walkIntervalMs ?? DEFAULT_WALK_INTERVAL_MS, this.now)
      : undefined;
  }

  /** The container identity of a process; undefined when it is not in one or not known yet. */
  resolve(pid: number, cgroupId: number): CgroupIdentity | undefined {
    if (cgroupId > 0) {
      const known = this.byCgroup.get(cgroupId);
      if (known !== undefined) return known ?? undefined;
    }
    if (pid > 0) {
      const entry = this.pidEntry(pid);
      if (entry && (cgroupId <= 0 || entry.cgroupId === 0 || entry.cgroupId === cgroupId)) {
        if (cgroupId > 0 && entry.cgroupId === cgroupId) this.byCgroup.set(cgroupId, entry.identity);
        return entry.identity ?? undefined;
      }
    }
    if (cgroupId > 0 && this.walker) {
      const found = this.walker.lookup(cgroupId);
      if (found === 'unknown') {
        // A cgroup created after the last walk (or already removed): look again soon, pass now.
        this.walker.request();
        return undefined;
      }
      const identity = found === 'other' ? null : found;
      this.byCgroup.set(cgroupId, identity);
      return identity ?? undefined;
    }
    return undefined;
  }

  /** Warms the cgroup-id map in the background. */
  start(): void {
    this.walker?.request();
  }

  async stop(): Promise<void> {
    await this.walker?.stop();
  }

  private pidEntry(pid: number): PidEntry | null {
    const now = this.now();
    const cached = this.byPid.get(pid);
    if (cached !== undefined && now - cached.at < this.pidTtlMs) return cached.gone ? null : cached;
    let text: string;
    try {
      this.procReads++;
      text = readFileSync(join(this.options.procPath, String(pid), 'cgroup'), 'utf8');
    } catch {
      // Gone (or not visible from here): remember it for the TTL so late events of a dead
      // process do not each pay a failed open; the cgroup id still answers for them.
      this.byPid.set(pid, { identity: null, cgroupId: 0, at: now, gone: true });
      return null;
    }
    const entry: PidEntry = { identity: parseProcCgroup(text) ?? null, cgroupId: this.cgroupIdOf(text), at: now, gone: false };
    this.byPid.set(pid, entry);
    return entry;
  }

  /** The inode of the process's cgroup v2 directory, to tell whether the pid still is the event's process. */
  private cgroupIdOf(procCgroupText: string): number {
    const root = this.options.cgroupRoot;
    if (!root) return 0;
    const path = unifiedPath(procCgroupText);
    // Seen from inside another cgroup namespace, paths are relative to ours ('/../..'): the
    // host tree cannot be addressed with them, so the check is skipped (the walk still maps ids).
    if (path === undefined || path.includes('/..')) return 0;
    const st = statSync(join(root, path), { bigint: true, throwIfNoEntry: false });
    if (!st || st.ino > BigInt(Number.MAX_SAFE_INTEGER)) return 0;
    return Number(st.ino);
  }
}
