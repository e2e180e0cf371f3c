/**
 * deploy/kubernetes: every manifest against the Kubernetes object models of
 * @kubernetes/client-node (unknown fields, required fields, value types, and a round trip
 * through the library's loadYaml/dumpYaml), the kustomization against the directory, the
 * ConfigMap's collector.yaml through the same loading the `validate` command runs, the
 * DaemonSet against that config, and the ClusterRole against the requests the k8s_attributes
 * processor really makes to an API server.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import type { Processor } from '../../core/component';
import { deepMerge } from '../../core/config/merge';
import { loadConfigText } from '../../core/config/load';
import { normalizeUnits, validateAgainstSchema } from '../../core/config/schema-validator';
import { CollectingConsumer, createTestHost, createTestSettings } from '../../core/testing';
import { factory as k8sAttributes, type K8sAttributesConfig } from '../../processors/k8s_attributes';
import { FakeApiServer, kubeconfigFor } from '../processors/k8s_attributes/fake-apiserver';
import { connectionEvent, eventually, podObject, serviceObject } from '../processors/k8s_attributes/helpers';
import { containerId, HostTree, systemdContainerdPath } from '../processors/k8s_attributes/host-tree';
import { builtinFactories } from '../../distribution/components';

const ROOT = join(__dirname, '..', '..');
const DIR = join(ROOT, 'deploy', 'kubernetes');
const MODELS = join(ROOT, 'node_modules', '@kubernetes', 'client-node', 'dist', 'gen', 'models');

type K8sModule = typeof import('@kubernetes/client-node');
type Json = Record<string, unknown>;
interface Attribute { name: string; baseName: string; type: string }
interface Model { getAttributeTypeMap(): Attribute[] }

/** apiVersion of each kind we ship (the client's models are per version, not per group). */
const API_VERSION: Readonly<Record<string, string>> = {
  Namespace: 'v1',
  ServiceAccount: 'v1',
  ConfigMap: 'v1',
  DaemonSet: 'apps/v1',
  ClusterRole: 'rbac.authorization.k8s.io/v1',
  ClusterRoleBinding: 'rbac.authorization.k8s.io/v1',
};

/** Required properties of a model, as its generated declaration marks them (`'name': string;` vs `'image'?: string;`). */
const requiredCache = new Map<string, Set<string>>();
function requiredOf(model: string): Set<string> {
  let required = requiredCache.get(model);
  if (!required) {
    const dts = readFileSync(join(MODELS, `${model}.d.ts`), 'utf8');
    required = new Set([...dts.matchAll(/^ {4}'([^']+)': /gm)].map((m) => m[1]));
    requiredCache.set(model, required);
  }
  return required;
}

/**
 * Every problem of `value` as the model `type`, by YAML path: fields the model does not have,
 * required fields missing, and values of the wrong JSON type.
 */
function checkModel(k8s: K8sModule, value: unknown, type: string, path: string, problems: string[]): void {
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (!Array.isArray(value)) problems.push(`${path}: must be a list (${type})`);
    else value.forEach((item, i) => checkModel(k8s, item, array[1], `${path}[${i}]`, problems));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (!isObject(value)) problems.push(`${path}: must be a mapping (${type})`);
    else for (const [key, item] of Object.entries(value)) checkModel(k8s, item, map[1], `${path}.${key}`, problems);
    return;
  }
  switch (type) {
    case 'string':
    case 'Date':
      if (typeof value !== 'string') problems.push(`${path}: must be a string`);
      return;
    case 'number':
      if (typeof value !== 'number') problems.push(`${path}: must be a number`);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') problems.push(`${path}: must be true or false`);
      return;
    case 'IntOrString':
      if (typeof value !== 'string' && typeof value !== 'number') problems.push(`${path}: must be a number or a string`);
      return;
    case 'any':
    case 'object':
      return;
  }
  const model = (k8s as unknown as Record<string, Model | undefined>)[type];
  assert.ok(model?.getAttributeTypeMap, `${path}: the client has no model ${type}; teach this test its type`);
  if (!isObject(value)) {
    problems.push(`${path}: must be a mapping (${type})`);
    return;
  }
  const attributes = model.getAttributeTypeMap();
  const byJsonName = new Map(attributes.map((a) => [a.baseName, a]));
  for (const [key, item] of Object.entries(value)) {
    const attribute = byJsonName.get(key);
    if (!attribute) problems.push(`${path}.${key}: unknown field of ${type}`);
    else checkModel(k8s, item, attribute.type, `${path}.${key}`, problems);
  }
  for (const name of requiredOf(type)) {
    const attribute = attributes.find((a) => a.name === name);
    if (attribute && value[attribute.baseName] === undefined) problems.push(`${path}.${attribute.baseName}: required by ${type}`);
  }
}

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

