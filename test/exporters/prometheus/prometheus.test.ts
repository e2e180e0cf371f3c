import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { Host } from '../../../core/component';
import { deepMerge } from '../../../core/config/merge';
import { normalizeUnits, validateAgainstSchema } from '../../../core/config/schema-validator';
import { createLogger } from '../../../core/logger';
import { L7MetricsRecorder } from '../../../core/otel/l7-metrics';
import { createTestSettings } from '../../../core/testing';
import { factory, PrometheusExporter, type PrometheusConfig } from '../../../exporters/prometheus';
import { unitSuffix } from '../../../exporters/prometheus/names';
import { dnsEvent, httpEvent } from '../fixtures';

function configOf(overrides: Record<string, unknown> = {}): PrometheusConfig {
  const merged = deepMerge(factory.createDefaultConfig(), { endpoint: '127.0.0.1:0', ...overrides });
  assert.deepEqual(validateAgainstSchema(factory.configSchema, merged), []);
  return normalizeUnits(factory.configSchema, merged) as PrometheusConfig;
}

interface Running {
  exporter: PrometheusExporter;
  provider: MeterProvider;
  logs: string[];
  get(path?: string, method?: string): Promise<{ status: number; type: string | null; text: string }>;
  stop(): Promise<void>;
}

/** An exporter whose reader sits on a MeterProvider, started as the collector starts it. */
async function running(overrides: Record<string, unknown> = {}): Promise<Running> {
  const logs: string[] = [];
  const settings = createTestSettings('exporter', 'prometheus', createLogger('debug', (line) => logs.push(line)));
  const exporter = new PrometheusExporter(settings, configOf(overrides));
  const provider = new MeterProvider({ readers: exporter.metricReaders() });
  const host: Host = { meterProvider: provider, metricsEnabled: true, reportFatalError: (e) => assert.fail(e), reportStopped: (reason) => assert.fail(reason) };
  await exporter.start(host);
  const base = new URL(exporter.url);
  return {
    exporter,
    provider,
    logs,
    async get(path = base.pathname, method = 'GET') {
      const res = await fetch(new URL(path, base), { method });
      return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
    },
    async stop() {
      await exporter.shutdown();
      await provider.shutdown();
    },
  };
}

