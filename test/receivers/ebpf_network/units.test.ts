/** Pieces of the receiver that need no kernel: formatting, flows, config rules, preflight, mock mode. */
import assert from 'node:assert/strict';
import { mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FlowUpdatedEvent, NetworkEvent } from '../../../core/events';
import { CollectingConsumer, createTestHost, createTestSettings } from '../../../core/testing';
import { factory } from '../../../receivers/ebpf_network';
import { FlowTable, type FlowPacket } from '../../../receivers/ebpf_network/flows';
import { icmpName } from '../../../receivers/ebpf_network/icmp-names';
import { formatIpv4, formatIpv6 } from '../../../receivers/ebpf_network/ip-format';
import { encodeKernelConfig } from '../../../receivers/ebpf_network/kernel-config';
import { STRUCTS } from '../../../receivers/ebpf_network/layout';
import {
  explainUnmet, findCgroup2Mount, kernelRequirement, privilegeRequirement,
} from '../../../receivers/ebpf_network/preflight';
import { LIVE_RECORD_SIZE, LiveTcpScan } from '../../../receivers/ebpf_network/live-scan';
import { libc, O_CLOEXEC, O_RDONLY } from '../../../receivers/ebpf_network/native/libc';
import { kernelConfigFrom } from '../../../receivers/ebpf_network/receiver';
import { assertDenseBatches } from './helpers';

describe('ebpf_network address formatting', () => {
  it('formats IPv4 from its in-memory (network order) word', () => {
    assert.equal(formatIpv4(0x0100007f), '127.0.0.1');
    assert.equal(formatIpv4(0xffffffff), '255.255.255.255');
    assert.equal(formatIpv4(0), '0.0.0.0', 'key 0 is a real address, not an empty slot');
  });

  it('returns the right text for addresses that share a cache slot', () => {
    const text = (raw: number) => `${raw & 0xff}.${(raw >>> 8) & 0xff}.${(raw >>> 16) & 0xff}.${raw >>> 24}`;
    let seed = 7;
    const addresses = Array.from({ length: 20_000 }, () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0));
    // Twice over: the second pass reads slots the first pass left behind, most of them overwritten.
    for (let pass = 0; pass < 2; pass++) {
      for (const raw of addresses) assert.equal(formatIpv4(raw), text(raw));
    }
  });

  it('formats IPv6 per RFC 5952', () => {
    const v6 = (hex: string) => Uint8Array.from(hex.match(/../g)!.map((h) => parseInt(h, 16)));
    assert.equal(formatIpv6(v6('00000000000000000000000000000001'), 0), '::1');
    assert.equal(formatIpv6(v6('00000000000000000000000000000000'), 0), '::');
    assert.equal(formatIpv6(v6('20010db8000000000000000000000001'), 0), '2001:db8::1');
    assert.equal(formatIpv6(v6('fe800000000000000000000000000000'), 0), 'fe80::');
    assert.equal(formatIpv6(v6('20010db8000100000001000000000001'), 0), '2001:db8:1:0:1::1');
    assert.equal(formatIpv6(v6('20010db8000000010001000100010001'), 0), '2001:db8:0:1:1:1:1:1', 'a single zero group is not compressed');
    assert.equal(formatIpv6(v6('00000000000000000000ffffc0a80001'), 0), '::ffff:192.168.0.1');
  });

  it('names ICMP messages', () => {
    assert.deepEqual(icmpName(false, 8, 0), { name: 'echo-request', echo: true });
    assert.equal(icmpName(false, 3, 1).name, 'host-unreachable');
    assert.equal(icmpName(true, 1, 4).name, 'port-unreachable');
    assert.equal(icmpName(true, 129, 0).name, 'echo-reply');
    assert.equal(icmpName(false, 11, 0).name, 'ttl-exceeded');
  });
});

