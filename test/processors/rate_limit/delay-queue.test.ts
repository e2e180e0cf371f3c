import assert from 'node:assert/strict';
import type { NetworkEvent } from '../../../core/events';
import { DelayQueue } from '../../../processors/rate_limit/delay-queue';
import { opened, nthConnection, prng } from '../probabilistic_sampler/fixtures';

function event(i: number): NetworkEvent {
  return opened(nthConnection(i), 'client');
}

describe('rate_limit delay queue', () => {
  it('releases by due time, ties in arrival order', () => {
    const q = new DelayQueue(16);
    const e = [0, 1, 2, 3, 4].map(event);
    q.push(e[0], 30);
    q.push(e[1], 10);
    q.push(e[2], 20);
    q.push(e[3], 10);
    q.push(e[4], 30);
    assert.equal(q.nextDue(), 10);
    const out: NetworkEvent[] = [];
    q.popDue(20, out);
    assert.deepEqual(out, [e[1], e[3], e[2]]);
    q.popDue(29.9, out);
    assert.equal(out.length, 3);
    q.popDue(30, out);
    assert.deepEqual(out, [e[1], e[3], e[2], e[0], e[4]]);
    assert.equal(q.size, 0);
    assert.equal(q.nextDue(), Infinity);
  });

  it('refuses to grow past its capacity', () => {
    const q = new DelayQueue(3);
    assert.ok(q.push(event(0), 1) && q.push(event(1), 2) && q.push(event(2), 3));
    assert.equal(q.full, true);
    assert.equal(q.push(event(3), 0), false);
    assert.equal(q.size, 3);
  });

  it('matches a stable sort on a random workload', () => {
    const next = prng(3);
    const q = new DelayQueue(500);
    const reference: Array<{ due: number; seq: number; e: NetworkEvent }> = [];
    const out: NetworkEvent[] = [];
    const expected: NetworkEvent[] = [];
    let seq = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 10; i++) {
        const due = round * 10 + Math.floor(next() * 40);
        const e = event(seq);
        assert.ok(q.push(e, due));
        reference.push({ due, seq: seq++, e });
      }
      const now = round * 10;
      reference.sort((a, b) => a.due - b.due || a.seq - b.seq);
      while (reference.length && reference[0].due <= now) expected.push(reference.shift()!.e);
      q.popDue(now, out);
      assert.deepEqual(out, expected);
    }
  });
});
