/** What the protocol and TLS tests share: a started exporter that the test stops, and polling. */
import assert from 'node:assert/strict';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { Host } from '../../../core/component';
import { createTestSettings } from '../../../core/testing';
import { factory, OtlpExporter, type OtlpConfig } from '../../../exporters/otlp';

export interface Started {
  exporter: OtlpExporter;
  settings: ReturnType<typeof createTestSettings>;
  provider: MeterProvider;
  stop(): Promise<void>;
}

/** A valid config's exporter, started with its own MeterProvider; the caller stops it. */
export function startExporter(config: OtlpConfig): Started {
  assert.deepEqual(factory.validate!(config), [], 'test config is valid');
  const settings = createTestSettings('exporter', 'otlp');
  const exporter = new OtlpExporter(settings, config);
  const provider = new MeterProvider({ readers: exporter.metricReaders() });
  const host: Host = { meterProvider: provider, metricsEnabled: true, reportFatalError: (e) => assert.fail(e), reportStopped: (reason) => assert.fail(reason) };
  exporter.start(host);
  return {
    exporter,
    settings,
    provider,
    async stop() {
      await exporter.shutdown();
      await provider.shutdown().catch(() => undefined);
    },
  };
}

/** Resolves once `predicate` holds; fails naming `what` after `timeoutMs`. */
export async function until(predicate: () => boolean, what: string, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
