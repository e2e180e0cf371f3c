/**
 * Opens, configures, loads and attaches bpf/net.bpf.o through libbpf, and tears it all down.
 * One instance per running receiver; close() releases every kernel object it created.
 */
import { join } from 'node:path';
import koffi from 'koffi';
import { PACKAGE_ROOT } from '../../core/package-root';
import { Btf } from './btf';
import { encodeKernelConfig, type KernelConfig } from './kernel-config';
import { STRUCTS } from './layout';
import { inNamespace, LiveNamespaces } from './live-netns';
import { LiveTcpScan } from './live-scan';
import { errnoName, lastErrno, libc, O_CLOEXEC, O_DIRECTORY, O_RDONLY, withSignalsBlocked, type Pointer } from './native/libc';
import {
  clearLibbpfMessages, libbpf, recentLibbpfMessages, setLibbpfLogSink,
  type BpfLinkHandle, type BpfObjectHandle, type BpfProgramHandle, type LibbpfLogSink,
} from './native/libbpf';

export const DEFAULT_OBJECT_PATH = join(PACKAGE_ROOT, 'bpf', 'net.bpf.o');

/** Which feature needs which program; a program is loaded only when something needs it. */
export type ProgramGroup = 'tcp' | 'tcp_live' | 'owner' | 'owner_h1' | 'packet' | 'socket_create' | 'tls';

export interface ProgramSpec {
  name: string;
  group: ProgramGroup;
  /** cgroup programs are attached to the cgroup2 root; the others attach by their section. */
  cgroup: boolean;
  /** Iterators are attached without a target and run only when user space reads them. */
  iterator?: boolean;
  /** Uprobes are loaded here and attached per file by their owner (attachUprobe). */
  uprobe?: boolean;
}

export const PROGRAMS: readonly ProgramSpec[] = [
  { name: 'on_tcp_state', group: 'tcp', cgroup: false },
  { name: 'on_tcp_receive_reset', group: 'tcp', cgroup: false },
  { name: 'on_tcp_send_reset', group: 'tcp', cgroup: false },
  { name: 'on_tcp_destroy', group: 'tcp', cgroup: false },
  { name: 'dump_live_tcp', group: 'tcp_live', cgroup: false, iterator: true },
  { name: 'on_sock_send', group: 'owner', cgroup: false },
  { name: 'on_sock_recv', group: 'owner', cgroup: false },
  { name: 'on_sock_send_h1', group: 'owner_h1', cgroup: false },
  { name: 'on_sock_recv_h1', group: 'owner_h1', cgroup: false },
  { name: 'on_sock_create', group: 'socket_create', cgroup: true },
  { name: 'on_egress', group: 'packet', cgroup: true },
  { name: 'on_ingress', group: 'packet', cgroup: true },
  { name: 'on_ssl_read', group: 'tls', cgroup: false, uprobe: true },
  { name: 'on_ssl_read_ex', group: 'tls', cgroup: false, uprobe: true },
  { name: 'on_ssl_write', group: 'tls', cgroup: false, uprobe: true },
  { name: 'on_ssl_write_ex', group: 'tls', cgroup: false, uprobe: true },
  { name: 'on_ssl_return', group: 'tls', cgroup: false, uprobe: true },
];

export function groupsFor(config: KernelConfig): Set<ProgramGroup> {
  const groups = new Set<ProgramGroup>();
  if (config.enableTcp) groups.add('tcp');
  if (config.enableTcp && config.enableLiveTcp) groups.add('tcp_live');
  // on_sock_send/recv learn owners and capture payload; their _h1 twins add HTTP/1 summaries.
  if (config.enableTcp || config.enableUdp || config.enableIcmp || config.enablePayload) {
    groups.add(config.enablePayload && config.h1FullPerCpu > 0 ? 'owner_h1' : 'owner');
  }
  // on_ingress also notes who sent each DNS datagram an unconnected socket will read.
  if (config.enableUdp || config.enableIcmp) {
    groups.add('packet');
    groups.add('socket_create');
  }
  if (config.enablePayload && config.enableTlsPlain) groups.add('tls');
  return groups;
}

