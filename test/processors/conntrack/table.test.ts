import assert from 'node:assert/strict';
import type { NetworkEvent } from '../../../core/events';
import { ComponentTelemetry } from '../../../core/telemetry';
import { trackerOptions } from '../../../processors/conntrack';
import { StringPool } from '../../../processors/conntrack/string-pool';
import { ConnTable, LIST_CLOSED, LIST_TCP, LIST_UDP, NIL, TRANSPORT_TCP, TRANSPORT_UDP } from '../../../processors/conntrack/table';
import { ConnTracker } from '../../../processors/conntrack/tracker';
import { closed, config, failed, flow, icmp, opened, updated } from './helpers';
import { mulberry32 as prng } from '../../../core/prng';

describe('conntrack table', () => {
  it('finds what it inserted by the full key and nothing else', () => {
    const t = new ConnTable(100, 16);
    const a = t.insert(1, 2, 3, 0x1f900050, TRANSPORT_TCP, LIST_TCP, 0);
    const b = t.insert(1, 2, 3, 0x1f900050, TRANSPORT_UDP, LIST_UDP, 0);
    assert.notEqual(a, b);
    assert.equal(t.find(1, 2, 3, 0x1f900050, TRANSPORT_TCP), a);
    assert.equal(t.find(1, 2, 3, 0x1f900050, TRANSPORT_UDP), b);
    assert.equal(t.find(2, 2, 3, 0x1f900050, TRANSPORT_TCP), -1, 'other netns');
    assert.equal(t.find(1, 3, 2, 0x1f900050, TRANSPORT_TCP), -1, 'swapped addresses');
    assert.equal(t.find(1, 2, 3, 0x00501f90, TRANSPORT_TCP), -1, 'swapped ports');
  });

  it('grows past its initial capacity, rehashing, up to its limit and no further', () => {
    const t = new ConnTable(1000, 16);
    for (let i = 0; i < 1000; i++) t.insert(7, i, i + 1, i, TRANSPORT_TCP, LIST_TCP, i);
    for (let i = 0; i < 1000; i++) assert.notEqual(t.find(7, i, i + 1, i, TRANSPORT_TCP), -1, `entry ${i}`);
    assert.equal(t.capacity, 1000);
    assert.throws(() => t.insert(7, 5000, 1, 1, TRANSPORT_TCP, LIST_TCP, 0), /full \(1000 slots\)/);
  });

  it('reuses freed slots and keeps chains intact when removing from the middle', () => {
    const t = new ConnTable(64, 16);
    const slots = [];
    for (let i = 0; i < 40; i++) slots.push(t.insert(0, i, 0, 0, TRANSPORT_TCP, LIST_TCP, i));
    for (let i = 0; i < 40; i += 2) t.remove(slots[i]);
    for (let i = 1; i < 40; i += 2) assert.equal(t.find(0, i, 0, 0, TRANSPORT_TCP), slots[i]);
    for (let i = 0; i < 40; i += 2) assert.equal(t.find(0, i, 0, 0, TRANSPORT_TCP), -1);
    const reused = t.insert(0, 99, 0, 0, TRANSPORT_TCP, LIST_TCP, 50);
    assert.ok(reused < 40, 'a freed slot is reused before the table grows');
    assert.equal(t.counts[LIST_TCP], 21);
  });

  it('picks eviction candidates by second chance: a touched entry is passed over once', () => {
    const t = new ConnTable(16, 16);
    const a = t.insert(0, 1, 0, 0, TRANSPORT_TCP, LIST_TCP, 1);
    const b = t.insert(0, 2, 0, 0, TRANSPORT_TCP, LIST_TCP, 2);
    const c = t.insert(0, 3, 0, 0, TRANSPORT_TCP, LIST_TCP, 3);
    t.touch(a, 4);
    assert.deepEqual([...t.slots(LIST_TCP)], [a, b, c], 'touching does not reorder');
    assert.equal(t.lastSeenMs(a), 4);
    assert.equal(t.evictionCandidate(LIST_TCP), b, 'a was used since insertion: b is the victim');
    assert.deepEqual([...t.slots(LIST_TCP)], [b, c, a], 'a went to the tail, its bit spent');
    t.touch(b, 5);
    t.touch(c, 6);
    assert.equal(t.evictionCandidate(LIST_TCP), a, 'now a is the only one not used since it was passed over');
    t.touch(a, 7);
    t.touch(b, 8);
    t.touch(c, 9);
    assert.notEqual(t.evictionCandidate(LIST_TCP), NIL, 'when all were used, one full pass finds a victim');
    assert.equal(t.evictionCandidate(LIST_UDP), NIL, 'empty list');
  });

  it('moves slots between lists and keeps counts', () => {
    const t = new ConnTable(16, 16);
    const a = t.insert(0, 1, 0, 0, TRANSPORT_TCP, LIST_TCP, 1);
    const b = t.insert(0, 2, 0, 0, TRANSPORT_TCP, LIST_TCP, 2);
    const c = t.insert(0, 3, 0, 0, TRANSPORT_TCP, LIST_TCP, 3);
    t.moveTo(c, LIST_CLOSED, 5);
    assert.deepEqual([...t.slots(LIST_TCP)], [a, b]);
    assert.deepEqual([...t.slots(LIST_CLOSED)], [c]);
    assert.equal(t.isLive(c), false);
    assert.equal(t.liveCount, 2);
    t.remove(a);
    assert.equal(t.heads[LIST_TCP], b);
    assert.equal(t.find(0, 3, 0, 0, TRANSPORT_TCP), c, 'a tombstone is still found by its key');
  });
});

