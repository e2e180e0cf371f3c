/**
 * Recognising the start of an HTTP/1.x message from its first bytes. Detection must be cheap
 * (it runs on the first chunk of every unknown connection) and must not fire on binary data,
 * so only registered methods count when sniffing a new stream.
 */

// Methods from RFC 9110 plus the common WebDAV/extension ones seen on real services.
const KNOWN_METHODS = [
  'GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE',
  'PROPFIND', 'PROPPATCH', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'UNLOCK', 'REPORT', 'SEARCH', 'PURGE', 'QUERY',
] as const;

// Byte form, bucketed by first letter, so matching touches only a few candidates.
const BY_FIRST: Array<Array<{ name: string; bytes: Uint8Array }>> = [];
for (const name of KNOWN_METHODS) {
  const bytes = Uint8Array.from(name, (c) => c.charCodeAt(0));
  (BY_FIRST[bytes[0]] ??= []).push({ name, bytes });
}

const MAX_METHOD_LENGTH = 20;

/**
 * The registered method starting at `start` and followed by a space, or undefined. Returns the
 * shared constant string, so no allocation.
 */
export function knownMethodAt(data: Uint8Array, start: number, end: number): string | undefined {
  const bucket = BY_FIRST[data[start]];
  if (bucket === undefined) return undefined;
  for (const candidate of bucket) {
    const n = candidate.bytes.length;
    if (start + n >= end || data[start + n] !== 0x20) continue;
    let ok = true;
    for (let i = 1; i < n; i++) {
      if (data[start + i] !== candidate.bytes[i]) {
        ok = false;
        break;
      }
    }
    if (ok) return candidate.name;
  }
  return undefined;
}

/** Length of an extension-method token (uppercase letters, '-', '_') before a space; 0 if none. */
export function methodTokenLength(data: Uint8Array, start: number, end: number): number {
  let i = start;
  const limit = Math.min(end, start + MAX_METHOD_LENGTH + 1);
  while (i < limit) {
    const c = data[i];
    if (c === 0x20) return i - start;
    if (!((c >= 0x41 && c <= 0x5a) || c === 0x2d || c === 0x5f)) return 0;
    i++;
  }
  return 0;
}

/** `HTTP/1.x ` at start. */
export function isStatusLineStart(data: Uint8Array, start: number, end: number): boolean {
  return (
    end - start >= 12 &&
    data[start] === 0x48 && // H
    data[start + 1] === 0x54 && // T
    data[start + 2] === 0x54 && // T
    data[start + 3] === 0x50 && // P
    data[start + 4] === 0x2f && // /
    data[start + 5] === 0x31 && // 1
    data[start + 6] === 0x2e && // .
    (data[start + 7] === 0x30 || data[start + 7] === 0x31) &&
    data[start + 8] === 0x20 &&
    isDigit(data[start + 9]) &&
    isDigit(data[start + 10]) &&
    isDigit(data[start + 11])
  );
}

/** A registered method, a space and a plausible request-target start. */
export function isRequestLineStart(data: Uint8Array, start: number, end: number): boolean {
  const method = knownMethodAt(data, start, end);
  if (method === undefined) return false;
  const t = start + method.length + 1;
  if (t >= end) return false;
  const c = data[t];
  // origin-form '/', asterisk-form '*', absolute-form 'http', authority-form for CONNECT.
  return c === 0x2f || c === 0x2a || c === 0x68 || (method === 'CONNECT' && c > 0x20 && c < 0x7f);
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

const STATUS_PREFIX = Uint8Array.from('HTTP/1.', (c) => c.charCodeAt(0));

/**
 * A read too short to decide (a request line or status line cut within its first bytes) whose
 * bytes are consistent with the start of a message.
 */
export function isMessageStartPrefix(isRequest: boolean, data: Uint8Array, start: number, end: number): boolean {
  const n = end - start;
  if (n <= 0) return false;
  if (!isRequest) {
    if (n >= 12) return false;
    for (let i = 0; i < n; i++) {
      const c = data[start + i];
      if (i < 7 ? c !== STATUS_PREFIX[i] : i === 7 ? c !== 0x30 && c !== 0x31 : i === 8 ? c !== 0x20 : !isDigit(c)) return false;
    }
    return true;
  }
  const bucket = BY_FIRST[data[start]];
  if (bucket === undefined) return false;
  for (const candidate of bucket) {
    const m = candidate.bytes;
    if (n > m.length + 1) continue;
    let ok = true;
    for (let i = 1; i < n && ok; i++) ok = i < m.length ? data[start + i] === m[i] : data[start + i] === 0x20;
    if (ok) return true;
  }
  return false;
}
