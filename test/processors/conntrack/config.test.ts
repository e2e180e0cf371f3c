import assert from 'node:assert/strict';
import { normalizeUnits, validateAgainstSchema } from '../../../core/config/schema-validator';
import { factory, maxClosedFor } from '../../../processors/conntrack';

describe('conntrack config', () => {
  it('defaults come from the original component (MaxConnections, ConnectionTimeout, ...)', () => {
    const c = factory.createDefaultConfig();
    assert.equal(c.max_connections, 65536);
    assert.equal(c.connection_timeout, 300_000);
    assert.equal(c.cleanup_interval, 30_000);
    assert.equal(c.flush_interval, 10_000);
    assert.equal(c.flow_counters, 'cumulative', 'what ebpf_network sends');
    assert.deepEqual(c.metrics.attributes, [
      'network.transport', 'network.type', 'network_observer.direction', 'network.peer.address', 'process.executable.name', 'k8s.owner',
    ]);
    assert.deepEqual(factory.validate!(c), []);
  });

  it('accepts durations as strings and rejects unknown keys and attributes', () => {
    const ok = { ...factory.createDefaultConfig(), connection_timeout: '10m', flush_interval: 0, metrics: { attributes: ['k8s.pod.name'] } };
    assert.deepEqual(validateAgainstSchema(factory.configSchema, ok), []);
    assert.equal((normalizeUnits(factory.configSchema, ok) as { connection_timeout: number }).connection_timeout, 600_000);
    assert.notDeepEqual(validateAgainstSchema(factory.configSchema, { metrics: { attributes: ['http.route'] } }), []);
    assert.notDeepEqual(validateAgainstSchema(factory.configSchema, { metrics: { cap: 3 } }), []);
    assert.notDeepEqual(validateAgainstSchema(factory.configSchema, { max_connections: 0 }), []);
  });

  it('reports every cross-field problem at once, with its path', () => {
    const bad = { ...factory.createDefaultConfig(), connection_timeout: 10_000, cleanup_interval: 60_000, flush_interval: 200, udp_idle_timeout: 0 };
    const issues = factory.validate!(bad);
    assert.deepEqual(issues.map((i) => i.path.join('.')).sort(), ['cleanup_interval', 'flush_interval', 'udp_idle_timeout']);
    assert.match(issues.find((i) => i.path[0] === 'cleanup_interval')!.message, /1m0s|60s|connection_timeout/);
  });

  it('remembers at most max(1024, max_connections/16) closed connections', () => {
    assert.equal(maxClosedFor(65536), 4096);
    assert.equal(maxClosedFor(100), 1024);
  });
});
