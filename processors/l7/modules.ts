/** The protocol modules the l7 processor can run, in default detection order. */
import { dnsProtocol } from './dns';
import { http1Protocol } from './http1';
import type { ProtocolModule } from './protocol';

export type ProtocolName = ProtocolModule['name'];

/**
 * Default order: the most specific signatures first (a TLS record header, the HTTP/2
 * preface), then HTTP/1 request/status lines, then the DNS header check, which is the loosest.
 */
export const ALL_MODULES: readonly ProtocolModule[] = [http1Protocol, dnsProtocol];

export const PROTOCOL_NAMES: readonly ProtocolName[] = ['http1', 'http2', 'dns', 'tls'];
