/**
 * The L7 duration histograms are recorded by the l7 processor where it derives transactions, so
 * a sampler or rate limiter after it thins what exporters get, never the metrics; and every
 * transaction is counted once however many exporters read metrics.
 */
import assert from 'node:assert/strict';
import { Collector } from '../../../core/collector';
import type { ReceiverFactory } from '../../../core/component';
import { loadConfigText } from '../../../core/config/load';
import type { NetworkEvent } from '../../../core/events';
import { silentLogger } from '../../../core/logger';
import { builtinFactories } from '../../../distribution/components';
import { recorded, recordExporter, resetJournal } from '../../helpers/test-factories';
import { CLIENT, SERVER, payload } from './payloads';
import { freePort } from './tls-peers';

const TRANSACTIONS = 200;

/** One HTTP exchange per connection, as the eBPF receiver would capture it. */
const httpPayloadReceiver: ReceiverFactory<{ transactions: number }> = {
  kind: 'receiver',
  type: 'test_http_payload',
  stability: 'development',
  description: 'replays captured HTTP exchanges (tests)',
  configSchema: { type: 'object', additionalProperties: false, properties: { transactions: { type: 'integer', minimum: 1 } } },
  createDefaultConfig: () => ({ transactions: 1 }),
  createReceiver(settings, config, next) {
    return {
      async start() {
        const batch: NetworkEvent[] = [];
        const t0 = Date.now() * 1000;
        for (let i = 0; i < config.transactions; i++) {
          const client = { ...CLIENT, port: 30000 + i, cookie: 5000 + i };
          batch.push(
            payload(client, SERVER, 'send', 'GET /item HTTP/1.1\r\nHost: shop\r\n\r\n', t0 + i),
            payload(client, SERVER, 'recv', 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n', t0 + i + 2500),
          );
        }
        settings.telemetry.emitted(batch.length);
        await next.consume(batch);
      },
      shutdown() {},
    };
  },
};

/** Sum of the request counts of every client-duration series a Prometheus endpoint serves. */
async function scrapedCount(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let total = 0;
  for (const match of text.matchAll(/^http_client_request_duration_seconds_count\{[^}]*\} (\d+)$/gm)) total += Number(match[1]);
  return total;
}

describe('l7 duration metrics in a pipeline', () => {
  let collector: Collector | undefined;
  beforeEach(resetJournal);
  afterEach(async () => {
    await collector?.shutdown();
    collector = undefined;
  });

  it('counts every transaction once, however many the sampler and rate limit drop, with two exporters reading metrics', async () => {
    const [portA, portB] = [await freePort(), await freePort()];
    const { config, registry } = loadConfigText(`
receivers:
  test_http_payload: { transactions: ${TRANSACTIONS} }
processors:
  l7:
  probabilistic_sampler: { sampling_percentage: 50 }
  rate_limit: { events_per_second: 5, burst: 5 }
exporters:
  prometheus/a: { endpoint: "127.0.0.1:${portA}" }
  prometheus/b: { endpoint: "127.0.0.1:${portB}" }
  test_record:
service:
  pipelines:
    network:
      receivers: [test_http_payload]
      processors: [l7, probabilistic_sampler, rate_limit]
      exporters: [prometheus/a, prometheus/b, test_record]
`, 'l7-metrics.yaml', __dirname, { builtins: () => [...builtinFactories(), httpPayloadReceiver, recordExporter] });
    collector = new Collector(config, registry, silentLogger);
    await collector.start();

    const exported = (recorded.get('test_record') ?? []).flat().filter((e) => e.kind === 'l7.http').length;
    const dropped = (key: string): number => collector!.telemetry.forComponent(`processor/${key}`).get('dropped');
    assert.equal(collector.telemetry.forComponent('processor/l7').get('transactions_http'), TRANSACTIONS);
    assert.ok(dropped('probabilistic_sampler') > 0 && dropped('rate_limit') > 0, 'both dropped transactions');
    assert.equal(exported, TRANSACTIONS - dropped('probabilistic_sampler') - dropped('rate_limit'));
    assert.ok(exported <= 5);
    assert.equal(await scrapedCount(portA), TRANSACTIONS, 'every transaction, once');
    assert.equal(await scrapedCount(portB), TRANSACTIONS, 'the other reader sees the same single recording');
  });
});
