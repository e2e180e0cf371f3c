/* Generated from config.schema.json by `npm run gen:types`. Do not edit. */

/**
 * Prints spans (L7 transactions), log records (connection, flow, ICMP and payload events) and, optionally, metrics on standard output, as text or as one JSON object per line.
 */
export interface StdoutExporterConfig {
  /**
   * text: human-readable lines. json: exactly one JSON object per line, with the same semantic-convention attribute names the OTLP export uses.
   */
  format?: 'text' | 'json';
  /**
   * basic: one line per event. normal: adds the attributes (text) and trace ids. detailed: every attribute on its own line, debugging identifiers (thread, netns, cgroup) and a hex preview of payload chunks.
   */
  verbosity?: 'basic' | 'normal' | 'detailed';
  /**
   * Also print metrics (the L7 duration histograms, connection metrics and self-telemetry) every metrics_interval.
   */
  metrics?: boolean;
  /**
   * How often metrics are printed when metrics is true.
   */
  metrics_interval?: number;
  /**
   * At verbosity detailed, how many bytes of a payload chunk are shown as hex (payloads are otherwise summarized by length only).
   */
  payload_preview_bytes?: number;
  /**
   * Also put the attributes the semantic conventions mark Opt-In on spans: network.local.address/port, client.port, http.request.body.size and http.response.body.size. Off by default, as the conventions ask (and each attribute costs export throughput). verbosity detailed always includes them.
   */
  opt_in_attributes?: boolean;
  /**
   * Output held while standard output is slower than the pipeline (a slow terminal or a full pipe). Beyond this, batches are dropped and counted instead of blocking the pipeline.
   */
  max_buffered_bytes?: number;
  /**
   * service.name of the resource shown with metrics at verbosity detailed.
   */
  service_name?: string;
}
