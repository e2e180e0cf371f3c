import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deepMerge } from '../../../core/config/merge';
import { normalizeUnits } from '../../../core/config/schema-validator';
import { createLogger } from '../../../core/logger';
import { CollectingConsumer, createTestHost, createTestSettings } from '../../../core/testing';
import { factory, resolveNodeName, type K8sAttributesConfig } from '../../../processors/k8s_attributes';
import { K8sConfigError, planAuth } from '../../../processors/k8s_attributes/auth';
import { connectionEvent } from './helpers';
import { HostTree, containerId, systemdContainerdPath } from './host-tree';

const UID = 'aaaaaaaa-1111-2222-3333-444444444444';
const CID = containerId('solo');

function config(overrides: Record<string, unknown>): K8sAttributesConfig {
  return normalizeUnits(factory.configSchema, deepMerge(factory.createDefaultConfig(), overrides)) as K8sAttributesConfig;
}

async function withEnv<T>(vars: Record<string, string | undefined>, body: () => Promise<T>): Promise<T> {
  const saved: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(vars)) {
    saved[k] = process.env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  try {
    return await body();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

const NO_CLUSTER = { KUBERNETES_SERVICE_HOST: undefined, KUBERNETES_SERVICE_PORT: undefined, KUBECONFIG: undefined };

describe('k8s_attributes processor', () => {
  let host: HostTree;
  beforeEach(() => (host = new HostTree()));
  afterEach(() => host.cleanup());

  async function run(overrides: Record<string, unknown>) {
    const logs: string[] = [];
    const settings = createTestSettings('processor', 'k8s_attributes', createLogger('debug', (l) => logs.push(l)));
    const next = new CollectingConsumer();
    const processor = await factory.createProcessor(settings, config(overrides), next);
    return { processor, next, logs, settings };
  }

  it('without an API, enriches from cgroups only and says so once', async () => {
    await withEnv(NO_CLUSTER, async () => {
      const cgroupId = host.addProcess(77, systemdContainerdPath(UID, CID));
      host.addProcess(78, '/system.slice/cron.service');
      const { processor, next, logs, settings } = await run({ proc_path: host.proc, node_name: 'node-x' });
      assert.equal(processor.mutatesData, true);
      await processor.start(createTestHost());
      await processor.consume([connectionEvent(77, cgroupId), connectionEvent(78, 0)]);
      const [inPod, onHost] = next.events;
      assert.deepEqual({ ...inPod.k8s }, { containerId: CID, podUid: UID, nodeName: 'node-x' });
      assert.equal(onHost.k8s, undefined);
      assert.equal(settings.telemetry.get('enriched'), 1);
      const warnings = logs.filter((l) => l.includes('WARN'));
      assert.equal(warnings.length, 1);
      assert.match(warnings[0], /no Kubernetes API \(not running in a pod.*container\.id and k8s\.pod\.uid/);
      await processor.shutdown();
      await processor.shutdown();
    });
  });

  it('keeps what an upstream component already set in k8s', async () => {
    await withEnv(NO_CLUSTER, async () => {
      const cgroupId = host.addProcess(77, systemdContainerdPath(UID, CID));
      const { processor, next } = await run({ proc_path: host.proc, auth_type: 'none' });
      await processor.start(createTestHost());
      const event = connectionEvent(77, cgroupId);
      event.k8s = { namespace: 'preset' };
      await processor.consume([event]);
      assert.deepEqual({ ...next.events[0].k8s }, { containerId: CID, podUid: UID, namespace: 'preset' });
      await processor.shutdown();
    });
  });

  it('passes everything through untouched when disabled', async () => {
    const { processor, next } = await run({ enabled: false, proc_path: join(host.root, 'missing') });
    assert.equal(processor.mutatesData, false);
    await processor.start(createTestHost());
    const event = connectionEvent(1, 1);
    await processor.consume([event]);
    assert.equal(next.events[0], event);
    assert.equal(event.k8s, undefined);
    await processor.shutdown();
  });

  it('fails start with what to do when an explicit auth_type cannot work here', async () => {
    await withEnv(NO_CLUSTER, async () => {
      const sa = await run({ auth_type: 'serviceAccount', proc_path: host.proc });
      await assert.rejects(Promise.resolve(sa.processor.start(createTestHost())), /serviceAccount needs KUBERNETES_SERVICE_HOST.*use auth_type: kubeConfig/);
      const kc = await run({ auth_type: 'kubeConfig', kube_config_path: join(host.root, 'nope'), proc_path: host.proc });
      await assert.rejects(Promise.resolve(kc.processor.start(createTestHost())), /kubeconfig .*nope \(from kube_config_path\) does not exist/);
    });
  });

  it('says what is wrong with a broken kubeconfig without crashing the pipeline', async () => {
    await withEnv(NO_CLUSTER, async () => {
      const path = join(host.root, 'kubeconfig');
      writeFileSync(path, 'apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n');
      const { processor, next, logs, settings } = await run({ kube_config_path: path, proc_path: host.proc, node_name: 'n' });
      await processor.start(createTestHost());
      await processor.consume([connectionEvent(1, 0)]);
      assert.equal(next.events.length, 1);
      const line = await waitFor(() => logs.find((l) => l.includes('ERROR')), 20_000);
      assert.match(line, /Kubernetes API client: kubeconfig .* has no cluster for its current context/);
      assert.equal(settings.telemetry.get('errors'), 1);
      await processor.shutdown();
    });
  }).timeout(30_000);
});

describe('k8s_attributes config', () => {
  it('reports cross-field mistakes at their paths', () => {
    const issues = factory.validate!(config({ peer_scope: 'cluster', wait_for_sync: true, auth_type: 'none', sync_timeout: 0, kube_config_path: '/x', context: 'c', resync_interval: '1s' }));
    assert.deepEqual(issues.map((i) => i.path.join('.')), ['peer_scope', 'wait_for_sync', 'sync_timeout', 'kube_config_path', 'context', 'resync_interval']);
    assert.deepEqual(factory.validate!(config({ enrich_peer: true, peer_scope: 'cluster', resync_interval: 0 })), []);
  });

  it('takes the node name from the config, else the downward-API variables', () => {
    assert.equal(resolveNodeName('cfg', { K8S_NODE_NAME: 'a', NODE_NAME: 'b' }), 'cfg');
    assert.equal(resolveNodeName('', { K8S_NODE_NAME: 'a', NODE_NAME: 'b' }), 'a');
    assert.equal(resolveNodeName('', { NODE_NAME: 'b' }), 'b');
    assert.equal(resolveNodeName('', {}), '');
  });

  it('plans auth like the Collector, with auto choosing in-cluster, then an explicit kubeconfig, then none', () => {
    const base = { kubeConfigPath: '', context: '' };
    const inCluster = { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' };
    assert.deepEqual(planAuth({ ...base, authType: 'auto' }, inCluster), { kind: 'serviceAccount' });
    assert.deepEqual(planAuth({ ...base, authType: 'serviceAccount' }, inCluster), { kind: 'serviceAccount' });
    assert.equal(planAuth({ ...base, authType: 'auto' }, { HOME: '/root' }).kind, 'none', 'a home kubeconfig is never picked up implicitly');
    assert.deepEqual(planAuth({ ...base, authType: 'auto' }, { KUBECONFIG: `${__filename}:/other` }), { kind: 'kubeConfig', path: __filename, context: '' });
    assert.throws(() => planAuth({ ...base, authType: 'auto' }, { KUBECONFIG: '/nonexistent' }), /kubeconfig \/nonexistent \(from KUBECONFIG\) does not exist/);
    assert.deepEqual(planAuth({ kubeConfigPath: __filename, context: 'ctx', authType: 'kubeConfig' }, {}), { kind: 'kubeConfig', path: __filename, context: 'ctx' });
    assert.equal(planAuth({ ...base, authType: 'none' }, inCluster).kind, 'none');
    assert.throws(() => planAuth({ ...base, authType: 'serviceAccount' }, {}), K8sConfigError);
  });
});

async function waitFor<T>(check: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}
