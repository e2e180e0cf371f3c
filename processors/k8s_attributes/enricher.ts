/**
 * Sets `k8s` (and, with enrich_peer, `peerK8s`) on each event. Pure lookups in memory: the
 * container of the process from the resolver, its pod from the store; events whose pod is not
 * known yet get what the cgroup says (container id, pod uid). Metadata objects are shared and
 * frozen, so this allocates nothing per event.
 */
import type { K8sMetadata, NetworkEvent } from '../../core/events';
import type { CgroupIdentity } from './cgroup-path';
import type { ContainerResolver } from './container-resolver';
import type { PodStore } from './pod-store';

export interface EnricherOptions {
  /** This node's name, for events whose pod does not say; '' when unknown. */
  nodeName: string;
  enrichPeer: boolean;
}

/** What the process of an event resolves to; `resolved` false: no container identity. */
interface Answer {
  readonly resolved: boolean;
  readonly meta: K8sMetadata | undefined;
  readonly fromPod: boolean;
}

const NOT_RESOLVED: Answer = Object.freeze({ resolved: false, meta: undefined, fromPod: false });

/** Slots in RecentAnswers: both ends of a few busy connections. */
const RECENT_SLOTS = 4;

/**
 * The last few answers within one batch. Events come in runs from a handful of processes, and
 * the two ends of a connection on this host alternate, so one remembered answer is not enough;
 * a batch is short-lived, so a pod that appears meanwhile is seen from the next batch on.
 */
class RecentAnswers {
  private readonly pids = new Float64Array(RECENT_SLOTS);
  private readonly cgroups = new Float64Array(RECENT_SLOTS);
  private readonly answers: (Answer | undefined)[] = new Array<Answer | undefined>(RECENT_SLOTS).fill(undefined);
  private used = 0;
  private nextSlot = 0;

  clear(): void {
    this.used = 0;
    this.nextSlot = 0;
    this.answers.fill(undefined);
  }

  find(pid: number, cgroupId: number): Answer | undefined {
    for (let i = 0; i < this.used; i++) {
      if (this.pids[i] === pid && this.cgroups[i] === cgroupId) return this.answers[i];
    }
    return undefined;
  }

  remember(pid: number, cgroupId: number, answer: Answer): void {
    const slot = this.nextSlot;
    this.pids[slot] = pid;
    this.cgroups[slot] = cgroupId;
    this.answers[slot] = answer;
    this.nextSlot = (slot + 1) % RECENT_SLOTS;
    if (this.used < RECENT_SLOTS) this.used++;
  }
}

export class Enricher {
  /** Events given a k8s block. */
  enriched = 0;
  /** Of those, with pod metadata from the API (the rest have cgroup identity only). */
  withPod = 0;
  peerEnriched = 0;
  private readonly bare = new WeakMap<CgroupIdentity, K8sMetadata>();
  private readonly recent = new RecentAnswers();

  constructor(
    private readonly resolver: ContainerResolver,
    private readonly store: PodStore,
    private readonly options: EnricherOptions,
  ) {}

  process(batch: NetworkEvent[]): NetworkEvent[] {
    const node = this.options.nodeName;
    const recent = this.recent;
    recent.clear();
    for (let i = 0; i < batch.length; i++) {
      const event = batch[i];
      const { pid, cgroupId } = event.process;
      let answer = pid + cgroupId > 0 ? recent.find(pid, cgroupId) : undefined;
      if (answer === undefined) {
        answer = this.lookUp(pid, cgroupId, node);
        if (pid + cgroupId > 0) recent.remember(pid, cgroupId, answer);
      }
      let meta = answer.meta;
      let fromPod = answer.fromPod;
      if (!answer.resolved && event.localAddress) {
        // Softirq-context events carry no process; a pod IP still names the pod.
        meta = this.store.podMetaForIp(unmapped(event.localAddress), node);
        fromPod = meta !== undefined;
      }
      if (meta) {
        // Whatever an upstream component already set wins over what is looked up here.
        event.k8s = event.k8s ? { ...meta, ...event.k8s } : meta;
        this.enriched++;
        if (fromPod) this.withPod++;
      }
      if (this.options.enrichPeer && event.remoteAddress) {
        const peer = this.store.peerMetaForIp(unmapped(event.remoteAddress), node);
        if (peer) {
          event.peerK8s = peer;
          this.peerEnriched++;
        }
      }
    }
    return batch;
  }

  private lookUp(pid: number, cgroupId: number, node: string): Answer {
    const identity = this.resolver.resolve(pid, cgroupId);
    if (!identity) return NOT_RESOLVED;
    const meta = this.store.metaFor(identity, node);
    return { resolved: true, meta: meta ?? this.bareMeta(identity, node), fromPod: meta !== undefined };
  }

  private bareMeta(identity: CgroupIdentity, node: string): K8sMetadata {
    let meta = this.bare.get(identity);
    if (!meta) {
      const m: { -readonly [K in keyof K8sMetadata]: K8sMetadata[K] } = {};
      if (identity.containerId) m.containerId = identity.containerId;
      if (identity.podUid) {
        m.podUid = identity.podUid;
        if (node) m.nodeName = node;
      }
      meta = Object.freeze(m);
      this.bare.set(identity, meta);
    }
    return meta;
  }
}

/** `::ffff:10.1.2.3` -> `10.1.2.3`: pod and service IPs are indexed in their plain form. */
export function unmapped(address: string): string {
  return address.length > 7 && address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
