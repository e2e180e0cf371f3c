/**
 * The running ebpf_network receiver: loads the kernel side, reads the ring in place, decodes
 * records into typed events and hands them to the pipeline in batches.
 *
 * Reading is driven by kernel wake-ups alone while records flow: the kernel side asks for one
 * when a record crosses wakeup_threshold_bytes pending, or when a record comes poll_interval
 * after the last wake-up it forced (see ring_wakeup_flag in bpf/ring.bpf.h, and wakeup.ts for why they
 * are edge-triggered). On this class of VM every wake-up of the process costs 50-250 us of CPU
 * whatever it does, so a polling timer was most of the receiver's cost at 100,000 records/s and
 * all of it when idle. What the kernel cannot see is the tail: records that came after the last
 * forced wake-up and then nothing more. A one-shot timer, pushed back by every drain that reads
 * records, collects those within 2 x poll_interval; a 1 s housekeeping timer does the rest.
 * After each drain that catches up, the partial batch is passed on at once.
 * Work per turn is capped (max_records_per_turn); a large turn continues on setImmediate, so a
 * busy ring is drained continuously without ever starving the event loop. When the pipeline pushes back
 * (a batch is still being consumed and the next one is full) decoding pauses and the kernel
 * ring absorbs the burst. A reader that falls behind (pipeline push-back, or the cold code of
 * the first second of a burst) moves what the ring holds into the burst buffer
 * (burst-buffer.ts) undecoded, one copy per turn, and decodes from there first; what neither
 * can absorb is counted as ring_lost. Turns are capped in time as well as in records while the
 * burst buffer is on, so a slow turn cannot keep the ring unwatched for long.
 */
import type { Consumer, ComponentSettings, Host, Receiver } from '../../core/component';
import { UserFacingError } from '../../core/config/errors';
import type { NetworkEvent } from '../../core/events';
import { BpfLoadError, BpfNetObject, emptyKernelStats, type KernelStats } from './bpf-object';
import { BootClock } from './clock';
import type { EbpfNetworkReceiverConfig } from './config.generated';
import { EventDecoder } from './decoder';
import { FlowTable } from './flows';
import { LIVE_RECORD_SIZE, type LiveTcpScan } from './live-scan';
import type { KernelConfig } from './kernel-config';
import { libbpf, type BpfLinkHandle } from './native/libbpf';
import { explainUnmet, findCgroup2Mount, MOCK_HINT, requirements } from './preflight';
import { BurstBuffer } from './burst-buffer';
import { RingReader } from './ring-reader';
import { RingWakeup } from './wakeup';
import { TlsUprobes, type TlsFileStatus } from './tls/tls-uprobes';
import { startMockSource, type MockSource } from './mock-source';

export type EbpfNetworkConfig = Required<EbpfNetworkReceiverConfig>;

/** Hooks for benchmarks and tests; not part of the YAML config. */
export interface ReceiverInternals {
  objectPath?: string;
  /** Called with the kernel stamp of every decoded record. */
  latencyProbe?: (bootNs: number) => void;
}

/**
 * A loaded receiver's ring as another BPF object can share it (bpf_map__reuse_fd): the map fds
 * of the ring and of the per-CPU counters, and the wake-up settings the kernel side runs with.
 */
export interface KernelRing {
  ringFd: number;
  statsFd: number;
  wakeupThresholdBytes: number;
  wakeupIntervalUs: number;
}

const STATS_CACHE_MS = 1000;
const HOUSEKEEPING_MS = 1000;
const LOSS_CHECK_MS = 5000;
const SHUTDOWN_DRAIN_ROUNDS = 64;
/** The longest a turn decodes while the burst buffer is on, so the ring is looked at again soon. */
const TURN_BUDGET_MS = 20;
/** Records decoded between looks at the clock during a turn. */
const TURN_CLOCK_EVERY = 256;

/** Receivers running in this process, so `doctor` can show their kernel counters. */
export const runningReceivers = new Set<EbpfNetworkReceiver>();

