/**
 * The contract between the l7 processor and its protocol modules (HTTP/1.x, HTTP/2 + gRPC,
 * DNS, TLS). The processor owns detection order, the per-connection session table and
 * memory limits; a module owns the bytes of one protocol on one connection.
 */
import type { H1ResponseSummary, L7Event, PayloadEvent } from '../../core/events';

export interface L7Options {
  /** Keep URL query strings (off by default: they often carry secrets). */
  captureQuery: boolean;
  /** An exchange without its answer after this long is emitted with errorType 'timeout'. */
  transactionTimeoutMs: number;
  /** Cap on the bytes a session buffers per direction while waiting for a complete unit. */
  maxBufferBytes: number;
}

export type Emit = (event: L7Event) => void;

/** Per-connection parser state for one protocol. Never throws; bounded memory. */
export interface ProtocolSession {
  /** Feed one captured chunk; emit completed transactions. Returns false if the stream turned out not to be this protocol (session is dropped). */
  onPayload(event: PayloadEvent, emit: Emit): boolean;
  /**
   * A whole HTTP/1 exchange the kernel framed and summarised: `event` is its request (whole),
   * `response` what the kernel saw of the answer (event.h1Response). The transaction it emits
   * is marked `measuredOnly`. Only HTTP/1 sessions have it; other sessions are not given
   * summaries. Returns false as onPayload does.
   */
  onH1Summary?(event: PayloadEvent, response: H1ResponseSummary, emit: Emit): boolean;
  /** Emit incomplete transactions older than nowUs - timeout (with errorType 'timeout'). */
  expire(nowUs: number, emit: Emit): void;
  /** The connection ended: flush/emit pending transactions (errorType where incomplete). */
  close(nowUs: number, emit: Emit): void;
  /** Count of malformed inputs seen (for telemetry). */
  readonly malformed: number;
}

export interface ProtocolModule {
  readonly name: 'http1' | 'http2' | 'dns' | 'tls';
  /** Cheap content sniff of the first chunk of a stream/datagram (either direction). */
  detect(data: Uint8Array, event: PayloadEvent): boolean;
  /**
   * Counters of this module beyond `detected_<name>` and `malformed_<name>` (e.g. `hpack_desync`):
   * the processor creates them at 0 and reports them with its own.
   */
  readonly counterNames?: readonly string[];
  /** `counters` is the processor's counter record; a session only adds to its module's `counterNames`. */
  createSession(options: L7Options, counters?: Record<string, number>): ProtocolSession;
}
