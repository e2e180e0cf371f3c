/**
 * Random W3C trace and span ids for spans that did not arrive with a traceparent.
 * Why not RandomIdGenerator from sdk-trace-base: it calls Math.random per byte; here one
 * crypto-random pool is refilled per 4 KiB and hex-encoded natively, so an id costs one small
 * string and no per-byte calls on the export hot path.
 */
import { randomFillSync } from 'node:crypto';

const POOL_BYTES = 4096;

export class RandomIds {
  private readonly pool = Buffer.allocUnsafe(POOL_BYTES);
  private pos = POOL_BYTES;

  private take(bytes: number): string {
    if (this.pos + bytes > POOL_BYTES) {
      randomFillSync(this.pool);
      this.pos = 0;
    }
    const start = this.pos;
    this.pos = start + bytes;
    // An all-zero id is invalid in W3C trace context; force one bit rather than loop.
    if (this.pool[start] === 0) this.pool[start] = 1;
    // Native hex encoding: one flat string (a JS loop would build a rope the serializer flattens).
    return this.pool.toString('hex', start, start + bytes);
  }

  /** 32 lowercase hex characters, never all zero. */
  traceId(): string {
    return this.take(16);
  }

  /** 16 lowercase hex characters, never all zero. */
  spanId(): string {
    return this.take(8);
  }
}
