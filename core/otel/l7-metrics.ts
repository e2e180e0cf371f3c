/**
 * The semconv duration histograms of L7 transactions, recorded on the collector's shared
 * MeterProvider: http.server.request.duration, http.client.request.duration,
 * rpc.server.call.duration, rpc.client.call.duration and dns.lookup.duration (seconds, semconv
 * bucket boundaries through instrument advice).
 *
 * Several exporters (otlp_http, stdout) may see the same events, and all their metric readers
 * sit on ONE MeterProvider, so a transaction must be recorded once, not once per exporter:
 * the recorder is shared per provider and remembers the event objects it has recorded (fan-out
 * hands read-only consumers the same objects).
 */
import type { Attributes, Histogram, MeterProvider } from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_K8S_NAMESPACE_NAME,
  ATTR_NETWORK_PROTOCOL_VERSION,
  ATTR_RPC_METHOD,
  ATTR_RPC_STATUS_CODE,
  ATTR_RPC_SYSTEM_NAME,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_SCHEME,
  METRIC_HTTP_CLIENT_REQUEST_DURATION,
  METRIC_HTTP_SERVER_REQUEST_DURATION,
  METRIC_RPC_CLIENT_CALL_DURATION,
  METRIC_RPC_SERVER_CALL_DURATION,
} from '@opentelemetry/semantic-conventions';
import type { L7Event, NetworkEvent } from '../events';
import * as sc from '../semconv';
import { l7Attributes, newAttributes } from './attributes';
import { OBSERVER_VERSION } from './resource';

/** Cap on how many times one sampled event is counted (1/sampleRatio, rounded). */
const MAX_SAMPLE_WEIGHT = 1000;

/**
 * Attributes kept on the histograms: the semconv metric attributes plus the observed process /
 * workload identity (one observer watches many services; without it all of them would merge
 * into one series). Everything else on the span (paths, addresses, ids) is high-cardinality.
 */
const IDENTITY_KEYS = [
  sc.ATTR_PROCESS_EXECUTABLE_NAME,
  ATTR_K8S_NAMESPACE_NAME,
  'k8s.deployment.name',
  'k8s.statefulset.name',
  'k8s.daemonset.name',
  'k8s.job.name',
  'k8s.cronjob.name',
  sc.ATTR_K8S_SERVICE_NAME,
] as const;

const HTTP_SERVER_KEYS = [ATTR_HTTP_REQUEST_METHOD, ATTR_URL_SCHEME, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_NETWORK_PROTOCOL_VERSION, ATTR_SERVER_PORT, ATTR_ERROR_TYPE, ...IDENTITY_KEYS];
const HTTP_CLIENT_KEYS = [ATTR_HTTP_REQUEST_METHOD, ATTR_URL_SCHEME, ATTR_HTTP_RESPONSE_STATUS_CODE, ATTR_NETWORK_PROTOCOL_VERSION, ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT, ATTR_ERROR_TYPE, ...IDENTITY_KEYS];
const RPC_SERVER_KEYS = [ATTR_RPC_SYSTEM_NAME, ATTR_RPC_METHOD, ATTR_RPC_STATUS_CODE, ATTR_SERVER_PORT, ATTR_ERROR_TYPE, ...IDENTITY_KEYS];
const RPC_CLIENT_KEYS = [ATTR_RPC_SYSTEM_NAME, ATTR_RPC_METHOD, ATTR_RPC_STATUS_CODE, ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT, ATTR_ERROR_TYPE, ...IDENTITY_KEYS];
const DNS_KEYS = [sc.ATTR_DNS_QUESTION_NAME, ATTR_ERROR_TYPE, ...IDENTITY_KEYS];

