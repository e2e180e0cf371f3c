/** Builds ring records byte for byte as the kernel lays them out (bpf/net_events.h), for decoder tests. */
import { OFF, STRUCTS } from '../../../receivers/ebpf_network/layout';

export interface RecordSpec {
  type: number;
  size: number;
  tsNs?: number;
  cookie?: number;
  cgroupId?: number;
  pid?: number;
  tid?: number;
  netns?: number;
  comm?: string;
  family?: 4 | 6;
  proto?: number;
  direction?: number;
  laddr?: number[];
  raddr?: number[];
  lport?: number;
  rport?: number;
  /** Extra fields: absolute offset -> [width in bytes, value]. */
  fields?: Array<[number, 1 | 2 | 4 | 8, number]>;
  tail?: Uint8Array;
}

export function buildRecord(spec: RecordSpec): Uint8Array {
  const bytes = new Uint8Array(spec.size + (spec.tail?.length ?? 0));
  const v = new DataView(bytes.buffer);
  const u64 = (at: number, n: number) => {
    v.setUint32(at, n % 2 ** 32, true);
    v.setUint32(at + 4, Math.floor(n / 2 ** 32), true);
  };
  u64(OFF.tsNs, spec.tsNs ?? 1_000_000_000);
  u64(OFF.cookie, spec.cookie ?? 0);
  u64(OFF.cgroupId, spec.cgroupId ?? 0);
  v.setUint32(OFF.pid, spec.pid ?? 0, true);
  v.setUint32(OFF.tid, spec.tid ?? 0, true);
  v.setUint32(OFF.netns, spec.netns ?? 0, true);
  v.setUint16(OFF.type, spec.type, true);
  v.setUint16(OFF.size, bytes.length, true);
  new TextEncoder().encodeInto(spec.comm ?? '', bytes.subarray(OFF.comm, OFF.comm + 15));
  if (spec.size >= STRUCTS.ne_tcp_open.size) {
    bytes.set(spec.laddr ?? [], OFF.laddr);
    bytes.set(spec.raddr ?? [], OFF.raddr);
    v.setUint16(OFF.lport, spec.lport ?? 0, true);
    v.setUint16(OFF.rport, spec.rport ?? 0, true);
    v.setUint8(OFF.family, spec.family ?? 4);
    v.setUint8(OFF.proto, spec.proto ?? 6);
    v.setUint8(OFF.direction, spec.direction ?? 0);
  }
  for (const [at, width, value] of spec.fields ?? []) {
    if (width === 1) v.setUint8(at, value);
    else if (width === 2) v.setUint16(at, value, true);
    else if (width === 4) v.setUint32(at, value, true);
    else u64(at, value);
  }
  if (spec.tail) bytes.set(spec.tail, spec.size);
  return bytes;
}
