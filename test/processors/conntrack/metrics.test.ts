import assert from 'node:assert/strict';
import type { Attributes } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import type { Host } from '../../../core/component';
import { closed, failed, flow, harness, opened, type ConfigOverrides, type Harness } from './helpers';

interface MetricsRig {
  h: Harness;
  collect(): Promise<Map<string, MetricData>>;
}

async function rig(overrides: ConfigOverrides = {}): Promise<MetricsRig> {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const host: Host = { meterProvider, metricsEnabled: true, reportFatalError: (e) => assert.fail(e), reportStopped: (reason) => assert.fail(reason) };
  const h = await harness({ ...overrides, metrics: { enabled: true, ...overrides.metrics } }, host);
  return {
    h,
    async collect() {
      exporter.reset();
      await reader.forceFlush();
      const out = new Map<string, MetricData>();
      for (const rm of exporter.getMetrics()) {
        for (const sm of rm.scopeMetrics) {
          assert.equal(sm.scope.name, 'network-observer/conntrack');
          for (const m of sm.metrics) out.set(m.descriptor.name, m);
        }
      }
      return out;
    },
  };
}

/** Sum of the points matching every given attribute. */
function sum(m: MetricData | undefined, match: Attributes = {}): number {
  assert.ok(m, 'metric exists');
  let total = 0;
  for (const p of m.dataPoints) {
    if (Object.entries(match).every(([k, v]) => p.attributes[k] === v)) total += p.value as number;
  }
  return total;
}

const CLIENT = { pid: 10, comm: 'curl', localPort: 40000, remotePort: 8080, remote: '10.0.0.9', cookie: 1 };

