/**
 * libbpf.so.1 through koffi: only the calls the loader needs. Handles are opaque native
 * pointers (BigInt in koffi 3); NULL comes back as null and errno says why (libbpf 1.x mode).
 *
 * libbpf's own messages are routed through one registered callback: formatted with libc
 * vsnprintf (the callback receives a va_list), kept in a small ring for error context and
 * forwarded to whichever logger the current load set.
 */
import koffi from 'koffi';
import { libc, type Pointer } from './libc';

export type BpfObjectHandle = Pointer;
export type BpfProgramHandle = Pointer;
export type BpfMapHandle = Pointer;
export type BpfLinkHandle = Pointer;

export interface OpenOptions {
  /** Native buffer for the verifier log (malloc'd by the caller), or null. */
  kernelLogBuf: Pointer | null;
  kernelLogSize: number;
  kernelLogLevel: number;
}

export interface Libbpf {
  version(): string;
  openFile(path: string, opts: OpenOptions): BpfObjectHandle | null;
  findMap(obj: BpfObjectHandle, name: string): BpfMapHandle | null;
  findProgram(obj: BpfObjectHandle, name: string): BpfProgramHandle | null;
  nextProgram(obj: BpfObjectHandle, prev: BpfProgramHandle | null): BpfProgramHandle | null;
  programName(prog: BpfProgramHandle): string;
  programSection(prog: BpfProgramHandle): string;
  setAutoload(prog: BpfProgramHandle, autoload: boolean): number;
  setMaxEntries(map: BpfMapHandle, entries: number): number;
  /** Pointer to the map's initial value (the .rodata image before load) and its size. */
  initialValue(map: BpfMapHandle): { ptr: Pointer; size: number } | null;
  setInitialValue(map: BpfMapHandle, data: Uint8Array): number;
  /**
   * Before load: the map is not created but stands for an existing map (`fd` is dup'ed, and
   * the map's definition taken from the kernel's), shared with the object that made it.
   */
  reuseFd(map: BpfMapHandle, fd: number): number;
  /**
   * A copy of the object's BTF as libbpf holds it after open: unlike the file's, its data
   * sections carry every variable's offset (the compiler leaves them 0).
   */
  objectBtf(obj: BpfObjectHandle): Uint8Array | null;
  mapFd(map: BpfMapHandle): number;
  lookupElem(map: BpfMapHandle, key: Uint8Array, value: Uint8Array): number;
  load(obj: BpfObjectHandle): number;
  /**
   * After load: the instructions the verifier walked to accept the program (its limit is
   * 1,000,000), or null where the kernel does not say (before 5.16).
   */
  verifiedInstructions(prog: BpfProgramHandle): number | null;
  attach(prog: BpfProgramHandle): BpfLinkHandle | null;
  attachCgroup(prog: BpfProgramHandle, cgroupFd: number): BpfLinkHandle | null;
  /**
   * Attaches a uprobe (or uretprobe) program at a file offset of an ELF file, for every process
   * that maps it (pid -1) or one process.
   */
  attachUprobe(prog: BpfProgramHandle, retprobe: boolean, pid: number, path: string, offset: number): BpfLinkHandle | null;
  /** Attaches an iterator that takes no map (SEC("iter/tcp")). */
  attachIter(prog: BpfProgramHandle): BpfLinkHandle | null;
  /** The key after `key` (or the first when `key` is null) into `next`: 0, or -ENOENT at the end. */
  mapNextKey(mapFd: number, key: Uint8Array | null, next: Uint8Array): number;
  mapDeleteElem(mapFd: number, key: Uint8Array): number;
  /** A new pass of an attached iterator: read() the returned fd to run it, then close it. */
  iterCreate(linkFd: number): number;
  linkFd(link: BpfLinkHandle): number;
  destroyLink(link: BpfLinkHandle): number;
  closeObject(obj: BpfObjectHandle): void;
  numPossibleCpus(): number;
}

export type LibbpfLogSink = (level: 'warn' | 'info' | 'debug', message: string) => void;

const RECENT_MAX = 64;
const recentMessages: string[] = [];
let logSink: LibbpfLogSink | undefined;
let cached: Libbpf | undefined;
// Keeps the registered callback reachable for the life of the process.
let printCallback: unknown;

