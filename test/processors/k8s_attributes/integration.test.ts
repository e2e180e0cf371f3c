/**
 * The processor end to end against a real HTTP server speaking the Kubernetes list/watch API
 * (through @kubernetes/client-node and a kubeconfig pointing at it) and a host /proc + cgroup
 * tree in a temp dir.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Processor } from '../../../core/component';
import { deepMerge } from '../../../core/config/merge';
import { normalizeUnits, validateAgainstSchema } from '../../../core/config/schema-validator';
import type { NetworkEvent } from '../../../core/events';
import { OBSERVER_USER_AGENT } from '../../../core/identity';
import { createLogger } from '../../../core/logger';
import { CollectingConsumer, createTestHost, createTestSettings } from '../../../core/testing';
import { factory, type K8sAttributesConfig } from '../../../processors/k8s_attributes';
import { FakeApiServer, kubeconfigFor } from './fake-apiserver';
import { connectionEvent, eventually, podObject, serviceObject } from './helpers';
import { HostTree, containerId, systemdContainerdPath } from './host-tree';

const NODE = 'node-a';
const CHECKOUT_UID = '8d5a2f4e-8b6c-4c1e-9b1a-2f3e4d5c6b7a';
const CHECKOUT_CID = containerId('checkout-main');
const SIDECAR_CID = containerId('checkout-proxy');

function configFor(overrides: Record<string, unknown>): K8sAttributesConfig {
  const merged = deepMerge(factory.createDefaultConfig(), overrides);
  assert.deepEqual(validateAgainstSchema(factory.configSchema, merged), []);
  const config = normalizeUnits(factory.configSchema, merged) as K8sAttributesConfig;
  assert.deepEqual(factory.validate!(config), []);
  return config;
}

interface Harness {
  processor: Processor;
  next: CollectingConsumer;
  settings: ReturnType<typeof createTestSettings>;
  logs: string[];
  /** Runs one event through the processor and returns it as it came out. */
  run(event: NetworkEvent): Promise<NetworkEvent>;
}

async function harness(config: K8sAttributesConfig): Promise<Harness> {
  const logs: string[] = [];
  const settings = createTestSettings('processor', 'k8s_attributes', createLogger('debug', (line) => logs.push(line)));
  const next = new CollectingConsumer();
  const processor = await factory.createProcessor(settings, config, next);
  return {
    processor,
    next,
    settings,
    logs,
    async run(event) {
      const before = next.events.length;
      await processor.consume([event]);
      assert.equal(next.events.length, before + 1, 'the event passes through');
      return next.events[before];
    },
  };
}

