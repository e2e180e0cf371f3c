/** The load-time configuration block (`const volatile struct ne_config cfg` in .rodata). */
import { COMM_LEN, MAX_CAPTURE, MAX_EXCLUDED_PROCESSES, MAX_PORTS, STRUCTS } from './layout';

export interface KernelConfig {
  /** Drop everything owned by this process; 0 for none. */
  excludeTgid: number;
  /** Drop everything owned by processes with these task names ('*' at the end: any rest). */
  excludeProcesses: readonly string[];
  /** 0..100, decided per socket cookie in the kernel. */
  samplingPercentage: number;
  /** Per-CPU cap of records per second; 0 for none. */
  maxEventsPerSecondPerCpu: number;
  /** Pending ring bytes before user space is woken. */
  wakeupThresholdBytes: number;
  /** A record this long after the last forced wake-up wakes user space (0: threshold only). */
  wakeupIntervalUs: number;
  /** Payload bytes captured per call. */
  captureBytes: number;
  /** HTTP/1 exchanges per second and CPU copied in full before whole ones are summarised; 0: always in full. */
  h1FullPerCpu: number;
  /** Summarised exchanges are only counted (NE_H1_COUNT records), not sent one by one. */
  h1CountsOnly: boolean;
  enableIpv4: boolean;
  enableIpv6: boolean;
  enableTcp: boolean;
  enableUdp: boolean;
  enableIcmp: boolean;
  enablePayload: boolean;
  /** Mark reported TCP connections for the live scan (its iterator is loaded too). */
  enableLiveTcp: boolean;
  /** OpenSSL uprobes are loaded: the socket programs join SSL calls to their sockets. */
  enableTlsPlain: boolean;
  /** When non-empty, only traffic with one of these ports (local or remote). */
  ports: readonly number[];
  /** Never traffic with one of these ports. */
  excludePorts: readonly number[];
}

export function encodeKernelConfig(c: KernelConfig): Uint8Array {
  const f = STRUCTS.ne_config.fields;
  if (c.ports.length > MAX_PORTS || c.excludePorts.length > MAX_PORTS) {
    throw new Error(`at most ${MAX_PORTS} ports and ${MAX_PORTS} excluded ports can be filtered in the kernel`);
  }
  if (c.excludeProcesses.length > MAX_EXCLUDED_PROCESSES) {
    throw new Error(`at most ${MAX_EXCLUDED_PROCESSES} process names can be excluded in the kernel`);
  }
  const bytes = new Uint8Array(STRUCTS.ne_config.size);
  const v = new DataView(bytes.buffer);
  v.setUint32(f.exclude_tgid, c.excludeTgid >>> 0, true);
  v.setUint32(f.sampling_pct, Math.max(0, Math.min(100, Math.round(c.samplingPercentage))), true);
  v.setUint32(f.max_events_per_sec_per_cpu, Math.max(0, Math.min(0xffffffff, Math.ceil(c.maxEventsPerSecondPerCpu))), true);
  v.setUint32(f.wakeup_threshold, c.wakeupThresholdBytes >>> 0, true);
  v.setUint32(f.wakeup_interval_us, Math.max(0, Math.min(0xffffffff, Math.round(c.wakeupIntervalUs))), true);
  v.setUint32(f.capture_bytes, Math.max(0, Math.min(MAX_CAPTURE, c.captureBytes)), true);
  v.setUint32(f.h1_full_per_cpu, Math.max(0, Math.min(0xffffffff, Math.ceil(c.h1FullPerCpu))), true);
  v.setUint8(f.enable_ipv4, c.enableIpv4 ? 1 : 0);
  v.setUint8(f.enable_ipv6, c.enableIpv6 ? 1 : 0);
  v.setUint8(f.enable_tcp, c.enableTcp ? 1 : 0);
  v.setUint8(f.enable_udp, c.enableUdp ? 1 : 0);
  v.setUint8(f.enable_icmp, c.enableIcmp ? 1 : 0);
  v.setUint8(f.enable_payload, c.enablePayload ? 1 : 0);
  v.setUint8(f.enable_live_tcp, c.enableLiveTcp ? 1 : 0);
  v.setUint8(f.enable_tls_plain, c.enableTlsPlain && c.enablePayload ? 1 : 0);
  v.setUint8(f.h1_counts_only, c.h1CountsOnly ? 1 : 0);
  v.setUint8(f.n_ports, c.ports.length);
  v.setUint8(f.n_exclude_ports, c.excludePorts.length);
  c.ports.forEach((p, i) => v.setUint16(f.ports + 2 * i, p, true));
  c.excludePorts.forEach((p, i) => v.setUint16(f.exclude_ports + 2 * i, p, true));
  v.setUint8(f.n_exclude_comm, c.excludeProcesses.length);
  c.excludeProcesses.forEach((name, i) => bytes.set(Buffer.from(name, 'latin1').subarray(0, COMM_LEN - 1), f.exclude_comm + COMM_LEN * i));
  return bytes;
}