describe('ebpf_network flow table', () => {
  const packet = (over: Partial<FlowPacket>): FlowPacket => ({
    transport: 'udp', networkType: 'ipv4', cookie: 1, netnsId: 1, localAddress: '127.0.0.1', localPort: 1000,
    remoteAddress: '127.0.0.1', remotePort: 53, remoteKey: 53, outbound: true, bytes: 10, bootNs: 0, process: undefined, ...over,
  });

  it('is bounded: the oldest flow is reported final when a new one needs room', () => {
    const out: FlowUpdatedEvent[] = [];
    const table = new FlowTable(2, 1e12, (ns) => ns);
    table.add(packet({ cookie: 1 }), (e) => out.push(e));
    table.add(packet({ cookie: 2 }), (e) => out.push(e));
    table.add(packet({ cookie: 3 }), (e) => out.push(e));
    assert.equal(table.size, 2);
    assert.equal(out.length, 1);
    assert.equal(out[0].socketCookie, 1);
    assert.equal(out[0].final, true);
  });

  it('ends idle flows with a final report and flushes everything at shutdown', () => {
    const out: FlowUpdatedEvent[] = [];
    const table = new FlowTable(10, 1000, (ns) => ns);
    table.add(packet({ cookie: 1, bootNs: 0 }), (e) => out.push(e));
    table.add(packet({ cookie: 2, bootNs: 5000 }), (e) => out.push(e));
    table.report(5500, (e) => out.push(e));
    assert.deepEqual(out.map((e) => [e.socketCookie, e.final]), [[1, true], [2, false]]);
    assert.equal(table.size, 1);
    out.length = 0;
    table.flushAll((e) => out.push(e));
    assert.deepEqual(out.map((e) => [e.socketCookie, e.final]), [[2, true]]);
    assert.equal(table.size, 0);
  });

  it('keeps one flow per peer of an unconnected socket and tells socketless packets apart by local port', () => {
    const out: FlowUpdatedEvent[] = [];
    const table = new FlowTable(10, 1e12, (ns) => ns);
    table.add(packet({ remoteKey: 1, remotePort: 1 }), () => undefined);
    table.add(packet({ remoteKey: 2, remotePort: 2 }), () => undefined);
    table.add(packet({ cookie: 0, localPort: 7, remoteKey: 2 }), () => undefined);
    table.add(packet({ cookie: 0, localPort: 8, remoteKey: 2 }), () => undefined);
    table.report(1, (e) => out.push(e));
    assert.equal(out.length, 4);
  });
});

