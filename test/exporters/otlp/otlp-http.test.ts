import assert from 'node:assert/strict';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { Host } from '../../../core/component';
import type { L7Event, NetworkEvent } from '../../../core/events';
import { createLogger } from '../../../core/logger';
import { L7MetricsRecorder } from '../../../core/otel/l7-metrics';
import { createTestSettings } from '../../../core/testing';
import { SEMCONV_DURATION_BUCKETS_SECONDS } from '../../../core/semconv';
import { factory, OtlpExporter, type OtlpConfig } from '../../../exporters/otlp';
import {
  connectionClosed,
  connectionFailed,
  connectionOpened,
  connectionUpdated,
  dnsEvent,
  grpcEvent,
  httpEvent,
  payloadEvent,
  tlsEvent,
} from '../fixtures';
import { OtlpReceiver } from '../otlp-receiver';

type ConfigPatch = {
  [K in keyof OtlpConfig]?: OtlpConfig[K] extends object ? Partial<OtlpConfig[K]> : OtlpConfig[K];
};

function configFor(endpoint: string, patch: ConfigPatch = {}): OtlpConfig {
  const base = factory.createDefaultConfig();
  const merged = { ...base, endpoint } as OtlpConfig;
  for (const [key, value] of Object.entries(patch) as Array<[keyof OtlpConfig, unknown]>) {
    const current = merged[key];
    (merged as Record<string, unknown>)[key] =
      current && typeof current === 'object' && !Array.isArray(current) && value && typeof value === 'object' && !Array.isArray(value)
        ? { ...current, ...value }
        : value;
  }
  return merged;
}

/** Fast retries, JSON so the receiver can read it, small batches flushed quickly. */
function testConfig(endpoint: string, patch: ConfigPatch = {}): OtlpConfig {
  return configFor(endpoint, {
    protocol: 'http/json',
    retry_on_failure: { ...factory.createDefaultConfig().retry_on_failure, initial_interval: 20, max_interval: 100, randomization_factor: 0 },
    sending_queue: { ...factory.createDefaultConfig().sending_queue, batch: { max_size: 512, flush_timeout: 20 } },
    metrics: { temporality: 'cumulative', export_interval: 60_000 },
    // Tests that leave the backend down must not wait the default 5 s in afterEach.
    shutdown_timeout: 1000,
    ...patch,
  });
}

interface Harness {
  exporter: OtlpExporter;
  settings: ReturnType<typeof createTestSettings>;
  provider: MeterProvider;
  logLines: string[];
}

const harnesses: Harness[] = [];

function makeExporter(config: OtlpConfig): Harness {
  assert.deepEqual(factory.validate!(config), [], 'test config is valid');
  const logLines: string[] = [];
  const settings = createTestSettings('exporter', 'otlp', createLogger('debug', (line) => logLines.push(line)));
  const exporter = new OtlpExporter(settings, config);
  const provider = new MeterProvider({ readers: exporter.metricReaders() });
  const host: Host = { meterProvider: provider, metricsEnabled: true, reportFatalError: (e) => assert.fail(e), reportStopped: (reason) => assert.fail(reason) };
  exporter.start(host);
  const h = { exporter, settings, provider, logLines };
  harnesses.push(h);
  return h;
}

function manyHttp(n: number, first = 0): NetworkEvent[] {
  return Array.from({ length: n }, (_, i) => httpEvent({ path: `/item/${first + i}` }));
}

