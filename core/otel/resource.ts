/**
 * The Resource describing the observer itself. One object per service name, reused for every
 * span, log and metric export: the OTLP serializers group records by Resource object identity,
 * so a fresh object per record would emit one ResourceSpans per span.
 */
import { hostname } from 'node:os';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { Attributes } from '@opentelemetry/api';
import {
  ATTR_K8S_NODE_NAME,
  ATTR_SERVICE_NAME,
  ATTR_SERVICE_VERSION,
  ATTR_TELEMETRY_SDK_LANGUAGE,
  ATTR_TELEMETRY_SDK_NAME,
  ATTR_TELEMETRY_SDK_VERSION,
  TELEMETRY_SDK_LANGUAGE_VALUE_NODEJS,
} from '@opentelemetry/semantic-conventions';
import { ATTR_HOST_NAME } from '../semconv';
import { OBSERVER_VERSION } from '../identity';
import { version as SDK_VERSION } from '@opentelemetry/sdk-metrics/package.json';

export const DEFAULT_SERVICE_NAME = 'network-observer';

const cache = new Map<string, Resource>();

/** `service.name`, `service.version`, `host.name`, `k8s.node.name` (from K8S_NODE_NAME or NODE_NAME). */
export function observerResourceAttributes(serviceName: string, env: NodeJS.ProcessEnv = process.env): Attributes {
  const attributes: Attributes = {
    [ATTR_SERVICE_NAME]: serviceName,
    [ATTR_SERVICE_VERSION]: OBSERVER_VERSION,
    [ATTR_HOST_NAME]: hostname(),
    [ATTR_TELEMETRY_SDK_NAME]: 'opentelemetry',
    [ATTR_TELEMETRY_SDK_LANGUAGE]: TELEMETRY_SDK_LANGUAGE_VALUE_NODEJS,
    [ATTR_TELEMETRY_SDK_VERSION]: SDK_VERSION,
  };
  const node = env.K8S_NODE_NAME || env.NODE_NAME;
  if (node) attributes[ATTR_K8S_NODE_NAME] = node;
  return attributes;
}

export function observerResource(serviceName: string = DEFAULT_SERVICE_NAME): Resource {
  let resource = cache.get(serviceName);
  if (!resource) {
    resource = resourceFromAttributes(observerResourceAttributes(serviceName));
    cache.set(serviceName, resource);
  }
  return resource;
}

export { OBSERVER_VERSION };