describe('conntrack metrics', () => {
  it('counts opened, closed by reason, bytes and packets by direction, retransmits', async () => {
    const { h, collect } = await rig();
    await h.feed(opened(CLIENT), closed(CLIENT, { bytesSent: 100, bytesReceived: 900, segmentsSent: 3, segmentsReceived: 4, retransmits: 2, srttUs: 250 }));
    await h.feed(opened({ ...CLIENT, localPort: 40001, cookie: 2 }), closed({ ...CLIENT, localPort: 40001, cookie: 2 }, { bytesSent: 5 }, 'reset'));
    const m = await collect();
    assert.equal(sum(m.get('network_observer.connection.opened')), 2);
    assert.equal(sum(m.get('network_observer.connection.closed'), { 'network_observer.connection.close_reason': 'fin' }), 1);
    assert.equal(sum(m.get('network_observer.connection.closed'), { 'network_observer.connection.close_reason': 'reset' }), 1);
    assert.equal(sum(m.get('network_observer.io'), { 'network.io.direction': 'transmit' }), 105);
    assert.equal(sum(m.get('network_observer.io'), { 'network.io.direction': 'receive' }), 900);
    assert.equal(sum(m.get('network_observer.packets'), { 'network.io.direction': 'receive' }), 4);
    assert.equal(sum(m.get('network_observer.connection.retransmits')), 2);
    assert.equal(m.get('network_observer.io')!.descriptor.unit, 'By');
  });

  it('uses the semconv attribute names of the default set', async () => {
    const { h, collect } = await rig();
    await h.feed({ ...opened(CLIENT), k8s: { namespace: 'shop', ownerKind: 'Deployment', ownerName: 'checkout' } });
    const m = await collect();
    const [point] = m.get('network_observer.connection.opened')!.dataPoints;
    assert.deepEqual(point.attributes, {
      'network.transport': 'tcp',
      'network.type': 'ipv4',
      'network_observer.direction': 'outbound',
      'network.peer.address': '10.0.0.9',
      'process.executable.name': 'curl',
      'k8s.deployment.name': 'checkout',
    });
  });

  it('honours a configured attribute list', async () => {
    const { h, collect } = await rig({ metrics: { attributes: ['network.transport', 'network.peer.port', 'process.pid'] } });
    await h.feed(opened(CLIENT));
    const [point] = (await collect()).get('network_observer.connection.opened')!.dataPoints;
    assert.deepEqual(point.attributes, { 'network.transport': 'tcp', 'network.peer.port': 8080, 'process.pid': 10 });
  });

  it('records duration and RTT histograms in seconds at close', async () => {
    const { h, collect } = await rig();
    await h.feed(opened({ ...CLIENT, timeUs: h.nowUs() }));
    h.time.advance(1500);
    await h.feed(closed({ ...CLIENT, timeUs: h.nowUs() }, { srttUs: 2000 }));
    const m = await collect();
    const duration = m.get('network_observer.connection.duration')!;
    assert.equal(duration.descriptor.unit, 's');
    assert.equal(duration.dataPointType, DataPointType.HISTOGRAM);
    const d = duration.dataPoints[0].value as { sum: number; count: number };
    assert.equal(d.count, 1);
    assert.equal(d.sum, 1.5);
    const rtt = m.get('network_observer.connection.rtt')!.dataPoints[0].value as { sum: number };
    assert.equal(rtt.sum, 0.002);
  });

  it('counts failed connects by error.type', async () => {
    const { h, collect } = await rig();
    await h.feed(failed(CLIENT, 'refused'), failed({ ...CLIENT, localPort: 1 }, 'refused'), failed({ ...CLIENT, localPort: 2 }, 'timeout'));
    const m = await collect();
    assert.equal(sum(m.get('network_observer.connection.failed'), { 'error.type': 'refused' }), 2);
    assert.equal(sum(m.get('network_observer.connection.failed'), { 'error.type': 'timeout' }), 1);
  });

  it('reports active entries by transport and TCP state, read at collection', async () => {
    const { h, collect } = await rig();
    await h.feed(opened(CLIENT), opened({ ...CLIENT, localPort: 2 }), flow({}, { bytesSent: 1, packetsSent: 1 }));
    let m = await collect();
    const active = m.get('network_observer.connection.active')!;
    assert.equal(sum(active, { 'network.transport': 'tcp', 'network.connection.state': 'established' }), 2);
    assert.equal(sum(active, { 'network.transport': 'udp' }), 1);
    assert.equal(active.descriptor.unit, '{connection}');
    await h.feed(closed(CLIENT));
    m = await collect();
    assert.equal(sum(m.get('network_observer.connection.active'), { 'network.transport': 'tcp' }), 1);
  });

  it('counts UDP flow bytes as they are observed, before the flow ends', async () => {
    const { h, collect } = await rig();
    await h.feed(flow({}, { bytesSent: 40, packetsSent: 1 }), flow({}, { bytesReceived: 60, packetsReceived: 1 }));
    const m = await collect();
    assert.equal(sum(m.get('network_observer.io'), { 'network.transport': 'udp', 'network.io.direction': 'transmit' }), 40);
    assert.equal(sum(m.get('network_observer.io'), { 'network.transport': 'udp', 'network.io.direction': 'receive' }), 60);
  });

  it('bounds cardinality: beyond max_series everything lands in one overflow series, counted', async () => {
    const { h, collect } = await rig({ metrics: { max_series: 3 } });
    const events = [];
    for (let i = 0; i < 10; i++) events.push(opened({ ...CLIENT, remote: `10.9.0.${i}`, localPort: 1000 + i, cookie: i + 1 }));
    await h.feed(...events);
    const opens = (await collect()).get('network_observer.connection.opened')!;
    assert.equal(opens.dataPoints.length, 4, 'three series plus the overflow series');
    assert.equal(sum(opens, { 'otel.metric.overflow': true }), 7);
    assert.equal(sum(opens), 10, 'nothing is lost, only collapsed');
    assert.equal(h.telemetry.get('metric_series_overflow'), 7);
  });

  it('records nothing when disabled and unregisters its callback on shutdown', async () => {
    const off = await rig({ metrics: { enabled: false } });
    await off.h.feed(opened(CLIENT));
    assert.equal((await off.collect()).size, 0);

    const on = await rig();
    await on.h.feed(opened(CLIENT));
    await on.h.processor.shutdown();
    const after = await on.collect();
    assert.equal(after.get('network_observer.connection.opened')?.dataPoints.length ?? 0, 0, 'observable callbacks were removed');
  });
});
