/**
 * Maps cgroup ids to container cgroups after their processes are gone. A cgroup v2 id is the
 * inode number of the cgroup's directory, so one walk of the cgroup2 mount (stat per
 * directory) yields id -> path. The walk runs in the background, is bounded in directories
 * and remembered entries, and is repeated at most once per interval, when an id is unknown.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { parseCgroupPath, type CgroupIdentity } from './cgroup-path';

/** Directories visited per walk at most; a node has a few thousand cgroups. */
const MAX_DIRS_PER_WALK = 100_000;
/** cgroup trees are a dozen levels deep at most; guards against a bind-mount loop. */
const MAX_DEPTH = 32;
/** Children stat'ed at once. */
const STAT_CONCURRENCY = 32;

export type WalkLookup = CgroupIdentity | 'other' | 'unknown';

export class CgroupWalker {
  /** cgroup id -> identity, only for container and pod cgroups. */
  private containers = new Map<number, CgroupIdentity>();
  /** Every cgroup id the last walk saw, so non-container ids are answered too. */
  private seen = new Set<number>();
  private running: Promise<void> | undefined;
  private lastStart = -Infinity;
  private stopped = false;
  walks = 0;
  /** Container cgroups not remembered because maxEntries was reached. */
  truncated = 0;
  lastError: Error | undefined;

  constructor(
    readonly root: string,
    private readonly maxEntries: number,
    private readonly minIntervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.containers.size;
  }

  lookup(cgroupId: number): WalkLookup {
    const identity = this.containers.get(cgroupId);
    if (identity) return identity;
    return this.seen.has(cgroupId) ? 'other' : 'unknown';
  }

  /** Starts a walk unless one is running or the last one started less than the interval ago. */
  request(): void {
    if (this.stopped || this.running) return;
    const now = this.now();
    if (now - this.lastStart < this.minIntervalMs) return;
    this.lastStart = now;
    this.running = this.walk().finally(() => {
      this.running = undefined;
    });
  }

  /** Resolves when the walk in progress (if any) is done. */
  idle(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.running;
  }

  private async walk(): Promise<void> {
    const containers = new Map<number, CgroupIdentity>();
    const seen = new Set<number>();
    let truncated = 0;
    let visited = 0;
    // Breadth-first, relative paths as /proc/<pid>/cgroup shows them ('/kubepods.slice/...').
    let level: string[] = [''];
    try {
      for (let depth = 0; depth < MAX_DEPTH && level.length > 0 && !this.stopped; depth++) {
        const next: string[] = [];
        for (const rel of level) {
          if (this.stopped || visited >= MAX_DIRS_PER_WALK || seen.size >= MAX_DIRS_PER_WALK) break;
          visited++;
          let entries;
          try {
            entries = await readdir(join(this.root, rel), { withFileTypes: true });
          } catch {
            continue; // removed while walking
          }
          const dirs = entries.filter((e) => e.isDirectory()).map((e) => `${rel}/${e.name}`);
          for (let i = 0; i < dirs.length; i += STAT_CONCURRENCY) {
            const chunk = dirs.slice(i, i + STAT_CONCURRENCY);
            const stats = await Promise.all(chunk.map((d) => stat(join(this.root, d), { bigint: true }).catch(() => undefined)));
            for (let j = 0; j < chunk.length; j++) {
              const st = stats[j];
              if (!st || st.ino > BigInt(Number.MAX_SAFE_INTEGER)) continue;
              const id = Number(st.ino);
              seen.add(id);
              const identity = parseCgroupPath(chunk[j]);
              if (identity) {
                if (containers.size < this.maxEntries) containers.set(id, identity);
                else truncated++;
              }
              next.push(chunk[j]);
            }
          }
        }
        level = next;
      }
      this.lastError = undefined;
    } catch (error) {
      this.lastError = new Error(`walking the cgroup tree at ${this.root}: ${(error as Error).message}`);
      return;
    }
    if (this.stopped) return;
    this.containers = containers;
    this.seen = seen;
    this.truncated = truncated;
    this.walks++;
  }
}
