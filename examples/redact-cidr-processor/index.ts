/**
 * redact_cidr: an example processor plugin. It is written only against the public plugin API
 * (core/component, core/events, core/processor-helper), exactly as a plugin outside this
 * repository would be; see docs/plugins.md. Load it from collector.yaml:
 *
 *   plugins: [./examples/redact-cidr-processor/index.ts]
 *   processors:
 *     redact_cidr:
 *       cidrs: [10.0.0.0/8]
 *
 * Out of the repository, import the same modules as `network-observer/core/component` etc.
 */
import type { Factory, ProcessorFactory, ValidationIssue } from '../../core/component';
import type { NetworkEvent } from '../../core/events';
import { createProcessor } from '../../core/processor-helper';
import type { RedactCidr } from './config.generated';
import schema from './config.schema.json';
import { AddressRedactor, parseCidr, type ParsedCidr } from './redactor';

/** The config the runtime hands over: the defaults merged with the user's keys, validated. */
export type RedactCidrConfig = Required<RedactCidr>;

export const factory: ProcessorFactory<RedactCidrConfig> = {
  kind: 'processor',
  type: 'redact_cidr',
  stability: 'alpha',
  description: 'Example plugin: redacts IP addresses inside configured CIDR ranges (event addresses, DNS answers).',
  configSchema: schema,

  createDefaultConfig(): RedactCidrConfig {
    return {
      cidrs: ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', 'fc00::/7'],
      action: 'network',
      replacement: 'redacted',
      fields: ['local_address', 'remote_address', 'dns_answers'],
      cache_size: 4096,
    };
  },

  // The schema checks shape; what it cannot express (is this string a CIDR?) is checked here,
  // every problem at once, each with the path of the offending list item.
  validate(config): ValidationIssue[] {
    const issues: ValidationIssue[] = [];
    config.cidrs.forEach((text, index) => {
      const parsed = parseCidr(text);
      if (typeof parsed === 'string') issues.push({ path: ['cidrs', index], message: parsed });
    });
    return issues;
  },

  createProcessor(settings, config, next) {
    // validate() ran before create, so every entry parses.
    const cidrs = config.cidrs.map((text) => parseCidr(text) as ParsedCidr);
    const redactor = new AddressRedactor(cidrs, config.action, config.replacement, config.cache_size);
    const local = config.fields.includes('local_address');
    const remote = config.fields.includes('remote_address');
    const answers = config.fields.includes('dns_answers');
    const { telemetry } = settings;
    telemetry.add('redacted', 0);

    const redactEvent = (event: NetworkEvent): number => {
      let changed = 0;
      if (local) {
        const replacement = redactor.redact(event.localAddress);
        if (replacement !== null) {
          event.localAddress = replacement;
          changed++;
        }
      }
      if (remote) {
        const replacement = redactor.redact(event.remoteAddress);
        if (replacement !== null) {
          event.remoteAddress = replacement;
          changed++;
        }
      }
      if (answers && event.kind === 'l7.dns') {
        for (const answer of event.answers) {
          if (answer.type !== 'A' && answer.type !== 'AAAA') continue;
          const replacement = redactor.redact(answer.data);
          if (replacement !== null) {
            answer.data = replacement;
            changed++;
          }
        }
      }
      return changed;
    };

    settings.logger.debug(`redacting ${config.fields.join(', ')} inside ${config.cidrs.join(', ')}`);
    return createProcessor(settings, next, {
      // Events are changed in place: fan-out must give this processor its own copy.
      mutatesData: true,
      process(batch) {
        let redacted = 0;
        for (const event of batch) redacted += redactEvent(event);
        if (redacted > 0) telemetry.add('redacted', redacted);
        return batch;
      },
    });
  },
};

/** The runtime looks for `factories` (or `factory`, or a default export). */
export const factories: Factory[] = [factory];
