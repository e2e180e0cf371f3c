/**
 * OTLP/gRPC (protocol: grpc): one unary Export call per request over a shared HTTP/2 session,
 * classified for the retry helper like the HTTP transport. gRPC here is only its wire format
 * (RFC 7540 + the gRPC HTTP/2 protocol: a 5-byte length prefix per message, the status in the
 * trailers), so node:http2 is enough and no gRPC library is pulled in. The bodies are the same
 * OTLP protobuf requests the HTTP transport sends.
 */
import * as http2 from 'node:http2';
import { compressed, describeNetworkError, RETRYABLE_ERRNO, UnreachableError, type Transport, type TransportOptions, type TransportOutcome } from './transport';

/** gRPC status codes the OTLP specification calls retryable. */
const RETRYABLE_CODES = new Set([1 /* CANCELLED */, 4 /* DEADLINE_EXCEEDED */, 10 /* ABORTED */, 11 /* OUT_OF_RANGE */, 14 /* UNAVAILABLE */, 15 /* DATA_LOSS */]);
const RESOURCE_EXHAUSTED = 8;
/** HTTP statuses a gRPC client maps to UNAVAILABLE (a proxy or a server that is not up yet). */
const UNAVAILABLE_HTTP = new Set([429, 502, 503, 504]);
/** The HTTP transport's retryable network errors, plus HTTP/2 session and stream breakdowns. */
const RETRYABLE_ERRORS = new Set([...RETRYABLE_ERRNO, 'ERR_HTTP2_STREAM_CANCEL', 'ERR_HTTP2_GOAWAY_SESSION', 'ERR_HTTP2_SESSION_ERROR', 'ERR_HTTP2_STREAM_ERROR', 'ERR_HTTP2_INVALID_SESSION']);
const MAX_RESPONSE = 1024 * 1024;
const PREFIX = 5;

export class GrpcStatusError extends Error {
  constructor(message: string, readonly code: number) {
    super(message);
    this.name = 'GrpcStatusError';
  }
}

export class OtlpGrpcTransport implements Transport {
  private session: http2.ClientHttp2Session | undefined;
  private sessionOrigin = '';
  /** The configured headers as HTTP/2 wants them (lower-case names), once. */
  private readonly headers: Record<string, string>;

  constructor(private readonly options: TransportOptions) {
    this.headers = lowerCased(options.headers);
  }

  /** One length-prefixed gRPC message; compressed once, so a retry resends the same bytes. */
  async encodeBody(raw: Uint8Array): Promise<Buffer> {
    const message = await compressed(raw, this.options);
    const framed = Buffer.allocUnsafe(PREFIX + message.length);
    framed[0] = this.options.compression === 'gzip' ? 1 : 0;
    framed.writeUInt32BE(message.length, 1);
    message.copy(framed, PREFIX);
    return framed;
  }

  /** Calls Export at `url` (origin + method path) with a body from encodeBody. Never rejects. */
  send(url: URL, body: Buffer): Promise<TransportOutcome> {
    return new Promise((resolve) => {
      let settled = false;
      const where = `gRPC ${url.origin}${url.pathname}`;
      const finish = (outcome: TransportOutcome): void => {
        if (settled) return;
        settled = true;
        resolve(outcome);
      };
      const failed = (error: NodeJS.ErrnoException, retryable?: boolean): void => {
        finish({ ok: false, retryable: retryable ?? RETRYABLE_ERRORS.has(error.code ?? ''), error: new UnreachableError(where, describeNetworkError(error)) });
      };
      let stream: http2.ClientHttp2Stream;
      try {
        stream = this.sessionFor(url).request({
          ...this.headers,
          ':method': 'POST',
          ':path': url.pathname,
          'content-type': 'application/grpc',
          te: 'trailers',
          'grpc-encoding': this.options.compression === 'gzip' ? 'gzip' : 'identity',
          'grpc-accept-encoding': 'identity',
          'grpc-timeout': `${Math.max(1, Math.round(this.options.timeoutMs))}m`,
          'user-agent': this.options.userAgent,
        });
      } catch (error) {
        failed(error as NodeJS.ErrnoException);
        return;
      }
      stream.setTimeout(this.options.timeoutMs, () => {
        stream.close(http2.constants.NGHTTP2_CANCEL);
        failed(new Error(`no answer within timeout ${this.options.timeoutMs} ms`), true);
      });
      stream.on('error', (error: NodeJS.ErrnoException) => failed(error));
      let headers: http2.IncomingHttpHeaders = {};
      let trailers: http2.IncomingHttpHeaders = {};
      stream.on('response', (h) => { headers = h; });
      stream.on('trailers', (t) => { trailers = t; });
      const chunks: Buffer[] = [];
      let length = 0;
      stream.on('data', (chunk: Buffer) => {
        if (length < MAX_RESPONSE) chunks.push(chunk);
        length += chunk.length;
      });
      stream.on('close', () => {
        if (settled) return;
        const status = Number(headers[':status'] ?? 0);
        if (status !== 200) {
          const retryable = status === 0 || UNAVAILABLE_HTTP.has(status);
          finish({ ok: false, retryable, error: new Error(`${where}: HTTP ${status || 'no response'} (not a gRPC answer)`) });
          return;
        }
        // A trailers-only answer carries the status in the headers.
        const grpcStatus = trailers['grpc-status'] ?? headers['grpc-status'];
        const code = grpcStatus === undefined ? 2 /* UNKNOWN */ : Number(grpcStatus);
        if (code === 0) {
          finish({ ok: true, body: unframe(Buffer.concat(chunks)) });
          return;
        }
        const message = decodeURIComponent(String(trailers['grpc-message'] ?? headers['grpc-message'] ?? ''));
        // RESOURCE_EXHAUSTED is retryable only when the server says recovery is possible (RetryInfo
        // in the status details); their presence is taken as that, they are not decoded.
        const details = trailers['grpc-status-details-bin'] ?? headers['grpc-status-details-bin'];
        const retryable = RETRYABLE_CODES.has(code) || (code === RESOURCE_EXHAUSTED && details !== undefined);
        finish({ ok: false, retryable, error: new GrpcStatusError(`${where}: gRPC status ${code}${message ? `: ${message.slice(0, 300)}` : ''}`, code) });
      });
      stream.end(body);
    });
  }

  close(): void {
    this.session?.close();
    this.session?.destroy();
    this.session = undefined;
  }

  /** One HTTP/2 session per origin, reopened after the server closed or broke it. */
  private sessionFor(url: URL): http2.ClientHttp2Session {
    const current = this.session;
    if (current && !current.closed && !current.destroyed && this.sessionOrigin === url.origin) return current;
    current?.destroy();
    const session = http2.connect(url.origin, url.protocol === 'https:' ? this.options.tls : {});
    // Errors reach the streams that were open; an idle session that breaks is just replaced.
    session.on('error', () => undefined);
    session.on('close', () => {
      if (this.session === session) this.session = undefined;
    });
    // The collector keeps the process alive while it runs; an idle export session must not.
    session.unref();
    this.session = session;
    this.sessionOrigin = url.origin;
    return session;
  }
}

/** The message of a length-prefixed gRPC response (identity-encoded: we accept nothing else). */
function unframe(body: Buffer): Buffer {
  if (body.length < PREFIX) return Buffer.alloc(0);
  const length = body.readUInt32BE(1);
  return body.subarray(PREFIX, PREFIX + length);
}

function lowerCased(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) out[name.toLowerCase()] = value;
  return out;
}
