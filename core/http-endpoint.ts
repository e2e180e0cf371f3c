/**
 * The `host:port` endpoints the observer listens on (the prometheus exporter's scrape endpoint,
 * the health check), written as the OpenTelemetry Collector writes them: `0.0.0.0:9464`,
 * `127.0.0.1:13133`, `[::1]:9464`, `localhost:8888`. Parsing, the schema format, binding with
 * errors that say what to do, and a bounded close live here once.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isIP } from 'node:net';
import { UserFacingError } from './config/errors';

export interface HostPort {
  /** An IP address (IPv6 without brackets) or a host name. */
  host: string;
  /** 0 asks the kernel for any free port. */
  port: number;
}

const HOST_NAME = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** `host:port` or `[ipv6]:port`; undefined when the text is neither. */
export function parseEndpoint(text: string): HostPort | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port > 65535) return undefined;
  if (match[1] !== undefined) return isIP(match[1]) === 6 ? { host: match[1], port } : undefined;
  const host = match[2];
  return isIP(host) === 4 || HOST_NAME.test(host) ? { host, port } : undefined;
}

/** An absolute URL path to serve at: `/metrics`, `/` (no query, fragment or spaces). */
export function isUrlPath(text: string): boolean {
  return /^\/[^?#\s]*$/.test(text);
}

export const URL_PATH_FORMAT_MESSAGE = 'must be a URL path such as / or /metrics (starting with /, no query or fragment)';

/** The message the schema's `format: endpoint` check reports. */
export const ENDPOINT_FORMAT_MESSAGE = 'must be host:port such as 0.0.0.0:9464, 127.0.0.1:13133 or [::1]:9464';

/** `host:port` for messages and URLs (IPv6 in brackets). */
export function formatEndpoint(endpoint: HostPort): string {
  return isIP(endpoint.host) === 6 ? `[${endpoint.host}]:${endpoint.port}` : `${endpoint.host}:${endpoint.port}`;
}

/**
 * Binds `server` to `endpoint`; `what` names the option in errors
 * (`exporters::prometheus::endpoint`). Resolves with the bound address (the real port for 0).
 */
export function listen(server: Server, endpoint: HostPort, what: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => reject(new UserFacingError(`${what} ${formatEndpoint(endpoint)}: ${listenAdvice(error)}`, error));
    server.once('error', onError);
    server.listen({ host: endpoint.host, port: endpoint.port }, () => {
      server.off('error', onError);
      resolve(server.address() as AddressInfo);
    });
  });
}

function listenAdvice(error: NodeJS.ErrnoException): string {
  switch (error.code) {
    case 'EADDRINUSE':
      return 'the port is already in use; stop the process listening there or choose another port';
    case 'EACCES':
      return 'permission denied; ports below 1024 need CAP_NET_BIND_SERVICE, choose a port of 1024 or above';
    case 'EADDRNOTAVAIL':
      return 'the address is not one of this host\'s; use 0.0.0.0 (all interfaces) or 127.0.0.1';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'the host name does not resolve; use an IP address such as 0.0.0.0';
    default:
      return `cannot listen: ${error.message}`;
  }
}

/**
 * The path a request asks for, or undefined after answering 400 when its target is not a URL
 * (a handler that threw would take the process down).
 */
export function requestPath(req: IncomingMessage, res: ServerResponse): string | undefined {
  try {
    return new URL(req.url ?? '/', 'http://localhost').pathname;
  } catch {
    res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end('bad request target\n');
    return undefined;
  }
}

/**
 * Stops accepting connections and resolves once the server is closed: idle keep-alive
 * connections (a scraper's, a kubelet's) are closed at once, requests in progress get
 * `graceMs` to finish before their connections are cut.
 */
export function closeServer(server: Server, graceMs: number): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
