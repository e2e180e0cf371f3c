/**
 * The l7 engine with decrypted payload (plaintext the OpenSSL uprobes took): parsed in a stream
 * of its own beside the TLS handshake of the same socket, and joined to that handshake.
 */
import assert from 'node:assert/strict';
import type { HttpTransactionEvent, NetworkEvent, PayloadEvent } from '../../../core/events';
import { l7Attributes } from '../../../core/otel/attributes';
import { L7Engine, type L7EngineOptions } from '../../../processors/l7/engine';
import { ALL_MODULES } from '../../../processors/l7/modules';
import { closed, payload, type Endpoint } from './payloads';
import { alpn, clientHelloBody, handshake, record, selectedVersion, serverHelloBody, sni, supportedVersions } from './tls/tls-builders';

const OPTIONS: L7EngineOptions = {
  captureQuery: false, transactionTimeoutMs: 5000, maxBufferBytes: 16384, protocols: ['http1', 'http2', 'dns', 'tls'],
  httpPorts: [80], dnsPort: 53, httpsPorts: [443], grpcPorts: [50051], portMode: 'hint', maxSessions: 1000,
  sessionIdleTimeoutMs: 60_000, forwardPayload: false, dropSelfTraffic: true,
};

const CLIENT: Endpoint = { pid: 1001, comm: 'curl', address: '127.0.0.1', port: 40000, cookie: 11 };
const SERVER: Endpoint = { pid: 2002, comm: 'nginx', address: '127.0.0.1', port: 18443, cookie: 22 };

const CLIENT_HELLO = record(0x16, handshake(1, clientHelloBody({ ciphers: [0x1301], extensions: [sni('api.test'), alpn('h2', 'http/1.1'), supportedVersions(0x0304, 0x0303)] })), 0x0301);
const SERVER_HELLO = record(0x16, handshake(2, serverHelloBody({ cipher: 0x1301, extensions: [selectedVersion(0x0304)] })));

const plain = (self: Endpoint, peer: Endpoint, dir: 'send' | 'recv', data: Uint8Array | string, t: number): PayloadEvent =>
  ({ ...payload(self, peer, dir, data, t), decrypted: true });

const REQUEST = 'GET /secure/path HTTP/1.1\r\nHost: api.test\r\n\r\n';
const RESPONSE = 'HTTP/1.1 204 No Content\r\n\r\n';

function http(events: NetworkEvent[]): HttpTransactionEvent[] {
  return events.filter((e): e is HttpTransactionEvent => e.kind === 'l7.http');
}

describe('l7 engine: HTTPS from decrypted payload', () => {
  it('parses the plaintext apart from the handshake of the same socket and joins the two', () => {
    const e = new L7Engine(OPTIONS, ALL_MODULES);
    const out = e.process([
      payload(CLIENT, SERVER, 'send', CLIENT_HELLO, 10),
      payload(SERVER, CLIENT, 'recv', CLIENT_HELLO, 11),
      payload(SERVER, CLIENT, 'send', SERVER_HELLO, 12),
      payload(CLIENT, SERVER, 'recv', SERVER_HELLO, 13),
      plain(CLIENT, SERVER, 'send', REQUEST, 20),
      plain(SERVER, CLIENT, 'recv', REQUEST, 21),
      plain(SERVER, CLIENT, 'send', RESPONSE, 22),
      plain(CLIENT, SERVER, 'recv', RESPONSE, 23),
    ]);
    assert.equal(out.filter((x) => x.kind === 'l7.tls').length, 2, 'one handshake per end');
    const txs = http(out);
    assert.deepEqual(txs.map((t) => [t.side, t.process.pid, t.path, t.statusCode]).sort(), [['client', 1001, '/secure/path', 204], ['server', 2002, '/secure/path', 204]]);
    for (const t of txs) {
      assert.deepEqual(t.tls, { serverName: 'api.test', version: '1.3', cipher: 'TLS_AES_128_GCM_SHA256' });
      assert.equal(t.socketCookie, t.side === 'client' ? 11 : 22, 'the socket of the connection');
    }
    const attrs = l7Attributes(txs[0]);
    assert.equal(attrs['url.scheme'], 'https');
    assert.equal(attrs['tls.protocol.version'], '1.3');
    assert.equal(attrs['tls.client.server_name'], 'api.test');
    assert.equal(e.counters.detected_tls, 2);
    assert.equal(e.counters.detected_http1, 2);
    assert.equal(e.sessionCount, 4, 'a handshake session and a plaintext session per socket');

    e.process([closed(CLIENT, SERVER, 30), closed(SERVER, CLIENT, 31)]);
    assert.equal(e.sessionCount, 0, 'a close ends both streams of the socket');
    assert.equal(e.counters.tls_without_plaintext, 0);
  });

  it('marks plaintext without a seen handshake as HTTPS, and takes SNI for server.address without a Host header', () => {
    const e = new L7Engine(OPTIONS, ALL_MODULES);
    const out = e.process([plain(CLIENT, SERVER, 'send', 'GET / HTTP/1.1\r\n\r\n', 1), plain(CLIENT, SERVER, 'recv', RESPONSE, 2)]);
    const [t] = http(out);
    assert.deepEqual(t.tls, {});
    assert.equal(l7Attributes(t)['url.scheme'], 'https');
    assert.equal(l7Attributes({ ...t, tls: { serverName: 'sni.test' } })['server.address'], 'sni.test');
  });

  it('looks for HTTP, never TLS, in decrypted payload, and hints HTTP on HTTPS ports', () => {
    const e = new L7Engine({ ...OPTIONS, portMode: 'restrict' }, ALL_MODULES);
    const server: Endpoint = { ...SERVER, port: 443 };
    const other: Endpoint = { ...CLIENT, port: 40001, cookie: 77 };
    const out = e.process([plain(CLIENT, server, 'send', REQUEST, 1), plain(CLIENT, server, 'recv', RESPONSE, 2), plain(other, server, 'send', CLIENT_HELLO, 3)]);
    assert.equal(http(out).length, 1, 'HTTP/1 on 443 in restrict mode: the HTTPS port allows it for plaintext');
    assert.equal(e.counters.detected_tls, 0);
  });

  it('counts TLS connections that close without any plaintext (a library the uprobes do not cover)', () => {
    const e = new L7Engine(OPTIONS, ALL_MODULES);
    e.process([payload(CLIENT, SERVER, 'send', CLIENT_HELLO, 1), payload(CLIENT, SERVER, 'recv', SERVER_HELLO, 2), closed(CLIENT, SERVER, 3)]);
    assert.equal(e.counters.tls_without_plaintext, 1);
  });
});
