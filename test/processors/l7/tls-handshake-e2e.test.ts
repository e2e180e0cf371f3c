/**
 * TLS handshakes at both ends on the real kernel (issue 12): `openssl s_client` with TLS 1.2 and
 * 1.3, with and without `-alpn h2,http/1.1`, against nginx (OpenSSL: the server reads the 5-byte
 * record header and the body in separate calls, after peeking at the first byte) and against a
 * node TLS server. The server's end must report the SNI, offered ALPN, versions and JA4 the
 * client's end reports.
 * Runs as root (CI=true must run it); skips with the reason elsewhere.
 * Needs the Debian packages openssl and nginx-light.
 */
import assert from 'node:assert/strict';
import type { NetworkEvent, TlsHandshakeEvent } from '../../../core/events';
import { requireKernel, startPeer } from '../../receivers/ebpf_network/helpers';
import { pipeline, requireTools, runClient } from './kernel-pipeline';
import { makeCertificate, startNginx, type TempTls } from './tls-peers';

const SNI = 'tls.test';
const ALPN = ['h2', 'http/1.1'];
const RUNS = [
  { version: '1.2', alpn: false }, { version: '1.2', alpn: true },
  { version: '1.3', alpn: false }, { version: '1.3', alpn: true },
];

describe('l7 TLS handshakes from openssl s_client, both ends, on the real kernel', function () {
  this.timeout(60_000);
  let tls: TempTls | undefined;

  before(function () {
    requireKernel(this);
    requireTools(this, 'openssl', 'nginx');
    tls = makeCertificate();
  });
  after(() => tls?.remove());

  for (const serverKind of ['nginx', 'node'] as const) {
    it(`against ${serverKind}: SNI, offered ALPN, versions and JA4 alike at both ends, TLS 1.2 and 1.3, with and without ALPN`, async () => {
      const p = await pipeline({}, { tls_uprobes: false });
      const nginx = serverKind === 'nginx' ? await startNginx(tls!) : undefined;
      const node = serverKind === 'node' ? startPeer(['echo-server', '127.0.0.1', tls!.key, tls!.cert]) : undefined;
      try {
        const port = nginx ? nginx.port : (await node!.next('listening')).port!;
        const serverPid = nginx ? nginx.pid : node!.child.pid!;
        const clients: number[] = [];
        for (const run of RUNS) {
          const args = ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', SNI, run.version === '1.2' ? '-tls1_2' : '-tls1_3'];
          clients.push(await runClient('openssl', run.alpn ? [...args, '-alpn', ALPN.join(',')] : args));
        }
        const ours = (e: NetworkEvent): e is TlsHandshakeEvent => e.kind === 'l7.tls' && (e.localPort === port || e.remotePort === port);
        await p.out.waitFor((ev) => ev.filter(ours).length >= 2 * RUNS.length, 15_000, 'every handshake from both ends');
        const events = p.out.events.filter(ours);
        RUNS.forEach((run, i) => {
          const client = events.filter((e) => e.process.pid === clients[i]);
          assert.equal(client.length, 1, `run ${i}: one event at the client`);
          const [c] = client;
          const server = events.filter((e) => e.process.pid === serverPid && e.remotePort === c.localPort);
          assert.equal(server.length, 1, `run ${i}: one event at the server`);
          const [s] = server;
          assert.equal(c.side, 'client');
          assert.equal(s.side, 'server');
          // nginx (http2 on) picks h2; the node server offers no ALPN. TLS 1.3 encrypts the choice.
          const chosen = run.version === '1.2' && run.alpn && serverKind === 'nginx' ? 'h2' : undefined;
          for (const e of [c, s]) {
            const what = `run ${i} (TLS ${run.version}${run.alpn ? ', ALPN' : ''}) at the ${e.side}`;
            assert.equal(e.serverName, SNI, `${what}: SNI`);
            assert.deepEqual(e.offeredAlpn, run.alpn ? ALPN : [], `${what}: offered ALPN`);
            assert.deepEqual(e.offeredVersions, [run.version], `${what}: offered versions`);
            assert.equal(e.version, run.version, `${what}: version`);
            assert.equal(e.alpn, chosen, `${what}: chosen ALPN`);
            assert.match(e.ja4 ?? '', new RegExp(`^t${run.version.replace('.', '')}d\\d{4}${run.alpn ? 'h2' : '00'}_[0-9a-f]{12}_[0-9a-f]{12}$`), `${what}: JA4`);
            assert.equal(e.errorType, undefined, `${what}: no error`);
          }
          assert.equal(s.ja4, c.ja4, `run ${i}: the same JA4 at both ends`);
          assert.equal(s.cipher, c.cipher, `run ${i}: the same cipher at both ends`);
        });
        assert.equal(p.telemetry.get('malformed_tls'), 0, 'malformed_tls');
      } finally {
        await nginx?.stop();
        await node?.stop();
        await p.stop();
      }
    });
  }
});
