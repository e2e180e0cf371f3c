/**
 * Worker thread body: rebuilds spans from their wire form and runs the OpenTelemetry span
 * serializer (@opentelemetry/otlp-transformer) on them, so the main thread only maps events.
 * Serializing is ~60 % of the exporter's CPU; on a machine with two or more cores this thread
 * runs it next to the pipeline instead of in front of it. The body goes back as a transferred
 * ArrayBuffer (no copy); compression stays on libuv's pool, as for inline serialization.
 *
 * Messages in:  { type: 'context', id, resourceAttributes, scope }  once per exporter
 *               { type: 'spans', job, context, encoding, spans }
 * Messages out: { job, body } (body undefined when the serializer returned nothing)
 *               { job, error }
 */
import { parentPort } from 'node:worker_threads';
import type { Attributes } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import { serializeSpans, type Encoding } from './signals';
import { fromWire, type WireSpan } from './span-wire';

export type WorkerRequest =
  | { type: 'context'; id: number; resourceAttributes: Attributes; scope: InstrumentationScope }
  | { type: 'spans'; job: number; context: number; encoding: Encoding; spans: WireSpan[] };

export type WorkerReply = { job: number; body: Uint8Array | undefined; error?: undefined } | { job: number; error: string };

interface Context {
  resource: Resource;
  scope: InstrumentationScope;
}

const port = parentPort;
if (!port) throw new Error('serializer-worker must run in a worker thread (see serializer-client.ts)');
const contexts = new Map<number, Context>();

port.on('message', (message: WorkerRequest) => {
  if (message.type === 'context') {
    // One Resource object per exporter: the serializer groups spans by Resource identity.
    contexts.set(message.id, { resource: resourceFromAttributes(message.resourceAttributes), scope: message.scope });
    return;
  }
  const { job } = message;
  try {
    const context = contexts.get(message.context);
    if (!context) throw new Error(`unknown serializer context ${message.context}`);
    const body = serializeSpans(message.encoding, fromWire(message.spans, context.resource, context.scope));
    if (!body) {
      port.postMessage({ job, body: undefined } satisfies WorkerReply);
      return;
    }
    // A serializer's output may be a view on a larger buffer it grew; send exactly the bytes.
    const exact = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength ? body : body.slice();
    port.postMessage({ job, body: exact } satisfies WorkerReply, [exact.buffer as ArrayBuffer]);
  } catch (error) {
    port.postMessage({ job, error: (error as Error).message } satisfies WorkerReply);
  }
});
