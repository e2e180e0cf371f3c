/**
 * HTTP/1 exchanges the kernel summarised (payload events with `h1Response`, from the receiver's
 * NE_H1_SUMMARY records): the engine routes them through detection like any payload, the
 * HTTP/1 session builds their transactions, and the l7 processor counts and measures them but
 * passes none of them on.
 */
import assert from 'node:assert/strict';
import { AggregationTemporality, InMemoryMetricExporter, PeriodicExportingMetricReader, type Histogram } from '@opentelemetry/sdk-metrics';
import { deepMerge } from '../../../core/config/merge';
import { normalizeUnits } from '../../../core/config/schema-validator';
import type { HttpTransactionEvent, NetworkEvent, PayloadEvent } from '../../../core/events';
import { OBSERVER_USER_AGENT } from '../../../core/identity';
import { CollectingConsumer, createTestHost, createTestSettings } from '../../../core/testing';
import { factory, type L7Config } from '../../../processors/l7';
import { L7Engine, MAX_SNIFF_CHUNKS, type L7EngineOptions } from '../../../processors/l7/engine';
import { ALL_MODULES } from '../../../processors/l7/modules';
import { A, dnsMessage, withLengthPrefix } from './dns/build';
import { CLIENT, SERVER, payload, summary, type Endpoint } from './payloads';

const T0 = 1_700_000_000_000_000;

