/**
 * The per-connection table: one entry per socket (kernel socket cookie, or pid + tuple when
 * the cookie is unknown), bounded in size with least-recently-used eviction. The recency list
 * is intrusive (prev/next on the entry) so a touch on the hot path is a few pointer writes.
 */
import type { EventHeader, PayloadEvent } from '../../core/events';
import type { Emit, ProtocolModule, ProtocolSession } from './protocol';

export type ConnectionKey = number | string;

/** Socket cookie when the kernel gave one; otherwise pid + network namespace + 5-tuple. */
export function socketKey(e: EventHeader): ConnectionKey {
  if (e.socketCookie !== 0) return e.socketCookie;
  return `${e.process.pid}|${e.netnsId}|${e.transport}|${e.localAddress}|${e.localPort}|${e.remoteAddress}|${e.remotePort}`;
}

/**
 * The stream an event belongs to: its socket's key, except that the decrypted payload of a TLS
 * socket is a stream of its own (the socket carries the handshake and the ciphertext), keyed by
 * plaintextKey of the socket's key.
 */
export function connectionKey(e: EventHeader & { decrypted?: boolean }): ConnectionKey {
  return e.decrypted === true ? plaintextKey(socketKey(e)) : socketKey(e);
}

/** The key of the decrypted stream of socket `key` (cookies are positive, so a negative number). */
export function plaintextKey(key: ConnectionKey): ConnectionKey {
  return typeof key === 'number' ? -key : `tls|${key}`;
}

export class Connection {
  prev: Connection | undefined = undefined;
  next: Connection | undefined = undefined;
  module: ProtocolModule | undefined = undefined;
  session: ProtocolSession | undefined = undefined;
  /** session.malformed already added to the counters. */
  malformedSeen = 0;
  /** Chunks sniffed without recognising a protocol. */
  attempts = 0;
  /** Gave up detecting: the connection carries something we do not parse. */
  opaque = false;
  /** Tiny undetected reads kept to sniff together with the next read (copies, bounded). */
  held: PayloadEvent[] | undefined = undefined;
  /** Where this connection's transactions go when not the engine's own emit (decrypted streams). */
  emit: Emit | undefined = undefined;

  constructor(
    readonly key: ConnectionKey,
    /** Protocols to try, hinted ones first. */
    readonly candidates: readonly ProtocolModule[],
    /** On a configured port: detection never gives up. */
    readonly hinted: boolean,
    public lastSeenUs: number,
  ) {}
}

export class ConnectionTable {
  private readonly byKey = new Map<ConnectionKey, Connection>();
  /** Least recently used. */
  private head: Connection | undefined;
  /** Most recently used. */
  private tail: Connection | undefined;

  get size(): number {
    return this.byKey.size;
  }

  get(key: ConnectionKey): Connection | undefined {
    return this.byKey.get(key);
  }

  oldest(): Connection | undefined {
    return this.head;
  }

  add(conn: Connection): void {
    this.byKey.set(conn.key, conn);
    this.append(conn);
  }

  /** Marks as most recently used. */
  touch(conn: Connection): void {
    if (this.tail === conn) return;
    this.unlink(conn);
    this.append(conn);
  }

  delete(conn: Connection): void {
    if (this.byKey.get(conn.key) !== conn) return;
    this.byKey.delete(conn.key);
    this.unlink(conn);
  }

  values(): IterableIterator<Connection> {
    return this.byKey.values();
  }

  private append(conn: Connection): void {
    conn.prev = this.tail;
    conn.next = undefined;
    if (this.tail !== undefined) this.tail.next = conn;
    else this.head = conn;
    this.tail = conn;
  }

  private unlink(conn: Connection): void {
    if (conn.prev !== undefined) conn.prev.next = conn.next;
    else this.head = conn.next;
    if (conn.next !== undefined) conn.next.prev = conn.prev;
    else this.tail = conn.prev;
    conn.prev = undefined;
    conn.next = undefined;
  }
}
