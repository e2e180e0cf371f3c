/**
 * DNS message parsing (RFC 1035 4.1) for observation: the header, the first question, the
 * answer records, and the EDNS OPT record's extended RCODE. Parsing works in place on the
 * captured bytes and tolerates a message cut short by capture truncation (`truncated`).
 */
import type { DnsAnswer } from '../../../core/events';
import * as names from './names';
import * as records from './records';

// Bound once: tsx compiles each use of an imported binding to a getter call, which shows on hot paths.
const { nameCursor, readName, skipName } = names;
const { rdataText, typeName } = records;

export const DNS_HEADER_BYTES = 12;
/** Answers kept per response; a larger answer section is still walked for framing. */
export const MAX_ANSWERS = 32;
/** Records walked per message, whatever the counts claim. */
const MAX_RECORDS = 4096;

/** Scratch result of `parseDnsMessage`; reused, copy what you keep. */
export class DnsMessage {
  id = 0;
  isResponse = false;
  opcode = 0;
  /** RCODE including the EDNS extension bits. */
  rcode = 0;
  questionName = '';
  questionType = 0;
  answers: DnsAnswer[] = [];
}

export const PARSE_OK = 0;
/** Header or question unusable: not a DNS message we can report. */
export const PARSE_MALFORMED = 1;
/** Header and question fine, but the records section is corrupt (counted, still reported). */
export const PARSE_BAD_RECORDS = 2;
export type ParseResult = typeof PARSE_OK | typeof PARSE_MALFORMED | typeof PARSE_BAD_RECORDS;

function u16(data: Uint8Array, pos: number): number {
  return (data[pos] << 8) | data[pos + 1];
}

/**
 * Cheap plausibility check of a message header + first question at data[start, end): used to
 * detect DNS on any port. Real messages carry exactly one question.
 */
export function looksLikeDns(data: Uint8Array, start: number, end: number): boolean {
  if (end - start < DNS_HEADER_BYTES + 5) return false;
  const flags = u16(data, start + 2);
  const isResponse = (flags & 0x8000) !== 0;
  const opcode = (flags >> 11) & 0xf;
  if (opcode === 3 || opcode > 6) return false;
  if ((flags & 0x0040) !== 0) return false; // the Z bit is always zero
  if (u16(data, start + 4) !== 1) return false;
  const an = u16(data, start + 6);
  const ns = u16(data, start + 8);
  const ar = u16(data, start + 10);
  if (!isResponse) {
    if ((flags & 0x000f) !== 0 || (opcode === 0 && (an !== 0 || ns !== 0)) || ar > 4) return false;
  } else if (an + ns + ar > 2048) {
    return false;
  }
  const afterName = skipName(data, end, start + DNS_HEADER_BYTES);
  if (afterName < 0 || afterName + 4 > end) return false;
  // The first question cannot be compressed: nothing precedes it to point to.
  for (let p = start + DNS_HEADER_BYTES; p < afterName - 1; ) {
    if ((data[p] & 0xc0) !== 0) return false;
    p += 1 + data[p];
  }
  const qtype = u16(data, afterName);
  const qclass = u16(data, afterName + 2) & 0x7fff; // mDNS uses the top bit for unicast-response
  return qtype !== 0 && (qclass === 1 || qclass === 3 || qclass === 4 || qclass === 254 || qclass === 255);
}

/**
 * Parses the message in data[start, end). `wantAnswers` decodes the answer section (responses);
 * `truncated` means bytes after `end` were not captured, so running out of data is not an error.
 */
export function parseDnsMessage(
  data: Uint8Array,
  start: number,
  end: number,
  msg: DnsMessage,
  wantAnswers: boolean,
  truncated: boolean,
): ParseResult {
  if (end - start < DNS_HEADER_BYTES) return PARSE_MALFORMED;
  msg.id = u16(data, start);
  const flags = u16(data, start + 2);
  msg.isResponse = (flags & 0x8000) !== 0;
  msg.opcode = (flags >> 11) & 0xf;
  msg.rcode = flags & 0xf;
  msg.answers = EMPTY_ANSWERS;
  const qd = u16(data, start + 4);
  const an = u16(data, start + 6);
  const ns = u16(data, start + 8);
  const ar = u16(data, start + 10);
  if (qd === 0) {
    // Legal (e.g. some NOTIFY/UPDATE replies) but nothing to report a transaction about.
    msg.questionName = '';
    msg.questionType = 0;
    return msg.isResponse ? PARSE_OK : PARSE_MALFORMED;
  }
  const name = readName(data, start, end, start + DNS_HEADER_BYTES);
  if (name === undefined) return PARSE_MALFORMED;
  let pos = nameCursor.end;
  if (pos + 4 > end) return PARSE_MALFORMED;
  msg.questionName = name;
  msg.questionType = u16(data, pos);
  pos += 4;
  // Further questions (never seen in practice) are skipped.
  for (let i = 1; i < qd; i++) {
    pos = skipName(data, end, pos);
    if (pos < 0 || pos + 4 > end) return truncated ? PARSE_OK : PARSE_BAD_RECORDS;
    pos += 4;
  }
  // A query's records (EDNS options) carry nothing this observer reports.
  if (!msg.isResponse) return PARSE_OK;

  const records = Math.min(an + ns + ar, MAX_RECORDS);
  let answers: DnsAnswer[] | undefined;
  for (let i = 0; i < records; i++) {
    const recordStart = pos;
    const afterName = skipName(data, end, pos);
    if (afterName < 0 || afterName + 10 > end) return truncated ? PARSE_OK : PARSE_BAD_RECORDS;
    const type = u16(data, afterName);
    const ttl = ((data[afterName + 4] << 24) >>> 0) + ((data[afterName + 5] << 16) | (data[afterName + 6] << 8) | data[afterName + 7]);
    const rdlength = u16(data, afterName + 8);
    const rdata = afterName + 10;
    if (rdata + rdlength > end) return truncated ? PARSE_OK : PARSE_BAD_RECORDS;
    if (i < an) {
      if (wantAnswers && (answers === undefined || answers.length < MAX_ANSWERS)) {
        // Answers almost always name the question by a pointer to it: reuse that string.
        const rrName = data[recordStart] === 0xc0 && data[recordStart + 1] === DNS_HEADER_BYTES ? name : readName(data, start, end, recordStart);
        const text = rdataText(data, start, type, rdata, rdlength);
        if (rrName === undefined || text === undefined) return PARSE_BAD_RECORDS;
        answers ??= [];
        answers.push({ name: rrName, type: typeName(type), ttl, data: text });
        msg.answers = answers;
      }
    } else if (i >= an + ns && type === 41) {
      // EDNS OPT (RFC 6891): the TTL field's top byte extends the RCODE by 8 bits.
      msg.rcode |= data[afterName + 4] << 4;
    }
    pos = rdata + rdlength;
  }
  return PARSE_OK;
}

const EMPTY_ANSWERS: DnsAnswer[] = [];
Object.freeze(EMPTY_ANSWERS);
