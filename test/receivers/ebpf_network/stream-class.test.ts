/**
 * The kernel classifies each TCP stream once and stops copying what the l7 processor cannot
 * use: a stream that shows no HTTP/1, HTTP/2, DNS or TLS start within its first reads and
 * writes, and a TLS stream once its handshake is over. Real peers on loopback; the counters
 * must say what was skipped.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NetworkEvent, PayloadEvent } from '../../../core/events';
import { freshKernelStats, requireKernel, runPeer, startPeer, startReceiver, type RunningReceiver } from './helpers';

/** The sniffing budget of bpf/payload.bpf.h (NE_SNIFF_CHUNKS). */
const SNIFF_CHUNKS = 32;
const ROUNDS = 60;

function payloadsOf(events: readonly NetworkEvent[], pid: number, localPort: number): PayloadEvent[] {
  return events.filter((e): e is PayloadEvent => e.kind === 'payload' && e.process.pid === pid && e.localPort === localPort);
}

describe('ebpf_network stream classification on the real kernel', function () {
  this.timeout(60000);
  let rx: RunningReceiver;
  let certDir: string;

  before(async function () {
    requireKernel(this);
    delete process.env.TAPIO_MOCK_MODE;
    certDir = mkdtempSync(join(tmpdir(), 'netobs-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', join(certDir, 'key.pem'), '-out', join(certDir, 'cert.pem'), '-days', '1', '-subj', '/CN=pingpong.test'], { stdio: 'ignore' });
    rx = await startReceiver({ capture_bytes: 4096 });
  });

  after(async () => {
    await rx?.receiver.shutdown();
    if (certDir) rmSync(certDir, { recursive: true, force: true });
  });

  it('stops copying a stream that is nothing it parses, and counts what it skipped', async () => {
    const server = startPeer(['echo-server', '127.0.0.1']);
    try {
      const port = (await server.next('listening')).port!;
      const before = freshKernelStats(rx);
      const client = await runPeer(['pingpong-client', '127.0.0.1', String(port), String(ROUNDS)], 'done');
      await new Promise((r) => setTimeout(r, 300));
      const copied = payloadsOf(rx.consumer.events, client.pid, client.localPort!);
      // ROUNDS writes and ROUNDS reads at the client: at most the sniffing budget is copied.
      assert.ok(copied.length > 0, 'the first reads and writes are copied while the stream is sniffed');
      assert.ok(copied.length <= SNIFF_CHUNKS, `copied ${copied.length} of ${2 * ROUNDS} client reads/writes`);
      const after = freshKernelStats(rx);
      // Both ends: 4 * ROUNDS calls, at most 2 * SNIFF_CHUNKS of them copied.
      assert.ok(after.skippedOpaque - before.skippedOpaque >= 4 * ROUNDS - 2 * SNIFF_CHUNKS, `skipped ${after.skippedOpaque - before.skippedOpaque}`);
      assert.ok(after.skippedOpaqueBytes - before.skippedOpaqueBytes >= 64 * (4 * ROUNDS - 2 * SNIFF_CHUNKS));
    } finally {
      await server.stop();
    }
  });

  it('copies a TLS handshake at both ends and nothing after it', async () => {
    const server = startPeer(['echo-server', '127.0.0.1', join(certDir, 'key.pem'), join(certDir, 'cert.pem')]);
    try {
      const port = (await server.next('listening')).port!;
      const before = freshKernelStats(rx);
      const client = await runPeer(['pingpong-client', '127.0.0.1', String(port), String(ROUNDS), 'tls'], 'done');
      await new Promise((r) => setTimeout(r, 300));
      // Socket payload only: node's plaintext comes separately from the OpenSSL uprobes.
      const atClient = payloadsOf(rx.consumer.events, client.pid, client.localPort!).filter((e) => !e.decrypted);
      const hello = atClient.find((e) => e.dataDirection === 'send' && e.data[0] === 0x16 && e.data[5] === 0x01);
      assert.ok(hello, 'the ClientHello is copied where it was sent');
      assert.ok(atClient.some((e) => e.dataDirection === 'recv' && e.data[0] === 0x16), 'the ServerHello flight is copied where it was received');
      const atServer = rx.consumer.events.filter(
        (e): e is PayloadEvent => e.kind === 'payload' && !e.decrypted && e.process.pid === server.child.pid && e.localPort === port && e.remotePort === client.localPort,
      );
      assert.ok(atServer.some((e) => e.dataDirection === 'recv' && e.data[0] === 0x16), 'the ClientHello is copied where it was received');
      // The handshake is a few reads and writes per end; the ROUNDS encrypted exchanges are not copied.
      assert.ok(atClient.length <= 6, `copied ${atClient.length} client reads/writes`);
      assert.ok(atServer.length <= 8, `copied ${atServer.length} server reads/writes`);
      const skipped = freshKernelStats(rx).skippedEncrypted - before.skippedEncrypted;
      assert.ok(skipped >= 4 * ROUNDS - 8, `skipped ${skipped} encrypted reads/writes`);
      // The plaintext (64 x 'h', nothing we parse) is classified like socket payload: copied
      // while sniffed, then given up on.
      const plain = payloadsOf(rx.consumer.events, client.pid, client.localPort!).filter((e) => e.decrypted);
      assert.ok(plain.length > 0 && plain.length <= SNIFF_CHUNKS, `${plain.length} plaintext chunks copied at the client`);
      assert.ok(plain.every((e) => e.data.every((b) => b === 0x68)), 'the plaintext is the pings and echoes');
    } finally {
      await server.stop();
    }
  });
});
