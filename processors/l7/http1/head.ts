/**
 * Parsing one HTTP/1.x message head (start line + header fields) that is fully in memory.
 * Only the fields the product reports are extracted; every other header is skipped without
 * allocating, and no header value beyond the named ones is ever turned into a string
 * (Authorization and Cookie in particular are never read).
 */
import type { TraceContext } from '../../../core/events';
import * as bytes from '../bytes';
import * as traceparent from '../traceparent';
import * as methods from './methods';

// Bound once: tsx compiles each use of an imported binding to a getter call, which shows on hot paths.
const { indexOfByte, latin1 } = bytes;
const { parseTraceparentBytes } = traceparent;
const { isStatusLineStart, knownMethodAt, methodTokenLength } = methods;

export const CONTENT_LENGTH_NONE = -1;
export const CONTENT_LENGTH_INVALID = -2;

/** Remembers the last bytes decoded and their string, to skip decoding a repeated value. */
export class StringCache {
  private bytes = new Uint8Array(0);
  private text = '';

  get(data: Uint8Array, start: number, end: number): string {
    const n = end - start;
    const bytes = this.bytes;
    if (n === bytes.length) {
      let same = true;
      for (let i = 0; i < n; i++) {
        if (data[start + i] !== bytes[i]) {
          same = false;
          break;
        }
      }
      if (same) return this.text;
    }
    this.text = latin1(data, start, end);
    // Long values are not worth comparing byte by byte next time.
    if (n <= 256) this.bytes = data.slice(start, end);
    return this.text;
  }
}

/** Scratch result of `parseHead`, reused per session; copy what you keep. */
export class HeadInfo {
  isRequest = false;
  method = '';
  path = '';
  query: string | undefined = undefined;
  /** Host from an absolute-form request-target (proxy requests). */
  targetHost: string | undefined = undefined;
  /** '1.0' or '1.1'. */
  version = '1.1';
  status = 0;
  contentLength = CONTENT_LENGTH_NONE;
  chunked = false;
  /** A Transfer-Encoding other than chunked last: the body runs to connection close. */
  otherTransferCoding = false;
  host: string | undefined = undefined;
  userAgent: string | undefined = undefined;
  traceContext: TraceContext | undefined = undefined;
  /** Host and User-Agent repeat on a connection: decode them once. */
  readonly hostCache = new StringCache();
  readonly userAgentCache = new StringCache();

  reset(): void {
    this.isRequest = false;
    this.method = '';
    this.path = '';
    this.query = undefined;
    this.targetHost = undefined;
    this.version = '1.1';
    this.status = 0;
    this.contentLength = CONTENT_LENGTH_NONE;
    this.chunked = false;
    this.otherTransferCoding = false;
    this.host = undefined;
    this.userAgent = undefined;
    this.traceContext = undefined;
  }
}

/** `parseHead` results below zero; zero and above is the index just past the head. */
export const HEAD_INCOMPLETE = -1;
export const HEAD_MALFORMED = -2;

/**
 * Index just past the blank line ending a head that starts at `start`, searching from `from`;
 * -1 when not in [from, end). Accepts CRLF and bare LF line ends, as real parsers do. Used
 * on buffered heads, where each read only searches the bytes it added.
 */
export function findHeadEnd(data: Uint8Array, start: number, from: number, end: number): number {
  let i = from < start ? start : from;
  for (; i < end; i++) {
    if (data[i] !== 0x0a) continue;
    // An empty line: LF LF, or LF CR LF.
    if (i + 1 < end && data[i + 1] === 0x0a) return i + 2;
    if (i + 2 < end && data[i + 1] === 0x0d && data[i + 2] === 0x0a) return i + 3;
  }
  return -1;
}

function lineEnd(data: Uint8Array, start: number, end: number): number {
  return indexOfByte(data, 0x0a, start, end);
}

/** End of the line content, excluding an optional CR before the LF at `lf`. */
function contentEnd(data: Uint8Array, start: number, lf: number): number {
  return lf > start && data[lf - 1] === 0x0d ? lf - 1 : lf;
}

function lower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
}

function nameIs(data: Uint8Array, start: number, name: Uint8Array): boolean {
  for (let i = 0; i < name.length; i++) if (lower(data[start + i]) !== name[i]) return false;
  return true;
}

const bytesOf = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const H_HOST = bytesOf('host');
const H_USER_AGENT = bytesOf('user-agent');
const H_TRACEPARENT = bytesOf('traceparent');
const H_CONTENT_LENGTH = bytesOf('content-length');
const H_TRANSFER_ENCODING = bytesOf('transfer-encoding');
const CHUNKED = bytesOf('chunked');

