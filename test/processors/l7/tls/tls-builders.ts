/** Builders of TLS records and hellos for the tests the recordings do not cover. */

const u16 = (v: number): number[] => [(v >> 8) & 0xff, v & 0xff];
const u24 = (v: number): number[] => [(v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];

export function record(contentType: number, body: Uint8Array | number[], version = 0x0303): Uint8Array {
  const b = body instanceof Uint8Array ? [...body] : body;
  return Uint8Array.from([contentType, ...u16(version), ...u16(b.length), ...b]);
}

export function handshake(type: number, body: number[]): number[] {
  return [type, ...u24(body.length), ...body];
}

export function extension(type: number, data: number[]): number[] {
  return [...u16(type), ...u16(data.length), ...data];
}

export const sni = (name: string): number[] => {
  const n = [...Buffer.from(name)];
  return extension(0, [...u16(n.length + 3), 0, ...u16(n.length), ...n]);
};

export const alpn = (...protocols: (string | number[])[]): number[] => {
  const list = protocols.flatMap((p) => {
    const bytes = typeof p === 'string' ? [...Buffer.from(p)] : p;
    return [bytes.length, ...bytes];
  });
  return extension(16, [...u16(list.length), ...list]);
};

export const supportedVersions = (...versions: number[]): number[] => extension(43, [versions.length * 2, ...versions.flatMap(u16)]);

export const signatureAlgorithms = (...algs: number[]): number[] => extension(13, [...u16(algs.length * 2), ...algs.flatMap(u16)]);

export function clientHelloBody(options: { version?: number; ciphers: number[]; extensions: number[][]; sessionId?: number }): number[] {
  const ext = options.extensions.flat();
  const sid = new Array<number>(options.sessionId ?? 32).fill(7);
  return [
    ...u16(options.version ?? 0x0303),
    ...new Array<number>(32).fill(1),
    sid.length,
    ...sid,
    ...u16(options.ciphers.length * 2),
    ...options.ciphers.flatMap(u16),
    1,
    0,
    ...(options.extensions.length > 0 ? [...u16(ext.length), ...ext] : []),
  ];
}

export const HRR_RANDOM = [...Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex')];

export function serverHelloBody(options: { version?: number; cipher: number; extensions: number[][]; random?: number[] }): number[] {
  const ext = options.extensions.flat();
  return [
    ...u16(options.version ?? 0x0303),
    ...(options.random ?? new Array<number>(32).fill(2)),
    32,
    ...new Array<number>(32).fill(7),
    ...u16(options.cipher),
    0,
    ...(options.extensions.length > 0 ? [...u16(ext.length), ...ext] : []),
  ];
}

/** ServerHello supported_versions carries one version, without a list length. */
export const selectedVersion = (v: number): number[] => extension(43, u16(v));
