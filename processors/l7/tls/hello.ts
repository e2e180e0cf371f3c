/**
 * ClientHello and ServerHello parsing (RFC 8446 section 4.1.2 / 4.1.3, RFC 5246 7.4.1),
 * bounds-checked everywhere: a hello that does not add up is rejected as a whole
 * (undefined), never half-read.
 */

export const EXT_SERVER_NAME = 0x0000;
export const EXT_SIGNATURE_ALGORITHMS = 0x000d;
export const EXT_ALPN = 0x0010;
export const EXT_SUPPORTED_VERSIONS = 0x002b;

/** Longest SNI kept (a DNS name is at most 253 characters). */
const MAX_NAME = 255;
/** ALPN protocols kept from a ClientHello. */
const MAX_ALPN = 16;

export interface ClientHello {
  legacyVersion: number;
  /** Cipher suites in wire order, GREASE included (JA4 filters it). */
  cipherSuites: number[];
  /** Extension types in wire order, GREASE included. */
  extensions: number[];
  serverName?: string;
  alpn: string[];
  /** Raw bytes of the first ALPN protocol (JA4 looks at its bytes, not its text). */
  firstAlpn?: Uint8Array;
  /** supported_versions in wire order; empty when the extension is absent. */
  supportedVersions: number[];
  /** signature_algorithms in wire order; empty when absent. */
  signatureAlgorithms: number[];
}

export interface ServerHello {
  legacyVersion: number;
  /** supported_versions.selected_version (TLS 1.3), else 0. */
  selectedVersion: number;
  cipherSuite: number;
  alpn?: string;
  /** A HelloRetryRequest (same message type, special random): not the end of the handshake. */
  helloRetryRequest: boolean;
}

/** SHA-256("HelloRetryRequest"), the random of a HelloRetryRequest (RFC 8446 4.1.3). */
const HRR_RANDOM = Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex');

function u16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

function latin1(b: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(b[i]);
  return s;
}

/** Parses a ClientHello body (after the 4-byte handshake header) `b[start, end)`. */
export function parseClientHello(b: Uint8Array, start: number, end: number): ClientHello | undefined {
  let p = start;
  if (end - p < 2 + 32 + 1) return undefined;
  const legacyVersion = u16(b, p);
  p += 2 + 32;
  const sessionIdLength = b[p++];
  if (sessionIdLength > 32 || p + sessionIdLength + 2 > end) return undefined;
  p += sessionIdLength;
  const suitesLength = u16(b, p);
  p += 2;
  if (suitesLength < 2 || suitesLength % 2 !== 0 || p + suitesLength + 1 > end) return undefined;
  const cipherSuites: number[] = [];
  for (let i = 0; i < suitesLength; i += 2) cipherSuites.push(u16(b, p + i));
  p += suitesLength;
  const compressionLength = b[p++];
  if (compressionLength < 1 || p + compressionLength > end) return undefined;
  p += compressionLength;

  const hello: ClientHello = { legacyVersion, cipherSuites, extensions: [], alpn: [], supportedVersions: [], signatureAlgorithms: [] };
  if (p === end) return hello; // no extensions (TLS 1.0-1.2 allow it)
  if (p + 2 > end) return undefined;
  const extensionsEnd = p + 2 + u16(b, p);
  p += 2;
  if (extensionsEnd > end) return undefined;
  while (p < extensionsEnd) {
    if (p + 4 > extensionsEnd) return undefined;
    const type = u16(b, p);
    const length = u16(b, p + 2);
    p += 4;
    const e = p + length;
    if (e > extensionsEnd) return undefined;
    hello.extensions.push(type);
    switch (type) {
      case EXT_SERVER_NAME:
        if (!parseServerName(b, p, e, hello)) return undefined;
        break;
      case EXT_ALPN:
        if (!parseClientAlpn(b, p, e, hello)) return undefined;
        break;
      case EXT_SUPPORTED_VERSIONS: {
        if (length < 1) return undefined;
        const n = b[p];
        if (n % 2 !== 0 || 1 + n > length) return undefined;
        for (let i = 0; i < n; i += 2) hello.supportedVersions.push(u16(b, p + 1 + i));
        break;
      }
      case EXT_SIGNATURE_ALGORITHMS: {
        if (length < 2) return undefined;
        const n = u16(b, p);
        if (n % 2 !== 0 || 2 + n > length) return undefined;
        for (let i = 0; i < n; i += 2) hello.signatureAlgorithms.push(u16(b, p + 2 + i));
        break;
      }
      default:
        break;
    }
    p = e;
  }
  return hello;
}