const MAX_CONTENT_LENGTH = Number.MAX_SAFE_INTEGER;

/**
 * Parses the message head starting at `start`, in one pass: the head ends at the first empty
 * line before `end`. Returns the index just past that line, HEAD_INCOMPLETE when `end` comes
 * first, or HEAD_MALFORMED. With `partial` (the bytes after `end` were not captured), running
 * out of bytes ends the head at `end` and its incomplete last line is ignored.
 */
export function parseHead(
  data: Uint8Array,
  start: number,
  end: number,
  info: HeadInfo,
  captureQuery: boolean,
  partial: boolean,
): number {
  info.reset();
  const firstLf = lineEnd(data, start, end);
  if (firstLf < 0) return partial ? HEAD_MALFORMED : HEAD_INCOMPLETE;
  const firstEnd = contentEnd(data, start, firstLf);
  if (!parseStartLine(data, start, firstEnd, info, captureQuery)) return HEAD_MALFORMED;

  let pos = firstLf + 1;
  for (;;) {
    if (pos >= end) return partial ? end : HEAD_INCOMPLETE;
    const first = data[pos];
    // The blank line ending the head: CRLF or a bare LF.
    if (first === 0x0a) return pos + 1;
    if (first === 0x0d) {
      if (pos + 1 >= end) return partial ? end : HEAD_INCOMPLETE;
      if (data[pos + 1] === 0x0a) return pos + 2;
      return HEAD_MALFORMED;
    }
    if (first === 0x20 || first === 0x09) {
      // obs-fold continuation of a header we do not keep.
      const lf = lineEnd(data, pos, end);
      if (lf < 0) return partial ? end : HEAD_INCOMPLETE;
      pos = lf + 1;
      continue;
    }
    // One pass per line: the name up to the colon, then the value up to the line feed.
    let colon = pos;
    for (; colon < end; colon++) {
      const c = data[colon];
      if (c === 0x3a) break;
      // Header names are tokens: whitespace or controls before the colon is not HTTP.
      if (c <= 0x20 || c >= 0x7f) return HEAD_MALFORMED;
    }
    if (colon >= end) return partial ? end : HEAD_INCOMPLETE;
    if (colon === pos) return HEAD_MALFORMED;
    const lf = lineEnd(data, colon + 1, end);
    if (lf < 0) return partial ? end : HEAD_INCOMPLETE;
    const nameLen = colon - pos;
    if (nameLen === 4 || nameLen === 10 || nameLen === 11 || nameLen === 14 || nameLen === 17) {
      let vs = colon + 1;
      let ve = contentEnd(data, vs, lf);
      while (vs < ve && (data[vs] === 0x20 || data[vs] === 0x09)) vs++;
      while (ve > vs && (data[ve - 1] === 0x20 || data[ve - 1] === 0x09)) ve--;
      headerField(data, pos, nameLen, vs, ve, info);
    }
    pos = lf + 1;
  }
}

/** The named header fields we report or need for framing; all others are never read. */
function headerField(data: Uint8Array, pos: number, nameLen: number, vs: number, ve: number, info: HeadInfo): void {
  switch (nameLen) {
    case 4:
      if (nameIs(data, pos, H_HOST)) info.host = info.hostCache.get(data, vs, ve);
      break;
    case 10:
      if (nameIs(data, pos, H_USER_AGENT)) info.userAgent = info.userAgentCache.get(data, vs, ve);
      break;
    case 11:
      if (nameIs(data, pos, H_TRACEPARENT)) info.traceContext = parseTraceparentBytes(data, vs, ve);
      break;
    case 14:
      if (nameIs(data, pos, H_CONTENT_LENGTH)) {
        const value = parseContentLength(data, vs, ve);
        // Differing repeated Content-Length values make the framing ambiguous (RFC 9112 6.3).
        if (value < 0 || (info.contentLength >= 0 && info.contentLength !== value)) {
          info.contentLength = CONTENT_LENGTH_INVALID;
        } else if (info.contentLength !== CONTENT_LENGTH_INVALID) {
          info.contentLength = value;
        }
      }
      break;
    case 17:
      if (nameIs(data, pos, H_TRANSFER_ENCODING)) {
        const chunked = endsWithChunked(data, vs, ve);
        info.chunked = chunked;
        info.otherTransferCoding = !chunked;
      }
      break;
    default:
      break;
  }
}

