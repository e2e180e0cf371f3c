/**
 * Pods and services known from the API, indexed the ways events look them up: container id,
 * pod uid (and static-pod config hash), pod IP and service cluster IP. Bounded by maxPods.
 *
 * The K8sMetadata handed to events is built once per (pod, container) and frozen, so every
 * event of a container shares one object and enrichment allocates nothing. Anything that can
 * change a built object (a service appearing, a ReplicaSet's owner becoming known) bumps
 * `generation`, which makes entries rebuild on their next use.
 */
import type { K8sMetadata } from '../../core/events';
import type { CgroupIdentity } from './cgroup-path';
import { workloadOf, type OwnerRef, type PodRecord } from './pod';
import { selects, type ServiceRecord } from './service';

export interface PodStoreOptions {
  maxPods: number;
  /** This node; its pods are admitted first when the store is full. '' when unknown. */
  nodeName: string;
  extractOwner: boolean;
  extractService: boolean;
  /** Owner of a ReplicaSet the pod-template-hash convention does not explain (see workloadOf). */
  replicaSetOwner?: (namespace: string, name: string) => OwnerRef | null | undefined;
}

interface PodEntry {
  record: PodRecord;
  generation: number;
  podMeta: K8sMetadata | undefined;
  containerMeta: Map<string, K8sMetadata>;
}

/** Per pod, most distinct container ids with a cached metadata object (pods have a handful). */
const MAX_CONTAINER_META = 64;

export class PodStore {
  private readonly byUid = new Map<string, PodEntry>();
  private readonly byContainer = new Map<string, PodEntry>();
  private readonly byIp = new Map<string, PodEntry>();
  private readonly byConfigHash = new Map<string, PodEntry>();
  private readonly services = new Map<string, ServiceRecord>();
  private readonly serviceByIp = new Map<string, ServiceRecord>();
  /** Per namespace, services sorted by name; rebuilt lazily after a change. */
  private servicesByNamespace: Map<string, ServiceRecord[]> | undefined;
  private localPods = 0;
  generation = 0;
  /** Pods not indexed because maxPods was reached. */
  podsOverLimit = 0;
  servicesOverLimit = 0;

  constructor(private readonly options: PodStoreOptions) {}

  get podCount(): number {
    return this.byUid.size;
  }

  get serviceCount(): number {
    return this.services.size;
  }

  /** Adds or replaces a pod; false when the store is full and the pod was not admitted. */
  upsertPod(record: PodRecord): boolean {
    const existing = this.byUid.get(record.uid);
    if (existing) {
      this.unindex(existing);
    } else if (this.byUid.size >= this.options.maxPods && !this.makeRoomFor(record)) {
      this.podsOverLimit++;
      return false;
    }
    const entry: PodEntry = { record, generation: this.generation, podMeta: undefined, containerMeta: new Map() };
    this.byUid.set(record.uid, entry);
    if (this.isLocal(record)) this.localPods++;
    for (const id of record.containers.keys()) this.byContainer.set(id, entry);
    if (!record.hostNetwork) for (const ip of record.ips) this.byIp.set(ip, entry);
    if (record.configHash) this.byConfigHash.set(record.configHash, entry);
    return true;
  }

  deletePod(uid: string): void {
    const entry = this.byUid.get(uid);
    if (entry) this.unindex(entry);
  }

  /** A full list replaces everything: pods missing from it were deleted while unwatched. */
  replacePods(records: readonly PodRecord[]): void {
    const keep = new Set(records.map((r) => r.uid));
    for (const [uid, entry] of this.byUid) if (!keep.has(uid)) this.unindex(entry);
    // This node's pods first, so a full store keeps the ones events come from.
    for (const r of records) if (this.isLocal(r)) this.upsertPod(r);
    for (const r of records) if (!this.isLocal(r)) this.upsertPod(r);
  }

  upsertService(record: ServiceRecord): boolean {
    const existing = this.services.get(record.uid);
    if (existing) this.unindexService(existing);
    else if (this.services.size >= this.options.maxPods) {
      this.servicesOverLimit++;
      return false;
    }
    this.services.set(record.uid, record);
    for (const ip of record.clusterIPs) this.serviceByIp.set(ip, record);
    this.servicesChanged();
    return true;
  }

  deleteService(uid: string): void {
    const existing = this.services.get(uid);
    if (!existing) return;
    this.unindexService(existing);
    this.servicesChanged();
  }

  replaceServices(records: readonly ServiceRecord[]): void {
    const keep = new Set(records.map((r) => r.uid));
    for (const [uid, record] of this.services) if (!keep.has(uid)) this.unindexService(record);
    for (const r of records) this.upsertService(r);
    this.servicesChanged();
  }

  /** Invalidates every built metadata object (e.g. a ReplicaSet's owner became known). */
  invalidate(): void {
    this.generation++;
  }

