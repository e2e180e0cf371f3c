/**
 * HTTPS end to end on the real kernel: plaintext taken by the OpenSSL uprobes of the
 * ebpf_network receiver, parsed by the l7 processor and joined to the TLS handshake of the same
 * connection. Peers: curl (Debian's libssl.so.3, a socket BIO) against nginx over TLS with
 * HTTP/1.1 and HTTP/2, node's https client against node's https server (the OpenSSL inside the
 * node binary, memory BIOs), and curl running on a copy of libssl.so.3 at another path, as a
 * container's would be. Every client is started after the observer.
 * Runs as root (CI=true must run it); skips with the reason elsewhere.
 * Needs the Debian packages curl, nginx-light and openssl.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import type { GrpcCallEvent, HttpTransactionEvent, NetworkEvent, TlsHandshakeEvent } from '../../../core/events';
import { freshKernelStats, requireKernel } from '../../receivers/ebpf_network/helpers';
import { pipeline, requireTools, runClient } from './kernel-pipeline';
import { GRPC_PEER, HTTPS_PEER, makeCertificate, startNginx, startNodeServer, type TempTls } from './tls-peers';

const SNI = 'tls.test';

const onPort = (port: number) => (e: NetworkEvent) => e.localPort === port || e.remotePort === port;
const http1 = (port: number) => (e: NetworkEvent): e is HttpTransactionEvent => e.kind === 'l7.http' && onPort(port)(e);
const http2 = (port: number) => (e: NetworkEvent): e is GrpcCallEvent => e.kind === 'l7.grpc' && onPort(port)(e);
const handshakes = (port: number) => (e: NetworkEvent): e is TlsHandshakeEvent => e.kind === 'l7.tls' && onPort(port)(e);

/** The libssl curl loads, from ldd. */
function curlLibssl(): string {
  const out = execFileSync('ldd', [execFileSync('sh', ['-c', 'command -v curl']).toString().trim()]).toString();
  const m = /libssl\.so[.\d]*\s+=>\s+(\S+)/.exec(out);
  if (!m) throw new Error(`curl does not link libssl: ${out}`);
  return m[1];
}

function curlArgs(port: number, path: string, ...extra: string[]): string[] {
  return ['-sk', '-o', '/dev/null', '--resolve', `${SNI}:${port}:127.0.0.1`, ...extra, `https://${SNI}:${port}${path}`];
}