export interface LoadSettings {
  objectPath?: string;
  kernel: KernelConfig;
  ringBufferSize: number;
  maxTrackedSockets: number;
  verifierLogSize: number;
  /** cgroup2 directory the cgroup programs attach to (normally the mount root). */
  cgroupPath: string;
  /** Load only these programs (doctor's trial loads); default: what the config needs. */
  only?: readonly string[];
  log?: LibbpfLogSink;
}

/** A load or attach failure, with the verifier log when the kernel rejected a program. */
export class BpfLoadError extends Error {
  constructor(message: string, readonly errno: number, readonly verifierLog = '') {
    super(message);
    this.name = 'BpfLoadError';
  }
}

export interface KernelStats {
  records: number;
  ringLost: number;
  truncated: number;
  sampledOut: number;
  rateLimited: number;
  mapFull: number;
  readErrors: number;
  /** Reads/writes of streams that are nothing the l7 processor parses, not copied. */
  skippedOpaque: number;
  skippedOpaqueBytes: number;
  /** Reads/writes of TLS streams past their handshake, not copied. */
  skippedEncrypted: number;
  skippedEncryptedBytes: number;
  /** Records left out as the far end of an excluded process's own connection. */
  selfPeerSkipped: number;
  /** TCP connections the kernel ended at tcp_destroy_sock because they never passed ->CLOSE. */
  closedAtDestroy: number;
  /** Reads/writes of TLS streams whose plaintext the OpenSSL uprobes take, not copied. */
  skippedDecrypted: number;
  skippedDecryptedBytes: number;
  /** Plaintext of an SSL object whose connection was not known, dropped. */
  tlsUnbound: number;
  /** HTTP/1 exchanges sent as one summary record (http1_summary_above). */
  h1Summarised: number;
  /** Requests held for a summary, then sent in full after all. */
  h1Unstashed: number;
  /** DNS datagrams read by an unconnected socket whose sender was not noted as they arrived. */
  udpPeerUnknown: number;
}

/** Counters before the kernel said anything. */
export function emptyKernelStats(): KernelStats {
  return {
    records: 0, ringLost: 0, truncated: 0, sampledOut: 0, rateLimited: 0, mapFull: 0, readErrors: 0,
    skippedOpaque: 0, skippedOpaqueBytes: 0, skippedEncrypted: 0, skippedEncryptedBytes: 0, selfPeerSkipped: 0, closedAtDestroy: 0,
    skippedDecrypted: 0, skippedDecryptedBytes: 0, tlsUnbound: 0, h1Summarised: 0, h1Unstashed: 0, udpPeerUnknown: 0,
  };
}

const VERIFIER_LOG_TAIL_LINES = 120;

export class BpfNetObject {
  private obj: BpfObjectHandle | null;
  private readonly links: Array<{ name: string; link: BpfLinkHandle }> = [];
  /** Loaded uprobe programs by name, attached per file through attachUprobe. */
  private readonly uprobes = new Map<string, BpfProgramHandle>();
  private readonly uprobeLinks = new Set<BpfLinkHandle>();
  private liveTcpLinkFd = -1;
  private liveNamespaces: LiveNamespaces | undefined;
  private readonly statsMap: Pointer;
  private readonly statsKey = new Uint8Array(4);
  private readonly statsValue: Uint8Array;
  private readonly ncpus: number;
  readonly ringFd: number;
  /** The per-CPU counters (struct ne_stats), for an object that shares them (reuseFd). */
  readonly statsFd: number;
  readonly attached: string[] = [];

  private constructor(obj: BpfObjectHandle, ringFd: number, statsMap: Pointer, ncpus: number) {
    this.obj = obj;
    this.ringFd = ringFd;
    this.statsMap = statsMap;
    this.statsFd = libbpf().mapFd(statsMap);
    this.ncpus = ncpus;
    this.statsValue = new Uint8Array(STRUCTS.ne_stats.size * ncpus);
  }

