/**
 * The burst buffer: ring records moved out undecoded while the reader is behind, decoded later in
 * order. Unit tests on synthetic ring bytes; on the real kernel, a pipeline that holds its first
 * batch for a second while the ring benchmark's generator writes fifteen rings' worth of records:
 * with the buffer every record arrives, in order, and the kernel loses none; without it the
 * kernel ring overflows (the control that shows the test can fail).
 */
import assert from 'node:assert/strict';
import { GETUID_SYSCALL, RingGenerator } from '../../../bench/ring-generator';
import { CollectingConsumer, createTestHost, createTestSettings } from '../../../core/testing';
import type { ConnectionClosedEvent, NetworkEvent } from '../../../core/events';
import { factory } from '../../../receivers/ebpf_network';
import { BurstBuffer } from '../../../receivers/ebpf_network/burst-buffer';
import type { EbpfNetworkReceiver } from '../../../receivers/ebpf_network/receiver';
import { RECORD_BUSY_BIT, RECORD_DISCARD_BIT, walkRecords, type RecordSink } from '../../../receivers/ebpf_network/ring-reader';
import { freshKernelStats, requireKernel, startGetuidCaller, testConfig, type Peer, type RunningReceiver } from './helpers';

/** Ring bytes of records whose bodies are `lengths` bytes long, each body filled with its index. */
function ringBytes(lengths: number[], discarded: number[] = []): Uint8Array {
  const size = lengths.reduce((sum, len) => sum + ((len + 8 + 7) & ~7), 0);
  const bytes = new Uint8Array(size);
  const view = new DataView(bytes.buffer);
  let pos = 0;
  lengths.forEach((len, i) => {
    view.setUint32(pos, len | (discarded.includes(i) ? RECORD_DISCARD_BIT : 0), true);
    bytes.fill(i, pos + 8, pos + 8 + len);
    pos += (len + 8 + 7) & ~7;
  });
  return bytes;
}

/** Collects each record as [first body byte, length]. */
class Bodies implements RecordSink {
  readonly seen: Array<[number, number]> = [];
  record(_view: DataView, bytes: Uint8Array, offset: number, length: number): void {
    this.seen.push([bytes[offset], length]);
  }
}

