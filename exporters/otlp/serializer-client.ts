/**
 * Main-thread side of the span serializer worker (serializer-worker.ts).
 *
 * The exporter asks `tryAcquire()` before serializing a large span request: when the worker is
 * idle enough the request goes there, otherwise it is serialized inline as before. This keeps
 * both cores busy (the pipeline thread maps events and serializes what the worker cannot take)
 * and degrades to plain inline serialization when the worker is busy, starved of CPU or gone.
 * The worker starts on first use (small deployments never pay for it), holds the event loop
 * open only while it has work, and is terminated by close().
 */
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Attributes } from '@opentelemetry/api';
import type { InstrumentationScope } from '@opentelemetry/core';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type { Logger } from '../../core/logger';
import type { Encoding } from './signals';
import { toWire } from './span-wire';
import type { WorkerReply, WorkerRequest } from './serializer-worker';

/** The worker cannot take the request (failed to start, crashed, or closed): serialize inline. */
export class WorkerUnavailableError extends Error {
  override readonly name = 'WorkerUnavailableError';
}

export interface SerializerClientOptions {
  resourceAttributes: Attributes;
  scope: InstrumentationScope;
  logger: Logger;
  /** Requests handed to the worker at once; more wait inline rather than queue behind it. */
  maxOutstanding: number;
  /** Worker script; tests point it elsewhere to exercise the fallback. */
  entry?: string;
}

interface Pending {
  resolve(body: Uint8Array | undefined): void;
  reject(error: Error): void;
}

const WORKER_ENTRY = join(__dirname, 'serializer-worker.js');

export class SerializerClient {
  private worker: Worker | undefined;
  private unusable = false;
  private readonly pending = new Map<number, Pending>();
  private nextJob = 1;

  constructor(private readonly options: SerializerClientOptions) {}

  /** Requests handed to the worker and not answered yet. */
  get outstanding(): number {
    return this.pending.size;
  }

  /** True when a request may go to the worker now. */
  canTake(): boolean {
    return !this.unusable && this.pending.size < this.options.maxOutstanding;
  }

  /**
   * Serializes `spans` in the worker. Rejects with WorkerUnavailableError when the worker cannot
   * do it (the caller serializes inline), with a plain Error when the serializer itself failed.
   */
  serialize(encoding: Encoding, spans: readonly ReadableSpan[]): Promise<Uint8Array | undefined> {
    const worker = this.unusable ? undefined : (this.worker ?? this.spawn());
    if (!worker) return Promise.reject(new WorkerUnavailableError('serializer worker unavailable'));
    const job = this.nextJob++;
    const message: WorkerRequest = { type: 'spans', job, context: 1, encoding, spans: toWire(spans) };
    return new Promise<Uint8Array | undefined>((resolve, reject) => {
      this.pending.set(job, { resolve, reject });
      if (this.pending.size === 1) worker.ref();
      try {
        worker.postMessage(message);
      } catch (error) {
        // e.g. a value structured clone cannot copy; inline serialization reports it properly.
        this.settle(job);
        reject(new WorkerUnavailableError(`handing spans to the serializer worker failed: ${(error as Error).message}`));
      }
    });
  }

  /** Terminates the worker; requests still in it fail (they outlived shutdown_timeout). Idempotent. */
  async close(): Promise<void> {
    this.unusable = true;
    const worker = this.worker;
    this.worker = undefined;
    this.failAll(new Error('the exporter shut down before the request was serialized'));
    if (worker) await worker.terminate();
  }

  private spawn(): Worker | undefined {
    let worker: Worker;
    try {
      worker = new Worker(this.options.entry ?? WORKER_ENTRY);
    } catch (error) {
      this.disable(`could not start: ${(error as Error).message}`);
      return undefined;
    }
    this.worker = worker;
    worker.unref();
    worker.postMessage({ type: 'context', id: 1, resourceAttributes: this.options.resourceAttributes, scope: this.options.scope } satisfies WorkerRequest);
    worker.on('message', (reply: WorkerReply) => {
      const pending = this.settle(reply.job);
      if (!pending) return;
      if (reply.error !== undefined) pending.reject(new Error(reply.error));
      else pending.resolve(reply.body);
    });
    worker.on('error', (error) => this.disable(`failed: ${error.message}`));
    worker.on('exit', (code) => {
      if (this.worker === worker) this.disable(`exited with code ${code}`);
    });
    return worker;
  }

  /** The worker is gone for good: everything is serialized inline from now on. */
  private disable(reason: string): void {
    if (this.unusable) return;
    this.unusable = true;
    const worker = this.worker;
    this.worker = undefined;
    this.options.logger.warn(`span serializer worker ${reason}; serializing on the main thread from now on (throughput is lower, nothing is lost)`);
    this.failAll(new WorkerUnavailableError(`serializer worker ${reason}`));
    void worker?.terminate();
  }

  private settle(job: number): Pending | undefined {
    const pending = this.pending.get(job);
    if (!pending) return undefined;
    this.pending.delete(job);
    if (this.pending.size === 0) this.worker?.unref();
    return pending;
  }

  private failAll(error: Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const pending of all) pending.reject(error);
  }
}
