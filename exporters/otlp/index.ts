/**
 * otlp: spans, metrics and log records to any OTLP backend, over OTLP/HTTP or OTLP/gRPC.
 * See README.md.
 */
import type { ExporterFactory, ValidationIssue } from '../../core/component';
import { defaultsFromSchema } from '../../core/config/schema-defaults';
import schema from './config.schema.json';
import { OtlpExporter, type OtlpConfig } from './exporter';
import { existsSync } from 'node:fs';
import { checkUrl } from './signals';
import { upgradeProtocol } from './upgrade';

export type { OtlpConfig };
export { OtlpExporter };

export const factory: ExporterFactory<OtlpConfig> = {
  kind: 'exporter',
  type: 'otlp',
  // Its name until it spoke gRPC too; accepted, with a warning, for a release.
  formerTypes: ['otlp_http'],
  stability: 'beta',
  description: 'Exports spans, metrics and log records over OTLP/HTTP (protobuf or JSON) or OTLP/gRPC, with a bounded queue and retries.',
  configSchema: schema,

  createDefaultConfig: () => defaultsFromSchema<OtlpConfig>(schema),
  upgradeConfig: upgradeProtocol,

  validate(config): ValidationIssue[] {
    const issues: ValidationIssue[] = [];
    const urlProblem = checkUrl(config.endpoint);
    if (urlProblem) issues.push({ path: ['endpoint'], message: urlProblem });
    for (const key of ['traces_endpoint', 'metrics_endpoint', 'logs_endpoint'] as const) {
      if (config[key] === '') continue;
      const problem = checkUrl(config[key]);
      if (problem) issues.push({ path: [key], message: problem });
    }
    for (const [name, value] of Object.entries(config.headers)) {
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) issues.push({ path: ['headers', name], message: 'is not a valid HTTP header name' });
      else if (/[\r\n]/.test(value)) issues.push({ path: ['headers', name], message: 'must not contain line breaks' });
    }
    const tls = config.tls;
    if ((tls.cert_file === '') !== (tls.key_file === '')) {
      issues.push({ path: ['tls', tls.cert_file === '' ? 'cert_file' : 'key_file'], message: 'cert_file and key_file go together (mutual TLS needs both)' });
    }
    for (const key of ['ca_file', 'cert_file', 'key_file'] as const) {
      if (tls[key] !== '' && !existsSync(tls[key])) issues.push({ path: ['tls', key], message: `${tls[key]} does not exist` });
    }
    if (!(config.timeout > 0)) issues.push({ path: ['timeout'], message: 'must be greater than 0' });
    const retry = config.retry_on_failure;
    if (retry.enabled) {
      if (!(retry.initial_interval > 0)) issues.push({ path: ['retry_on_failure', 'initial_interval'], message: 'must be greater than 0 when retries are enabled' });
      if (retry.max_interval < retry.initial_interval) {
        issues.push({ path: ['retry_on_failure', 'max_interval'], message: `must be at least initial_interval (${retry.initial_interval}ms)` });
      }
      if (retry.max_elapsed_time > 0 && retry.max_elapsed_time < retry.initial_interval) {
        issues.push({
          path: ['retry_on_failure', 'max_elapsed_time'],
          message: `must be 0 (no limit) or at least initial_interval (${retry.initial_interval}ms), or no retry would ever happen`,
        });
      }
    }
    const queue = config.sending_queue;
    if (queue.enabled && queue.batch.max_size > queue.queue_size) {
      issues.push({ path: ['sending_queue', 'batch', 'max_size'], message: `must not exceed sending_queue.queue_size (${queue.queue_size}); a full batch would never fit` });
    }
    if (!(queue.batch.flush_timeout > 0)) issues.push({ path: ['sending_queue', 'batch', 'flush_timeout'], message: 'must be greater than 0' });
    const { signals } = config;
    if (!signals.traces && !signals.metrics && !signals.logs) {
      issues.push({ path: ['signals'], message: 'enable at least one of traces, metrics and logs' });
    }
    if (signals.logs && config.logs.event_kinds.length === 0) {
      issues.push({ path: ['logs', 'event_kinds'], message: 'must name at least one event kind when signals.logs is true' });
    }
    if (signals.metrics && !(config.metrics.export_interval >= 100)) {
      issues.push({ path: ['metrics', 'export_interval'], message: `must be at least 100ms (got ${config.metrics.export_interval}ms)` });
    }
    return issues;
  },

  createExporter(settings, config) {
    return new OtlpExporter(settings, config);
  },
};