describe('exporters/prometheus', () => {
  describe('config', () => {
    it('defaults to 0.0.0.0:9464 and /metrics, and passes its own schema', () => {
      const defaults = factory.createDefaultConfig();
      assert.equal(defaults.endpoint, '0.0.0.0:9464');
      assert.equal(defaults.path, '/metrics');
      assert.deepEqual(validateAgainstSchema(factory.configSchema, defaults), []);
    });

    it('rejects endpoints that are not host:port and paths that are not absolute, naming the key', () => {
      for (const endpoint of ['9464', 'http://0.0.0.0:9464', '0.0.0.0:70000', '::1:9464', 'bad host:1']) {
        const problems = validateAgainstSchema(factory.configSchema, { endpoint });
        assert.deepEqual(problems.map((p) => [p.path.join('.'), p.message]), [['endpoint', 'must be host:port such as 0.0.0.0:9464, 127.0.0.1:13133 or [::1]:9464']], endpoint);
      }
      for (const endpoint of ['0.0.0.0:9464', '[::1]:9464', 'localhost:0', 'node-1.example:8080']) {
        assert.deepEqual(validateAgainstSchema(factory.configSchema, { endpoint }), [], endpoint);
      }
      for (const path of ['metrics', '/metrics?x=1', '/a b']) {
        assert.deepEqual(validateAgainstSchema(factory.configSchema, { path }), [{ path: ['path'], message: 'must be a URL path such as / or /metrics (starting with /, no query or fragment)' }], path);
      }
    });
  });

  describe('unit suffixes', () => {
    it('names units as Prometheus does and drops annotations', () => {
      assert.equal(unitSuffix('s', false), 'seconds');
      assert.equal(unitSuffix('By', false), 'bytes');
      assert.equal(unitSuffix('{connection}', false), '');
      assert.equal(unitSuffix('By/s', true), 'bytes_per_second');
      assert.equal(unitSuffix('{packet}/s', true), 'per_second');
      assert.equal(unitSuffix('1', true), 'ratio');
      assert.equal(unitSuffix('1', false), '');
    });
  });

  describe('scrape endpoint', () => {
    let r: Running | undefined;
    afterEach(async () => {
      await r?.stop();
      r = undefined;
    });

    it('serves the L7 histograms recorded on its provider with semconv labels and target_info; units become suffixes', async () => {
      r = await running();
      new L7MetricsRecorder(r.provider).recordBatch([httpEvent(), httpEvent({ statusCode: 500, endUs: httpEvent().startUs + 300_000 }), dnsEvent()]);
      r.provider.getMeter('test').createCounter('test.io', { unit: 'By' }).add(3);
      const res = await r.get();
      assert.match(res.text, /^test_io_bytes_total\{otel_scope_name="test"\} 3$/m);
      assert.equal(res.status, 200);
      assert.equal(res.type, 'text/plain; version=0.0.4; charset=utf-8');
      assert.match(res.text, /^# TYPE http_client_request_duration_seconds histogram$/m);
      const line = (le: string, status: number): RegExp =>
        new RegExp(`^http_client_request_duration_seconds_bucket\\{http_request_method="GET",[^}]*http_response_status_code="${status}"[^}]*process_executable_name="curl"[^}]*le="${le}"\\} (\\d+)$`, 'm');
      assert.equal(line('0.025', 200).exec(res.text)?.[1], '1', '12.5 ms lands in the 25 ms bucket');
      assert.equal(line('0.25', 500).exec(res.text)?.[1], '0', '300 ms is above 250 ms');
      assert.equal(line('0.5', 500).exec(res.text)?.[1], '1');
      assert.match(res.text, /^http_client_request_duration_seconds_count\{[^}]*http_response_status_code="200"[^}]*\} 1$/m);
      assert.match(res.text, /^dns_lookup_duration_seconds_count\{dns_question_name="example.com"[^}]*\} 1$/m);
      assert.match(res.text, /^target_info\{service_name="network-observer",service_version="[^"]+",host_name="[^"]+"[^}]*\} 1$/m);
      assert.doesNotMatch(res.text, /^http_client_request_duration_seconds_bucket\{[^}]*service_name=/m, 'resource attributes stay on target_info');
    });

    it('counts a scrape in its telemetry and answers 404 elsewhere and 405 to other methods', async () => {
      r = await running({ path: '/prom' });
      assert.equal((await r.get('/metrics')).status, 404);
      assert.match((await r.get('/metrics')).text, /metrics are served at \/prom/);
      assert.equal((await r.get('/prom', 'POST')).status, 405);
      assert.equal((await r.get('/prom', 'HEAD')).status, 200);
      assert.equal((await r.get('/prom?x=1')).status, 200);
      assert.equal(r.exporter['settings'].telemetry.get('scrapes'), 2);
    });

    it('answers 400 to a request target that is not a URL, and keeps serving', async () => {
      r = await running();
      const { hostname, port } = new URL(r.exporter.url);
      const reply = await new Promise<string>((resolve, reject) => {
        const socket = connect(Number(port), hostname, () => socket.end('GET http://[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
        let text = '';
        socket.on('data', (chunk) => (text += chunk.toString()));
        socket.on('end', () => resolve(text));
        socket.on('error', reject);
      });
      assert.match(reply, /^HTTP\/1\.1 400 [^]*bad request target/);
      assert.equal((await r.get()).status, 200);
    });

    it('add_metric_suffixes: false keeps the OpenTelemetry names; counters still end in _total', async () => {
      r = await running({ add_metric_suffixes: false });
      new L7MetricsRecorder(r.provider).recordBatch([httpEvent()]);
      r.provider.getMeter('test').createCounter('test.io', { unit: 'By' }).add(3, { component: 'x' });
      const { text } = await r.get();
      assert.match(text, /^http_client_request_duration_bucket\{/m);
      assert.doesNotMatch(text, /_seconds_bucket/);
      assert.match(text, /^test_io_total\{component="x"[^}]*\} 3$/m);
    });

    it('resource_to_telemetry_conversion puts resource attributes on every series', async () => {
      r = await running({ resource_to_telemetry_conversion: { enabled: true }, service_name: 'edge-observer' });
      new L7MetricsRecorder(r.provider).recordBatch([httpEvent()]);
      const { text } = await r.get();
      assert.match(text, /^http_client_request_duration_seconds_bucket\{[^}]*service_name="edge-observer"[^}]*\}/m);
      assert.match(text, /^target_info\{service_name="edge-observer"/m);
    });

    it('stops serving at shutdown, and drops (and counts) batches that come after', async () => {
      r = await running();
      const url = r.exporter.url;
      await r.exporter.shutdown();
      await assert.rejects(fetch(url), 'the port is closed');
      r.exporter.consume([httpEvent()]);
      assert.equal(r.exporter['settings'].telemetry.get('dropped'), 1);
    });
  });

  it('answers 503 and counts it when collecting fails (here: its reader was never given a MeterProvider)', async () => {
    const settings = createTestSettings('exporter', 'prometheus');
    const exporter = new PrometheusExporter(settings, configOf());
    await exporter.start({ meterProvider: new MeterProvider(), metricsEnabled: false, reportFatalError: () => undefined, reportStopped: () => undefined });
    try {
      const res = await fetch(exporter.url);
      assert.equal(res.status, 503);
      assert.match(await res.text(), /^collecting metrics failed: /);
      assert.equal(settings.telemetry.get('scrape_errors'), 1);
      assert.equal(settings.telemetry.get('scrapes'), 0);
    } finally {
      await exporter.shutdown();
    }
  });

  it('fails to start on a port in use, naming the option and what to do', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const exporter = new PrometheusExporter(createTestSettings('exporter', 'prometheus/edge'), configOf({ endpoint: `127.0.0.1:${port}` }));
      await assert.rejects(exporter.start({ meterProvider: new MeterProvider(), metricsEnabled: false, reportFatalError: () => undefined, reportStopped: () => undefined }), {
        message: `exporters::prometheus/edge::endpoint 127.0.0.1:${port}: the port is already in use; stop the process listening there or choose another port`,
      });
      await exporter.shutdown();
    } finally {
      blocker.close();
    }
  });
});
