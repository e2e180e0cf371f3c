/** A small DNS message writer for tests (names uncompressed unless a pointer is given). */

export interface RecordSpec {
  name: string | { pointer: number };
  type: number;
  ttl?: number;
  cls?: number;
  rdata: number[];
}

export interface MessageSpec {
  id: number;
  response?: boolean;
  rcode?: number;
  opcode?: number;
  questions?: Array<{ name: string; type: number; cls?: number }>;
  answers?: RecordSpec[];
  authority?: RecordSpec[];
  additional?: RecordSpec[];
}

export function nameBytes(name: string): number[] {
  const out: number[] = [];
  if (name !== '.' && name !== '') {
    for (const label of name.split('.')) {
      out.push(label.length, ...Array.from(label, (c) => c.charCodeAt(0)));
    }
  }
  out.push(0);
  return out;
}

const u16 = (v: number): number[] => [(v >> 8) & 0xff, v & 0xff];
const u32 = (v: number): number[] => [(v >>> 24) & 0xff, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];

function record(r: RecordSpec): number[] {
  const name = typeof r.name === 'string' ? nameBytes(r.name) : [0xc0 | (r.name.pointer >> 8), r.name.pointer & 0xff];
  return [...name, ...u16(r.type), ...u16(r.cls ?? 1), ...u32(r.ttl ?? 300), ...u16(r.rdata.length), ...r.rdata];
}

export function dnsMessage(spec: MessageSpec): Uint8Array {
  const questions = spec.questions ?? [];
  const answers = spec.answers ?? [];
  const authority = spec.authority ?? [];
  const additional = spec.additional ?? [];
  const flags = (spec.response ? 0x8000 : 0) | ((spec.opcode ?? 0) << 11) | 0x0100 | (spec.response ? 0x0080 : 0) | ((spec.rcode ?? 0) & 0xf);
  const bytes = [
    ...u16(spec.id), ...u16(flags),
    ...u16(questions.length), ...u16(answers.length), ...u16(authority.length), ...u16(additional.length),
  ];
  for (const q of questions) bytes.push(...nameBytes(q.name), ...u16(q.type), ...u16(q.cls ?? 1));
  for (const r of [...answers, ...authority, ...additional]) bytes.push(...record(r));
  return Uint8Array.from(bytes);
}

export function withLengthPrefix(msg: Uint8Array): Uint8Array {
  const out = new Uint8Array(msg.length + 2);
  out[0] = msg.length >> 8;
  out[1] = msg.length & 0xff;
  out.set(msg, 2);
  return out;
}

export const A = 1;
export const AAAA = 28;
export const CNAME = 5;
export const TXT = 16;
export const OPT = 41;
/** Offset of the first question's name in a message: right after the header. */
export const QNAME_OFFSET = 12;
