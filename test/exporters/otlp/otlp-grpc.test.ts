/**
 * protocol: grpc against a real OTLP/gRPC receiver on loopback (cleartext HTTP/2): the wire
 * format, compression, the retry classification of gRPC statuses, and config rules.
 */
import assert from 'node:assert/strict';
import { OBSERVER_USER_AGENT } from '../../../core/identity';
import { L7MetricsRecorder } from '../../../core/otel/l7-metrics';
import { factory, type OtlpConfig } from '../../../exporters/otlp';
import { connectionClosed, dnsEvent, httpEvent } from '../fixtures';
import { OtlpGrpcReceiver } from '../otlp-grpc-receiver';
import { startExporter, until, type Started } from './harness';

const TRACES = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

function grpcConfig(endpoint: string, patch: Partial<OtlpConfig> = {}): OtlpConfig {
  const base = factory.createDefaultConfig();
  return {
    ...base,
    endpoint,
    protocol: 'grpc',
    retry_on_failure: { ...base.retry_on_failure, initial_interval: 20, max_interval: 100, randomization_factor: 0 },
    sending_queue: { ...base.sending_queue, batch: { max_size: 512, flush_timeout: 20 } },
    signals: { traces: true, metrics: false, logs: false },
    shutdown_timeout: 1000,
    ...patch,
  };
}

describe('exporters/otlp with protocol: grpc', function () {
  this.timeout(15_000);
  let receiver: OtlpGrpcReceiver;
  const started: Started[] = [];

  function start(config: OtlpConfig): Started {
    const s = startExporter(config);
    started.push(s);
    return s;
  }

  beforeEach(async () => {
    receiver = await new OtlpGrpcReceiver().start();
  });

  afterEach(async () => {
    for (const s of started.splice(0)) await s.stop();
    await receiver.stop();
  });

  it('calls TraceService/Export with length-prefixed, gzip-compressed protobuf and the gRPC headers', async () => {
    const { exporter, settings } = start(grpcConfig(receiver.endpoint, { headers: { 'X-Api-Key': 'secret' } }));
    exporter.consume([httpEvent({ path: '/a' }), dnsEvent()]);
    await until(() => receiver.calls.length === 1, 'one Export call');
    const [call] = receiver.calls;
    assert.equal(call.path, TRACES);
    assert.equal(call.headers['content-type'], 'application/grpc');
    assert.equal(call.headers.te, 'trailers');
    assert.equal(call.headers['grpc-encoding'], 'gzip');
    assert.match(String(call.headers['grpc-timeout']), /^\d+m$/);
    assert.equal(call.headers['x-api-key'], 'secret', 'headers go as lower-case HTTP/2 fields');
    assert.equal(call.headers['user-agent'], OBSERVER_USER_AGENT, 'the observer names itself, so its own export can be left out');
    const spans = call.traces!.resourceSpans![0].scopeSpans.flatMap((s) => s.spans);
    assert.equal(spans.length, 2, 'both transactions, decoded from the protobuf request');
    await until(() => settings.telemetry.get('sent_spans') === 2, 'sent_spans');
  });

  it('sends metrics and log records to their own services', async () => {
    const config = grpcConfig(receiver.endpoint, { signals: { traces: true, metrics: true, logs: true } });
    const { exporter, provider } = start(config);
    new L7MetricsRecorder(provider).recordBatch([httpEvent()]);
    exporter.consume([httpEvent(), connectionClosed()]);
    await provider.forceFlush();
    await until(() => receiver.calls.some((c) => c.path.endsWith('MetricsService/Export')) && receiver.calls.some((c) => c.path.endsWith('LogsService/Export')), 'metrics and logs calls');
    assert.deepEqual([...new Set(receiver.calls.map((c) => c.path))].sort(), [
      '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
      '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
      TRACES,
    ]);
  });

  it('sends uncompressed messages with compression: none', async () => {
    const { exporter } = start(grpcConfig(receiver.endpoint, { compression: 'none' }));
    exporter.consume([httpEvent()]);
    await until(() => receiver.calls.length === 1, 'one Export call');
    assert.equal(receiver.calls[0].headers['grpc-encoding'], 'identity');
    assert.equal(receiver.calls[0].traces!.resourceSpans![0].scopeSpans[0].spans.length, 1);
  });

  it('retries UNAVAILABLE, and RESOURCE_EXHAUSTED only when the server sends retry details', async () => {
    receiver.responder = ({ index }) => (index === 0 ? { grpcStatus: 14, grpcMessage: 'restarting' } : index === 1 ? { grpcStatus: 8, details: true } : undefined);
    const { exporter, settings } = start(grpcConfig(receiver.endpoint));
    exporter.consume([httpEvent()]);
    await until(() => receiver.calls.length === 1, 'delivery after two retries');
    assert.deepEqual(receiver.attempts.map((a) => a.answer), [14, 8, 0]);
    assert.equal(settings.telemetry.get('retries'), 2);
    assert.equal(settings.telemetry.get('dropped'), 0);
  });

  for (const [name, answer] of [
    ['INVALID_ARGUMENT', { grpcStatus: 3, grpcMessage: 'bad span' }],
    ['RESOURCE_EXHAUSTED without retry details', { grpcStatus: 8 }],
  ] as const) {
    it(`drops at once on ${name}`, async () => {
      receiver.responder = () => answer;
      const { exporter, settings } = start(grpcConfig(receiver.endpoint));
      exporter.consume([httpEvent()]);
      await until(() => settings.telemetry.get('dropped') === 1, 'the drop');
      assert.equal(receiver.attempts.length, 1, 'not retried');
      assert.equal(settings.telemetry.get('dropped_send_failed'), 1);
    });
  }

  it('treats a backend that is down as retryable and delivers once it is up', async () => {
    const port = receiver.port;
    await receiver.stop();
    const { exporter, settings } = start(grpcConfig(`http://127.0.0.1:${port}`));
    exporter.consume([httpEvent()]);
    await until(() => settings.telemetry.get('retries') >= 2, 'retries against a closed port');
    receiver = new OtlpGrpcReceiver();
    await receiver.startOn(port);
    await until(() => receiver.calls.length === 1, 'delivery after the backend came up');
    assert.equal(settings.telemetry.get('dropped'), 0);
  });
});
