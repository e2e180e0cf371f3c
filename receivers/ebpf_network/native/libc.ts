/**
 * The few libc calls the receiver needs, through koffi. Loaded lazily so that importing the
 * receiver (e.g. for `validate` or mock mode) never touches native code.
 */
import koffi from 'koffi';

/** A native pointer as koffi 3 returns it for `void *`. */
export type Pointer = bigint;

export interface Libc {
  mmap(addr: Pointer | null, length: number, prot: number, flags: number, fd: number, offset: number): Pointer;
  munmap(addr: Pointer, length: number): number;
  malloc(size: number): Pointer | null;
  free(ptr: Pointer): void;
  close(fd: number): number;
  open(path: string, flags: number): number;
  sysconf(name: number): number;
  /** Fills `ts` (two int64: seconds, nanoseconds) for a clock id. */
  clockGettime(clockId: number, ts: BigInt64Array): number;
  vsnprintf(buf: Buffer, size: number, fmt: Pointer, args: Pointer): number;
  getpid(): number;
  epollCreate1(flags: number): number;
  /** `event` is a struct epoll_event (12 bytes, packed on x86-64; 16 elsewhere). */
  epollCtl(epfd: number, op: number, fd: number, event: Uint8Array | null): number;
  epollWait(epfd: number, events: Uint8Array, maxEvents: number, timeoutMs: number): number;
  /** Reads into `buf` from `offset`, at most `count` bytes; the byte count, 0 at the end, or -1. */
  read(fd: number, buf: Uint8Array, offset: number, count: number): number;
  /** `set` and `old` are sigset_t buffers (SIGSET_SIZE bytes); returns 0 or an errno. */
  pthreadSigmask(how: number, set: Uint8Array | null, old: Uint8Array | null): number;
  /** Moves the calling thread into the namespace behind `fd`; 0 or -1 (errno). */
  setns(fd: number, nstype: number): number;
}

export const PROT_READ = 0x1;
export const PROT_WRITE = 0x2;
export const MAP_SHARED = 0x01;
/** mmap's failure value, (void *)-1. */
export const MAP_FAILED = 0xffffffffffffffffn;
export const O_RDONLY = 0;
export const O_DIRECTORY = 0o200000;
export const O_CLOEXEC = 0o2000000;
export const SC_PAGESIZE = 30;
export const CLOCK_REALTIME = 0;
export const CLOCK_BOOTTIME = 7;
export const EPOLL_CLOEXEC = 0o2000000;
export const EPOLL_CTL_ADD = 1;
export const EPOLLIN = 0x001;
export const EPOLLET = 0x80000000;
/** sizeof(struct epoll_event): packed (12) on x86-64, naturally aligned (16) elsewhere. */
export const EPOLL_EVENT_SIZE = process.arch === 'x64' || process.arch === 'ia32' ? 12 : 16;
/** sizeof(sigset_t) in glibc (1024 signal bits), larger than the kernel's; enough for both. */
export const SIGSET_SIZE = 128;
export const SIG_BLOCK = 0;
export const SIG_SETMASK = 2;
export const CLONE_NEWNET = 0x40000000;

let cached: Libc | undefined;

export function libc(): Libc {
  if (cached) return cached;
  const lib = koffi.load('libc.so.6');
  const mmap = lib.func('void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)');
  const munmap = lib.func('int munmap(void *addr, size_t length)');
  const malloc = lib.func('void *malloc(size_t size)');
  const free = lib.func('void free(void *ptr)');
  const close = lib.func('int close(int fd)');
  const open = lib.func('int open(const char *path, int flags)');
  const sysconf = lib.func('long sysconf(int name)');
  const clockGettime = lib.func('int clock_gettime(int clk, int64_t *ts)');
  const vsnprintf = lib.func('int vsnprintf(uint8_t *buf, size_t size, void *fmt, void *args)');
  const getpid = lib.func('int getpid(void)');
  const epollCreate1 = lib.func('int epoll_create1(int flags)');
  const epollCtl = lib.func('int epoll_ctl(int epfd, int op, int fd, uint8_t *event)');
  const epollWait = lib.func('int epoll_wait(int epfd, uint8_t *events, int maxevents, int timeout)');
  const read = lib.func('long read(int fd, uint8_t *buf, size_t count)');
  const pthreadSigmask = lib.func('int pthread_sigmask(int how, const uint8_t *set, _Out_ uint8_t *oldset)');
  const setns = lib.func('int setns(int fd, int nstype)');
  cached = {
    mmap: (addr, length, prot, flags, fd, offset) => mmap(addr, length, prot, flags, fd, offset) as Pointer,
    munmap: (addr, length) => munmap(addr, length) as number,
    malloc: (size) => malloc(size) as Pointer | null,
    free: (ptr) => { free(ptr); },
    close: (fd) => close(fd) as number,
    open: (path, flags) => open(path, flags) as number,
    sysconf: (name) => Number(sysconf(name)),
    clockGettime: (clockId, ts) => clockGettime(clockId, ts) as number,
    vsnprintf: (buf, size, fmt, args) => vsnprintf(buf, size, fmt, args) as number,
    getpid: () => getpid() as number,
    epollCreate1: (flags) => epollCreate1(flags) as number,
    epollCtl: (epfd, op, fd, event) => epollCtl(epfd, op, fd, event) as number,
    epollWait: (epfd, events, maxEvents, timeoutMs) => epollWait(epfd, events, maxEvents, timeoutMs) as number,
    read: (fd, buf, offset, count) => Number(read(fd, buf.subarray(offset, offset + count), count)),
    pthreadSigmask: (how, set, old) => pthreadSigmask(how, set, old) as number,
    setns: (fd, nstype) => setns(fd, nstype) as number,
  };
  return cached;
}

/** `ENOENT`-style name for an errno value, or `errno N`. */
export function errnoName(errno: number): string {
  const e = Math.abs(errno);
  for (const [name, value] of Object.entries(koffi.os.errno)) {
    if (value === e) return name;
  }
  return `errno ${e}`;
}

/**
 * Runs `work` with every blockable signal held back on this thread; they are delivered when it
 * returns. For syscalls that give up when a signal arrives: the verifier returns EAGAIN when a
 * signal is pending, and a profiler's SIGPROF every millisecond, or a child's SIGCHLD, would
 * otherwise fail a load that takes longer than that.
 */
export function withSignalsBlocked<T>(work: () => T): T {
  const c = libc();
  const all = new Uint8Array(SIGSET_SIZE).fill(0xff);
  const previous = new Uint8Array(SIGSET_SIZE);
  const rc = c.pthreadSigmask(SIG_BLOCK, all, previous);
  if (rc !== 0) return work(); // nothing blocked: the work runs exposed, as it did before
  try {
    return work();
  } finally {
    c.pthreadSigmask(SIG_SETMASK, previous, null);
  }
}

export function lastErrno(): number {
  return koffi.errno();
}
