/**
 * prometheus: the collector's metrics on an HTTP endpoint for Prometheus to scrape. See README.md.
 */
import type { ExporterFactory } from '../../core/component';
import { defaultsFromSchema } from '../../core/config/schema-defaults';
import schema from './config.schema.json';
import { PrometheusExporter, type PrometheusConfig } from './exporter';

export type { PrometheusConfig };
export { PrometheusExporter };

export const factory: ExporterFactory<PrometheusConfig> = {
  kind: 'exporter',
  type: 'prometheus',
  stability: 'alpha',
  description: 'Serves the L7 duration histograms, connection metrics and self-telemetry for Prometheus to scrape (pull), resource as target_info.',
  configSchema: schema,

  createDefaultConfig: () => defaultsFromSchema<PrometheusConfig>(schema),

  createExporter(settings, config) {
    return new PrometheusExporter(settings, config);
  },
};
