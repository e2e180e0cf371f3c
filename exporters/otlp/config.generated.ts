/* Generated from config.schema.json by `npm run gen:types`. Do not edit. */

/**
 * Exports spans (L7 transactions), metrics (L7 duration histograms, connection metrics, self-telemetry) and log records (connection lifecycle) over OTLP (HTTP or gRPC) to any OpenTelemetry backend. Options follow the OpenTelemetry Collector's otlphttp and otlp exporters.
 */
export interface OtlpExporterConfig {
  /**
   * Base URL of the OTLP receiver; /v1/traces, /v1/metrics and /v1/logs are appended for each signal, or with protocol: grpc the Export method path of each collector service (usually port 4317).
   */
  endpoint?: string;
  /**
   * OTLP transport and encoding, as the OpenTelemetry SDKs' OTEL_EXPORTER_OTLP_PROTOCOL: http/protobuf (OTLP/HTTP, binary protobuf POSTed to /v1/<signal>, application/x-protobuf), http/json (OTLP/HTTP with JSON bodies, application/json) or grpc (OTLP/gRPC: the Export method of each collector service over HTTP/2; cleartext h2c for http:// endpoints, TLS for https://; usually port 4317; protobuf).
   */
  protocol?: 'http/protobuf' | 'http/json' | 'grpc';
  /**
   * Full URL for spans, used as is (no path appended). Empty: endpoint + /v1/traces.
   */
  traces_endpoint?: string;
  /**
   * Full URL for metrics, used as is. Empty: endpoint + /v1/metrics.
   */
  metrics_endpoint?: string;
  /**
   * Full URL for log records, used as is. Empty: endpoint + /v1/logs.
   */
  logs_endpoint?: string;
  /**
   * Extra HTTP headers sent with every request, e.g. an API key (values may use ${env:VAR}).
   */
  headers?: {
    [k: string]: string;
  };
  /**
   * Request body compression.
   */
  compression?: 'gzip' | 'none';
  /**
   * Compression tuning.
   */
  compression_params?: {
    /**
     * gzip level: 1 is fastest (compression runs on the libuv thread pool, off the event loop), 9 smallest.
     */
    level?: number;
  };
  /**
   * Time limit of one HTTP request (one attempt); a timeout is retried. 10s is the OTLP exporter specification's default.
   */
  timeout?: number;
  /**
   * Retries of failed requests (network errors, timeouts, HTTP 429/502/503/504) with exponential backoff; a Retry-After header replaces the computed delay.
   */
  retry_on_failure?: {
    /**
     * Retry transient failures. false: a failed request is dropped at once.
     */
    enabled?: boolean;
    /**
     * Delay before the first retry.
     */
    initial_interval?: number;
    /**
     * Upper bound of the delay between retries.
     */
    max_interval?: number;
    /**
     * Give a request up (drop it, counted) once this much time has passed since its first attempt; 0s retries forever (the queue still bounds memory).
     */
    max_elapsed_time?: number;
    /**
     * Factor applied to the delay after each retry.
     */
    multiplier?: number;
    /**
     * Jitter: each delay is drawn from [delay*(1-f), delay*(1+f)].
     */
    randomization_factor?: number;
  };
  /**
   * Bounded in-memory queue between the pipeline and the backend: consume() never waits for the network.
   */
  sending_queue?: {
    /**
     * false: no queue, the pipeline waits for each request (with its retries) to finish.
     */
    enabled?: boolean;
    /**
     * Maximum items waiting to be sent (spans, log records and metric data points). When full, the oldest requests are dropped and counted.
     */
    queue_size?: number;
    /**
     * Requests sent concurrently.
     */
    num_consumers?: number;
    /**
     * How spans and log records are grouped into requests.
     */
    batch?: {
      /**
       * Maximum spans or log records per request; a full batch is sent at once.
       */
      max_size?: number;
      /**
       * A partial batch is sent after waiting this long.
       */
      flush_timeout?: number;
    };
  };
  /**
   * Which signals this exporter sends.
   */
  signals?: {
    /**
     * One span per L7 transaction (HTTP, DNS, gRPC, TLS handshake).
     */
    traces?: boolean;
    /**
     * The L7 duration histograms and every metric recorded on the collector's MeterProvider (conntrack connection metrics, self-telemetry).
     */
    metrics?: boolean;
    /**
     * One log record per lifecycle event of the kinds in logs.event_kinds.
     */
    logs?: boolean;
  };
  /**
   * Log-record options (when signals.logs is true).
   */
  logs?: {
    /**
     * Event kinds exported as log records. connection.updated and flow.updated are periodic and can be numerous.
     */
    event_kinds?: (
      | 'connection.opened'
      | 'connection.closed'
      | 'connection.updated'
      | 'connection.failed'
      | 'flow.updated'
      | 'icmp'
    )[];
  };
  /**
   * Metric export options (when signals.metrics is true).
   */
  metrics?: {
    /**
     * Aggregation temporality of counters and histograms. delta: counters and histograms as deltas, up-down counters stay cumulative (as the OTLP exporter's delta preference).
     */
    temporality?: 'cumulative' | 'delta';
    /**
     * How often metrics are collected and sent.
     */
    export_interval?: number;
  };
  /**
   * service.name of the resource describing this observer.
   */
  service_name?: string;
  /**
   * Also put the attributes the semantic conventions mark Opt-In on spans: network.local.address/port, client.port, http.request.body.size and http.response.body.size. Off by default, as the conventions ask (and each attribute costs export throughput).
   */
  opt_in_attributes?: boolean;
  /**
   * TLS client settings for https:// endpoints (OTLP/HTTP and OTLP/gRPC). Without them the system's trust store is used.
   */
  tls?: {
    /**
     * PEM file of the certificate authorities to trust for the backend, instead of the system's.
     */
    ca_file?: string;
    /**
     * PEM client certificate, for backends that require mutual TLS; needs key_file.
     */
    cert_file?: string;
    /**
     * PEM private key of cert_file.
     */
    key_file?: string;
    /**
     * Accept any server certificate. For testing only: anyone on the path can read and change the data.
     */
    insecure_skip_verify?: boolean;
    /**
     * Name to check the server certificate against (and send as SNI) instead of the endpoint's host.
     */
    server_name_override?: string;
  };
  /**
   * On shutdown, how long queued data may take to be delivered (retries included) before what is left is dropped and counted.
   */
  shutdown_timeout?: number;
}
