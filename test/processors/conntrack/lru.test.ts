import assert from 'node:assert/strict';
import { closed, flow, harness, opened } from './helpers';

const conn = (i: number) => ({ pid: 100 + i, localPort: 40000 + i, remotePort: 8080, cookie: i + 1 });

describe('conntrack LRU eviction', () => {
  it('evicts the least recently active entry when max_connections is reached, and counts it', async () => {
    const h = await harness({ max_connections: 3, flush_interval: 0 });
    await h.feed(opened(conn(0)), opened(conn(1)), opened(conn(2)));
    h.time.advance(10);
    // A close without an open does not need a live slot; the new UDP flow does.
    await h.feed(closed({ ...conn(9) }), flow({}, {}));
    assert.equal(h.telemetry.get('evicted'), 1, 'the UDP flow took the place of the oldest entry');
    const [evicted] = h.out('connection.closed').filter((c) => c.closeReason === 'evicted');
    assert.equal(evicted.process.pid, 100);
    assert.equal(h.telemetry.get('active'), 3);
  });

  it('touching an entry protects it from eviction', async () => {
    const h = await harness({ max_connections: 2, flush_interval: 0 });
    await h.feed(opened(conn(0)), opened(conn(1)));
    h.time.advance(1);
    await h.feed(opened(conn(0))); // duplicate open still counts as activity
    h.time.advance(1);
    await h.feed(opened(conn(2)));
    const evicted = h.out('connection.closed').filter((c) => c.closeReason === 'evicted').map((c) => c.process.pid);
    assert.deepEqual(evicted, [101]);
  });

  it('a late close of an evicted connection is dropped, not double counted', async () => {
    const h = await harness({ max_connections: 1, flush_interval: 0 });
    await h.feed(opened(conn(0)), opened(conn(1)), closed(conn(0), { bytesSent: 99 }));
    assert.deepEqual(h.out('connection.closed').map((c) => [c.process.pid, c.closeReason]), [[100, 'evicted']]);
    assert.equal(h.telemetry.get('late'), 1);
  });

  it('an evicted flow ends with a final update carrying its counters', async () => {
    const h = await harness({ max_connections: 1, flush_interval: 0 });
    await h.feed(flow({ pid: 7 }, { bytesSent: 12, packetsSent: 1 }), opened(conn(0)));
    const [f] = h.out('flow.updated');
    assert.deepEqual([f.final, f.bytesSent, f.process.pid], [true, 12, 7]);
  });

  it('holds max_connections under churn far beyond it, and frees everything on shutdown', async () => {
    const h = await harness({ max_connections: 64, flush_interval: 0 });
    for (let round = 0; round < 50; round++) {
      const batch = [];
      for (let i = 0; i < 40; i++) batch.push(opened(conn(round * 40 + i)));
      await h.feed(...batch);
      assert.ok(h.telemetry.get('active') <= 64);
    }
    assert.equal(h.telemetry.get('active'), 64);
    assert.equal(h.telemetry.get('evicted'), 2000 - 64);
    await h.processor.shutdown();
    assert.equal(h.telemetry.get('active'), 0);
  });
});
