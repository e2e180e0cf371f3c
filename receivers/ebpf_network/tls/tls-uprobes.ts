/**
 * Keeps the OpenSSL uprobes attached to every OpenSSL copy in use: at start the configured
 * paths, the libssl files of the usual library directories and every running process; then,
 * every rescan interval, the processes started since the last pass (and all of them every
 * FULL_PASS_EVERY passes, for libraries loaded late with dlopen). A uprobe on a file covers every
 * process that maps it, now and later, so each file (device and inode) is attached once, up to
 * a limit. Everything found, attached or not, is listed by status() for `doctor`.
 */
import type { Logger } from '../../../core/logger';
import {
  listPids, opensslCandidatesOf, OpensslFileCache, SSL_FUNCTIONS, standardLibraryPaths,
  type OpensslFile, type OpensslFileKind, type RejectedFile, type SslFunction,
} from './openssl-files';

/** The entry program of each function; one return program serves them all. */
const ENTRY_PROGRAM: Record<SslFunction, string> = {
  SSL_read: 'on_ssl_read',
  SSL_read_ex: 'on_ssl_read_ex',
  SSL_write: 'on_ssl_write',
  SSL_write_ex: 'on_ssl_write_ex',
};
const RETURN_PROGRAM = 'on_ssl_return';
/** Known processes are looked at again on every this many passes (dlopen'd libraries). */
const FULL_PASS_EVERY = 6;
/** Processes examined per pass at most; the rest wait for the next pass. */
const MAX_PROCESSES_PER_PASS = 4096;

export interface UprobeAttacher<Link> {
  attachUprobe(name: string, retprobe: boolean, path: string, offset: number): Link;
  detachUprobe(link: Link): void;
}

export interface TlsUprobeOptions {
  /** Extra libraries or executables to probe (tls_libraries). */
  paths: readonly string[];
  /** Milliseconds between passes over new processes; 0: only the pass at start. */
  rescanIntervalMs: number;
  /** Files attached at most (tls_max_files). */
  maxFiles: number;
}

export interface TlsFileStatus {
  path: string;
  kind: OpensslFileKind;
  /** A process that mapped it when it was found; 0 when found on disk or configured. */
  pid: number;
  /** The SSL functions it exports (empty for a rejected file). */
  functions: SslFunction[];
  attached: boolean;
  /** Why it is not attached. */
  error?: string;
}

export interface TlsUprobeCounters {
  /** Passes over the process table. */
  scans: number;
  /** Processes examined. */
  processes: number;
  /** Files whose attach failed. */
  attachFailures: number;
  /** Files not attached because tls_max_files was reached. */
  overLimit: number;
}

interface FileEntry<Link> {
  status: TlsFileStatus;
  links: Link[];
  /** Pass at which a failed attach may be tried again. */
  retryPass: number;
}

export class TlsUprobes<Link> {
  private readonly cache = new OpensslFileCache();
  private readonly files = new Map<string, FileEntry<Link>>();
  private knownPids = new Set<number>();
  private passes = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  readonly counters: TlsUprobeCounters = { scans: 0, processes: 0, attachFailures: 0, overLimit: 0 };

  constructor(
    private readonly attacher: UprobeAttacher<Link>,
    private readonly options: TlsUprobeOptions,
    private readonly logger?: Logger,
  ) {}

  /** Attaches what is in use now and starts the periodic passes. */
  start(): void {
    for (const path of this.options.paths) this.consider(this.cache.examine(path, path, 'configured', 0));
    for (const path of standardLibraryPaths()) this.consider(this.cache.examine(path, path, 'library', 0));
    this.rescan();
    if (this.options.rescanIntervalMs > 0) {
      this.timer = setInterval(() => this.rescan(), this.options.rescanIntervalMs).unref();
    }
  }

  /** One pass over the processes started since the last one (all of them on a full pass). */
  rescan(): void {
    if (this.stopped) return;
    const full = this.passes % FULL_PASS_EVERY === 0;
    this.passes++;
    this.counters.scans++;
    const pids = listPids();
    const next = new Set<number>();
    let examined = 0;
    for (const pid of pids) {
      const known = this.knownPids.has(pid);
      if (known && !full) {
        next.add(pid);
        continue;
      }
      if (examined >= MAX_PROCESSES_PER_PASS) continue; // not remembered: examined next pass
      examined++;
      next.add(pid);
      for (const c of opensslCandidatesOf(pid)) this.consider(this.cache.examine(c.openPath, c.path, c.kind, pid));
    }
    this.counters.processes += examined;
    this.knownPids = next;
  }

  private consider(found: OpensslFile | RejectedFile | null): void {
    if (!found) return;
    const existing = this.files.get(found.key);
    if (!('offsets' in found)) {
      if (!existing) this.files.set(found.key, { status: { path: found.path, kind: found.kind, pid: 0, functions: [], attached: false, error: found.reason }, links: [], retryPass: Infinity });
      return;
    }
    if (existing && (existing.status.attached || existing.retryPass > this.passes)) return;
    const status: TlsFileStatus = { path: found.path, kind: found.kind, pid: found.pid, functions: [...found.offsets.keys()], attached: false };
    const entry: FileEntry<Link> = existing ?? { status, links: [], retryPass: 0 };
    entry.status = status;
    this.files.set(found.key, entry);
    if (this.attachedFiles() >= this.options.maxFiles) {
      if (entry.retryPass === 0) this.counters.overLimit++;
      status.error = `not attached: tls_max_files (${this.options.maxFiles}) files are attached already`;
      entry.retryPass = this.passes + FULL_PASS_EVERY;
      return;
    }
    try {
      for (const fn of SSL_FUNCTIONS) {
        const offset = found.offsets.get(fn);
        if (offset === undefined) continue;
        entry.links.push(this.attacher.attachUprobe(ENTRY_PROGRAM[fn], false, found.openPath, offset));
        entry.links.push(this.attacher.attachUprobe(RETURN_PROGRAM, true, found.openPath, offset));
      }
      status.attached = true;
      this.logger?.info(`HTTPS plaintext: probing ${found.kind} ${found.path}${found.pid ? ` (mapped by pid ${found.pid})` : ''}`);
    } catch (error) {
      for (const link of entry.links) this.attacher.detachUprobe(link);
      entry.links = [];
      this.counters.attachFailures++;
      status.error = (error as Error).message;
      entry.retryPass = this.passes + FULL_PASS_EVERY;
      this.logger?.warn(`HTTPS plaintext of ${found.path} is not captured: ${status.error}`);
    }
  }

  attachedFiles(): number {
    let n = 0;
    for (const f of this.files.values()) if (f.status.attached) n++;
    return n;
  }

  /** Every OpenSSL copy found, attached or not. */
  status(): TlsFileStatus[] {
    return [...this.files.values()].map((f) => ({ ...f.status, functions: [...f.status.functions] }));
  }

  /** Stops the passes and detaches every uprobe. Idempotent. */
  shutdown(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const f of this.files.values()) {
      for (const link of f.links) this.attacher.detachUprobe(link);
      f.links = [];
      f.status.attached = false;
    }
  }
}