const get = (path: string, t: number, self: Endpoint = CLIENT): PayloadEvent => payload(self, SERVER, 'send', `GET ${path} HTTP/1.1\r\nHost: shop\r\n\r\n`, t);
const ok = (t: number, self: Endpoint = CLIENT): PayloadEvent => payload(self, SERVER, 'recv', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok', t);
const summarised = (path: string, t: number, status: number, self: Endpoint = CLIENT): PayloadEvent =>
  summary(self, SERVER, `GET ${path} HTTP/1.1\r\nHost: shop\r\n\r\n`, t, { timeUs: t + 2500, status, bodyLength: 12 });

/** The kernel's count of `exchanges` summarised at the client's socket (an NE_H1_COUNT record). */
function counted(exchanges: number, t: number): PayloadEvent {
  const event = payload(CLIENT, SERVER, 'send', '', t);
  event.originalLength = 0;
  event.h1Exchanges = exchanges;
  return event;
}

async function pipeline(overrides: Record<string, unknown> = {}) {
  const settings = createTestSettings('processor', 'l7');
  const next = new CollectingConsumer();
  const config = normalizeUnits(factory.configSchema, deepMerge(factory.createDefaultConfig(), overrides)) as L7Config;
  const processor = await factory.createProcessor(settings, config, next);
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  await processor.start(createTestHost({ metricReaders: [reader] }));
  /** Requests recorded in http.client.request.duration, by status code. */
  const recorded = async (): Promise<Record<string, number>> => {
    exporter.reset();
    await reader.forceFlush();
    const out: Record<string, number> = {};
    for (const rm of exporter.getMetrics()) {
      for (const sm of rm.scopeMetrics) {
        for (const m of sm.metrics) {
          if (m.descriptor.name !== 'http.client.request.duration') continue;
          for (const p of m.dataPoints) {
            const status = String(p.attributes['http.response.status_code']);
            out[status] = (out[status] ?? 0) + (p.value as Histogram).count;
          }
        }
      }
    }
    return out;
  };
  return { processor, next, telemetry: settings.telemetry, recorded };
}

const BASE: L7EngineOptions = {
  captureQuery: false, transactionTimeoutMs: 5000, maxBufferBytes: 16384, protocols: ['http1', 'http2', 'dns', 'tls'],
  httpPorts: [80, 8080, 3000], dnsPort: 53, httpsPorts: [443], grpcPorts: [50051], portMode: 'hint',
  maxSessions: 1000, sessionIdleTimeoutMs: 60_000, forwardPayload: false, dropSelfTraffic: true,
};

function engine(options: Partial<L7EngineOptions> = {}): L7Engine {
  return new L7Engine({ ...BASE, ...options }, ALL_MODULES);
}

const http = (events: NetworkEvent[]): HttpTransactionEvent[] => events.filter((e): e is HttpTransactionEvent => e.kind === 'l7.http');

describe('l7 processor: summarised HTTP/1 exchanges', () => {
  it('counts and measures a summary on a new connection, and passes nothing on', async () => {
    const { processor, next, telemetry, recorded } = await pipeline();
    await processor.consume([summarised('/item', T0, 200)]);
    assert.equal(next.events.length, 0, 'no span, no payload');
    assert.equal(telemetry.get('detected_http1'), 1, 'detected from the request');
    assert.equal(telemetry.get('transactions_http'), 1);
    assert.equal(telemetry.get('transactions_summarised'), 1);
    assert.equal(telemetry.get('payload_consumed'), 1);
    assert.equal(telemetry.get('malformed_http1'), 0);
    assert.deepEqual(await recorded(), { 200: 1 });
    await processor.shutdown();
    assert.equal(next.events.length, 0, 'nothing pending to flush either');
  });

  it('full exchange, summary, full exchange on one connection: exactly the two full ones go on, all three are measured', async () => {
    const { processor, next, telemetry, recorded } = await pipeline();
    await processor.consume([get('/first', T0), ok(T0 + 100), summarised('/second', T0 + 200, 404), get('/third', T0 + 5000), ok(T0 + 5300)]);
    const txs = http(next.events);
    assert.deepEqual(txs.map((t) => [t.path, t.statusCode, t.responseBodySize, t.endUs - t.startUs]), [
      ['/first', 200, 2, 100],
      ['/third', 200, 2, 300],
    ]);
    assert.ok(txs.every((t) => t.measuredOnly === undefined));
    assert.equal(next.events.length, 2);
    assert.equal(telemetry.get('transactions_http'), 3);
    assert.equal(telemetry.get('transactions_summarised'), 1);
    assert.deepEqual(await recorded(), { 200: 2, 404: 1 });
    await processor.shutdown();
  });

  it('leaves other events of the batch in order around a summary', async () => {
    const { processor, next } = await pipeline();
    const other = { ...CLIENT, port: 40100, cookie: 500 };
    const batch = [get('/a', T0, other), summarised('/b', T0 + 1, 200), ok(T0 + 2, other), summarised('/c', T0 + 3, 200)];
    await processor.consume(batch);
    assert.deepEqual(http(next.events).map((t) => t.path), ['/a']);
    await processor.shutdown();
  });

  it('forward_payload passes the summary on as the request\'s payload event, still without its transaction', async () => {
    const { processor, next, telemetry } = await pipeline({ forward_payload: true });
    const event = summarised('/item', T0, 200);
    await processor.consume([event]);
    assert.deepEqual(next.events, [event]);
    assert.equal(telemetry.get('transactions_summarised'), 1);
    await processor.shutdown();
  });

  it('adds exchanges the kernel only counted to the transaction counters, measuring and passing on nothing, even with forward_payload', async () => {
    const { processor, next, telemetry, recorded } = await pipeline({ forward_payload: true });
    await processor.consume([get('/first', T0), ok(T0 + 100), counted(64, T0 + 200), counted(5, T0 + 300), get('/last', T0 + 400), ok(T0 + 500)]);
    assert.deepEqual(next.events.filter((e) => e.kind === 'l7.http').map((t) => (t as HttpTransactionEvent).path), ['/first', '/last']);
    assert.ok(next.events.every((e) => e.kind !== 'payload' || e.h1Exchanges === undefined), 'counts are not payload to forward');
    assert.equal(telemetry.get('transactions_http'), 71);
    assert.equal(telemetry.get('transactions_summarised'), 69);
    assert.equal(telemetry.get('payload_consumed'), 0, 'forwarded, not consumed');
    assert.equal(telemetry.get('malformed_http1'), 0, 'the session is between exchanges before and after');
    assert.deepEqual(await recorded(), { 200: 2 }, 'a count carries no durations to record');
    await processor.shutdown();
  });

  it('counts nothing from the kernel\'s counts when HTTP/1 is not among its protocols', async () => {
    const { processor, next, telemetry } = await pipeline({ protocols: ['dns'] });
    await processor.consume([counted(64, T0)]);
    assert.equal(next.events.length, 0);
    assert.equal(telemetry.get('transactions_http'), 0);
    assert.equal(telemetry.get('transactions_summarised'), 0);
    await processor.shutdown();
  });

  it('leaves the observer\'s own summarised requests out as self traffic, uncounted as summarised', async () => {
    const { processor, next, telemetry, recorded } = await pipeline();
    const own = summary(CLIENT, SERVER, `POST /v1/traces HTTP/1.1\r\nHost: c\r\nUser-Agent: ${OBSERVER_USER_AGENT}\r\nContent-Length: 0\r\n\r\n`, T0, { timeUs: T0 + 10, status: 200 });
    await processor.consume([own]);
    assert.equal(next.events.length, 0);
    assert.equal(telemetry.get('self_transactions_dropped'), 1);
    assert.equal(telemetry.get('transactions_summarised'), 0);
    assert.deepEqual(await recorded(), {});
    await processor.shutdown();
  });
});

describe('l7 engine: summaries where HTTP/1 is not what the connection carries', () => {
  it('garbage or non-HTTP request bytes in a summary never throw and emit nothing', () => {
    const e = engine();
    let port = 41000;
    for (const request of ['\x00\x01\x02\x03 binary junk that no protocol claims', 'GET /x HTTP/1.1\r\nHost: h\r\n', 'HTTP/1.1 200 OK\r\n\r\n', '']) {
      for (const peer of [SERVER, { ...SERVER, port: 8080 }]) {
        const self = { ...CLIENT, port: ++port, cookie: port };
        const out = e.process([summary(self, peer, request, T0, { timeUs: T0 + 1, status: 200 })]);
        assert.deepEqual(out, []);
      }
    }
    assert.equal(e.counters.transactions_http, 0);
    assert.equal(e.counters.session_errors, 0);
  });

  it('a summary is not held as the first piece of a split start', () => {
    const e = engine();
    const tiny = summary(CLIENT, SERVER, 'XYZ / HTTP/1.1\r\n\r\n', T0, { timeUs: T0 + 1, status: 200 });
    assert.deepEqual(e.process([tiny]), []);
    // Were it held, it would be replayed as a summary once a response starts the stream.
    const out = e.process([ok(T0 + 5), get('/real', T0 + 10), ok(T0 + 20)]);
    assert.deepEqual(http(out).map((t) => [t.path, t.measuredOnly]), [['/real', undefined]]);
    assert.equal(e.counters.transactions_http, 1);
    assert.equal(e.counters.malformed_http1, 0);
  });

  it('ignores summaries on a connection parsed as another protocol, an opaque one, and one restrict mode does not track', () => {
    const e = engine();
    const dnsClient = { ...CLIENT, port: 42000, cookie: 42 };
    const query = withLengthPrefix(dnsMessage({ id: 7, questions: [{ name: 'a.test', type: A }] }));
    e.process([payload(dnsClient, SERVER, 'send', query, T0)]);
    assert.equal(e.counters.detected_dns, 1);
    assert.deepEqual(e.process([summarised('/x', T0 + 10, 200, dnsClient)]), []);
    assert.equal(e.counters.malformed_dns, 0, 'the DNS session never saw it');

    const opaque = { ...CLIENT, port: 42001, cookie: 43 };
    for (let i = 0; i < MAX_SNIFF_CHUNKS; i++) e.process([payload(opaque, SERVER, 'send', '\x01\x02 not a protocol we know, just bytes', T0 + i)]);
    assert.deepEqual(e.process([summarised('/y', T0 + 100, 200, opaque)]), []);
    assert.equal(e.counters.detected_http1, 0);
    assert.equal(e.counters.transactions_http, 0);

    const restricted = engine({ portMode: 'restrict', httpPorts: [80] });
    assert.deepEqual(restricted.process([summarised('/z', T0, 200)]), []);
    assert.equal(restricted.sessionCount, 0, 'not even tracked');
  });
});
