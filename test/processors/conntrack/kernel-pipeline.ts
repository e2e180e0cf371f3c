/** The conntrack kernel tests' pipeline: the ebpf_network receiver on the real kernel feeding conntrack, feeding `out`. */
import type { Consumer, Processor } from '../../../core/component';
import { createTestHost, createTestSettings } from '../../../core/testing';
import { factory as conntrackFactory } from '../../../processors/conntrack';
import { factory as receiverFactory } from '../../../receivers/ebpf_network';
import { testConfig } from '../../receivers/ebpf_network/helpers';
import { config } from './helpers';

export async function conntrackPipeline<C extends Consumer>(out: C, overrides: Parameters<typeof config>[0] = {}, receiverOverrides: Parameters<typeof testConfig>[0] = {}) {
  delete process.env.TAPIO_MOCK_MODE;
  const settings = createTestSettings('processor', 'conntrack');
  const conntrack: Processor = await conntrackFactory.createProcessor(settings, config(overrides), out);
  const host = createTestHost();
  await conntrack.start(host);
  const receiver = await receiverFactory.createReceiver(createTestSettings('receiver', 'ebpf_network'), testConfig(receiverOverrides), conntrack);
  await receiver.start(host);
  return {
    out,
    /** conntrack's counters and its `active` gauge. */
    telemetry: settings.telemetry,
    async stop() {
      await receiver.shutdown();
      await conntrack.shutdown();
    },
  };
}
