/* Generated from config.schema.json by `npx json2ts -i config.schema.json -o config.generated.ts`. Do not edit. */

/**
 * Redacts IP addresses that fall inside configured CIDR ranges, in event addresses and DNS answers.
 */
export interface RedactCidr {
  /**
   * Ranges to redact, e.g. 10.0.0.0/8 or fd00::/8. IPv4 ranges also match IPv4-mapped IPv6 addresses (::ffff:10.1.2.3). The first matching range is the one reported by action: network.
   *
   * @minItems 1
   */
  cidrs?: [string, ...string[]];
  /**
   * network: replace a matching address with the range it matched (10.1.2.3 -> 10.0.0.0/8). replace: replace it with the replacement text.
   */
  action?: 'network' | 'replace';
  /**
   * Text that replaces a matching address when action is replace.
   */
  replacement?: string;
  /**
   * Where to look: the events' local and remote addresses, and the data of A/AAAA answers in l7.dns events.
   *
   * @minItems 1
   */
  fields?: [
    'local_address' | 'remote_address' | 'dns_answers',
    ...('local_address' | 'remote_address' | 'dns_answers')[]
  ];
  /**
   * Addresses whose verdict is remembered (the cache is cleared when full, so memory stays bounded). 0 disables the cache.
   */
  cache_size?: number;
}
