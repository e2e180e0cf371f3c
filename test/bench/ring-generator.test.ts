/**
 * The ring benchmark's load generator (bench/ring-generator.ts, bpf/bench.bpf.o): an object of its
 * own that writes into a running receiver's ring through the receiver's maps, with nothing of it
 * left in the production object. On the real kernel: its records reach the receiver, decoded as
 * the TCP close records they imitate, and are counted in the receiver's counters.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ConnectionClosedEvent, NetworkEvent } from '../../core/events';
import { GENERATOR_OBJECT_PATH, GETUID_SYSCALL, RingGenerator } from '../../bench/ring-generator';
import { DEFAULT_OBJECT_PATH } from '../../receivers/ebpf_network/bpf-object';
import { Btf, BtfKind } from '../../receivers/ebpf_network/btf';
import { resolveWakeupThreshold, type EbpfNetworkReceiver } from '../../receivers/ebpf_network/receiver';
import { freshKernelStats, requireKernel, startGetuidCaller, startReceiver, testConfig, type Peer, type RunningReceiver } from '../receivers/ebpf_network/helpers';

const BPF_DIR = dirname(GENERATOR_OBJECT_PATH);


describe('bench/ring-generator: the ring benchmark load generator', function () {
  this.timeout(30000);

  describe('the objects', () => {
    const generator = Btf.fromObjectFile(GENERATOR_OBJECT_PATH);
    const names = (btf: Btf, section: string) =>
      (btf.find(BtfKind.DATASEC, section)?.secinfos ?? []).map((si) => btf.types[si.typeId].name).sort();

    it('bench.bpf.o defines no map but the two it shares with the receiver', () => {
      assert.deepEqual(names(generator, '.maps'), ['events', 'stats']);
    });

    it('bench.bpf.o carries the knobs ring-generator.ts writes, and its program', () => {
      assert.deepEqual(names(generator, '.rodata'), ['records_per_burst', 'trigger_syscall', 'trigger_tid', 'wakeup_interval_us', 'wakeup_threshold']);
      assert.ok(generator.find(BtfKind.FUNC, 'bench_burst'));
    });

    it('net.bpf.o carries nothing of the generator', () => {
      const production = Btf.fromObjectFile(DEFAULT_OBJECT_PATH);
      assert.equal(production.find(BtfKind.FUNC, 'bench_burst'), undefined);
      for (const m of production.struct('ne_config').members!) assert.doesNotMatch(m.name, /bench/);
    });

    it('the committed bench.bpf.o is not older than its sources', () => {
      const built = statSync(GENERATOR_OBJECT_PATH).mtimeMs;
      // git checkouts give all files the same mtime, so only a clearly newer source counts.
      for (const src of ['bench.bpf.c', 'ring.bpf.h', 'net_events.h']) {
        assert.ok(statSync(join(BPF_DIR, src)).mtimeMs <= built + 2000, `${src} is newer than bench.bpf.o: run npm run build:bpf`);
      }
    });
  });

  describe('on the real kernel', () => {
    let rx: RunningReceiver;
    let caller: Peer | undefined;
    let generator: RingGenerator | undefined;

    before(async function () {
      requireKernel(this);
      delete process.env.TAPIO_MOCK_MODE;
      rx = await startReceiver();
    });

    after(async () => {
      generator?.close();
      await caller?.stop();
      await rx?.receiver.shutdown();
    });

    it("hands the receiver's ring, counters and wake-up settings to a generator that fills them", async () => {
      const ring = (rx.receiver as EbpfNetworkReceiver).kernelRing();
      assert.ok(ring, 'the running receiver exposes its ring');
      const config = testConfig();
      assert.equal(ring.wakeupThresholdBytes, resolveWakeupThreshold(config));
      assert.equal(ring.wakeupIntervalUs, config.poll_interval * 1000);

      caller = startGetuidCaller();
      const pid = (await caller.next('ready')).pid;
      const before = freshKernelStats(rx);
      generator = RingGenerator.load({ ring, tid: pid, syscall: GETUID_SYSCALL, burst: 4 });
      caller.child.stdin!.write('10\n');
      await caller.next('done');

      const mine = (e: NetworkEvent): e is ConnectionClosedEvent => e.kind === 'connection.closed' && e.process.pid === pid;
      const events = await rx.consumer.waitFor((evs) => evs.filter(mine).length >= 40, 10000, '40 generated TCP close records');
      const generated = events.filter(mine);
      assert.equal(generated.length, 40, '10 calls x 4 records, and no more');
      for (let i = 0; i < 4; i++) {
        const ofIndex = generated.filter((e) => e.socketCookie === 1000000 + i);
        assert.equal(ofIndex.length, 10, `record ${i} of each burst`);
        for (const e of ofIndex) {
          assert.deepEqual(
            {
              tid: e.process.tid, transport: e.transport, networkType: e.networkType, direction: e.direction,
              localAddress: e.localAddress, localPort: e.localPort, remoteAddress: e.remoteAddress, remotePort: e.remotePort,
              durationNs: e.durationNs, bytesSent: e.bytesSent, bytesReceived: e.bytesReceived,
              segmentsSent: e.segmentsSent, segmentsReceived: e.segmentsReceived, srttUs: e.srttUs, retransmits: e.retransmits,
              closeReason: e.closeReason,
            },
            {
              tid: pid, transport: 'tcp', networkType: 'ipv4', direction: 'outbound',
              localAddress: '127.0.0.1', localPort: 40000 + i, remoteAddress: `10.0.0.${i}`, remotePort: 443,
              durationNs: 1000000, bytesSent: 512, bytesReceived: 4096,
              segmentsSent: 4, segmentsReceived: 5, srttUs: 50, retransmits: 0,
              closeReason: 'fin',
            },
          );
        }
      }
      const after = freshKernelStats(rx);
      assert.ok(after.records - before.records >= 40, `the receiver's counters count them: ${after.records - before.records}`);
      assert.equal(after.ringLost, before.ringLost);
    });

    it('refuses a burst the program cannot emit', () => {
      const ring = (rx.receiver as EbpfNetworkReceiver).kernelRing()!;
      assert.throws(() => RingGenerator.load({ ring, tid: 1, syscall: GETUID_SYSCALL, burst: 257 }), /a burst is 1 to 256 records, not 257/);
    });
  });
});
