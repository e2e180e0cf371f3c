/**
 * A real OTLP/HTTP receiver for tests: a node http server (on 127.0.0.1 unless told) that gunzips and decodes
 * OTLP/JSON (and OTLP/protobuf traces) and records every request. Its behaviour per request is
 * scriptable (status codes, Retry-After, hanging, going down and coming back on the same port).
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface ReceivedRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  /** Decompressed body. */
  body: Buffer;
  /** Parsed body for application/json, or the decoded protobuf trace request. */
  json: OtlpJson;
  at: number;
}

/** Loose view of an OTLP/JSON export request (traces, metrics or logs). */
export interface OtlpJson {
  resourceSpans?: Array<{ resource: { attributes: KeyValue[] }; scopeSpans: Array<{ scope: { name: string; version?: string }; spans: OtlpSpan[] }> }>;
  resourceMetrics?: Array<{ resource: { attributes: KeyValue[] }; scopeMetrics: Array<{ scope: { name: string }; metrics: OtlpMetric[] }> }>;
  resourceLogs?: Array<{ resource: { attributes: KeyValue[] }; scopeLogs: Array<{ scope: { name: string }; logRecords: OtlpLogRecord[] }> }>;
}

export interface KeyValue {
  key: string;
  value: AnyValue;
}

export interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: number | string;
  doubleValue?: number;
  arrayValue?: { values: AnyValue[] };
}

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: KeyValue[];
  status: { code?: number; message?: string };
}

export interface OtlpMetric {
  name: string;
  unit: string;
  description?: string;
  histogram?: {
    aggregationTemporality: number;
    dataPoints: Array<{ attributes: KeyValue[]; count: string | number; sum: number; explicitBounds: number[]; bucketCounts: Array<string | number> }>;
  };
  sum?: { aggregationTemporality: number; dataPoints: Array<{ attributes: KeyValue[]; asInt?: number | string; asDouble?: number }> };
  gauge?: { dataPoints: Array<{ attributes: KeyValue[]; asInt?: number | string; asDouble?: number }> };
}

export interface OtlpLogRecord {
  timeUnixNano: string;
  severityNumber: number;
  severityText: string;
  eventName?: string;
  body: AnyValue;
  attributes: KeyValue[];
}

export function anyValue(v: AnyValue | undefined): unknown {
  if (!v) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(anyValue);
  return undefined;
}

export function attrs(list: KeyValue[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of list ?? []) out[kv.key] = anyValue(kv.value);
  return out;
}

/** What to answer; return undefined for 200 with an empty body. */
export type Responder = (req: { path: string; index: number }) =>
  | { status: number; headers?: Record<string, string>; body?: string }
  | 'hang'
  | 'destroy'
  | undefined;

export class OtlpReceiver {
  /** Requests answered with 2xx, decoded. */
  readonly requests: ReceivedRequest[] = [];
  /** Every request that reached the handler, with the status it got. */
  readonly attempts: Array<{ path: string; status: number | 'hang' | 'destroy'; at: number }> = [];
  private server: http.Server | undefined;
  private port = 0;
  private host = '127.0.0.1';
  /** Set by startTls: the receiver then speaks HTTPS with these server options. */
  private tls: https.ServerOptions | undefined;
  private sockets = new Set<import('node:net').Socket>();
  responder: Responder = () => undefined;

  /** Starts on `port` (0: any free port) of `host`. */
  async start(port = this.port, host = this.host): Promise<this> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => this.handle(req, res);
    const server = this.tls ? https.createServer(this.tls, handler) : http.createServer(handler);
    server.on(this.tls ? 'secureConnection' : 'connection', (s: import('node:net').Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    this.host = host;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  /** Stops listening and cuts open connections: clients see ECONNREFUSED / ECONNRESET. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Starts as an HTTPS receiver (certificate, key, and the CA to check client certificates). */
  startTls(options: https.ServerOptions): Promise<this> {
    this.tls = options;
    return this.start();
  }

  get url(): string {
    return `${this.tls ? 'https' : 'http'}://${this.host}:${this.port}`;
  }

  /** Reserves a free port without listening on it (a backend that is down). */
  static async freePort(): Promise<number> {
    const r = await new OtlpReceiver().start(0);
    const port = r.port;
    await r.stop();
    return port;
  }

  static onPort(port: number): OtlpReceiver {
    const r = new OtlpReceiver();
    r.port = port;
    return r;
  }

  ofPath(path: string): ReceivedRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  spans(): Array<OtlpSpan & { resource: Record<string, unknown>; scope: string; attrs: Record<string, unknown> }> {
    return this.ofPath('/v1/traces').flatMap((r) =>
      (r.json.resourceSpans ?? []).flatMap((rs) =>
        rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => ({ ...s, resource: attrs(rs.resource.attributes), scope: ss.scope.name, attrs: attrs(s.attributes) }))),
      ),
    );
  }

  metrics(): Array<OtlpMetric & { resource: Record<string, unknown>; scope: string }> {
    return this.ofPath('/v1/metrics').flatMap((r) =>
      (r.json.resourceMetrics ?? []).flatMap((rm) =>
        rm.scopeMetrics.flatMap((sm) => sm.metrics.map((m) => ({ ...m, resource: attrs(rm.resource.attributes), scope: sm.scope.name }))),
      ),
    );
  }

  logs(): Array<OtlpLogRecord & { resource: Record<string, unknown>; attrs: Record<string, unknown> }> {
    return this.ofPath('/v1/logs').flatMap((r) =>
      (r.json.resourceLogs ?? []).flatMap((rl) =>
        rl.scopeLogs.flatMap((sl) => sl.logRecords.map((l) => ({ ...l, resource: attrs(rl.resource.attributes), attrs: attrs(l.attributes) }))),
      ),
    );
  }

