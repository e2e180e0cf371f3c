/**
 * stdout: prints spans, log records and (optionally) metrics as text or JSON lines. See README.md.
 */
import type { ExporterFactory, ValidationIssue } from '../../core/component';
import { defaultsFromSchema } from '../../core/config/schema-defaults';
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

  createDefaultConfig: () => defaultsFromSchema<StdoutConfig>(schema),

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
