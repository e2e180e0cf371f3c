/**
 * l7 DNS benchmark: messages per second parsed and correlated on one core.
 *
 *   npx tsx bench/l7-dns.bench.ts [--seconds 3]
 *
 * Workload: a resolver's view: one UDP server socket (as dnsmasq or CoreDNS has) receiving
 * queries from 256 client ports and answering each; 1,024 distinct names, A (one answer) and
 * AAAA (one answer) with EDNS OPT records, one in eight a CNAME chain (CNAME + A, compressed
 * names), one in sixteen NXDOMAIN. Payload events are built before timing and go through
 * L7Engine.process() (session lookup, header and question parsing, answer decoding,
 * correlation by peer and id, event creation) in batches of 512. The target in issue 5 is
 * 1,000,000 messages/s.
 */
import type { NetworkEvent, PayloadEvent, ProcessInfo } from '../core/events';
import { benchEngine, measurePasses, report } from './l7-harness';

const EXCHANGES = 200_000;
const CLIENT_PORTS = 256;
const NAMES = 1024;
const BATCH = 512;
const TARGET = 1_000_000;

const args = process.argv.slice(2);
const seconds = Number(args[args.indexOf('--seconds') + 1] ?? 3) || 3;
const PROCESS: ProcessInfo = { pid: 53, tid: 53, comm: 'coredns', cgroupId: 1 };

function name(i: number): number[] {
  const out: number[] = [];
  for (const label of [`svc${i}`, 'payments', 'svc', 'cluster', 'local']) out.push(label.length, ...Array.from(label, (c) => c.charCodeAt(0)));
  out.push(0);
  return out;
}

const u16 = (v: number): number[] => [(v >> 8) & 0xff, v & 0xff];
const OPT = [0, ...u16(41), ...u16(1232), 0, 0, 0, 0, ...u16(0)];

function query(id: number, i: number, type: number): Uint8Array {
  return Uint8Array.from([...u16(id), 0x01, 0x20, ...u16(1), 0, 0, 0, 0, ...u16(1), ...name(i), ...u16(type), ...u16(1), ...OPT]);
}

function response(id: number, i: number, type: number): Uint8Array {
  const q = name(i);
  const header = (an: number, rcode: number): number[] => [...u16(id), 0x81, 0x80 | rcode, ...u16(1), ...u16(an), 0, 0, ...u16(1)];
  const question = [...q, ...u16(type), ...u16(1)];
  const ptr = [0xc0, 12];
  if (i % 16 === 15) return Uint8Array.from([...header(0, 3), ...question, ...OPT]);
  if (i % 8 === 7) {
    // CNAME to "lb" + the rest of the name (compressed), then an A for it.
    const cname = [2, 0x6c, 0x62, 0xc0, 12 + 1 + q[0]];
    const cnameOffset = 12 + question.length + 2 + 10;
    return Uint8Array.from([
      ...header(2, 0), ...question,
      ...ptr, ...u16(5), ...u16(1), 0, 0, 0, 30, ...u16(cname.length), ...cname,
      0xc0, cnameOffset, ...u16(1), ...u16(1), 0, 0, 0, 30, ...u16(4), 10, 96, i >> 8, i & 0xff,
      ...OPT,
    ]);
  }
  const rdata = type === 28 ? [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, i >> 8, i & 0xff] : [10, 96, i >> 8, i & 0xff];
  return Uint8Array.from([...header(1, 0), ...question, ...ptr, ...u16(type), ...u16(1), 0, 0, 0, 30, ...u16(rdata.length), ...rdata, ...OPT]);
}

function datagram(clientPort: number, dir: 'send' | 'recv', data: Uint8Array, timeUs: number): PayloadEvent {
  return {
    kind: 'payload', timeUs, process: PROCESS, transport: 'udp', networkType: 'ipv4',
    localAddress: '10.96.0.10', localPort: 53, remoteAddress: '10.1.0.12', remotePort: 40000 + clientPort,
    direction: 'inbound', socketCookie: 777, netnsId: 4026531840,
    dataDirection: dir, fd: 9, data, originalLength: data.length, truncated: false,
  };
}

function workload(): NetworkEvent[][] {
  const templates = new Map<string, Uint8Array>();
  const cached = (key: string, make: () => Uint8Array): Uint8Array => {
    let v = templates.get(key);
    if (!v) templates.set(key, (v = make()));
    return v;
  };
  const batches: NetworkEvent[][] = [];
  let batch: NetworkEvent[] = [];
  let t = 1_700_000_000_000_000;
  for (let x = 0; x < EXCHANGES; x++) {
    const i = x % NAMES;
    const type = x % 2 === 0 ? 1 : 28;
    const id = x & 0xffff;
    const port = x % CLIENT_PORTS;
    // ids repeat every 65,536 exchanges but each exchange completes first, as real ones do.
    batch.push(datagram(port, 'recv', cached(`q${id}/${i}/${type}`, () => query(id, i, type)), (t += 2)));
    batch.push(datagram(port, 'send', cached(`r${id}/${i}/${type}`, () => response(id, i, type)), t + 150));
    if (batch.length >= BATCH) {
      batches.push(batch);
      batch = [];
    }
  }
  if (batch.length > 0) batches.push(batch);
  return batches;
}

function main(): void {
  const batches = workload();
  const engine = benchEngine(5_000);
  let messages = 0;
  const runPass = (): void => {
    messages = 0;
    for (const b of batches) {
      engine.process(b);
      messages += b.length;
    }
  };
  runPass();
  if (engine.counters.transactions_dns !== EXCHANGES || engine.counters.malformed_dns !== 0) {
    throw new Error(`workload check failed: ${engine.counters.transactions_dns} transactions, ${engine.counters.malformed_dns} malformed`);
  }
  const passes = measurePasses(seconds, runPass, () => messages);
  report('l7 dns', 'messages', passes, TARGET);
  console.log(`  (${(EXCHANGES * 2).toLocaleString('en-US')} messages = ${EXCHANGES.toLocaleString('en-US')} query/response pairs per pass, correlated into l7.dns events)`);
}

main();
