import type { NetworkEvent } from '../../../core/events';

export function connectionEvent(pid: number, cgroupId: number, localAddress = '192.168.1.5', remoteAddress = '192.168.1.9'): NetworkEvent {
  return {
    kind: 'connection.opened',
    transport: 'tcp',
    timeUs: Date.now() * 1000,
    process: { pid, tid: pid, comm: 'app', cgroupId },
    networkType: remoteAddress.includes(':') && !remoteAddress.startsWith('::ffff:') ? 'ipv6' : 'ipv4',
    localAddress,
    localPort: 40000,
    remoteAddress,
    remotePort: 8080,
    direction: 'outbound',
    socketCookie: 1,
    netnsId: 0,
  };
}

export interface PodSpec {
  name: string;
  namespace?: string;
  uid: string;
  node: string;
  ip?: string;
  hostNetwork?: boolean;
  containers?: Array<{ name: string; id: string; runtime?: string }>;
  owner?: { kind: string; name: string };
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** A Pod as the API serves it (the fields the processor reads, plus typical noise). */
export function podObject(spec: PodSpec) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: spec.name,
      namespace: spec.namespace ?? 'shop',
      uid: spec.uid,
      creationTimestamp: '2024-05-01T10:00:00Z',
      labels: spec.labels ?? {},
      annotations: spec.annotations ?? {},
      ...(spec.owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: spec.owner.kind, name: spec.owner.name, uid: 'owner-uid', controller: true, blockOwnerDeletion: true }] } : {}),
      managedFields: [{ manager: 'kubelet', operation: 'Update', apiVersion: 'v1' }],
    },
    spec: {
      nodeName: spec.node,
      hostNetwork: spec.hostNetwork ?? false,
      containers: (spec.containers ?? []).map((c) => ({ name: c.name, image: `registry.example/${c.name}:1.0` })),
    },
    status: {
      phase: 'Running',
      ...(spec.ip ? { podIP: spec.ip, podIPs: [{ ip: spec.ip }] } : {}),
      containerStatuses: (spec.containers ?? []).map((c) => ({
        name: c.name,
        containerID: `${c.runtime ?? 'containerd'}://${c.id}`,
        image: `registry.example/${c.name}:1.0`,
        imageID: '',
        ready: true,
        restartCount: 0,
        started: true,
        state: { running: { startedAt: '2024-05-01T10:00:05Z' } },
      })),
    },
  };
}

export function serviceObject(name: string, namespace: string, uid: string, selector: Record<string, string>, clusterIP: string) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, uid },
    spec: { selector, clusterIP, clusterIPs: [clusterIP], type: 'ClusterIP', ports: [{ port: 80, protocol: 'TCP' }] },
  };
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
