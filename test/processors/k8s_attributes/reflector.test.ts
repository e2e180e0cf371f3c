/**
 * The list/watch loop through the real client library against the fake API server: periodic
 * re-lists, and shutdown that does not hang on a black-holed server.
 */
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKubeClient, type KubeClient } from '../../../processors/k8s_attributes/kube-client';
import { toPodRecord, type PodObject, type PodRecord } from '../../../processors/k8s_attributes/pod';
import { Reflector } from '../../../processors/k8s_attributes/reflector';
import { FakeApiServer, kubeconfigFor } from './fake-apiserver';
import { eventually, podObject } from './helpers';

const RECORD_OPTIONS = { labels: undefined, annotations: undefined, keepAllLabels: false };

function openTcpSockets(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
}

describe('k8s_attributes reflector through @kubernetes/client-node', function () {
  this.timeout(30_000);
  let api: FakeApiServer;
  let dir: string;
  let client: KubeClient;

  beforeEach(async () => {
    api = new FakeApiServer();
    await api.start();
    dir = mkdtempSync(join(tmpdir(), 'k8s-reflector-'));
    writeFileSync(join(dir, 'kubeconfig'), kubeconfigFor(api.url));
    client = await loadKubeClient({ kind: 'kubeConfig', path: join(dir, 'kubeconfig'), context: '' });
  });

  afterEach(async () => {
    client.close();
    await api.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function reflector(resyncIntervalMs: number, log: { replaced: number; errors: unknown[] }) {
    return new Reflector<PodObject, PodRecord>({
      resource: 'pods',
      watchPath: '/api/v1/pods',
      list: (token, signal) => client.listPods(undefined, token, signal),
      watcher: client.watcher,
      convert: (pod) => toPodRecord(pod, RECORD_OPTIONS),
      handlers: { replace: () => log.replaced++, upsert: () => undefined, remove: () => undefined },
      onSynced: () => undefined,
      onError: (error) => log.errors.push(error),
      resyncIntervalMs,
      initialBackoffMs: 50,
      maxBackoffMs: 200,
    });
  }

  it('re-lists every resync interval and watches in between', async () => {
    api.add('pods', podObject({ name: 'a', uid: 'uid-a', node: 'n' }));
    const log = { replaced: 0, errors: [] as unknown[] };
    const r = reflector(300, log);
    r.start();
    await eventually(() => (log.replaced >= 3 ? true : undefined), 5000, 'three lists');
    await r.stop();
    assert.ok(r.watches >= 2, 'a watch between lists');
    assert.deepEqual(log.errors, []);
  });

  it('stops at once while a watch is connecting to a server that never answers', async () => {
    const before = openTcpSockets();
    api.hangWatches = true;
    const log = { replaced: 0, errors: [] as unknown[] };
    const r = reflector(0, log);
    r.start();
    await eventually(() => (api.requestsTo('/api/v1/pods', true).length === 1 ? true : undefined), 5000, 'the watch request');
    assert.ok(openTcpSockets() > before, 'the hanging watch holds a connection');
    const t = Date.now();
    client.close();
    await r.stop();
    assert.ok(Date.now() - t < 1000, 'stop did not wait for the server');
    await eventually(() => (openTcpSockets() <= before ? true : undefined), 2000, 'the connection to be closed');
    assert.equal(log.replaced, 1);
  });

  it('stops at once while a list hangs', async () => {
    api.hangLists = true;
    const log = { replaced: 0, errors: [] as unknown[] };
    const r = reflector(0, log);
    r.start();
    await eventually(() => (api.requestsTo('/api/v1/pods', false).length === 1 ? true : undefined), 5000, 'the list request');
    const t = Date.now();
    await r.stop();
    assert.ok(Date.now() - t < 1000);
    assert.equal(log.replaced, 0);
    assert.deepEqual(log.errors, [], 'a stop is not an error');
  });
});
