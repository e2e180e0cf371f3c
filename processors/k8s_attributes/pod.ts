/**
 * The slim copy of a Pod that is kept in memory: only what enrichment and indexing need, so a
 * node's pods cost a few hundred bytes each instead of the API object's tens of kilobytes.
 */

/** The fields of a Pod that are read. The client's V1Pod and a watch event's raw JSON both fit. */
export interface PodObject {
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: ReadonlyArray<{ kind?: string; name?: string; controller?: boolean }>;
  };
  spec?: { nodeName?: string; hostNetwork?: boolean };
  status?: {
    podIP?: string;
    podIPs?: ReadonlyArray<{ ip?: string }>;
    containerStatuses?: ReadonlyArray<ContainerStatusObject>;
    initContainerStatuses?: ReadonlyArray<ContainerStatusObject>;
    ephemeralContainerStatuses?: ReadonlyArray<ContainerStatusObject>;
  };
}

interface ContainerStatusObject {
  name?: string;
  containerID?: string;
}

export interface OwnerRef {
  readonly kind: string;
  readonly name: string;
}

export interface PodRecord {
  readonly uid: string;
  readonly name: string;
  readonly namespace: string;
  readonly nodeName: string;
  readonly hostNetwork: boolean;
  readonly ips: readonly string[];
  /** Every label when services are matched, else only the extracted ones. */
  readonly labels: Readonly<Record<string, string>>;
  /** What extract.labels / extract.annotations selected; undefined when nothing. */
  readonly extractedLabels: Readonly<Record<string, string>> | undefined;
  readonly extractedAnnotations: Readonly<Record<string, string>> | undefined;
  /** The controller owner reference as the pod carries it (e.g. a ReplicaSet). */
  readonly controller: OwnerRef | undefined;
  /** Container id (64 hex, no runtime prefix) -> container name. */
  readonly containers: ReadonlyMap<string, string>;
  /**
   * Static pods: the kubelet names their cgroup after the config hash, which the mirror pod
   * carries as an annotation; its API uid is a different value.
   */
  readonly configHash: string | undefined;
  /** The pod-template-hash label: names the Deployment of a ReplicaSet without a lookup. */
  readonly templateHash: string | undefined;
}

/** Keys to copy: exact names, or prefixes written with a trailing '*'. */
export type KeyFilter = (key: string) => boolean;

export function keyFilter(patterns: readonly string[]): KeyFilter | undefined {
  if (patterns.length === 0) return undefined;
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const p of patterns) {
    if (p.endsWith('*')) prefixes.push(p.slice(0, -1));
    else exact.add(p);
  }
  return (key) => exact.has(key) || prefixes.some((prefix) => key.startsWith(prefix));
}

function pick(source: Record<string, string> | undefined, filter: KeyFilter | undefined): Readonly<Record<string, string>> | undefined {
  if (!source || !filter) return undefined;
  let out: Record<string, string> | undefined;
  for (const key of Object.keys(source)) {
    if (filter(key)) (out ??= {})[key] = String(source[key]);
  }
  return out ? Object.freeze(out) : undefined;
}

export interface PodRecordOptions {
  labels: KeyFilter | undefined;
  annotations: KeyFilter | undefined;
  /** Keep every label (needed to match service selectors). */
  keepAllLabels: boolean;
}

const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';
const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';
const HASH_ANNOTATION = 'kubernetes.io/config.hash';
const EMPTY: Readonly<Record<string, string>> = Object.freeze({});

/** `containerd://<id>` -> `<id>`; also cri-o://, docker://. */
export function stripRuntimePrefix(containerID: string): string {
  const at = containerID.indexOf('://');
  return at < 0 ? containerID : containerID.slice(at + 3);
}

/** The slim record of an API Pod, or undefined when it lacks identity (uid, name). */
export function toPodRecord(pod: PodObject, options: PodRecordOptions): PodRecord | undefined {
  const meta = pod.metadata;
  if (!meta?.uid || !meta.name) return undefined;
  const status = pod.status;
  const ips: string[] = [];
  for (const entry of status?.podIPs ?? []) if (entry.ip && !ips.includes(entry.ip)) ips.push(entry.ip);
  if (status?.podIP && !ips.includes(status.podIP)) ips.push(status.podIP);
  const containers = new Map<string, string>();
  for (const list of [status?.containerStatuses, status?.initContainerStatuses, status?.ephemeralContainerStatuses]) {
    for (const c of list ?? []) {
      if (c.containerID && c.name) containers.set(stripRuntimePrefix(c.containerID), c.name);
    }
  }
  const labels = meta.labels ?? {};
  const extractedLabels = pick(labels, options.labels);
  const refs = meta.ownerReferences ?? [];
  const ref = refs.find((r) => r.controller) ?? refs[0];
  return {
    uid: meta.uid,
    name: meta.name,
    namespace: meta.namespace ?? 'default',
    nodeName: pod.spec?.nodeName ?? '',
    hostNetwork: pod.spec?.hostNetwork === true,
    ips,
    labels: options.keepAllLabels ? Object.freeze({ ...labels }) : (extractedLabels ?? EMPTY),
    extractedLabels,
    extractedAnnotations: pick(meta.annotations, options.annotations),
    controller: ref?.kind && ref.name ? { kind: ref.kind, name: ref.name } : undefined,
    containers,
    configHash: meta.annotations?.[MIRROR_ANNOTATION] || meta.annotations?.[HASH_ANNOTATION] || undefined,
    templateHash: labels[POD_TEMPLATE_HASH_LABEL] || undefined,
  };
}

/** CronJob-created Jobs are named `<cronjob>-<scheduled time in minutes>`. */
const CRONJOB_JOB = /^(.+)-\d{8,}$/;

/**
 * The workload that controls a pod. A ReplicaSet made by a Deployment is named
 * `<deployment>-<pod-template-hash>` and its pods carry that hash as a label, so the
 * Deployment needs no lookup; other ReplicaSets are resolved by `replicaSetOwner` (undefined
 * while unknown: the ReplicaSet itself is reported meanwhile).
 */
export function workloadOf(
  pod: Pick<PodRecord, 'controller' | 'namespace' | 'templateHash'>,
  replicaSetOwner?: (namespace: string, name: string) => OwnerRef | null | undefined,
): OwnerRef | undefined {
  const ref = pod.controller;
  if (!ref) return undefined;
  switch (ref.kind) {
    case 'ReplicaSet': {
      const hash = pod.templateHash;
      if (hash && ref.name.length > hash.length + 1 && ref.name.endsWith(`-${hash}`)) {
        return { kind: 'Deployment', name: ref.name.slice(0, -(hash.length + 1)) };
      }
      return replicaSetOwner?.(pod.namespace, ref.name) ?? ref;
    }
    case 'Job': {
      const match = CRONJOB_JOB.exec(ref.name);
      return match ? { kind: 'CronJob', name: match[1] } : ref;
    }
    default:
      return ref;
  }
}
