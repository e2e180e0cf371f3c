/**
 * Where the live-connection scan goes: the kernel's TCP iterator visits the sockets of one
 * network namespace, the one the thread is in when it creates the iterator fd. The BPF side
 * lists the namespaces (by inode number) that hold marked sockets in `live_netns`; for each,
 * this module finds a handle (a bind mount under /run/netns or a process's /proc/PID/ns/net),
 * enters it just long enough to create the iterator fd, and comes back. The fd keeps its
 * namespace, so the pass is read later from here.
 */
import { readdirSync, statSync } from 'node:fs';
import { CLONE_NEWNET, errnoName, lastErrno, libc, O_CLOEXEC, O_RDONLY } from './native/libc';
import { libbpf } from './native/libbpf';

const ENOENT = 2;
/** Bind-mounted namespaces (`ip netns add`) that may have no process in them. */
const NAMED_NETNS_DIR = '/run/netns';

/** Inode of a namespace file, or 0 when it cannot be read (the process is gone). */
function namespaceInode(path: string): number {
  try {
    return statSync(path).ino;
  } catch {
    return 0;
  }
}

export class LiveNamespaces {
  /** Inode -> a path that opens it; kept while it still names the same namespace. */
  private readonly paths = new Map<number, string>();
  private readonly key = new Uint8Array(4);
  private readonly next = new Uint8Array(4);

  constructor(private readonly netnsMapFd: number) {}

  /** Namespaces listed by the kernel, as inode numbers. */
  listed(): number[] {
    const lib = libbpf();
    const found: number[] = [];
    const view = new DataView(this.next.buffer);
    let rc = lib.mapNextKey(this.netnsMapFd, null, this.next);
    while (rc === 0) {
      found.push(view.getUint32(0, true));
      this.key.set(this.next);
      rc = lib.mapNextKey(this.netnsMapFd, this.key, this.next);
    }
    if (rc !== -ENOENT) throw new Error(`listing the namespaces of live TCP connections: ${errnoName(rc)}`);
    return found;
  }

  /** The kernel no longer needs to list a namespace that is gone. */
  forget(inode: number): void {
    new DataView(this.key.buffer).setUint32(0, inode, true);
    libbpf().mapDeleteElem(this.netnsMapFd, this.key);
    this.paths.delete(inode);
  }

  /** A path that opens the namespace `inode`, or undefined when none is left. */
  pathOf(inode: number): string | undefined {
    const known = this.paths.get(inode);
    if (known !== undefined && namespaceInode(known) === inode) return known;
    this.paths.delete(inode);
    this.refresh();
    return this.paths.get(inode);
  }

  private refresh(): void {
    const candidates: string[] = [];
    try {
      for (const name of readdirSync(NAMED_NETNS_DIR)) candidates.push(`${NAMED_NETNS_DIR}/${name}`);
    } catch {
      // No named namespaces on this host.
    }
    for (const name of readdirSync('/proc')) {
      if (name.charCodeAt(0) >= 0x30 && name.charCodeAt(0) <= 0x39) candidates.push(`/proc/${name}/ns/net`);
    }
    for (const path of candidates) {
      const inode = namespaceInode(path);
      if (inode !== 0 && !this.paths.has(inode)) this.paths.set(inode, path);
    }
  }
}

/** Runs `create` inside the namespace at `path` and returns to this thread's own namespace. */
export function inNamespace<T>(path: string, create: () => T): T {
  const c = libc();
  const home = c.open('/proc/thread-self/ns/net', O_RDONLY | O_CLOEXEC);
  if (home < 0) throw new Error(`opening this thread's network namespace: ${errnoName(lastErrno())}`);
  try {
    const target = c.open(path, O_RDONLY | O_CLOEXEC);
    if (target < 0) throw new Error(`opening network namespace ${path}: ${errnoName(lastErrno())}`);
    try {
      if (c.setns(target, CLONE_NEWNET) < 0) throw new Error(`entering network namespace ${path}: ${errnoName(lastErrno())}`);
    } finally {
      c.close(target);
    }
    try {
      return create();
    } finally {
      // Staying in another namespace would move every later socket of the observer there.
      if (c.setns(home, CLONE_NEWNET) < 0) {
        throw new Error(`returning to the observer's network namespace from ${path}: ${errnoName(lastErrno())}`);
      }
    }
  } finally {
    c.close(home);
  }
}