export function isMockMode(config: EbpfNetworkConfig): boolean {
  return config.mock_mode || process.env.TAPIO_MOCK_MODE === 'true';
}

/** The automatic wake-up threshold's upper bound (used when wakeup_threshold_bytes is 0). */
export const AUTO_WAKEUP_THRESHOLD_MAX = 1024 * 1024;

/**
 * wakeup_threshold_bytes as the kernel gets it. 0 means automatic: 1 MiB, so a busy ring wakes the
 * reader a handful of times a second in batches of thousands of records while a trickle waits for
 * poll_interval; a quarter of the ring keeps a small ring woken well before it fills.
 */
export function resolveWakeupThreshold(config: Pick<EbpfNetworkConfig, 'wakeup_threshold_bytes' | 'ring_buffer_size'>): number {
  if (config.wakeup_threshold_bytes > 0) return config.wakeup_threshold_bytes;
  return Math.min(AUTO_WAKEUP_THRESHOLD_MAX, Math.floor(config.ring_buffer_size / 4));
}

/** EPERM, or EACCES without a verifier log: missing privileges (EACCES with a log is a rejected program). */
function refusedForPrivileges(error: BpfLoadError): boolean {
  return error.errno === 1 || (error.errno === 13 && error.verifierLog === '');
}

/**
 * Loads the programs; when the ones with HTTP/1 summaries are rejected (they need bpf_loop and
 * trusted arguments of global functions, kernel 6.8+) loads the plain ones instead and says so,
 * so a configuration that asks for summaries (the shipped one) still runs on older kernels.
 * A refusal for lack of privileges is not retried.
 */
export function loadWithoutSummariesIfRejected<T>(
  kernel: KernelConfig,
  load: (kernel: KernelConfig) => T,
  warn: (message: string) => void,
): { object: T; kernel: KernelConfig } {
  try {
    return { object: load(kernel), kernel };
  } catch (error) {
    if (!(error instanceof BpfLoadError) || kernel.h1FullPerCpu === 0 || refusedForPrivileges(error)) throw error;
    const plain = { ...kernel, h1FullPerCpu: 0 };
    const object = load(plain);
    warn(
      `http1_summary_above is ignored: this kernel rejected the programs that summarise HTTP/1 exchanges in the kernel ` +
        `(they need kernel 6.8+), so every exchange is copied in full (${error.message.split('\n')[0]})`,
    );
    return { object, kernel: plain };
  }
}

/**
 * The kernel's configuration block. `measured`: something downstream measures transactions (the
 * collector has a metrics exporter), so each summarised HTTP/1 exchange is sent with its request
 * and response time; otherwise the l7 processor only counts them, and the kernel sends counts.
 */
export function kernelConfigFrom(config: EbpfNetworkConfig, possibleCpus: number, measured = false): KernelConfig {
  return {
    excludeTgid: config.exclude_self ? process.pid : 0,
    excludeProcesses: config.exclude_processes,
    samplingPercentage: config.kernel_sampling_percentage,
    maxEventsPerSecondPerCpu:
      config.kernel_max_events_per_second > 0 ? Math.max(1, Math.ceil(config.kernel_max_events_per_second / possibleCpus)) : 0,
    wakeupThresholdBytes: resolveWakeupThreshold(config),
    wakeupIntervalUs: config.poll_interval * 1000,
    captureBytes: config.capture_bytes,
    h1FullPerCpu: config.http1_summary_above > 0 ? Math.max(1, Math.ceil(config.http1_summary_above / possibleCpus)) : 0,
    h1CountsOnly: !measured,
    enableIpv4: config.enable_ipv4,
    enableIpv6: config.enable_ipv6,
    enableTcp: config.enable_tcp,
    enableUdp: config.enable_udp,
    enableIcmp: config.enable_icmp,
    enablePayload: config.enable_l7_capture,
    enableTlsPlain: config.enable_l7_capture && config.tls_uprobes,
    enableLiveTcp: config.enable_tcp && config.tcp_update_interval > 0,
    ports: config.ports,
    excludePorts: config.exclude_ports,
  };
}