describe('receivers/ebpf_network burst buffer', () => {
  it('hands records over oldest first across copies, skipping discarded ones, and frees their bytes', () => {
    const burst = new BurstBuffer(1 << 20);
    const first = ringBytes([5, 16, 3], [1]);
    const second = ringBytes([40, 1]);
    burst.push(first, 0, first.length, 2);
    burst.push(second, 0, second.length, 2);
    assert.equal(burst.bytes, first.length + second.length);
    assert.equal(burst.room(), (1 << 20) - first.length - second.length);
    const sink = new Bodies();
    assert.equal(burst.drain(sink, 100), 4);
    assert.deepEqual(sink.seen, [[0, 5], [2, 3], [0, 40], [1, 1]]);
    assert.equal(burst.bytes, 0);
    assert.equal(burst.records, 4);
    assert.equal(burst.drain(sink, 100), 0);
  });

  it('stops at max records and when asked, and carries on where it stopped', () => {
    const burst = new BurstBuffer(1 << 20);
    const bytes = ringBytes([8, 8, 8, 8, 8, 8]);
    // Copied from the middle of a larger region, as a spill from the ring's mapping is.
    const region = new Uint8Array(bytes.length + 32);
    region.set(bytes, 16);
    burst.push(region, 16, bytes.length, 6);
    const sink = new Bodies();
    assert.equal(burst.drain(sink, 2), 2);
    let asked = 0;
    assert.equal(burst.drain(sink, 100, () => ++asked === 3), 3);
    assert.equal(burst.drain(sink, 100), 1);
    assert.deepEqual(sink.seen.map(([index]) => index), [0, 1, 2, 3, 4, 5]);
    assert.equal(burst.bytes, 0);
  });

  it('moves only whole committed records out of the ring, within the room it is given', () => {
    // Records of 8, 20 (discarded) and 5 bytes: 16 + 32 + 16 bytes with headers and padding.
    const bytes = ringBytes([8, 20, 5, 8], [1]);
    const view = new DataView(bytes.buffer);
    /** What a spill of `pending` written bytes from `start` into `room` bytes would move. */
    const committedRecords = (v: DataView, start: number, pending: number, room: number) =>
      walkRecords(v, bytes, start, Math.min(pending, room), Infinity);
    assert.deepEqual(committedRecords(view, 0, 80, 1 << 20), { bytes: 80, records: 3 });
    assert.deepEqual(committedRecords(view, 0, 80, 63), { bytes: 48, records: 1 }, 'a record that does not fit stays');
    assert.deepEqual(committedRecords(view, 0, 80, 64), { bytes: 64, records: 2 });
    assert.deepEqual(committedRecords(view, 0, 48, 1 << 20), { bytes: 48, records: 1 }, 'nothing past what was written');
    assert.deepEqual(committedRecords(view, 0, 0, 1 << 20), { bytes: 0, records: 0 });
    assert.deepEqual(committedRecords(view, 16, 64, 1 << 20), { bytes: 64, records: 2 }, 'from where the consumer is');
    // The third record is still being written: the walk stops there.
    view.setUint32(48, view.getUint32(48, true) | RECORD_BUSY_BIT, true);
    assert.deepEqual(committedRecords(view, 0, 80, 1 << 20), { bytes: 48, records: 1 });
  });

  describe('on the real kernel', function () {
    this.timeout(60000);

    const BURST = 256;
    const CALLS_PER_LINE = 3;
    const LINES = 30;
    const RING = 256 * 1024;
    const HOLD_MS = 1500;

    /** Holds its first batch until HOLD_MS have passed: the pipeline pushes back meanwhile. */
    class HoldingConsumer extends CollectingConsumer {
      private held = false;
      override consume(batch: NetworkEvent[]): void | Promise<void> {
        super.consume(batch);
        if (this.held) return;
        this.held = true;
        return new Promise((resolve) => setTimeout(resolve, HOLD_MS));
      }
    }

    /** `stopAtOnce`: shut the receiver down right after the load, while its batch is still held. */
    async function run(burstBufferSize: number, stopAtOnce = false): Promise<{ closes: ConnectionClosedEvent[]; lost: number; expected: number; spilled: number }> {
      const consumer = new HoldingConsumer();
      const config = testConfig({ ring_buffer_size: RING, burst_buffer_size: burstBufferSize, buffer_size: 100 });
      const receiver = (await factory.createReceiver(createTestSettings('receiver', 'ebpf_network'), config, consumer)) as EbpfNetworkReceiver;
      await receiver.start(createTestHost());
      const rx: RunningReceiver = { receiver, consumer };
      let caller: Peer | undefined;
      let generator: RingGenerator | undefined;
      try {
        caller = startGetuidCaller();
        const pid = (await caller.next('ready')).pid;
        // Something for the first batch to hold: the pipeline is busy before the burst starts.
        generator = RingGenerator.load({ ring: receiver.kernelRing()!, tid: pid, syscall: GETUID_SYSCALL, burst: BURST });
        caller.child.stdin!.write('1\n');
        await caller.next('done');
        await consumer.waitFor((events) => events.length > 0, 5000, 'the first batch');
        const before = freshKernelStats(rx);
        // Paced below what one wake-up can move (3 x 256 records of 152 bytes < the ring), far
        // above what the ring holds in all: 15 rings while the pipeline holds its batch.
        for (let line = 0; line < LINES; line++) {
          caller.child.stdin!.write(`${CALLS_PER_LINE}\n`);
          await caller.next('done');
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        const lost = freshKernelStats(rx).ringLost - before.ringLost;
        const expected = (1 + LINES * CALLS_PER_LINE) * BURST - lost;
        const mine = (e: NetworkEvent): e is ConnectionClosedEvent => e.kind === 'connection.closed' && e.process.pid === pid;
        if (stopAtOnce) await receiver.shutdown();
        else await consumer.waitFor((events) => events.filter(mine).length >= expected, 20000, `${expected} generated records`);
        const spilled = (receiver as unknown as { burst?: BurstBuffer }).burst?.records ?? 0;
        return { closes: consumer.events.filter(mine), lost, expected, spilled };
      } finally {
        generator?.close();
        await caller?.stop();
        await receiver.shutdown();
      }
    }

    before(function () {
      requireKernel(this);
      delete process.env.TAPIO_MOCK_MODE;
    });

    it('takes fifteen rings of records while the pipeline holds a batch: none lost, all in order', async () => {
      const { closes, lost, expected, spilled } = await run(16 * 1024 * 1024);
      assert.equal(lost, 0, 'the kernel ring never filled');
      assert.ok(spilled > 0, 'records went through the burst buffer');
      assert.equal(closes.length, expected);
      assert.equal(expected, (1 + LINES * CALLS_PER_LINE) * BURST);
      // Each burst writes its records with cookies 1000000 + 0..255, in that order.
      closes.forEach((e, i) => assert.equal(e.socketCookie, 1000000 + (i % BURST), `record ${i} out of order`));
    });

    it('hands over everything it holds when shut down while the pipeline still holds a batch', async () => {
      const { closes, lost, expected, spilled } = await run(16 * 1024 * 1024, true);
      assert.equal(lost, 0);
      assert.ok(spilled > 0, 'records were in the burst buffer');
      assert.equal(closes.length, expected, 'all of them arrived before shutdown returned');
      closes.forEach((e, i) => assert.equal(e.socketCookie, 1000000 + (i % BURST), `record ${i} out of order`));
    });

    it('without it the kernel ring overflows under the same load (the control)', async () => {
      const { closes, lost, expected } = await run(0);
      assert.ok(lost > 0, 'the ring of 256 KiB overflows while the pipeline holds its batch');
      assert.equal(closes.length, expected, 'what the kernel kept still arrives');
    });
  });
});
