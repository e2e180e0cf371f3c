import assert from 'node:assert/strict';
import { SpanKind, SpanStatusCode, type Attributes } from '@opentelemetry/api';
import { MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { eventAttributes, l7Attributes, l7ErrorType, splitHostPort } from '../../../core/otel/attributes';
import { RandomIds } from '../../../core/otel/ids';
import { L7MetricsRecorder } from '../../../core/otel/l7-metrics';
import { toLogData } from '../../../core/otel/logs';
import { observerResource, observerResourceAttributes } from '../../../core/otel/resource';
import { SpanMapper, spanName } from '../../../core/otel/spans';
import { isoFromUs, usToHrTime } from '../../../core/otel/time';
import type { L7Event, NetworkEvent } from '../../../core/events';
import { connectionClosed, connectionFailed, dnsEvent, grpcEvent, httpEvent, payloadEvent, tlsEvent } from '../../exporters/fixtures';

// The attributes each histogram keeps (README of l7), in the order exporters show them.
const IDENTITY = ['process.executable.name', 'k8s.namespace.name', 'k8s.deployment.name', 'k8s.statefulset.name', 'k8s.daemonset.name', 'k8s.job.name', 'k8s.cronjob.name', 'k8s.service.name'];
const HTTP_SERVER = ['http.request.method', 'url.scheme', 'http.response.status_code', 'network.protocol.version', 'server.port', 'error.type', ...IDENTITY];
const HTTP_CLIENT = ['http.request.method', 'url.scheme', 'http.response.status_code', 'network.protocol.version', 'server.address', 'server.port', 'error.type', ...IDENTITY];
const RPC_SERVER = ['rpc.system.name', 'rpc.method', 'rpc.status_code', 'server.port', 'error.type', ...IDENTITY];
const RPC_CLIENT = ['rpc.system.name', 'rpc.method', 'rpc.status_code', 'server.address', 'server.port', 'error.type', ...IDENTITY];
const DNS = ['dns.question.name', 'error.type', ...IDENTITY];

const mapper = new SpanMapper({ resource: observerResource(), scope: { name: 'network-observer' } });

class ManualReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

describe('core/otel mapping', () => {
  describe('span names', () => {
    it('follow the semantic conventions per protocol', () => {
      assert.equal(spanName(httpEvent({ method: 'post' })), 'POST');
      assert.equal(spanName(httpEvent({ method: 'PURGE' })), 'HTTP', 'unknown methods do not become span names');
      assert.equal(spanName(grpcEvent()), 'shop.Checkout/PlaceOrder');
      assert.equal(spanName(grpcEvent({ rpcMethod: undefined, path: '/pkg.Svc/Do' })), 'pkg.Svc/Do');
      assert.equal(spanName(grpcEvent({ isGrpc: false, method: 'GET', path: '/h2/page' })), 'GET');
      assert.equal(spanName(dnsEvent({ questionType: 'AAAA', questionName: 'db.internal' })), 'AAAA db.internal');
      assert.equal(spanName(tlsEvent()), 'tls handshake');
    });

    it('never contain the raw path (cardinality)', () => {
      assert.equal(mapper.map(httpEvent({ path: '/users/123456' })).name, 'GET');
    });
  });

  describe('status and error.type', () => {
    const cases: Array<[string, Parameters<typeof mapper.map>[0], string | undefined]> = [
      ['HTTP 200', httpEvent(), undefined],
      ['HTTP 404 client side', httpEvent({ statusCode: 404 }), '404'],
      ['HTTP 404 server side', httpEvent({ side: 'server', statusCode: 404 }), undefined],
      ['HTTP 503 server side', httpEvent({ side: 'server', statusCode: 503 }), '503'],
      ['HTTP no response', httpEvent({ statusCode: 0, errorType: 'timeout' }), 'timeout'],
      ['gRPC OK', grpcEvent({ grpcStatusCode: 0, grpcStatusName: 'OK' }), undefined],
      ['gRPC NOT_FOUND', grpcEvent(), 'NOT_FOUND'],
      ['gRPC no trailers', grpcEvent({ grpcStatusCode: -1, grpcStatusName: undefined, errorType: 'reset' }), 'reset'],
      ['plain HTTP/2 500', grpcEvent({ isGrpc: false, httpStatusCode: 500, grpcStatusCode: -1 }), '500'],
      ['DNS NOERROR', dnsEvent(), undefined],
      ['DNS NXDOMAIN', dnsEvent({ responseCode: 'NXDOMAIN' }), 'NXDOMAIN'],
      ['DNS timeout', dnsEvent({ responseCode: '', errorType: 'timeout' }), 'timeout'],
      ['TLS ok', tlsEvent(), undefined],
      ['TLS failed', tlsEvent({ version: '', errorType: 'closed' }), 'closed'],
    ];
    for (const [name, event, expected] of cases) {
      it(`${name} -> ${expected ?? 'no error'}`, () => {
        assert.equal(l7ErrorType(event), expected);
        const span = mapper.map(event);
        assert.equal(span.status.code, expected === undefined ? SpanStatusCode.UNSET : SpanStatusCode.ERROR);
        assert.equal(span.attributes['error.type'], expected);
      });
    }

    it('puts a message only on failures of the exchange itself', () => {
      assert.equal(mapper.map(httpEvent({ statusCode: 0, errorType: 'timeout' })).status.message, 'timeout');
      assert.equal(mapper.map(httpEvent({ statusCode: 500, side: 'server' })).status.message, undefined);
    });
  });

  describe('span identity and timing', () => {
    it('takes kind from the observed side and times from the exchange', () => {
      const span = mapper.map(httpEvent({ side: 'server', startUs: 1_000_000_123, endUs: 1_000_500_000 }));
      assert.equal(span.kind, SpanKind.SERVER);
      assert.deepEqual(span.startTime, [1000, 123_000]);
      assert.deepEqual(span.endTime, [1000, 500_000_000]);
      assert.deepEqual(span.duration, [0, 499_877_000]);
      assert.equal(mapper.map(httpEvent()).kind, SpanKind.CLIENT);
      const backwards = mapper.map(httpEvent({ startUs: 2_000_000, endUs: 1_000_000 }));
      assert.deepEqual(backwards.endTime, backwards.startTime, 'end never before start');
    });

    it('joins a valid traceparent and ignores an invalid one', () => {
      const tc = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 0 };
      const joined = mapper.map(httpEvent({ traceContext: tc }));
      assert.equal(joined.spanContext().traceId, tc.traceId);
      assert.equal(joined.spanContext().traceFlags, 0, 'sampling decision of the caller kept');
      assert.deepEqual(joined.parentSpanContext, { ...tc, isRemote: true });
      const zero = mapper.map(httpEvent({ traceContext: { traceId: '0'.repeat(32), spanId: tc.spanId, traceFlags: 1 } }));
      assert.notEqual(zero.spanContext().traceId, '0'.repeat(32));
      assert.equal(zero.parentSpanContext, undefined);
    });

    it('generates valid, distinct random ids', () => {
      const ids = new RandomIds();
      const seen = new Set<string>();
      for (let i = 0; i < 2000; i++) {
        const t = ids.traceId();
        const s = ids.spanId();
        assert.match(t, /^[0-9a-f]{32}$/);
        assert.match(s, /^[0-9a-f]{16}$/);
        assert.notEqual(t, '0'.repeat(32));
        seen.add(t);
      }
      assert.equal(seen.size, 2000);
    });
  });

  describe('attributes', () => {
    it('uses the Host header for server.* and splits host:port, including IPv6', () => {
      assert.deepEqual(splitHostPort('api.example.com:8443'), ['api.example.com', 8443]);
      assert.deepEqual(splitHostPort('[::1]:8080'), ['::1', 8080]);
      assert.deepEqual(splitHostPort('fe80::1'), ['fe80::1', 0]);
      assert.deepEqual(splitHostPort('example.com:notaport'), ['example.com:notaport', 0]);
      const a = l7Attributes(httpEvent({ host: '[2001:db8::1]:8443' }));
      assert.equal(a['server.address'], '2001:db8::1');
      assert.equal(a['server.port'], 8443);
      const noHost = l7Attributes(httpEvent({ host: undefined }));
      assert.equal(noHost['server.address'], '10.0.0.2');
      assert.equal(noHost['server.port'], 8080);
    });

    it('reports unknown HTTP methods as _OTHER with the original', () => {
      const a = l7Attributes(httpEvent({ method: 'PURGE' }));
      assert.equal(a['http.request.method'], '_OTHER');
      assert.equal(a['http.request.method_original'], 'PURGE');
    });

    it('adds semconv Opt-In attributes only when asked', () => {
      const plain = l7Attributes(httpEvent({ side: 'server' }));
      for (const key of ['network.local.address', 'network.local.port', 'client.port', 'http.request.body.size', 'http.response.body.size']) {
        assert.equal(plain[key], undefined, `${key} is opt-in`);
      }
      const optIn = l7Attributes(httpEvent({ side: 'server' }), false, true);
      assert.equal(optIn['network.local.address'], '10.0.0.1');
      assert.equal(optIn['client.port'], 8080);
      assert.equal(optIn['http.response.body.size'], 512);
      const detailed = l7Attributes(httpEvent(), true);
      assert.equal(detailed['thread.id'], 4243);
      assert.equal(detailed['network.local.port'], 51234, 'detailed implies opt-in');
    });

    it('maps Kubernetes metadata, workload owner and pod labels', () => {
      const a = l7Attributes(
        httpEvent({
          k8s: {
            namespace: 'shop',
            podName: 'checkout-7d9f-abc',
            podUid: 'uid-1',
            containerName: 'app',
            containerId: 'cid-1',
            nodeName: 'node-a',
            ownerKind: 'Deployment',
            ownerName: 'checkout',
            serviceName: 'checkout-svc',
            labels: { app: 'checkout', 'app.kubernetes.io/part-of': 'shop' },
          },
          sampleRatio: 0.25,
        }),
      );
      assert.equal(a['k8s.namespace.name'], 'shop');
      assert.equal(a['k8s.pod.name'], 'checkout-7d9f-abc');
      assert.equal(a['k8s.pod.uid'], 'uid-1');
      assert.equal(a['k8s.container.name'], 'app');
      assert.equal(a['container.id'], 'cid-1');
      assert.equal(a['k8s.node.name'], 'node-a');
      assert.equal(a['k8s.deployment.name'], 'checkout');
      assert.equal(a['k8s.service.name'], 'checkout-svc');
      assert.equal(a['k8s.pod.label.app'], 'checkout');
      assert.equal(a['k8s.pod.label.app.kubernetes.io/part-of'], 'shop');
      assert.equal(a['network_observer.sample_ratio'], 0.25);
    });

    it('maps pod annotations and the peer\'s Kubernetes identity', () => {
      const a = l7Attributes(
        httpEvent({
          k8s: { namespace: 'shop', podName: 'checkout-1', annotations: { 'prometheus.io/scrape': 'true' } },
          peerK8s: { namespace: 'db', podName: 'pg-0', serviceName: 'postgres', ownerKind: 'StatefulSet', ownerName: 'pg' },
        }),
      );
      assert.equal(a['k8s.pod.annotation.prometheus.io/scrape'], 'true');
      assert.equal(a['network_observer.peer.k8s.namespace.name'], 'db');
      assert.equal(a['network_observer.peer.k8s.pod.name'], 'pg-0');
      assert.equal(a['network_observer.peer.k8s.service.name'], 'postgres');
      assert.equal(a['network_observer.peer.k8s.owner.kind'], 'StatefulSet');
      assert.equal(a['network_observer.peer.k8s.owner.name'], 'pg');
      assert.equal(a['k8s.pod.name'], 'checkout-1', 'the own pod stays under k8s.*');
    });

    it('maps lifecycle events to log records with counters in base units', () => {
      const closed = toLogData(connectionClosed())!;
      assert.equal(closed.eventName, 'network_observer.connection.closed');
      assert.equal(closed.attributes['network_observer.tcp.srtt'], 0.00025, 'seconds');
      assert.equal(closed.attributes['network_observer.duration'], 1.5, 'seconds');
      assert.equal(closed.attributes['network.local.address'], '10.0.0.1');
      assert.equal(closed.attributes['network_observer.direction'], 'outbound');
      const failed = toLogData(connectionFailed({ errorName: undefined, reason: 'timeout' }))!;
      assert.equal(failed.severityText, 'WARN');
      assert.equal(failed.attributes['error.type'], 'timeout');
      assert.equal(toLogData(httpEvent()), undefined, 'L7 events are spans, not logs');
      const payload = eventAttributes(payloadEvent());
      assert.equal(payload['network_observer.payload.captured_length'], payloadEvent().data.length);
      assert.ok(!Object.values(payload).some((v) => typeof v === 'string' && v.includes('token')), 'no payload bytes in attributes');
    });
  });

  describe('resource and time', () => {
    it('describes the observer: service, version, host and the Kubernetes node when known', () => {
      const attrs = observerResourceAttributes('edge-observer', { K8S_NODE_NAME: 'node-7' });
      assert.equal(attrs['service.name'], 'edge-observer');
      assert.equal(attrs['service.version'], '0.1.0');
      assert.equal(typeof attrs['host.name'], 'string');
      assert.equal(attrs['k8s.node.name'], 'node-7');
      assert.equal(observerResourceAttributes('x', { NODE_NAME: 'n' })['k8s.node.name'], 'n');
      assert.equal(observerResourceAttributes('x', {})['k8s.node.name'], undefined);
      assert.equal(observerResource('same'), observerResource('same'), 'one Resource object per service name');
    });

    it('converts epoch microseconds exactly', () => {
      assert.deepEqual(usToHrTime(1_714_564_800_123_456), [1_714_564_800, 123_456_000]);
      assert.equal(isoFromUs(1_714_564_800_123_456), '2024-05-01T12:00:00.123456Z');
      assert.equal(isoFromUs(1_714_564_800_000_007), '2024-05-01T12:00:00.000007Z');
      // Out of order and across second, day and year boundaries: the kept second is never reused wrongly.
      assert.equal(isoFromUs(1_714_564_799_999_999), '2024-05-01T11:59:59.999999Z');
      assert.equal(isoFromUs(1_714_564_800_500_000), '2024-05-01T12:00:00.500000Z');
      assert.equal(isoFromUs(1_735_689_600_000_001), '2025-01-01T00:00:00.000001Z');
      assert.equal(isoFromUs(1_735_689_599_999_000), '2024-12-31T23:59:59.999000Z');
    });
  });

  describe('L7 duration histograms', () => {
    async function pointsOf(events: NetworkEvent[]): Promise<Map<string, Array<{ attributes: Attributes; value: { count: number; sum: number } }>>> {
      const reader = new ManualReader();
      const provider = new MeterProvider({ readers: [reader] });
      new L7MetricsRecorder(provider).recordBatch(events);
      const rm: ResourceMetrics = (await reader.collect()).resourceMetrics;
      await provider.shutdown();
      const out = new Map<string, Array<{ attributes: Attributes; value: { count: number; sum: number } }>>();
      for (const m of rm.scopeMetrics.flatMap((sm) => sm.metrics)) out.set(m.descriptor.name, m.dataPoints as never);
      return out;
    }

    it('counts each transaction once, whatever its sample ratio; no TLS metric, no DNS server metric', async () => {
      const points = await pointsOf([httpEvent({ sampleRatio: 0.1 }), httpEvent(), tlsEvent(), dnsEvent({ side: 'server' }), connectionClosed()]);
      assert.deepEqual([...points.keys()], ['http.client.request.duration']);
      const client = points.get('http.client.request.duration')!;
      assert.equal(client.reduce((n, p) => n + p.value.count, 0), 2);
      assert.equal(client.length, 1, 'both share one attribute set');
    });

    it('carries exactly the metric attributes of the span mapping, for every histogram', async () => {
      const k8s = (ownerKind: string) => ({ namespace: 'shop', podName: 'web-1', ownerKind, ownerName: `web-${ownerKind}`, serviceName: 'web' });
      const cases: Array<[L7Event, string, readonly string[]]> = [
        [httpEvent(), 'http.client.request.duration', HTTP_CLIENT],
        [httpEvent({ side: 'server', statusCode: 503, method: 'purge', httpVersion: 'HTTP/2.0', k8s: k8s('Deployment') }), 'http.server.request.duration', HTTP_SERVER],
        [httpEvent({ host: undefined, statusCode: 0, errorType: 'timeout', httpVersion: '', tls: { serverName: 'tls.example:8443' }, k8s: k8s('ReplicaSet') }), 'http.client.request.duration', HTTP_CLIENT],
        [httpEvent({ process: { pid: 0, tid: 0, comm: '', cgroupId: 0 }, k8s: k8s('CronJob') }), 'http.client.request.duration', HTTP_CLIENT],
        [grpcEvent({ k8s: k8s('StatefulSet') }), 'rpc.server.call.duration', RPC_SERVER],
        [grpcEvent({ side: 'client', grpcStatusCode: -1, grpcStatusName: undefined, rpcMethod: undefined, authority: undefined }), 'rpc.client.call.duration', RPC_CLIENT],
        [grpcEvent({ isGrpc: false, method: 'GET', path: '/h2', httpStatusCode: 404, side: 'client', tls: { version: '1.3' } }), 'http.client.request.duration', HTTP_CLIENT],
        [dnsEvent({ responseCode: 'NXDOMAIN', k8s: k8s('Job') }), 'dns.lookup.duration', DNS],
        [dnsEvent({ questionName: '', k8s: k8s('DaemonSet') }), 'dns.lookup.duration', DNS],
      ];
      for (const [event, metric, keys] of cases) {
        const points = (await pointsOf([event])).get(metric);
        assert.equal(points?.length, 1, `${metric} for ${JSON.stringify(event)}`);
        const span = l7Attributes(event);
        const expected: Attributes = {};
        for (const key of keys) if (span[key] !== undefined) expected[key] = span[key];
        assert.deepEqual({ ...points[0].attributes }, expected, metric);
        // The same attribute values in the order the span mapping names them per histogram.
        assert.deepEqual(Object.keys(points[0].attributes), Object.keys(expected));
      }
    });

    it('keeps distinct attribute sets apart and reuses one per set', async () => {
      const events = [httpEvent(), httpEvent({ statusCode: 404 }), httpEvent(), httpEvent({ process: { pid: 1, tid: 1, comm: 'wget', cgroupId: 0 } })];
      const client = (await pointsOf(events)).get('http.client.request.duration')!;
      assert.deepEqual(client.map((p) => [p.attributes['http.response.status_code'], p.attributes['process.executable.name'], p.value.count]), [
        [200, 'curl', 2],
        [404, 'curl', 1],
        [200, 'wget', 1],
      ]);
    });
  });
});
