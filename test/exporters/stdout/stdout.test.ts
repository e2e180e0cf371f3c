import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { createTestHost, createTestSettings } from '../../../core/testing';
import type { Host } from '../../../core/component';
import type { L7Event, NetworkEvent } from '../../../core/events';
import { factory, StdoutExporter, type StdoutConfig } from '../../../exporters/stdout';
import { l7Attributes } from '../../../core/otel/attributes';
import { L7MetricsRecorder } from '../../../core/otel/l7-metrics';
import { SEMCONV_DURATION_BUCKETS_SECONDS } from '../../../core/semconv';
import { dnsEvent, everyKind, grpcEvent, httpEvent, payloadEvent, tlsEvent } from '../fixtures';

class CapturingStream extends EventEmitter {
  chunks: string[] = [];
  /** When set, write() reports a full buffer (backpressure). */
  full = false;
  /** Set by fail(): writes not yet reported done fail with it, as a stream's do. */
  private error: Error | undefined;
  write(chunk: Uint8Array, done?: (error?: Error | null) => void): boolean {
    this.chunks.push(Buffer.from(chunk).toString('utf8'));
    // Like a net.Socket: the chunk is reported written (or failed) later.
    if (done) setImmediate(() => done(this.error));
    return !this.full;
  }
  /** The reader went away: the pending writes fail and the stream emits the error. */
  fail(error: Error): void {
    this.error = error;
    this.emit('error', error);
  }
  destroyed = false;
  destroy(): void {
    this.destroyed = true;
    setImmediate(() => this.emit('close'));
  }
  get text(): string {
    return this.chunks.join('');
  }
  lines(): string[] {
    return this.text.split('\n').filter((l) => l.length > 0);
  }
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

function makeExporter(overrides: Partial<StdoutConfig> = {}, stream = new CapturingStream()) {
  const settings = createTestSettings('exporter', 'stdout');
  const config = { ...factory.createDefaultConfig(), ...overrides };
  const exporter = new StdoutExporter(settings, config, stream);
  return { exporter, stream, settings, config };
}

function hostWith(provider: MeterProvider): Host {
  return { meterProvider: provider, metricsEnabled: true, reportFatalError: (e) => assert.fail(e), reportStopped: (reason) => assert.fail(reason) };
}

interface JsonLine {
  signal: string;
  kind: string;
  time: string;
  name?: string;
  attributes: Record<string, unknown>;
  data_hex?: string;
  [key: string]: unknown;
}

describe('exporters/stdout', () => {
  it('default config passes its own validation', () => {
    assert.deepEqual(factory.validate!(factory.createDefaultConfig()), []);
    const issues = factory.validate!({ ...factory.createDefaultConfig(), metrics: true, metrics_interval: 5, max_buffered_bytes: 10 });
    assert.deepEqual(issues.map((i) => i.path[0]).sort(), ['max_buffered_bytes', 'metrics_interval']);
  });

  describe('json format', () => {
    it('writes exactly one valid JSON object per line, one line per event, in one write per batch', () => {
      const { exporter, stream } = makeExporter({ format: 'json', verbosity: 'detailed' });
      exporter.start(hostWith(new MeterProvider()));
      const events = everyKind();
      exporter.consume(events);
      assert.equal(stream.chunks.length, 1, 'one write per batch');
      assert.ok(stream.text.endsWith('\n'));
      const lines = stream.lines();
      assert.equal(lines.length, events.length);
      lines.forEach((line, i) => {
        const parsed = JSON.parse(line) as JsonLine;
        assert.equal(typeof parsed, 'object');
        assert.equal(parsed.kind, events[i].kind);
        assert.equal(parsed.signal, events[i].kind.startsWith('l7.') ? 'span' : 'log');
        assert.match(parsed.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
      });
    });

    it('uses the semantic-convention attribute names of the OTLP mapping', () => {
      const { exporter, stream } = makeExporter({ format: 'json' });
      exporter.start(hostWith(new MeterProvider()));
      const l7: L7Event[] = [httpEvent({ side: 'server', statusCode: 503 }), dnsEvent(), grpcEvent(), tlsEvent()];
      exporter.consume(l7);
      const [http, dns, grpc, tls] = stream.lines().map((l) => JSON.parse(l) as JsonLine);

      assert.equal(http.name, 'GET');
      assert.equal(http.span_kind, 'SERVER');
      assert.equal(http.status, 'ERROR');
      assert.equal(http.attributes['http.request.method'], 'GET');
      assert.equal(http.attributes['url.path'], '/api/users/42');
      assert.equal(http.attributes['http.response.status_code'], 503);
      assert.equal(http.attributes['server.address'], 'api.example.com');
      assert.equal(http.attributes['client.address'], '10.0.0.2');
      assert.equal(http.attributes['error.type'], '503');
      assert.equal(http.attributes['process.pid'], 4242);
      assert.equal(http.attributes['process.executable.name'], 'curl');

      assert.equal(dns.name, 'A example.com');
      assert.equal(dns.attributes['dns.question.name'], 'example.com');
      assert.deepEqual(dns.attributes['dns.answers'], ['93.184.216.34', '93.184.216.35']);

      assert.equal(grpc.name, 'shop.Checkout/PlaceOrder');
      assert.equal(grpc.attributes['rpc.system.name'], 'grpc');
      assert.equal(grpc.attributes['rpc.method'], 'shop.Checkout/PlaceOrder');
      assert.equal(grpc.attributes['rpc.status_code'], 'NOT_FOUND');

      assert.equal(tls.name, 'tls handshake');
      assert.equal(tls.attributes['tls.protocol.version'], '1.3');
      assert.equal(tls.attributes['tls.next_protocol'], 'h2');
      assert.equal(tls.attributes['server.address'], 'secure.example.com');

      // Same names and values as the mapping the OTLP exporter serializes.
      l7.forEach((event, i) => {
        const line = JSON.parse(stream.lines()[i]) as JsonLine;
        assert.deepEqual(line.attributes, JSON.parse(JSON.stringify(l7Attributes(event))));
      });
    });

    it('summarizes payloads by length and shows a capped hex preview only at detailed', () => {
      const secret = payloadEvent();
      const basic = makeExporter({ format: 'json', verbosity: 'basic' });
      basic.exporter.consume([secret]);
      const line = JSON.parse(basic.stream.lines()[0]) as JsonLine;
      assert.equal(line.data_hex, undefined);
      assert.equal(line.attributes['network_observer.payload.captured_length'], secret.data.length);
      assert.equal(line.attributes['network_observer.payload.original_length'], 4096);
      assert.ok(!basic.stream.text.includes('token=abc'), 'raw bytes must not be printed');
      assert.ok(!basic.stream.text.includes(Buffer.from('token=abc').toString('hex')));

      const detailed = makeExporter({ format: 'json', verbosity: 'detailed', payload_preview_bytes: 4 });
      detailed.exporter.consume([secret]);
      const d = JSON.parse(detailed.stream.lines()[0]) as JsonLine;
      assert.equal(d.data_hex, Buffer.from('GET ').toString('hex'));
    });
  });

  describe('text format', () => {
    it('prints one line per event at basic and more at normal and detailed', () => {
      const events = everyKind();
      const counts: Record<string, number> = {};
      for (const verbosity of ['basic', 'normal', 'detailed'] as const) {
        const { exporter, stream } = makeExporter({ verbosity });
        exporter.consume(events);
        counts[verbosity] = stream.lines().length;
      }
      assert.equal(counts.basic, events.length);
      assert.ok(counts.normal > counts.basic);
      assert.ok(counts.detailed > counts.normal);
    });

    it('shows the span essentials on the basic line and a hex dump only at detailed', () => {
      const { exporter, stream } = makeExporter({ verbosity: 'basic' });
      exporter.consume([httpEvent({ statusCode: 404 }), payloadEvent()]);
      const [span, payload] = stream.lines();
      assert.match(span, / span l7\.http CLIENT "GET" \/api\/users\/42 404 12\.5ms ERROR\(404\) 10\.0\.0\.1:51234 -> 10\.0\.0\.2:8080 curl\[4242\]$/);
      assert.ok(!payload.includes('token'));

      const detailed = makeExporter({ verbosity: 'detailed', payload_preview_bytes: 16 });
      detailed.exporter.consume([payloadEvent()]);
      assert.match(detailed.stream.text, /0000 {2}47 45 54 20 2f 73 65 63 72 65 74 3f 74 6f 6b 65 {2}GET \/secret\?toke/);
      assert.ok(!detailed.stream.text.includes('token=abc'), 'preview is capped at payload_preview_bytes');
    });

    it('shows a summarised HTTP/1 exchange as its request\'s payload with the response\'s summary', () => {
      const { exporter, stream } = makeExporter({ verbosity: 'basic' });
      const request = payloadEvent({ originalLength: 44, truncated: false });
      request.h1Response = { timeUs: request.timeUs + 1500, length: 2100, bodyLength: 2048, status: 503, versionMinor: 0, pid: 1, tid: 1, dataDirection: 'recv' };
      exporter.consume([request]);
      assert.match(stream.lines()[0], /payload send 44 B on fd 5 .*; summarised exchange: HTTP\/1\.0 503 response of 2\.1 KiB recv after 1\.5ms/);
    });
  });

  describe('backpressure and broken output', () => {
    it('holds output while the stream is full, drops beyond max_buffered_bytes and counts it', async () => {
      const stream = new CapturingStream();
      const { exporter, settings } = makeExporter({ format: 'json', max_buffered_bytes: 8192 }, stream);
      stream.full = true;
      exporter.consume([httpEvent()]); // written, stream reports full
      assert.equal(stream.chunks.length, 1);
      let batches = 0;
      while (settings.telemetry.get('dropped') === 0 && batches < 100) {
        exporter.consume([httpEvent(), dnsEvent()]);
        batches++;
      }
      assert.equal(stream.chunks.length, 1, 'nothing written while waiting for drain');
      assert.ok(batches > 1 && batches < 100, 'some batches were held before the budget ran out');
      assert.equal(settings.telemetry.get('dropped'), 2);
      assert.ok(settings.telemetry.get('buffered_bytes') <= 8192);
      stream.full = false;
      stream.emit('drain');
      assert.equal(stream.chunks.length, 2, 'held output written in one chunk after drain');
      assert.equal(stream.lines().length, 1 + (batches - 1) * 2);
      assert.equal(settings.telemetry.get('buffered_bytes'), 0);
      await exporter.shutdown();
    });

    it('shutdown gives up on a stream that never drains: held output dropped and counted, stream closed', async function () {
      this.timeout(10_000);
      const stream = new CapturingStream();
      const { exporter, settings } = makeExporter({ format: 'json' }, stream);
      stream.full = true;
      exporter.consume([httpEvent()]);
      exporter.consume([httpEvent(), dnsEvent()]); // held: the stream asked to wait
      await exporter.shutdown(); // waits the shutdown flush time, then gives up
      assert.equal(settings.telemetry.get('dropped'), 2, 'the held batch');
      assert.ok(stream.destroyed, 'the stream is closed, so a reader that never reads cannot keep the process alive');
    });

    it('EPIPE on stdout stops the exporter: reported to the host once, no throw, nothing counted emitted that was not written', async () => {
      const stream = new CapturingStream();
      const { exporter, settings } = makeExporter({}, stream);
      const host = createTestHost();
      exporter.start(host);
      exporter.consume([httpEvent()]);
      await tick();
      assert.equal(settings.telemetry.get('emitted'), 1, 'counted once the stream wrote it');
      exporter.consume([httpEvent(), dnsEvent()]); // accepted by the stream, then the reader exits
      stream.fail(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      stream.fail(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
      exporter.consume([dnsEvent()]);
      await tick();
      assert.equal(stream.chunks.length, 2);
      assert.deepEqual(host.stopped, ['standard output was closed by its reader (EPIPE); the rest of its output is dropped']);
      assert.deepEqual(host.fatalErrors, []);
      assert.equal(settings.telemetry.get('emitted'), 1);
      assert.equal(settings.telemetry.get('dropped'), 3, 'the batch the stream failed and the one after');
      await exporter.shutdown();
    });

    it('counts a malformed event as an error and still prints the rest of the batch', async () => {
      const { exporter, stream, settings } = makeExporter({ format: 'json' });
      const broken = { ...httpEvent(), process: undefined } as unknown as NetworkEvent;
      exporter.consume([broken, dnsEvent()]);
      await tick();
      assert.equal(stream.lines().length, 1);
      assert.equal(settings.telemetry.get('errors'), 1);
      assert.equal(settings.telemetry.get('emitted'), 1);
    });
  });

  describe('metrics', () => {
    it('prints the semconv duration histograms with unit s and semconv buckets when metrics is true', async () => {
      const { exporter, stream } = makeExporter({ format: 'json', metrics: true, metrics_interval: 60_000 });
      const provider = new MeterProvider({ readers: exporter.metricReaders() });
      exporter.start(hostWith(provider));
      new L7MetricsRecorder(provider).recordBatch([httpEvent(), httpEvent({ side: 'server' }), grpcEvent(), dnsEvent(), tlsEvent()]);
      await provider.forceFlush();
      const metrics = stream.lines().map((l) => JSON.parse(l) as JsonLine).filter((l) => l.signal === 'metric');
      const byName = new Map(metrics.map((m) => [m.name, m]));
      for (const name of ['http.client.request.duration', 'http.server.request.duration', 'rpc.server.call.duration', 'dns.lookup.duration']) {
        const metric = byName.get(name);
        assert.ok(metric, `${name} printed`);
        assert.equal(metric.unit, 's');
        assert.equal(metric.type, 'histogram');
        const points = metric.data_points as Array<{ count: number; bucket_bounds: number[] }>;
        assert.equal(points.length, 1);
        assert.equal(points[0].count, 1);
        assert.deepEqual(points[0].bucket_bounds, [...SEMCONV_DURATION_BUCKETS_SECONDS]);
      }
      const http = byName.get('http.client.request.duration')!.data_points as Array<{ sum: number; attributes: Record<string, unknown> }>;
      assert.equal(http[0].sum, 0.0125);
      assert.equal(http[0].attributes['http.request.method'], 'GET');
      assert.equal(http[0].attributes['url.path'], undefined, 'high-cardinality path is not a metric attribute');
      await provider.shutdown();
    });

    it('records nothing itself: two exporters seeing a recorded transaction both print it counted once', async () => {
      const a = makeExporter({ format: 'json', metrics: true, metrics_interval: 60_000 });
      const b = makeExporter({ format: 'json', metrics: true, metrics_interval: 60_000 });
      const provider = new MeterProvider({ readers: [...a.exporter.metricReaders(), ...b.exporter.metricReaders()] });
      a.exporter.start(hostWith(provider));
      b.exporter.start(hostWith(provider));
      const batch = [httpEvent()];
      new L7MetricsRecorder(provider).recordBatch(batch);
      a.exporter.consume(batch);
      b.exporter.consume(batch);
      await provider.forceFlush();
      for (const { stream } of [a, b]) {
        const metric = stream.lines().map((l) => JSON.parse(l) as JsonLine).find((l) => l.name === 'http.client.request.duration')!;
        assert.equal((metric.data_points as Array<{ count: number }>)[0].count, 1);
      }
      await provider.shutdown();
    });

    it('prints metrics as text lines', async () => {
      const { exporter, stream } = makeExporter({ metrics: true, metrics_interval: 60_000, verbosity: 'normal' });
      const provider = new MeterProvider({ readers: exporter.metricReaders() });
      exporter.start(hostWith(provider));
      new L7MetricsRecorder(provider).recordBatch([dnsEvent()]);
      await provider.forceFlush();
      assert.match(stream.text, / metric dns\.lookup\.duration\{dns\.question\.name=example\.com process\.executable\.name=curl\} histogram count=1 sum=0\.0018 s/);
      assert.match(stream.text, /buckets: <=0\.005:1 /);
      await provider.shutdown();
    });

    it('has no metric reader when metrics is false', () => {
      assert.deepEqual(makeExporter().exporter.metricReaders(), []);
    });
  });
});