export class EbpfNetworkReceiver implements Receiver {
  private state: 'new' | 'starting' | 'running' | 'stopped' = 'new';
  private mock: MockSource | undefined;
  private object: BpfNetObject | undefined;
  /** The configuration block the kernel side was loaded with. */
  private kernel: KernelConfig | undefined;
  private ring: RingReader | undefined;
  /** Records moved out of the ring undecoded while behind; undefined when burst_buffer_size is 0. */
  private burst: BurstBuffer | undefined;
  /** Pending ring bytes above which a turn first moves the ring's records into the burst buffer. */
  private spillAboveBytes = 0;
  private turnDeadline = 0;
  private turnRecords = 0;
  private decoder: EventDecoder | undefined;
  private flows: FlowTable | undefined;
  private clock: BootClock | undefined;
  private wakeup: RingWakeup | undefined;
  private wakeupsAtClose = 0;
  /** OpenSSL uprobes (tls_uprobes); undefined when off or in mock mode. */
  private tls: TlsUprobes<BpfLinkHandle> | undefined;
  /** The live-connection pass being read, and its next turn. */
  private liveScan: LiveTcpScan | undefined;
  private liveScanTurn: NodeJS.Immediate | undefined;
  private timers: NodeJS.Timeout[] = [];
  /** Collects the tail (see the file comment); re-armed by every drain that reads records. */
  private tailTimer: NodeJS.Timeout | undefined;
  /** Runs housekeeping while records come; undefined while it rests (see the file comment). */
  private housekeepingTimer: NodeJS.Timeout | undefined;
  /** Whether a drain read records since the last housekeeping run. */
  private readSinceHousekeeping = false;
  private immediate: NodeJS.Immediate | undefined;
  private host: Host | undefined;

  /**
   * The batch being filled, allocated at full size: push() on a fresh array grew it ~15 times
   * per batch and left the hot path for a builtin call on every event (6 % of the receiver's
   * time at 100,000 records/s). A partial batch is trimmed when it goes.
   */
  private batch: NetworkEvent[];
  private batchLength = 0;
  private batchStartedMs = 0;
  private inflight: Promise<void> | undefined;
  private statsCache: { at: number; stats: KernelStats } | undefined;
  private lastLost = 0;
  private lastLossCheck = 0;
  /** Pending bytes after a drain above which the reader keeps draining (half the wake-up threshold). */
  private continueBytes = 0;

  /** config.buffer_size, read once per event: a field of our own is cheaper than the config's. */
  private readonly bufferSize: number;
  private readonly emitEvent = (event: NetworkEvent): void => {
    const n = this.batchLength;
    if (n === 0) this.batchStartedMs = performance.now();
    this.batch[n] = event;
    this.batchLength = n + 1;
    if (n + 1 >= this.bufferSize) this.flush();
  };
  /**
   * Kernel-sampled events say so, so counts can be scaled back: the kernel decides per socket,
   * so every event of a kept socket was kept with the same probability.
   */
  private readonly kernelSampleRatio: number;
  private readonly emitSampledEvent = (event: NetworkEvent): void => {
    event.sampleRatio = (event.sampleRatio ?? 1) * this.kernelSampleRatio;
    this.emitEvent(event);
  };
  /** What kernel records become events through: one call per event less when nothing is sampled. */
  private readonly emitKernelEvent: (event: NetworkEvent) => void;
  /** The ring stops handing records over while the pipeline is busy and the batch is full. */
  private readonly blocked = (): boolean => this.inflight !== undefined && this.batchLength >= this.bufferSize;
  /** A turn ends when the pipeline pushes back, or after TURN_BUDGET_MS while the burst buffer is on. */
  private readonly turnOver = (): boolean => {
    if (this.blocked()) return true;
    if (this.burst === undefined || ++this.turnRecords % TURN_CLOCK_EVERY !== 0) return false;
    return performance.now() >= this.turnDeadline;
  };
  private readonly drainTurn = (): void => {
    this.immediate = undefined;
    this.drain();
  };
  private readonly tailDrain = (): void => this.drain();