describe('conntrack string pool', () => {
  it('shares ids, counts references and frees at zero', () => {
    const pool = new StringPool();
    const a = pool.acquire('10.0.0.1');
    assert.equal(pool.acquire('10.0.0.1'), a);
    assert.equal(pool.references(a), 2);
    pool.release(a);
    assert.equal(pool.find('10.0.0.1'), a);
    pool.release(a);
    assert.equal(pool.find('10.0.0.1'), -1);
    assert.equal(pool.size, 0);
    assert.equal(pool.acquire('fd00::1'), a, 'a freed id is reused');
  });
});


describe('conntrack tracker under random, disordered input', () => {
  it('never throws, never exceeds its bounds, and leaks no slot or pooled string', () => {
    for (const seed of [1, 2, 3]) {
      const random = prng(seed);
      const telemetry = new ComponentTelemetry('processor/conntrack');
      const options = trackerOptions(config({ max_connections: 50, closed_retention: 2_000, connection_timeout: 5_000, udp_idle_timeout: 3_000, icmp_idle_timeout: 3_000 }));
      const tracker = new ConnTracker(options, telemetry);
      let now = 1_700_000_000_000;
      const out: NetworkEvent[] = [];
      const pick = <T>(items: T[]): T => items[Math.floor(random() * items.length)];
      for (let step = 0; step < 20_000; step++) {
        now += Math.floor(random() * 20);
        tracker.setNow(now);
        const i = Math.floor(random() * 120);
        const e = {
          pid: pick([0, 10 + (i % 7)]), localPort: 30000 + i, remotePort: pick([80, 443]), cookie: pick([0, i + 1, i + 500]),
          local: pick(['127.0.0.1', '10.0.0.1', '::1']), remote: pick(['127.0.0.1', '10.0.0.2']), timeUs: now * 1000 - Math.floor(random() * 5e6),
          direction: pick(['inbound', 'outbound'] as const),
        };
        const event = pick([
          () => opened(e), () => closed(e, { bytesSent: Math.floor(random() * 1e4), durationNs: pick([0, 1e6]) }, pick(['fin', 'reset'] as const)),
          () => updated(e, { bytesReceived: Math.floor(random() * 1e4) }), () => failed(e), () => flow(e, { bytesSent: 10, final: random() < 0.1 }),
          () => icmp(e, pick([0, 8, 3]), i % 5),
        ])();
        tracker.handle(event, out);
        if (step % 500 === 0) tracker.sweep(out);
        if (step % 700 === 0) tracker.flush(out);
        assert.ok(tracker.liveCount <= 50, `live entries within max_connections (seed ${seed}, step ${step})`);
        assert.ok(tracker.table.counts[LIST_CLOSED] <= options.maxClosed);
      }
      tracker.drain(out);
      assert.equal(tracker.liveCount, 0);
      assert.equal(tracker.table.counts[LIST_CLOSED], 0);
      assert.equal(tracker.pool.size, 0, `every pooled string released (seed ${seed})`);
      const closes = out.filter((x) => x.kind === 'connection.closed').length;
      assert.ok(closes > 100 && telemetry.get('evicted') > 0 && telemetry.get('duplicate') > 0, 'the run exercised closes, evictions and duplicates');
    }
  });
});
