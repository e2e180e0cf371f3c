/** The slim copy of a Service: its selector (to find a pod's service) and cluster IPs (for peers). */
import type { K8sMetadata } from '../../core/events';

export interface ServiceObject {
  metadata?: { name?: string; namespace?: string; uid?: string };
  spec?: { selector?: Record<string, string>; clusterIP?: string; clusterIPs?: readonly string[] };
}

export interface ServiceRecord {
  readonly uid: string;
  readonly name: string;
  readonly namespace: string;
  /** Empty for services without a selector (they select no pods). */
  readonly selector: ReadonlyArray<readonly [string, string]>;
  /** Cluster IPs; headless services ('None') have none. */
  readonly clusterIPs: readonly string[];
  /** What a peer that is this service's cluster IP is described as. */
  readonly peerMeta: K8sMetadata;
}

export function toServiceRecord(service: ServiceObject): ServiceRecord | undefined {
  const meta = service.metadata;
  if (!meta?.uid || !meta.name) return undefined;
  const namespace = meta.namespace ?? 'default';
  const clusterIPs: string[] = [];
  for (const ip of [...(service.spec?.clusterIPs ?? []), service.spec?.clusterIP]) {
    if (ip && ip !== 'None' && !clusterIPs.includes(ip)) clusterIPs.push(ip);
  }
  return {
    uid: meta.uid,
    name: meta.name,
    namespace,
    selector: Object.entries(service.spec?.selector ?? {}),
    clusterIPs,
    peerMeta: Object.freeze({ namespace, serviceName: meta.name }),
  };
}

/** Kubernetes semantics: a service selects the pods whose labels include every selector pair. */
export function selects(service: ServiceRecord, labels: Readonly<Record<string, string>>): boolean {
  if (service.selector.length === 0) return false;
  for (const [key, value] of service.selector) {
    if (labels[key] !== value) return false;
  }
  return true;
}
