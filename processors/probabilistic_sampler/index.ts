/**
 * probabilistic_sampler: keeps a consistent share of connections and traces. See README.md.
 */
import type { ProcessorFactory, ValidationIssue } from '../../core/component';
import { defaultsFromSchema } from '../../core/config/schema-defaults';
import { createProcessor } from '../../core/processor-helper';
import type { ProbabilisticSamplerProcessorConfig } from './config.generated';
import schema from './config.schema.json';
import { MIN_NONZERO_PERCENTAGE, scaledThreshold } from './hash';
import { Sampler, type BatchCounts } from './sampler';

export type ProbabilisticSamplerConfig = Required<ProbabilisticSamplerProcessorConfig>;

/** The original Go observer's SamplingRate (0.0-1.0) as this processor's sampling_percentage. */
export function samplingPercentageFromRate(rate: number): number {
  return rate * 100;
}

export const factory: ProcessorFactory<ProbabilisticSamplerConfig> = {
  kind: 'processor',
  type: 'probabilistic_sampler',
  stability: 'beta',
  description: 'Keeps a consistent percentage of connections and traces; marks kept events with their sampling ratio.',
  configSchema: schema,

  createDefaultConfig: () => defaultsFromSchema<ProbabilisticSamplerConfig>(schema),

  validate(config): ValidationIssue[] {
    const issues: ValidationIssue[] = [];
    const pct = config.sampling_percentage;
    if (pct > 0 && scaledThreshold(pct) === 0) {
      issues.push({
        path: ['sampling_percentage'],
        message:
          `${pct} % is below the smallest percentage this sampler can keep (${MIN_NONZERO_PERCENTAGE.toPrecision(5)}, ` +
          'one hash bucket in 16384); use 0 to drop everything or raise it',
      });
    }
    return issues;
  },

  createProcessor(settings, config, next) {
    const sampler = new Sampler({
      samplingPercentage: config.sampling_percentage,
      hashSeed: config.hash_seed,
      mode: config.mode,
      connectionKey: config.connection_key,
      useTraceId: config.use_trace_id,
      excludeKinds: config.exclude_kinds,
    });
    const { telemetry } = settings;
    const counts: BatchCounts = { kept: 0, dropped: 0, excluded: 0 };
    telemetry.registerGauge('sampling_ratio', () => sampler.ratio);
    telemetry.add('sampled', 0);
    telemetry.add('excluded', 0);
    if (sampler.ratio < 1) {
      settings.logger.debug(
        `keeping ${(sampler.ratio * 100).toFixed(4)} % (${sampler.threshold}/16384 buckets) by ` +
          `${config.mode === 'per_event' ? 'event' : config.connection_key}${config.use_trace_id ? ', trace id first' : ''}`,
      );
    }
    return createProcessor(settings, next, {
      // At 100 % nothing is touched, so fan-out need not copy batches for this sampler.
      mutatesData: sampler.ratio < 1,
      process(batch) {
        if (sampler.ratio >= 1) {
          telemetry.add('sampled', batch.length);
          return batch;
        }
        sampler.sampleInPlace(batch, counts);
        telemetry.add('sampled', counts.kept);
        if (counts.excluded > 0) telemetry.add('excluded', counts.excluded);
        if (counts.dropped > 0) telemetry.dropped(counts.dropped);
        return batch;
      },
    });
  },
};