function parseStartLine(data: Uint8Array, start: number, end: number, info: HeadInfo, captureQuery: boolean): boolean {
  if (isStatusLineStart(data, start, end)) {
    info.isRequest = false;
    info.version = data[start + 7] === 0x30 ? '1.0' : '1.1';
    info.status = (data[start + 9] - 0x30) * 100 + (data[start + 10] - 0x30) * 10 + (data[start + 11] - 0x30);
    // After the code: nothing, or a space and a reason phrase.
    return end === start + 12 || data[start + 12] === 0x20;
  }
  let method = knownMethodAt(data, start, end);
  let methodLen: number;
  if (method !== undefined) {
    methodLen = method.length;
  } else {
    methodLen = methodTokenLength(data, start, end);
    if (methodLen === 0) return false;
    method = latin1(data, start, start + methodLen);
  }
  // method SP request-target SP HTTP/1.x
  const ts = start + methodLen + 1;
  if (end - ts < 10) return false;
  const vs = end - 8;
  if (
    data[vs - 1] !== 0x20 ||
    data[vs] !== 0x48 ||
    data[vs + 1] !== 0x54 ||
    data[vs + 2] !== 0x54 ||
    data[vs + 3] !== 0x50 ||
    data[vs + 4] !== 0x2f ||
    data[vs + 5] !== 0x31 ||
    data[vs + 6] !== 0x2e ||
    (data[vs + 7] !== 0x30 && data[vs + 7] !== 0x31)
  ) {
    return false;
  }
  const te = vs - 1;
  if (te <= ts) return false;
  // One pass validates the target and finds where its query (or fragment) begins.
  let q = -1;
  for (let i = ts; i < te; i++) {
    const c = data[i];
    if (c <= 0x20 || c === 0x7f) return false;
    if ((c === 0x3f || c === 0x23) && q < 0) q = i;
  }
  info.isRequest = true;
  info.method = method;
  info.version = data[vs + 7] === 0x30 ? '1.0' : '1.1';
  if (method !== 'CONNECT' && data[ts] === 0x2f) {
    // origin-form, by far the most common: `/path?query`.
    info.path = latin1(data, ts, q < 0 ? te : q);
    if (captureQuery && q >= 0 && data[q] === 0x3f) info.query = queryOf(data, q, te);
    return true;
  }
  parseTarget(data, ts, te, info, captureQuery, method === 'CONNECT');
  return true;
}

function queryOf(data: Uint8Array, q: number, end: number): string {
  let f = q + 1;
  while (f < end && data[f] !== 0x23) f++;
  return latin1(data, q + 1, f);
}

function parseTarget(data: Uint8Array, start: number, end: number, info: HeadInfo, captureQuery: boolean, connect: boolean): void {
  if (connect) {
    // authority-form: the target is the host:port being tunnelled to.
    info.path = '';
    info.targetHost = latin1(data, start, end);
    return;
  }
  let pathStart = start;
  if (data[start] !== 0x2f && data[start] !== 0x2a) {
    // absolute-form `scheme://authority/path?query` (sent to proxies).
    let i = start;
    while (i + 2 < end && !(data[i] === 0x3a && data[i + 1] === 0x2f && data[i + 2] === 0x2f)) i++;
    if (i + 2 < end) {
      const hostStart = i + 3;
      let hostEnd = hostStart;
      while (hostEnd < end && data[hostEnd] !== 0x2f && data[hostEnd] !== 0x3f) hostEnd++;
      info.targetHost = latin1(data, hostStart, hostEnd);
      pathStart = hostEnd;
    }
  }
  let q = pathStart;
  while (q < end && data[q] !== 0x3f && data[q] !== 0x23) q++;
  info.path = q === pathStart ? '/' : latin1(data, pathStart, q);
  if (captureQuery && q < end && data[q] === 0x3f) info.query = queryOf(data, q, end);
}

/** Decimal digits only; -1 when empty, non-numeric or beyond 2^53. */
function parseContentLength(data: Uint8Array, start: number, end: number): number {
  if (end <= start || end - start > 15) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const d = data[i] - 0x30;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value <= MAX_CONTENT_LENGTH ? value : -1;
}

/** Transfer-Encoding value whose final coding is `chunked` (case-insensitive). */
function endsWithChunked(data: Uint8Array, start: number, end: number): boolean {
  if (end - start < 7) return false;
  const s = end - 7;
  if (!nameIs(data, s, CHUNKED)) return false;
  if (s === start) return true;
  const before = data[s - 1];
  return before === 0x2c || before === 0x20 || before === 0x09;
}
