/**
 * The semconv duration histograms of L7 transactions, recorded on the collector's shared
 * MeterProvider: http.server.request.duration, http.client.request.duration,
 * rpc.server.call.duration, rpc.client.call.duration and dns.lookup.duration (seconds, semconv
 * bucket boundaries through instrument advice).
 *
 * The component that derives the transactions records them (the l7 processor, as the
 * Collector's spanmetrics connector derives metrics from spans), before any sampler or rate
 * limiter: every transaction counts once, whatever later reaches the exporters, and however many
 * exporters read metrics.
 *
 * Cost per transaction: the SDK hashes the attribute set of every record, and that stays. What
 * this module avoids is mapping the whole span (20-odd attributes) and allocating an attribute
 * object per transaction: the few metric attributes are read straight from the event, through
 * the same functions the span mapping uses, joined into a key, and the attribute object of that
 * key is reused from a bounded cache.
 */
import type { Attributes, Histogram, MeterProvider } from '@opentelemetry/api';
import {
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_K8S_CRONJOB_NAME,
  ATTR_K8S_DAEMONSET_NAME,
  ATTR_K8S_DEPLOYMENT_NAME,
  ATTR_K8S_JOB_NAME,
  ATTR_K8S_NAMESPACE_NAME,
  ATTR_K8S_STATEFULSET_NAME,
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
  RPC_SYSTEM_NAME_VALUE_GRPC,
} from '@opentelemetry/semantic-conventions';
import type { DnsTransactionEvent, GrpcCallEvent, HttpTransactionEvent, L7Event, NetworkEvent } from '../events';
import { LruMap } from '../lru';
import * as sc from '../semconv';
import {
  OWNER_ATTRIBUTE,
  grpcMethod,
  httpMethod,
  httpProtocolVersion,
  l7ErrorType,
  logicalHost,
  newAttributes,
  rpcStatusCode,
  serverAddress,
  serverPort,
  urlScheme,
} from './attributes';
import { OBSERVER_VERSION } from './resource';

/**
 * Attribute sets kept per histogram: the SDK's own default cardinality limit per instrument,
 * beyond which it folds series into one overflow series anyway.
 */
const ATTRIBUTE_SETS_PER_HISTOGRAM = 2000;

/** One metric attribute: its name and how to read its value from a transaction. */
interface Field<E extends L7Event> {
  readonly name: string;
  /** `host` is logicalHost(event), read once per transaction. */
  value(event: E, host: string | undefined): string | number | undefined;
}

type HttpLike = HttpTransactionEvent | GrpcCallEvent;

const field = <E extends L7Event>(name: string, value: Field<E>['value']): Field<E> => ({ name, value });

/** The workload's name under `name` when its controller's kind maps to that attribute (OWNER_ATTRIBUTE). */
const ownerField = (name: string): Field<L7Event> =>
  field(name, (e) => (e.k8s?.ownerKind && e.k8s.ownerName && OWNER_ATTRIBUTE[e.k8s.ownerKind] === name ? e.k8s.ownerName : undefined));

/**
 * The observed process / workload identity (one observer watches many services; without it all
 * of them would merge into one series). Everything else on the span (paths, addresses, ids) is
 * high-cardinality and stays off the histograms.
 */
const IDENTITY: readonly Field<L7Event>[] = [
  field(sc.ATTR_PROCESS_EXECUTABLE_NAME, (e) => e.process.comm || undefined),
  field(ATTR_K8S_NAMESPACE_NAME, (e) => e.k8s?.namespace || undefined),
  ownerField(ATTR_K8S_DEPLOYMENT_NAME),
  ownerField(ATTR_K8S_STATEFULSET_NAME),
  ownerField(ATTR_K8S_DAEMONSET_NAME),
  ownerField(ATTR_K8S_JOB_NAME),
  ownerField(ATTR_K8S_CRONJOB_NAME),
  field(sc.ATTR_K8S_SERVICE_NAME, (e) => e.k8s?.serviceName || undefined),
];

const SERVER_ADDRESS = field<L7Event>(ATTR_SERVER_ADDRESS, serverAddress);
const SERVER_PORT = field<L7Event>(ATTR_SERVER_PORT, serverPort);
const ERROR_TYPE = field<L7Event>(ATTR_ERROR_TYPE, l7ErrorType);

/** HTTP/1.x transactions and HTTP/2 exchanges that are not gRPC. */
const HTTP_METHOD = field<HttpLike>(ATTR_HTTP_REQUEST_METHOD, (e) => httpMethod(e.method));
const URL_SCHEME = field<HttpLike>(ATTR_URL_SCHEME, urlScheme);
const HTTP_STATUS = field<HttpLike>(ATTR_HTTP_RESPONSE_STATUS_CODE, (e) => {
  const status = e.kind === 'l7.http' ? e.statusCode : e.httpStatusCode;
  return status > 0 ? status : undefined;
});
const HTTP_VERSION = field<HttpLike>(ATTR_NETWORK_PROTOCOL_VERSION, (e) => {
  if (e.kind === 'l7.grpc') return '2';
  return e.httpVersion ? httpProtocolVersion(e.httpVersion) : undefined;
});

