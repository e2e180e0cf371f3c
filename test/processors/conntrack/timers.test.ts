import assert from 'node:assert/strict';
import { closed, flow, harness, icmp, opened, updated } from './helpers';

const A = { pid: 10, localPort: 40001, remotePort: 8080, cookie: 1 };
const B = { pid: 11, localPort: 40002, remotePort: 8080, cookie: 2 };

describe('conntrack timers (manual clock)', () => {
  it('closes an idle TCP connection with reason timeout at the first cleanup after connection_timeout', async () => {
    const h = await harness({ connection_timeout: 60_000, cleanup_interval: 10_000, flush_interval: 0 });
    await h.feed(opened({ ...A, timeUs: h.nowUs() }));
    h.time.advance(59_999);
    assert.equal(h.out('connection.closed').length, 0, 'not before the timeout');
    h.time.advance(1);
    const [c] = h.out('connection.closed');
    assert.equal(c.closeReason, 'timeout');
    assert.equal(c.durationNs, 0, 'ends at the last activity, which was the open');
    assert.equal(h.telemetry.get('timed_out'), 1);
    assert.equal(h.telemetry.get('active'), 0);
  });

  it('activity (events, payload on the tuple) postpones the timeout', async () => {
    const h = await harness({ connection_timeout: 60_000, cleanup_interval: 10_000, flush_interval: 0 });
    await h.feed(opened(A), opened(B));
    h.time.advance(50_000);
    await h.feed({
      ...opened(A), kind: 'payload', dataDirection: 'recv', fd: 4, data: new Uint8Array(0), originalLength: 10, truncated: false,
    });
    h.time.advance(10_000);
    assert.deepEqual(h.out('connection.closed').map((c) => c.process.pid), [11], 'only the idle one expired');
    h.time.advance(50_000);
    assert.deepEqual(h.out('connection.closed').map((c) => c.process.pid), [11, 10]);
  });

  it('expires UDP and ICMP flows on their own idle timeouts with a final update', async () => {
    const h = await harness({ udp_idle_timeout: 20_000, icmp_idle_timeout: 40_000, cleanup_interval: 10_000, flush_interval: 0 });
    await h.feed(flow({ pid: 5 }, { bytesSent: 10, packetsSent: 1 }), icmp({ pid: 6 }, 8, 1));
    h.time.advance(20_000);
    let flows = h.out('flow.updated');
    assert.deepEqual(flows.map((f) => [f.transport, f.final, f.bytesSent]), [['udp', true, 10]]);
    h.time.advance(20_000);
    flows = h.out('flow.updated');
    assert.deepEqual(flows.map((f) => f.transport), ['udp', 'icmp']);
    assert.equal(h.telemetry.get('timed_out'), 2);
  });

  it('sends periodic updates for entries at least flush_interval old, then keeps going', async () => {
    const h = await harness({ flush_interval: 10_000, cleanup_interval: 30_000, connection_timeout: 300_000 });
    await h.feed(opened({ ...A, timeUs: h.nowUs() }), flow({ pid: 5, timeUs: h.nowUs() }, { bytesSent: 10, packetsSent: 1 }));
    h.time.advance(5_000);
    await h.feed(opened({ ...B, timeUs: h.nowUs() }));
    h.time.advance(5_000);
    assert.deepEqual(h.out('connection.updated').map((u) => u.process.pid), [10], 'B is only 5s old');
    const [u] = h.out('connection.updated');
    assert.equal(u.durationNs, 10e9);
    const [f] = h.out('flow.updated');
    assert.equal(f.final, false);
    assert.equal(f.bytesSent, 10);
    h.time.advance(10_000);
    assert.deepEqual(h.out('connection.updated').map((x) => x.process.pid), [10, 10, 11]);
  });

  it('a receiver\'s own connection.updated keeps an idle connection alive and replaces the periodic update', async () => {
    // What the ebpf_network live scan sends every tcp_update_interval (here 20 s) for a connection
    // that carries no traffic: without it the connection would time out at 60 s.
    const h = await harness({ flush_interval: 30_000, cleanup_interval: 10_000, connection_timeout: 60_000 });
    await h.feed(opened({ ...A, timeUs: h.nowUs() }));
    for (let i = 1; i <= 6; i++) {
      h.time.advance(20_000);
      await h.feed(updated({ ...A, timeUs: h.nowUs() }, { bytesSent: 100 * i }));
    }
    assert.equal(h.out('connection.closed').length, 0, '120 s idle on the wire, but the kernel says it is open');
    const updates = h.out('connection.updated');
    assert.equal(updates.length, 6, 'the six passed on; no periodic duplicates while they keep coming');
    assert.equal(updates[5].bytesSent, 600);
    h.time.advance(30_000);
    assert.equal(h.out('connection.updated').length, 7, 'the periodic update resumes once they stop');
  });

  it('flush_interval 0 sends no periodic updates', async () => {
    const h = await harness({ flush_interval: 0 });
    await h.feed(opened(A));
    h.time.advance(120_000);
    assert.equal(h.out('connection.updated').length, 0);
  });

  it('forgets closed connections after closed_retention: a repeated close then counts as new', async () => {
    const h = await harness({ closed_retention: 5_000, cleanup_interval: 5_000, flush_interval: 0 });
    await h.feed(opened(A), closed(A), closed(A));
    assert.equal(h.out('connection.closed').length, 1);
    h.time.advance(5_000);
    await h.feed(closed(A));
    assert.equal(h.out('connection.closed').length, 2);
    assert.equal(h.telemetry.get('closed_without_open'), 1);
  });

  it('drops the real close of a connection it timed out while that is remembered', async () => {
    const h = await harness({ connection_timeout: 10_000, cleanup_interval: 10_000, closed_retention: 30_000, flush_interval: 0 });
    await h.feed(opened(A));
    h.time.advance(10_000);
    await h.feed(closed(A, { bytesSent: 5 }));
    assert.deepEqual(h.out('connection.closed').map((c) => c.closeReason), ['timeout']);
    assert.equal(h.telemetry.get('late'), 1);
  });

  it('shutdown cancels the timers, reports open connections and final flows, and empties the table', async () => {
    const h = await harness({ flush_interval: 10_000 });
    assert.equal(h.time.pendingTimers, 2);
    await h.feed(opened(A), flow({ pid: 5 }, { bytesSent: 1, packetsSent: 1 }));
    await h.processor.shutdown();
    await h.processor.shutdown();
    assert.equal(h.time.pendingTimers, 0);
    assert.deepEqual(h.out('connection.updated').map((u) => u.process.pid), [10]);
    assert.deepEqual(h.out('flow.updated').map((f) => f.final), [true]);
    assert.equal(h.telemetry.get('active'), 0);
    const before = h.next.events.length;
    h.time.advance(600_000);
    assert.equal(h.next.events.length, before, 'nothing after shutdown');
  });
});
