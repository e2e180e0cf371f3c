/**
 * Feeds the PodStore from the API: a pod reflector (this node's pods, or the cluster's), a
 * service reflector when services are extracted, and on-demand ReplicaSet lookups for owners
 * the naming convention does not explain. Everything runs in the background; nothing here
 * ever holds up an event.
 */
import type { Logger } from '../../core/logger';
import { LruMap } from '../../core/lru';
import type { ComponentTelemetry } from '../../core/telemetry';
import { ApiErrorReporter, describeApiError, httpStatusOf } from './api-errors';
import type { AuthPlan } from './auth';
import { loadKubeClient, type KubeClient } from './kube-client';
import { toPodRecord, type OwnerRef, type PodObject, type PodRecord, type PodRecordOptions } from './pod';
import type { PodStore } from './pod-store';
import { Reflector } from './reflector';
import { toServiceRecord, type ServiceObject, type ServiceRecord } from './service';

export interface K8sSourceOptions {
  plan: Exclude<AuthPlan, { kind: 'none' }>;
  /** Watch only this node's pods; '' watches the whole cluster. */
  podNodeFilter: string;
  watchServices: boolean;
  resolveReplicaSets: boolean;
  recordOptions: PodRecordOptions;
  store: PodStore;
  resyncIntervalMs: number;
  /** Bound of the ReplicaSet owner cache. */
  cacheSize: number;
  telemetry: ComponentTelemetry;
  logger: Logger;
  /** How the client is made; tests of the error paths may pass their own loader. */
  loadClient?: (plan: Exclude<AuthPlan, { kind: 'none' }>) => Promise<KubeClient>;
  /** Reconnect backoff (ms): first wait and cap. */
  backoffMs?: { initial: number; max: number };
}

/** ReplicaSet lookups in flight at once. */
const MAX_RS_LOOKUPS = 4;
const RS_LOOKUP_TIMEOUT_MS = 10_000;
/** Bounded wait for the reflectors to wind down at shutdown. */
const STOP_TIMEOUT_MS = 5_000;

export class K8sSource {
  /** Resolves once pods (and services, when watched) were listed the first time. */
  readonly synced: Promise<void>;
  readonly errors: ApiErrorReporter;
  private markSynced!: () => void;
  private podsSynced = false;
  private servicesSynced: boolean;
  private client: KubeClient | undefined;
  private readonly reflectors: Array<Pick<Reflector<unknown, unknown>, 'start' | 'stop'>> = [];
  private readonly abort = new AbortController();
  private stopped = false;
  private init: Promise<void> | undefined;
  private readonly rsOwners: LruMap<string, OwnerRef | null>;
  private readonly rsPending = new Set<string>();
  private rsDenied = false;

  constructor(private readonly options: K8sSourceOptions) {
    this.errors = new ApiErrorReporter(options.logger, options.telemetry);
    this.servicesSynced = !options.watchServices;
    this.synced = new Promise((resolve) => {
      this.markSynced = resolve;
    });
    this.rsOwners = new LruMap(options.cacheSize);
  }