  async waitFor(predicate: () => boolean, timeoutMs = 5000, what = 'requests'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${this.requests.length} requests`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '';
      const index = this.attempts.filter((r) => r.path === path).length;
      const answer = this.responder({ path, index });
      this.attempts.push({ path, status: typeof answer === 'string' ? answer : (answer?.status ?? 200), at: Date.now() });
      if (answer === 'hang') return;
      if (answer === 'destroy') {
        req.socket.destroy();
        return;
      }
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      const json: OtlpJson =
        req.headers['content-type'] === 'application/json'
          ? (JSON.parse(body.toString('utf8')) as OtlpJson)
          : path === '/v1/traces'
            ? decodeTraceRequest(body)
            : {};
      if (!answer || (answer.status >= 200 && answer.status < 300)) {
        this.requests.push({ path, headers: req.headers, body, json, at: Date.now() });
      }
      res.writeHead(answer?.status ?? 200, { 'content-type': String(req.headers['content-type'] ?? 'application/json'), ...(answer?.headers ?? {}) });
      res.end(answer?.body ?? '');
    });
  }
}

// ---- a minimal protobuf reader for ExportTraceServiceRequest (opentelemetry-proto) ----------

type Field = { no: number; wire: number; value: bigint | Uint8Array };

function readVarint(buf: Uint8Array, pos: { i: number }): bigint {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    const b = buf[pos.i++];
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return result;
    shift += 7n;
  }
}

function fields(buf: Uint8Array): Field[] {
  const out: Field[] = [];
  const pos = { i: 0 };
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  while (pos.i < buf.length) {
    const tag = Number(readVarint(buf, pos));
    const no = tag >>> 3;
    const wire = tag & 7;
    if (wire === 0) out.push({ no, wire, value: readVarint(buf, pos) });
    else if (wire === 1) {
      out.push({ no, wire, value: view.getBigUint64(pos.i, true) });
      pos.i += 8;
    } else if (wire === 2) {
      const len = Number(readVarint(buf, pos));
      out.push({ no, wire, value: buf.subarray(pos.i, pos.i + len) });
      pos.i += len;
    } else if (wire === 5) {
      out.push({ no, wire, value: BigInt(view.getUint32(pos.i, true)) });
      pos.i += 4;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function decodeAnyValue(buf: Uint8Array): AnyValue {
  const [f] = fields(buf);
  if (!f) return {};
  switch (f.no) {
    case 1:
      return { stringValue: text(f.value as Uint8Array) };
    case 2:
      return { boolValue: f.value === 1n };
    case 3:
      return { intValue: Number(BigInt.asIntN(64, f.value as bigint)) };
    case 4: {
      const b = new DataView(new ArrayBuffer(8));
      b.setBigUint64(0, f.value as bigint, true);
      return { doubleValue: b.getFloat64(0, true) };
    }
    case 5:
      return { arrayValue: { values: fields(f.value as Uint8Array).map((v) => decodeAnyValue(v.value as Uint8Array)) } };
    default:
      return {};
  }
}

function decodeKeyValue(buf: Uint8Array): KeyValue {
  let key = '';
  let value: AnyValue = {};
  for (const f of fields(buf)) {
    if (f.no === 1) key = text(f.value as Uint8Array);
    if (f.no === 2) value = decodeAnyValue(f.value as Uint8Array);
  }
  return { key, value };
}

function decodeSpan(buf: Uint8Array): OtlpSpan {
  const span: OtlpSpan = { traceId: '', spanId: '', name: '', kind: 0, startTimeUnixNano: '0', endTimeUnixNano: '0', attributes: [], status: {} };
  for (const f of fields(buf)) {
    const v = f.value;
    if (f.no === 1) span.traceId = hex(v as Uint8Array);
    else if (f.no === 2) span.spanId = hex(v as Uint8Array);
    else if (f.no === 4) span.parentSpanId = hex(v as Uint8Array);
    else if (f.no === 5) span.name = text(v as Uint8Array);
    else if (f.no === 6) span.kind = Number(v);
    else if (f.no === 7) span.startTimeUnixNano = String(v);
    else if (f.no === 8) span.endTimeUnixNano = String(v);
    else if (f.no === 9) span.attributes.push(decodeKeyValue(v as Uint8Array));
    else if (f.no === 15) {
      for (const s of fields(v as Uint8Array)) {
        if (s.no === 2) span.status.message = text(s.value as Uint8Array);
        if (s.no === 3) span.status.code = Number(s.value);
      }
    }
  }
  return span;
}

export function decodeTraceRequest(buf: Uint8Array): OtlpJson {
  const resourceSpans: NonNullable<OtlpJson['resourceSpans']> = [];
  for (const rsField of fields(buf)) {
    if (rsField.no !== 1) continue;
    const rs: NonNullable<OtlpJson['resourceSpans']>[number] = { resource: { attributes: [] }, scopeSpans: [] };
    for (const f of fields(rsField.value as Uint8Array)) {
      if (f.no === 1) for (const a of fields(f.value as Uint8Array)) if (a.no === 1) rs.resource.attributes.push(decodeKeyValue(a.value as Uint8Array));
      if (f.no === 2) {
        const ss: (typeof rs.scopeSpans)[number] = { scope: { name: '' }, spans: [] };
        for (const g of fields(f.value as Uint8Array)) {
          if (g.no === 1) for (const s of fields(g.value as Uint8Array)) if (s.no === 1) ss.scope.name = text(s.value as Uint8Array);
          if (g.no === 2) ss.spans.push(decodeSpan(g.value as Uint8Array));
        }
        rs.scopeSpans.push(ss);
      }
    }
    resourceSpans.push(rs);
  }
  return { resourceSpans };
}
