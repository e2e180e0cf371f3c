/**
 * Connection and flow metrics with bounded cardinality.
 *
 * Every table entry is assigned a metric series when it is created: the configured attribute set
 * evaluated on its first event. Counters are accumulated here per series in a Float64Array and
 * reported through observable instruments at collection time, because a synchronous
 * `counter.add()` hashes its attribute object on every call (about a microsecond), which the
 * table's event rate cannot afford. Histograms have no observable form, so duration and RTT are
 * recorded once per closed connection.
 *
 * Cardinality: at most `maxSeries` distinct attribute sets; entries beyond that share one
 * overflow series marked `otel.metric.overflow=true` (the name the OpenTelemetry metrics SDK uses
 * for the same purpose) and are counted in the `metric_series_overflow` telemetry counter.
 * Per-instrument attributes (io direction, close reason, error type) are small enums added on
 * top, so an instrument holds at most maxSeries x (enum size) + overflow series.
 */
import type { Attributes, BatchObservableResult, Histogram, Meter, Observable, ObservableCounter } from '@opentelemetry/api';
import {
  ATTR_CONTAINER_ID,
  ATTR_ERROR_TYPE,
  ATTR_K8S_CONTAINER_NAME,
  ATTR_K8S_NAMESPACE_NAME,
  ATTR_K8S_NODE_NAME,
  ATTR_K8S_POD_NAME,
  ATTR_NETWORK_LOCAL_ADDRESS,
  ATTR_NETWORK_LOCAL_PORT,
  ATTR_NETWORK_PEER_ADDRESS,
  ATTR_NETWORK_PEER_PORT,
  ATTR_NETWORK_TRANSPORT,
  ATTR_NETWORK_TYPE,
} from '@opentelemetry/semantic-conventions';
import type { EventHeader } from '../../core/events';
import {
  ATTR_NETWORK_CONNECTION_STATE,
  ATTR_NETWORK_IO_DIRECTION,
  ATTR_NO_CLOSE_REASON,
  ATTR_NO_DIRECTION,
  ATTR_OTEL_METRIC_OVERFLOW,
  ATTR_PROCESS_EXECUTABLE_NAME,
  ATTR_PROCESS_PID,
  METRIC_NO_CONNECTION_ACTIVE,
  METRIC_NO_CONNECTION_CLOSED,
  METRIC_NO_CONNECTION_DURATION,
  METRIC_NO_CONNECTION_FAILED,
  METRIC_NO_CONNECTION_OPENED,
  METRIC_NO_CONNECTION_RETRANSMITS,
  METRIC_NO_CONNECTION_RTT,
  METRIC_NO_IO,
  METRIC_NO_PACKETS,
  NETWORK_IO_DIRECTION_VALUE_RECEIVE,
  NETWORK_IO_DIRECTION_VALUE_TRANSMIT,
} from '../../core/semconv';
import type { ComponentTelemetry } from '../../core/telemetry';
import { CLOSE_REASONS, FAILURE_REASONS } from './codes';
import { OWNER_ATTRIBUTE } from '../../core/otel/attributes';

/**
 * Attribute selectors accepted in `metrics.attributes`. Each is the semantic-convention name it
 * produces, except `k8s.owner`, which produces the owner's own name attribute
 * (k8s.deployment.name, k8s.statefulset.name, ...) for the pod's controlling workload.
 */
export const METRIC_ATTRIBUTE_CHOICES = [
  ATTR_NETWORK_TRANSPORT,
  ATTR_NETWORK_TYPE,
  ATTR_NO_DIRECTION,
  ATTR_NETWORK_PEER_ADDRESS,
  ATTR_NETWORK_PEER_PORT,
  ATTR_NETWORK_LOCAL_ADDRESS,
  ATTR_NETWORK_LOCAL_PORT,
  ATTR_PROCESS_EXECUTABLE_NAME,
  ATTR_PROCESS_PID,
  ATTR_K8S_NAMESPACE_NAME,
  ATTR_K8S_POD_NAME,
  ATTR_K8S_CONTAINER_NAME,
  ATTR_K8S_NODE_NAME,
  ATTR_CONTAINER_ID,
  'k8s.owner',
] as const;
export type MetricAttributeChoice = (typeof METRIC_ATTRIBUTE_CHOICES)[number];


