/** DNS type and response-code names, and RDATA in presentation format (as dig prints it). */
import * as bytes from '../bytes';
import * as names from './names';
import * as ipText from '../../../core/ip-text';

// Bound once: tsx compiles each use of an imported binding to a getter call, which shows on hot paths.
const { latin1 } = bytes;
const { nameCursor, readName } = names;
const { formatIpv6 } = ipText;

const TYPE_NAMES: Record<number, string> = {
  1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 10: 'NULL', 12: 'PTR', 13: 'HINFO', 15: 'MX', 16: 'TXT',
  17: 'RP', 18: 'AFSDB', 24: 'SIG', 25: 'KEY', 28: 'AAAA', 29: 'LOC', 33: 'SRV', 35: 'NAPTR',
  36: 'KX', 37: 'CERT', 39: 'DNAME', 41: 'OPT', 42: 'APL', 43: 'DS', 44: 'SSHFP', 45: 'IPSECKEY',
  46: 'RRSIG', 47: 'NSEC', 48: 'DNSKEY', 49: 'DHCID', 50: 'NSEC3', 51: 'NSEC3PARAM', 52: 'TLSA',
  53: 'SMIMEA', 55: 'HIP', 59: 'CDS', 60: 'CDNSKEY', 61: 'OPENPGPKEY', 62: 'CSYNC', 63: 'ZONEMD',
  64: 'SVCB', 65: 'HTTPS', 99: 'SPF', 249: 'TKEY', 250: 'TSIG', 251: 'IXFR', 252: 'AXFR',
  255: 'ANY', 256: 'URI', 257: 'CAA',
};

// Interned so that hot paths never build the same small strings again.
const TYPE_CACHE = new Map<number, string>();

export function typeName(type: number): string {
  const known = TYPE_NAMES[type];
  if (known !== undefined) return known;
  let cached = TYPE_CACHE.get(type);
  if (cached === undefined) {
    cached = `TYPE${type}`; // RFC 3597 generic form
    if (TYPE_CACHE.size < 4096) TYPE_CACHE.set(type, cached);
  }
  return cached;
}

const RCODE_NAMES: Record<number, string> = {
  0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED',
  6: 'YXDOMAIN', 7: 'YXRRSET', 8: 'NXRRSET', 9: 'NOTAUTH', 10: 'NOTZONE', 11: 'DSOTYPENI',
  16: 'BADVERS', 17: 'BADKEY', 18: 'BADTIME', 19: 'BADMODE', 20: 'BADNAME', 21: 'BADALG',
  22: 'BADTRUNC', 23: 'BADCOOKIE',
};

export function rcodeName(rcode: number): string {
  return RCODE_NAMES[rcode] ?? `RCODE${rcode}`;
}

export function ipv4Text(data: Uint8Array, pos: number): string {
  return `${data[pos]}.${data[pos + 1]}.${data[pos + 2]}.${data[pos + 3]}`;
}

/** A <character-string> list, each quoted as dig prints TXT data. */
function characterStrings(data: Uint8Array, pos: number, end: number): string | undefined {
  let out = '';
  while (pos < end) {
    const len = data[pos];
    if (pos + 1 + len > end) return undefined;
    let text = '';
    for (let i = pos + 1; i < pos + 1 + len; i++) {
      const c = data[i];
      if (c === 0x22 || c === 0x5c) text += '\\' + String.fromCharCode(c);
      else if (c >= 0x20 && c < 0x7f) text += String.fromCharCode(c);
      else text += '\\' + String(c).padStart(3, '0');
    }
    out += (out.length > 0 ? ' "' : '"') + text + '"';
    pos += 1 + len;
  }
  return out;
}

function u16(data: Uint8Array, pos: number): number {
  return (data[pos] << 8) | data[pos + 1];
}

function u32(data: Uint8Array, pos: number): number {
  return ((data[pos] << 24) >>> 0) + ((data[pos + 1] << 16) | (data[pos + 2] << 8) | data[pos + 3]);
}

function hex(data: Uint8Array, start: number, end: number): string {
  let out = '';
  for (let i = start; i < end; i++) out += (data[i] < 16 ? '0' : '') + data[i].toString(16);
  return out;
}

/**
 * RDATA of a record in presentation format, or undefined when it does not fit its type.
 * Names inside RDATA may use compression pointing anywhere earlier in the message.
 */
export function rdataText(
  data: Uint8Array,
  msgStart: number,
  type: number,
  pos: number,
  rdlength: number,
): string | undefined {
  const end = pos + rdlength;
  switch (type) {
    case 1: // A
      return rdlength === 4 ? ipv4Text(data, pos) : undefined;
    case 28: // AAAA
      return rdlength === 16 ? formatIpv6(data, pos) : undefined;
    case 2: // NS
    case 5: // CNAME
    case 12: // PTR
    case 39: { // DNAME
      const name = readName(data, msgStart, end, pos);
      return name !== undefined && nameCursor.end === end ? name : undefined;
    }
    case 15: { // MX: preference, exchange
      if (rdlength < 3) return undefined;
      const name = readName(data, msgStart, end, pos + 2);
      return name !== undefined ? `${u16(data, pos)} ${name}` : undefined;
    }
    case 16: // TXT
    case 99: // SPF
      return characterStrings(data, pos, end);
    case 33: { // SRV: priority weight port target
      if (rdlength < 7) return undefined;
      const name = readName(data, msgStart, end, pos + 6);
      return name !== undefined ? `${u16(data, pos)} ${u16(data, pos + 2)} ${u16(data, pos + 4)} ${name}` : undefined;
    }
    case 6: { // SOA: mname rname serial refresh retry expire minimum
      const mname = readName(data, msgStart, end, pos);
      if (mname === undefined) return undefined;
      const rname = readName(data, msgStart, end, nameCursor.end);
      if (rname === undefined || nameCursor.end + 20 !== end) return undefined;
      const p = nameCursor.end;
      return `${mname} ${rname} ${u32(data, p)} ${u32(data, p + 4)} ${u32(data, p + 8)} ${u32(data, p + 12)} ${u32(data, p + 16)}`;
    }
    case 64: // SVCB
    case 65: { // HTTPS: priority and target; the SvcParams are not decoded
      if (rdlength < 3) return undefined;
      const target = readName(data, msgStart, end, pos + 2);
      return target !== undefined ? `${u16(data, pos)} ${target}` : undefined;
    }
    case 257: { // CAA: flags tag "value"
      if (rdlength < 2) return undefined;
      const tagLen = data[pos + 1];
      if (2 + tagLen > rdlength) return undefined;
      return `${data[pos]} ${latin1(data, pos + 2, pos + 2 + tagLen)} "${latin1(data, pos + 2 + tagLen, end)}"`;
    }
    default:
      // RFC 3597 unknown-type form; capped so a huge record cannot bloat the event.
      return `\\# ${rdlength} ${hex(data, pos, Math.min(end, pos + 64))}${rdlength > 64 ? '...' : ''}`;
  }
}
