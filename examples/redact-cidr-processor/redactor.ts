/**
 * Address matching for redact_cidr. Matching uses Node's net.BlockList (a maintained subnet
 * matcher that also understands IPv4-mapped IPv6), one list per range so the matched range can
 * be reported. Verdicts are cached in a bounded map because the same few addresses repeat on
 * every event of a connection.
 */
import { BlockList, isIP } from 'node:net';

export interface ParsedCidr {
  /** As written in the config, trimmed: what action `network` puts in place of the address. */
  label: string;
  family: 'ipv4' | 'ipv6';
  address: string;
  prefix: number;
}

/** Parses `a.b.c.d/n` or `x:y::/n`; returns a message saying what is wrong otherwise. */
export function parseCidr(text: string): ParsedCidr | string {
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  if (slash < 0) return `"${text}" has no prefix length; write it as a range such as 10.0.0.0/8 (or 10.0.0.1/32 for one address)`;
  const address = trimmed.slice(0, slash);
  const prefixText = trimmed.slice(slash + 1);
  const version = isIP(address);
  if (version === 0) return `"${address}" in "${text}" is not an IPv4 or IPv6 address`;
  const max = version === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > max) {
    return `prefix length "${prefixText}" in "${text}" must be a whole number from 0 to ${max}`;
  }
  return { label: trimmed, family: version === 4 ? 'ipv4' : 'ipv6', address, prefix: Number(prefixText) };
}

export type RedactAction = 'network' | 'replace';

export class AddressRedactor {
  private readonly ranges: Array<{ label: string; list: BlockList }>;
  private readonly cache = new Map<string, string | null>();

  constructor(
    cidrs: readonly ParsedCidr[],
    private readonly action: RedactAction,
    private readonly replacement: string,
    private readonly cacheSize: number,
  ) {
    this.ranges = cidrs.map((cidr) => {
      const list = new BlockList();
      list.addSubnet(cidr.address, cidr.prefix, cidr.family);
      return { label: cidr.label, list };
    });
  }

  /** What to write instead of `address`, or null to keep it (also for non-addresses). */
  redact(address: string): string | null {
    const cached = this.cache.get(address);
    if (cached !== undefined) return cached;
    const verdict = this.decide(address);
    if (this.cacheSize > 0) {
      if (this.cache.size >= this.cacheSize) this.cache.clear();
      this.cache.set(address, verdict);
    }
    return verdict;
  }

  private decide(address: string): string | null {
    const version = isIP(address);
    if (version === 0) return null;
    const family = version === 4 ? 'ipv4' : 'ipv6';
    for (const range of this.ranges) {
      if (range.list.check(address, family)) return this.action === 'network' ? range.label : this.replacement;
    }
    return null;
  }
}