/** Sets one configured attribute on `attrs` from an event header, when present. */
function applyAttribute(choice: MetricAttributeChoice, h: EventHeader, attrs: Attributes): void {
  const v = attributeKey(CHOICE_CODE.get(choice)!, h);
  if (v === '' || v === undefined || v === null) return;
  if (choice === 'k8s.owner') {
    const name = OWNER_ATTRIBUTE[h.k8s!.ownerKind!];
    if (name) attrs[name] = h.k8s!.ownerName!;
    return;
  }
  const numeric = choice === ATTR_NETWORK_PEER_PORT || choice === ATTR_NETWORK_LOCAL_PORT || choice === ATTR_PROCESS_PID;
  attrs[choice] = numeric ? Number(v) : v;
}

const CHOICE_CODE = new Map<MetricAttributeChoice, number>(METRIC_ATTRIBUTE_CHOICES.map((c, i) => [c, i]));

/**
 * The configured attribute `code` (index in METRIC_ATTRIBUTE_CHOICES) of an event as a string,
 * '' when absent. One switch instead of a closure per attribute: this runs for every new table
 * entry, and a call site shared by many closures cannot be inlined.
 */
function attributeKey(code: number, h: EventHeader): string {
  switch (code) {
    case 0: return h.transport;
    case 1: return h.networkType;
    case 2: return h.direction;
    case 3: return h.remoteAddress;
    case 4: return h.remotePort > 0 ? String(h.remotePort) : '';
    case 5: return h.localAddress;
    case 6: return h.localPort > 0 ? String(h.localPort) : '';
    case 7: return h.process ? h.process.comm : '';
    case 8: return h.process && h.process.pid > 0 ? String(h.process.pid) : '';
    case 9: return h.k8s?.namespace ?? '';
    case 10: return h.k8s?.podName ?? '';
    case 11: return h.k8s?.containerName ?? '';
    case 12: return h.k8s?.nodeName ?? '';
    case 13: return h.k8s?.containerId ?? '';
    case 14: return h.k8s?.ownerKind && h.k8s.ownerName && OWNER_ATTRIBUTE[h.k8s.ownerKind] ? `${h.k8s.ownerKind}/${h.k8s.ownerName}` : '';
    default: return '';
  }
}

// Per-series accumulator layout.
const OPENED = 0;
const CLOSED = 1; // + close reason code (6)
const FAILED = 7; // + failure reason code (5)
const TX_BYTES = 12;
const RX_BYTES = 13;
const TX_PACKETS = 14;
const RX_PACKETS = 15;
const RETRANSMITS = 16;
const STRIDE = 17;

export const OVERFLOW_SERIES = 0;

const DURATION_BUCKETS_S = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 14400];
const RTT_BUCKETS_S = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

export interface ActiveCounts {
  tcp: number;
  udp: number;
  icmp: number;
}

export interface ConntrackMetricsOptions {
  attributes: readonly MetricAttributeChoice[];
  maxSeries: number;
}

export class ConntrackMetrics {
  private readonly codes: Int8Array;
  private readonly byKey = new Map<string, number>();
  private readonly base: Attributes[] = [];
  private readonly transmit: Attributes[] = [];
  private readonly receive: Attributes[] = [];
  /** Lazily built attribute variants, [series][reason]. */
  private readonly closedAttrs: Array<Array<Attributes | undefined>> = [];
  private readonly failedAttrs: Array<Array<Attributes | undefined>> = [];
  private acc = new Float64Array(STRIDE * 64);
  private count = 0;

