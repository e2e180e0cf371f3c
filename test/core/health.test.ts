import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Collector } from '../../core/collector';
import { ConfigError } from '../../core/config/errors';
import { loadConfigText } from '../../core/config/load';
import { silentLogger } from '../../core/logger';
import { journal, resetJournal, testFactories } from '../helpers/test-factories';

function collectorFor(yaml: string): Collector {
  const { config, registry } = loadConfigText(yaml, 'test.yaml', __dirname, { builtins: testFactories });
  return new Collector(config, registry, silentLogger);
}

const pipelineWith = (exporter: string, telemetry: string): string => `
receivers: { test_replay: { count: 1 } }
exporters: { test_record: ${exporter} }
service:
  telemetry: ${telemetry}
  pipelines: { network: { receivers: [test_replay], exporters: [test_record] } }
`;

async function probe(url: string, method = 'GET'): Promise<{ status: number; body: Record<string, unknown> | undefined; type: string | null }> {
  const res = await fetch(url, { method });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type'), body: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
}

async function until<T>(what: string, read: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('health check (service::telemetry::health_check)', () => {
  beforeEach(resetJournal);

  it('answers 503 while starting, 200 while every pipeline runs, 503 while stopping, and closes after', async () => {
    const c = collectorFor(pipelineWith('{ start_delay: 400ms, stop_delay: 400ms }', '{ health_check: { endpoint: "127.0.0.1:0", path: /healthz } }'));
    const starting = c.start();
    const url = await until('the health endpoint to listen', () => c.healthCheckUrl);
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/healthz$/);

    const early = await probe(url);
    assert.equal(early.status, 503);
    assert.deepEqual(early.body, { status: 'starting', pipelines: ['network'] });
    assert.deepEqual(journal, ['start test_record'], 'the probe came while the exporter was still starting');

    await starting;
    const up = await probe(url);
    assert.equal(up.status, 200);
    assert.equal(up.type, 'application/json');
    assert.equal(up.body?.status, 'running');
    assert.deepEqual(up.body?.pipelines, ['network']);
    assert.ok(Date.parse(String(up.body?.up_since)) <= Date.now());
    assert.equal(typeof up.body?.uptime_seconds, 'number');
    assert.equal((await probe(url, 'HEAD')).status, 200);
    assert.equal((await fetch(url.replace('/healthz', '/'))).status, 404);

    const stopping = c.shutdown();
    await until('the exporter to be stopping', () => (journal.includes('stop test_record') ? true : undefined));
    const down = await probe(url);
    assert.equal(down.status, 503);
    assert.equal(down.body?.status, 'stopping');
    await stopping;
    await assert.rejects(fetch(url), 'the endpoint is closed once the collector stopped');
  });

  it('answers 503 with the error after a component reported a fatal error', async () => {
    const c = collectorFor(pipelineWith('', '{ health_check: { endpoint: "127.0.0.1:0" } }'));
    await c.start();
    const url = c.healthCheckUrl!;
    assert.equal((await probe(url)).status, 200);
    // What a component's Host.reportFatalError does.
    (c as unknown as { host(): { reportFatalError(e: Error): void } }).host().reportFatalError(new Error('ring buffer gone'));
    const failed = await probe(url);
    assert.equal(failed.status, 503);
    assert.deepEqual(failed.body, { status: 'failed', pipelines: ['network'], error: 'ring buffer gone' });
    await c.shutdown();
  });

  it('a start that fails closes the endpoint too', async () => {
    const c = collectorFor(pipelineWith('{ fail_on_start: true }', '{ health_check: { endpoint: "127.0.0.1:0" } }'));
    const failed = assert.rejects(c.start(), /starting exporter\/test_record failed/);
    const url = await until('the health endpoint to listen', () => c.healthCheckUrl);
    await failed;
    await assert.rejects(fetch(url));
  });

  it('a port in use fails the start before any component starts, saying what to do', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const c = collectorFor(pipelineWith('', `{ health_check: { endpoint: "127.0.0.1:${port}" } }`));
      await assert.rejects(c.start(), {
        message: `service::telemetry::health_check::endpoint 127.0.0.1:${port}: the port is already in use; stop the process listening there or choose another port`,
      });
      assert.deepEqual(journal, []);
    } finally {
      blocker.close();
    }
  });

  it('is off without the section; defaults to 127.0.0.1:13133 and / with an empty one; rejects a bad endpoint', async () => {
    const off = collectorFor(pipelineWith('', '{}'));
    await off.start();
    assert.equal(off.healthCheckUrl, undefined);
    assert.equal(off.health().status, 'running');
    await off.shutdown();
    assert.equal(off.health().status, 'stopped');

    const { config } = loadConfigText(pipelineWith('', '{ health_check: {} }'), 'test.yaml', __dirname, { builtins: testFactories });
    assert.deepEqual(config.telemetry.healthCheck, { endpoint: { host: '127.0.0.1', port: 13133 }, path: '/' });

    assert.throws(
      () => loadConfigText(pipelineWith('', '{ health_check: { endpoint: "13133", path: health } }'), 'bad.yaml', __dirname, { builtins: testFactories }),
      (error: ConfigError) => {
        assert.deepEqual(error.issues.map((i) => i.path.join('::')).sort(), ['service::telemetry::health_check::endpoint', 'service::telemetry::health_check::path']);
        assert.match(error.message, /endpoint: must be host:port such as 0\.0\.0\.0:9464/);
        return true;
      },
    );
  });
});
