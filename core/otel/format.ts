/** Small human-readable formatting shared by log bodies and the stdout text renderer. */
import type { AttributeValue, Attributes } from '@opentelemetry/api';
import { ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_RPC_STATUS_CODE, ATTR_URL_PATH } from '@opentelemetry/semantic-conventions';
import type { EventHeader, L7Event } from '../events';
import * as sc from '../semconv';

export function endpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Initiator first: `local -> remote` for outbound, `remote -> local` for inbound. */
export function flowEndpoints(event: EventHeader): string {
  const local = endpoint(event.localAddress, event.localPort);
  const remote = endpoint(event.remoteAddress, event.remotePort);
  if (event.direction === 'inbound') return `${remote} -> ${local}`;
  if (event.direction === 'outbound') return `${local} -> ${remote}`;
  return `${local} <-> ${remote}`;
}

/** `curl[1234]`, `pid 1234`, or `unknown process`. */
export function processLabel(event: EventHeader): string {
  const { pid, comm } = event.process;
  if (comm && pid > 0) return `${comm}[${pid}]`;
  if (comm) return comm;
  if (pid > 0) return `pid ${pid}`;
  return 'unknown process';
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

/** Seconds with a unit that fits: `850us`, `12.3ms`, `4.50s`. */
export function formatSeconds(seconds: number): string {
  if (seconds < 0.001) return `${Math.round(seconds * 1e6)}us`;
  if (seconds < 1) return `${(seconds * 1000).toFixed(1)}ms`;
  return `${seconds.toFixed(2)}s`;
}

/** An attribute value as text: strings quoted only where a reader could misread them. */
export function formatValue(value: AttributeValue | undefined): string {
  if (Array.isArray(value)) return `[${value.join(', ')}]`;
  if (typeof value === 'string') return /[\s",=]/.test(value) || value === '' ? JSON.stringify(value) : value;
  return String(value);
}

/**
 * What a transaction came to, in a few words, from its span attributes: the path and status of
 * an HTTP exchange, a gRPC status, a DNS response code and answers, a TLS handshake's outcome.
 * A new kind of transaction adds its case here, next to its other mappings.
 */
export function transactionSummary(event: L7Event, attributes: Attributes): string {
  switch (event.kind) {
    case 'l7.http': {
      const status = attributes[ATTR_HTTP_RESPONSE_STATUS_CODE];
      return `${formatValue(attributes[ATTR_URL_PATH])} ${status === undefined ? 'no-response' : status}`;
    }
    case 'l7.grpc': {
      const status = attributes[ATTR_RPC_STATUS_CODE] ?? attributes[ATTR_HTTP_RESPONSE_STATUS_CODE];
      return event.isGrpc ? `${status ?? 'no-status'}` : `${event.path} ${status ?? 'no-response'}`;
    }
    case 'l7.dns': {
      const rcode = attributes[sc.ATTR_NO_DNS_RESPONSE_CODE] ?? 'no-response';
      const answers = attributes[sc.ATTR_DNS_ANSWERS];
      return Array.isArray(answers) && answers.length > 0 ? `${rcode} ${formatValue(answers)}` : `${rcode}`;
    }
    case 'l7.tls': {
      const parts: string[] = [];
      if (event.serverName) parts.push(`sni=${event.serverName}`);
      parts.push(event.version ? `tls${event.version}` : 'no-server-hello');
      if (event.cipher) parts.push(event.cipher);
      if (event.alpn) parts.push(`alpn=${event.alpn}`);
      return parts.join(' ');
    }
  }
}
