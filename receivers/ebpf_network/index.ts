/**
 * ebpf_network: TCP connections, UDP and ICMP flows, ICMP messages and socket payloads from
 * the kernel through eBPF (CO-RE, tracepoints and cgroup_skb; no kprobes). See README.md.
 */
import type { ReceiverFactory, ValidationIssue } from '../../core/component';
import { defaultsFromSchema } from '../../core/config/schema-defaults';
import schema from './config.schema.json';
import { MAX_CAPTURE, MAX_PORTS } from './layout';
import { EbpfNetworkReceiver, type EbpfNetworkConfig } from './receiver';

export type { EbpfNetworkConfig } from './receiver';

const MIB = 1024 * 1024;
/** A live scan more often than this would cost more than the connections it keeps alive. */
const MIN_TCP_UPDATE_INTERVAL_MS = 1000;

export const factory: ReceiverFactory<EbpfNetworkConfig> = {
  kind: 'receiver',
  type: 'ebpf_network',
  stability: 'alpha',
  description: 'TCP connections, UDP/ICMP flows, ICMP messages and socket payloads from the kernel via eBPF (mock mode for development).',
  configSchema: schema,

  createDefaultConfig: () => defaultsFromSchema<EbpfNetworkConfig>(schema),

  // Loaded on demand: the checks load libbpf and try every program, which validate never needs.
  doctorChecks: async () => (await import('./doctor')).runDoctorChecks(),

  validate(config): ValidationIssue[] {
    const issues: ValidationIssue[] = [];
    if (!config.enable_ipv4 && !config.enable_ipv6) {
      issues.push({ path: ['enable_ipv4'], message: 'enable_ipv4 and enable_ipv6 are both false: nothing would be observed; enable at least one' });
    }
    if (!config.enable_tcp && !config.enable_udp && !config.enable_icmp && !config.enable_l7_capture) {
      issues.push({ path: ['enable_tcp'], message: 'enable_tcp, enable_udp, enable_icmp and enable_l7_capture are all false: nothing would be observed; enable at least one' });
    }
    const ring = config.ring_buffer_size;
    if (!Number.isInteger(ring) || ring < 4096 || ring > 1024 * MIB || (ring & (ring - 1)) !== 0) {
      issues.push({ path: ['ring_buffer_size'], message: `${ring} bytes is not a power of two between 4 KiB and 1 GiB (the kernel requires it), e.g. 8MiB` });
    }
    // 0 is resolved against the ring (resolveWakeupThreshold), so only explicit values can be too large.
    if (config.wakeup_threshold_bytes !== 0 && config.wakeup_threshold_bytes >= ring) {
      issues.push({ path: ['wakeup_threshold_bytes'], message: `must be smaller than ring_buffer_size (${ring}), or the reader is only woken by its timer` });
    }
    if (config.verifier_log_size > 1073741823) {
      issues.push({ path: ['verifier_log_size'], message: 'the kernel accepts at most 1 GiB - 1 byte of verifier log' });
    }
    if (config.capture_bytes > MAX_CAPTURE) {
      issues.push({ path: ['capture_bytes'], message: `at most ${MAX_CAPTURE} bytes can be captured per call` });
    }
    if (config.ports.length > MAX_PORTS) {
      issues.push({ path: ['ports'], message: `at most ${MAX_PORTS} ports can be filtered in the kernel` });
    }
    if (config.exclude_ports.length > MAX_PORTS) {
      issues.push({ path: ['exclude_ports'], message: `at most ${MAX_PORTS} ports can be excluded in the kernel` });
    }
    const both = config.ports.filter((p) => config.exclude_ports.includes(p));
    if (both.length > 0) {
      issues.push({ path: ['exclude_ports'], message: `port(s) ${both.join(', ')} are both in ports and exclude_ports` });
    }
    if (config.tcp_update_interval !== 0 && config.tcp_update_interval < MIN_TCP_UPDATE_INTERVAL_MS) {
      issues.push({ path: ['tcp_update_interval'], message: `${config.tcp_update_interval} ms would walk every open connection more than once a second; use 0 (off) or at least 1s` });
    }
    if (config.flow_idle_timeout < config.flow_report_interval) {
      issues.push({ path: ['flow_idle_timeout'], message: `shorter than flow_report_interval (${config.flow_report_interval} ms): flows would end before their first report` });
    }
    return issues;
  },

  createReceiver(settings, config, next) {
    return new EbpfNetworkReceiver(settings, config, next);
  },
};
