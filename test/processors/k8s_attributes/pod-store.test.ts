import assert from 'node:assert/strict';
import { keyFilter, stripRuntimePrefix, toPodRecord, workloadOf, type PodRecord, type PodRecordOptions } from '../../../processors/k8s_attributes/pod';
import { PodStore, type PodStoreOptions } from '../../../processors/k8s_attributes/pod-store';
import { toServiceRecord } from '../../../processors/k8s_attributes/service';
import { podObject, serviceObject, type PodSpec } from './helpers';
import { containerId } from './host-tree';

const NO_EXTRACT: PodRecordOptions = { labels: undefined, annotations: undefined, keepAllLabels: false };

function record(spec: Partial<PodSpec> & { uid: string }, options: PodRecordOptions = NO_EXTRACT): PodRecord {
  const r = toPodRecord(podObject({ name: `pod-${spec.uid.slice(0, 4)}`, node: 'node-a', ...spec }), options);
  assert.ok(r);
  return r;
}

const owner = (kind: string, name: string, templateHash?: string) => workloadOf({ controller: { kind, name }, namespace: 'shop', templateHash });

describe('k8s_attributes pod records and owners', () => {
  it('keeps only what enrichment needs', () => {
    const cid = containerId('web');
    const r = record({
      uid: 'u1', ip: '10.42.0.5', containers: [{ name: 'web', id: cid, runtime: 'cri-o' }],
      labels: { app: 'web', 'app.kubernetes.io/name': 'web', 'app.kubernetes.io/part-of': 'shop', secret: 'x' },
      annotations: { 'kubernetes.io/config.mirror': 'abc123', note: 'n' },
      owner: { kind: 'StatefulSet', name: 'web' },
    }, { labels: keyFilter(['app', 'app.kubernetes.io/*']), annotations: keyFilter(['note']), keepAllLabels: false });
    assert.equal(r.namespace, 'shop');
    assert.deepEqual(r.ips, ['10.42.0.5']);
    assert.deepEqual([...r.containers], [[cid, 'web']]);
    assert.deepEqual(r.extractedLabels, { app: 'web', 'app.kubernetes.io/name': 'web', 'app.kubernetes.io/part-of': 'shop' });
    assert.deepEqual(r.labels, r.extractedLabels, 'without services only the extracted labels are kept');
    assert.deepEqual(r.extractedAnnotations, { note: 'n' });
    assert.equal(r.configHash, 'abc123');
    assert.deepEqual(r.controller, { kind: 'StatefulSet', name: 'web' });
    assert.equal(toPodRecord({ metadata: { name: 'no-uid' } }, NO_EXTRACT), undefined);
    assert.equal(stripRuntimePrefix('docker://abc'), 'abc');
  });

  it('resolves workloads like the Collector and Beyla do', () => {
    assert.deepEqual(owner('ReplicaSet', 'checkout-7d9f8b6c5d', '7d9f8b6c5d'), { kind: 'Deployment', name: 'checkout' });
    assert.deepEqual(owner('ReplicaSet', 'my-app-v2-5c8b9', '5c8b9'), { kind: 'Deployment', name: 'my-app-v2' });
    assert.deepEqual(owner('ReplicaSet', 'bare-rs'), { kind: 'ReplicaSet', name: 'bare-rs' }, 'no hash label: the ReplicaSet itself');
    assert.deepEqual(owner('ReplicaSet', 'other-abc', 'zzz'), { kind: 'ReplicaSet', name: 'other-abc' }, 'a hash that is not the name suffix proves nothing');
    assert.deepEqual(owner('StatefulSet', 'db'), { kind: 'StatefulSet', name: 'db' });
    assert.deepEqual(owner('DaemonSet', 'node-exporter'), { kind: 'DaemonSet', name: 'node-exporter' });
    assert.deepEqual(owner('Job', 'nightly-report-28612345'), { kind: 'CronJob', name: 'nightly-report' });
    assert.deepEqual(owner('Job', 'migrate-42'), { kind: 'Job', name: 'migrate-42' }, 'a short number is a Job name, not a schedule');
    assert.equal(workloadOf({ controller: undefined, namespace: 'shop', templateHash: undefined }), undefined);
    const lookup = (_ns: string, name: string) => (name === 'canary-5f6c7' ? { kind: 'Rollout', name: 'canary' } : name === 'orphan' ? null : undefined);
    assert.deepEqual(workloadOf({ controller: { kind: 'ReplicaSet', name: 'canary-5f6c7' }, namespace: 'shop', templateHash: undefined }, lookup), { kind: 'Rollout', name: 'canary' });
    assert.deepEqual(workloadOf({ controller: { kind: 'ReplicaSet', name: 'orphan' }, namespace: 'shop', templateHash: undefined }, lookup), { kind: 'ReplicaSet', name: 'orphan' });
  });

  it('matches label keys exactly or by prefix', () => {
    const f = keyFilter(['app', 'team.example.com/*'])!;
    assert.equal(f('app'), true);
    assert.equal(f('application'), false);
    assert.equal(f('team.example.com/owner'), true);
    assert.equal(keyFilter([]), undefined);
  });
});

