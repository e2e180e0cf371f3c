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
import { hash } from 'node:crypto';
import type { ClientHello } from './hello';

// Local copies: these run per list element, and imported bindings compile to getter calls.
const SERVER_NAME = 0x0000;
const ALPN = 0x0010;

function grease(v: number): boolean {
  return (v & 0x0f0f) === 0x0a0a && v >> 8 === (v & 0xff);
}

const EMPTY_HASH = '000000000000';

function ja4Version(hello: ClientHello): string {
  let version = hello.legacyVersion;
  if (hello.supportedVersions.length > 0) {
    version = -1;
    for (const v of hello.supportedVersions) if (!grease(v) && v > version) version = v;
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

// Lists are written as ASCII straight into a reused buffer and hashed from there: building
// them as strings cost more than the hashing (ClientHellos offer 15-60 ciphers).
const HEX_CODES = Uint8Array.from({ length: 512 }, (_, i) => '0123456789abcdef'.charCodeAt(i & 1 ? (i >> 1) & 0x0f : i >> 5));
let text = Buffer.alloc(1024);
let kept = new Uint16Array(256);

/**
 * Appends the non-GREASE values of `values` (also without `skipA`/`skipB`) to `text` at
 * `offset` as 4-digit lowercase hex, comma-separated, sorted (numeric order is the order of
 * fixed-width hex strings) or in wire order. Returns the new offset; `listCount` gets the count.
 */
let listCount = 0;
function writeList(values: readonly number[], sort: boolean, offset: number, skipA = -1, skipB = -1): number {
  if (kept.length < values.length) kept = new Uint16Array(values.length);
  let n = 0;
  for (const v of values) if (!grease(v) && v !== skipA && v !== skipB) kept[n++] = v;
  const list = kept.subarray(0, n);
  if (sort) list.sort();
  if (text.length < offset + 5 * n + 1) {
    const grown = Buffer.alloc(Math.max(text.length * 2, offset + 5 * n + 1));
    text.copy(grown, 0, 0, offset);
    text = grown;
  }
  let o = offset;
  for (let i = 0; i < n; i++) {
    if (i > 0) text[o++] = 0x2c; // ','
    const v = list[i];
    text[o++] = HEX_CODES[(v >> 8) * 2];
    text[o++] = HEX_CODES[(v >> 8) * 2 + 1];
    text[o++] = HEX_CODES[(v & 0xff) * 2];
    text[o++] = HEX_CODES[(v & 0xff) * 2 + 1];
  }
  listCount = n;
  return o;
}

function count2(n: number): string {
  return String(Math.min(n, 99)).padStart(2, '0');
}

interface Layout {
  a: string;
  /** text[0, ciphersEnd) is the sorted cipher list. */
  ciphersEnd: number;
  /** text[ciphersEnd, extensionsEnd) is the sorted extension list, '_', the signature algorithms. */
  extensionsEnd: number;
}

function layout(hello: ClientHello, transport: string): Layout {
  const ciphersEnd = writeList(hello.cipherSuites, true, 0);
  const cipherCount = listCount;
  let extensionCount = 0;
  let sni = 'i';
  for (const e of hello.extensions) {
    if (grease(e)) continue;
    extensionCount++;
    if (e === SERVER_NAME) sni = 'd';
  }
  const a = `${transport}${ja4Version(hello)}${sni}${count2(cipherCount)}${count2(extensionCount)}${ja4Alpn(hello.firstAlpn)}`;
  let extensionsEnd = writeList(hello.extensions, true, ciphersEnd, SERVER_NAME, ALPN);
  if (extensionsEnd > ciphersEnd && hello.signatureAlgorithms.length > 0) {
    text[extensionsEnd] = 0x5f; // '_'
    const withSigAlgs = writeList(hello.signatureAlgorithms, false, extensionsEnd + 1);
    // A signature_algorithms extension holding only GREASE adds nothing, not even the '_'.
    if (listCount > 0) extensionsEnd = withSigAlgs;
  }
  return { a, ciphersEnd, extensionsEnd };
}

function sha12(start: number, end: number): string {
  if (end === start) return EMPTY_HASH;
  return hash('sha256', text.subarray(start, end), 'hex').slice(0, 12);
}

/** The JA4 fingerprint of a ClientHello. */
export function ja4(hello: ClientHello, transport: 't' | 'q' | 'd' = 't'): string {
  const { a, ciphersEnd, extensionsEnd } = layout(hello, transport);
  return `${a}_${sha12(0, ciphersEnd)}_${sha12(ciphersEnd, extensionsEnd)}`;
}

/** JA4_r: the same with the lists in clear instead of hashed. */
export function ja4Raw(hello: ClientHello, transport: 't' | 'q' | 'd' = 't'): string {
  const { a, ciphersEnd, extensionsEnd } = layout(hello, transport);
  return `${a}_${text.toString('latin1', 0, ciphersEnd)}_${text.toString('latin1', ciphersEnd, extensionsEnd)}`;
}
