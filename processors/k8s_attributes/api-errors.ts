/**
 * API failures are counted every time (`api_errors`) but logged at most once per interval,
 * with what to do about them: an unreachable API must not flood the log.
 */
import type { Logger } from '../../core/logger';
import type { ComponentTelemetry } from '../../core/telemetry';

export const API_ERROR_LOG_INTERVAL_MS = 60_000;

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);

/** One line saying what failed and what to do. */
export function describeApiError(error: unknown, what: string, server: string): string {
  const e = error as { code?: unknown; statusCode?: unknown; errno?: unknown; name?: string; message?: string; cause?: { code?: unknown } } | undefined;
  const status = typeof e?.code === 'number' ? e.code : typeof e?.statusCode === 'number' ? e.statusCode : undefined;
  if (status === 401) return `${what}: the API server at ${server} rejected the credentials (HTTP 401): check the service-account token or the kubeconfig user`;
  if (status === 403) {
    return `${what}: forbidden (HTTP 403): bind the ClusterRole of deploy/kubernetes/clusterrole.yaml (list/watch pods and services, get replicasets) to this agent's service account`;
  }
  if (status !== undefined) return `${what}: the API server at ${server} answered HTTP ${status}`;
  const code = typeof e?.code === 'string' ? e.code : typeof e?.cause?.code === 'string' ? e.cause.code : undefined;
  if (code && NETWORK_CODES.has(code)) return `${what}: cannot reach the Kubernetes API at ${server} (${code})`;
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `${what}: the API server at ${server} did not answer in time`;
  return `${what}: ${e?.message ?? String(error)}`;
}

export function httpStatusOf(error: unknown): number | undefined {
  const e = error as { code?: unknown; statusCode?: unknown } | undefined;
  return typeof e?.code === 'number' ? e.code : typeof e?.statusCode === 'number' ? e.statusCode : undefined;
}

export class ApiErrorReporter {
  private lastLogged = -Infinity;
  private suppressed = 0;
  /** True between an error and the next success, to log the recovery once. */
  private failing = false;
  lastError: string | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly telemetry: ComponentTelemetry,
    private readonly intervalMs = API_ERROR_LOG_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {
    telemetry.add('api_errors', 0);
  }

  report(message: string): void {
    this.telemetry.add('api_errors', 1);
    this.failing = true;
    this.lastError = message;
    const now = this.now();
    if (now - this.lastLogged < this.intervalMs) {
      this.suppressed++;
      return;
    }
    const more = this.suppressed > 0 ? ` (${this.suppressed} more API errors since the last report)` : '';
    this.suppressed = 0;
    this.lastLogged = now;
    this.logger.warn(`${message}${more}; events pass through with the metadata known so far, retrying`);
  }

  recovered(detail: string): void {
    if (!this.failing) return;
    this.failing = false;
    this.suppressed = 0;
    this.lastLogged = -Infinity;
    this.logger.info(`Kubernetes API reachable again: ${detail}`);
  }
}