  /** Metadata for a process's container, or undefined when its pod is not known. */
  metaFor(identity: CgroupIdentity, fallbackNode: string): K8sMetadata | undefined {
    let entry = identity.containerId ? this.byContainer.get(identity.containerId) : undefined;
    if (!entry && identity.podUid) entry = this.byUid.get(identity.podUid) ?? this.byConfigHash.get(identity.podUid);
    if (!entry) return undefined;
    this.refresh(entry);
    const id = identity.containerId;
    if (!id) return (entry.podMeta ??= this.build(entry.record, '', fallbackNode));
    let meta = entry.containerMeta.get(id);
    if (!meta) {
      meta = this.build(entry.record, id, fallbackNode);
      if (entry.containerMeta.size < MAX_CONTAINER_META) entry.containerMeta.set(id, meta);
    }
    return meta;
  }

  /** The pod that owns an IP (host-network pods excluded: their IP is the node's). */
  podMetaForIp(ip: string, fallbackNode: string): K8sMetadata | undefined {
    const entry = this.byIp.get(ip);
    if (!entry) return undefined;
    this.refresh(entry);
    return (entry.podMeta ??= this.build(entry.record, '', fallbackNode));
  }

  /** A remote address described as a pod, else as a service cluster IP. */
  peerMetaForIp(ip: string, fallbackNode: string): K8sMetadata | undefined {
    return this.podMetaForIp(ip, fallbackNode) ?? this.serviceByIp.get(ip)?.peerMeta;
  }

  private refresh(entry: PodEntry): void {
    if (entry.generation === this.generation) return;
    entry.generation = this.generation;
    entry.podMeta = undefined;
    entry.containerMeta.clear();
  }

  private build(pod: PodRecord, containerId: string, fallbackNode: string): K8sMetadata {
    const meta: { -readonly [K in keyof K8sMetadata]: K8sMetadata[K] } = {
      namespace: pod.namespace,
      podName: pod.name,
      podUid: pod.uid,
    };
    if (containerId) {
      meta.containerId = containerId;
      const name = pod.containers.get(containerId);
      if (name) meta.containerName = name;
    }
    const node = pod.nodeName || fallbackNode;
    if (node) meta.nodeName = node;
    if (this.options.extractOwner) {
      const owner = workloadOf(pod, this.options.replicaSetOwner);
      if (owner) {
        meta.ownerKind = owner.kind;
        meta.ownerName = owner.name;
      }
    }
    if (this.options.extractService) {
      const service = this.serviceOf(pod);
      if (service) meta.serviceName = service.name;
    }
    if (pod.extractedLabels) meta.labels = pod.extractedLabels;
    if (pod.extractedAnnotations) meta.annotations = pod.extractedAnnotations;
    return Object.freeze(meta);
  }

  private serviceOf(pod: PodRecord): ServiceRecord | undefined {
    if (!this.servicesByNamespace) {
      const byNs = new Map<string, ServiceRecord[]>();
      for (const s of this.services.values()) {
        if (s.selector.length === 0) continue;
        let list = byNs.get(s.namespace);
        if (!list) byNs.set(s.namespace, (list = []));
        list.push(s);
      }
      for (const list of byNs.values()) list.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      this.servicesByNamespace = byNs;
    }
    for (const s of this.servicesByNamespace.get(pod.namespace) ?? []) if (selects(s, pod.labels)) return s;
    return undefined;
  }

  private servicesChanged(): void {
    this.servicesByNamespace = undefined;
    if (this.options.extractService) this.generation++;
  }

  private isLocal(record: PodRecord): boolean {
    return this.options.nodeName !== '' && record.nodeName === this.options.nodeName;
  }

  /** When full, a pod of this node may push out a pod of another node (cluster-wide watches). */
  private makeRoomFor(record: PodRecord): boolean {
    if (!this.isLocal(record) || this.localPods >= this.byUid.size) return false;
    for (const entry of this.byUid.values()) {
      if (!this.isLocal(entry.record)) {
        this.unindex(entry);
        this.podsOverLimit++;
        return true;
      }
    }
    return false;
  }

  private unindex(entry: PodEntry): void {
    const r = entry.record;
    if (this.byUid.get(r.uid) === entry) {
      this.byUid.delete(r.uid);
      if (this.isLocal(r)) this.localPods--;
    }
    for (const id of r.containers.keys()) if (this.byContainer.get(id) === entry) this.byContainer.delete(id);
    for (const ip of r.ips) if (this.byIp.get(ip) === entry) this.byIp.delete(ip);
    if (r.configHash && this.byConfigHash.get(r.configHash) === entry) this.byConfigHash.delete(r.configHash);
  }

  private unindexService(record: ServiceRecord): void {
    this.services.delete(record.uid);
    for (const ip of record.clusterIPs) if (this.serviceByIp.get(ip) === record) this.serviceByIp.delete(ip);
  }
}
