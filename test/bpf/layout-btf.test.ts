/**
 * The TypeScript decoder reads records at the offsets in receivers/ebpf_network/layout.ts,
 * generated from the BTF of the committed bpf/net.bpf.o. This test regenerates them and checks
 * every one (and every struct size) against the BTF, so a change to bpf/net_events.h that is not
 * carried over fails here.
 * When bpftool is installed, the BTF reader itself is cross-checked against it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Btf, BtfKind } from '../../receivers/ebpf_network/btf';
import { DEFAULT_OBJECT_PATH, PROGRAMS } from '../../receivers/ebpf_network/bpf-object';
import { STRUCTS } from '../../receivers/ebpf_network/layout';
import { generateLayout, LAYOUT_FILE } from '../../scripts/bpf-layout';

const BPF_DIR = join(__dirname, '..', '..', 'bpf');

function bpftool(): string | undefined {
  for (const p of ['/usr/sbin/bpftool', '/usr/bin/bpftool', '/sbin/bpftool']) if (existsSync(p)) return p;
  return undefined;
}

describe('bpf/net.bpf.o layout vs the TypeScript decoder', () => {
  const btf = Btf.fromObjectFile(DEFAULT_OBJECT_PATH);

  for (const [name, layout] of Object.entries(STRUCTS)) {
    it(`struct ${name}: size and every field offset match the compiled BTF`, () => {
      const t = btf.struct(name);
      assert.equal(t.sizeOrType, layout.size, `sizeof(struct ${name})`);
      const members = new Map(t.members!.map((m) => [m.name, m]));
      for (const [field, offset] of Object.entries(layout.fields)) {
        const m = members.get(field);
        assert.ok(m, `struct ${name} has no field ${field}`);
        assert.equal(m.bitSize, 0, `${name}.${field} is a bitfield`);
        assert.equal(m.bitOffset / 8, offset, `offsetof(struct ${name}, ${field})`);
      }
    });
  }

  it('layout.generated.ts is what the committed object says (run `npm run gen:layout` after `make -C bpf`)', () => {
    assert.equal(readFileSync(LAYOUT_FILE, 'utf8'), generateLayout(DEFAULT_OBJECT_PATH));
  });

  it('the decoder knows every field of every record it reads (no field added in C only)', () => {
    for (const name of ['ne_header', 'ne_tuple', 'ne_tcp_close', 'ne_tcp_fail', 'ne_udp_pkt', 'ne_icmp', 'ne_payload', 'ne_h1_response', 'ne_h1_count', 'ne_config', 'ne_stats']) {
      const known = STRUCTS[name as keyof typeof STRUCTS].fields as Record<string, number>;
      for (const m of btf.struct(name).members!) {
        if (m.name.startsWith('_')) continue; // explicit padding
        assert.ok(m.name in known, `struct ${name}.${m.name} is not in layout.ts`);
      }
    }
  });

  it('the load-time config block sits in .rodata as one variable of the expected size', () => {
    const cfg = btf.variable('.rodata', 'cfg');
    assert.ok(cfg, 'cfg in .rodata');
    assert.equal(cfg.size, STRUCTS.ne_config.size);
  });

  it('every program the loader knows is in the object', () => {
    const funcs = new Set(btf.types.filter((t) => t.kind === BtfKind.FUNC).map((t) => t.name));
    for (const p of PROGRAMS) assert.ok(funcs.has(p.name), `program ${p.name}`);
  });

  it('the committed object is not older than its sources', () => {
    const built = statSync(DEFAULT_OBJECT_PATH).mtimeMs;
    // git checkouts give all files the same mtime, so only a clearly newer source counts.
    for (const src of ['net.bpf.c', 'net_events.h']) {
      assert.ok(statSync(join(BPF_DIR, src)).mtimeMs <= built + 2000, `${src} is newer than net.bpf.o: run npm run build:bpf`);
    }
  });

  it('agrees with bpftool about struct layouts', function () {
    const tool = bpftool();
    // A cross-check of the BTF reader above, not of the layout itself: without bpftool (Debian
    // package bpftool, also needed by npm run build:bpf) the checks above still run.
    if (!tool) this.skip();
    const dump = JSON.parse(execFileSync(tool, ['btf', 'dump', 'file', DEFAULT_OBJECT_PATH, 'format', 'raw', '-j'], { maxBuffer: 64 << 20 }).toString()) as {
      types: Array<{ kind: string; name: string; size?: number; members?: Array<{ name: string; bits_offset: number }> }>;
    };
    for (const name of Object.keys(STRUCTS)) {
      const fromTool = dump.types.find((t) => t.kind === 'STRUCT' && t.name === name);
      assert.ok(fromTool, `bpftool sees struct ${name}`);
      const mine = btf.struct(name);
      assert.equal(mine.sizeOrType, fromTool.size);
      assert.deepEqual(
        mine.members!.map((m) => [m.name, m.bitOffset]),
        fromTool.members!.map((m) => [m.name, m.bits_offset]),
      );
    }
  });
});