interface Manifest { file: string; doc: Json }

function manifestFiles(): string[] {
  return readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml').sort();
}

function loadManifests(): Manifest[] {
  const out: Manifest[] = [];
  for (const file of manifestFiles()) {
    for (const document of parseAllDocuments(readFileSync(join(DIR, file), 'utf8'))) {
      assert.deepEqual(document.errors.map((e) => e.message), [], `${file} is valid YAML`);
      const doc = document.toJS() as Json | null;
      if (doc) out.push({ file, doc });
    }
  }
  return out;
}

function one(manifests: Manifest[], kind: string): Json {
  const found = manifests.filter((m) => m.doc.kind === kind);
  assert.equal(found.length, 1, `exactly one ${kind}`);
  return found[0].doc;
}

/** `a.b[0].c` of an object; the test fails with the path when something on the way is missing. */
function at<T = unknown>(value: unknown, path: string): T {
  let current: unknown = value;
  for (const part of path.split(/\.|\[(\d+)\]/).filter(Boolean)) {
    assert.ok(current !== null && typeof current === 'object', `${path}: ${part} is missing`);
    current = (current as Record<string, unknown>)[part];
  }
  return current as T;
}

describe('deploy/kubernetes', function () {
  // Loading @kubernetes/client-node alone takes seconds on a busy 2-core machine.
  this.timeout(30_000);
  let k8s: K8sModule;
  const manifests = loadManifests();

  before(async () => {
    k8s = await import('@kubernetes/client-node');
  });

  it('the kustomization lists every manifest, and only those', () => {
    const kustomization = parse(readFileSync(join(DIR, 'kustomization.yaml'), 'utf8')) as { resources: string[]; images: Array<{ name: string }> };
    assert.deepEqual([...kustomization.resources].sort(), manifestFiles());
    const image = String(at(one(manifests, 'DaemonSet'), 'spec.template.spec.containers[0].image'));
    assert.ok(kustomization.images.some((i) => image.startsWith(`${i.name}:`)), `images: rewrites the DaemonSet's ${image}`);
  });

  it('every object matches its Kubernetes model: no unknown fields, required fields present, right types', () => {
    const kinds = new Set<string>();
    for (const { file, doc } of manifests) {
      const kind = String(doc.kind);
      kinds.add(kind);
      assert.equal(doc.apiVersion, API_VERSION[kind], `${file}: ${kind} is served at apiVersion ${API_VERSION[kind]}`);
      // The client names its models <Version><Kind> (V1DaemonSet), as its own loadYaml does.
      const version = String(doc.apiVersion).split('/').pop()!;
      const type = `${version[0].toUpperCase()}${version.slice(1)}${kind}`;
      const problems: string[] = [];
      checkModel(k8s, doc, type, kind, problems);
      assert.deepEqual(problems, [], `${file}`);
      assert.ok(at(doc, 'metadata.name'), `${file}: ${kind} has a name`);
      // The library's own typed load and dump lose nothing: every field is one it models.
      const typed: unknown = k8s.loadYaml(readFileSync(join(DIR, file), 'utf8'));
      assert.deepEqual(parse(k8s.dumpYaml(typed)), doc, `${file} survives the typed round trip`);
    }
    assert.deepEqual([...kinds].sort(), Object.keys(API_VERSION).sort());
  });

  it('the model check catches an unknown field, a wrong type and a missing required field', () => {
    const ds = structuredClone(one(manifests, 'DaemonSet'));
    const container = at(ds, 'spec.template.spec.containers[0]') as Json;
    container.imagePullPolcy = 'Always';
    delete container.name;
    (at(ds, 'spec.template.spec') as Json).hostPID = 'yes';
    const problems: string[] = [];
    checkModel(k8s, ds, 'V1DaemonSet', 'DaemonSet', problems);
    assert.deepEqual(problems.sort(), [
      'DaemonSet.spec.template.spec.containers[0].imagePullPolcy: unknown field of V1Container',
      'DaemonSet.spec.template.spec.containers[0].name: required by V1Container',
      'DaemonSet.spec.template.spec.hostPID: must be true or false',
    ]);
  });

  it('namespaced objects share one namespace; the binding joins the ServiceAccount to the ClusterRole', () => {
    const namespace = String(at(one(manifests, 'Namespace'), 'metadata.name'));
    for (const { file, doc } of manifests) {
      if (['Namespace', 'ClusterRole', 'ClusterRoleBinding'].includes(String(doc.kind))) assert.equal(at(doc, 'metadata.namespace'), undefined, `${file} is cluster-scoped`);
      else assert.equal(at(doc, 'metadata.namespace'), namespace, `${file} is in ${namespace}`);
    }
    const binding = one(manifests, 'ClusterRoleBinding');
    assert.deepEqual(at(binding, 'roleRef'), { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: at(one(manifests, 'ClusterRole'), 'metadata.name') });
    assert.deepEqual(at(binding, 'subjects'), [{ kind: 'ServiceAccount', name: at(one(manifests, 'ServiceAccount'), 'metadata.name'), namespace }]);
    assert.equal(at(one(manifests, 'DaemonSet'), 'spec.template.spec.serviceAccountName'), at(one(manifests, 'ServiceAccount'), 'metadata.name'));
  });

  describe('the ConfigMap and the DaemonSet', () => {
    const ds = one(manifests, 'DaemonSet');
    const pod = at(ds, 'spec.template.spec') as Json;
    const container = at(pod, 'containers[0]') as Json;
    const env = new Map((container.env as Array<{ name: string; value?: string; valueFrom?: unknown }>).map((e) => [e.name, e]));
    const configText = at<Record<string, string>>(one(manifests, 'ConfigMap'), 'data')['collector.yaml'];
    const load = () =>
      loadConfigText(configText, 'configmap.yaml#collector.yaml', DIR, { env: { OTLP_ENDPOINT: env.get('OTLP_ENDPOINT')?.value }, builtins: builtinFactories });

    it("collector.yaml passes validate with the DaemonSet's OTLP_ENDPOINT, exporting with otlp to it", () => {
      const { config } = load();
      assert.deepEqual(config.warnings, []);
      assert.deepEqual(config.pipelines.map((p) => p.exporters), [['otlp']]);
      assert.equal((config.components.exporter.get('otlp')!.config as { endpoint: string }).endpoint, env.get('OTLP_ENDPOINT')?.value);
      assert.match(configText, /endpoint: \$\{env:OTLP_ENDPOINT\}/);
      assert.throws(() => loadConfigText(configText, 'configmap.yaml', DIR, { env: {}, builtins: builtinFactories }), /exporters::otlp::endpoint/, 'without OTLP_ENDPOINT validate fails');
    });

    it('runs the config the ConfigMap mounts, with the node name from the downward API', () => {
      const args = container.args as string[];
      const configPath = args[args.indexOf('--config') + 1];
      const mount = (container.volumeMounts as Array<{ name: string; mountPath: string; readOnly?: boolean }>).find((m) => m.mountPath === dirname(configPath));
      assert.ok(mount, `${dirname(configPath)} is mounted`);
      const volume = (pod.volumes as Array<{ name: string; configMap?: { name: string } }>).find((v) => v.name === mount.name);
      assert.equal(volume?.configMap?.name, at(one(manifests, 'ConfigMap'), 'metadata.name'));
      assert.ok(configPath.endsWith('/collector.yaml'));
      assert.deepEqual(env.get('K8S_NODE_NAME')?.valueFrom, { fieldRef: { fieldPath: 'spec.nodeName' } });
    });

    it('has hostPID, exactly BPF, PERFMON, NET_ADMIN and SYS_PTRACE (containers\' OpenSSL), and the host cgroup and BTF trees read-only', () => {
      assert.equal(pod.hostPID, true);
      assert.deepEqual(at(container, 'securityContext.capabilities'), { drop: ['ALL'], add: ['BPF', 'PERFMON', 'NET_ADMIN', 'SYS_PTRACE'] });
      assert.notEqual(at(container, 'securityContext.privileged'), true);
      for (const path of ['/sys/fs/cgroup', '/sys/kernel/btf']) {
        const mount = (container.volumeMounts as Array<{ name: string; mountPath: string; readOnly?: boolean }>).find((m) => m.mountPath === path);
        assert.equal(mount?.readOnly, true, `${path} mounted read-only`);
        const volume = (pod.volumes as Array<{ name: string; hostPath?: { path: string } }>).find((v) => v.name === mount!.name);
        assert.equal(volume?.hostPath?.path, path, `${path} comes from the host`);
      }
    });

    it("probes the health endpoint collector.yaml configures, and outlives the shutdown deadline", () => {
      const { config } = load();
      const health = config.telemetry.healthCheck;
      assert.ok(health, 'service::telemetry::health_check is configured');
      assert.equal(health.endpoint.host, '0.0.0.0', 'the kubelet probes the pod IP');
      const ports = container.ports as Array<{ name: string; containerPort: number }>;
      for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
        const get = at(container, `${probe}.httpGet`) as { path: string; port: string | number };
        assert.equal(get.path, health.path, `${probe} path`);
        const port = typeof get.port === 'number' ? get.port : ports.find((p) => p.name === get.port)?.containerPort;
        assert.equal(port, health.endpoint.port, `${probe} port`);
      }
      assert.ok(Number(pod.terminationGracePeriodSeconds) * 1000 > config.telemetry.shutdownTimeoutMs, 'the kubelet waits for the drain');
      for (const key of ['requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory']) assert.ok(at(container, `resources.${key}`), `resources.${key}`);
    });

    it("the ClusterRole grants exactly the API calls the k8s_attributes processor makes with this config", async () => {
      const api = new FakeApiServer();
      const host = new HostTree();
      let processor: Processor | undefined;
      try {
        await api.start();
        const kubeconfig = join(host.root, 'kubeconfig');
        writeFileSync(kubeconfig, kubeconfigFor(api.url));
        const uid = '22222222-3333-4444-5555-666666666666';
        const cid = containerId('canary');
        api.add('pods', podObject({ name: 'canary-5f6c7-abcde', uid, node: 'node-a', ip: '10.42.0.30', containers: [{ name: 'canary', id: cid }], owner: { kind: 'ReplicaSet', name: 'canary-5f6c7' } }));
        api.addReplicaSet({ metadata: { name: 'canary-5f6c7', namespace: 'shop', uid: 'rs', ownerReferences: [{ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: 'canary', uid: 'ro', controller: true }] } });
        api.add('services', serviceObject('canary', 'shop', 'svc', { app: 'canary' }, '10.96.0.9'));
        const cgroupId = host.addProcess(4400, systemdContainerdPath(uid, cid));

        // The ConfigMap's k8s_attributes section; only where to find the API and the host differ.
        const section = (parse(configText) as { processors: { k8s_attributes: Json } }).processors.k8s_attributes;
        const merged = deepMerge(k8sAttributes.createDefaultConfig(), {
          ...section, auth_type: 'kubeConfig', kube_config_path: kubeconfig, node_name: 'node-a', proc_path: host.proc,
        });
        assert.deepEqual(validateAgainstSchema(k8sAttributes.configSchema, merged), []);
        const config = normalizeUnits(k8sAttributes.configSchema, merged) as K8sAttributesConfig;
        const next = new CollectingConsumer();
        processor = await k8sAttributes.createProcessor(createTestSettings('processor', 'k8s_attributes'), config, next);
        await processor.start(createTestHost());
        let seen = 0;
        const enriched = async (): Promise<boolean> => {
          await processor!.consume([connectionEvent(4400, cgroupId)]);
          return next.events[seen++]?.k8s?.ownerKind === 'Rollout';
        };
        let done = false;
        await eventually(() => {
          if (!done) void enriched().then((ok) => (done ||= ok));
          return done ? true : undefined;
        }, 10_000, 'the ReplicaSet owner lookup');
        await eventually(() => (api.openWatches('pods') && api.openWatches('services') ? true : undefined), 10_000, 'the watches');
      } finally {
        await processor?.shutdown();
        await api.stop();
        host.cleanup();
      }

      const made = new Set(api.requests.map((r) => rbacTriple(r.method, r.path, r.query)));
      const granted = new Set<string>();
      for (const rule of at(one(manifests, 'ClusterRole'), 'rules') as Array<{ apiGroups: string[]; resources: string[]; verbs: string[] }>) {
        for (const group of rule.apiGroups) for (const resource of rule.resources) for (const verb of rule.verbs) granted.add(`${group}/${resource}:${verb}`);
      }
      assert.deepEqual([...granted].sort(), [...made].sort(), 'granted = called');
    });
  });
});

/** The RBAC (apiGroup/resource:verb) a request needs: a GET of a collection is list (watch with ?watch=true), of an object get. */
function rbacTriple(method: string, path: string, query: URLSearchParams): string {
  const match = /^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)(?:\/namespaces\/[^/]+)?\/([^/]+)(?:\/([^/]+))?$/.exec(path);
  assert.ok(match, `an API path: ${path}`);
  const [, group = '', resource, name] = match;
  assert.equal(method, 'GET', `${method} ${path}: the processor only reads`);
  const verb = name ? 'get' : query.get('watch') === 'true' ? 'watch' : 'list';
  return `${group}/${resource}:${verb}`;
}