  private readonly duration: Histogram;
  private readonly rtt: Histogram;
  private readonly observables: Observable[];
  private readonly callback: (result: BatchObservableResult) => void;
  private readonly activeAttrs: Record<keyof ActiveCounts, Attributes> = {
    tcp: { [ATTR_NETWORK_TRANSPORT]: 'tcp', [ATTR_NETWORK_CONNECTION_STATE]: 'established' },
    udp: { [ATTR_NETWORK_TRANSPORT]: 'udp' },
    icmp: { [ATTR_NETWORK_TRANSPORT]: 'icmp' },
  };

  constructor(
    private readonly meter: Meter,
    private readonly options: ConntrackMetricsOptions,
    private readonly telemetry: ComponentTelemetry,
    readActive: () => ActiveCounts,
  ) {
    this.codes = Int8Array.from(options.attributes.map((a) => CHOICE_CODE.get(a)!));
    this.addSeries({ [ATTR_OTEL_METRIC_OVERFLOW]: true });

    const active = meter.createObservableUpDownCounter(METRIC_NO_CONNECTION_ACTIVE, {
      description: 'Open TCP connections and active UDP/ICMP flows in the connection table',
      unit: '{connection}',
    });
    const opened = meter.createObservableCounter(METRIC_NO_CONNECTION_OPENED, {
      description: 'TCP connections opened (connect or accept observed)',
      unit: '{connection}',
    });
    const closed = meter.createObservableCounter(METRIC_NO_CONNECTION_CLOSED, {
      description: 'TCP connections closed, by close reason (fin, reset, timeout, evicted, refused, unknown)',
      unit: '{connection}',
    });
    const failed = meter.createObservableCounter(METRIC_NO_CONNECTION_FAILED, {
      description: 'Failed TCP connects, by error.type (refused, timeout, reset, unreachable, unknown)',
      unit: '{connection}',
    });
    const io = meter.createObservableCounter(METRIC_NO_IO, {
      description: 'Bytes moved on connections and flows, by network.io.direction',
      unit: 'By',
    });
    const packets = meter.createObservableCounter(METRIC_NO_PACKETS, {
      description: 'TCP segments, UDP datagrams and ICMP messages, by network.io.direction',
      unit: '{packet}',
    });
    const retransmits = meter.createObservableCounter(METRIC_NO_CONNECTION_RETRANSMITS, {
      description: 'Retransmitted TCP segments',
      unit: '{segment}',
    });
    this.duration = meter.createHistogram(METRIC_NO_CONNECTION_DURATION, {
      description: 'Duration of closed TCP connections',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
    });
    this.rtt = meter.createHistogram(METRIC_NO_CONNECTION_RTT, {
      description: 'Smoothed round-trip time of TCP connections at close',
      unit: 's',
      advice: { explicitBucketBoundaries: RTT_BUCKETS_S },
    });

    this.observables = [active, opened, closed, failed, io, packets, retransmits];
    this.callback = (result) => {
      const counts = readActive();
      result.observe(active, counts.tcp, this.activeAttrs.tcp);
      result.observe(active, counts.udp, this.activeAttrs.udp);
      result.observe(active, counts.icmp, this.activeAttrs.icmp);
      this.observeSeries(result, opened, closed, failed, io, packets, retransmits);
    };
    meter.addBatchObservableCallback(this.callback, this.observables);
  }

  /** Distinct attribute sets in use, the overflow series included. */
  get seriesCount(): number {
    return this.count;
  }

  /** The series for an entry whose first event is `h`. */
  seriesFor(h: EventHeader): number {
    const codes = this.codes;
    let key = '';
    for (let i = 0; i < codes.length; i++) key += attributeKey(codes[i], h) + '\u0001';
    const known = this.byKey.get(key);
    if (known !== undefined) return known;
    if (this.count - 1 >= this.options.maxSeries) {
      this.telemetry.add('metric_series_overflow');
      return OVERFLOW_SERIES;
    }
    const attrs: Attributes = {};
    for (const choice of this.options.attributes) applyAttribute(choice, h, attrs);
    const id = this.addSeries(attrs);
    this.byKey.set(key, id);
    return id;
  }

  opened(series: number): void {
    this.acc[series * STRIDE + OPENED]++;
  }

