/**
 * An export request from another observer, arriving from a non-local address, is recognised by
 * its content (issue 12): a client in a network namespace of the test's own, behind a veth pair,
 * sends `POST /v1/traces` with `User-Agent: network-observer/<version>` to a server on the host
 * end of the pair. The l7 processor drops it at both ends and counts it
 * (`self_transactions_dropped`); the same request with curl's own User-Agent is reported.
 * Runs as root (CI=true must run it); skips with the reason elsewhere. Needs curl and iproute2.
 */
import assert from 'node:assert/strict';
import type { HttpTransactionEvent, NetworkEvent } from '../../../core/events';
import { OBSERVER_USER_AGENT } from '../../../core/identity';
import { requireKernel, startPeer } from '../../receivers/ebpf_network/helpers';
import { vethLink } from '../../receivers/ebpf_network/netns';
import { pipeline, requireTools, runClient } from './kernel-pipeline';

describe('l7 drops an observer export arriving from another address, on the real kernel', function () {
  this.timeout(30_000);

  it('POST /v1/traces from a namespace behind a veth pair: dropped and counted at both ends with the observer User-Agent, reported without it', async function () {
    requireKernel(this);
    requireTools(this, 'curl', 'ip');
    const link = await vethLink('10.233.0', true);
    try {
      const [serverAddress, clientAddress] = link.addresses;
      const p = await pipeline({}, { tls_uprobes: false });
      const server = startPeer(['http-server', serverAddress]);
      try {
        const port = (await server.next('listening')).port!;
        const [command, ...curlInNamespace] = [...link.exec(1), 'curl'];
        const post = (...agent: string[]) => runClient(command, [...curlInNamespace, '-s', '-o', '/dev/null', ...agent,
          '-H', 'Content-Type: application/json', '--data', '{}', `http://${serverAddress}:${port}/v1/traces`]);
        const observer = await post('-A', OBSERVER_USER_AGENT);
        const other = await post();

        const ours = (e: NetworkEvent): e is HttpTransactionEvent => e.kind === 'l7.http' && (e.localPort === port || e.remotePort === port);
        await p.out.waitFor((ev) => ev.filter(ours).length >= 2, 15_000, "the curl's own request at both ends");
        await new Promise((r) => setTimeout(r, 300)); // nothing more may come
        const txs = p.out.events.filter(ours);
        assert.deepEqual(txs.map((t) => [t.side, t.process.pid, t.method, t.path, t.statusCode]).sort(), [
          ['client', other, 'POST', '/v1/traces', 200], ['server', server.child.pid, 'POST', '/v1/traces', 200],
        ].sort(), 'only the request without the observer User-Agent is reported');
        for (const t of txs) assert.match(t.userAgent ?? '', /^curl\//);
        const atServer = txs.find((t) => t.side === 'server')!;
        assert.equal(atServer.remoteAddress, clientAddress, 'it came from the other namespace');
        assert.ok(!txs.some((t) => t.process.pid === observer), 'nothing of the observer-like client');
        assert.equal(p.telemetry.get('self_transactions_dropped'), 2, 'the observer request was dropped at the client and at the server');
      } finally {
        await server.stop();
        await p.stop();
      }
    } finally {
      await link.remove();
    }
  });
});
