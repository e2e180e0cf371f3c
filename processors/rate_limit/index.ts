/**
 * rate_limit: token-bucket rate limiting, global or per key, dropping or delaying excess
 * events within fixed bounds. See README.md.
 */
import type { ProcessorFactory, ValidationIssue } from '../../core/component';
import { defaultsFromSchema } from '../../core/config/schema-defaults';
import type { NetworkEvent } from '../../core/events';
import { createProcessor, type ProcessorHelper } from '../../core/processor-helper';
import type { RateLimitProcessorConfig } from './config.generated';
import schema from './config.schema.json';
import { RateLimiter, effectiveBurst } from './limiter';

export type RateLimitConfig = Required<RateLimitProcessorConfig>;

export const factory: ProcessorFactory<RateLimitConfig> = {
  kind: 'processor',
  type: 'rate_limit',
  stability: 'beta',
  description: 'Caps the event rate with token buckets (global, per process, pod or destination); drops or delays the excess, bounded.',
  configSchema: schema,

  createDefaultConfig: () => defaultsFromSchema<RateLimitConfig>(schema),

  validate(config): ValidationIssue[] {
    const issues: ValidationIssue[] = [];
    if (config.behavior === 'delay' && config.max_delay <= 0) {
      issues.push({ path: ['max_delay'], message: 'must be above 0 with behavior: delay (or use behavior: drop)' });
    }
    if (config.behavior === 'delay' && config.max_delay > 60_000) {
      issues.push({ path: ['max_delay'], message: 'must be at most 1m: held events are in memory and shutdown waits for them' });
    }
    return issues;
  },

  createProcessor(settings, config, next) {
    const { telemetry } = settings;
    let helper: ProcessorHelper | undefined;
    const limiter = new RateLimiter(
      {
        eventsPerSecond: config.events_per_second,
        burst: effectiveBurst(config.burst, config.events_per_second),
        key: config.key,
        maxKeys: config.max_keys,
        behavior: config.behavior,
        maxDelayMs: config.max_delay,
        maxQueuedEvents: config.max_queued_events,
      },
      settings.clock,
      telemetry,
      settings.logger,
      (batch: NetworkEvent[]) => helper!.emit(batch),
    );
    telemetry.add('delayed', 0);
    telemetry.add('overflow', 0);
    telemetry.registerGauge('queued', () => limiter.queued);
    telemetry.registerGauge('keys', () => limiter.keys);
    helper = createProcessor(settings, next, {
      // Passes the batch itself or a new array; events are never changed.
      mutatesData: false,
      process: (batch) => limiter.admit(batch),
      shutdown: () => limiter.shutdown(),
    });
    return helper;
  },
};
