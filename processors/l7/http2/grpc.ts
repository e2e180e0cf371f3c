/** gRPC over HTTP/2 specifics (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md). */

/** gRPC status codes by value (grpc/doc/statuscodes.md); also the `rpc.grpc.status_code` names. */
export const GRPC_STATUS_NAMES: readonly string[] = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
];

/** Name of a gRPC status; codes outside 0..16 are reported as UNKNOWN, as gRPC clients do. */
export function grpcStatusName(code: number): string {
  return GRPC_STATUS_NAMES[code] ?? 'UNKNOWN';
}

/** Parses a `grpc-status` value: a non-negative decimal integer; -1 when not one. */
export function parseGrpcStatus(value: string): number {
  if (value.length === 0 || value.length > 10) return -1;
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i) - 0x30;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

/** True for `application/grpc`, `application/grpc+proto`, `application/grpc-web...` and parameters. */
export function isGrpcContentType(value: string): boolean {
  if (value.length < 16) return false;
  if (!value.startsWith('application/grpc')) return false;
  if (value.length === 16) return true;
  const next = value.charCodeAt(16);
  return next === 0x2b /* + */ || next === 0x3b /* ; */ || next === 0x2d /* - */;
}

/**
 * The `package.Service/Method` of a gRPC path `/package.Service/Method`; undefined when the
 * path does not have that shape.
 */
export function rpcMethodOf(path: string): string | undefined {
  if (path.length < 4 || path.charCodeAt(0) !== 0x2f) return undefined;
  const slash = path.indexOf('/', 1);
  if (slash <= 1 || slash === path.length - 1 || path.indexOf('/', slash + 1) !== -1) return undefined;
  return path.slice(1);
}