/** Routes libbpf's messages (until replaced); returns the previous sink. */
export function setLibbpfLogSink(sink: LibbpfLogSink | undefined): LibbpfLogSink | undefined {
  const previous = logSink;
  logSink = sink;
  return previous;
}

/** The last warnings libbpf printed, oldest first; for error context. */
export function recentLibbpfMessages(): string[] {
  return [...recentMessages];
}

export function clearLibbpfMessages(): void {
  recentMessages.length = 0;
}

/** Offset of verified_insns in struct bpf_prog_info (kernel 5.16+). */
const PROG_INFO_VERIFIED_INSNS = 216;

export function libbpf(): Libbpf {
  if (cached) return cached;
  const lib = koffi.load('libbpf.so.1');

  const OpenOpts = koffi.struct('ne_bpf_object_open_opts', {
    sz: 'size_t',
    object_name: 'void *',
    relaxed_maps: 'bool',
    pin_root_path: 'void *',
    // `__u32 :32` in libbpf.h: the stub of the removed attach_prog_fd, which shifts what follows.
    attach_prog_fd_stub: 'uint32_t',
    kconfig: 'void *',
    btf_custom_path: 'void *',
    kernel_log_buf: 'void *',
    kernel_log_size: 'size_t',
    kernel_log_level: 'uint32_t',
  });
  const openOptsSize = koffi.sizeof(OpenOpts);

  const versionString = lib.func('const char *libbpf_version_string(void)');
  const openFile = lib.func('void *bpf_object__open_file(const char *path, const ne_bpf_object_open_opts *opts)');
  const findMap = lib.func('void *bpf_object__find_map_by_name(void *obj, const char *name)');
  const findProgram = lib.func('void *bpf_object__find_program_by_name(void *obj, const char *name)');
  const nextProgram = lib.func('void *bpf_object__next_program(void *obj, void *prog)');
  const programName = lib.func('const char *bpf_program__name(void *prog)');
  const programSection = lib.func('const char *bpf_program__section_name(void *prog)');
  const setAutoload = lib.func('int bpf_program__set_autoload(void *prog, bool autoload)');
  const setMaxEntries = lib.func('int bpf_map__set_max_entries(void *map, uint32_t entries)');
  const initialValue = lib.func('void *bpf_map__initial_value(void *map, _Out_ size_t *psize)');
  const setInitialValue = lib.func('int bpf_map__set_initial_value(void *map, const uint8_t *data, size_t size)');
  const reuseFd = lib.func('int bpf_map__reuse_fd(void *map, int fd)');
  const objectBtf = lib.func('void *bpf_object__btf(void *obj)');
  const btfRawData = lib.func('const void *btf__raw_data(void *btf, _Out_ uint32_t *size)');
  const mapFd = lib.func('int bpf_map__fd(void *map)');
  const lookupElem = lib.func(
    'int bpf_map__lookup_elem(void *map, const uint8_t *key, size_t key_sz, uint8_t *value, size_t value_sz, uint64_t flags)',
  );
  const load = lib.func('int bpf_object__load(void *obj)');
  const attach = lib.func('void *bpf_program__attach(void *prog)');
  const attachCgroup = lib.func('void *bpf_program__attach_cgroup(void *prog, int cgroup_fd)');
  const attachUprobe = lib.func(
    'void *bpf_program__attach_uprobe(void *prog, bool retprobe, int pid, const char *binary_path, size_t func_offset)',
  );
  const attachIter = lib.func('void *bpf_program__attach_iter(void *prog, const void *opts)');
  const mapNextKey = lib.func('int bpf_map_get_next_key(int fd, const uint8_t *key, uint8_t *next_key)');
  const mapDeleteElem = lib.func('int bpf_map_delete_elem(int fd, const uint8_t *key)');
  const iterCreate = lib.func('int bpf_iter_create(int link_fd)');
  const linkFd = lib.func('int bpf_link__fd(void *link)');
  const destroyLink = lib.func('int bpf_link__destroy(void *link)');
  const closeObject = lib.func('void bpf_object__close(void *obj)');
  const numPossibleCpus = lib.func('int libbpf_num_possible_cpus(void)');
  const setPrint = lib.func('void *libbpf_set_print(void *fn)');
  const programFd = lib.func('int bpf_program__fd(void *prog)');
  const objectInfo = lib.func('int bpf_obj_get_info_by_fd(int fd, _Inout_ uint8_t *info, _Inout_ uint32_t *info_len)');

  installPrintCallback(setPrint);

  cached = {
    version: () => versionString() as string,
    openFile: (path, opts) =>
      openFile(path, {
        sz: openOptsSize,
        object_name: null,
        relaxed_maps: false,
        pin_root_path: null,
        attach_prog_fd_stub: 0,
        kconfig: null,
        btf_custom_path: null,
        kernel_log_buf: opts.kernelLogBuf,
        kernel_log_size: opts.kernelLogBuf ? opts.kernelLogSize : 0,
        kernel_log_level: opts.kernelLogLevel,
      }) as Pointer | null,
    findMap: (obj, name) => findMap(obj, name) as Pointer | null,
    findProgram: (obj, name) => findProgram(obj, name) as Pointer | null,
    nextProgram: (obj, prev) => nextProgram(obj, prev) as Pointer | null,
    programName: (prog) => programName(prog) as string,
    programSection: (prog) => programSection(prog) as string,
    setAutoload: (prog, autoload) => setAutoload(prog, autoload) as number,
    setMaxEntries: (map, entries) => setMaxEntries(map, entries) as number,
    initialValue: (map) => {
      const size = [0];
      const ptr = initialValue(map, size) as Pointer | null;
      return ptr ? { ptr, size: Number(size[0]) } : null;
    },
    setInitialValue: (map, data) => setInitialValue(map, data, data.byteLength) as number,
    reuseFd: (map, fd) => reuseFd(map, fd) as number,
    objectBtf: (obj) => {
      const btf = objectBtf(obj) as Pointer | null;
      const size = [0];
      const data = btf ? (btfRawData(btf, size) as Pointer | null) : null;
      return data ? new Uint8Array(koffi.view(data, size[0])).slice() : null;
    },
    mapFd: (map) => mapFd(map) as number,
    lookupElem: (map, key, value) => lookupElem(map, key, key.byteLength, value, value.byteLength, 0) as number,
    load: (obj) => load(obj) as number,
    verifiedInstructions: (prog) => {
      const fd = programFd(prog) as number;
      if (fd < 0) return null;
      // struct bpf_prog_info is UAPI, so append-only: verified_insns stays at byte 216.
      const info = new Uint8Array(PROG_INFO_VERIFIED_INSNS + 4);
      const length = [info.byteLength];
      if ((objectInfo(fd, info, length) as number) < 0 || length[0] < info.byteLength) return null;
      const verified = new DataView(info.buffer).getUint32(PROG_INFO_VERIFIED_INSNS, true);
      return verified > 0 ? verified : null;
    },
    attach: (prog) => attach(prog) as Pointer | null,
    attachCgroup: (prog, fd) => attachCgroup(prog, fd) as Pointer | null,
    attachUprobe: (prog, retprobe, pid, path, offset) => attachUprobe(prog, retprobe, pid, path, offset) as Pointer | null,
    attachIter: (prog) => attachIter(prog, null) as Pointer | null,
    mapNextKey: (fd, key, next) => mapNextKey(fd, key, next) as number,
    mapDeleteElem: (fd, key) => mapDeleteElem(fd, key) as number,
    iterCreate: (linkFd) => iterCreate(linkFd) as number,
    linkFd: (link) => linkFd(link) as number,
    destroyLink: (link) => destroyLink(link) as number,
    closeObject: (obj) => { closeObject(obj); },
    numPossibleCpus: () => numPossibleCpus() as number,
  };
  return cached;
}

const LEVELS = ['warn', 'info', 'debug'] as const;

function installPrintCallback(setPrint: (fn: unknown) => unknown): void {
  const proto = koffi.proto('int ne_libbpf_print_fn(int level, void *fmt, void *args)');
  const buf = Buffer.alloc(4096);
  printCallback = koffi.register((level: number, fmt: Pointer, args: Pointer): number => {
    let message: string;
    try {
      const n = libc().vsnprintf(buf, buf.length, fmt, args);
      message = buf.toString('utf8', 0, Math.max(0, Math.min(n, buf.length - 1))).trimEnd();
    } catch {
      return 0;
    }
    const lvl = LEVELS[level] ?? 'debug';
    if (lvl !== 'debug') {
      recentMessages.push(message);
      if (recentMessages.length > RECENT_MAX) recentMessages.shift();
    }
    logSink?.(lvl, message);
    return 0;
  }, koffi.pointer(proto));
  setPrint(printCallback);
}
