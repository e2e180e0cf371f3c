/**
 * The HTTP/2 and TLS modules inside the l7 processor's engine, with its default configuration:
 * detection among all protocols, on the gRPC port and on an arbitrary one, both ends of each
 * connection observed at once (two sockets), connection close flushing.
 */
import assert from 'node:assert/strict';
import type { GrpcCallEvent, NetworkEvent, PayloadEvent, TlsHandshakeEvent } from '../../../../core/events';
import { engineOptions, factory } from '../../../../processors/l7';
import { L7Engine } from '../../../../processors/l7/engine';
import { ALL_MODULES } from '../../../../processors/l7/modules';
import { loadFixture, payloadEvent, rawChunks, type RawChunk } from './replay';

/** Both sockets of the recorded connection, their chunks interleaved in recording order. */
function bothSides(chunks: RawChunk[], serverPort: number): NetworkEvent[] {
  const out: NetworkEvent[] = [];
  const withPorts = (e: PayloadEvent, client: boolean): PayloadEvent => ({
    ...e,
    localPort: client ? 40000 : serverPort,
    remotePort: client ? serverPort : 40000,
  });
  for (const c of chunks) {
    // The sender's write, then the receiver's read of the same bytes.
    const clientSends = c.dir === 'c2s';
    out.push(withPorts(payloadEvent(c, clientSends ? 'client' : 'server'), clientSends));
    out.push(withPorts(payloadEvent(c, clientSends ? 'server' : 'client'), !clientSends));
  }
  return out;
}

function runEngine(events: NetworkEvent[]): NetworkEvent[] {
  const engine = new L7Engine(engineOptions(factory.createDefaultConfig()), ALL_MODULES);
  const out = engine.process(events);
  const last = events[events.length - 1].timeUs;
  return [...out, ...engine.flush(last + 1000)];
}

describe('HTTP/2 and TLS modules in the l7 engine (default configuration)', () => {
  for (const port of [50051, 23456]) {
    it(`reports gRPC calls from both ends on port ${port}`, () => {
      const out = runEngine(bothSides(rawChunks(loadFixture('http2', 'grpc-node')), port));
      const calls = out.filter((e): e is GrpcCallEvent => e.kind === 'l7.grpc');
      assert.deepEqual(calls.filter((e) => e.side === 'client').map((e) => `${e.rpcMethod} ${e.grpcStatusName}`), [
        'helloworld.Greeter/SayHello OK',
        'helloworld.Greeter/SayHello OK',
        'demo.v1.Inventory/GetMissing NOT_FOUND',
        'demo.v1.Inventory/Fail INTERNAL',
      ]);
      assert.equal(calls.filter((e) => e.side === 'server').length, 4);
      for (const e of calls) assert.equal(e.process.pid, e.side === 'client' ? 1001 : 2002);
      assert.equal(out.filter((e) => e.kind === 'payload').length, 0, 'payload is consumed');
    });

    it(`reports plain HTTP/2 requests from both ends on port ${port}`, () => {
      const out = runEngine(bothSides(rawChunks(loadFixture('http2', 'h2c-node')), port));
      const calls = out.filter((e): e is GrpcCallEvent => e.kind === 'l7.grpc' && e.side === 'server');
      // The 20 kB header block is larger than the default max_buffer_bytes (16 KiB): that call
      // is reported without its fields, the others are complete.
      assert.deepEqual(calls.map((e) => `${e.method} ${e.path} ${e.httpStatusCode} ${e.errorType ?? ''}`), [
        'GET /hello 200 ',
        'POST /submit 201 ',
        'GET /hello 200 ',
        'GET /missing 404 ',
        '  204 malformed',
        'GET /hello/1 200 ',
        'GET /hello/2 200 ',
        'GET /hello/3 200 ',
        'GET /slow 0 rst_stream:CANCEL',
      ]);
    });
  }

  for (const port of [443, 23457]) {
    it(`reports TLS handshakes from both ends on port ${port}`, () => {
      for (const scenario of ['node-tls13', 'openssl-s-client', 'node-tls13-alpn-mismatch']) {
        const out = runEngine(bothSides(rawChunks(loadFixture('tls', scenario)), port));
        const handshakes = out.filter((e): e is TlsHandshakeEvent => e.kind === 'l7.tls');
        assert.deepEqual(handshakes.map((e) => e.side).sort(), ['client', 'server'], scenario);
        assert.equal(handshakes[0].ja4, handshakes[1].ja4);
        assert.ok(handshakes[0].serverName?.endsWith('.example.test'));
      }
    });
  }
});