  /** open -> configure -> load -> attach; on any failure everything created so far is released. */
  static load(settings: LoadSettings): BpfNetObject {
    const lib = libbpf();
    const path = settings.objectPath ?? DEFAULT_OBJECT_PATH;
    const where = `loading ${path}`;
    const previousSink = setLibbpfLogSink(settings.log);
    clearLibbpfMessages();
    const logSize = Math.max(0, Math.min(settings.verifierLogSize, 0x3fffffff));
    const logBuf = logSize > 0 ? libc().malloc(logSize) : null;
    let obj: BpfObjectHandle | null = null;
    try {
      if (logBuf) new Uint8Array(koffi.view(logBuf, 1))[0] = 0;
      obj = lib.openFile(path, { kernelLogBuf: logBuf, kernelLogSize: logSize, kernelLogLevel: 0 });
      if (!obj) throw failure(`${where}: open`, lastErrno());

      writeRodata(obj, where, { cfg: encodeKernelConfig(settings.kernel) });

      setMaxEntries(lib, obj, 'events', settings.ringBufferSize, where);
      setMaxEntries(lib, obj, 'socks', settings.maxTrackedSockets, where);

      const wanted = settings.only ? new Set(settings.only) : undefined;
      const groups = groupsFor(settings.kernel);
      const chosen: Array<{ spec: ProgramSpec; prog: BpfProgramHandle }> = [];
      for (let prog = lib.nextProgram(obj, null); prog; prog = lib.nextProgram(obj, prog)) {
        const name = lib.programName(prog);
        const spec = PROGRAMS.find((p) => p.name === name);
        const load = spec !== undefined && (wanted ? wanted.has(name) : groups.has(spec.group));
        lib.setAutoload(prog, load);
        if (load && spec) chosen.push({ spec, prog });
      }

      const loading = obj;
      const rc = withSignalsBlocked(() => lib.load(loading));
      if (rc < 0) {
        const log = logBuf ? readCString(logBuf, logSize) : '';
        const tail = log.trimEnd().split('\n').slice(-VERIFIER_LOG_TAIL_LINES).join('\n');
        const detail = tail
          ? `\nverifier log (last ${VERIFIER_LOG_TAIL_LINES} lines; raise verifier_log_size if it was cut):\n${tail}`
          : libbpfContext();
        throw new BpfLoadError(`${where}: load: ${errnoName(rc)}${detail}`, -rc, log);
      }

      const ringMap = lib.findMap(obj, 'events');
      const statsMap = lib.findMap(obj, 'stats');
      if (!ringMap || !statsMap) throw new BpfLoadError(`${where}: maps 'events' and 'stats' are missing`, 0);
      const self = new BpfNetObject(obj, lib.mapFd(ringMap), statsMap, lib.numPossibleCpus());
      obj = null; // owned by self from here; self.close() releases it
      try {
        self.attachAll(chosen, settings.cgroupPath, where);
      } catch (error) {
        self.close();
        throw error;
      }
      return self;
    } finally {
      if (obj) lib.closeObject(obj);
      if (logBuf) libc().free(logBuf);
      setLibbpfLogSink(previousSink);
    }
  }

