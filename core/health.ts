/**
 * The health endpoint (service::telemetry::health_check), for liveness and readiness probes,
 * after the OpenTelemetry Collector's health_check extension: `GET <path>` answers 200 with a
 * small JSON status while every pipeline runs, and 503 while the collector builds and starts
 * its components, after a component reported a fatal error, and while it shuts down.
 */
import { createServer, type Server } from 'node:http';
import type { HealthCheckSettings } from './config/resolve';
import { closeServer, formatEndpoint, listen, requestPath } from './http-endpoint';
import type { Logger } from './logger';

export type CollectorStatus = 'starting' | 'running' | 'failed' | 'stopping' | 'stopped';

export interface HealthReport {
  status: CollectorStatus;
  pipelines: string[];
  /** When every component had started, while running. */
  upSince?: Date;
  /** The fatal error of a failed component. */
  error?: string;
}

/** A probe in flight when shutdown closes the server gets this long to be answered. */
const CLOSE_GRACE_MS = 500;

export class HealthServer {
  private readonly server: Server;
  private url = '';

  constructor(
    private readonly settings: HealthCheckSettings,
    private readonly report: () => HealthReport,
    private readonly logger: Logger,
  ) {
    this.server = createServer((req, res) => {
      const path = requestPath(req, res);
      if (path === undefined) return;
      if (path !== settings.path) {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`not found: the health status is at ${settings.path}\n`);
        return;
      }
      const now = this.report();
      const body: Record<string, unknown> = { status: now.status, pipelines: now.pipelines };
      if (now.upSince) {
        body.up_since = now.upSince.toISOString();
        body.uptime_seconds = Math.round((Date.now() - now.upSince.getTime()) / 100) / 10;
      }
      if (now.error) body.error = now.error;
      res.writeHead(now.status === 'running' ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : JSON.stringify(body) + '\n');
    });
  }

  /** The probe URL once listening (with the real port when the endpoint's port is 0). */
  get address(): string {
    return this.url;
  }

  async start(): Promise<void> {
    const bound = await listen(this.server, this.settings.endpoint, 'service::telemetry::health_check::endpoint');
    this.url = `http://${formatEndpoint({ host: this.settings.endpoint.host, port: bound.port })}${this.settings.path}`;
    this.logger.info(`health check at ${this.url}`);
  }

  stop(): Promise<void> {
    return closeServer(this.server, CLOSE_GRACE_MS);
  }
}