describe('ebpf_network config', () => {
  const defaults = factory.createDefaultConfig();

  it('rejects a ring size that is not a power of two, and a wake-up threshold that does not fit', () => {
    const issues = factory.validate!({ ...defaults, ring_buffer_size: 3 * 1024 * 1024, wakeup_threshold_bytes: 4 * 1024 * 1024 });
    assert.deepEqual(issues.map((i) => i.path[0]), ['ring_buffer_size', 'wakeup_threshold_bytes']);
  });

  it('rejects configs that observe nothing, with every problem at once', () => {
    const issues = factory.validate!({
      ...defaults, enable_ipv4: false, enable_ipv6: false, enable_tcp: false, enable_udp: false, enable_icmp: false,
      enable_l7_capture: false, ports: [80], exclude_ports: [80], flow_idle_timeout: 1000,
    });
    assert.deepEqual(issues.map((i) => i.path[0]), ['enable_ipv4', 'enable_tcp', 'exclude_ports', 'flow_idle_timeout']);
    assert.match(issues[2].message, /80/);
  });

  it('refuses a live scan more often than once a second, and keeps 0 as off', () => {
    const issues = factory.validate!({ ...defaults, tcp_update_interval: 50 });
    assert.deepEqual(issues.map((i) => i.path[0]), ['tcp_update_interval']);
    assert.match(issues[0].message, /at least 1s/);
    assert.deepEqual(factory.validate!({ ...defaults, tcp_update_interval: 0 }), []);
    assert.deepEqual(factory.validate!({ ...defaults, tcp_update_interval: 1000 }), []);
  });

  it('resolves the default wake-up threshold against the ring, and keeps explicit values as given', () => {
    assert.equal(defaults.wakeup_threshold_bytes, 0);
    assert.equal(kernelConfigFrom(defaults, 2).wakeupThresholdBytes, 1024 * 1024);
    // A small ring relying on the default stays valid and is woken at a quarter full.
    const small = { ...defaults, ring_buffer_size: 256 * 1024 };
    assert.deepEqual(factory.validate!(small), []);
    assert.equal(kernelConfigFrom(small, 2).wakeupThresholdBytes, 64 * 1024);
    assert.equal(kernelConfigFrom({ ...defaults, ring_buffer_size: 4096 }, 2).wakeupThresholdBytes, 1024);
    assert.equal(kernelConfigFrom({ ...defaults, wakeup_threshold_bytes: 128 * 1024 }, 2).wakeupThresholdBytes, 128 * 1024);
    const v = new DataView(encodeKernelConfig(kernelConfigFrom(small, 2)).buffer);
    assert.equal(v.getUint32(STRUCTS.ne_config.fields.wakeup_threshold, true), 64 * 1024);
    // An explicit threshold that does not fit is still rejected.
    assert.deepEqual(factory.validate!({ ...small, wakeup_threshold_bytes: 256 * 1024 }).map((i) => i.path[0]), ['wakeup_threshold_bytes']);
  });

  it('passes the options that reach the kernel through the .rodata block', () => {
    const kernel = kernelConfigFrom({ ...defaults, ports: [80, 443], exclude_ports: [22], kernel_max_events_per_second: 1001, kernel_sampling_percentage: 25 }, 2);
    assert.equal(kernel.excludeTgid, process.pid);
    assert.equal(kernel.maxEventsPerSecondPerCpu, 501);
    const bytes = encodeKernelConfig(kernel);
    const v = new DataView(bytes.buffer);
    const f = STRUCTS.ne_config.fields;
    assert.equal(bytes.length, STRUCTS.ne_config.size);
    assert.equal(v.getUint32(f.exclude_tgid, true), process.pid);
    assert.equal(v.getUint32(f.sampling_pct, true), 25);
    assert.equal(v.getUint32(f.max_events_per_sec_per_cpu, true), 501);
    assert.equal(v.getUint8(f.n_ports), 2);
    assert.equal(v.getUint16(f.ports + 2, true), 443);
    assert.equal(v.getUint8(f.n_exclude_ports), 1);
    assert.equal(v.getUint16(f.exclude_ports, true), 22);
    assert.equal(v.getUint8(f.enable_payload), 1);
    assert.equal(v.getUint32(f.wakeup_interval_us, true), defaults.poll_interval * 1000, 'poll_interval paces the kernel wake-ups');
    assert.equal(v.getUint8(f.enable_live_tcp), 1, 'sockets are marked for the live scan');
    // exclude_processes: NUL-padded 16-byte task names, the '*' kept for the kernel's prefix match.
    assert.equal(v.getUint8(f.n_exclude_comm), 3);
    assert.equal(Buffer.from(bytes.subarray(f.exclude_comm, f.exclude_comm + 16)).toString('latin1'), 'otelcol*\0\0\0\0\0\0\0\0');
    assert.equal(Buffer.from(bytes.subarray(f.exclude_comm + 16, f.exclude_comm + 21)).toString('latin1'), 'alloy');
    assert.equal(bytes[f.exclude_comm + 16 + 5], 0);
    assert.equal(kernelConfigFrom({ ...defaults, tcp_update_interval: 0 }, 2).enableLiveTcp, false, 'no scan, no marks');
    assert.equal(kernelConfigFrom({ ...defaults, exclude_self: false }, 2).excludeTgid, 0);
  });
});

