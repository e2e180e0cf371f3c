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

export class Enricher {
  /** Events given a k8s block. */
  enriched = 0;
  /** Of those, with pod metadata from the API (the rest have cgroup identity only). */
  withPod = 0;
  peerEnriched = 0;
  private readonly bare = new WeakMap<CgroupIdentity, K8sMetadata>();

  constructor(
    private readonly resolver: ContainerResolver,
    private readonly store: PodStore,
    private readonly options: EnricherOptions,
  ) {}

  process(batch: NetworkEvent[]): NetworkEvent[] {
    const node = this.options.nodeName;
    // Events come in runs from one process: remember the last answer within the batch.
    let lastPid = -1;
    let lastCgroup = -1;
    let lastMeta: K8sMetadata | undefined;
    let lastFromPod = false;
    for (let i = 0; i < batch.length; i++) {
      const event = batch[i];
      const { pid, cgroupId } = event.process;
      let meta: K8sMetadata | undefined;
      let fromPod = false;
      if (pid === lastPid && cgroupId === lastCgroup && pid + cgroupId > 0) {
        meta = lastMeta;
        fromPod = lastFromPod;
      } else {
        const identity = this.resolver.resolve(pid, cgroupId);
        if (identity) {
          meta = this.store.metaFor(identity, node);
          fromPod = meta !== undefined;
          meta ??= this.bareMeta(identity, node);
          lastPid = pid;
          lastCgroup = cgroupId;
          lastMeta = meta;
          lastFromPod = fromPod;
        } else {
          lastPid = -1;
          if (event.localAddress) {
            // Softirq-context events carry no process; a pod IP still names the pod.
            meta = this.store.podMetaForIp(unmapped(event.localAddress), node);
            fromPod = meta !== undefined;
          }
        }
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
