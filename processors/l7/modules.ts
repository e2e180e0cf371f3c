/** The protocol modules the l7 processor can run, in default detection order. */
import { dnsProtocol } from './dns';
import { http1Protocol } from './http1';
import { http2Protocol } from './http2';
import type { ProtocolModule } from './protocol';
import { tlsProtocol } from './tls';

export type ProtocolName = ProtocolModule['name'];

/**
 * Default order: the most specific signatures first (a TLS record header, the HTTP/2
 * preface), then HTTP/1 request/status lines, then the DNS header check, which is the loosest.
 * Port hints move a connection's expected protocol to the front.
 */
export const ALL_MODULES: readonly ProtocolModule[] = [tlsProtocol, http2Protocol, http1Protocol, dnsProtocol];

export const PROTOCOL_NAMES: readonly ProtocolName[] = ['http1', 'http2', 'dns', 'tls'];