  constructor(
    private readonly settings: ComponentSettings,
    private readonly config: EbpfNetworkConfig,
    private readonly next: Consumer,
    private readonly internals: ReceiverInternals = {},
  ) {
    this.kernelSampleRatio = Math.max(0, Math.min(100, config.kernel_sampling_percentage)) / 100;
    this.emitKernelEvent = this.kernelSampleRatio < 1 ? this.emitSampledEvent : this.emitEvent;
    this.bufferSize = config.buffer_size;
    this.batch = new Array<NetworkEvent>(this.bufferSize);
  }

  async start(host: Host): Promise<void> {
    if (this.state !== 'new') return;
    this.state = 'starting';
    this.host = host;
    try {
      if (isMockMode(this.config)) this.startMock();
      else this.startKernel();
      this.state = 'running';
      if (this.object) runningReceivers.add(this);
    } catch (error) {
      this.releaseKernel();
      this.state = 'stopped';
      throw error;
    }
  }

  private startMock(): void {
    this.settings.logger.info(`mock mode: emitting ${this.config.mock_events_per_second} synthetic events/s instead of loading eBPF`);
    this.mock = startMockSource({
      eventsPerSecond: this.config.mock_events_per_second,
      emit: (events) => {
        this.settings.telemetry.received(events.length);
        for (const e of events) this.emitEvent(e);
      },
      logger: this.settings.logger,
    });
    this.timers.push(setInterval(() => this.flushIfDue(), Math.min(this.config.flush_interval, 1000)).unref());
  }

  private startKernel(): void {
    const { config, settings } = this;
    if (!config.enable_core) {
      throw new UserFacingError(
        'enable_core: false is not supported: this build ships only CO-RE objects (bpf/*.bpf.o), which adapt to the running ' +
          'kernel through its BTF. Remove the option or set it to true; on a kernel without BTF, ' + MOCK_HINT + '.',
      );
    }
    const needCgroup = config.enable_udp || config.enable_icmp;
    const unmet = requirements(needCgroup, config.cgroup_path).filter((r) => !r.ok);
    if (unmet.length > 0) throw new UserFacingError(explainUnmet(unmet));

    let kernel = kernelConfigFrom(config, libbpf().numPossibleCpus(), this.host?.metricsEnabled === true);
    this.continueBytes = Math.floor(kernel.wakeupThresholdBytes / 2);
    const log = settings.logger.child('libbpf');
    try {
      const loaded = loadWithoutSummariesIfRejected(
        kernel,
        (k) =>
          BpfNetObject.load({
            objectPath: this.internals.objectPath,
            kernel: k,
            ringBufferSize: config.ring_buffer_size,
            maxTrackedSockets: config.max_tracked_sockets,
            verifierLogSize: config.verifier_log_size,
            cgroupPath: config.cgroup_path || findCgroup2Mount() || '',
            log: (level, message) => (level === 'warn' ? log.warn(message) : log.debug(message)),
          }),
        (message) => settings.logger.warn(message),
      );
      this.object = loaded.object;
      kernel = loaded.kernel;
    } catch (error) {
      if (error instanceof BpfLoadError) {
        const denied = refusedForPrivileges(error);
        const hint = denied
          ? ` The kernel refused (${error.errno === 1 ? 'EPERM' : 'EACCES'}): the process needs CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN (or root), and a kernel that allows BPF for it; alternatively, ${MOCK_HINT}.`
          : '';
        throw new UserFacingError(`${error.message}${hint}`, error);
      }
      throw error;
    }
    this.kernel = kernel;
    this.ring = new RingReader(this.object.ringFd, config.ring_buffer_size);
    if (config.burst_buffer_size > 0) this.burst = new BurstBuffer(config.burst_buffer_size);
    // Twice what a wake-up normally finds, so a reader keeping up never copies.
    const ringSize = config.ring_buffer_size;
    this.spillAboveBytes = Math.min(ringSize / 2, Math.max(2 * kernel.wakeupThresholdBytes, ringSize / 4));
    this.clock = new BootClock();
    const clock = this.clock;
    this.flows = new FlowTable(config.max_flows, config.flow_idle_timeout * 1e6, (ns) => clock.toEpochUs(ns));
    this.decoder = new EventDecoder(clock, this.flows, this.emitKernelEvent);
    this.decoder.latencyProbe = this.internals.latencyProbe;
    this.registerGauges();

    this.wakeup = new RingWakeup(this.object.ringFd, () => this.drain());
    // Past poll_interval the kernel forces a wake-up on the next record, so a timer at twice that
    // fires only after traffic stopped (a drain that read records pushes it back).
    this.tailTimer = setTimeout(this.tailDrain, 2 * config.poll_interval).unref();
    this.timers.push(this.tailTimer);
    this.startHousekeeping();
    this.timers.push(setInterval(() => this.reportFlows(), config.flow_report_interval).unref());
    if (config.tcp_update_interval > 0) {
      this.timers.push(setInterval(() => this.reportLiveConnections(), config.tcp_update_interval).unref());
    }
    settings.logger.info(`attached ${this.object.attached.length} eBPF programs: ${this.object.attached.join(', ')}`);
    if (kernel.h1FullPerCpu > 0) {
      settings.logger.info(
        `HTTP/1 exchanges beyond ${config.http1_summary_above}/s make no span: ` +
          (kernel.h1CountsOnly
            ? 'the kernel counts them (no metrics exporter in the collector measures them)'
            : 'each crosses the ring as a summary, measured by the l7 processor'),
      );
    }
    if (this.object.uprobePrograms.length > 0) this.startTls(this.object);
  }