describe('l7 over HTTPS: OpenSSL uprobes, real peers on loopback', function () {
  this.timeout(60_000);
  let tls: TempTls | undefined;

  before(function () {
    requireKernel(this);
    requireTools(this, 'curl', 'nginx', 'openssl', 'ldd');
    tls = makeCertificate();
  });
  after(() => tls?.remove());

  it('curl against nginx, HTTP/1.1 and HTTP/2 (ALPN h2), started after the observer: both ends, joined to the handshake', async function () {
    const p = await pipeline();
    const nginx = await startNginx(tls!);
    try {
      const status = p.receiver.tlsStatus();
      assert.ok(status.some((f) => f.attached && realpathSync(f.path) === realpathSync(curlLibssl())), `curl's libssl is probed: ${JSON.stringify(status)}`);
      const curl1 = await runClient('curl', curlArgs(nginx.port, '/one', '--http1.1'));
      const curl2 = await runClient('curl', curlArgs(nginx.port, '/two', '--http2'));
      // TLS 1.2 shows the server's ALPN choice in the clear.
      const curl3 = await runClient('curl', curlArgs(nginx.port, '/three', '--http2', '--tls-max', '1.2'));

      await p.out.waitFor((ev) => ev.filter(http1(nginx.port)).length >= 2 && ev.filter(http2(nginx.port)).length >= 4, 15_000, 'HTTPS exchanges from both ends');
      const h1 = p.out.events.filter(http1(nginx.port));
      const h2 = p.out.events.filter(http2(nginx.port));
      assert.deepEqual(h1.map((t) => [t.side, t.method, t.path, t.statusCode, t.httpVersion]).sort(), [
        ['client', 'GET', '/one', 200, '1.1'], ['server', 'GET', '/one', 200, '1.1'],
      ]);
      assert.deepEqual(h2.map((t) => [t.side, t.isGrpc, t.method, t.path, t.httpStatusCode]).sort(), [
        ['client', false, 'GET', '/three', 200], ['client', false, 'GET', '/two', 200],
        ['server', false, 'GET', '/three', 200], ['server', false, 'GET', '/two', 200],
      ]);
      for (const t of [...h1, ...h2]) {
        assert.equal(t.process.pid, t.side === 'server' ? nginx.pid : t.path === '/one' ? curl1 : t.path === '/two' ? curl2 : curl3, `${t.side} ${t.path}`);
        assert.ok(t.tls, `${t.side} ${t.path} is marked HTTPS`);
        assert.equal(t.tls.serverName, SNI, `${t.side} ${t.path}: SNI of the handshake`);
        assert.equal(t.tls.version, t.path === '/three' ? '1.2' : '1.3', `${t.side} ${t.path}: version`);
        assert.ok(t.endUs >= t.startUs);
      }
      for (const t of h2.filter((x) => x.path === '/three')) assert.equal(t.tls?.alpn, 'h2');
      // Each connection's handshake is reported once per end, not again from its plaintext.
      assert.equal(p.out.events.filter(handshakes(nginx.port)).length, 6, 'three handshakes seen from both ends');
      assert.ok(freshKernelStats({ receiver: p.receiver, consumer: p.out }).skippedDecrypted > 0, 'ciphertext of captured plaintext is no longer copied');
    } finally {
      await nginx.stop();
      await p.stop();
    }
  });

  it('node https client against node https server: the OpenSSL inside the node binary, both ends', async function () {
    const p = await pipeline();
    const server = await startNodeServer(HTTPS_PEER, tls!);
    try {
      assert.ok(p.receiver.tlsStatus().some((f) => f.attached && f.kind === 'executable' && f.functions.includes('SSL_read')), 'the node binary is probed');
      const client = await runClient(process.execPath, [HTTPS_PEER, 'client', `https://127.0.0.1:${server.port}/node/path`, 'node.test']);
      await p.out.waitFor((ev) => ev.filter(http1(server.port)).length >= 2, 15_000, 'the exchange from both ends');
      const txs = p.out.events.filter(http1(server.port));
      assert.deepEqual(txs.map((t) => [t.side, t.process.pid, t.method, t.path, t.statusCode]).sort(), [
        ['client', client, 'GET', '/node/path', 201], ['server', server.pid, 'GET', '/node/path', 201],
      ].sort());
      for (const t of txs) {
        assert.equal(t.tls?.serverName, 'node.test', `${t.side}: SNI`);
        assert.equal(t.tls?.version, '1.3', `${t.side}: version`);
      }
    } finally {
      await server.stop();
      await p.stop();
    }
  });

  it('gRPC over TLS with grpc-js (a self-signed certificate): rpc.method and status at both ends', async function () {
    const p = await pipeline();
    const server = await startNodeServer(GRPC_PEER, tls!);
    try {
      const client = await runClient(process.execPath, [GRPC_PEER, 'client', String(server.port), tls!.cert]);
      await p.out.waitFor((ev) => ev.filter(http2(server.port)).length >= 4, 15_000, 'two calls from both ends');
      const calls = p.out.events.filter(http2(server.port));
      assert.deepEqual(calls.map((c) => [c.side, c.process.pid, c.isGrpc, c.rpcMethod, c.grpcStatusName]).sort(), [
        ['client', client, true, 'demo.Bulk/Echo', 'OK'], ['client', client, true, 'demo.Bulk/Missing', 'NOT_FOUND'],
        ['server', server.pid, true, 'demo.Bulk/Echo', 'OK'], ['server', server.pid, true, 'demo.Bulk/Missing', 'NOT_FOUND'],
      ].sort());
      for (const c of calls) {
        assert.equal(c.tls?.serverName, SNI, `${c.side}: SNI`);
        assert.equal(c.authority, SNI);
      }
    } finally {
      await server.stop();
      await p.stop();
    }
  });

  it('a copy of libssl.so.3 at another path, mapped by a process started later, is found by a rescan and covered', async function () {
    const p = await pipeline();
    const nginx = await startNginx(tls!);
    const copy = join(tls!.dir, 'libssl.so.3');
    copyFileSync(curlLibssl(), copy);
    const holder = spawn('sleep', ['30'], { stdio: 'ignore', env: { ...process.env, LD_PRELOAD: copy } });
    try {
      assert.ok(!p.receiver.tlsStatus().some((f) => f.path === copy), 'not known before the rescan');
      let found = p.receiver.tlsStatus().find((f) => f.path === copy);
      for (let i = 0; i < 50 && !found; i++) {
        await new Promise((r) => setTimeout(r, 100)); // the loader maps the preload first
        p.receiver.tlsRescan();
        found = p.receiver.tlsStatus().find((f) => f.path === copy);
      }
      assert.ok(found, `the copy mapped by pid ${holder.pid} is found: ${JSON.stringify(p.receiver.tlsStatus())}`);
      assert.equal(found.attached, true, found.error);
      assert.equal(found.pid, holder.pid);

      const curl = await runClient('curl', curlArgs(nginx.port, '/copy', '--http1.1'), { LD_LIBRARY_PATH: tls!.dir });
      await p.out.waitFor((ev) => ev.filter(http1(nginx.port)).length >= 2, 15_000, 'the exchange from both ends');
      const client = p.out.events.filter(http1(nginx.port)).find((t) => t.side === 'client');
      assert.equal(client?.process.pid, curl);
      assert.equal(client?.path, '/copy');
      assert.equal(client?.tls?.serverName, SNI);
    } finally {
      holder.kill('SIGKILL');
      await nginx.stop();
      await p.stop();
    }
  });
});
