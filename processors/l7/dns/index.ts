/** DNS over UDP and TCP as an l7 protocol module. */
import type { PayloadEvent } from '../../../core/events';
import type { L7Options, ProtocolModule, ProtocolSession } from '../protocol';
import { looksLikeDns } from './message';
import { DnsSession, looksLikeTcpDns } from './session';

export const dnsProtocol: ProtocolModule = {
  name: 'dns',
  detect(data: Uint8Array, event: PayloadEvent): boolean {
    if (event.transport === 'udp') return looksLikeDns(data, 0, data.length);
    if (event.transport === 'tcp') return looksLikeTcpDns(data, 0, data.length);
    return false;
  },
  createSession(options: L7Options): ProtocolSession {
    return new DnsSession(options);
  },
};

export { DnsSession } from './session';