function checkoutPod(extra: Partial<Parameters<typeof podObject>[0]> = {}) {
  return podObject({
    name: 'checkout-7d9f8b6c5d-x2x9q',
    uid: CHECKOUT_UID,
    node: NODE,
    ip: '10.42.0.17',
    containers: [{ name: 'checkout', id: CHECKOUT_CID }],
    owner: { kind: 'ReplicaSet', name: 'checkout-7d9f8b6c5d' },
    labels: { app: 'checkout', 'pod-template-hash': '7d9f8b6c5d', tier: 'backend' },
    annotations: { 'team.example.com/owner': 'payments', 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
    ...extra,
  });
}

describe('k8s_attributes against a Kubernetes API server on 127.0.0.1', function () {
  // Loading @kubernetes/client-node alone takes seconds on a busy 2-core machine.
  this.timeout(30_000);
  let api: FakeApiServer;
  let host: HostTree;
  let kubeconfig: string;
  let h: Harness | undefined;

  beforeEach(async () => {
    api = new FakeApiServer();
    await api.start();
    host = new HostTree();
    kubeconfig = join(host.root, 'kubeconfig');
    writeFileSync(kubeconfig, kubeconfigFor(api.url));
  });

  afterEach(async () => {
    await h?.processor.shutdown();
    h = undefined;
    await api.stop();
    host.cleanup();
  });

  const baseConfig = (): Record<string, unknown> => ({
    auth_type: 'kubeConfig',
    kube_config_path: kubeconfig,
    node_name: NODE,
    proc_path: host.proc,
    extract: { labels: ['app'], annotations: ['team.example.com/*'] },
    wait_for_sync: true,
    sync_timeout: '20s',
  });

  it('enriches a pod process from list+watch, follows MODIFIED, and forgets the pod on DELETE', async () => {
    api.add('pods', checkoutPod());
    api.add('pods', podObject({ name: 'elsewhere', uid: '11111111-2222-3333-4444-555555555555', node: 'node-b', containers: [{ name: 'x', id: containerId('elsewhere') }] }));
    const cgroupId = host.addProcess(4242, systemdContainerdPath(CHECKOUT_UID, CHECKOUT_CID));

    h = await harness(configFor(baseConfig()));
    await h.processor.start(createTestHost());

    // Only this node's pods were asked for, on the list and on the watch.
    const lists = api.requestsTo('/api/v1/pods', false);
    assert.ok(lists.length >= 1);
    assert.equal(lists[0].query.get('fieldSelector'), `spec.nodeName=${NODE}`);
    assert.equal(lists[0].query.get('limit'), '500');
    await eventually(() => (api.openWatches('pods') === 1 ? true : undefined), 5000, 'the pod watch');
    assert.equal(api.requestsTo('/api/v1/pods', true)[0].query.get('fieldSelector'), `spec.nodeName=${NODE}`);
    // Lists and watches name the observer, so the l7 processor leaves its API calls out.
    assert.deepEqual([...new Set(api.requests.map((r) => r.userAgent))], [OBSERVER_USER_AGENT]);
    assert.equal(h.settings.telemetry.get('pods'), 1, 'the other node\'s pod is not kept');

    const out = await h.run(connectionEvent(4242, cgroupId));
    assert.deepEqual({ ...out.k8s }, {
      namespace: 'shop',
      podName: 'checkout-7d9f8b6c5d-x2x9q',
      podUid: CHECKOUT_UID,
      containerId: CHECKOUT_CID,
      containerName: 'checkout',
      nodeName: NODE,
      ownerKind: 'Deployment',
      ownerName: 'checkout',
      labels: { app: 'checkout' },
      annotations: { 'team.example.com/owner': 'payments' },
    });
    assert.ok(Object.isFrozen(out.k8s), 'shared metadata is frozen');
    const again = await h.run(connectionEvent(4242, cgroupId));
    assert.equal(again.k8s, out.k8s, 'events of one container share one metadata object');

    // A sidecar starts: its process is known to the kernel before the API lists its container.
    const sidecarCgroup = host.addProcess(4300, systemdContainerdPath(CHECKOUT_UID, SIDECAR_CID));
    const early = await h.run(connectionEvent(4300, sidecarCgroup));
    assert.equal(early.k8s?.podName, 'checkout-7d9f8b6c5d-x2x9q', 'the pod is found by its uid meanwhile');
    assert.equal(early.k8s?.containerName, undefined);
    assert.equal(early.k8s?.containerId, SIDECAR_CID);

    api.add('pods', checkoutPod({ containers: [{ name: 'checkout', id: CHECKOUT_CID }, { name: 'envoy', id: SIDECAR_CID }] }));
    const named = await eventuallyAsync(async () => {
      const e = await h!.run(connectionEvent(4300, sidecarCgroup));
      return e.k8s?.containerName === 'envoy' ? e : undefined;
    }, 5000, 'the MODIFIED pod with the sidecar container');
    assert.equal(named.k8s?.ownerName, 'checkout');

    // DELETED: only what the cgroup says remains.
    api.remove('pods', CHECKOUT_UID);
    const gone = await eventuallyAsync(async () => {
      const e = await h!.run(connectionEvent(4242, cgroupId));
      return e.k8s?.podName === undefined ? e : undefined;
    }, 5000, 'the DELETED pod to be dropped');
    assert.deepEqual({ ...gone.k8s }, { containerId: CHECKOUT_CID, podUid: CHECKOUT_UID, nodeName: NODE });
    assert.equal(h.settings.telemetry.get('pods'), 0);
    assert.ok(h.settings.telemetry.get('enriched') >= 5);
    assert.equal(h.settings.telemetry.get('api_errors'), 0);
  });

  it('maps a cgroup id to its pod after the process is gone (cgroup tree walk)', async () => {
    api.add('pods', checkoutPod());
    const cgroupId = host.addProcess(5000, systemdContainerdPath(CHECKOUT_UID, CHECKOUT_CID));
    host.removeProcess(5000);
    h = await harness(configFor(baseConfig()));
    await h.processor.start(createTestHost());
    const out = await eventuallyAsync(async () => {
      const e = await h!.run(connectionEvent(5000, cgroupId));
      return e.k8s?.podName ? e : undefined;
    }, 5000, 'the walk to map the cgroup id');
    assert.equal(out.k8s?.containerName, 'checkout');
    // pid 0 (softirq context) with only the cgroup id works the same.
    assert.equal((await h.run(connectionEvent(0, cgroupId))).k8s?.podName, 'checkout-7d9f8b6c5d-x2x9q');
    assert.ok(h.settings.telemetry.get('cgroup_walks') >= 1);
  });

  it('resolves services by selector, peers by pod IP and service cluster IP, and ReplicaSet owners by lookup', async () => {
    api.add('pods', checkoutPod());
    api.add('pods', podObject({
      name: 'canary-5f6c7-abcde', uid: '22222222-3333-4444-5555-666666666666', node: NODE, ip: '10.42.0.30',
      containers: [{ name: 'canary', id: containerId('canary'), runtime: 'cri-o' }],
      owner: { kind: 'ReplicaSet', name: 'canary-5f6c7' }, labels: { app: 'canary' },
    }));
    api.add('pods', podObject({
      name: 'node-exporter-q8x7z', uid: '33333333-4444-5555-6666-777777777777', node: NODE, ip: '192.168.1.5', hostNetwork: true,
      containers: [{ name: 'exporter', id: containerId('exporter') }], owner: { kind: 'DaemonSet', name: 'node-exporter' },
    }));
    api.addReplicaSet({ metadata: { name: 'canary-5f6c7', namespace: 'shop', uid: 'rs-uid', ownerReferences: [{ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: 'canary', uid: 'ro', controller: true }] } });
    api.add('services', serviceObject('checkout', 'shop', 'svc-1', { app: 'checkout' }, '10.96.12.7'));
    api.add('services', serviceObject('aaa-all-backends', 'other-ns', 'svc-2', { app: 'checkout' }, '10.96.12.8'));
    const checkoutCgroup = host.addProcess(4242, systemdContainerdPath(CHECKOUT_UID, CHECKOUT_CID));
    const canaryCgroup = host.addProcess(4400, `/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod22222222_3333_4444_5555_666666666666.slice/crio-${containerId('canary')}.scope`);

    h = await harness(configFor({ ...baseConfig(), extract: { labels: ['app'], service: true }, enrich_peer: true }));
    await h.processor.start(createTestHost());

    const toService = await h.run(connectionEvent(4242, checkoutCgroup, '10.42.0.17', '10.96.12.7'));
    assert.equal(toService.k8s?.serviceName, 'checkout', 'the service in the pod\'s own namespace');
    assert.deepEqual({ ...toService.peerK8s }, { namespace: 'shop', serviceName: 'checkout' });

    const toPod = await h.run(connectionEvent(4242, checkoutCgroup, '10.42.0.17', '::ffff:10.42.0.30'));
    assert.equal(toPod.peerK8s?.podName, 'canary-5f6c7-abcde');
    assert.equal(toPod.peerK8s?.containerName, undefined, 'a peer is described as a pod');

    const toHostNetwork = await h.run(connectionEvent(4242, checkoutCgroup, '10.42.0.17', '192.168.1.5'));
    assert.equal(toHostNetwork.peerK8s, undefined, 'host-network pods share the node IP and are not indexed');

    const canary = await eventuallyAsync(async () => {
      const e = await h!.run(connectionEvent(4400, canaryCgroup));
      return e.k8s?.ownerKind === 'Rollout' ? e : undefined;
    }, 5000, 'the ReplicaSet lookup');
    assert.equal(canary.k8s?.ownerName, 'canary');
    assert.equal(canary.k8s?.containerName, 'canary', 'cri-o container ids match too');
    assert.equal(api.requestsTo('/apis/apps/v1/namespaces/shop/replicasets/canary-5f6c7').length, 1, 'looked up once, then cached');

    // A service created later is picked up through its watch.
    api.add('services', serviceObject('canary', 'shop', 'svc-3', { app: 'canary' }, '10.96.12.9'));
    await eventuallyAsync(async () => ((await h!.run(connectionEvent(4400, canaryCgroup))).k8s?.serviceName === 'canary' ? true : undefined), 5000, 'the new service');
    // A softirq-context event (no process) on a pod's IP still names the pod.
    assert.equal((await h.run(connectionEvent(0, 0, '10.42.0.30', '10.1.1.1'))).k8s?.podName, 'canary-5f6c7-abcde');
  });

  it('without RBAC for replicasets, reports the ReplicaSet, warns once and stops asking', async () => {
    api.failPaths.set('/apis/apps/', 403);
    const pods = ['rs-one-abc', 'rs-two-def'].map((rs, i) => {
      const uid = `4444444${i}-0000-0000-0000-000000000000`;
      const cid = containerId(rs);
      api.add('pods', podObject({ name: `${rs}-x`, uid, node: NODE, containers: [{ name: 'c', id: cid }], owner: { kind: 'ReplicaSet', name: rs } }));
      return host.addProcess(6000 + i, `/kubepods/besteffort/pod${uid}/${cid}`);
    });
    h = await harness(configFor(baseConfig()));
    await h.processor.start(createTestHost());
    const first = await h.run(connectionEvent(6000, pods[0]));
    assert.deepEqual([first.k8s?.ownerKind, first.k8s?.ownerName], ['ReplicaSet', 'rs-one-abc']);
    await eventually(() => h!.logs.find((l) => l.includes('get replicaset shop/rs-one-abc: forbidden (HTTP 403)')), 5000, 'the RBAC warning');
    const second = await h.run(connectionEvent(6001, pods[1]));
    assert.deepEqual([second.k8s?.ownerKind, second.k8s?.ownerName], ['ReplicaSet', 'rs-two-def']);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(api.requestsTo('/apis/apps/').length, 1, 'no more lookups after a 403');
    assert.equal(h.logs.filter((l) => l.includes('HTTP 403')).length, 1);
    assert.equal(h.settings.telemetry.get('api_errors'), 1);
  });

  it('re-lists after 410 Gone and picks up what changed while it was not watching', async () => {
    api.add('pods', checkoutPod());
    const cgroupId = host.addProcess(4242, systemdContainerdPath(CHECKOUT_UID, CHECKOUT_CID));
    h = await harness(configFor(baseConfig()));
    await h.processor.start(createTestHost());
    await eventually(() => (api.openWatches('pods') === 1 ? true : undefined), 5000, 'the pod watch');
    const listsBefore = api.requestsTo('/api/v1/pods', false).length;

    api.compact();
    api.closeWatches();
    api.add('pods', checkoutPod({ labels: { app: 'checkout-v2', 'pod-template-hash': '7d9f8b6c5d' } }));
    await eventuallyAsync(async () => ((await h!.run(connectionEvent(4242, cgroupId))).k8s?.labels?.app === 'checkout-v2' ? true : undefined), 8000, 'the re-list');
    assert.ok(api.requestsTo('/api/v1/pods', false).length > listsBefore, 'a fresh list was made');
    assert.equal(h.settings.telemetry.get('api_errors'), 0, '410 is routine, not an error');
  });

  it('pages through large lists and keeps this node\'s pods first when max_pods is reached', async () => {
    for (let i = 0; i < 520; i++) {
      const hex = i.toString(16).padStart(12, '0');
      api.add('pods', podObject({ name: `remote-${i}`, uid: `00000000-0000-0000-0000-${hex}`, node: 'node-b', ip: `10.43.${i >> 8}.${i & 255}` }));
    }
    api.add('pods', checkoutPod());
    const cgroupId = host.addProcess(4242, systemdContainerdPath(CHECKOUT_UID, CHECKOUT_CID));
    h = await harness(configFor({ ...baseConfig(), enrich_peer: true, peer_scope: 'cluster', max_pods: 100 }));
    await h.processor.start(createTestHost());

    const lists = api.requestsTo('/api/v1/pods', false);
    assert.equal(lists.length, 2, 'two pages of 500');
    assert.equal(lists[0].query.get('fieldSelector'), null, 'cluster scope watches every pod');
    assert.equal(lists[1].query.get('continue'), '500');
    assert.equal(h.settings.telemetry.get('pods'), 100);
    assert.equal(h.settings.telemetry.get('pods_over_limit'), 421);
    assert.equal((await h.run(connectionEvent(4242, cgroupId))).k8s?.podName, 'checkout-7d9f8b6c5d-x2x9q');
  });
});

describe('k8s_attributes when the Kubernetes API is down', function () {
  this.timeout(30_000);
  let host: HostTree;
  let kubeconfig: string;
  let h: Harness | undefined;
  let deadPort: number;

  beforeEach(async () => {
    host = new HostTree();
    // A port that was just ours and is closed now: connections are refused.
    const probe = new FakeApiServer();
    await probe.start();
    deadPort = probe.port;
    await probe.stop();
    kubeconfig = join(host.root, 'kubeconfig');
    writeFileSync(kubeconfig, kubeconfigFor(`http://127.0.0.1:${deadPort}`));
  });

  afterEach(async () => {
    await h?.processor.shutdown();
    h = undefined;
    host.cleanup();
  });

  it('starts at once, passes events through with cgroup identity, counts api_errors and logs once', async () => {
    const cgroupId = host.addProcess(4242, systemdContainerdPath(CHECKOUT_UID, CHECKOUT_CID));
    h = await harness(configFor({ auth_type: 'kubeConfig', kube_config_path: kubeconfig, node_name: NODE, proc_path: host.proc }));
    const started = Date.now();
    await h.processor.start(createTestHost());
    assert.ok(Date.now() - started < 1000, 'start does not wait for the API');

    const out = await h.run(connectionEvent(4242, cgroupId));
    assert.deepEqual({ ...out.k8s }, { containerId: CHECKOUT_CID, podUid: CHECKOUT_UID, nodeName: NODE });
    await eventually(() => (h!.settings.telemetry.get('api_errors') >= 2 ? true : undefined), 15_000, 'two failed attempts');
    const warnings = h.logs.filter((l) => l.includes('WARN') && l.includes('cannot reach the Kubernetes API'));
    assert.equal(warnings.length, 1, `logged once per period: ${warnings.join('\n')}`);
    assert.match(warnings[0], new RegExp(`127\\.0\\.0\\.1:${deadPort}.*ECONNREFUSED`));

    const stopping = Date.now();
    await h.processor.shutdown();
    assert.ok(Date.now() - stopping < 2000, 'shutdown does not wait out the backoff');
  });

  it('with wait_for_sync, start fails after sync_timeout and says why', async () => {
    h = await harness(configFor({ auth_type: 'kubeConfig', kube_config_path: kubeconfig, node_name: NODE, proc_path: host.proc, wait_for_sync: true, sync_timeout: '1500ms' }));
    await assert.rejects(Promise.resolve(h.processor.start(createTestHost())), /did not sync within 1500 ms: list\/watch pods: cannot reach the Kubernetes API/);
  });

  it('explains a 403 with the RBAC it needs, and recovers when the API answers again', async () => {
    const api = new FakeApiServer();
    await api.start(deadPort);
    try {
      api.failWith = 403;
      api.add('pods', checkoutPod());
      const cgroupId = host.addProcess(4242, systemdContainerdPath(CHECKOUT_UID, CHECKOUT_CID));
      h = await harness(configFor({ auth_type: 'kubeConfig', kube_config_path: kubeconfig, node_name: NODE, proc_path: host.proc }));
      await h.processor.start(createTestHost());
      await eventually(() => h!.logs.find((l) => l.includes('forbidden (HTTP 403)')), 10_000, 'the 403 warning');
      assert.match(h.logs.find((l) => l.includes('HTTP 403'))!, /ClusterRole/);
      api.failWith = undefined;
      await eventuallyAsync(async () => ((await h!.run(connectionEvent(4242, cgroupId))).k8s?.podName ? true : undefined), 10_000, 'recovery');
      assert.ok(h.logs.some((l) => l.includes('reachable again')));
    } finally {
      await h?.processor.shutdown();
      h = undefined;
      await api.stop();
    }
  });
});

async function eventuallyAsync<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
