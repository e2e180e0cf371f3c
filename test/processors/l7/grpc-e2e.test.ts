/**
 * gRPC over h2c on the real kernel (issue 12): grpc-js client and server as child processes on
 * loopback, one HTTP/2 connection carrying unary calls with 100 KB and 1 MB messages each
 * followed by small calls, server streaming and bidi streaming, OK and NOT_FOUND. Every call
 * must come out at both ends with its rpc.method and gRPC status, and the HTTP/2 parser must
 * stay in sync: no HPACK desync, nothing malformed.
 * Runs as root (CI=true must run it); skips with the reason elsewhere.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { GrpcCallEvent, NetworkEvent } from '../../../core/events';
import { requireKernel } from '../../receivers/ebpf_network/helpers';
import { pipeline } from './kernel-pipeline';
import { GRPC_PEER, startNodeServer } from './tls-peers';


/** The calls grpc-peer.js makes, in order, with the status each must end with. */
const EXPECTED: Array<[string, string]> = [
  ['Echo', 'OK'], ['Echo', 'OK'], ['Missing', 'NOT_FOUND'],
  ['Echo', 'OK'], ['Echo', 'OK'], ['Missing', 'NOT_FOUND'],
  ['List', 'OK'], ['List', 'NOT_FOUND'], ['Chat', 'OK'], ['Echo', 'OK'],
];

function runGrpcClient(port: number): Promise<{ pid: number; calls: Array<[string, number]> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [GRPC_PEER, 'client', String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 && out ? resolve(JSON.parse(out.split('\n')[0])) : reject(new Error(`grpc client exited with ${code}: ${out}`))));
  });
}

describe('l7 gRPC over h2c with grpc-js on the real kernel: 100 KB and 1 MB unary messages each followed by small calls on one connection, server and bidi streaming', function () {
  this.timeout(60_000);
  let run: { calls: GrpcCallEvent[]; serverPid: number; clientPid: number; hpackDesync: number; malformed: number } | undefined;

  before(async function () {
    requireKernel(this);
    const p = await pipeline({}, { tls_uprobes: false });
    const server = await startNodeServer(GRPC_PEER);
    try {
      const client = await runGrpcClient(server.port);
      const codes: Record<string, number> = { OK: 0, NOT_FOUND: 5 };
      assert.deepEqual(client.calls, EXPECTED.map(([m, s]) => [m, codes[s]]), 'the peers themselves saw these statuses');
      const ours = (e: NetworkEvent): e is GrpcCallEvent => e.kind === 'l7.grpc' && (e.localPort === server.port || e.remotePort === server.port);
      await p.out.waitFor((ev) => ev.filter(ours).length >= 2 * EXPECTED.length, 20_000, 'every call from both ends');
      await new Promise((r) => setTimeout(r, 200)); // nothing more may come
      run = { calls: p.out.events.filter(ours), serverPid: server.pid, clientPid: client.pid, hpackDesync: p.telemetry.get('hpack_desync'), malformed: p.telemetry.get('malformed_http2') };
    } finally {
      await server.stop();
      await p.stop();
    }
  });

  /** One side's calls in stream order, each on the one connection of that side's process. */
  function side(name: 'client' | 'server'): GrpcCallEvent[] {
    const mine = run!.calls.filter((c) => c.side === name).sort((a, b) => a.streamId - b.streamId);
    assert.equal(mine.length, EXPECTED.length, `${name}: one event per call`);
    assert.equal(new Set(mine.map((c) => c.socketCookie)).size, 1, `${name}: one connection`);
    for (const c of mine) {
      assert.equal(c.process.pid, name === 'server' ? run!.serverPid : run!.clientPid, `${name} stream ${c.streamId}: its process`);
      assert.ok(c.endUs >= c.startUs);
    }
    return mine;
  }

  it('server end: every call with its rpc.method, HTTP status and gRPC status; nothing malformed', () => {
    const view = side('server').map((c) => [c.isGrpc, c.rpcMethod, c.httpStatusCode, c.grpcStatusName, c.errorType ?? '']);
    assert.deepEqual(view, EXPECTED.map(([m, s]) => [true, `demo.Bulk/${m}`, 200, s, '']));
    assert.equal(run!.malformed, 0, 'malformed_http2');
  });

  // The client reads the server's last DATA frame and the trailers in one read() (e.g. 4,155
  // bytes): the trailers lie past the 4,096 bytes copied from its start, and arrive in the
  // record the kernel makes of the end of a large read on an L7 stream.
  it('client end: every call with its rpc.method and gRPC status, HPACK in sync', () => {
    const view = side('client').map((c) => [c.isGrpc, c.rpcMethod, c.grpcStatusName, c.errorType ?? '']);
    assert.deepEqual(view, EXPECTED.map(([m, s]) => [true, `demo.Bulk/${m}`, s, '']));
    assert.equal(run!.hpackDesync, 0, 'hpack_desync');
  });
});
