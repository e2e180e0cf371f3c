/**
 * The Kubernetes API through @kubernetes/client-node: its KubeConfig for auth and TLS, its
 * generated clients for list/get, its Watch for the streams. The library is an ES module and
 * costs seconds to load, so it is imported on first use, never at module load (`validate` and
 * `components` must stay fast and work without it).
 */
import type * as http from 'node:http';
import type * as K8s from '@kubernetes/client-node';
import { OBSERVER_USER_AGENT } from '../../core/identity';
import type { AuthPlan } from './auth';
import type { OwnerRef, PodObject } from './pod';
import type { ServiceObject } from './service';

type K8sModule = typeof K8s;

export interface ListPage<T> {
  items: T[];
  resourceVersion: string;
  /** Set when the server has more pages. */
  continueToken: string | undefined;
}

/** One event of a watch stream: type ADDED, MODIFIED, DELETED, BOOKMARK or ERROR. */
export type WatchCallback = (type: string, object: unknown) => void;

export interface WatchStarter {
  /**
   * Opens a watch; `done` is called once when it ends (null for a normal end). Resolves with a
   * controller that stops it.
   */
  watch(path: string, query: Record<string, string | number | boolean | undefined>, onEvent: WatchCallback, done: (error: unknown) => void): Promise<AbortController>;
}

export interface KubeClient {
  /** The API server URL, for messages. */
  readonly server: string;
  readonly watcher: WatchStarter;
  listPods(fieldSelector: string | undefined, continueToken: string | undefined, signal: AbortSignal): Promise<ListPage<PodObject>>;
  listServices(continueToken: string | undefined, signal: AbortSignal): Promise<ListPage<ServiceObject>>;
  /** The controller of a ReplicaSet; null when it has none. */
  replicaSetOwner(namespace: string, name: string, signal: AbortSignal): Promise<OwnerRef | null>;
  /** Drops every connection, including requests still connecting. */
  close(): void;
}

/** Items per list page: bounds the memory of one response on large clusters. */
const PAGE_SIZE = 500;

export async function loadKubeClient(plan: Exclude<AuthPlan, { kind: 'none' }>): Promise<KubeClient> {
  let k8s: K8sModule;
  try {
    k8s = await import('@kubernetes/client-node');
  } catch (error) {
    throw new Error(`loading @kubernetes/client-node failed (${(error as Error).message}); reinstall dependencies with npm ci`);
  }
  const agents = new AgentTracker();

  /**
   * The library opens a fresh agent per request and offers no way to cancel a watch that is
   * still connecting; tracking the agents lets shutdown destroy every socket it opened. Every
   * request (lists through the generated clients, watches through fetch options) says it comes
   * from the observer, so the l7 processor can leave it out.
   */
  class TrackedKubeConfig extends k8s.KubeConfig {
    override async applyToFetchOptions(opts: Parameters<K8s.KubeConfig['applyToFetchOptions']>[0]) {
      opts.headers = { ...opts.headers, 'User-Agent': OBSERVER_USER_AGENT };
      const init = await super.applyToFetchOptions(opts);
      agents.add(init.agent as http.Agent | undefined);
      return init;
    }

    override async applySecurityAuthentication(context: K8s.RequestContext): Promise<void> {
      await super.applySecurityAuthentication(context);
      context.setHeaderParam('User-Agent', OBSERVER_USER_AGENT);
      agents.add(context.getAgent());
    }
  }

  const kc = new TrackedKubeConfig();
  try {
    if (plan.kind === 'serviceAccount') {
      kc.loadFromCluster();
    } else {
      kc.loadFromFile(plan.path);
      if (plan.context) kc.setCurrentContext(plan.context);
    }
  } catch (error) {
    const source = plan.kind === 'serviceAccount' ? 'the in-cluster config' : `kubeconfig ${plan.path}`;
    throw new Error(`loading ${source}: ${(error as Error).message}`);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) {
    throw new Error(`kubeconfig ${plan.kind === 'kubeConfig' ? plan.path : ''} has no cluster for its current context: set context or fix the file`);
  }
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const watch = new k8s.Watch(kc);

  // The generated clients take per-call middleware; this one attaches the caller's signal
  // so a list can time out or be cancelled at shutdown.
  const withSignal = (signal: AbortSignal): K8s.ConfigurationOptions => ({
    middleware: [
      {
        pre: (ctx) => {
          ctx.setSignal(signal);
          return new k8s.Observable(Promise.resolve(ctx));
        },
        post: (ctx) => new k8s.Observable(Promise.resolve(ctx)),
      },
    ],
    middlewareMergeStrategy: 'append',
  });

  return {
    server: cluster.server,
    watcher: {
      watch: (path, query, onEvent, done) => watch.watch(path, query, (type: string, object: unknown) => onEvent(type, object), done),
    },
    async listPods(fieldSelector, continueToken, signal) {
      const list = await core.listPodForAllNamespaces({ fieldSelector, limit: PAGE_SIZE, _continue: continueToken }, withSignal(signal));
      return { items: list.items, resourceVersion: list.metadata?.resourceVersion ?? '', continueToken: list.metadata?._continue || undefined };
    },
    async listServices(continueToken, signal) {
      const list = await core.listServiceForAllNamespaces({ limit: PAGE_SIZE, _continue: continueToken }, withSignal(signal));
      return { items: list.items, resourceVersion: list.metadata?.resourceVersion ?? '', continueToken: list.metadata?._continue || undefined };
    },
    async replicaSetOwner(namespace, name, signal) {
      const rs = await apps.readNamespacedReplicaSet({ namespace, name }, withSignal(signal));
      const refs = rs.metadata?.ownerReferences ?? [];
      const ref = refs.find((r) => r.controller) ?? refs[0];
      return ref ? { kind: ref.kind, name: ref.name } : null;
    },
    close: () => agents.destroyAll(),
  };
}

/** Agents of requests in flight; idle ones are forgotten so the set stays small. */
class AgentTracker {
  private readonly agents = new Map<http.Agent, number>();
  private closed = false;

  add(agent: http.Agent | undefined): void {
    if (!agent || typeof agent.destroy !== 'function') return;
    if (this.closed) {
      agent.destroy();
      return;
    }
    const now = Date.now();
    for (const [known, since] of this.agents) {
      if (now - since > 10_000 && isIdle(known)) this.agents.delete(known);
    }
    this.agents.set(agent, now);
  }

  destroyAll(): void {
    this.closed = true;
    for (const agent of this.agents.keys()) agent.destroy();
    this.agents.clear();
  }
}

function isIdle(agent: http.Agent): boolean {
  const busy = (table: NodeJS.ReadOnlyDict<unknown[]>): boolean => Object.values(table).some((list) => (list?.length ?? 0) > 0);
  return !busy(agent.sockets) && !busy(agent.requests) && !busy(agent.freeSockets);
}
