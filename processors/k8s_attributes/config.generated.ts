/* Generated from config.schema.json by `npm run gen:types`. Do not edit. */

/**
 * Adds Kubernetes pod metadata to events: container identity from the process's cgroup, pod, owner, labels and service from a node-scoped pod watch, and optionally the remote side's pod or service. The original EnableK8sEnrichment.
 */
export interface K8SAttributesProcessorConfig {
  /**
   * false passes events through untouched and never reads /proc or contacts the API (the original EnableK8sEnrichment: false).
   */
  enabled?: boolean;
  /**
   * How to reach the Kubernetes API. serviceAccount: the in-cluster config (KUBERNETES_SERVICE_HOST/PORT and the mounted service-account token). kubeConfig: a kubeconfig file (kube_config_path, else KUBECONFIG, else ~/.kube/config). none: no API; events get only what the cgroup tells (container.id, k8s.pod.uid). auto: serviceAccount when KUBERNETES_SERVICE_HOST is set, else kubeConfig when kube_config_path or KUBECONFIG is set, else none with a warning.
   */
  auth_type?: 'auto' | 'serviceAccount' | 'kubeConfig' | 'none';
  /**
   * kubeConfig: the kubeconfig file to read. Empty means KUBECONFIG, else ~/.kube/config.
   */
  kube_config_path?: string;
  /**
   * kubeConfig: the kubeconfig context to use. Empty means the file's current-context.
   */
  context?: string;
  /**
   * The node this agent runs on; only its pods are watched (field selector spec.nodeName). Empty means the K8S_NODE_NAME, else NODE_NAME, environment variable (set it with the downward API, see README). When no node name is known, pods of the whole cluster are watched, bounded by max_pods.
   */
  node_name?: string;
  /**
   * What to copy besides the standard fields (namespace, pod name and uid, container name and id, node name).
   */
  extract?: {
    /**
     * Pod label keys to copy into k8s.labels (exported as k8s.pod.label.<key>). A key ending in * copies every label with that prefix, e.g. app.kubernetes.io/*. Nothing is copied by default.
     */
    labels?: string[];
    /**
     * Pod annotation keys to copy into k8s.annotations; a trailing * matches a prefix. Nothing is copied by default.
     */
    annotations?: string[];
    /**
     * Also watch Services (cluster-wide) and set k8s.serviceName to the first service, by name, in the pod's namespace whose selector matches the pod's labels. With enrich_peer, a remote address that is a Service's cluster IP is resolved to that service too.
     */
    service?: boolean;
    /**
     * Resolve the pod's controlling workload: ReplicaSet -> Deployment (pod-template-hash convention, else a ReplicaSet lookup), StatefulSet, DaemonSet, Job -> CronJob (name convention), and set k8s.ownerKind/ownerName.
     */
    owner?: boolean;
  };
  /**
   * Also describe the remote side: when the remote address is a known pod's IP (host-network pods excluded) or, with extract.service, a Service cluster IP, set peerK8s.
   */
  enrich_peer?: boolean;
  /**
   * enrich_peer: which pods' IPs are known. node: only this node's pods (the watch stays node-scoped). cluster: watch every pod in the cluster (more memory and API load, bounded by max_pods; this node's pods are kept first when full).
   */
  peer_scope?: 'node' | 'cluster';
  /**
   * Where the host's /proc is visible (e.g. /host/proc when mounted from the host into the agent's container); /proc/<pid>/cgroup gives each process's container.
   */
  proc_path?: string;
  /**
   * The host's cgroup v2 mount, used to map a cgroup id to its container after the process is gone. Empty means the cgroup2 entry of <proc_path>/mounts.
   */
  cgroup_path?: string;
  /**
   * Most pods kept in memory (and, with extract.service, most services). Beyond it new pods are not indexed (counted as pods_over_limit) until others are deleted.
   */
  max_pods?: number;
  /**
   * Entries in each of the process-id and cgroup-id caches (least recently used are evicted), and most container cgroups remembered from the cgroup tree walk.
   */
  cache_size?: number;
  /**
   * Make start() wait until the first pod list arrived, so the first events are enriched; start fails after sync_timeout. false: start at once, events pass through with what is known.
   */
  wait_for_sync?: boolean;
  /**
   * wait_for_sync: how long start() waits for the first pod list.
   */
  sync_timeout?: number;
  /**
   * How often the full pod (and service) list is fetched again to heal anything a watch missed; 0s disables. Watches reconnect on their own in between.
   */
  resync_interval?: number;
}