describe('k8s_attributes pod store', () => {
  const options = (extra: Partial<PodStoreOptions> = {}): PodStoreOptions => ({ maxPods: 100, nodeName: 'node-a', extractOwner: true, extractService: false, ...extra });

  it('indexes by container id, pod uid, config hash and IP, and unindexes on delete', () => {
    const store = new PodStore(options());
    const cid = containerId('api');
    store.upsertPod(record({ uid: 'uid-1', ip: '10.42.0.9', containers: [{ name: 'api', id: cid }], annotations: { 'kubernetes.io/config.hash': 'feedface' } }));
    const byContainer = store.metaFor({ containerId: cid, podUid: '' }, 'node-a');
    assert.equal(byContainer?.containerName, 'api');
    assert.equal(store.metaFor({ containerId: containerId('pause'), podUid: 'uid-1' }, '')?.podUid, 'uid-1');
    assert.equal(store.metaFor({ containerId: '', podUid: 'feedface' }, '')?.podUid, 'uid-1', 'a static pod by its config hash');
    assert.equal(store.podMetaForIp('10.42.0.9', '')?.podName, 'pod-uid-');
    store.deletePod('uid-1');
    assert.equal(store.metaFor({ containerId: cid, podUid: 'uid-1' }, ''), undefined);
    assert.equal(store.podMetaForIp('10.42.0.9', ''), undefined);
    assert.equal(store.podCount, 0);
  });

  it('shares one frozen metadata object per container and rebuilds it after invalidation', () => {
    const store = new PodStore(options());
    const cid = containerId('api');
    store.upsertPod(record({ uid: 'uid-1', containers: [{ name: 'api', id: cid }] }));
    const a = store.metaFor({ containerId: cid, podUid: '' }, '');
    assert.equal(store.metaFor({ containerId: cid, podUid: '' }, ''), a);
    assert.ok(Object.isFrozen(a));
    assert.throws(() => { (a as { podName?: string }).podName = 'x'; }, TypeError);
    store.invalidate();
    const b = store.metaFor({ containerId: cid, podUid: '' }, '');
    assert.notEqual(b, a);
    assert.deepEqual(b, a);
  });

  it('keeps at most max_pods, preferring this node\'s pods', () => {
    const store = new PodStore(options({ maxPods: 3 }));
    for (let i = 0; i < 3; i++) assert.equal(store.upsertPod(record({ uid: `remote-${i}`, node: 'node-b' })), true);
    assert.equal(store.upsertPod(record({ uid: 'remote-3', node: 'node-b' })), false, 'full: another remote pod is refused');
    assert.equal(store.upsertPod(record({ uid: 'local-1', node: 'node-a' })), true, 'a local pod pushes a remote one out');
    assert.equal(store.podCount, 3);
    assert.equal(store.podsOverLimit, 2);
    for (let i = 2; i <= 4; i++) store.upsertPod(record({ uid: `local-${i}`, node: 'node-a' }));
    assert.equal(store.podCount, 3);
    assert.equal(store.metaFor({ containerId: '', podUid: 'local-4' }, ''), undefined, 'all local: the newest is refused');
    assert.ok(store.metaFor({ containerId: '', podUid: 'local-1' }, ''));
  });

  it('replaces its content on a full list', () => {
    const store = new PodStore(options());
    store.upsertPod(record({ uid: 'stale', ip: '10.0.0.1' }));
    store.replacePods([record({ uid: 'fresh', ip: '10.0.0.2' })]);
    assert.equal(store.podCount, 1);
    assert.equal(store.podMetaForIp('10.0.0.1', ''), undefined);
    assert.equal(store.podMetaForIp('10.0.0.2', '')?.podUid, 'fresh');
  });

  it('picks the first matching service by name in the pod\'s namespace, and follows service changes', () => {
    const store = new PodStore(options({ extractService: true }));
    const all: PodRecordOptions = { labels: undefined, annotations: undefined, keepAllLabels: true };
    store.upsertPod(record({ uid: 'u1', labels: { app: 'web', tier: 'fe' } }, all));
    const meta = () => store.metaFor({ containerId: '', podUid: 'u1' }, '');
    assert.equal(meta()?.serviceName, undefined);
    store.upsertService(toServiceRecord(serviceObject('web', 'shop', 's1', { app: 'web' }, '10.96.0.10'))!);
    assert.equal(meta()?.serviceName, 'web');
    store.upsertService(toServiceRecord(serviceObject('a-web-fe', 'shop', 's2', { app: 'web', tier: 'fe' }, '10.96.0.11'))!);
    assert.equal(meta()?.serviceName, 'a-web-fe', 'first by name');
    store.upsertService(toServiceRecord(serviceObject('0-elsewhere', 'prod', 's3', { app: 'web' }, '10.96.0.12'))!);
    store.upsertService(toServiceRecord(serviceObject('0-no-match', 'shop', 's4', { app: 'web', tier: 'be' }, '10.96.0.13'))!);
    store.upsertService(toServiceRecord({ metadata: { name: '0-selectorless', namespace: 'shop', uid: 's5' }, spec: { clusterIP: 'None' } })!);
    assert.equal(meta()?.serviceName, 'a-web-fe');
    store.deleteService('s2');
    assert.equal(meta()?.serviceName, 'web');
    assert.deepEqual(store.peerMetaForIp('10.96.0.10', ''), { namespace: 'shop', serviceName: 'web' });
    assert.equal(store.peerMetaForIp('10.96.0.11', ''), undefined, 'deleted service');
  });
});