  private startTls(object: BpfNetObject): void {
    const { config, settings } = this;
    this.tls = new TlsUprobes(object, {
      paths: config.tls_libraries,
      rescanIntervalMs: config.tls_rescan_interval,
      maxFiles: config.tls_max_files,
    }, settings.logger.child('tls'));
    this.tls.start();
    const attached = this.tls.status().filter((f) => f.attached);
    settings.logger.info(`HTTPS plaintext: OpenSSL uprobes on ${attached.length} file(s)${attached.length ? `: ${attached.map((f) => f.path).join(', ')}` : ''}`);
  }

  /** The OpenSSL copies found and whether each is attached (empty when tls_uprobes is off). */
  tlsStatus(): TlsFileStatus[] {
    return this.tls?.status() ?? [];
  }

  /** Looks for OpenSSL copies in processes started since the last pass now (tests, doctor). */
  tlsRescan(): void {
    this.tls?.rescan();
  }

  private registerGauges(): void {
    const t = this.settings.telemetry;
    const k = (pick: (s: KernelStats) => number) => () => pick(this.kernelStats());
    t.registerGauge('ring_lost', k((s) => s.ringLost));
    t.registerGauge('truncated', k((s) => s.truncated));
    t.registerGauge('sampled_out', k((s) => s.sampledOut));
    t.registerGauge('rate_limited', k((s) => s.rateLimited));
    t.registerGauge('map_full', k((s) => s.mapFull));
    t.registerGauge('read_errors', k((s) => s.readErrors));
    t.registerGauge('payload_skipped_opaque', k((s) => s.skippedOpaque));
    t.registerGauge('payload_skipped_opaque_bytes', k((s) => s.skippedOpaqueBytes));
    t.registerGauge('payload_skipped_encrypted', k((s) => s.skippedEncrypted));
    t.registerGauge('payload_skipped_encrypted_bytes', k((s) => s.skippedEncryptedBytes));
    t.registerGauge('self_peer_skipped', k((s) => s.selfPeerSkipped));
    t.registerGauge('closed_at_destroy', k((s) => s.closedAtDestroy));
    t.registerGauge('payload_skipped_decrypted', k((s) => s.skippedDecrypted));
    t.registerGauge('payload_skipped_decrypted_bytes', k((s) => s.skippedDecryptedBytes));
    t.registerGauge('tls_unbound', k((s) => s.tlsUnbound));
    t.registerGauge('http1_summarised', k((s) => s.h1Summarised));
    t.registerGauge('http1_unstashed', k((s) => s.h1Unstashed));
    t.registerGauge('udp_peer_unknown', k((s) => s.udpPeerUnknown));
    t.registerGauge('tls_files_attached', () => this.tls?.attachedFiles() ?? 0);
    t.registerGauge('tls_attach_failures', () => this.tls?.counters.attachFailures ?? 0);
    t.registerGauge('tls_files_over_limit', () => this.tls?.counters.overLimit ?? 0);
    t.registerGauge('tls_scans', () => this.tls?.counters.scans ?? 0);
    t.registerGauge('kernel_records', k((s) => s.records));
    t.registerGauge('malformed_records', () => (this.decoder?.stats.malformed ?? 0) + (this.decoder?.stats.unknownType ?? 0));
    t.registerGauge('flows', () => this.flows?.size ?? 0);
    t.registerGauge('wakeups', () => this.wakeup?.count ?? this.wakeupsAtClose);
    t.registerGauge('burst_buffer_bytes', () => this.burst?.bytes ?? 0);
    t.registerGauge('burst_buffer_records', () => this.burst?.records ?? 0);
  }

