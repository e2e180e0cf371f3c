/**
 * prometheus: the collector's metrics served for Prometheus to scrape.
 *
 * The exporter is a metric reader on the collector's one MeterProvider, like otlp's
 * periodic reader, so it serves exactly what otlp sends: the L7 duration histograms
 * (recorded by the l7 processor from every transaction it derives), the
 * connection and flow metrics conntrack records, and the `network_observer.component.*`
 * self-telemetry. A scrape collects (cumulative temporality, the reader of
 * @opentelemetry/exporter-prometheus) and renders with that package's serializer, with this
 * exporter's Resource as `target_info` so Prometheus sees the same service.name, host.name and
 * k8s.node.name as an OTLP backend. The HTTP server is ours rather than the package's: it binds
 * in start() with errors that name the option, and closes within the shutdown deadline.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { PrometheusExporter as PrometheusReader, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import type { Resource } from '@opentelemetry/resources';
import type { MetricReader, ScopeMetrics } from '@opentelemetry/sdk-metrics';
import type { ComponentSettings, Exporter, Host } from '../../core/component';
import type { NetworkEvent } from '../../core/events';
import { closeServer, formatEndpoint, listen, parseEndpoint, requestPath } from '../../core/http-endpoint';
import { observerResource } from '../../core/otel/resource';
import type { PrometheusExporterConfig } from './config.generated';
import { UnitSuffixer } from './names';

/** The normalized config the runtime hands over (defaults merged). */
export type PrometheusConfig = Required<Omit<PrometheusExporterConfig, 'resource_to_telemetry_conversion'>> & {
  resource_to_telemetry_conversion: Required<NonNullable<PrometheusExporterConfig['resource_to_telemetry_conversion']>>;
};

/** A scrape that takes longer than this answers 503 (Prometheus' own default timeout is 10s). */
const COLLECT_TIMEOUT_MS = 8_000;
/** How long a scrape in progress may finish once shutdown begins. */
const CLOSE_GRACE_MS = 1_000;
const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export class PrometheusExporter implements Exporter {
  readonly mutatesData = false;
  private readonly reader: PrometheusReader;
  private readonly serializer: PrometheusSerializer;
  private readonly suffixer: UnitSuffixer | undefined;
  private readonly resource: Resource;
  private readonly server: Server;
  private starting: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private boundUrl = '';

  constructor(
    private readonly settings: ComponentSettings,
    private readonly config: PrometheusConfig,
  ) {
    // The package's reader with its server never started: cumulative sums and histograms.
    this.reader = new PrometheusReader({ preventServerStart: true });
    const constantLabels = config.resource_to_telemetry_conversion.enabled ? /.*/ : undefined;
    this.serializer = new PrometheusSerializer('', false, constantLabels);
    this.suffixer = config.add_metric_suffixes ? new UnitSuffixer() : undefined;
    this.resource = observerResource(config.service_name);
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  /** The URL Prometheus scrapes, with the real port once started (endpoint port 0). */
  get url(): string {
    return this.boundUrl;
  }

  metricReaders(): MetricReader[] {
    return [this.reader];
  }

  start(_host: Host): Promise<void> {
    this.starting ??= this.doStart();
    return this.starting;
  }

  private async doStart(): Promise<void> {
    const endpoint = parseEndpoint(this.config.endpoint);
    // The schema's format check guarantees this; kept for a config built in code.
    if (!endpoint) throw new Error(`endpoint ${JSON.stringify(this.config.endpoint)} is not host:port`);
    const address = await listen(this.server, endpoint, `exporters::${this.settings.id.key}::endpoint`);
    this.boundUrl = `http://${formatEndpoint({ host: endpoint.host, port: address.port })}${this.config.path}`;
    this.settings.logger.info(`serving Prometheus metrics at ${this.boundUrl}`);
  }

  consume(batch: NetworkEvent[]): void {
    const { telemetry } = this.settings;
    telemetry.received(batch.length);
    if (this.stopping) {
      telemetry.dropped(batch.length);
      return;
    }
    telemetry.emitted(batch.length);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { telemetry, logger } = this.settings;
    const path = requestPath(req, res);
    if (path === undefined) return;
    if (path !== this.config.path) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`not found: metrics are served at ${this.config.path}\n`);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('use GET\n');
      return;
    }
    let body: string;
    try {
      const { resourceMetrics, errors } = await this.reader.collect({ timeoutMillis: COLLECT_TIMEOUT_MS });
      if (errors.length) {
        telemetry.add('collection_errors', errors.length);
        logger.debug(`collecting metrics: ${errors.length} instrument callback(s) failed: ${errors.map((e) => String((e as Error)?.message ?? e)).join('; ')}`);
      }
      const scopeMetrics: ScopeMetrics[] = this.suffixer ? this.suffixer.scopeMetrics(resourceMetrics.scopeMetrics) : resourceMetrics.scopeMetrics;
      body = this.serializer.serialize({ resource: this.resource, scopeMetrics });
    } catch (error) {
      telemetry.add('scrape_errors');
      const message = `collecting metrics failed: ${(error as Error).message}`;
      logger.warn(`${message}; the scrape got 503`);
      res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8' }).end(`${message}\n`);
      return;
    }
    telemetry.add('scrapes');
    res.writeHead(200, { 'content-type': CONTENT_TYPE });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  shutdown(): Promise<void> {
    this.stopping ??= this.doShutdown();
    return this.stopping;
  }

  private async doShutdown(): Promise<void> {
    // A start still binding must finish before the server can be closed.
    await this.starting?.catch(() => undefined);
    await closeServer(this.server, CLOSE_GRACE_MS);
  }
}
