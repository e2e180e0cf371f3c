/**
 * Joins HTTPS transactions to the handshake of their connection. The l7.tls result of a socket
 * (SNI, version, ALPN, cipher) is kept per connection until it closes; transactions parsed from
 * the decrypted payload of the same socket carry it. A TLS connection that closes without any
 * plaintext having been seen is counted: its library is one the uprobes do not cover (Go's
 * crypto/tls, rustls, Java, BoringSSL without symbols) or capture is off.
 */
import type { TlsConnectionInfo, TlsHandshakeEvent } from '../../core/events';
import { LruMap } from '../../core/lru';
import type { ConnectionKey } from './connections';

interface Entry {
  info: TlsConnectionInfo;
  plaintext: boolean;
}

const NOTHING_KNOWN: TlsConnectionInfo = Object.freeze({});

export class TlsHandshakes {
  /** Only peeked, never refreshed: the oldest handshake is forgotten first. */
  private readonly byKey: LruMap<ConnectionKey, Entry>;

  /** `limit` bounds the connections remembered (the oldest is forgotten first). */
  constructor(limit: number) {
    this.byKey = new LruMap(limit);
  }

  get size(): number {
    return this.byKey.size;
  }

  /** A handshake of the socket `key`; a later one on the same socket (renegotiation) replaces it. */
  remember(key: ConnectionKey, event: TlsHandshakeEvent): void {
    const info: TlsConnectionInfo = {};
    if (event.serverName) info.serverName = event.serverName;
    if (event.version) info.version = event.version;
    if (event.alpn) info.alpn = event.alpn;
    if (event.cipher) info.cipher = event.cipher;
    const previous = this.byKey.peek(key);
    if (previous) {
      previous.info = info;
      return;
    }
    this.byKey.set(key, { info, plaintext: false });
  }

  /** Decrypted payload of socket `key` arrived: its TLS is covered. */
  notePlaintext(key: ConnectionKey): void {
    const entry = this.byKey.peek(key);
    if (entry) entry.plaintext = true;
  }

  /** What the handshake of socket `key` said; an empty object when it was not seen. */
  infoOf(key: ConnectionKey): TlsConnectionInfo {
    return this.byKey.peek(key)?.info ?? NOTHING_KNOWN;
  }

  /** The socket closed: forgets it; true when it had a handshake and no plaintext was seen. */
  closed(key: ConnectionKey): boolean {
    const entry = this.byKey.peek(key);
    if (!entry) return false;
    this.byKey.delete(key);
    return !entry.plaintext;
  }
}
