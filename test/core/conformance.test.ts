/**
 * The contract every registered factory must keep, built-in or plugin: its default config is
 * valid; it can be created, started, fed a batch of every event kind, and shut down; shutdown
 * is idempotent. Components that need outside resources get the smallest override that lets
 * them run here (listed in OVERRIDES with the reason).
 */
import assert from 'node:assert/strict';
import type { Component, Factory } from '../../core/component';
import { builtinFactories } from '../../distribution/components';
import { deepMerge } from '../../core/config/merge';
import { normalizeUnits, validateAgainstSchema } from '../../core/config/schema-validator';
import { defaultsFromSchema, optionsWithoutDefault } from '../../core/config/schema-defaults';
import type { NetworkEvent } from '../../core/events';
import { CollectingConsumer, createTestHost, createTestSettings } from '../../core/testing';
import { MockTrafficGenerator } from '../../receivers/ebpf_network/mock-source';
import { testFactories } from '../helpers/test-factories';

const OVERRIDES: Record<string, Record<string, unknown>> = {
  // Lifecycle only: the real kernel path has its own tests under test/receivers/ebpf_network.
  'receiver/ebpf_network': { mock_mode: true, mock_events_per_second: 1000 },
  // No backend runs here; the exporter must still start, accept data and stop within its deadline.
  'exporter/otlp': { endpoint: 'http://127.0.0.1:9', timeout: '200ms', retry_on_failure: { enabled: false } },
  // Any free loopback port: the default 0.0.0.0:9464 may be taken on a test machine.
  'exporter/prometheus': { endpoint: '127.0.0.1:0' },
};

function everyKind(): NetworkEvent[] {
  const events = new MockTrafficGenerator(7).batch(40, Date.now() * 1000);
  const header = events[0];
  events.push({
    ...header, kind: 'payload', dataDirection: 'send', fd: 5,
    data: new TextEncoder().encode('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), originalLength: 27, truncated: false,
  });
  // A request whose exchange the kernel summarised (NE_H1_SUMMARY), on a connection of its own.
  const request = new TextEncoder().encode('GET /s HTTP/1.1\r\nHost: x\r\n\r\n');
  events.push({
    ...header, kind: 'payload', localPort: header.localPort ^ 1, socketCookie: header.socketCookie + 1_000_000, dataDirection: 'send', fd: 6,
    data: request, originalLength: request.length, truncated: false,
    h1Response: { timeUs: header.timeUs + 900, length: 45, bodyLength: 7, status: 200, versionMinor: 1, pid: header.process.pid, tid: header.process.tid, dataDirection: 'recv' },
  });
  // Exchanges the kernel only counted at that socket (NE_H1_COUNT): no data, a count.
  events.push({
    ...header, kind: 'payload', localPort: header.localPort ^ 1, socketCookie: header.socketCookie + 1_000_000, dataDirection: 'send', fd: -1,
    data: new Uint8Array(0), originalLength: 0, truncated: false, h1Exchanges: 64,
  });
  return events;
}

function create(factory: Factory, config: unknown, next: CollectingConsumer): Promise<Component> {
  const settings = createTestSettings(factory.kind, factory.type);
  switch (factory.kind) {
    case 'receiver': return Promise.resolve(factory.createReceiver(settings, config, next));
    case 'processor': return Promise.resolve(factory.createProcessor(settings, config, next));
    case 'exporter': return Promise.resolve(factory.createExporter(settings, config));
  }
}

describe('component conformance', () => {
  const builtins = new Set<Factory>(builtinFactories() as Factory[]);
  for (const factory of [...builtins, ...testFactories()] as Factory[]) {
    const label = `${factory.kind}/${factory.type}`;
    describe(label, () => {
      if (builtins.has(factory)) {
        it('states each default once, in its schema', () => {
          assert.deepEqual(optionsWithoutDefault(factory.configSchema), [], 'every option has a default in config.schema.json');
          assert.deepEqual(factory.createDefaultConfig(), defaultsFromSchema(factory.configSchema));
          assert.notEqual(factory.createDefaultConfig(), factory.createDefaultConfig(), 'a fresh object each time');
        });
      }

      it('describes itself', () => {
        assert.match(factory.type, /^[a-z][a-z0-9_]*$/);
        assert.ok(factory.description.length > 10, 'description is one helpful line');
        assert.ok(['development', 'alpha', 'beta', 'stable'].includes(factory.stability));
      });

      it('has a default config that passes its own schema and rules', () => {
        const config = factory.createDefaultConfig();
        assert.deepEqual(validateAgainstSchema(factory.configSchema, config), []);
        assert.deepEqual(factory.validate?.(normalizeUnits(factory.configSchema, config)) ?? [], []);
      });

      it('rejects an unknown key', () => {
        const config = { ...(factory.createDefaultConfig() as object), surely_not_an_option: 1 };
        assert.notDeepEqual(validateAgainstSchema(factory.configSchema, config), []);
      });

      it('creates, starts, consumes every event kind, and shuts down idempotently', async function () {
        this.timeout(15_000);
        const merged = deepMerge(factory.createDefaultConfig(), OVERRIDES[label] ?? {});
        assert.deepEqual(validateAgainstSchema(factory.configSchema, merged), []);
        const config = normalizeUnits(factory.configSchema, merged);
        const next = new CollectingConsumer();
        const component = await create(factory, config, next);
        await component.start(createTestHost());
        await component.start(createTestHost());
        if (factory.kind !== 'receiver') {
          await (component as unknown as { consume(b: NetworkEvent[]): unknown }).consume(everyKind());
        }
        await component.shutdown();
        await component.shutdown();
      });
    });
  }
});
