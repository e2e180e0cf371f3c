/* Generated from config.schema.json by `npm run gen:types`. Do not edit. */

/**
 * Serves the collector's metrics (L7 duration histograms, connection and flow metrics, self-telemetry) for Prometheus to scrape, in the Prometheus text format, with the resource as target_info.
 */
export interface PrometheusExporterConfig {
  /**
   * host:port the scrape endpoint listens on. 0.0.0.0 serves every interface (what a Prometheus elsewhere in the cluster needs); 127.0.0.1 keeps it on this host. Port 0 takes any free port (the log line says which).
   */
  endpoint?: string;
  /**
   * URL path of the metrics; every other path answers 404.
   */
  path?: string;
  /**
   * Append the unit to metric names as Prometheus names them (http.client.request.duration in s becomes http_client_request_duration_seconds; network_observer.io in By becomes network_observer_io_bytes_total). Counters always end in _total.
   */
  add_metric_suffixes?: boolean;
  resource_to_telemetry_conversion?: {
    /**
     * Also copy every resource attribute (service.name, host.name, k8s.node.name, ...) onto every series as labels. Off: they are served once, on target_info.
     */
    enabled?: boolean;
  };
  /**
   * service.name on target_info.
   */
  service_name?: string;
}
