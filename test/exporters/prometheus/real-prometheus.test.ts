/**
 * The prometheus exporter scraped by a real Prometheus (Debian's `prometheus` package, which
 * .ci/run installs). The test runs a whole collector in this process (the ebpf_network receiver
 * in mock mode: synthetic HTTP, gRPC, DNS and TCP/UDP traffic through conntrack, since this
 * must run without eBPF privileges), starts Prometheus on a free loopback port with a 1s
 * scrape interval and temp storage, and asks Prometheus' HTTP API for the series.
 * With CI=true a missing binary fails the test; elsewhere it skips with the reason.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Collector } from '../../../core/collector';
import { loadConfigText } from '../../../core/config/load';
import { silentLogger } from '../../../core/logger';
import { builtinFactories } from '../../../distribution/components';

const PROMETHEUS = process.env.PROMETHEUS_BIN || 'prometheus';
const JOB = 'network-observer';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

async function until<T>(what: string, timeoutMs: number, attempt: () => Promise<T | undefined>, diagnostics: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await attempt();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}\n${diagnostics()}`);
}

describe('exporters/prometheus scraped by a real Prometheus', function () {
  this.timeout(90_000);
  let dir = '';
  let prometheus: ChildProcess | undefined;
  let prometheusLog = '';
  let collector: Collector | undefined;
  let api = '';

  before(function () {
    const probe = spawnSync(PROMETHEUS, ['--version'], { encoding: 'utf8' });
    if (probe.error || probe.status !== 0) {
      const reason = `the prometheus binary (${PROMETHEUS}) is not installed: apt-get install prometheus (.ci/run does)`;
      if (process.env.CI === 'true') assert.fail(`${reason}; with CI=true this test must run`);
      process.stderr.write(`    skipped: ${reason}\n`);
      this.skip();
    }
  });

  after(async () => {
    if (prometheus && prometheus.exitCode === null) {
      const exited = new Promise((resolve) => prometheus!.once('exit', resolve));
      prometheus.kill('SIGTERM');
      const timer = setTimeout(() => prometheus?.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await collector?.shutdown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function query(promql: string): Promise<Sample[]> {
    const res = await fetch(`${api}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: Sample[] } };
    if (body.status !== 'success') throw new Error(`query ${promql}: ${body.error}`);
    return body.data!.result;
  }

  /** The samples of `promql` once there is at least one. */
  function eventually(promql: string): Promise<Sample[]> {
    return until(`a series for ${promql}`, 30_000, async () => {
      const result = await query(promql);
      return result.length ? result : undefined;
    }, () => `prometheus log (tail):\n${prometheusLog.slice(-2000)}`);
  }

  it('answers PromQL over the HTTP duration histogram and the connection metrics with their labels', async () => {
    const [exporterPort, webPort] = [await freePort(), await freePort()];
    const { config, registry } = loadConfigText(`
receivers:
  ebpf_network: { mock_mode: true, mock_events_per_second: 400 }
processors:
  conntrack:
  l7:
exporters:
  prometheus: { endpoint: "127.0.0.1:${exporterPort}" }
service:
  pipelines:
    network: { receivers: [ebpf_network], processors: [conntrack, l7], exporters: [prometheus] }
`, 'real-prometheus.yaml', __dirname, { builtins: builtinFactories });
    collector = new Collector(config, registry, silentLogger);
    await collector.start();

    dir = mkdtempSync(join(tmpdir(), 'no-prometheus-'));
    writeFileSync(join(dir, 'prometheus.yml'), [
      'global: { scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s }',
      'scrape_configs:',
      `  - job_name: ${JOB}`,
      `    static_configs: [{ targets: ["127.0.0.1:${exporterPort}"] }]`,
      '',
    ].join('\n'));
    api = `http://127.0.0.1:${webPort}`;
    prometheus = spawn(PROMETHEUS, [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${webPort}`,
      '--log.level=warn',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    prometheus.stdout!.on('data', (chunk: Buffer) => (prometheusLog += chunk.toString()));
    prometheus.stderr!.on('data', (chunk: Buffer) => (prometheusLog += chunk.toString()));
    await until('Prometheus to be ready', 30_000, async () => ((await fetch(`${api}/-/ready`)).ok ? true : undefined), () => prometheusLog.slice(-2000));

    const [up] = await eventually(`up{job="${JOB}"} == 1`);
    assert.equal(up.metric.instance, `127.0.0.1:${exporterPort}`, 'Prometheus scraped our endpoint successfully');

    // The mock's checkout service makes GET /api/cart (200) calls to 10.1.3.40:18080.
    const buckets = await eventually(
      `http_client_request_duration_seconds_bucket{job="${JOB}",process_executable_name="checkout",http_request_method="GET",http_response_status_code="200",le="+Inf"} > 0`,
    );
    const bucket = buckets[0].metric;
    assert.equal(bucket.server_address, '10.1.3.40');
    assert.equal(bucket.server_port, '18080');
    assert.equal(bucket.url_scheme, 'http');
    assert.equal(bucket.network_protocol_version, '1.1');
    assert.equal(bucket.url_path, undefined, 'the path is not a label (cardinality)');
    assert.ok(Number(buckets[0].value[1]) > 0);
    // Every bucket boundary of the semconv advice arrived, and the buckets are cumulative.
    const les = await query(`http_client_request_duration_seconds_bucket{job="${JOB}",process_executable_name="checkout",http_request_method="GET",http_response_status_code="200"}`);
    assert.equal(les.length, 15, 'semconv boundaries (14) + +Inf');
    const sorted = les.map((s) => [s.metric.le === '+Inf' ? Infinity : Number(s.metric.le), Number(s.value[1])]).sort((a, b) => a[0] - b[0]);
    for (let i = 1; i < sorted.length; i++) assert.ok(sorted[i][1] >= sorted[i - 1][1], 'cumulative buckets');
    const [p99] = await query(`histogram_quantile(0.99, sum by (le) (http_client_request_duration_seconds_bucket{job="${JOB}"}))`);
    assert.ok(Number(p99.value[1]) > 0 && Number(p99.value[1]) < 10, `p99 ${p99.value[1]} s is a real duration`);

    const opened = await eventually(`network_observer_connection_opened_total{job="${JOB}",process_executable_name="checkout",network_transport="tcp"} > 0`);
    assert.equal(opened[0].metric.network_peer_address, '10.1.3.40');
    assert.equal(opened[0].metric.network_type, 'ipv4');
    const bytes = await eventually(`sum by (network_io_direction) (network_observer_io_bytes_total{job="${JOB}",process_executable_name="checkout"}) > 0`);
    assert.deepEqual(bytes.map((s) => s.metric.network_io_direction).sort(), ['receive', 'transmit']);

    const self = await eventually(`network_observer_component_received_total{job="${JOB}",component="exporter/prometheus"} > 0`);
    assert.ok(Number(self[0].value[1]) > 0);

    const [target] = await eventually(`target_info{job="${JOB}"}`);
    assert.equal(target.metric.service_name, 'network-observer');
    assert.ok(target.metric.host_name, 'host.name is on target_info');
  });
});
