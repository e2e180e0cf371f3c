/* Generated from config.schema.json by `npm run gen:types`. Do not edit. */

/**
 * Observes TCP connections, UDP flows, ICMP and socket payloads with eBPF (tracepoints and cgroup_skb, CO-RE, libbpf through koffi).
 */
export interface EbpfNetworkReceiverConfig {
  /**
   * Observe IPv4 traffic, including IPv4 carried by IPv6 sockets (v4-mapped).
   */
  enable_ipv4?: boolean;
  /**
   * Observe IPv6 traffic.
   */
  enable_ipv6?: boolean;
  /**
   * TCP connection lifecycle: connection.opened, connection.closed (bytes, segments, RTT, retransmits, close reason) and connection.failed.
   */
  enable_tcp?: boolean;
  /**
   * UDP flows (flow.updated) with the owning process and byte/datagram counts.
   */
  enable_udp?: boolean;
  /**
   * ICMP and ICMPv6 echo, unreachable and time-exceeded messages (icmp events and ICMP flows).
   */
  enable_icmp?: boolean;
  /**
   * Capture the first capture_bytes of every read/write on TCP and UDP sockets as payload events for the l7 processor.
   */
  enable_l7_capture?: boolean;
  /**
   * HTTPS plaintext: uprobes on OpenSSL's SSL_read/SSL_write (and their _ex forms) in every libssl and every executable exporting them (node), found in running processes and rescanned; the plaintext is joined to its TCP connection and parsed like cleartext by the l7 processor. Needs enable_l7_capture.
   */
  tls_uprobes?: boolean;
  /**
   * Extra OpenSSL copies to probe besides those found in running processes and the usual library directories: paths of libssl.so files or of executables that export SSL_read and SSL_write.
   */
  tls_libraries?: string[];
  /**
   * How often processes started since the last pass are searched for OpenSSL copies (all processes every sixth pass, for libraries loaded late). A copy already attached covers new processes at once; this finds copies at new paths (containers). 0s: only at start.
   */
  tls_rescan_interval?: number;
  /**
   * OpenSSL copies (files) attached at most; more are listed by doctor and counted in tls_files_over_limit.
   */
  tls_max_files?: number;
  /**
   * HTTP/1 transactions per second (whole host) whose bytes are copied to user space in full, each to become a span. Beyond that rate, exchanges the kernel can frame exactly (a whole request in one call, answered by a whole response in the next, bodies framed by Content-Length) cross the ring as one summary record: the l7 processor counts them and records their duration metrics, but makes no span of them. Set it to the rate your pipeline exports at (the shipped pipeline: its rate_limit); 0 copies every transaction in full.
   */
  http1_summary_above?: number;
  /**
   * Bytes captured per read/write call when enable_l7_capture is on (at most 8 KiB). Longer calls are marked truncated and counted.
   */
  capture_bytes?: number;
  /**
   * When not empty, only TCP/UDP traffic with one of these ports (local or remote) is reported. Filtered in the kernel; at most 16.
   *
   * @maxItems 16
   */
  ports?: number[];
  /**
   * TCP/UDP traffic with one of these ports (local or remote) is never reported. Filtered in the kernel; at most 16.
   *
   * @maxItems 16
   */
  exclude_ports?: number[];
  /**
   * Drop the observer's own traffic (its OTLP exports, API calls) in the kernel.
   */
  exclude_self?: boolean;
  /**
   * Processes whose connections, flows and payload are never reported, by task name (the kernel's 15-character comm; a trailing * matches any rest). The far end of their connections on this host (a collector on loopback or in a local network namespace) is left out too. The defaults are OpenTelemetry Collector builds, Grafana Alloy and Beyla, so a node-local collector does not report its own traffic; [] reports every process.
   *
   * @maxItems 8
   *
   * Items: A task name (comm, at most 15 characters), or a prefix followed by *.
   */
  exclude_processes?:
    | []
    | [string]
    | [string, string]
    | [string, string, string]
    | [string, string, string, string]
    | [string, string, string, string, string]
    | [string, string, string, string, string, string]
    | [string, string, string, string, string, string, string]
    | [string, string, string, string, string, string, string, string];
  /**
   * Percentage of sockets reported, decided in the kernel per socket cookie so every event of a connection or flow shares one fate.
   */
  kernel_sampling_percentage?: number;
  /**
   * Cap on records the kernel emits per second (split evenly across CPUs); excess is counted as rate_limited. 0 disables the cap.
   */
  kernel_max_events_per_second?: number;
  /**
   * Size of the kernel ring buffer: a power of two, at least 4 KiB, at most 1 GiB.
   */
  ring_buffer_size?: number;
  /**
   * User-space memory that takes the ring's records undecoded when the reader falls behind (the pipeline pushes back, or a burst meets code V8 has not optimized yet), so the kernel ring does not fill; used only while behind. 0 turns it off. At most 1 GiB.
   */
  burst_buffer_size?: number;
  /**
   * The kernel wakes the reader when this many bytes are pending, so the ring never fills unnoticed; between such wake-ups poll_interval applies. Larger means fewer, larger wake-ups at high rates. 0 (the default) means automatic: 1 MiB, or a quarter of ring_buffer_size when that is smaller. An explicit value must be smaller than ring_buffer_size.
   */
  wakeup_threshold_bytes?: number;
  /**
   * While records keep coming, the longest they wait in the ring before the kernel wakes the reader (the first record after a quiet spell wakes it at once; the last ones before a quiet spell wait at most twice this; above wakeup_threshold_bytes pending the threshold wakes it sooner). Each wake-up costs the process CPU, so shorter means lower latency and more CPU.
   */
  poll_interval?: number;
  /**
   * Records decoded per event-loop turn before yielding to other work.
   */
  max_records_per_turn?: number;
  /**
   * Buffer for the kernel verifier's log, shown when a program is rejected (allocated lazily; at most 1 GiB).
   */
  verifier_log_size?: number;
  /**
   * Use the CO-RE objects (the only kind shipped). false is rejected with an explanation.
   */
  enable_core?: boolean;
  /**
   * Events per batch handed to the pipeline (a partial batch goes after flush_interval). Smaller batches mean lower latency; 1000 also measured cheaper than 10000 at 100k events/s.
   */
  buffer_size?: number;
  /**
   * Longest time a partial batch waits before it is passed on.
   */
  flush_interval?: number;
  /**
   * Sockets the kernel tracks at once (LRU); older entries are forgotten first. Each costs about 100 bytes of kernel memory; at most 4194304.
   */
  max_tracked_sockets?: number;
  /**
   * How often every open TCP connection whose open was reported gets a connection.updated with its counters so far, read from the kernel by a BPF socket iterator (in every network namespace). Keeps long-idle connections alive in conntrack (keep it below its connection_timeout) and shows long transfers before they end. 0s turns it off; otherwise at least 1s (each pass walks every open connection).
   */
  tcp_update_interval?: number;
  /**
   * How often UDP/ICMP flows that changed are reported (cumulative counters).
   */
  flow_report_interval?: number;
  /**
   * A UDP/ICMP flow without packets for this long is reported as final and forgotten.
   */
  flow_idle_timeout?: number;
  /**
   * UDP/ICMP flows held at once; at the limit the oldest is reported as final and dropped.
   */
  max_flows?: number;
  /**
   * cgroup v2 directory the packet-level programs attach to. Empty: the cgroup2 mount point found in /proc/mounts (all processes).
   */
  cgroup_path?: string;
  /**
   * Emit synthetic traffic instead of loading eBPF (development without privileges). The environment variable TAPIO_MOCK_MODE=true has the same effect.
   */
  mock_mode?: boolean;
  /**
   * Synthetic events per second in mock mode.
   */
  mock_events_per_second?: number;
}
