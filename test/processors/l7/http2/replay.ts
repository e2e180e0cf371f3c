/**
 * Replays the recorded fixtures (test/fixtures/l7/{http2,tls}, written by
 * scripts/record-l7-fixtures-h2-tls.ts) into a protocol session as the payload events the
 * eBPF receiver would produce on the client's or on the server's socket. Shared by the http2
 * and tls tests.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { L7Event, PayloadEvent, ProcessInfo } from '../../../../core/events';
import type { L7Options, ProtocolModule, ProtocolSession } from '../../../../processors/l7/protocol';

export interface FixtureChunk {
  dir: 'c2s' | 's2c';
  tUs: number;
  data: string;
}

export interface Fixture {
  scenario: string;
  description: string;
  recordedWith: string;
  connections: { chunks: FixtureChunk[] }[];
}

export type Perspective = 'client' | 'server';

export const BASE_US = 1_750_000_000_000_000;

const FIXTURES = join(__dirname, '../../../fixtures/l7');

export function loadFixture(kind: 'http2' | 'tls', scenario: string): Fixture {
  return JSON.parse(readFileSync(join(FIXTURES, kind, `${scenario}.json`), 'utf8')) as Fixture;
}

export const DEFAULT_OPTIONS: L7Options = { captureQuery: false, transactionTimeoutMs: 30_000, maxBufferBytes: 64 * 1024 };

const CLIENT_PROCESS: ProcessInfo = { pid: 1001, tid: 1001, comm: 'client', cgroupId: 0 };
const SERVER_PROCESS: ProcessInfo = { pid: 2002, tid: 2002, comm: 'server', cgroupId: 0 };

export interface RawChunk {
  dir: 'c2s' | 's2c';
  tUs: number;
  data: Uint8Array;
}

export function rawChunks(fixture: Fixture, connection = 0): RawChunk[] {
  return fixture.connections[connection].chunks.map((c) => ({ dir: c.dir, tUs: c.tUs, data: new Uint8Array(Buffer.from(c.data, 'base64')) }));
}

/** The payload event for `chunk` as seen on the `perspective` side's socket. */
export function payloadEvent(chunk: RawChunk, perspective: Perspective, capture?: number): PayloadEvent {
  const isClient = perspective === 'client';
  const send = (chunk.dir === 'c2s') === isClient;
  const data = capture !== undefined && chunk.data.length > capture ? chunk.data.slice(0, capture) : chunk.data;
  return {
    kind: 'payload',
    timeUs: BASE_US + chunk.tUs,
    process: isClient ? CLIENT_PROCESS : SERVER_PROCESS,
    transport: 'tcp',
    networkType: 'ipv4',
    localAddress: '127.0.0.1',
    localPort: isClient ? 40000 : 50051,
    remoteAddress: '127.0.0.1',
    remotePort: isClient ? 50051 : 40000,
    direction: isClient ? 'outbound' : 'inbound',
    socketCookie: isClient ? 11 : 22,
    netnsId: 0,
    dataDirection: send ? 'send' : 'recv',
    fd: 7,
    data,
    originalLength: chunk.data.length,
    truncated: data.length < chunk.data.length,
  };
}

export interface ReplayResult {
  events: L7Event[];
  session: ProtocolSession;
  /** Index of the payload at which onPayload returned false, -1 if never. */
  rejectedAt: number;
}

/** Feeds `payloads` to a new session of `module`, then closes it at the last time + 1 s. */
export function replay(module: ProtocolModule, payloads: PayloadEvent[], options: L7Options = DEFAULT_OPTIONS, closeAtEnd = true): ReplayResult {
  const session = module.createSession(options);
  const events: L7Event[] = [];
  const emit = (e: L7Event): void => {
    events.push(e);
  };
  let rejectedAt = -1;
  for (let i = 0; i < payloads.length; i++) {
    if (!session.onPayload(payloads[i], emit)) {
      rejectedAt = i;
      break;
    }
  }
  if (closeAtEnd && rejectedAt < 0) {
    const last = payloads.length > 0 ? payloads[payloads.length - 1].timeUs : BASE_US;
    session.close(last + 1_000_000, emit);
  }
  return { events, session, rejectedAt };
}

/** Re-cuts one direction-ordered chunk list into pieces at the given byte boundaries. */
export function resplit(chunks: RawChunk[], pieces: (data: Uint8Array) => Uint8Array[]): RawChunk[] {
  const out: RawChunk[] = [];
  for (const c of chunks) for (const p of pieces(c.data)) out.push({ dir: c.dir, tUs: c.tUs, data: p });
  return out;
}

/** Joins consecutive chunks of the same direction (a reader that got several writes at once). */
export function coalesce(chunks: RawChunk[]): RawChunk[] {
  const out: RawChunk[] = [];
  for (const c of chunks) {
    const last = out[out.length - 1];
    if (last && last.dir === c.dir) {
      const joined = new Uint8Array(last.data.length + c.data.length);
      joined.set(last.data);
      joined.set(c.data, last.data.length);
      out[out.length - 1] = { dir: c.dir, tUs: c.tUs, data: joined };
    } else {
      out.push(c);
    }
  }
  return out;
}
