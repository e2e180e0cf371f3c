/**
 * Finds the OpenSSL copies in use: shared libssl.so.* files and executables that carry OpenSSL
 * with exported symbols (node), from /proc/<pid>/maps and /proc/<pid>/exe of running processes,
 * from the usual library directories, and from paths the user lists. A file is identified by
 * device and inode, so one copy seen through many paths or processes is one file, and a copy
 * inside a container (another file) is another one. It is reached through /proc/<pid>/root, or
 * /proc/<pid>/map_files when it was deleted after being mapped.
 */
import { readdirSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ElfError, exportedFunctionOffsets } from './elf-symbols';

/** The functions whose calls carry plaintext; a copy must export at least SSL_read and SSL_write. */
export const SSL_FUNCTIONS = ['SSL_read', 'SSL_read_ex', 'SSL_write', 'SSL_write_ex'] as const;
export type SslFunction = (typeof SSL_FUNCTIONS)[number];

/** Debian's libssl.so.3, Red Hat's libssl.so.1.1, ...; not NSS's libssl3.so. */
const LIBSSL_NAME = /^libssl\.so(\.\d+)*$/;
const LIBRARY_DIRS = ['/lib', '/lib64', '/usr/lib', '/usr/lib64', '/usr/local/lib', '/usr/local/lib64'];
/** Files remembered at most; past it the cache starts over (files are read again when seen). */
const MAX_CACHED_FILES = 16384;

export type OpensslFileKind = 'library' | 'executable' | 'configured';

export interface OpensslFile {
  /** `dev:inode` of the file. */
  key: string;
  /** The path as its process sees it (or as configured). */
  path: string;
  /** Where this process opens it (a /proc path for a file of another mount namespace). */
  openPath: string;
  kind: OpensslFileKind;
  /** A process that mapped it when it was found (0 when found on disk). */
  pid: number;
  /** File offsets of the exported SSL functions. */
  offsets: Map<SslFunction, number>;
}

/** A file that looked like OpenSSL but cannot be probed, and why. */
export interface RejectedFile {
  key: string;
  path: string;
  kind: OpensslFileKind;
  reason: string;
}

/** Remembers what each file turned out to be, so a file is read once however often it is seen. */
export class OpensslFileCache {
  private readonly known = new Map<string, OpensslFile | RejectedFile | null>();

  get size(): number {
    return this.known.size;
  }

  /**
   * The OpenSSL copy at `openPath`, a RejectedFile when it was expected to be one (a libssl, a
   * configured path) and is not usable, or null when it is simply not OpenSSL.
   */
  examine(openPath: string, path: string, kind: OpensslFileKind, pid: number): OpensslFile | RejectedFile | null {
    let key: string;
    try {
      const st = statSync(openPath);
      if (!st.isFile()) return kind === 'executable' ? null : { key: `path:${path}`, path, kind, reason: 'not a regular file' };
      key = `${st.dev}:${st.ino}`;
    } catch (error) {
      return kind === 'executable' ? null : { key: `path:${path}`, path, kind, reason: (error as Error).message };
    }
    const cached = this.known.get(key);
    // The path it was first read through may be gone with its process: hand out this one.
    if (cached) return 'offsets' in cached ? { ...cached, openPath, path, pid } : cached;
    if (cached === null) return null;
    const result = readFile(key, openPath, path, kind, pid);
    if (this.known.size >= MAX_CACHED_FILES) this.known.clear();
    this.known.set(key, result);
    return result;
  }
}

function readFile(key: string, openPath: string, path: string, kind: OpensslFileKind, pid: number): OpensslFile | RejectedFile | null {
  let offsets: Map<string, number>;
  try {
    offsets = exportedFunctionOffsets(openPath, SSL_FUNCTIONS);
  } catch (error) {
    if (kind === 'executable') return null;
    const reason = error instanceof ElfError ? error.message : `cannot read it: ${(error as Error).message}`;
    return { key, path, kind, reason };
  }
  if (!offsets.has('SSL_read') || !offsets.has('SSL_write')) {
    if (kind === 'executable') return null;
    return { key, path, kind, reason: 'exports no SSL_read and SSL_write (BoringSSL or OpenSSL without symbols cannot be probed)' };
  }
  return { key, path, openPath, kind, pid, offsets: offsets as Map<SslFunction, number> };
}

/** libssl.so.* files in the usual library directories and their multiarch subdirectories, symlinks resolved. */
export function standardLibraryPaths(): string[] {
  const found = new Set<string>();
  for (const dir of LIBRARY_DIRS) {
    for (const d of [dir, ...subdirs(dir)]) {
      for (const name of safeReaddir(d)) {
        if (!LIBSSL_NAME.test(name)) continue;
        try {
          found.add(realpathSync(join(d, name)));
        } catch {
          // a dangling link
        }
      }
    }
  }
  return [...found];
}

function subdirs(dir: string): string[] {
  return safeReaddir(dir).filter((n) => n.endsWith('-linux-gnu')).map((n) => join(dir, n));
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** A file a process maps or runs: its path in the process's view, and how we open it. */
export interface MappedFile {
  path: string;
  openPath: string;
  kind: 'library' | 'executable';
}

/**
 * The process's executable and the libssl files it maps. Empty when the process is gone or is a
 * kernel thread.
 */
export function opensslCandidatesOf(pid: number): MappedFile[] {
  const out: MappedFile[] = [];
  const root = `/proc/${pid}/root`;
  try {
    const exe = readlinkSync(`/proc/${pid}/exe`);
    // The exe link works even for a deleted or container-private file.
    out.push({ path: exe.replace(/ \(deleted\)$/, ''), openPath: `/proc/${pid}/exe`, kind: 'executable' });
  } catch {
    return out; // kernel thread, or gone
  }
  let maps: string;
  try {
    maps = readFileSync(`/proc/${pid}/maps`, 'latin1');
  } catch {
    return out;
  }
  const seen = new Set<string>();
  for (const line of maps.split('\n')) {
    const slash = line.indexOf('/');
    if (slash < 0) continue;
    let path = line.slice(slash);
    const deleted = path.endsWith(' (deleted)');
    if (deleted) path = path.slice(0, -' (deleted)'.length);
    if (!LIBSSL_NAME.test(basename(path)) || seen.has(path)) continue;
    seen.add(path);
    const range = line.slice(0, line.indexOf(' '));
    out.push({ path, openPath: deleted ? `/proc/${pid}/map_files/${range}` : root + path, kind: 'library' });
  }
  return out;
}

/** Process ids in /proc. */
export function listPids(): number[] {
  const pids: number[] = [];
  for (const name of safeReaddir('/proc')) {
    const pid = Number(name);
    if (Number.isInteger(pid) && pid > 0) pids.push(pid);
  }
  return pids;
}
