/**
 * The example plugin tested on its own, the way a plugin author would: through its factory,
 * with core/testing's settings, host and collecting consumer.
 */
import assert from 'node:assert/strict';
import type { DnsTransactionEvent, NetworkEvent } from '../../../core/events';
import { CollectingConsumer, createTestHost, createTestSettings } from '../../../core/testing';
import { factories, factory, type RedactCidrConfig } from '../../../examples/redact-cidr-processor';
import { opened } from '../../processors/probabilistic_sampler/fixtures';

function config(overrides: Partial<RedactCidrConfig> = {}): RedactCidrConfig {
  return { ...factory.createDefaultConfig(), ...overrides };
}

const spec = { client: { address: '10.1.2.3', port: 40000 }, server: { address: '8.8.8.8', port: 53 } };

function dns(): DnsTransactionEvent {
  const base = opened(spec, 'client');
  return {
    ...base,
    kind: 'l7.dns',
    side: 'client',
    startUs: base.timeUs,
    endUs: base.timeUs + 500,
    transactionId: 7,
    questionName: 'db.internal.',
    questionType: 'A',
    responseCode: 'NOERROR',
    answers: [
      { name: 'db.internal.', type: 'CNAME', ttl: 30, data: 'db-1.internal.' },
      { name: 'db-1.internal.', type: 'A', ttl: 30, data: '192.168.7.7' },
      { name: 'db-1.internal.', type: 'AAAA', ttl: 30, data: 'fd00::7' },
      { name: 'db-1.internal.', type: 'A', ttl: 30, data: '1.1.1.1' },
    ],
  };
}

async function run(cfg: RedactCidrConfig, batch: NetworkEvent[]) {
  const settings = createTestSettings('processor', 'redact_cidr');
  const sink = new CollectingConsumer();
  const processor = await factory.createProcessor(settings, cfg, sink);
  await processor.start(createTestHost());
  await processor.consume(batch);
  await processor.shutdown();
  return { events: sink.events, telemetry: settings.telemetry, processor };
}

describe('redact_cidr example plugin', () => {
  it('exports its factory the way the runtime looks for it', () => {
    assert.deepEqual(factories, [factory]);
    assert.equal(factory.kind, 'processor');
    assert.equal(factory.type, 'redact_cidr');
  });

  it('default config is valid and redacts private ranges to their network', async () => {
    assert.deepEqual(factory.validate!(config()), []);
    const { events, telemetry, processor } = await run(config(), [opened(spec, 'client'), dns()]);
    assert.equal(processor.mutatesData, true);
    const [conn, lookup] = events as [NetworkEvent, DnsTransactionEvent];
    assert.equal(conn.localAddress, '10.0.0.0/8');
    assert.equal(conn.remoteAddress, '8.8.8.8');
    assert.deepEqual(lookup.answers.map((a) => a.data), ['db-1.internal.', '192.168.0.0/16', 'fc00::/7', '1.1.1.1']);
    assert.equal(telemetry.get('redacted'), 4, 'two local addresses, two answers');
    assert.equal(telemetry.get('emitted'), 2);
  });

  it('replaces with fixed text and only in the chosen fields', async () => {
    const { events } = await run(config({ action: 'replace', replacement: 'x', fields: ['dns_answers'] }), [dns()]);
    const lookup = events[0] as DnsTransactionEvent;
    assert.equal(lookup.localAddress, '10.1.2.3', 'local_address not selected');
    assert.deepEqual(lookup.answers.map((a) => a.data), ['db-1.internal.', 'x', 'x', '1.1.1.1']);
  });

  it('validate names every bad range by its index', () => {
    const issues = factory.validate!(config({ cidrs: ['10.0.0.0/8', 'nonsense', '10.0.0.0/40'] }));
    assert.deepEqual(issues.map((i) => i.path), [['cidrs', 1], ['cidrs', 2]]);
    assert.match(issues[0].message, /has no prefix length/);
    assert.match(issues[1].message, /from 0 to 32/);
  });
});