describe('ebpf_network preflight', () => {
  it('finds the cgroup2 mount in /proc/mounts text', () => {
    const mounts = 'tmpfs /sys/fs/cgroup tmpfs rw 0 0\ncgroup /sys/fs/cgroup/cpu cgroup rw,cpu 0 0\ncgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n';
    assert.equal(findCgroup2Mount(mounts), '/sys/fs/cgroup/unified');
    assert.equal(findCgroup2Mount('cgroup2 /sys/fs/my\\040cg cgroup2 rw 0 0'), '/sys/fs/my cg');
    assert.equal(findCgroup2Mount('proc /proc proc rw 0 0\n'), undefined);
  });

  it('reads capabilities from CapEff', () => {
    const bit = (n: number) => 1n << BigInt(n);
    assert.equal(privilegeRequirement(bit(39) | bit(38) | bit(12)).ok, true);
    assert.equal(privilegeRequirement(bit(21) | bit(12)).ok, true, 'CAP_SYS_ADMIN covers BPF and PERFMON');
    const none = privilegeRequirement(0n);
    assert.equal(none.ok, false);
    assert.match(none.detail, /CAP_BPF, CAP_PERFMON, CAP_NET_ADMIN/);
  });

  it('checks the kernel version', () => {
    assert.equal(kernelRequirement('6.18.44-fc').ok, true);
    assert.equal(kernelRequirement('5.12.0').ok, true);
    assert.equal(kernelRequirement('5.4.0-150-generic').ok, false);
  });

  it('explains what is missing in one paragraph with the fixes and mock mode', () => {
    const text = explainUnmet([privilegeRequirement(0n)]);
    assert.ok(!text.includes('\n'), 'one paragraph');
    assert.match(text, /CAP_BPF/);
    assert.match(text, /setcap/);
    assert.match(text, /TAPIO_MOCK_MODE=true/);
  });
});

describe('ebpf_network mock mode', () => {
  it('emits synthetic events without touching eBPF when TAPIO_MOCK_MODE=true', async () => {
    const saved = process.env.TAPIO_MOCK_MODE;
    process.env.TAPIO_MOCK_MODE = 'true';
    try {
      const consumer = new CollectingConsumer();
      const settings = createTestSettings('receiver', 'ebpf_network');
      const receiver = await factory.createReceiver(settings, { ...factory.createDefaultConfig(), enable_core: false, flush_interval: 20, mock_events_per_second: 2000 }, consumer);
      await receiver.start(createTestHost());
      const events: NetworkEvent[] = await consumer.waitFor((e) => e.length >= 50, 5000, 'mock events');
      await receiver.shutdown();
      assert.ok(events.some((e) => e.kind === 'connection.opened'));
      assert.ok(settings.telemetry.get('emitted') >= 50);
      assertDenseBatches(consumer.batches, 1000);
    } finally {
      if (saved === undefined) delete process.env.TAPIO_MOCK_MODE;
      else process.env.TAPIO_MOCK_MODE = saved;
    }
  });
});

describe('ebpf_network live scan reading', () => {
  it('hands out whole records in order across namespaces when reads end inside one, and closes each fd at its end', () => {
    const count = 50;
    const all = new Uint8Array(count * LIVE_RECORD_SIZE);
    for (let i = 0; i < all.length; i++) all[i] = (i * 7 + (i >> 8)) & 0xff;
    const dir = mkdtempSync(join(tmpdir(), 'netobs-scan-'));
    try {
      // One file per namespace's walk: 30 records, none, then 20.
      const parts = [all.subarray(0, 30 * LIVE_RECORD_SIZE), new Uint8Array(0), all.subarray(30 * LIVE_RECORD_SIZE)];
      const paths = parts.map((part, i) => {
        const path = join(dir, `records-${i}`);
        writeFileSync(path, part);
        return path;
      });
      const fds = paths.map((path) => libc().open(path, O_RDONLY | O_CLOEXEC));
      assert.ok(fds.every((fd) => fd >= 0));
      // 1,000-byte reads: not a multiple of the 144-byte record, so most reads cut one.
      const scan = new LiveTcpScan(fds, 1000);
      const chunks: Uint8Array[] = [];
      for (let chunk = scan.next(); chunk !== null; chunk = scan.next()) {
        assert.equal(chunk.byteLength % LIVE_RECORD_SIZE, 0, 'whole records only');
        chunks.push(chunk.slice());
      }
      assert.ok(chunks.length > 5, `spread over several reads, got ${chunks.length}`);
      assert.deepEqual(Buffer.concat(chunks), Buffer.from(all));
      assert.equal(scan.next(), null);
      // A number may be reused at once (by the lookup itself): closed means it no longer names our file.
      fds.forEach((fd, i) => {
        const target = (() => { try { return readlinkSync(`/proc/self/fd/${fd}`); } catch { return ''; } })();
        assert.notEqual(target, paths[i], `fd ${i} is closed once the pass is over`);
      });
      scan.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