  private attachAll(chosen: Array<{ spec: ProgramSpec; prog: BpfProgramHandle }>, cgroupPath: string, where: string): void {
    const lib = libbpf();
    let cgroupFd = -1;
    try {
      for (const { spec, prog } of chosen) {
        if (spec.uprobe) {
          this.uprobes.set(spec.name, prog);
          continue;
        }
        const section = lib.programSection(prog);
        let link: BpfLinkHandle | null;
        if (spec.iterator) {
          link = lib.attachIter(prog);
        } else if (spec.cgroup) {
          if (cgroupFd < 0) {
            cgroupFd = libc().open(cgroupPath, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (cgroupFd < 0) throw failure(`${where}: open cgroup2 directory ${cgroupPath}`, lastErrno());
          }
          link = lib.attachCgroup(prog, cgroupFd);
        } else {
          link = lib.attach(prog);
        }
        if (!link) throw failure(`${where}: attach ${section} (${spec.name})`, lastErrno());
        this.links.push({ name: spec.name, link });
        if (spec.name === 'dump_live_tcp') {
          const netns = lib.findMap(this.obj!, 'live_netns');
          if (!netns) throw new BpfLoadError(`${where}: map 'live_netns' for ${spec.name} is missing`, 0);
          this.liveTcpLinkFd = lib.linkFd(link);
          this.liveNamespaces = new LiveNamespaces(lib.mapFd(netns));
        }
        this.attached.push(spec.name);
      }
    } finally {
      // Links keep their own reference to the cgroup.
      if (cgroupFd >= 0) libc().close(cgroupFd);
    }
  }

  /**
   * Starts a pass of the live-connection iterator over every namespace that holds marked
   * sockets, or returns null when it is not loaded.
   */
  startLiveTcpScan(): LiveTcpScan | null {
    const namespaces = this.liveNamespaces;
    if (this.liveTcpLinkFd < 0 || !this.obj || !namespaces) return null;
    const fds: number[] = [];
    try {
      for (const inode of namespaces.listed()) {
        const path = namespaces.pathOf(inode);
        if (path === undefined) {
          namespaces.forget(inode); // gone, and its sockets with it
          continue;
        }
        const fd = inNamespace(path, () => libbpf().iterCreate(this.liveTcpLinkFd));
        if (fd < 0) throw new Error(`starting the live TCP connection scan in ${path}: ${errnoName(fd)}`);
        fds.push(fd);
      }
    } catch (error) {
      for (const fd of fds) libc().close(fd);
      throw error;
    }
    return new LiveTcpScan(fds);
  }

  /**
   * Instructions the verifier walked for the loaded program `name` (null where the kernel does
   * not say, or it is not loaded): how close it is to the verifier's limit of 1,000,000 here.
   */
  verifiedInstructions(name: string): number | null {
    const prog = this.obj ? libbpf().findProgram(this.obj, name) : null;
    return prog ? libbpf().verifiedInstructions(prog) : null;
  }

  /** Names of the loaded uprobe programs (empty when TLS plaintext capture is off). */
  get uprobePrograms(): string[] {
    return [...this.uprobes.keys()];
  }

  /**
   * Attaches the loaded uprobe program `name` at a file offset of an ELF file, for every process
   * that maps the file now or later. The link lives until detachUprobe or detach().
   */
  attachUprobe(name: string, retprobe: boolean, path: string, offset: number): BpfLinkHandle {
    const prog = this.uprobes.get(name);
    if (!prog || !this.obj) throw new Error(`attaching ${name} to ${path}: the program is not loaded`);
    const link = libbpf().attachUprobe(prog, retprobe, -1, path, offset);
    if (!link) throw failure(`attaching ${retprobe ? 'uretprobe' : 'uprobe'} ${name} to ${path} at offset 0x${offset.toString(16)}`, lastErrno());
    this.uprobeLinks.add(link);
    return link;
  }

  detachUprobe(link: BpfLinkHandle): void {
    if (this.uprobeLinks.delete(link)) libbpf().destroyLink(link);
  }

  /** Per-CPU counters summed. */
  readStats(): KernelStats {
    const totals = emptyKernelStats();
    if (!this.obj) return totals;
    const rc = libbpf().lookupElem(this.statsMap, this.statsKey, this.statsValue);
    if (rc < 0) throw new Error(`reading kernel counters: ${errnoName(rc)}`);
    const v = new DataView(this.statsValue.buffer);
    const f = STRUCTS.ne_stats.fields;
    const size = STRUCTS.ne_stats.size;
    const u64 = (off: number) => v.getUint32(off, true) + v.getUint32(off + 4, true) * 2 ** 32;
    for (let cpu = 0; cpu < this.ncpus; cpu++) {
      const base = cpu * size;
      totals.records += u64(base + f.records);
      totals.ringLost += u64(base + f.ring_lost);
      totals.truncated += u64(base + f.truncated);
      totals.sampledOut += u64(base + f.sampled_out);
      totals.rateLimited += u64(base + f.rate_limited);
      totals.mapFull += u64(base + f.map_full);
      totals.readErrors += u64(base + f.read_errors);
      totals.skippedOpaque += u64(base + f.skipped_opaque);
      totals.skippedOpaqueBytes += u64(base + f.skipped_opaque_bytes);
      totals.skippedEncrypted += u64(base + f.skipped_encrypted);
      totals.skippedEncryptedBytes += u64(base + f.skipped_encrypted_bytes);
      totals.selfPeerSkipped += u64(base + f.self_peer_skipped);
      totals.closedAtDestroy += u64(base + f.closed_at_destroy);
      totals.skippedDecrypted += u64(base + f.skipped_decrypted);
      totals.skippedDecryptedBytes += u64(base + f.skipped_decrypted_bytes);
      totals.tlsUnbound += u64(base + f.tls_unbound);
      totals.h1Summarised += u64(base + f.h1_summarised);
      totals.h1Unstashed += u64(base + f.h1_unstashed);
      totals.udpPeerUnknown += u64(base + f.udp_peer_unknown);
    }
    return totals;
  }

  get possibleCpus(): number {
    return this.ncpus;
  }

  /** Stops the programs (destroys the links); maps stay readable until close(). Idempotent. */
  detach(): void {
    const lib = libbpf();
    this.liveTcpLinkFd = -1;
    this.liveNamespaces = undefined;
    for (const link of this.uprobeLinks) lib.destroyLink(link);
    this.uprobeLinks.clear();
    while (this.links.length > 0) {
      const { link } = this.links.pop()!;
      lib.destroyLink(link);
    }
  }

  /** Idempotent: destroys links first (stops the programs), then the object (maps, programs). */
  close(): void {
    const lib = libbpf();
    this.detach();
    if (this.obj) {
      lib.closeObject(this.obj);
      this.obj = null;
    }
  }
}

/**
 * Writes `const volatile` globals of an opened object's .rodata by name, between open and load
 * (so the verifier sees them as constants). `where` starts every error message.
 */
export function writeRodata(obj: BpfObjectHandle, where: string, values: Readonly<Record<string, Uint8Array>>): void {
  const lib = libbpf();
  const rodata = lib.findMap(obj, '.rodata');
  if (!rodata) throw new BpfLoadError(`${where}: the object has no .rodata map (not built from bpf/*.bpf.c?)`, 0);
  const initial = lib.initialValue(rodata);
  if (!initial) throw new BpfLoadError(`${where}: .rodata has no initial value`, 0);
  const raw = lib.objectBtf(obj);
  if (!raw) throw new BpfLoadError(`${where}: the object has no BTF; rebuild with npm run build:bpf`, 0);
  const btf = new Btf(raw);
  const image = new Uint8Array(koffi.view(initial.ptr, initial.size)).slice();
  for (const [name, value] of Object.entries(values)) {
    const variable = btf.variable('.rodata', name);
    if (!variable || variable.size !== value.byteLength) {
      throw new BpfLoadError(`${where}: '${name}' in .rodata is missing or has size ${variable?.size}, expected ${value.byteLength}; rebuild with npm run build:bpf`, 0);
    }
    image.set(value, variable.offset);
  }
  const rc = lib.setInitialValue(rodata, image);
  if (rc < 0) throw failure(`${where}: set .rodata`, rc);
}

function setMaxEntries(lib: ReturnType<typeof libbpf>, obj: BpfObjectHandle, name: string, entries: number, where: string): void {
  const map = lib.findMap(obj, name);
  if (!map) throw new BpfLoadError(`${where}: map '${name}' is missing`, 0);
  const rc = lib.setMaxEntries(map, entries);
  if (rc < 0) throw failure(`${where}: size map '${name}' to ${entries}`, rc);
}

function readCString(ptr: Pointer, size: number): string {
  const bytes = new Uint8Array(koffi.view(ptr, size));
  let end = bytes.indexOf(0);
  if (end < 0) end = size;
  return Buffer.from(bytes.subarray(0, end)).toString('utf8');
}

function libbpfContext(): string {
  const messages = recentLibbpfMessages();
  return messages.length > 0 ? `\nlibbpf said:\n${messages.slice(-10).join('\n')}` : '';
}

/** A failed libbpf call as a BpfLoadError: `what`, the errno's name and what libbpf said. */
export function failure(what: string, errno: number): BpfLoadError {
  const e = Math.abs(errno);
  return new BpfLoadError(`${what}: ${errnoName(e)}${libbpfContext()}`, e);
}
