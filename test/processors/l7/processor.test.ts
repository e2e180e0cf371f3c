import assert from 'node:assert/strict';
import { deepMerge } from '../../../core/config/merge';
import { normalizeUnits, validateAgainstSchema } from '../../../core/config/schema-validator';
import type { HttpTransactionEvent, NetworkEvent } from '../../../core/events';
import { CollectingConsumer, createClockedTestSettings, createTestHost, createTestSettings } from '../../../core/testing';
import { factory, type L7Config } from '../../../processors/l7';
import { CLIENT, SERVER, payload } from './payloads';

function configFrom(overrides: Record<string, unknown>): L7Config {
  const merged = deepMerge(factory.createDefaultConfig(), overrides);
  assert.deepEqual(validateAgainstSchema(factory.configSchema, merged), []);
  return normalizeUnits(factory.configSchema, merged) as L7Config;
}

async function run(overrides: Record<string, unknown>, batch: NetworkEvent[]) {
  const settings = createTestSettings('processor', 'l7');
  const next = new CollectingConsumer();
  const processor = await factory.createProcessor(settings, configFrom(overrides), next);
  await processor.start(createTestHost());
  await processor.consume(batch);
  return { processor, next, telemetry: settings.telemetry };
}

const request = payload(CLIENT, SERVER, 'send', 'GET /p?secret=1 HTTP/1.1\r\nHost: h\r\n\r\n', Date.now() * 1000);
const response = payload(CLIENT, SERVER, 'recv', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', Date.now() * 1000 + 10);

describe('l7 processor', () => {
  it('normalises durations and sizes from YAML-style strings', () => {
    const config = configFrom({ transaction_timeout: '2s', session_idle_timeout: '1m', max_buffer_bytes: '64KiB' });
    assert.equal(config.transaction_timeout, 2000);
    assert.equal(config.session_idle_timeout, 60_000);
    assert.equal(config.max_buffer_bytes, 65_536);
    assert.deepEqual(factory.validate!(config), []);
  });

  it('rejects option values the schema cannot catch, naming each', () => {
    const config = configFrom({ port_mode: 'restrict', http_ports: [], grpc_ports: [], dns_port: 0, max_buffer_bytes: 100 });
    const issues = factory.validate!(config);
    assert.deepEqual(issues.map((i) => i.path.join('.')).sort(), ['max_buffer_bytes', 'protocols', 'protocols', 'protocols']);
    assert.match(issues.find((i) => i.message.startsWith('http1'))!.message, /set http_ports/);
    assert.match(issues.find((i) => i.message.startsWith('dns'))!.message, /set dns_port/);
    assert.notDeepEqual(validateAgainstSchema(factory.configSchema, { ...factory.createDefaultConfig(), protocols: ['smtp'] }), []);
    assert.notDeepEqual(validateAgainstSchema(factory.configSchema, { ...factory.createDefaultConfig(), http_ports: [70000] }), []);
  });

  it('turns payload into transactions and reports its counters', async () => {
    const { processor, next, telemetry } = await run({ capture_query: true }, [request, response]);
    const [tx] = next.ofKind('l7.http') as HttpTransactionEvent[];
    assert.equal(tx.query, 'secret=1');
    assert.equal(next.ofKind('payload').length, 0);
    assert.equal(telemetry.get('transactions_http'), 1);
    assert.equal(telemetry.get('detected_http1'), 1);
    assert.equal(telemetry.get('payload_consumed'), 2);
    assert.equal(telemetry.get('sessions'), 1);
    assert.equal(telemetry.get('malformed_http1'), 0);
    await processor.shutdown();
  });

  it('carries the payload\'s Kubernetes metadata, peer metadata and sample ratio onto the transaction', async () => {
    const k8s = { namespace: 'shop', podName: 'checkout-1' };
    const peerK8s = { namespace: 'db', podName: 'pg-0' };
    const tagged = (e: NetworkEvent): NetworkEvent => ({ ...e, k8s, peerK8s, sampleRatio: 0.5 });
    const { processor, next } = await run({}, [tagged(request), tagged(response)]);
    const [tx] = next.ofKind('l7.http') as HttpTransactionEvent[];
    assert.equal(tx.k8s, k8s);
    assert.equal(tx.peerK8s, peerK8s);
    assert.equal(tx.sampleRatio, 0.5);
    await processor.shutdown();
  });

  it('emits timed-out transactions from its timer when traffic stops', async () => {
    const { processor, next } = await run({ transaction_timeout: '60ms' }, [request]);
    await next.waitFor((events) => events.some((e) => e.kind === 'l7.http'), 3000, 'a timeout');
    assert.equal((next.ofKind('l7.http')[0] as HttpTransactionEvent).errorType, 'timeout');
    await processor.shutdown();
  });

  it('rests its timeout sweep while no connection is open, and wakes it with the next batch', async () => {
    const { settings, clock } = createClockedTestSettings('processor', 'l7');
    const next = new CollectingConsumer();
    const processor = await factory.createProcessor(settings, configFrom({ transaction_timeout: '60ms' }), next);
    await processor.start(createTestHost());
    assert.equal(clock.pendingTimers, 1);
    clock.advance(15);
    assert.equal(clock.pendingTimers, 0, 'no session: the sweep rests');
    await processor.consume([request]);
    assert.equal(clock.pendingTimers, 1, 'a request woke it');
    // The engine's clock is the events' plus wall time: let the timeout pass for real.
    await new Promise((r) => setTimeout(r, 80));
    clock.advance(15);
    assert.equal((next.ofKind('l7.http')[0] as HttpTransactionEvent).errorType, 'timeout');
    assert.equal(clock.pendingTimers, 1, 'the connection is still open: the sweep goes on');
    await processor.shutdown();
    assert.equal(clock.pendingTimers, 0);
  });

  it('flushes pending transactions on shutdown', async () => {
    const { processor, next } = await run({}, [request]);
    assert.equal(next.events.length, 0);
    await processor.shutdown();
    await processor.shutdown();
    assert.equal(next.ofKind('l7.http').length, 1);
  });

  it('with enable false passes events through and drops payload unless forwarded', async () => {
    const off = await run({ enabled: false }, [request, response]);
    assert.equal(off.next.events.length, 0);
    assert.equal(off.telemetry.get('payload_consumed'), 2);
    const forwarded = await run({ enabled: false, forward_payload: true }, [request, response]);
    assert.equal(forwarded.next.ofKind('payload').length, 2);
    await off.processor.shutdown();
    await forwarded.processor.shutdown();
  });
});
