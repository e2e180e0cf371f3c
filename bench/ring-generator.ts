/**
 * The ring benchmark's load generator, bpf/bench.bpf.o (built from bpf/bench.bpf.c by
 * `npm run build:bpf`): a program on tp_btf/sys_enter that turns each call of one syscall by one
 * thread into a burst of TCP close records. Before load its `events` and `stats` maps are made
 * the running receiver's own (bpf_map__reuse_fd), so the records go into the production ring,
 * the receiver reads and decodes them exactly as it does the programs' records, and its
 * counters (records, ring_lost) count them. Nothing of it is in the production object.
 */
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../core/package-root';
import { BpfLoadError, failure, writeRodata } from '../receivers/ebpf_network/bpf-object';
import { lastErrno, withSignalsBlocked } from '../receivers/ebpf_network/native/libc';
import { clearLibbpfMessages, libbpf, type BpfLinkHandle, type BpfObjectHandle } from '../receivers/ebpf_network/native/libbpf';
import type { KernelRing } from '../receivers/ebpf_network/receiver';

export const GENERATOR_OBJECT_PATH = join(PACKAGE_ROOT, 'bpf', 'bench.bpf.o');

/** NE_BENCH_MAX_BURST in bpf/bench.bpf.c: the verifier's bound on one burst. */
export const MAX_BURST = 256;

/** getuid(2)'s number here: a syscall a Node.js child makes only when asked (process.getuid()). */
export const GETUID_SYSCALL = ({ x64: 102, arm64: 174 } as Record<string, number>)[process.arch] ?? 102;

export interface RingGeneratorOptions {
  /** The receiver's ring, counters and wake-up settings (EbpfNetworkReceiver.kernelRing()). */
  ring: KernelRing;
  /** The thread whose calls of `syscall` emit bursts (for a single-threaded child, its pid). */
  tid: number;
  /** Syscall number; pick one the rest of that thread's work never makes. */
  syscall: number;
  /** Records per call, 1 to MAX_BURST. */
  burst: number;
  objectPath?: string;
}

export class RingGenerator {
  private constructor(private obj: BpfObjectHandle | null, private link: BpfLinkHandle | null) {}

  /** open -> configure -> reuse the receiver's maps -> load -> attach; on failure nothing stays. */
  static load(options: RingGeneratorOptions): RingGenerator {
    const { ring, tid, syscall, burst } = options;
    const path = options.objectPath ?? GENERATOR_OBJECT_PATH;
    const where = `loading ${path}`;
    if (!Number.isInteger(burst) || burst < 1 || burst > MAX_BURST) {
      throw new Error(`${where}: a burst is 1 to ${MAX_BURST} records, not ${burst}`);
    }
    const lib = libbpf();
    clearLibbpfMessages();
    let obj = lib.openFile(path, { kernelLogBuf: null, kernelLogSize: 0, kernelLogLevel: 0 });
    if (!obj) throw failure(`${where}: open`, lastErrno());
    try {
      writeRodata(obj, where, {
        trigger_tid: u32(tid),
        trigger_syscall: u32(syscall),
        records_per_burst: u32(burst),
        wakeup_threshold: u32(ring.wakeupThresholdBytes),
        wakeup_interval_us: u32(ring.wakeupIntervalUs),
      });
      for (const [name, fd] of [['events', ring.ringFd], ['stats', ring.statsFd]] as const) {
        const map = lib.findMap(obj, name);
        if (!map) throw new BpfLoadError(`${where}: map '${name}' is missing`, 0);
        const rc = lib.reuseFd(map, fd);
        if (rc < 0) throw failure(`${where}: share the receiver's map '${name}' (fd ${fd})`, rc);
      }
      const loading = obj;
      const rc = withSignalsBlocked(() => lib.load(loading));
      if (rc < 0) throw failure(`${where}: load`, rc);
      const prog = lib.nextProgram(obj, null);
      if (!prog) throw new BpfLoadError(`${where}: the object has no program`, 0);
      const link = lib.attach(prog);
      if (!link) throw failure(`${where}: attach ${lib.programSection(prog)} (${lib.programName(prog)})`, lastErrno());
      const generator = new RingGenerator(obj, link);
      obj = null;
      return generator;
    } finally {
      if (obj) lib.closeObject(obj);
    }
  }

  /** Detaches the program and releases the object (the shared maps stay the receiver's). Idempotent. */
  close(): void {
    const lib = libbpf();
    if (this.link) lib.destroyLink(this.link);
    this.link = null;
    if (this.obj) lib.closeObject(this.obj);
    this.obj = null;
  }
}

function u32(value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, Math.max(0, Math.min(0xffffffff, Math.round(value))), true);
  return bytes;
}
