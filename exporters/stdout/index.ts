/**
 * stdout: prints spans, log records and (optionally) metrics as text or JSON lines. See README.md.
 */
import type { ExporterFactory, ValidationIssue } from '../../core/component';
import schema from './config.schema.json';
import { StdoutExporter, type StdoutConfig } from './exporter';

export type { StdoutConfig };
export { StdoutExporter };

export const factory: ExporterFactory<StdoutConfig> = {
  kind: 'exporter',
  type: 'stdout',
  stability: 'beta',
  description: 'Prints spans, log records and metrics on standard output as text or one JSON object per line.',
  configSchema: schema,

  createDefaultConfig(): StdoutConfig {
    return {
      format: 'text',
      verbosity: 'basic',
      metrics: false,
      metrics_interval: 10_000,
      payload_preview_bytes: 64,
      opt_in_attributes: false,
      max_buffered_bytes: 16 * 1024 * 1024,
      service_name: 'network-observer',
    };
  },

  validate(config): ValidationIssue[] {
    const issues: ValidationIssue[] = [];
    if (config.metrics && !(config.metrics_interval >= 100)) {
      issues.push({ path: ['metrics_interval'], message: `must be at least 100ms when metrics is true (got ${config.metrics_interval}ms)` });
    }
    if (config.max_buffered_bytes < 4096) {
      issues.push({ path: ['max_buffered_bytes'], message: `must be at least 4KiB so one batch fits (got ${config.max_buffered_bytes} bytes)` });
    }
    return issues;
  },

  createExporter(settings, config) {
    return new StdoutExporter(settings, config);
  },
};
