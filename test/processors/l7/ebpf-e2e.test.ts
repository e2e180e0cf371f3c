/**
 * End to end on the real kernel: real clients and servers over loopback on non-default ports
 * (curl -> node http server on 18080, dig -> dnsmasq on 15353 over UDP and TCP), captured by
 * the ebpf_network receiver's payload capture and turned into transactions by the l7 processor.
 * Each exchange must come out twice, once per endpoint, each naming its own process and side.
 * Runs as root (CI=true must run it); skips with the reason elsewhere.
 * Needs the Debian packages curl, dnsutils (dig) and dnsmasq.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { DnsTransactionEvent, HttpTransactionEvent, NetworkEvent } from '../../../core/events';
import { requireKernel } from '../../receivers/ebpf_network/helpers';
import { pipeline, requireTools, runClient, startHttpServer, stopChild } from './kernel-pipeline';

const SHAPES_CLIENT = join(__dirname, 'e2e', 'http1-shapes-client.js');
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';


/** dnsmasq on the first free port from 15353, answering test.example locally. */
async function startDnsmasq(): Promise<{ port: number; pid: number; stop(): Promise<void> }> {
  for (let port = 15353; port < 15373; port++) {
    const child: ChildProcess = spawn(
      'dnsmasq',
      [`--port=${port}`, '--no-resolv', '--no-hosts', '--no-daemon', '--listen-address=127.0.0.1', '--bind-interfaces',
        '--pid-file=', '--address=/test.example/127.0.0.1', '--address=/nx.example/'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    for (let i = 0; i < 50 && !stderr.includes('started') && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
    if (stderr.includes('started') && child.exitCode === null) {
      return { port, pid: child.pid!, stop: () => stopChild(child, exited) };
    }
    child.kill('SIGKILL');
    await exited;
    if (!/address already in use/i.test(stderr)) throw new Error(`dnsmasq did not start on port ${port}: ${stderr.trim()}`);
  }
  throw new Error('dnsmasq: no free port in 15353-15372');
}

describe('l7 end to end with the ebpf_network receiver on loopback', function () {
  this.timeout(60_000);

  it('curl against a node http server on an unprivileged port: both ends, keep-alive, chunked, POST, large body, traceparent', async function () {
    requireKernel(this);
    requireTools(this, 'curl');
    const p = await pipeline({ capture_query: true });
    const listening = await startHttpServer();
    try {
      const base = `http://127.0.0.1:${listening.port}`;
      const curlPid = await runClient('curl', [
        '-s', '-o', '/dev/null', '-H', `traceparent: 00-${TRACE_ID}-00f067aa0ba902b7-01`,
        `${base}/hello?x=1`, '-o', '/dev/null', `${base}/chunked`, '-o', '/dev/null', `${base}/missing`,
      ]);
      const postPid = await runClient('curl', ['-s', '-o', '/dev/null', '--data-binary', 'a=1&b=2', '-H', 'Authorization: Bearer e2e-secret', `${base}/echo`]);
      const bigPid = await runClient('curl', ['-s', '-o', '/dev/null', `${base}/big`]);

      const ours = (e: NetworkEvent): e is HttpTransactionEvent =>
        e.kind === 'l7.http' && (e.localPort === listening.port || e.remotePort === listening.port);
      await p.out.waitFor((events) => events.filter(ours).length >= 10, 15_000, 'five exchanges seen from both ends');
      const txs = p.out.events.filter(ours);
      const client = txs.filter((t) => t.side === 'client');
      const server2 = txs.filter((t) => t.side === 'server');
      const summary = (list: HttpTransactionEvent[]) => list.map((t) => [t.method, t.path, t.statusCode, t.responseBodySize]).sort();
      const expected = [
        ['GET', '/chunked', 200, 40],
        ['GET', '/hello', 200, 12],
        ['GET', '/missing', 404, 10],
        ['POST', '/echo', 201, '{"received":7}'.length],
        // Sized from the syscall lengths: only the first 4096 bytes of each read are captured.
        ['GET', '/big', 200, 100_000],
      ].sort();
      assert.deepEqual(summary(client), expected, 'client side');
      assert.deepEqual(summary(server2), expected, 'server side');
      for (const t of server2) {
        assert.equal(t.process.pid, listening.pid);
        assert.equal(t.localPort, listening.port);
      }
      for (const t of client) {
        assert.ok([curlPid, postPid, bigPid].includes(t.process.pid), `client pid ${t.process.pid} is a curl`);
        assert.equal(t.remotePort, listening.port);
      }
      const keepAlive = client.filter((t) => t.process.pid === curlPid);
      assert.equal(keepAlive.length, 3, 'the first curl made three requests');
      assert.equal(new Set(keepAlive.map((t) => t.socketCookie)).size, 1, 'on one keep-alive connection');
      const hello = server2.find((t) => t.path === '/hello')!;
      assert.equal(hello.query, 'x=1');
      assert.equal(hello.traceContext?.traceId, TRACE_ID);
      assert.match(hello.userAgent ?? '', /^curl\//);
      assert.equal(server2.find((t) => t.path === '/echo')!.requestBodySize, 7);
      for (const t of txs) assert.ok(t.endUs >= t.startUs && t.endUs - t.startUs < 5_000_000);
      assert.ok(!JSON.stringify(txs).includes('e2e-secret'), 'Authorization is never kept');
      assert.equal(p.out.ofKind('payload').length, 0, 'payload is consumed');
    } finally {
      await listening.stop();
      await p.stop();
    }
  });

  // With kernel summaries on, none of these shapes is one the kernel frames as a whole exchange
  // (pipelined, split, too large or not framed by Content-Length): every one must still arrive in
  // full and parse exactly as without them.
  for (const summaries of [false, true]) {
    it(`HTTP/1 shapes the capture must keep whole: pipelined, split, 6 KiB head, 200 KiB upload, 1 MiB chunked, HTTP/1.0 close-delimited${summaries ? ', kernel summaries on' : ''}`, async function () {
      requireKernel(this);
      const p = await pipeline({}, summaries ? { http1_summary_above: 1 } : {});
      const listening = await startHttpServer();
      try {
        const clientPid = await runClient(process.execPath, [SHAPES_CLIENT, String(listening.port)]);
        const ours = (e: NetworkEvent): e is HttpTransactionEvent =>
          e.kind === 'l7.http' && (e.localPort === listening.port || e.remotePort === listening.port);
        await p.out.waitFor((events) => events.filter(ours).length >= 16, 15_000, 'eight exchanges seen from both ends');
        await new Promise((r) => setTimeout(r, 300));
        const txs = p.out.events.filter(ours);
        const summary = (side: string) =>
          txs.filter((t) => t.side === side).map((t) => [t.method, t.path, t.statusCode, t.httpVersion, t.errorType ?? null]).sort();
        const expected = [
          ['GET', '/hello', 200, '1.1', null],
          ['GET', '/missing', 404, '1.1', null],
          ['GET', '/hello', 200, '1.1', null],
          ['GET', '/split', 404, '1.1', null],
          ['GET', '/padded', 404, '1.1', null],
          ['POST', '/echo', 201, '1.1', null],
          ['GET', '/bigchunked', 200, '1.1', null],
          ['GET', '/old', 200, '1.0', null],
        ].sort();
        assert.deepEqual(summary('client'), expected, 'client side');
        assert.deepEqual(summary('server'), expected, 'server side');
        for (const t of txs) assert.equal(t.process.pid, t.side === 'client' ? clientPid : listening.pid);
        for (const side of ['client', 'server']) {
          const at = (path: string) => txs.find((t) => t.side === side && t.path === path)!;
          assert.equal(at('/echo').requestBodySize, 200 * 1024, `${side}: the upload's size`);
          assert.equal(at('/old').responseBodySize, 'an old-style body, ended by the close\n'.length, `${side}: the body the close ended`);
          // Chunk-size lines in the uncaptured middle of a call are not seen: the size may include
          // their framing (9 bytes for each of the 16 chunks), never less than the body.
          const chunked = at('/bigchunked').responseBodySize!;
          assert.ok(chunked >= 1024 * 1024 && chunked <= 1024 * 1024 + 16 * 9, `${side}: 1 MiB chunked, got ${chunked}`);
        }
      } finally {
        await listening.stop();
        await p.stop();
      }
    });
  }

  it('dig against dnsmasq on an unprivileged port over UDP and TCP: both ends, answers, NXDOMAIN', async function () {
    requireKernel(this);
    requireTools(this, 'dig', 'dnsmasq');
    const p = await pipeline();
    const dnsmasq = await startDnsmasq();
    try {
      const dig = (...args: string[]) => runClient('dig', ['@127.0.0.1', '-p', String(dnsmasq.port), '+tries=1', '+time=2', ...args]);
      const digPids = [await dig('test.example', 'A'), await dig('nope.nx.example', 'A'), await dig('+tcp', 'test.example', 'A')];

      const ours = (e: NetworkEvent): e is DnsTransactionEvent =>
        e.kind === 'l7.dns' && (e.localPort === dnsmasq.port || e.remotePort === dnsmasq.port);
      await p.out.waitFor((events) => events.filter(ours).length >= 6, 15_000, 'three lookups seen from both ends');
      const txs = p.out.events.filter(ours);
      const view = (side: string) =>
        txs.filter((t) => t.side === side).map((t) => [t.transport, t.questionName, t.questionType, t.responseCode, t.answers.map((a) => a.data).join(',')]).sort();
      const expected = [
        ['tcp', 'test.example', 'A', 'NOERROR', '127.0.0.1'],
        ['udp', 'nope.nx.example', 'A', 'NXDOMAIN', ''],
        ['udp', 'test.example', 'A', 'NOERROR', '127.0.0.1'],
      ];
      assert.deepEqual(view('client'), expected, 'dig side');
      assert.deepEqual(view('server'), expected, 'dnsmasq side');
      for (const t of txs) {
        if (t.side === 'server') assert.equal(t.process.pid, dnsmasq.pid);
        else assert.ok(digPids.includes(t.process.pid), `client pid ${t.process.pid} is a dig`);
        assert.equal(t.errorType, undefined);
        assert.ok(t.endUs >= t.startUs);
      }
    } finally {
      await dnsmasq.stop();
      await p.stop();
    }
  });
});