const RPC_SYSTEM = field<GrpcCallEvent>(ATTR_RPC_SYSTEM_NAME, () => RPC_SYSTEM_NAME_VALUE_GRPC);
const RPC_METHOD = field<GrpcCallEvent>(ATTR_RPC_METHOD, grpcMethod);
const RPC_STATUS = field<GrpcCallEvent>(ATTR_RPC_STATUS_CODE, rpcStatusCode);

// In each list the semconv attributes come first, then the identity, the order exporters show.
const HTTP_SERVER: readonly Field<HttpLike>[] = [HTTP_METHOD, URL_SCHEME, HTTP_STATUS, HTTP_VERSION, SERVER_PORT, ERROR_TYPE, ...IDENTITY];
const HTTP_CLIENT: readonly Field<HttpLike>[] = [HTTP_METHOD, URL_SCHEME, HTTP_STATUS, HTTP_VERSION, SERVER_ADDRESS, SERVER_PORT, ERROR_TYPE, ...IDENTITY];
const RPC_SERVER: readonly Field<GrpcCallEvent>[] = [RPC_SYSTEM, RPC_METHOD, RPC_STATUS, SERVER_PORT, ERROR_TYPE, ...IDENTITY];
const RPC_CLIENT: readonly Field<GrpcCallEvent>[] = [RPC_SYSTEM, RPC_METHOD, RPC_STATUS, SERVER_ADDRESS, SERVER_PORT, ERROR_TYPE, ...IDENTITY];
const DNS: readonly Field<DnsTransactionEvent>[] = [field(sc.ATTR_DNS_QUESTION_NAME, (e) => e.questionName), ERROR_TYPE, ...IDENTITY];

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

/** One histogram with the attributes it carries and the attribute sets seen recently. */
class DurationHistogram<E extends L7Event> {
  private readonly sets = new LruMap<string, Attributes>(ATTRIBUTE_SETS_PER_HISTOGRAM);

  constructor(
    private readonly histogram: Histogram,
    private readonly fields: readonly Field<E>[],
  ) {}

  record(event: E): void {
    const host = logicalHost(event);
    // Length-prefixed, so no two different attribute sets share a key whatever the values hold.
    let key = '';
    for (let i = 0; i < this.fields.length; i++) {
      const value = this.fields[i].value(event, host);
      if (value === undefined) key += 'u';
      else if (typeof value === 'number') key += `n${value};`;
      else key += `s${value.length}:${value}`;
    }
    let attributes = this.sets.get(key);
    if (attributes === undefined) {
      attributes = this.attributesOf(event, host);
      this.sets.set(key, attributes);
    }
    this.histogram.record(Math.max(0, event.endUs - event.startUs) / 1e6, attributes);
  }

  private attributesOf(event: E, host: string | undefined): Attributes {
    const out = newAttributes();
    for (const f of this.fields) {
      const value = f.value(event, host);
      if (value !== undefined) out[f.name] = value;
    }
    return Object.freeze(out);
  }
}

export class L7MetricsRecorder {
  private readonly httpServer: DurationHistogram<HttpLike>;
  private readonly httpClient: DurationHistogram<HttpLike>;
  private readonly rpcServer: DurationHistogram<GrpcCallEvent>;
  private readonly rpcClient: DurationHistogram<GrpcCallEvent>;
  private readonly dnsLookup: DurationHistogram<DnsTransactionEvent>;

  constructor(provider: MeterProvider) {
    const meter = provider.getMeter(sc.INSTRUMENTATION_SCOPE_NAME, OBSERVER_VERSION);
    const make = (index: number): Histogram =>
      meter.createHistogram(L7_DURATION_METRICS[index].name, {
        unit: 's',
        description: L7_DURATION_METRICS[index].description,
        advice: { explicitBucketBoundaries: [...sc.SEMCONV_DURATION_BUCKETS_SECONDS] },
      });
    this.httpServer = new DurationHistogram(make(0), HTTP_SERVER);
    this.httpClient = new DurationHistogram(make(1), HTTP_CLIENT);
    this.rpcServer = new DurationHistogram(make(2), RPC_SERVER);
    this.rpcClient = new DurationHistogram(make(3), RPC_CLIENT);
    this.dnsLookup = new DurationHistogram(make(4), DNS);
  }

  /** Records every L7 transaction of the batch; other kinds are skipped. */
  recordBatch(batch: readonly NetworkEvent[]): void {
    for (let i = 0; i < batch.length; i++) {
      const event = batch[i];
      switch (event.kind) {
        case 'l7.http':
        case 'l7.grpc':
        case 'l7.dns':
          this.record(event);
      }
    }
  }

  /** Records one transaction; TLS handshakes have no duration histogram. */
  record(event: L7Event): void {
    const server = event.side === 'server';
    switch (event.kind) {
      case 'l7.http':
        (server ? this.httpServer : this.httpClient).record(event);
        return;
      case 'l7.grpc':
        if (event.isGrpc) (server ? this.rpcServer : this.rpcClient).record(event);
        else (server ? this.httpServer : this.httpClient).record(event);
        return;
      case 'l7.dns':
        // dns.lookup.duration is the resolver client's view; a DNS server's answers are spans only.
        if (!server) this.dnsLookup.record(event);
        return;
      case 'l7.tls':
        return;
    }
  }
}
