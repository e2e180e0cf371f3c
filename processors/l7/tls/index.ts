/**
 * TLS handshake metadata (no decryption) for the l7 processor: SNI, offered versions and
 * ALPN, JA4, negotiated version, cipher and ALPN, handshake time. See README.md.
 */
import type { PayloadEvent } from '../../../core/events';
import type { L7Options, ProtocolModule, ProtocolSession } from '../protocol';
import { startsLikeTlsHandshake } from './records';
import { TlsSession } from './session';

export const tlsProtocol: ProtocolModule = {
  name: 'tls',
  detect(data: Uint8Array, _event: PayloadEvent): boolean {
    return startsLikeTlsHandshake(data);
  },
  createSession(options: L7Options): ProtocolSession {
    return new TlsSession(options);
  },
};

export { TlsSession } from './session';
export { ja4, ja4Raw } from './ja4';
export { parseClientHello, parseServerHello, type ClientHello, type ServerHello } from './hello';
