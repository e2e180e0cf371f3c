/** Names for the ICMP and ICMPv6 messages the kernel side reports (RFC 792, RFC 4443). */

export interface IcmpName {
  name: string;
  /** Echo request or reply: id and sequence are meaningful. */
  echo: boolean;
}

const V4_UNREACHABLE: Record<number, string> = {
  0: 'net-unreachable',
  1: 'host-unreachable',
  2: 'protocol-unreachable',
  3: 'port-unreachable',
  4: 'fragmentation-needed',
  5: 'source-route-failed',
  6: 'net-unknown',
  7: 'host-unknown',
  9: 'net-prohibited',
  10: 'host-prohibited',
  13: 'admin-prohibited',
};

const V6_UNREACHABLE: Record<number, string> = {
  0: 'no-route',
  1: 'admin-prohibited',
  2: 'beyond-scope',
  3: 'address-unreachable',
  4: 'port-unreachable',
  5: 'source-policy-failed',
  6: 'reject-route',
};

const ECHO_REQUEST: IcmpName = { name: 'echo-request', echo: true };
const ECHO_REPLY: IcmpName = { name: 'echo-reply', echo: true };

export function icmpName(v6: boolean, type: number, code: number): IcmpName {
  if (!v6) {
    switch (type) {
      case 0: return ECHO_REPLY;
      case 8: return ECHO_REQUEST;
      case 3: return { name: V4_UNREACHABLE[code] ?? 'destination-unreachable', echo: false };
      case 11: return { name: code === 0 ? 'ttl-exceeded' : 'time-exceeded', echo: false };
      default: return { name: `type-${type}`, echo: false };
    }
  }
  switch (type) {
    case 129: return ECHO_REPLY;
    case 128: return ECHO_REQUEST;
    case 1: return { name: V6_UNREACHABLE[code] ?? 'destination-unreachable', echo: false };
    case 2: return { name: 'packet-too-big', echo: false };
    case 3: return { name: code === 0 ? 'hop-limit-exceeded' : 'time-exceeded', echo: false };
    default: return { name: `type-${type}`, echo: false };
  }
}
