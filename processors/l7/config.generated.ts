/* Generated from config.schema.json by `npm run gen:types`. Do not edit. */

/**
 * Turns captured payload chunks into L7 transactions (HTTP/1.x, HTTP/2 and gRPC, DNS, TLS handshakes) joined to their connection.
 */
export interface L7ProcessorConfig {
  /**
   * Parse payload into L7 transactions (the original EnableL7Parse). When false, other events pass through untouched and payload events are dropped unless forward_payload is set.
   */
  enabled?: boolean;
  /**
   * Protocols to detect and parse. http2 includes gRPC; tls reports handshake metadata only (no decryption). Removing tls is the original EnableHTTPS=false.
   */
  protocols?: ('http1' | 'http2' | 'dns' | 'tls')[];
  /**
   * Ports where HTTP/1.x (and cleartext HTTP/2) is expected (the original HTTPPorts). A hint in port_mode hint; the only ports looked at in restrict.
   */
  http_ports?: number[];
  /**
   * Port where DNS is expected (the original DNSPort); 0 for none. Same hint/restrict rules as http_ports.
   */
  dns_port?: number;
  /**
   * Ports where TLS is expected (the original HTTPSPorts).
   */
  https_ports?: number[];
  /**
   * Ports where gRPC (HTTP/2, cleartext or TLS) is expected.
   */
  grpc_ports?: number[];
  /**
   * hint: every protocol is detected by content on any port; on a configured port its protocol is tried first and detection never gives up. restrict: a protocol is only detected on its configured ports (connections on other ports are not inspected).
   */
  port_mode?: 'hint' | 'restrict';
  /**
   * Keep URL query strings (url.query). Off by default because query strings often carry tokens.
   */
  capture_query?: boolean;
  /**
   * A request or query without its response after this long is reported with error.type timeout.
   */
  transaction_timeout?: number;
  /**
   * Parser state of a connection with no payload for this long is dropped (closed connections are dropped at once).
   */
  session_idle_timeout?: number;
  /**
   * Connections tracked at once; beyond it the least recently active one is dropped (its pending exchanges are reported with error.type session_evicted).
   */
  max_sessions?: number;
  /**
   * Bytes a connection may buffer per direction for a unit split across reads (an HTTP header block, a DNS-over-TCP message, an HTTP/2 frame header). Larger units are counted as malformed and skipped.
   */
  max_buffer_bytes?: number;
  /**
   * Also pass the raw payload events downstream (they are consumed by default).
   */
  forward_payload?: boolean;
  /**
   * Drop HTTP and HTTP/2/gRPC transactions whose request carries the observer's own User-Agent (network-observer/<version>, sent by its OTLP exporters and Kubernetes client), at either end of the connection and from any node, and count them in self_transactions_dropped. Set false to report them.
   */
  drop_self_traffic?: boolean;
}
