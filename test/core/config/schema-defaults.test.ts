import assert from 'node:assert/strict';
import type { ConfigSchema } from '../../../core/component';
import { defaultsFromSchema, optionsWithoutDefault } from '../../../core/config/schema-defaults';

const schema = {
  type: 'object',
  $defs: { port: { type: 'integer', default: 4318 } },
  properties: {
    timeout: { type: ['string', 'number'], format: 'duration', default: '10s' },
    buffer: { type: ['string', 'number'], format: 'size', default: '8MiB' },
    ports: { type: 'array', items: { type: 'integer' }, default: [80, 443] },
    port: { $ref: '#/$defs/port' },
    retry: {
      type: 'object',
      default: { enabled: true },
      properties: {
        enabled: { type: 'boolean' },
        max_interval: { type: ['string', 'number'], format: 'duration', default: '30s' },
      },
    },
    tls: { type: 'object', properties: { ca_file: { type: 'string', default: '' }, insecure: { type: 'boolean' } } },
  },
} as unknown as ConfigSchema;

describe('defaults from a config schema', () => {
  it('reads every default, converts durations and sizes, follows $ref and completes object defaults', () => {
    assert.deepEqual(defaultsFromSchema(schema), {
      timeout: 10_000,
      buffer: 8 * 1024 * 1024,
      ports: [80, 443],
      port: 4318,
      retry: { enabled: true, max_interval: 30_000 },
      tls: { ca_file: '' },
    });
  });

  it('hands out a fresh copy each time', () => {
    const a = defaultsFromSchema<{ ports: number[] }>(schema);
    a.ports.push(8080);
    assert.deepEqual(defaultsFromSchema<{ ports: number[] }>(schema).ports, [80, 443]);
  });

  it('names the options that have no default, nested ones by their path', () => {
    assert.deepEqual(optionsWithoutDefault(schema), ['tls.insecure']);
  });
});
