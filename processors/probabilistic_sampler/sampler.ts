/**
 * The sampling decision over a batch: keep an event when the low 14 bits of its key's hash fall
 * below the threshold. Kept events carry the probability they were kept with (`sampleRatio`,
 * multiplied into any ratio set upstream) so counts can be scaled back.
 */
import type { EventKind, NetworkEvent } from '../../core/events';
import * as hashing from './hash';
import { NO_KEY as NO_KEY_BINDING, SamplingKeyHasher, type ConnectionKeySource } from './key';

// Read once: under the CommonJS interop every use of an imported name is a getter call.
const { HASH_BUCKETS, HASH_BUCKET_MASK, fnvWordLE, mixWord, scaledThreshold, seededBasis } = hashing;
const NO_KEY = NO_KEY_BINDING;

export type SamplingMode = 'per_connection' | 'per_event';

export interface SamplerOptions {
  samplingPercentage: number;
  hashSeed: number;
  mode: SamplingMode;
  connectionKey: ConnectionKeySource;
  useTraceId: boolean;
  excludeKinds: readonly EventKind[];
}

/** Counts of one sampleInPlace call; the caller owns and reuses the object. */
export interface BatchCounts {
  /** Sampled and kept. */
  kept: number;
  /** Sampled and dropped. */
  dropped: number;
  /** Passed through unsampled (exclude_kinds). */
  excluded: number;
}

export class Sampler {
  /** Buckets (of 2^14) that are kept. */
  readonly threshold: number;
  /** The probability an event is kept with: threshold / 2^14. */
  readonly ratio: number;
  private readonly hasher: SamplingKeyHasher;
  private readonly perEvent: boolean;
  private readonly excluded: ReadonlySet<string>;
  private readonly eventBasis: number;
  // Per-event decisions hash a running counter: deterministic for a given seed and stream.
  private eventCounter = 0;

  constructor(options: SamplerOptions) {
    this.threshold = scaledThreshold(options.samplingPercentage);
    this.ratio = this.threshold / HASH_BUCKETS;
    this.hasher = new SamplingKeyHasher(options.hashSeed, options.connectionKey, options.useTraceId);
    this.perEvent = options.mode === 'per_event';
    this.excluded = new Set(options.excludeKinds);
    // A different basis than the key hashes, so per-event coins are not correlated with them.
    this.eventBasis = fnvWordLE(seededBasis(options.hashSeed), 0x6576_6e74 /* 'evnt' */);
  }

  /** True when this event is kept. Does not touch the event. */
  keep(event: NetworkEvent): boolean {
    if (this.threshold >= HASH_BUCKETS) return true;
    if (this.threshold === 0) return false;
    // Spans of one trace share one fate in either mode.
    let bucket = this.hasher.hashTrace(event, HASH_BUCKET_MASK);
    if (bucket === NO_KEY && !this.perEvent) bucket = this.hasher.hashConnection(event, HASH_BUCKET_MASK);
    if (bucket === NO_KEY) bucket = this.nextEventBucket();
    return bucket < this.threshold;
  }

  /**
   * Keeps the sampled events of `batch`, compacting it in place (the batch array is reused;
   * nothing is allocated per event), and stamps their sampleRatio.
   */
  sampleInPlace(batch: NetworkEvent[], counts: BatchCounts): void {
    const ratio = this.ratio;
    let write = 0;
    let excluded = 0;
    for (let read = 0; read < batch.length; read++) {
      const event = batch[read];
      if (this.excluded.size !== 0 && this.excluded.has(event.kind)) {
        batch[write++] = event;
        excluded++;
        continue;
      }
      if (!this.keep(event)) continue;
      if (ratio < 1) event.sampleRatio = (event.sampleRatio ?? 1) * ratio;
      batch[write++] = event;
    }
    counts.dropped = batch.length - write;
    counts.kept = write - excluded;
    counts.excluded = excluded;
    batch.length = write;
  }

  private nextEventBucket(): number {
    const counter = this.eventCounter++;
    // The counter, spread by a murmur3-style finalizer: FNV alone over consecutive integers
    // leaves its low bits too regular for independent per-event coins.
    let hash = mixWord(this.eventBasis | 0, counter >>> 0);
    hash ^= hash >>> 16;
    hash = Math.imul(hash, 0x85ebca6b);
    hash ^= hash >>> 13;
    hash = Math.imul(hash, 0xc2b2ae35);
    hash ^= hash >>> 16;
    return hash & HASH_BUCKET_MASK;
  }
}
