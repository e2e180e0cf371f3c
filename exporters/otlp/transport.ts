/**
 * One OTLP/HTTP POST per call, classified for the retry helper.
 *
 * Why not the OTLP*Exporter classes' own transport: @opentelemetry/exporter-*-otlp-http wrap
 * their HTTP transport in a fixed RetryingTransport (5 attempts, 1-5 s backoff, bounded by the
 * request timeout) that cannot be turned off and does not report Retry-After to the caller.
 * retry_on_failure and sending_queue must own retries and drops, so requests are sent here,
 * while the bodies still come from the OpenTelemetry serializers (@opentelemetry/otlp-transformer).
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { redactUrl } from '../shared/redact';
import { parseRetryAfter, type SendOutcome } from '../shared/retry';

const gzipAsync = promisify(gzip);

/** Statuses the OTLP/HTTP specification calls retryable. */
const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);
/** Network errors worth retrying: the backend is down, restarting or unreachable for now. */
export const RETRYABLE_ERRNO: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'ENETUNREACH', 'EHOSTUNREACH', 'ECONNABORTED', 'EHOSTDOWN', 'ENETDOWN']);
/** Error bodies are only read for the log message. */
const MAX_ERROR_BODY = 4096;
/** Success bodies carry partial-success details; anything larger is not a valid response. */
const MAX_SUCCESS_BODY = 1024 * 1024;

/** What node's TLS client takes from the tls: settings (files already read). */
export interface TlsClientOptions {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
  servername?: string;
}

export interface TransportOptions {
  headers: Readonly<Record<string, string>>;
  tls: TlsClientOptions;
  compression: 'gzip' | 'none';
  gzipLevel: number;
  timeoutMs: number;
  /** Keep-alive sockets per origin: one per concurrent request. */
  maxSockets: number;
  userAgent: string;
}

export type TransportOutcome = SendOutcome & {
  /** Response body of a successful request (may hold an OTLP partial-success message). */
  body?: Buffer;
};

/** What the exporter needs from a wire protocol (OTLP/HTTP here, OTLP/gRPC in grpc-transport.ts). */
export interface Transport {
  /** The bytes a request (and each of its retries) sends. */
  encodeBody(raw: Uint8Array): Promise<Buffer>;
  /** Sends `body` to `url`; never rejects. */
  send(url: URL, body: Buffer, contentType: string): Promise<TransportOutcome>;
  close(): void;
}

/** `raw` gzip-compressed when the options ask for it (as is otherwise), as a Buffer. */
export async function compressed(raw: Uint8Array, options: Pick<TransportOptions, 'compression' | 'gzipLevel'>): Promise<Buffer> {
  const buffer = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  if (options.compression === 'none') return buffer;
  // Large output chunks: each zlib chunk is one callback on the event loop; a request body
  // compresses to tens of KiB, so 16 KiB default chunks cost measurable main-thread time.
  return gzipAsync(buffer, { level: options.gzipLevel, chunkSize: 256 * 1024 });
}

/**
 * The request never got an answer: the connection was refused, reset or timed out, or the
 * name did not resolve. Kept apart from an answer with an error status, which means the
 * backend was reached and rejected the data.
 */
export class UnreachableError extends Error {
  constructor(where: string, detail: string) {
    super(`${where}: could not reach the backend: ${detail}`);
    this.name = 'UnreachableError';
  }
}

/** `code message` without repeating a code the message already holds (`connect ECONNREFUSED ...`). */
export function describeNetworkError(error: NodeJS.ErrnoException): string {
  const code = error.code ?? '';
  return code && !error.message.includes(code) ? `${code} ${error.message}` : error.message;
}

export class HttpError extends Error {
  constructor(
    message: string,
    readonly statusCode: number,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

export class OtlpHttpTransport implements Transport {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;

  constructor(private readonly options: TransportOptions) {
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets, maxFreeSockets: options.maxSockets };
    this.httpAgent = new http.Agent(agentOptions);
    this.httpsAgent = new https.Agent({ ...agentOptions, ...options.tls });
  }

  /** Compresses once; the result is what a retry resends. */
  encodeBody(raw: Uint8Array): Promise<Buffer> {
    return compressed(raw, this.options);
  }

  /** POSTs `body` (already encoded by encodeBody) to `url`. Never rejects. */
  send(url: URL, body: Buffer, contentType: string): Promise<TransportOutcome> {
    return new Promise((resolve) => {
      let settled = false;
      const finish = (outcome: TransportOutcome): void => {
        if (settled) return;
        settled = true;
        resolve(outcome);
      };
      const headers: Record<string, string | number> = {
        ...this.options.headers,
        'Content-Type': contentType,
        'Content-Length': body.length,
        'User-Agent': this.options.userAgent,
      };
      if (this.options.compression === 'gzip') headers['Content-Encoding'] = 'gzip';
      const isHttps = url.protocol === 'https:';
      // The endpoint's userinfo is a credential: never in a message.
      const where = `POST ${redactUrl(url)}`;
      let req: http.ClientRequest;
      try {
        req = (isHttps ? https : http).request(url, {
          method: 'POST',
          headers,
          agent: isHttps ? this.httpsAgent : this.httpAgent,
        });
      } catch (error) {
        finish({ ok: false, retryable: false, error: new Error(`${where}: ${(error as Error).message}`) });
        return;
      }
      let timedOut = false;
      req.setTimeout(this.options.timeoutMs, () => {
        timedOut = true;
        req.destroy(new Error(`no answer within timeout ${this.options.timeoutMs} ms`));
      });
      req.on('error', (error: NodeJS.ErrnoException) => {
        const code = error.code ?? '';
        const retryable = timedOut || RETRYABLE_ERRNO.has(code);
        // Only what happens below HTTP reaches here (a response, even an error status, does not).
        finish({ ok: false, retryable, error: new UnreachableError(where, describeNetworkError(error)) });
      });
      req.on('response', (res) => {
        const status = res.statusCode ?? 0;
        const ok = status >= 200 && status < 300;
        const limit = ok ? MAX_SUCCESS_BODY : MAX_ERROR_BODY;
        const chunks: Buffer[] = [];
        let length = 0;
        res.on('data', (chunk: Buffer) => {
          if (length < limit) chunks.push(chunk);
          length += chunk.length;
        });
        res.on('error', (error) => {
          if (ok) finish({ ok: true });
          else finish({ ok: false, retryable: RETRYABLE_STATUS.has(status), error: new HttpError(`${where}: HTTP ${status}: ${error.message}`, status) });
        });
        res.on('end', () => {
          const responseBody = Buffer.concat(chunks);
          if (ok) {
            finish({ ok: true, body: length <= limit ? responseBody : undefined });
            return;
          }
          const text = responseBody.subarray(0, MAX_ERROR_BODY).toString('utf8').replace(/\s+/g, ' ').trim();
          const error = new HttpError(`${where}: HTTP ${status} ${res.statusMessage ?? ''}${text ? `: ${text.slice(0, 300)}` : ''}`.trim(), status);
          finish({
            ok: false,
            retryable: RETRYABLE_STATUS.has(status),
            retryAfterMs: RETRYABLE_STATUS.has(status) ? parseRetryAfter(res.headers['retry-after']) : undefined,
            error,
          });
        });
      });
      req.end(body);
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
