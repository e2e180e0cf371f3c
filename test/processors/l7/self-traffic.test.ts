/**
 * The observer's own requests (its OTLP exports, its Kubernetes API calls) are recognised by
 * their User-Agent at either end of the connection and left out, counted; drop_self_traffic:
 * false keeps them.
 */
import assert from 'node:assert/strict';
import type { GrpcCallEvent, HttpTransactionEvent, NetworkEvent } from '../../../core/events';
import { OBSERVER_USER_AGENT } from '../../../core/identity';
import { engineOptions, factory } from '../../../processors/l7';
import { L7Engine } from '../../../processors/l7/engine';
import { ALL_MODULES } from '../../../processors/l7/modules';
import { cat, EMPTY_SETTINGS, frame, indexed, literalIndexedName, literalNameRef, literalPlain, PREFACE, SETTINGS_ACK } from './http2/h2-builders';
import { CLIENT, payload, SERVER } from './payloads';

function engine(dropSelfTraffic: boolean): L7Engine {
  return new L7Engine(engineOptions({ ...factory.createDefaultConfig(), drop_self_traffic: dropSelfTraffic }), ALL_MODULES);
}

/** An HTTP/1.1 POST with `userAgent` and its 200, seen on `side`'s socket. */
function http1Exchange(side: 'client' | 'server', userAgent: string, t: number): NetworkEvent[] {
  const [self, peer] = side === 'client' ? [CLIENT, SERVER] : [SERVER, CLIENT];
  const request = `POST /v1/traces HTTP/1.1\r\nHost: collector:4318\r\nUser-Agent: ${userAgent}\r\nContent-Length: 2\r\n\r\n{}`;
  const response = 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n';
  return [
    payload(self, peer, side === 'client' ? 'send' : 'recv', request, t),
    payload(self, peer, side === 'client' ? 'recv' : 'send', response, t + 10),
  ];
}

/** h2c gRPC calls to the OTLP trace service: stream 1 with `user-agent` metadata, stream 3 without. */
function grpcExchange(side: 'client' | 'server', userAgent: string, t: number): NetworkEvent[] {
  const [self, peer] = side === 'client' ? [CLIENT, SERVER] : [SERVER, CLIENT];
  const request = (streamId: number, withAgent: boolean): Uint8Array =>
    cat(
      frame(1, 0x4, streamId, [
        ...indexed(3), // :method POST
        ...indexed(6), // :scheme http
        ...literalNameRef(4, '/opentelemetry.proto.collector.trace.v1.TraceService/Export'),
        ...literalNameRef(1, 'collector:4317'),
        ...literalNameRef(31, 'application/grpc'),
        ...(withAgent ? literalIndexedName(58, userAgent) : []), // user-agent has static name 58
      ]),
      frame(0, 0x1, streamId, [0, 0, 0, 0, 0]),
    );
  const response = (streamId: number): Uint8Array =>
    cat(
      frame(1, 0x4, streamId, [...indexed(8), ...literalNameRef(31, 'application/grpc')]),
      frame(0, 0, streamId, [0, 0, 0, 0, 0]),
      frame(1, 0x5, streamId, literalPlain('grpc-status', '0')),
    );
  // The client writes requests and reads responses; the server the other way round.
  const write = side === 'client' ? 'send' : 'recv';
  const read = side === 'client' ? 'recv' : 'send';
  return [
    payload(self, peer, write, cat(PREFACE, EMPTY_SETTINGS, request(1, true)), t),
    payload(self, peer, read, cat(EMPTY_SETTINGS, SETTINGS_ACK, response(1)), t + 10),
    payload(self, peer, write, request(3, false), t + 20),
    payload(self, peer, read, response(3), t + 30),
  ];
}

describe('l7 processor: the observer\'s own traffic', () => {
  for (const side of ['client', 'server'] as const) {
    it(`drops HTTP/1 requests with its User-Agent at the ${side}'s end, and counts them`, () => {
      const e = engine(true);
      const out = e.process([...http1Exchange(side, OBSERVER_USER_AGENT, 100), ...http1Exchange(side, 'network-observer/0.0.9', 200), ...http1Exchange(side, 'curl/8.5.0', 300)]);
      const http = out.filter((x): x is HttpTransactionEvent => x.kind === 'l7.http');
      assert.deepEqual(http.map((x) => x.userAgent), ['curl/8.5.0'], 'only the foreign request is reported (any observer version is the observer)');
      assert.equal(e.counters.self_transactions_dropped, 2);
      assert.equal(e.counters.transactions_http, 1);
    });

    it(`drops gRPC calls with its user-agent metadata at the ${side}'s end, and counts them`, () => {
      const e = engine(true);
      const out = e.process(grpcExchange(side, OBSERVER_USER_AGENT, 100));
      const calls = out.filter((x): x is GrpcCallEvent => x.kind === 'l7.grpc');
      assert.deepEqual(calls.map((x) => `${x.streamId} ${x.rpcMethod} ${x.grpcStatusName}`), ['3 opentelemetry.proto.collector.trace.v1.TraceService/Export OK']);
      assert.equal(calls[0].userAgent, undefined);
      assert.equal(e.counters.self_transactions_dropped, 1);
    });
  }

  it('keeps them with drop_self_traffic: false', () => {
    const e = engine(false);
    const out = e.process([...http1Exchange('server', OBSERVER_USER_AGENT, 100), ...grpcExchange('client', OBSERVER_USER_AGENT, 200)]);
    assert.equal(out.filter((x) => x.kind === 'l7.http' && x.userAgent === OBSERVER_USER_AGENT).length, 1);
    const calls = out.filter((x): x is GrpcCallEvent => x.kind === 'l7.grpc');
    assert.deepEqual(calls.map((x) => x.userAgent), [OBSERVER_USER_AGENT, undefined], 'the gRPC user-agent is reported');
    assert.equal(e.counters.self_transactions_dropped, 0);
  });

  it('drops by default, and the option is in the schema', () => {
    assert.equal(factory.createDefaultConfig().drop_self_traffic, true);
    assert.equal((factory.configSchema as { properties: Record<string, { default?: unknown }> }).properties.drop_self_traffic.default, true);
  });
});