  get componentKey(): string {
    return this.settings.id.key;
  }

  /** Kernel counters summed over CPUs; cached briefly because every gauge read would re-read the map. */
  kernelStats(): KernelStats {
    const now = performance.now();
    if (this.object && (!this.statsCache || now - this.statsCache.at >= STATS_CACHE_MS)) {
      this.statsCache = { at: now, stats: this.object.readStats() };
    }
    return this.statsCache?.stats ?? emptyKernelStats();
  }

  /**
   * For benchmarks and tests that write into this receiver's ring from a BPF object of their own
   * (bench/ring-generator.ts); undefined unless the kernel side is loaded. The fds stay the
   * receiver's: valid until shutdown, not to be closed.
   */
  kernelRing(): KernelRing | undefined {
    if (!this.object || !this.kernel) return undefined;
    return {
      ringFd: this.object.ringFd,
      statsFd: this.object.statsFd,
      wakeupThresholdBytes: this.kernel.wakeupThresholdBytes,
      wakeupIntervalUs: this.kernel.wakeupIntervalUs,
    };
  }

  private startHousekeeping(): void {
    this.housekeepingTimer = setInterval(this.housekeeping, HOUSEKEEPING_MS).unref();
  }

  /** A safety net (a lost wake-up strands nothing for long) and the periodic checks; rests when quiet. */
  private readonly housekeeping = (): void => {
    this.drain();
    if (this.state !== 'running') return;
    this.flushIfDue();
    const quiet = !this.readSinceHousekeeping && this.batchLength === 0 && this.inflight === undefined && (this.burst?.bytes ?? 0) === 0;
    this.readSinceHousekeeping = false;
    // The last loss before a rest is reported now, not after the next burst.
    this.checkLoss(quiet);
    if (quiet) {
      clearInterval(this.housekeepingTimer);
      this.housekeepingTimer = undefined;
    }
  };

