/**
 * How the observer names itself on the wire. Its exporters (OTLP over HTTP and gRPC) and its
 * Kubernetes client send `User-Agent: network-observer/<version>`, as the OTLP exporter
 * specification asks of exporters; the l7 processor recognises its own requests by it, at
 * whichever end of the connection it sees them and on whichever node.
 */
import { PACKAGE_VERSION } from './package-root';

export const OBSERVER_VERSION: string = PACKAGE_VERSION;

/** The product token of the observer's User-Agent. */
export const OBSERVER_PRODUCT = 'network-observer';

export const OBSERVER_USER_AGENT = `${OBSERVER_PRODUCT}/${OBSERVER_VERSION}`;

const PREFIX = `${OBSERVER_PRODUCT}/`;

/** True for a User-Agent the observer sends (any version: an older or newer observer's too). */
export function isObserverUserAgent(value: string): boolean {
  return value.startsWith(PREFIX);
}
