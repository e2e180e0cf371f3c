import assert from 'node:assert/strict';
import { FNV_OFFSET_BASIS, fnvByte, hashBytes } from '../../../processors/probabilistic_sampler/hash';
import { NO_KEY, SamplingKeyHasher } from '../../../processors/probabilistic_sampler/key';
import { closed, http, opened, type ConnectionSpec } from './fixtures';

const loopback: ConnectionSpec = {
  client: { address: '127.0.0.1', port: 45678 },
  server: { address: '127.0.0.1', port: 8080 },
  clientCookie: 4097,
  serverCookie: 4098,
};

describe('probabilistic_sampler key', () => {
  const tuple = new SamplingKeyHasher(7, 'tuple', true);

  it('hashes both ends of a loopback connection alike (sorted endpoints)', () => {
    const fromClient = tuple.hashConnection(opened(loopback, 'client'));
    const fromServer = tuple.hashConnection(closed(loopback, 'server'));
    assert.notEqual(fromClient, NO_KEY);
    assert.equal(fromClient, fromServer);
  });

  it('follows the documented byte layout exactly', () => {
    // 127.0.0.1:8080 < 127.0.0.1:45678, so the server endpoint comes first.
    const mapped = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1];
    const netns = 4026531840;
    const bytes = [
      ...mapped, ...mapped,
      8080 & 0xff, 8080 >> 8, 45678 & 0xff, 45678 >> 8,
      6, 0, 0, 0,
      netns & 0xff, (netns >>> 8) & 0xff, (netns >>> 16) & 0xff, netns >>> 24,
    ];
    assert.equal(tuple.hashConnection(opened(loopback, 'client')), hashBytes(7, bytes));
  });

  it('treats IPv4 and IPv4-mapped IPv6 spellings as one connection', () => {
    const mapped: ConnectionSpec = { ...loopback, server: { address: '::ffff:127.0.0.1', port: 8080 } };
    assert.equal(tuple.hashConnection(opened(mapped, 'client')), tuple.hashConnection(opened(loopback, 'client')));
  });

  it('separates identical tuples in different network namespaces and transports', () => {
    const a = opened({ ...loopback, netnsId: 1 }, 'client');
    const b = opened({ ...loopback, netnsId: 2 }, 'client');
    assert.notEqual(tuple.hashConnection(a), tuple.hashConnection(b));
    const udp = { ...a, transport: 'udp' } as unknown as typeof a;
    assert.notEqual(tuple.hashConnection(a), tuple.hashConnection(udp));
  });

  it('socket_cookie keys each socket; the tuple key is the fallback', () => {
    const cookie = new SamplingKeyHasher(7, 'socket_cookie', true);
    const client = opened(loopback, 'client');
    assert.equal(cookie.hashConnection(client), hashBytes(7, [0x01, 0x10, 0, 0, 0, 0, 0, 0]));
    assert.equal(cookie.hashConnection({ ...client, socketCookie: 2 ** 40 + 5 }), hashBytes(7, [5, 0, 0, 0, 0, 1, 0, 0]));
    assert.notEqual(cookie.hashConnection(client), cookie.hashConnection(opened(loopback, 'server')));
    assert.equal(cookie.hashConnection({ ...client, socketCookie: 0 }), tuple.hashConnection(client));
  });

  it('falls back to the cookie when the tuple is unknown, and to nothing without either', () => {
    const unknown = { ...opened(loopback, 'client'), localAddress: '', remoteAddress: '' };
    assert.equal(tuple.hashConnection(unknown), new SamplingKeyHasher(7, 'socket_cookie', true).hashConnection(unknown));
    assert.equal(tuple.hashConnection({ ...unknown, socketCookie: 0 }), NO_KEY);
  });

  it('decides traced L7 events by trace id (16 bytes), ahead of the connection', () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const event = http(loopback, 'client', traceId);
    let expected = hashBytes(7, []);
    for (let i = 0; i < 32; i += 2) expected = fnvByte(expected, parseInt(traceId.slice(i, i + 2), 16));
    assert.equal(tuple.hashEvent(event), expected);
    assert.equal(tuple.hashEvent({ ...event, traceContext: { ...event.traceContext!, traceId: traceId.toUpperCase() } }), expected);
    // The same trace seen on another connection hashes the same.
    const other: ConnectionSpec = { client: { address: '10.0.0.1', port: 1 }, server: { address: '10.0.0.2', port: 2 } };
    assert.equal(tuple.hashEvent(http(other, 'server', traceId)), expected);
    assert.notEqual(expected, FNV_OFFSET_BASIS);
  });

  it('ignores invalid trace ids and honours use_trace_id: false', () => {
    const plain = tuple.hashConnection(http(loopback, 'client'));
    for (const bad of ['0'.repeat(32), 'xyz', '4bf92f3577b34da6a3ce929d0e0e473g', '4bf92f3577b34da6a3ce929d0e0e47']) {
      assert.equal(tuple.hashEvent(http(loopback, 'client', bad)), plain, bad);
    }
    const noTrace = new SamplingKeyHasher(7, 'tuple', false);
    assert.equal(noTrace.hashEvent(http(loopback, 'client', '4bf92f3577b34da6a3ce929d0e0e4736')), plain);
  });
});