  private drain(): void {
    const ring = this.ring;
    const decoder = this.decoder;
    if (!ring || !decoder || this.state !== 'running' || this.immediate !== undefined) return;
    this.clock?.maybeRefresh();
    let n: number;
    try {
      if (this.burst !== undefined && ring.pending() >= this.spillAboveBytes) ring.spill(this.burst);
      n = this.readRecords(ring, decoder);
    } catch (error) {
      this.settings.telemetry.errors();
      this.host?.reportFatalError(new Error(`reading the eBPF ring buffer failed: ${(error as Error).message}`));
      return;
    }
    this.settings.telemetry.received(n);
    if (n > 0) {
      this.tailTimer?.refresh();
      this.readSinceHousekeeping = true;
      if (this.housekeepingTimer === undefined) this.startHousekeeping();
    }
    // A capped turn, or one that leaves half a threshold or more behind (the crossing may
    // already be past, and no wake-up would come for it), continues on the next loop turn, or
    // the ring could overflow. Anything less waits for the next forced wake-up: a continuation
    // after every large drain was one more loop turn that found next to nothing to read at
    // 100,000 records/s.
    const behind = n >= this.config.max_records_per_turn || ring.pending() >= this.continueBytes || (this.burst?.bytes ?? 0) > 0;
    if (n > 0 && behind && !this.blocked()) {
      this.immediate = setImmediate(this.drainTurn);
    } else {
      // Caught up: nothing is gained by holding a partial batch until the next wake-up.
      this.flush();
    }
  }

  /** One turn's records: the burst buffer's first (they are older), then the ring's. */
  private readRecords(ring: RingReader, decoder: EventDecoder, budgetMs = TURN_BUDGET_MS): number {
    const max = this.config.max_records_per_turn;
    const burst = this.burst;
    this.turnDeadline = performance.now() + budgetMs;
    this.turnRecords = 0;
    let n = 0;
    if (burst !== undefined && burst.bytes > 0) {
      n = burst.drain(decoder, max, this.turnOver);
      if (burst.bytes > 0 || this.turnOver()) return n;
    }
    return n + ring.drain(decoder, max - n, this.turnOver);
  }

  private flushIfDue(): void {
    if (this.batchLength > 0 && performance.now() - this.batchStartedMs >= this.config.flush_interval) this.flush();
  }

  private flush(): void {
    if (this.batchLength === 0 || this.inflight) return;
    const batch = this.batch;
    if (this.batchLength < batch.length) batch.length = this.batchLength;
    this.batch = new Array<NetworkEvent>(this.bufferSize);
    this.batchLength = 0;
    this.settings.telemetry.emitted(batch.length);
    let result: void | Promise<void>;
    try {
      result = this.next.consume(batch);
    } catch (error) {
      this.consumeFailed(error, batch.length);
      return;
    }
    if (result && typeof (result as Promise<void>).then === 'function') {
      const pending = (result as Promise<void>).then(
        () => undefined,
        (error: unknown) => this.consumeFailed(error, batch.length),
      ).finally(() => {
        this.inflight = undefined;
        if (this.batchLength >= this.bufferSize) this.flush();
        if (this.state === 'running') this.drain();
      });
      this.inflight = pending;
    }
  }

  private consumeFailed(error: unknown, count: number): void {
    this.settings.telemetry.errors();
    this.settings.telemetry.dropped(count);
    this.settings.logger.warn(`the next component rejected a batch of ${count} events: ${(error as Error)?.message ?? String(error)}`);
  }

  private reportFlows(): void {
    if (!this.flows || !this.clock) return;
    this.flows.report(this.clock.nowBootNs(), this.emitKernelEvent);
  }

  /**
   * Starts a pass of the kernel's live-connection iterator; its records are read and decoded
   * like ring records, a chunk per event-loop turn (continueLiveScan). A pass still running
   * when the next is due finishes first.
   */
  private reportLiveConnections(): void {
    const object = this.object;
    if (!object || this.liveScan || this.state !== 'running') return;
    try {
      this.liveScan = object.startLiveTcpScan() ?? undefined;
    } catch (error) {
      this.liveScanFailed(error);
      return;
    }
    if (!this.liveScan) return;
    this.settings.telemetry.add('live_tcp_scans');
    this.continueLiveScan();
  }