function pick(from: Attributes, keys: readonly string[]): Attributes {
  const out = newAttributes();
  for (const key of keys) {
    const value = from[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}

export interface DurationInstrument {
  name: string;
  description: string;
}

/** Names and descriptions of every histogram this module records. */
export const L7_DURATION_METRICS: readonly DurationInstrument[] = Object.freeze([
  { name: METRIC_HTTP_SERVER_REQUEST_DURATION, description: 'Duration of HTTP server requests observed on the wire.' },
  { name: METRIC_HTTP_CLIENT_REQUEST_DURATION, description: 'Duration of HTTP client requests observed on the wire.' },
  { name: METRIC_RPC_SERVER_CALL_DURATION, description: 'Duration of gRPC calls served, observed on the wire.' },
  { name: METRIC_RPC_CLIENT_CALL_DURATION, description: 'Duration of gRPC calls made, observed on the wire.' },
  { name: sc.METRIC_DNS_LOOKUP_DURATION, description: 'Duration of DNS lookups observed on the wire.' },
]);

export class L7MetricsRecorder {
  private static readonly byProvider = new WeakMap<MeterProvider, L7MetricsRecorder>();

  /** The one recorder of a provider. */
  static for(provider: MeterProvider): L7MetricsRecorder {
    let recorder = L7MetricsRecorder.byProvider.get(provider);
    if (!recorder) {
      recorder = new L7MetricsRecorder(provider);
      L7MetricsRecorder.byProvider.set(provider, recorder);
    }
    return recorder;
  }

  private readonly seen = new WeakSet<NetworkEvent>();
  private readonly httpServer: Histogram;
  private readonly httpClient: Histogram;
  private readonly rpcServer: Histogram;
  private readonly rpcClient: Histogram;
  private readonly dnsLookup: Histogram;

  private constructor(provider: MeterProvider) {
    const meter = provider.getMeter(sc.INSTRUMENTATION_SCOPE_NAME, OBSERVER_VERSION);
    const make = (index: number): Histogram =>
      meter.createHistogram(L7_DURATION_METRICS[index].name, {
        unit: 's',
        description: L7_DURATION_METRICS[index].description,
        advice: { explicitBucketBoundaries: [...sc.SEMCONV_DURATION_BUCKETS_SECONDS] },
      });
    this.httpServer = make(0);
    this.httpClient = make(1);
    this.rpcServer = make(2);
    this.rpcClient = make(3);
    this.dnsLookup = make(4);
  }

  /** Records every L7 event of the batch not recorded before; other kinds are ignored. */
  recordBatch(batch: readonly NetworkEvent[]): void {
    for (let i = 0; i < batch.length; i++) {
      const event = batch[i];
      if (event.kind.startsWith('l7.')) this.record(event as L7Event);
    }
  }

  /**
   * Records one transaction unless it was recorded before. `attributes` are its span
   * attributes when the caller already computed them (saves mapping twice).
   */
  record(event: L7Event, attributes?: Attributes): void {
    if (this.seen.has(event)) return;
    this.seen.add(event);
    let histogram: Histogram;
    let keys: readonly string[];
    const server = event.side === 'server';
    switch (event.kind) {
      case 'l7.http':
        histogram = server ? this.httpServer : this.httpClient;
        keys = server ? HTTP_SERVER_KEYS : HTTP_CLIENT_KEYS;
        break;
      case 'l7.grpc':
        if (event.isGrpc) {
          histogram = server ? this.rpcServer : this.rpcClient;
          keys = server ? RPC_SERVER_KEYS : RPC_CLIENT_KEYS;
        } else {
          histogram = server ? this.httpServer : this.httpClient;
          keys = server ? HTTP_SERVER_KEYS : HTTP_CLIENT_KEYS;
        }
        break;
      case 'l7.dns':
        // dns.lookup.duration is the resolver client's view; a DNS server's answers are spans only.
        if (server) return;
        histogram = this.dnsLookup;
        keys = DNS_KEYS;
        break;
      case 'l7.tls':
        return;
    }
    const seconds = Math.max(0, event.endUs - event.startUs) / 1e6;
    const picked = pick(attributes ?? l7Attributes(event), keys);
    const ratio = event.sampleRatio;
    // A sampler kept 1 in 1/ratio events: count this one that many times so rates stay true.
    const weight = ratio !== undefined && ratio > 0 && ratio < 1 ? Math.min(MAX_SAMPLE_WEIGHT, Math.round(1 / ratio)) : 1;
    for (let n = 0; n < weight; n++) histogram.record(seconds, picked);
  }
}