function parseServerName(b: Uint8Array, p: number, e: number, hello: ClientHello): boolean {
  // An empty extension is legal in a ServerHello, and seen in ClientHellos of some stacks.
  if (e === p) return true;
  if (p + 2 > e) return false;
  const listEnd = p + 2 + u16(b, p);
  if (listEnd > e) return false;
  p += 2;
  while (p + 3 <= listEnd) {
    const nameType = b[p];
    const length = u16(b, p + 1);
    p += 3;
    if (p + length > listEnd) return false;
    if (nameType === 0 && hello.serverName === undefined && length > 0) {
      hello.serverName = latin1(b, p, p + Math.min(length, MAX_NAME));
    }
    p += length;
  }
  return true;
}

function parseClientAlpn(b: Uint8Array, p: number, e: number, hello: ClientHello): boolean {
  if (p + 2 > e) return false;
  const listEnd = p + 2 + u16(b, p);
  if (listEnd > e) return false;
  p += 2;
  while (p < listEnd) {
    const length = b[p++];
    if (p + length > listEnd) return false;
    if (hello.firstAlpn === undefined) hello.firstAlpn = b.slice(p, p + length);
    if (hello.alpn.length < MAX_ALPN && length > 0) hello.alpn.push(latin1(b, p, p + length));
    p += length;
  }
  return true;
}

/** Parses a ServerHello body `b[start, end)`. */
export function parseServerHello(b: Uint8Array, start: number, end: number): ServerHello | undefined {
  let p = start;
  if (end - p < 2 + 32 + 1) return undefined;
  const legacyVersion = u16(b, p);
  p += 2;
  let hrr = true;
  for (let i = 0; i < 32; i++) {
    if (b[p + i] !== HRR_RANDOM[i]) {
      hrr = false;
      break;
    }
  }
  p += 32;
  const sessionIdLength = b[p++];
  if (sessionIdLength > 32 || p + sessionIdLength + 3 > end) return undefined;
  p += sessionIdLength;
  const cipherSuite = u16(b, p);
  p += 3; // cipher suite + compression method
  const hello: ServerHello = { legacyVersion, selectedVersion: 0, cipherSuite, helloRetryRequest: hrr };
  if (p === end) return hello;
  if (p + 2 > end) return undefined;
  const extensionsEnd = p + 2 + u16(b, p);
  p += 2;
  if (extensionsEnd > end) return undefined;
  while (p < extensionsEnd) {
    if (p + 4 > extensionsEnd) return undefined;
    const type = u16(b, p);
    const length = u16(b, p + 2);
    p += 4;
    const e = p + length;
    if (e > extensionsEnd) return undefined;
    if (type === EXT_SUPPORTED_VERSIONS) {
      if (length !== 2) return undefined;
      hello.selectedVersion = u16(b, p);
    } else if (type === EXT_ALPN) {
      // Exactly one protocol in a ServerHello (RFC 7301 3.1).
      if (length < 3) return undefined;
      const n = b[p + 2];
      if (3 + n > length || n === 0) return undefined;
      hello.alpn = latin1(b, p + 3, p + 3 + n);
    }
    p = e;
  }
  return hello;
}
