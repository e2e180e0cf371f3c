/**
 * A real OTLP/gRPC receiver for tests: a cleartext HTTP/2 server on 127.0.0.1 that takes unary
 * Export calls the way a collector does (length-prefixed messages, optionally gzip-compressed,
 * status in the trailers), decodes trace requests and records every call. What it answers is
 * scriptable per call: a gRPC status with message and details, or a plain HTTP status.
 */
import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { decodeTraceRequest, type OtlpJson } from './otlp-receiver';

export interface GrpcCall {
  path: string;
  headers: http2.IncomingHttpHeaders;
  /** The request message, decompressed. */
  message: Buffer;
  /** The decoded trace request (TraceService calls only). */
  traces?: OtlpJson;
}

export type GrpcResponder = (call: { path: string; index: number }) =>
  | { grpcStatus: number; grpcMessage?: string; details?: boolean }
  | { httpStatus: number }
  | undefined;

export class OtlpGrpcReceiver {
  /** Calls answered with gRPC status 0. */
  readonly calls: GrpcCall[] = [];
  /** Every call, with what it got. */
  readonly attempts: Array<{ path: string; answer: number }> = [];
  responder: GrpcResponder = () => undefined;
  private server: http2.Http2Server | http2.Http2SecureServer | undefined;
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  port = 0;

  private tls: http2.SecureServerOptions | undefined;

  start(): Promise<this> {
    return this.startOn(0);
  }

  /** Starts as an OTLP/gRPC receiver over TLS (ALPN h2). */
  startTls(options: http2.SecureServerOptions): Promise<this> {
    this.tls = options;
    return this.startOn(0);
  }

  /** Starts on a given port (to come back where a stopped receiver was). */
  async startOn(port: number): Promise<this> {
    const server = this.tls ? http2.createSecureServer(this.tls) : http2.createServer();
    server.on('session', (s) => {
      this.sessions.add(s);
      s.on('close', () => this.sessions.delete(s));
    });
    server.on('stream', (stream, headers) => this.handle(stream, headers));
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  get endpoint(): string {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    for (const s of this.sessions) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private handle(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const path = String(headers[':path']);
      const index = this.attempts.filter((a) => a.path === path).length;
      const answer = this.responder({ path, index });
      if (answer && 'httpStatus' in answer) {
        this.attempts.push({ path, answer: answer.httpStatus });
        stream.respond({ ':status': answer.httpStatus }, { endStream: true });
        return;
      }
      const grpcStatus = answer?.grpcStatus ?? 0;
      this.attempts.push({ path, answer: grpcStatus });
      if (grpcStatus === 0) {
        const framed = Buffer.concat(chunks);
        let message = framed.subarray(5, 5 + framed.readUInt32BE(1));
        if (framed[0] === 1) message = gunzipSync(message);
        this.calls.push({ path, headers, message, traces: path.includes('TraceService') ? decodeTraceRequest(message) : undefined });
      }
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => {
        const trailers: Record<string, string> = { 'grpc-status': String(grpcStatus) };
        if (answer?.grpcMessage) trailers['grpc-message'] = encodeURIComponent(answer.grpcMessage);
        if (answer?.details) trailers['grpc-status-details-bin'] = Buffer.from([8, grpcStatus]).toString('base64');
        stream.sendTrailers(trailers);
      });
      // An empty Export*ServiceResponse: no partial success.
      stream.end(grpcStatus === 0 ? Buffer.from([0, 0, 0, 0, 0]) : undefined);
    });
  }
}
