/**
 * The public component API. Built-in and third-party components use exactly this surface:
 * a component is created by a factory, and a plugin is a module that exports factories.
 */
import type { DependencyContainer } from 'tsyringe';
import type { MeterProvider } from '@opentelemetry/api';
import type { MetricReader } from '@opentelemetry/sdk-metrics';
import type { Clock } from './clock';
import type { NetworkEvent } from './events';
import type { Logger } from './logger';
import type { ComponentTelemetry } from './telemetry';

export type ComponentKind = 'receiver' | 'processor' | 'exporter';
export type Stability = 'development' | 'alpha' | 'beta' | 'stable';

/** A JSON Schema (draft 2020-12 subset understood by ajv) describing one component's config. */
export type ConfigSchema = Readonly<Record<string, unknown>>;

/** `type[/name]` as written in collector.yaml. */
export interface ComponentId {
  readonly kind: ComponentKind;
  readonly type: string;
  readonly name: string;
  /** `type` or `type/name`. */
  readonly key: string;
}

/** Receives batches of events. */
export interface Consumer {
  /**
   * True when the consumer changes events or the batch array it is given. Fan-out hands such
   * consumers their own deep copy; read-only consumers share one batch.
   */
  readonly mutatesData: boolean;
  consume(batch: NetworkEvent[]): void | Promise<void>;
}

/** What the running collector offers components once started. */
export interface Host {
  /** Metrics recorded here reach every exporter that exports metrics. */
  readonly meterProvider: MeterProvider;
  /**
   * True when some exporter reads metrics (attached a metric reader). When false, nothing
   * recorded on `meterProvider` goes anywhere: skip building instruments and recording.
   */
  readonly metricsEnabled: boolean;
  /**
   * For a component that hits an unrecoverable error after start: the collector logs it and
   * shuts down with a non-zero exit code.
   */
  reportFatalError(error: Error): void;
  /**
   * For an exporter whose destination is gone for good through no fault of the observer (the
   * reader of standard output exited): the collector logs `reason` once and, when no exporter
   * is left, shuts down gracefully (exit 0). The exporter drops (and counts) what it still gets.
   */
  reportStopped(reason: string): void;
}

export interface Component {
  /** Idempotent. Must not emit before it resolves. */
  start(host: Host): void | Promise<void>;
  /** Idempotent. Drains what the component holds before it resolves. */
  shutdown(): void | Promise<void>;
}

export type Receiver = Component;
export interface Processor extends Component, Consumer {}
export interface Exporter extends Component, Consumer {
  /** Metric readers to attach to the collector's MeterProvider (e.g. a periodic OTLP reader). */
  metricReaders?(): MetricReader[];
}

/** Everything a component instance gets from the runtime. */
export interface ComponentSettings {
  readonly id: ComponentId;
  readonly logger: Logger;
  readonly telemetry: ComponentTelemetry;
  /** The instance's own child container: shared services are resolved from here. */
  readonly container: DependencyContainer;
  /**
   * Time and timers: the clock registered in `container` under CLOCK_TOKEN (core/clock), the
   * system clock unless a test registered a ManualClock. Read it when creating the component.
   */
  readonly clock: Clock;
}

export interface ValidationIssue {
  /** Path below the component's config, e.g. ['burst']; [] for the whole config. */
  path: readonly (string | number)[];
  message: string;
}

/** What a factory's `upgradeConfig` made of a config written in an older spelling. */
export interface ConfigUpgrade {
  /** The config as this version spells it. */
  readonly config: Record<string, unknown>;
  /** One per old spelling read, saying what to write instead; shown as warnings. */
  readonly warnings: readonly ValidationIssue[];
  /**
   * Old spellings that cannot be read, e.g. one that contradicts a new option also given;
   * leave them out of `config` (the rest of it is still checked).
   */
  readonly issues: readonly ValidationIssue[];
}

/** One verdict of `network-observer doctor`: what this machine lacks, and how to fix it. */
export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

interface FactoryBase<C> {
  readonly type: string;
  /**
   * Types this component was registered under before it was renamed: a config that still
   * uses one (`old` or `old/name`) gets this factory, with a warning naming the new type.
   * A factory registered under the old type itself takes precedence.
   */
  readonly formerTypes?: readonly string[];
  readonly stability: Stability;
  /** One line for `network-observer components`. */
  readonly description: string;
  /** Schema of the component's config; unknown keys must be rejected (additionalProperties: false). */
  readonly configSchema: ConfigSchema;
  /** The full default config; user values are merged over it before validation. */
  createDefaultConfig(): C;
  /**
   * Top-level options renamed, old name -> new name: a config that still uses the old name is
   * read as the new one, with a warning.
   */
  readonly renamedOptions?: Readonly<Record<string, string>>;
  /**
   * Reads option values written in an older spelling as today's, for changes a rename cannot
   * express (a value renamed, two options folded into one). Gets the user's config (after
   * renamedOptions, before defaults and the schema) and must not change it.
   */
  upgradeConfig?(given: Readonly<Record<string, unknown>>): ConfigUpgrade;
  /** Cross-field rules the schema cannot express. Return every problem, not just the first. */
  validate?(config: C): ValidationIssue[];
  /**
   * What this machine must offer the component (privileges, kernel features, libraries),
   * checked for `network-observer doctor`. Load heavy modules here, not at import time.
   */
  doctorChecks?(): Promise<DoctorCheck[]>;
}

export interface ReceiverFactory<C = unknown> extends FactoryBase<C> {
  readonly kind: 'receiver';
  createReceiver(settings: ComponentSettings, config: C, next: Consumer): Receiver | Promise<Receiver>;
}

export interface ProcessorFactory<C = unknown> extends FactoryBase<C> {
  readonly kind: 'processor';
  createProcessor(settings: ComponentSettings, config: C, next: Consumer): Processor | Promise<Processor>;
}

export interface ExporterFactory<C = unknown> extends FactoryBase<C> {
  readonly kind: 'exporter';
  createExporter(settings: ComponentSettings, config: C): Exporter | Promise<Exporter>;
}

/**
 * Any factory. Factory methods use method syntax, so a factory of a concrete config type is
 * assignable here without casts.
 */
export type Factory = ReceiverFactory<unknown> | ProcessorFactory<unknown> | ExporterFactory<unknown>;
