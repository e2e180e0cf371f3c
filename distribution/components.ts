/**
 * The product's distribution, as the OpenTelemetry Collector keeps its components.go apart
 * from its core: the factories that ship with the product. They are registered through the same public API as
 * plugin factories; nothing here gets a private shortcut. Component modules must not touch
 * the kernel or the network at import time (only in create/start), so `validate` and
 * `components` work on any machine.
 */
import type { Factory } from '../core/component';
import { factory as ebpfNetwork } from '../receivers/ebpf_network';
import { factory as l7 } from '../processors/l7';
import { factory as conntrack } from '../processors/conntrack';
import { factory as k8sAttributes } from '../processors/k8s_attributes';
import { factory as probabilisticSampler } from '../processors/probabilistic_sampler';
import { factory as rateLimit } from '../processors/rate_limit';
import { factory as stdoutExporter } from '../exporters/stdout';
import { factory as otlpExporter } from '../exporters/otlp';
import { factory as prometheusExporter } from '../exporters/prometheus';

export function builtinFactories(): Factory[] {
  return [
    ebpfNetwork,
    conntrack,
    l7,
    k8sAttributes,
    probabilisticSampler,
    rateLimit,
    stdoutExporter,
    otlpExporter,
    prometheusExporter,
  ];
}
