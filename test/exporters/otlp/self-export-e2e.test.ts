/**
 * The observer's export describes what it observed and nothing of itself (issue 12): the whole
 * pipeline (ebpf_network -> conntrack -> l7 -> otlp) runs in this process, which the
 * receiver excludes as its own, and exports to a real OTLP/HTTP receiver running as another
 * process, (a) on loopback and (b) in a network namespace of its own behind a veth pair. curl
 * against a local server makes the traffic to report. The receiver must get that traffic's spans,
 * logs and metrics, and no span, log record or metric data point about the export connection
 * at either end (its ports, its addresses, either process, `/v1/...` requests).
 * Runs as root (CI=true must run it); skips with the reason elsewhere. Needs curl and iproute2.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Collector } from '../../../core/collector';
import { loadConfigText } from '../../../core/config/load';
import { silentLogger } from '../../../core/logger';
import { requireKernel, startPeer, type Peer } from '../../receivers/ebpf_network/helpers';
import { vethLink, type VethLink } from '../../receivers/ebpf_network/netns';
import { requireTools, runClient } from '../../processors/l7/kernel-pipeline';
import type { ReceivedSummary } from '../otlp-receiver-process';
import { builtinFactories } from '../../../distribution/components';

/** node's arguments that run otlp-receiver-process.ts (TypeScript, through tsx as the tests are). */
const RECEIVER_PROCESS = ['-r', require.resolve('tsx/cjs'), join(__dirname, '..', 'otlp-receiver-process.ts')];
const SPAN_KIND_SERVER = 2;
const SPAN_KIND_CLIENT = 3;

type ReceiverLine = ReceivedSummary & { event: string; pid: number; port?: number };

/** What the receiver process has got so far. */
async function received(receiver: Peer<ReceiverLine>): Promise<ReceivedSummary> {
  receiver.lines.splice(0);
  receiver.child.stdin!.write('dump\n');
  return receiver.next('received');
}

function pipelineYaml(endpoint: string): string {
  return `
receivers:
  ebpf_network: { flush_interval: 20ms, poll_interval: 5ms, ring_buffer_size: 4MiB, tls_uprobes: false }
processors:
  conntrack:
    metrics: { attributes: [network.transport, network.peer.address, network.peer.port, network.local.address, network.local.port, process.pid] }
  l7:
exporters:
  otlp:
    endpoint: ${endpoint}
    protocol: http/json
    compression: none
    signals: { traces: true, metrics: true, logs: true }
    metrics: { export_interval: 300ms }
    sending_queue: { batch: { flush_timeout: 50ms } }
service:
  pipelines:
    network: { receivers: [ebpf_network], processors: [conntrack, l7], exporters: [otlp] }
`;
}

describe('otlp export to a real OTLP receiver reports nothing of itself, on the real kernel', function () {
  this.timeout(60_000);

  for (const where of ['loopback', 'a network namespace behind a veth pair'] as const) {
    it(`receiver on ${where}: the curl's spans, logs and metrics arrive, nothing about the export at either end`, async function () {
      requireKernel(this);
      requireTools(this, 'curl', 'ip');
      delete process.env.TAPIO_MOCK_MODE;
      let link: VethLink | undefined;
      let receiver: Peer<ReceiverLine> | undefined;
      let web: Peer | undefined;
      let collector: Collector | undefined;
      try {
        link = where === 'loopback' ? undefined : await vethLink('10.232.0', true);
        const host = link ? link.addresses[1] : '127.0.0.1';
        receiver = startPeer<ReceiverLine>([host], link ? link.exec(1) : [], RECEIVER_PROCESS);
        const { port: receiverPort, pid: receiverPid } = await receiver.next('listening', 20_000);
        web = startPeer(['http-server', '127.0.0.1']);
        const webPort = (await web.next('listening')).port!;

        const loaded = loadConfigText(pipelineYaml(`http://${host}:${receiverPort}`), 'self-export.yaml', __dirname, { env: {}, builtins: builtinFactories });
        collector = new Collector(loaded.config, loaded.registry, silentLogger);
        await collector.start();
        for (const path of ['/e2e/one', '/e2e/two']) await runClient('curl', ['-s', '-o', '/dev/null', `http://127.0.0.1:${webPort}${path}`]);

        const onWeb = (a: Record<string, unknown>) => a['server.port'] === webPort || a['network.peer.port'] === webPort || a['network.local.port'] === webPort;
        const deadline = Date.now() + 20_000;
        for (let got = await received(receiver); ; got = await received(receiver)) {
          const spans = got.spans.filter((s) => String(s.attrs['url.path']).startsWith('/e2e/'));
          if (spans.length >= 4 && got.logs.some((l) => onWeb(l.attrs)) && got.dataPoints.some((d) => onWeb(d.attrs))) break;
          if (Date.now() > deadline) assert.fail(`the curl's spans, logs and metrics did not all arrive: ${JSON.stringify(got).slice(0, 2000)}`);
          await new Promise((r) => setTimeout(r, 200));
        }
        await collector.shutdown(); // drains: whatever the pipeline still held reaches the receiver
        const got = await received(receiver);

        const spans = got.spans.filter((s) => String(s.attrs['url.path']).startsWith('/e2e/'));
        assert.deepEqual(spans.map((s) => [s.kind, s.attrs['url.path']]).sort(), [
          [SPAN_KIND_SERVER, '/e2e/one'], [SPAN_KIND_SERVER, '/e2e/two'], [SPAN_KIND_CLIENT, '/e2e/one'], [SPAN_KIND_CLIENT, '/e2e/two'],
        ].sort(), 'one span per end of each curl request');
        assert.ok(got.requests.every((r) => r.userAgent.startsWith('network-observer/')), 'the exporter names itself');

        const ownAddresses: string[] = link ? link.addresses : [];
        const aboutExport = (a: Record<string, unknown>): boolean =>
          Object.entries(a).some(([key, value]) =>
            (key.endsWith('.port') && value === receiverPort) ||
            (key === 'process.pid' && (value === receiverPid || value === process.pid)) ||
            (key === 'url.path' && String(value).startsWith('/v1/')) ||
            ownAddresses.includes(String(value)));
        assert.deepEqual(got.spans.filter((s) => aboutExport(s.attrs)), [], 'no span about the export');
        assert.deepEqual(got.logs.filter((l) => aboutExport(l.attrs)), [], 'no log record about the export');
        assert.deepEqual(got.dataPoints.filter((d) => aboutExport(d.attrs)), [], 'no metric data point about the export');
      } finally {
        await collector?.shutdown();
        await web?.stop();
        await receiver?.stop();
        await link?.remove();
      }
    });
  }
});