  closed(series: number, reasonCode: number, durationS: number, rttS: number): void {
    this.acc[series * STRIDE + CLOSED + reasonCode]++;
    if (durationS >= 0) this.duration.record(durationS, this.base[series]);
    if (rttS > 0) this.rtt.record(rttS, this.base[series]);
  }

  failed(series: number, failureCode: number): void {
    this.acc[series * STRIDE + FAILED + failureCode]++;
  }

  io(series: number, txBytes: number, rxBytes: number, txPackets: number, rxPackets: number): void {
    const o = series * STRIDE;
    const acc = this.acc;
    acc[o + TX_BYTES] += txBytes;
    acc[o + RX_BYTES] += rxBytes;
    acc[o + TX_PACKETS] += txPackets;
    acc[o + RX_PACKETS] += rxPackets;
  }

  retransmits(series: number, n: number): void {
    this.acc[series * STRIDE + RETRANSMITS] += n;
  }

  /** Stops reporting; the instruments stay registered with the meter but observe nothing. */
  shutdown(): void {
    this.meter.removeBatchObservableCallback(this.callback, this.observables);
  }

  private addSeries(attrs: Attributes): number {
    const id = this.count++;
    if (this.count * STRIDE > this.acc.length) {
      const grown = new Float64Array(this.acc.length * 2);
      grown.set(this.acc);
      this.acc = grown;
    }
    Object.freeze(attrs);
    this.base[id] = attrs;
    this.transmit[id] = Object.freeze({ ...attrs, [ATTR_NETWORK_IO_DIRECTION]: NETWORK_IO_DIRECTION_VALUE_TRANSMIT });
    this.receive[id] = Object.freeze({ ...attrs, [ATTR_NETWORK_IO_DIRECTION]: NETWORK_IO_DIRECTION_VALUE_RECEIVE });
    this.closedAttrs[id] = [];
    this.failedAttrs[id] = [];
    return id;
  }

  private observeSeries(
    result: BatchObservableResult,
    opened: ObservableCounter,
    closed: ObservableCounter,
    failed: ObservableCounter,
    io: ObservableCounter,
    packets: ObservableCounter,
    retransmits: ObservableCounter,
  ): void {
    const acc = this.acc;
    for (let s = 0; s < this.count; s++) {
      const o = s * STRIDE;
      if (acc[o + OPENED] > 0) result.observe(opened, acc[o + OPENED], this.base[s]);
      for (let r = 0; r < CLOSE_REASONS.length; r++) {
        const v = acc[o + CLOSED + r];
        if (v > 0) result.observe(closed, v, this.variant(this.closedAttrs, s, r, ATTR_NO_CLOSE_REASON, CLOSE_REASONS[r]));
      }
      for (let r = 0; r < FAILURE_REASONS.length; r++) {
        const v = acc[o + FAILED + r];
        if (v > 0) result.observe(failed, v, this.variant(this.failedAttrs, s, r, ATTR_ERROR_TYPE, FAILURE_REASONS[r]));
      }
      if (acc[o + TX_BYTES] > 0) result.observe(io, acc[o + TX_BYTES], this.transmit[s]);
      if (acc[o + RX_BYTES] > 0) result.observe(io, acc[o + RX_BYTES], this.receive[s]);
      if (acc[o + TX_PACKETS] > 0) result.observe(packets, acc[o + TX_PACKETS], this.transmit[s]);
      if (acc[o + RX_PACKETS] > 0) result.observe(packets, acc[o + RX_PACKETS], this.receive[s]);
      if (acc[o + RETRANSMITS] > 0) result.observe(retransmits, acc[o + RETRANSMITS], this.base[s]);
    }
  }

  private variant(cache: Array<Array<Attributes | undefined>>, series: number, code: number, name: string, value: string): Attributes {
    let attrs = cache[series][code];
    if (!attrs) {
      attrs = Object.freeze({ ...this.base[series], [name]: value });
      cache[series][code] = attrs;
    }
    return attrs;
  }
}
