/** HTTP/1.x as an l7 protocol module. */
import type { PayloadEvent } from '../../../core/events';
import type { L7Options, ProtocolModule, ProtocolSession } from '../protocol';
import { isRequestLineStart, isStatusLineStart } from './methods';
import { Http1Session } from './session';

export const http1Protocol: ProtocolModule = {
  name: 'http1',
  detect(data: Uint8Array, event: PayloadEvent): boolean {
    if (event.transport !== 'tcp') return false;
    return isRequestLineStart(data, 0, data.length) || isStatusLineStart(data, 0, data.length);
  },
  createSession(options: L7Options): ProtocolSession {
    return new Http1Session(options);
  },
};

export { Http1Session } from './session';
