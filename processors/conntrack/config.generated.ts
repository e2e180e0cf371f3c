/* Generated from config.schema.json by `npm run gen:types`. Do not edit. */

/**
 * Tracks TCP connections and UDP/ICMP flows: lifecycle events with cumulative counters, both endpoints of local connections paired, and connection/flow metrics.
 */
export interface ConntrackProcessorConfig {
  /**
   * Most live entries (TCP connections plus UDP and ICMP flows) kept at once; beyond it the least recently active entry is evicted (closed with reason evicted, or a final flow update). Original option: MaxConnections.
   */
  max_connections?: number;
  /**
   * A TCP connection with no event for this long is closed with reason timeout. Original option: ConnectionTimeout.
   */
  connection_timeout?: number;
  /**
   * How often idle entries are expired (at least 100ms: each pass walks the table); an entry lives at most its timeout plus this. Original option: ConnectionCleanupInterval.
   */
  cleanup_interval?: number;
  /**
   * Every interval, each live entry at least this old gets a connection.updated or flow.updated with its cumulative counters (NetFlow-style active timeout); 0s turns periodic updates off. Original option: FlushInterval.
   */
  flush_interval?: number;
  /**
   * A UDP flow with no traffic for this long ends with a final flow.updated (the Linux nf_conntrack UDP default).
   */
  udp_idle_timeout?: number;
  /**
   * An ICMP echo flow with no traffic for this long ends with a final flow.updated (the Linux nf_conntrack ICMP default).
   */
  icmp_idle_timeout?: number;
  /**
   * How long a closed connection is remembered, to drop repeated or late close events and to pair the two endpoints of a loopback connection that close at different times. At most max(1024, max_connections/16) are kept.
   */
  closed_retention?: number;
  /**
   * How to read the byte and packet counts of incoming flow.updated events. delta: counts since the receiver's previous event for the flow (per packet, per call or per report), added up here. cumulative: totals since the flow began; the growth since the last event is added. Either way conntrack emits cumulative flow.updated.
   */
  flow_counters?: 'delta' | 'cumulative';
  /**
   * Pass connection.opened/updated/closed/failed and cumulative flow.updated events downstream. When false the table only feeds metrics and these events are dropped (icmp, payload and L7 events always pass).
   */
  emit_lifecycle_events?: boolean;
  /**
   * Connection and flow metrics recorded on the collector's meter provider.
   */
  metrics?: {
    /**
     * Record network_observer.connection.* , network_observer.io and network_observer.packets.
     */
    enabled?: boolean;
    /**
     * Attributes of every connection metric, taken from the entry's first event. k8s.owner adds the controlling workload's name attribute (k8s.deployment.name, k8s.statefulset.name, k8s.daemonset.name, k8s.replicaset.name, k8s.job.name, k8s.cronjob.name) when the event has Kubernetes metadata.
     */
    attributes?: (
      | 'network.transport'
      | 'network.type'
      | 'network_observer.direction'
      | 'network.peer.address'
      | 'network.peer.port'
      | 'network.local.address'
      | 'network.local.port'
      | 'process.executable.name'
      | 'process.pid'
      | 'k8s.namespace.name'
      | 'k8s.pod.name'
      | 'k8s.container.name'
      | 'k8s.node.name'
      | 'container.id'
      | 'k8s.owner'
    )[];
    /**
     * Most distinct attribute sets; entries beyond it are counted in one series with otel.metric.overflow=true (and in the metric_series_overflow telemetry counter). The closed counter multiplies this by up to 6 close reasons: 300 keeps it under the OpenTelemetry SDK's default limit of 2000 series per instrument.
     */
    max_series?: number;
  };
}