  private readonly continueLiveScan = (): void => {
    this.liveScanTurn = undefined;
    const scan = this.liveScan;
    const decoder = this.decoder;
    if (!scan || !decoder || this.state !== 'running') return;
    if (this.blocked()) {
      // The pipeline pushes back: carry on once the batch in flight is done.
      void this.inflight?.finally(() => {
        if (this.liveScan === scan) this.liveScanTurn = setImmediate(this.continueLiveScan);
      });
      return;
    }
    let records: Uint8Array | null;
    try {
      records = scan.next();
    } catch (error) {
      this.liveScan = undefined;
      this.liveScanFailed(error);
      return;
    }
    if (records === null) {
      this.liveScan = undefined;
      this.flush();
      return;
    }
    this.clock?.maybeRefresh();
    const view = new DataView(records.buffer, records.byteOffset, records.byteLength);
    let n = 0;
    for (let off = 0; off + LIVE_RECORD_SIZE <= records.byteLength; off += LIVE_RECORD_SIZE) {
      decoder.record(view, records, off, LIVE_RECORD_SIZE);
      n++;
    }
    this.settings.telemetry.received(n);
    this.liveScanTurn = setImmediate(this.continueLiveScan);
  };

  private liveScanFailed(error: unknown): void {
    this.settings.telemetry.errors();
    this.settings.logger.warn(`${(error as Error).message}; open connections get no connection.updated this time`);
  }

  private checkLoss(force = false): void {
    const now = performance.now();
    if (!force && now - this.lastLossCheck < LOSS_CHECK_MS) return;
    this.lastLossCheck = now;
    const lost = this.kernelStats().ringLost;
    if (lost > this.lastLost) {
      this.settings.logger.warn(
        `${lost - this.lastLost} kernel records lost since the last check (ring full while the reader was behind): raise ` +
          `ring_buffer_size or burst_buffer_size (${this.config.burst_buffer_size} bytes now, 0 = off), lower wakeup_threshold_bytes, ` +
          'or reduce volume with kernel_sampling_percentage / kernel_max_events_per_second',
      );
    }
    this.lastLost = lost;
  }

  async shutdown(): Promise<void> {
    if (this.state === 'stopped' || this.state === 'new') {
      this.state = 'stopped';
      return;
    }
    this.state = 'stopped';
    runningReceivers.delete(this);
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.tailTimer = undefined;
    clearInterval(this.housekeepingTimer);
    this.housekeepingTimer = undefined;
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = undefined;
    this.mock?.stop();
    this.mock = undefined;
    this.tls?.shutdown();
    if (this.object && this.ring && this.decoder) {
      // Stop the producers first, then take what they already wrote.
      this.object.detach();
      for (let round = 0; round < SHUTDOWN_DRAIN_ROUNDS && (this.ring.pending() > 0 || (this.burst?.bytes ?? 0) > 0); round++) {
        if (this.inflight && this.batchLength >= this.bufferSize) await this.inflight;
        // No time cap: nothing else is left to run, and the rounds are few.
        this.settings.telemetry.received(this.readRecords(this.ring, this.decoder, Infinity));
      }
      this.flows?.flushAll(this.emitKernelEvent);
    }
    this.releaseKernel();
    while (this.batchLength > 0 || this.inflight) {
      if (this.inflight) await this.inflight;
      this.flush();
    }
  }

  private releaseKernel(): void {
    this.tls?.shutdown();
    if (this.liveScanTurn) clearImmediate(this.liveScanTurn);
    this.liveScanTurn = undefined;
    this.liveScan?.close();
    this.liveScan = undefined;
    this.wakeupsAtClose = this.wakeup?.count ?? this.wakeupsAtClose;
    this.wakeup?.close();
    this.wakeup = undefined;
    this.ring?.close();
    this.ring = undefined;
    this.statsCache = this.object ? { at: Infinity, stats: this.safeStats() } : this.statsCache;
    this.object?.close();
    this.object = undefined;
  }

  private safeStats(): KernelStats {
    try {
      return this.object!.readStats();
    } catch {
      return this.statsCache?.stats ?? emptyKernelStats();
    }
  }
}
