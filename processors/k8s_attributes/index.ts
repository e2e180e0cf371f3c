/**
 * k8s_attributes: Kubernetes metadata on every event whose process runs in a pod (and, with
 * enrich_peer, on its remote side). See README.md.
 */
import { existsSync } from 'node:fs';
import type { ProcessorFactory, ValidationIssue } from '../../core/component';
import { defaultsFromSchema } from '../../core/config/schema-defaults';
import { createProcessor } from '../../core/processor-helper';
import { K8sConfigError, planAuth } from './auth';
import type { K8SAttributesProcessorConfig } from './config.generated';
import schema from './config.schema.json';
import { ContainerResolver } from './container-resolver';
import { Enricher } from './enricher';
import { K8sSource } from './k8s-source';
import { findCgroup2Mount } from './mounts';
import { keyFilter } from './pod';
import { PodStore } from './pod-store';

type ExtractConfig = Required<NonNullable<K8SAttributesProcessorConfig['extract']>>;
export type K8sAttributesConfig = Required<Omit<K8SAttributesProcessorConfig, 'extract'>> & { extract: ExtractConfig };

/** The node name from the config, else from the downward-API variables. */
export function resolveNodeName(configured: string, env: NodeJS.ProcessEnv = process.env): string {
  return configured || env.K8S_NODE_NAME || env.NODE_NAME || '';
}

export const factory: ProcessorFactory<K8sAttributesConfig> = {
  kind: 'processor',
  type: 'k8s_attributes',
  stability: 'alpha',
  description: 'Adds Kubernetes pod, container, owner, label and service metadata to events (from cgroups and a node-scoped pod watch).',
  configSchema: schema,

  createDefaultConfig: () => defaultsFromSchema<K8sAttributesConfig>(schema),

  validate(config): ValidationIssue[] {
    const issues: ValidationIssue[] = [];
    if (config.peer_scope === 'cluster' && !config.enrich_peer) {
      issues.push({ path: ['peer_scope'], message: 'cluster only matters with enrich_peer: true (it watches every pod in the cluster); use node or enable enrich_peer' });
    }
    if (config.wait_for_sync && config.auth_type === 'none') {
      issues.push({ path: ['wait_for_sync'], message: 'needs the Kubernetes API, but auth_type is none' });
    }
    if (config.wait_for_sync && config.sync_timeout <= 0) {
      issues.push({ path: ['sync_timeout'], message: 'must be above 0 with wait_for_sync: true' });
    }
    if (config.auth_type === 'serviceAccount' || config.auth_type === 'none') {
      if (config.kube_config_path) issues.push({ path: ['kube_config_path'], message: `is only used with auth_type kubeConfig or auto, not ${config.auth_type}` });
      if (config.context) issues.push({ path: ['context'], message: `is only used with auth_type kubeConfig or auto, not ${config.auth_type}` });
    }
    if (config.resync_interval > 0 && config.resync_interval < 10_000) {
      issues.push({ path: ['resync_interval'], message: 'must be 0 (off) or at least 10s: every resync lists all watched pods again' });
    }
    return issues;
  },

  createProcessor(settings, config, next) {
    const { telemetry, logger, clock } = settings;
    if (!config.enabled) {
      return createProcessor(settings, next, { mutatesData: false, process: (batch) => batch });
    }
    const nodeName = resolveNodeName(config.node_name);
    const extract = config.extract;
    const store = new PodStore({
      maxPods: config.max_pods,
      nodeName,
      extractOwner: extract.owner,
      extractService: extract.service,
      replicaSetOwner: (namespace, name) => source?.replicaSetOwner(namespace, name),
    });
    let source: K8sSource | undefined;
    let resolver: ContainerResolver | undefined;
    let enricher: Enricher | undefined;

    telemetry.add('enriched', 0);
    telemetry.add('peer_enriched', 0);
    telemetry.registerGauge('pods', () => store.podCount);
    telemetry.registerGauge('services', () => store.serviceCount);
    telemetry.registerGauge('pods_over_limit', () => store.podsOverLimit);
    telemetry.registerGauge('pid_cache', () => resolver?.byPid.size ?? 0);
    telemetry.registerGauge('cgroup_cache', () => resolver?.byCgroup.size ?? 0);
    telemetry.registerGauge('cgroup_walks', () => resolver?.walker?.walks ?? 0);

    return createProcessor(settings, next, {
      // Sets event.k8s / event.peerK8s in place.
      mutatesData: true,
      async start() {
        let plan;
        try {
          plan = planAuth({ authType: config.auth_type, kubeConfigPath: config.kube_config_path, context: config.context });
        } catch (error) {
          if (error instanceof K8sConfigError) throw new Error(`k8s_attributes: ${error.message}`);
          throw error;
        }
        const procPath = config.proc_path;
        if (!existsSync(procPath)) logger.warn(`proc_path ${procPath} does not exist: processes cannot be mapped to containers; mount the host's /proc and set proc_path`);
        const cgroupRoot = config.cgroup_path || findCgroup2Mount(procPath);
        if (!cgroupRoot) {
          logger.info(`no cgroup2 mount in ${procPath}/mounts: events of exited processes cannot be mapped by cgroup id; set cgroup_path to the host's cgroup2 mount`);
        }
        resolver = new ContainerResolver({ procPath, cgroupRoot, cacheSize: config.cache_size, now: () => clock.now() });
        resolver.start();
        enricher = new Enricher(resolver, store, { nodeName, enrichPeer: config.enrich_peer });

        if (plan.kind === 'none') {
          const message = `no Kubernetes API (${plan.reason}): events get only container.id and k8s.pod.uid from their cgroup`;
          if (config.auth_type === 'none') logger.info(message);
          else logger.warn(`${message}; set auth_type (see README) to add pod names, owners and labels`);
          return;
        }
        const clusterWide = config.enrich_peer && config.peer_scope === 'cluster';
        if (!nodeName && !clusterWide) {
          logger.warn('no node name (node_name, K8S_NODE_NAME or NODE_NAME): watching the pods of the whole cluster, bounded by max_pods; set K8S_NODE_NAME from spec.nodeName (see README)');
        }
        source = new K8sSource({
          plan,
          podNodeFilter: clusterWide ? '' : nodeName,
          watchServices: extract.service,
          resolveReplicaSets: extract.owner,
          recordOptions: { labels: keyFilter(extract.labels), annotations: keyFilter(extract.annotations), keepAllLabels: extract.service },
          store,
          resyncIntervalMs: config.resync_interval,
          cacheSize: config.cache_size,
          telemetry,
          logger,
        });
        source.start();
        if (config.wait_for_sync) {
          try {
            await waitForSync(source, config.sync_timeout);
          } catch (error) {
            await resolver.stop();
            throw error;
          }
        }
      },
      process(batch) {
        if (!enricher) return batch;
        const before = enricher.enriched;
        const peersBefore = enricher.peerEnriched;
        const out = enricher.process(batch);
        telemetry.add('enriched', enricher.enriched - before);
        telemetry.add('peer_enriched', enricher.peerEnriched - peersBefore);
        return out;
      },
      async shutdown() {
        await source?.stop();
        await resolver?.stop();
      },
    });
  },
};

async function waitForSync(source: K8sSource, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  const result = await Promise.race([source.synced.then(() => 'synced' as const), timedOut]);
  clearTimeout(timer);
  if (result === 'timeout') {
    await source.stop();
    const cause = source.errors.lastError ? `: ${source.errors.lastError}` : '';
    throw new Error(`k8s_attributes: pod metadata did not sync within ${timeoutMs} ms${cause}. Check API access, or set wait_for_sync: false to start without it`);
  }
}