  start(): void {
    this.init ??= this.connect();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort();
    this.client?.close();
    const stops = Promise.all(this.reflectors.map((r) => r.stop()));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([stops, new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_TIMEOUT_MS)))]);
    clearTimeout(timer);
  }

  /**
   * The controller of a ReplicaSet, when known. Unknown ones are looked up in the background
   * (the store is invalidated when the answer arrives) and undefined is returned meanwhile.
   */
  replicaSetOwner(namespace: string, name: string): OwnerRef | null | undefined {
    const key = `${namespace}/${name}`;
    const known = this.rsOwners.get(key);
    if (known !== undefined) return known;
    const client = this.client;
    if (!client || !this.options.resolveReplicaSets || this.rsDenied || this.stopped) return undefined;
    if (this.rsPending.has(key) || this.rsPending.size >= MAX_RS_LOOKUPS) return undefined;
    this.rsPending.add(key);
    const signal = AbortSignal.any([this.abort.signal, AbortSignal.timeout(RS_LOOKUP_TIMEOUT_MS)]);
    client.replicaSetOwner(namespace, name, signal).then(
      (owner) => {
        this.rsOwners.set(key, owner);
        this.options.store.invalidate();
      },
      (error: unknown) => {
        if (this.stopped) return;
        const status = httpStatusOf(error);
        if (status === 404) {
          this.rsOwners.set(key, null);
        } else if (status === 403) {
          this.options.telemetry.add('api_errors', 1);
          this.rsDenied = true;
          this.options.logger.warn(
            `${describeApiError(error, `get replicaset ${key}`, client.server)}. Until then pods of ReplicaSets that no Deployment made report the ReplicaSet as their owner`,
          );
        } else {
          this.errors.report(describeApiError(error, `get replicaset ${key}`, client.server));
        }
      },
    ).finally(() => this.rsPending.delete(key));
    return undefined;
  }

  private async connect(): Promise<void> {
    const { options } = this;
    let client: KubeClient;
    try {
      client = await (options.loadClient ?? loadKubeClient)(options.plan);
    } catch (error) {
      options.telemetry.errors();
      this.errors.lastError = (error as Error).message;
      options.logger.error(`Kubernetes API client: ${(error as Error).message}; enrichment continues from cgroups only`);
      return;
    }
    if (this.stopped) {
      client.close();
      return;
    }
    this.client = client;
    const where = options.podNodeFilter ? `on node ${options.podNodeFilter}` : 'in the whole cluster';
    options.logger.info(`watching pods ${where}${options.watchServices ? ' and services' : ''} at ${client.server}`);

    const store = options.store;
    const pods = new Reflector<PodObject, PodRecord>({
      resource: 'pods',
      watchPath: '/api/v1/pods',
      fieldSelector: options.podNodeFilter ? `spec.nodeName=${options.podNodeFilter}` : undefined,
      list: (token, signal) => client.listPods(options.podNodeFilter ? `spec.nodeName=${options.podNodeFilter}` : undefined, token, signal),
      watcher: client.watcher,
      convert: (pod) => toPodRecord(pod, options.recordOptions),
      handlers: {
        replace: (records) => store.replacePods(records),
        upsert: (record) => store.upsertPod(record),
        remove: (record) => store.deletePod(record.uid),
      },
      onSynced: () => {
        this.errors.recovered(`${store.podCount} pods`);
        this.podsSynced = true;
        this.checkSynced();
      },
      onError: (error) => this.errors.report(describeApiError(error, 'list/watch pods', client.server)),
      resyncIntervalMs: options.resyncIntervalMs,
      initialBackoffMs: options.backoffMs?.initial,
      maxBackoffMs: options.backoffMs?.max,
    });
    this.reflectors.push(pods);
    if (options.watchServices) {
      const services = new Reflector<ServiceObject, ServiceRecord>({
        resource: 'services',
        watchPath: '/api/v1/services',
        list: (token, signal) => client.listServices(token, signal),
        watcher: client.watcher,
        convert: toServiceRecord,
        handlers: {
          replace: (records) => store.replaceServices(records),
          upsert: (record) => store.upsertService(record),
          remove: (record) => store.deleteService(record.uid),
        },
        onSynced: () => {
          this.servicesSynced = true;
          this.checkSynced();
        },
        onError: (error) => this.errors.report(describeApiError(error, 'list/watch services', client.server)),
        resyncIntervalMs: options.resyncIntervalMs,
        initialBackoffMs: options.backoffMs?.initial,
        maxBackoffMs: options.backoffMs?.max,
      });
      this.reflectors.push(services);
    }
    for (const r of this.reflectors) r.start();
  }

  private checkSynced(): void {
    if (this.podsSynced && this.servicesSynced) this.markSynced();
  }
}
