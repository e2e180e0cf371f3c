/** Small human-readable formatting shared by log bodies and the stdout text renderer. */
import type { EventHeader } from '../events';

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
