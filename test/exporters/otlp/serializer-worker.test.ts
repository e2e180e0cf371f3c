import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { createLogger, silentLogger } from '../../../core/logger';
import { SerializerClient, WorkerUnavailableError } from '../../../exporters/otlp/serializer-client';
import { serializeSpans } from '../../../exporters/otlp/signals';
import { observerResource } from '../../../core/otel/resource';
import { SpanMapper } from '../../../core/otel/spans';
import { dnsEvent, grpcEvent, httpEvent, tlsEvent } from '../fixtures';
import { decodeTraceRequest } from '../otlp-receiver';

const resource = observerResource('serializer-worker-test');
const scope = { name: 'network-observer', version: '9.9.9' };

/** Every span shape the mapping produces: errors, remote parents, array attributes, non-ASCII. */
function sampleSpans(): ReadableSpan[] {
  const mapper = new SpanMapper({ resource, scope, optIn: true });
  const traceContext = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 };
  const events = [
    httpEvent(),
    httpEvent({ side: 'server', statusCode: 503, traceContext, path: '/caf\u00e9/\u00fcber' }),
    httpEvent({ method: 'PURGE', errorType: 'timeout' }),
    grpcEvent(),
    dnsEvent(),
    tlsEvent(),
  ];
  return Array.from({ length: 300 }, (_, i) => mapper.map(events[i % events.length]));
}

describe('exporters/otlp serializer worker', function () {
  this.timeout(20_000);
  const clients: SerializerClient[] = [];
  const client = (entry?: string, logger = silentLogger): SerializerClient => {
    const c = new SerializerClient({ resourceAttributes: resource.attributes, scope, logger, maxOutstanding: 2, entry });
    clients.push(c);
    return c;
  };
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });

  for (const encoding of ['proto', 'json'] as const) {
    it(`produces byte for byte what the inline OpenTelemetry ${encoding} serializer produces`, async () => {
      const spans = sampleSpans();
      const worker = client();
      const body = await worker.serialize(encoding, spans);
      assert.ok(body && body.length > 0);
      assert.deepEqual(Buffer.from(body), Buffer.from(serializeSpans(encoding, spans)!));
      assert.equal(worker.outstanding, 0);
    });
  }

  it('keeps one resource and one scope per request (one shared Resource object in the worker)', async () => {
    const decoded = decodeTraceRequest((await client().serialize('proto', sampleSpans()))!);
    assert.equal(decoded.resourceSpans!.length, 1);
    assert.equal(decoded.resourceSpans![0].scopeSpans.length, 1);
    assert.equal(decoded.resourceSpans![0].scopeSpans[0].spans.length, 300);
  });

  it('bounds the requests it takes and accepts more as they finish', async () => {
    const worker = client();
    const spans = sampleSpans();
    assert.ok(worker.canTake());
    const first = worker.serialize('proto', spans);
    const second = worker.serialize('proto', spans);
    assert.equal(worker.outstanding, 2);
    assert.equal(worker.canTake(), false, 'maxOutstanding 2 reached');
    await Promise.all([first, second]);
    assert.ok(worker.canTake());
  });

  it('reports a worker that cannot start as unavailable, once, so the caller serializes inline', async () => {
    const lines: string[] = [];
    const worker = client(join(__dirname, 'no-such-worker.js'), createLogger('debug', (line) => lines.push(line)));
    await assert.rejects(worker.serialize('proto', sampleSpans()), WorkerUnavailableError);
    assert.equal(worker.canTake(), false);
    await assert.rejects(worker.serialize('proto', sampleSpans()), WorkerUnavailableError);
    assert.equal(lines.filter((l) => l.includes('serializer worker')).length, 1, lines.join('\n'));
  });

  it('fails requests still in the worker at close() without falling back, and stays closed', async () => {
    const worker = client();
    const outcome = assert.rejects(worker.serialize('proto', sampleSpans()), (error: Error) => !(error instanceof WorkerUnavailableError) && /shut down/.test(error.message));
    await worker.close();
    await outcome;
    assert.equal(worker.canTake(), false);
  });

  it('starts from the compiled build in plain Node (how bin/network-observer.js runs) and lets the process exit', () => {
    const root = join(__dirname, '../../..');
    // The fixtures are TypeScript: the compiled plugin loader transpiles them in memory.
    const script = `
      require('./dist/core/typescript-loader.js').registerTypeScriptLoader();
      const { SerializerClient } = require('./dist/exporters/otlp/serializer-client.js');
      const { SpanMapper } = require('./dist/core/otel/spans.js');
      const { observerResource } = require('./dist/core/otel/resource.js');
      const { httpEvent } = require('./test/exporters/fixtures.ts');
      const resource = observerResource('cli');
      const scope = { name: 'network-observer' };
      const spans = Array.from({ length: 300 }, () => new SpanMapper({ resource, scope }).map(httpEvent()));
      const logger = { debug() {}, info() {}, warn: (m) => { console.error(m); process.exitCode = 3; }, error: (m) => console.error(m) };
      const client = new SerializerClient({ resourceAttributes: resource.attributes, scope, logger, maxOutstanding: 2 });
      // No close(): an idle worker must not keep the process alive.
      client.serialize('proto', spans).then((body) => console.log('bytes', body.length), (e) => { console.error(e.message); process.exitCode = 2; });
    `;
    const out = execFileSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8', timeout: 15_000, env: { ...process.env, NODE_OPTIONS: '' } });
    assert.match(out, /^bytes \d+/);
  });
});