describe('exporters/otlp', function () {
  this.timeout(15_000);
  let receiver: OtlpReceiver;

  beforeEach(async () => {
    receiver = await new OtlpReceiver().start();
  });

  afterEach(async () => {
    for (const h of harnesses.splice(0)) {
      await h.exporter.shutdown();
      await h.provider.shutdown().catch(() => undefined);
    }
    await receiver.stop();
  });

  describe('config', () => {
    it('default config is valid; cross-field rules report every problem with its path', () => {
      assert.deepEqual(factory.validate!(factory.createDefaultConfig()), []);
      const bad = configFor('ftp://x', {
        traces_endpoint: 'not a url',
        headers: { 'bad header': 'x', ok: 'line\nbreak' },
        retry_on_failure: { initial_interval: 10_000, max_interval: 1_000, max_elapsed_time: 5_000 },
        sending_queue: { queue_size: 10, batch: { max_size: 100, flush_timeout: 200 } },
        signals: { traces: true, metrics: true, logs: true },
        logs: { event_kinds: [] },
        metrics: { temporality: 'delta', export_interval: 5 },
      });
      const paths = factory.validate!(bad).map((i) => i.path.join('.')).sort();
      assert.deepEqual(paths, [
        'endpoint',
        'headers.bad header',
        'headers.ok',
        'logs.event_kinds',
        'metrics.export_interval',
        'retry_on_failure.max_elapsed_time',
        'retry_on_failure.max_interval',
        'sending_queue.batch.max_size',
        'traces_endpoint',
      ]);
      const none = configFor('http://x', { signals: { traces: false, metrics: false, logs: false } });
      assert.deepEqual(factory.validate!(none).map((i) => i.path.join('.')), ['signals']);
    });

    it('names a bad endpoint without echoing it (it may hold credentials)', () => {
      const issues = factory.validate!(configFor('http//user:SECRETPASS@collector:4318', { logs_endpoint: 'ftp://user:SECRETPASS@collector/' }));
      assert.deepEqual(issues.map((i) => i.path.join('.')), ['endpoint', 'logs_endpoint']);
      for (const issue of issues) assert.doesNotMatch(issue.message, /SECRET/);
      assert.match(issues[0].message, /^is not a URL; write it as http:\/\/host:4318/);
      assert.equal(issues[1].message, 'ftp://user:***@collector/ must use http:// or https:// (got ftp:)');
    });
  });

  describe('spans', () => {
    it('exports HTTP, DNS, gRPC and TLS spans with semconv attributes, one resource, gzip JSON', async () => {
      const { exporter } = makeExporter(testConfig(receiver.url, { headers: { 'x-api-key': 'secret' } }));
      const events: L7Event[] = [
        httpEvent({ side: 'server', statusCode: 500, localPort: 8080, host: undefined }),
        dnsEvent({ responseCode: 'NXDOMAIN', answers: [] }),
        grpcEvent(),
        tlsEvent(),
      ];
      exporter.consume(events);
      await receiver.waitFor(() => receiver.spans().length === 4);

      const [request] = receiver.ofPath('/v1/traces');
      assert.equal(request.headers['content-type'], 'application/json');
      assert.equal(request.headers['content-encoding'], 'gzip');
      assert.equal(request.headers['x-api-key'], 'secret');
      assert.match(String(request.headers['user-agent']), /^network-observer\//);
      assert.equal(request.json.resourceSpans!.length, 1, 'one ResourceSpans: the Resource object is reused');

      const spans = receiver.spans();
      for (const s of spans) {
        assert.equal(s.resource['service.name'], 'network-observer');
        assert.equal(typeof s.resource['host.name'], 'string');
        assert.equal(s.resource['service.version'], '0.1.0');
        assert.equal(s.scope, 'network-observer');
        assert.match(s.traceId, /^[0-9a-f]{32}$/);
        assert.match(s.spanId, /^[0-9a-f]{16}$/);
      }
      const [http, dns, grpc, tls] = spans;
      assert.equal(http.name, 'GET');
      assert.equal(http.kind, 2, 'SERVER');
      assert.equal(http.status.code, 2, 'HTTP 500 on the server side is an error');
      assert.equal(http.startTimeUnixNano, '1714564800000000000');
      assert.equal(http.endTimeUnixNano, '1714564800012500000');
      assert.equal(http.attrs['http.request.method'], 'GET');
      assert.equal(http.attrs['url.path'], '/api/users/42');
      assert.equal(http.attrs['http.response.status_code'], 500);
      assert.equal(http.attrs['server.address'], '10.0.0.1');
      assert.equal(http.attrs['server.port'], 8080);
      assert.equal(http.attrs['client.address'], '10.0.0.2');
      assert.equal(http.attrs['network.transport'], 'tcp');
      assert.equal(http.attrs['network.protocol.version'], '1.1');
      assert.equal(http.attrs['process.pid'], 4242);
      assert.equal(http.attrs['process.executable.name'], 'curl');
      assert.equal(http.attrs['error.type'], '500');

      assert.equal(dns.name, 'A example.com');
      assert.equal(dns.kind, 3, 'CLIENT');
      assert.equal(dns.status.code, 2, 'NXDOMAIN is an error');
      assert.equal(dns.attrs['dns.question.name'], 'example.com');
      assert.equal(dns.attrs['error.type'], 'NXDOMAIN');
      assert.equal(dns.attrs['server.port'], 53);

      assert.equal(grpc.name, 'shop.Checkout/PlaceOrder');
      assert.equal(grpc.status.code, 2, 'gRPC NOT_FOUND is an error');
      assert.equal(grpc.attrs['rpc.system.name'], 'grpc');
      assert.equal(grpc.attrs['rpc.method'], 'shop.Checkout/PlaceOrder');
      assert.equal(grpc.attrs['rpc.status_code'], 'NOT_FOUND');
      assert.equal(grpc.attrs['server.address'], 'checkout');

      assert.equal(tls.name, 'tls handshake');
      assert.equal(tls.status.code ?? 0, 0);
      assert.equal(tls.attrs['tls.protocol.version'], '1.3');
      assert.equal(tls.attrs['tls.cipher'], 'TLS_AES_128_GCM_SHA256');
      assert.equal(tls.attrs['tls.next_protocol'], 'h2');
      assert.equal(tls.attrs['tls.client.server_name'], 'secure.example.com');
      assert.equal(tls.attrs['server.address'], 'secure.example.com');
      assert.deepEqual(tls.attrs['network_observer.tls.offered_versions'], ['1.3', '1.2']);
    });

    it('joins the application trace when the request carried a traceparent', async () => {
      const { exporter } = makeExporter(testConfig(receiver.url));
      const traceContext = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 };
      exporter.consume([httpEvent({ side: 'server', traceContext }), httpEvent()]);
      await receiver.waitFor(() => receiver.spans().length === 2);
      const [joined, fresh] = receiver.spans();
      assert.equal(joined.traceId, traceContext.traceId);
      assert.equal(joined.parentSpanId, traceContext.spanId);
      assert.notEqual(joined.spanId, traceContext.spanId);
      assert.notEqual(fresh.traceId, traceContext.traceId);
      assert.ok(!fresh.parentSpanId, 'no parent without a traceparent');
    });

    it('sends protobuf (the default protocol, http/protobuf) that decodes to the same spans', async () => {
      const { exporter } = makeExporter(testConfig(receiver.url, { protocol: 'http/protobuf' }));
      exporter.consume([httpEvent({ statusCode: 404 }), grpcEvent()]);
      await receiver.waitFor(() => receiver.spans().length === 2);
      const [request] = receiver.ofPath('/v1/traces');
      assert.equal(request.headers['content-type'], 'application/x-protobuf');
      const [http, grpc] = receiver.spans();
      assert.equal(http.name, 'GET');
      assert.equal(http.kind, 3);
      assert.equal(http.status.code, 2, 'HTTP 404 on the client side is an error');
      assert.equal(http.attrs['http.response.status_code'], 404);
      assert.equal(http.attrs['server.address'], 'api.example.com');
      assert.equal(http.resource['service.name'], 'network-observer');
      assert.equal(grpc.attrs['rpc.method'], 'shop.Checkout/PlaceOrder');
    });

    it('sends uncompressed bodies with compression none, to a per-signal endpoint override', async () => {
      const { exporter } = makeExporter(testConfig('http://127.0.0.1:1', { compression: 'none', traces_endpoint: `${receiver.url}/v1/traces` }));
      exporter.consume([httpEvent()]);
      await receiver.waitFor(() => receiver.spans().length === 1);
      assert.equal(receiver.requests[0].headers['content-encoding'], undefined);
    });

    it('delivers large requests serialized in the worker thread intact, in protobuf and JSON', async () => {
      for (const protocol of ['http/protobuf', 'http/json'] as const) {
        receiver.requests.length = 0;
        const { exporter, settings, logLines } = makeExporter(testConfig(receiver.url, { protocol, sending_queue: { batch: { max_size: 1000, flush_timeout: 20 } } }));
        exporter.consume(manyHttp(3000));
        await receiver.waitFor(() => settings.telemetry.get('sent_spans') === 3000);
        const paths = new Set(receiver.spans().map((s) => s.attrs['url.path']));
        assert.equal(paths.size, 3000, `${protocol}: every span arrived once`);
        for (const request of receiver.ofPath('/v1/traces')) assert.equal(request.json.resourceSpans!.length, 1, 'one resource per request');
        assert.equal(receiver.spans()[0].resource['service.name'], 'network-observer');
        await exporter.shutdown();
        assert.deepEqual(logLines.filter((l) => l.includes('serializer worker')), [], 'the worker ran (no fallback to inline serialization)');
      }
    });

    it('groups spans into requests of at most batch.max_size', async () => {
      const { exporter, settings } = makeExporter(testConfig(receiver.url, { sending_queue: { batch: { max_size: 100, flush_timeout: 20 } } }));
      exporter.consume(manyHttp(250));
      // The receiver records a request before the exporter reads the response: wait for both.
      await receiver.waitFor(() => receiver.spans().length === 250 && settings.telemetry.get('sent_spans') === 250);
      assert.deepEqual(receiver.ofPath('/v1/traces').map((r) => r.json.resourceSpans![0].scopeSpans[0].spans.length).sort(), [100, 100, 50]);
      assert.equal(settings.telemetry.get('emitted'), 250);
      assert.equal(settings.telemetry.get('sent_spans'), 250);
    });
  });

  describe('metrics', () => {
    it('exports the semconv duration histograms with unit s and semconv buckets', async () => {
      const { exporter, provider } = makeExporter(testConfig(receiver.url, { signals: { traces: false, metrics: true, logs: false } }));
      const batch = [httpEvent({ side: 'server' }), httpEvent(), httpEvent({ endUs: httpEvent().startUs + 300_000 }), grpcEvent(), grpcEvent({ side: 'client' }), dnsEvent(), tlsEvent()];
      // The l7 processor records the histograms; the exporter only exports what its reader collects.
      new L7MetricsRecorder(provider).recordBatch(batch);
      exporter.consume(batch);
      await provider.forceFlush();
      await receiver.waitFor(() => receiver.metrics().length > 0);
      const byName = new Map(receiver.metrics().map((m) => [m.name, m]));
      for (const name of ['http.server.request.duration', 'http.client.request.duration', 'rpc.server.call.duration', 'rpc.client.call.duration', 'dns.lookup.duration']) {
        const metric = byName.get(name);
        assert.ok(metric, `${name} exported`);
        assert.equal(metric.unit, 's');
        assert.equal(metric.scope, 'network-observer');
        assert.equal(metric.resource['service.name'], 'network-observer');
        assert.ok(metric.histogram, `${name} is a histogram`);
        assert.equal(metric.histogram.aggregationTemporality, 2, 'cumulative');
        for (const p of metric.histogram.dataPoints) assert.deepEqual(p.explicitBounds, [...SEMCONV_DURATION_BUCKETS_SECONDS]);
      }
      const client = byName.get('http.client.request.duration')!.histogram!.dataPoints;
      assert.equal(client.length, 1);
      assert.equal(Number(client[0].count), 2);
      assert.ok(Math.abs(client[0].sum - 0.3125) < 1e-9);
      // 0.0125 s falls in (0.01, 0.025], 0.3 s in (0.25, 0.5].
      const counts = client[0].bucketCounts.map(Number);
      assert.equal(counts[2], 1);
      assert.equal(counts[7], 1);
      assert.equal(counts.reduce((a, b) => a + b, 0), 2);
      assert.equal(byName.get('rpc.server.call.duration')!.histogram!.dataPoints[0].attributes.find((a) => a.key === 'rpc.status_code')?.value.stringValue, 'NOT_FOUND');
      assert.equal(receiver.spans().length, 0, 'signals.traces false sends no spans');
    });

    it('honours delta temporality and carries metrics other components record on the shared provider', async () => {
      const { provider } = makeExporter(testConfig(receiver.url, { metrics: { temporality: 'delta', export_interval: 60_000 } }));
      provider.getMeter('conntrack').createCounter('network_observer.connections.opened', { unit: '{connection}' }).add(3);
      new L7MetricsRecorder(provider).recordBatch([httpEvent()]);
      await provider.forceFlush();
      await receiver.waitFor(() => receiver.metrics().some((m) => m.name === 'network_observer.connections.opened'));
      const counter = receiver.metrics().find((m) => m.name === 'network_observer.connections.opened')!;
      assert.equal(counter.sum!.aggregationTemporality, 1, 'delta');
      assert.equal(Number(counter.sum!.dataPoints[0].asInt ?? counter.sum!.dataPoints[0].asDouble), 3);
      assert.equal(receiver.metrics().find((m) => m.name === 'http.client.request.duration')!.histogram!.aggregationTemporality, 1);
    });
  });

  describe('logs', () => {
    it('exports lifecycle events of the configured kinds as log records through sdk-logs', async () => {
      const { exporter } = makeExporter(testConfig(receiver.url, { signals: { traces: true, metrics: false, logs: true } }));
      exporter.consume([connectionOpened(), connectionUpdated(), connectionClosed({ closeReason: 'reset' }), connectionFailed(), payloadEvent(), httpEvent()]);
      await receiver.waitFor(() => receiver.logs().length === 3 && receiver.spans().length === 1);
      const logs = receiver.logs();
      assert.deepEqual(logs.map((l) => l.eventName), ['network_observer.connection.opened', 'network_observer.connection.closed', 'network_observer.connection.failed']);
      const closed = logs[1];
      assert.equal(closed.severityText, 'WARN');
      assert.equal(closed.severityNumber, 13);
      assert.equal(closed.timeUnixNano, '1714564800000000000');
      assert.match(String(closed.body.stringValue), /^tcp connection closed 10\.0\.0\.1:51234 -> 10\.0\.0\.2:8080 \(reset\)/);
      assert.equal(closed.attrs['network_observer.bytes.received'], 34000);
      assert.equal(closed.attrs['network_observer.connection.close_reason'], 'reset');
      assert.equal(closed.attrs['network.peer.address'], '10.0.0.2');
      assert.equal(closed.resource['service.name'], 'network-observer');
      assert.equal(logs[2].attrs['error.type'], 'ECONNREFUSED');
    });
  });

  describe('faults and backpressure', () => {
    it('backend down for a while, then up: queued data is delivered, nothing dropped', async () => {
      const port = await OtlpReceiver.freePort();
      const { exporter, settings, logLines } = makeExporter(testConfig(`http://127.0.0.1:${port}`));
      exporter.consume(manyHttp(300));
      // Polled, not a fixed sleep: the first request goes through the serializer worker, whose
      // start-up under tsx takes longer than the retries themselves on a loaded machine.
      await receiver.waitFor(() => settings.telemetry.get('retries') >= 2, 5000, 'retries while down');
      assert.equal(settings.telemetry.get('sent_spans'), 0);
      const late = await OtlpReceiver.onPort(port).start();
      try {
        await late.waitFor(() => late.spans().length === 300 && settings.telemetry.get('sent_spans') === 300, 5000, '300 spans after the backend came up');
        assert.equal(settings.telemetry.get('dropped'), 0);
        assert.ok(logLines.some((l) => /accepts data again after \d+ failed attempt/.test(l)), 'recovery logged');
      } finally {
        await late.stop();
      }
    });

    it('queue overflow drops the oldest, counts and logs it once per period; consume stays fast', async () => {
      const port = await OtlpReceiver.freePort();
      const { exporter, settings, logLines } = makeExporter(
        testConfig(`http://127.0.0.1:${port}`, {
          sending_queue: { queue_size: 100, num_consumers: 1, batch: { max_size: 10, flush_timeout: 20 } },
          retry_on_failure: { enabled: true, initial_interval: 30, max_interval: 30, max_elapsed_time: 0, multiplier: 1, randomization_factor: 0 },
        }),
      );
      const started = process.hrtime.bigint();
      for (let i = 0; i < 20; i++) exporter.consume(manyHttp(50, i * 50));
      const elapsedMs = Number(process.hrtime.bigint() - started) / 1e6;
      assert.ok(elapsedMs < 500, `consume() never waits for the network (${elapsedMs.toFixed(1)} ms for 1000 events)`);
      await new Promise((r) => setTimeout(r, 100));
      const dropped = settings.telemetry.get('dropped');
      // 1000 spans: 100 queued, at most one request of 10 in flight; the rest dropped.
      assert.ok(dropped >= 880 && dropped <= 900, `dropped ${dropped}`);
      assert.ok(settings.telemetry.get('queue_items') <= 100);
      assert.equal(settings.telemetry.get('dropped_queue_full'), dropped);
      const dropLogs = logLines.filter((l) => l.includes('WARN') && l.includes('dropped'));
      assert.equal(dropLogs.length, 1, 'logged once in the period, not per drop');
      assert.match(dropLogs[0], /dropped \d+ spans: sending queue full \(queue_size 100\)/);

      const late = await OtlpReceiver.onPort(port).start();
      try {
        await late.waitFor(() => settings.telemetry.get('queue_items') === 0 && settings.telemetry.get('in_flight_requests') === 0, 5000);
        const paths = late.spans().map((s) => Number(String(s.attrs['url.path']).split('/')[2]));
        assert.equal(paths.length + dropped, 1000, 'every span was either delivered or counted as dropped');
        // The newest 100 survive (drop oldest); the one request in flight at overflow time is older.
        assert.ok(paths.filter((p) => p >= 900).length === 100, 'the newest data was kept');
      } finally {
        await late.stop();
      }
    });

    it('honours Retry-After on 429', async () => {
      receiver.responder = ({ index }) => (index === 0 ? { status: 429, headers: { 'retry-after': '1' } } : undefined);
      const { exporter } = makeExporter(testConfig(receiver.url));
      exporter.consume([httpEvent()]);
      await receiver.waitFor(() => receiver.spans().length === 1, 5000);
      const [first, second] = receiver.attempts;
      assert.equal(first.status, 429);
      assert.equal(second.status, 200);
      assert.ok(second.at - first.at >= 950, `waited ${second.at - first.at} ms (Retry-After: 1), not the 20 ms backoff`);
    });

    it('retries 503 and timeouts, drops a permanent 400 at once and keeps working', async () => {
      receiver.responder = ({ path, index }) => {
        if (path !== '/v1/traces') return undefined;
        if (index === 0) return { status: 503 };
        if (index === 1) return 'hang';
        if (index === 2) return 'destroy';
        return undefined;
      };
      const { exporter, settings } = makeExporter(testConfig(receiver.url, { timeout: 200 }));
      exporter.consume([httpEvent()]);
      await receiver.waitFor(() => receiver.spans().length === 1, 5000);
      assert.deepEqual(receiver.attempts.map((a) => a.status), [503, 'hang', 'destroy', 200]);
      assert.equal(settings.telemetry.get('dropped'), 0);

      receiver.responder = () => ({ status: 400, body: '{"message":"bad"}' });
      exporter.consume([httpEvent()]);
      await receiver.waitFor(() => settings.telemetry.get('dropped') === 1);
      assert.equal(settings.telemetry.get('dropped_send_failed'), 1);
      assert.equal(receiver.attempts.filter((a) => a.status === 400).length, 1, 'no retry of a permanent error');
    });

    it('never logs the endpoint password or header values; a refused connection is "could not reach", each drop counted once', async () => {
      const port = await OtlpReceiver.freePort();
      const { exporter, settings, logLines } = makeExporter(testConfig(`http://user:SECRETPASS@127.0.0.1:${port}`, {
        headers: { authorization: 'Bearer SECRETTOKEN' },
        retry_on_failure: { enabled: false },
        signals: { traces: true, metrics: false, logs: false },
      }));
      exporter.consume(manyHttp(5));
      await receiver.waitFor(() => settings.telemetry.get('dropped') === 5, 5000, 'the drop');
      await exporter.shutdown();
      const log = logLines.join('\n');
      assert.doesNotMatch(log, /SECRET/);
      assert.match(log, new RegExp(`dropped 5 spans: not retried \\(retry_on_failure is off\\) \\(last error: POST http://user:\\*\\*\\*@127\\.0\\.0\\.1:${port}/v1/traces: could not reach the backend: connect ECONNREFUSED`));
      assert.doesNotMatch(log, /rejected/);
      assert.equal(settings.telemetry.get('dropped_send_failed'), 5, 'the reasons add up to dropped');
      assert.equal(settings.telemetry.get('dropped_metric_points'), 0);
    });

    it('a backend answering an error status rejected the data (not "could not reach"), credentials redacted', async () => {
      receiver.responder = () => ({ status: 401, body: 'bad credentials' });
      const url = receiver.url.replace('http://', 'http://user:SECRETPASS@');
      const { exporter, settings, provider, logLines } = makeExporter(testConfig(url, { signals: { traces: true, metrics: true, logs: false } }));
      new L7MetricsRecorder(provider).recordBatch(manyHttp(3));
      exporter.consume(manyHttp(3));
      await receiver.waitFor(() => settings.telemetry.get('dropped') === 3, 5000, 'the drop');
      await exporter.shutdown();
      const log = logLines.join('\n');
      assert.doesNotMatch(log, /SECRET/);
      assert.match(log, /dropped 3 spans: the backend rejected the data; check endpoint, headers and protocol \(last error: POST http:\/\/user:\*\*\*@127\.0\.0\.1:\d+\/v1\/traces: HTTP 401 Unauthorized: bad credentials\)/);
      assert.doesNotMatch(log, /could not reach/);
      // Metric points have their own total and are not added to the events' reasons.
      assert.ok(settings.telemetry.get('dropped_metric_points') > 0);
      assert.equal(settings.telemetry.get('dropped_send_failed'), 3);
    });

    it('counts items the backend rejected in a partial success', async () => {
      receiver.responder = () => ({ status: 200, body: JSON.stringify({ partialSuccess: { rejectedSpans: '2', errorMessage: 'too old' } }) });
      const { exporter, settings, logLines } = makeExporter(testConfig(receiver.url));
      exporter.consume(manyHttp(5));
      await receiver.waitFor(() => settings.telemetry.get('rejected') === 2);
      assert.ok(logLines.some((l) => l.includes('rejected by the backend') && l.includes('too old')));
    });

    it('with the queue disabled, consume() waits for delivery', async () => {
      const { exporter } = makeExporter(testConfig(receiver.url, { sending_queue: { enabled: false } }));
      const pending = exporter.consume(manyHttp(3));
      assert.ok(pending instanceof Promise);
      await pending;
      assert.equal(receiver.spans().length, 3);
    });
  });

  describe('shutdown', () => {
    it('flushes batched and queued data (and the last metrics) before resolving', async () => {
      const { exporter, settings, provider, logLines } = makeExporter(testConfig(receiver.url, { sending_queue: { batch: { max_size: 2048, flush_timeout: 60_000 } } }));
      new L7MetricsRecorder(provider).recordBatch(manyHttp(10));
      exporter.consume(manyHttp(10));
      await exporter.shutdown();
      assert.equal(receiver.spans().length, 10);
      assert.ok(receiver.metrics().some((m) => m.name === 'http.client.request.duration'), 'final metrics collected on shutdown');
      // The collector shuts its MeterProvider down after the exporters: that late collection
      // repeats what shutdown sent and must not be reported as lost data.
      await provider.shutdown();
      assert.ok(settings.telemetry.get('metric_points_after_shutdown') > 0);
      assert.equal(settings.telemetry.get('dropped_metric_points'), 0);
      assert.ok(!logLines.some((l) => l.includes('WARN')), logLines.join('\n'));
      exporter.consume(manyHttp(2));
      assert.equal(settings.telemetry.get('dropped'), 2, 'data after shutdown is counted as dropped');
      await exporter.shutdown(); // idempotent
    });

    it('a backend that hung then recovered gets everything at shutdown, without waiting out the backoff', async () => {
      // Requests time out against the hung backend and wait a 10 s backoff; the backend then
      // answers again and the collector is stopped: the waiting data goes out at once.
      receiver.responder = () => 'hang';
      const { exporter, settings } = makeExporter(testConfig(receiver.url, {
        timeout: 200,
        retry_on_failure: { enabled: true, initial_interval: 10_000, max_interval: 10_000, max_elapsed_time: 0, multiplier: 1, randomization_factor: 0 },
        signals: { traces: true, metrics: false, logs: true },
        shutdown_timeout: 3000,
      }));
      exporter.consume(manyHttp(300));
      exporter.consume([connectionOpened(), connectionClosed(), connectionFailed()]);
      await receiver.waitFor(() => settings.telemetry.get('retries') >= 2, 5000, 'both requests to time out and wait for a retry');
      receiver.responder = () => undefined;
      const started = Date.now();
      await exporter.shutdown();
      const took = Date.now() - started;
      assert.ok(took < 1500, `shutdown took ${took} ms`);
      assert.equal(settings.telemetry.get('dropped'), 0);
      assert.equal(receiver.spans().length, 300);
      assert.equal(receiver.logs().length, 3);
      assert.equal(settings.telemetry.get('sent_spans') + settings.telemetry.get('sent_log_records'), 303);
    });

    it('defaults to a 10 s request timeout, as the OTLP exporter specification does', () => {
      assert.equal(factory.createDefaultConfig().timeout, 10_000);
    });

    it('gives up at shutdown_timeout when the backend stays down, counting what is lost', async () => {
      const port = await OtlpReceiver.freePort();
      const { exporter, settings } = makeExporter(testConfig(`http://127.0.0.1:${port}`, { shutdown_timeout: 300, signals: { traces: true, metrics: false, logs: false } }));
      exporter.consume(manyHttp(20));
      const started = Date.now();
      await exporter.shutdown();
      const took = Date.now() - started;
      assert.ok(took >= 250 && took < 1500, `shutdown took ${took} ms`);
      assert.equal(settings.telemetry.get('dropped'), 20);
      assert.equal(settings.telemetry.get('dropped_shutdown'), 20);
    });
  });
});
