/**
 * JA4 TLS client fingerprint (FoxIO, technical_details/JA4.md):
 *
 *   t13d1516h2_8daaf6152771_e5627efa2ab1
 *   a: transport (t = TLS over TCP), version, d/i (SNI present or not), cipher count,
 *      extension count, first and last character of the first ALPN value
 *   b: sha256 of the sorted cipher list, 12 hex characters
 *   c: sha256 of the sorted extension list without SNI and ALPN, '_', the signature
 *      algorithms in wire order; 12 hex characters
 *
 * GREASE values are ignored everywhere.
 */
import { createHash } from 'node:crypto';
import { EXT_ALPN, EXT_SERVER_NAME, type ClientHello } from './hello';
import { isGrease } from './names';

const EMPTY_HASH = '000000000000';

function ja4Version(hello: ClientHello): string {
  let version = hello.legacyVersion;
  if (hello.supportedVersions.length > 0) {
    version = -1;
    for (const v of hello.supportedVersions) if (!isGrease(v) && v > version) version = v;
  }
  switch (version) {
    case 0x0304: return '13';
    case 0x0303: return '12';
    case 0x0302: return '11';
    case 0x0301: return '10';
    case 0x0300: return 's3';
    case 0x0002: return 's2';
    case 0xfeff: return 'd1';
    case 0xfefd: return 'd2';
    case 0xfefc: return 'd3';
    default: return '00';
  }
}

function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function ja4Alpn(first: Uint8Array | undefined): string {
  if (!first || first.length === 0) return '00';
  const a = first[0];
  const z = first[first.length - 1];
  if (isAlnum(a) && isAlnum(z)) return String.fromCharCode(a) + String.fromCharCode(z);
  // Non-alphanumeric: first and last characters of the hex of the whole value.
  const hex = Buffer.from(first).toString('hex');
  return hex[0] + hex[hex.length - 1];
}

function hex4(v: number): string {
  return v.toString(16).padStart(4, '0');
}

function count2(n: number): string {
  return String(Math.min(n, 99)).padStart(2, '0');
}

function sha12(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

export interface Ja4Parts {
  a: string;
  /** Sorted cipher list as hashed for part b ('' when empty). */
  ciphers: string;
  /** Sorted extension list (+ '_' + signature algorithms) as hashed for part c ('' when empty). */
  extensions: string;
}

export function ja4Parts(hello: ClientHello, transport: 't' | 'q' | 'd' = 't'): Ja4Parts {
  const ciphers = hello.cipherSuites.filter((c) => !isGrease(c));
  const extensions = hello.extensions.filter((e) => !isGrease(e));
  const sni = hello.extensions.includes(EXT_SERVER_NAME) ? 'd' : 'i';
  const a = `${transport}${ja4Version(hello)}${sni}${count2(ciphers.length)}${count2(extensions.length)}${ja4Alpn(hello.firstAlpn)}`;
  const sortedCiphers = ciphers.map(hex4).sort().join(',');
  let sortedExtensions = extensions
    .filter((e) => e !== EXT_SERVER_NAME && e !== EXT_ALPN)
    .map(hex4)
    .sort()
    .join(',');
  const sigAlgs = hello.signatureAlgorithms.filter((s) => !isGrease(s));
  if (sortedExtensions !== '' && sigAlgs.length > 0) sortedExtensions += '_' + sigAlgs.map(hex4).join(',');
  return { a, ciphers: sortedCiphers, extensions: sortedExtensions };
}

/** The JA4 fingerprint of a ClientHello. */
export function ja4(hello: ClientHello, transport: 't' | 'q' | 'd' = 't'): string {
  const { a, ciphers, extensions } = ja4Parts(hello, transport);
  return `${a}_${ciphers === '' ? EMPTY_HASH : sha12(ciphers)}_${extensions === '' ? EMPTY_HASH : sha12(extensions)}`;
}

/** JA4_r: the same with the lists in clear instead of hashed. */
export function ja4Raw(hello: ClientHello, transport: 't' | 'q' | 'd' = 't'): string {
  const { a, ciphers, extensions } = ja4Parts(hello, transport);
  return `${a}_${ciphers}_${extensions}`;
}
