/**
 * Bogus TLS records over real connections are counted as malformed TLS (issue 12): a stream
 * that starts like a TLS handshake record and then cannot be one, sent by one process to
 * another over loopback, seen at both ends.
 * Runs as root (CI=true must run it); skips with the reason elsewhere.
 */
import assert from 'node:assert/strict';
import { requireKernel, runPeer, startPeer } from '../../receivers/ebpf_network/helpers';
import { pipeline } from './kernel-pipeline';

const CONNECTIONS = 50;
// A handshake record header announcing 65,535 bytes: more than a TLS record can hold.
const BOGUS = Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0xff, 0xff]), Buffer.alloc(64, 0x41)]);

describe('l7 bogus ClientHellos on the real kernel', function () {
  this.timeout(60_000);

  it(`${CONNECTIONS} connections whose first record has an impossible length: each counted as malformed TLS`, async function () {
    requireKernel(this);
    const p = await pipeline({}, { tls_uprobes: false });
    const server = startPeer(['tcp-server', '127.0.0.1', '0']);
    try {
      const port = (await server.next('listening')).port!;
      const detected = p.telemetry.get('detected_tls');
      const malformed = p.telemetry.get('malformed_tls');
      await runPeer(['raw-client', '127.0.0.1', String(port), BOGUS.toString('hex'), String(CONNECTIONS)], 'done');
      // Both ends of each connection: the client's send and the server's receive.
      const expected = 2 * CONNECTIONS;
      const deadline = Date.now() + 10_000;
      while (p.telemetry.get('malformed_tls') - malformed < expected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.equal(p.telemetry.get('detected_tls') - detected, expected, 'detected as TLS at both ends');
      assert.equal(p.telemetry.get('malformed_tls') - malformed, expected, 'and counted as malformed');
      assert.ok(!p.out.events.some((e) => e.kind === 'l7.tls' && e.localPort === port && e.errorType === undefined), 'no handshake reported as fine');
    } finally {
      await server.stop();
      await p.stop();
    }
  });
});
