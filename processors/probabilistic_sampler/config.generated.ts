/* Generated from config.schema.json by `npm run gen:types`. Do not edit. */

/**
 * Keeps a consistent percentage of connections (and whole traces) and marks kept events with their sampling ratio.
 */
export interface ProbabilisticSamplerProcessorConfig {
  /**
   * Percentage of connections (or traces, or events in per_event mode) to keep, 0-100, in steps of 1/16384. The original SamplingRate (0.0-1.0) is this divided by 100.
   */
  sampling_percentage?: number;
  /**
   * Seed mixed into the hash. Samplers with the same seed make nested decisions on the same key; give chained samplers different seeds so their ratios multiply correctly.
   */
  hash_seed?: number;
  /**
   * per_connection: every event of a connection shares one fate. per_event: each event is decided on its own (events with a trace id still follow their trace).
   */
  mode?: 'per_connection' | 'per_event';
  /**
   * Connection identity to hash. tuple: the sorted 5-tuple plus network namespace, identical for both ends and both directions of a connection. socket_cookie: the kernel socket cookie (one per socket, so the two ends of a loopback connection decide separately). Each falls back to the other when unknown.
   */
  connection_key?: 'tuple' | 'socket_cookie';
  /**
   * Decide L7 events that carry a W3C trace context by their trace id, so every span of a trace shares one fate (takes precedence over the connection key).
   */
  use_trace_id?: boolean;
  /**
   * Event kinds passed through unsampled and without a sampleRatio, e.g. [connection.failed] to keep exact failure counts.
   */
  exclude_kinds?: (
    | 'connection.opened'
    | 'connection.closed'
    | 'connection.updated'
    | 'connection.failed'
    | 'flow.updated'
    | 'icmp'
    | 'payload'
    | 'l7.http'
    | 'l7.dns'
    | 'l7.grpc'
    | 'l7.tls'
  )[];
}
