/**
 * The running collector: builds the component graph from a ResolvedConfig, starts it in
 * dependency order (exporters, processors, receivers), and shuts it down in reverse so data in
 * flight drains into the exporters within the configured deadline.
 *
 * Graph rules (as in the OpenTelemetry Collector): a receiver or exporter named by several
 * pipelines is ONE instance; processors get one instance per pipeline; a receiver feeding
 * several pipelines fans out to each pipeline's first consumer.
 */
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import type { Component, ComponentKind, Exporter, Factory, Host } from './component';
import type { ResolvedComponent, ResolvedConfig } from './config/resolve';
import { fanOut, type FanOutTarget } from './fanout';
import { HealthServer, type CollectorStatus, type HealthReport } from './health';
import type { Logger } from './logger';
import type { ComponentRegistry } from './registry';
import { registerSelfMetrics } from './self-metrics';
import { TelemetryRegistry, type ComponentTelemetry } from './telemetry';

interface Instance {
  label: string;
  kind: ComponentKind;
  component: Component;
  telemetry: ComponentTelemetry;
  logger: Logger;
}

/** The factory of a resolved component, narrowed to its kind (resolution guarantees the match). */
function factoryOf<K extends ComponentKind>(resolved: ResolvedComponent, kind: K): Extract<Factory, { kind: K }> {
  if (resolved.factory.kind !== kind) throw new Error(`${resolved.id.key} is a ${resolved.factory.kind}, not a ${kind}`);
  return resolved.factory as Extract<Factory, { kind: K }>;
}

export class StartupError extends Error {
  constructor(readonly component: string, cause: Error) {
    super(`starting ${component} failed: ${cause.message}`);
    this.name = 'StartupError';
  }
}

export class Collector {
  readonly telemetry = new TelemetryRegistry();
  private readonly exporters = new Map<string, Instance>();
  private readonly processors: Instance[] = [];
  private readonly receivers = new Map<string, Instance>();
  private meterProvider: MeterProvider | undefined;
  private metricsEnabled = false;
  private started: Instance[] = [];
  private state: 'new' | 'built' | 'running' | 'stopping' | 'stopped' = 'new';
  private stopPromise: Promise<void> | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  private readonly fatalListeners: Array<(error: Error) => void> = [];
  private healthServer: HealthServer | undefined;
  /** Set once every component has started. */
  private upSince: Date | undefined;
  private fatalError: Error | undefined;
  private readonly finishedListeners: Array<(reason: string) => void> = [];
  /** Exporters that reported their destination gone (Host.reportStopped). */
  private readonly stoppedExporters = new Set<Instance>();

  constructor(
    private readonly config: ResolvedConfig,
    private readonly registry: ComponentRegistry,
    private readonly logger: Logger,
  ) {}

  /** What the health endpoint reports: running only between a complete start and shutdown. */
  health(): HealthReport {
    let status: CollectorStatus;
    if (this.state === 'stopped') status = 'stopped';
    else if (this.stopPromise) status = 'stopping';
    else if (this.fatalError) status = 'failed';
    else if (this.upSince) status = 'running';
    else status = 'starting';
    return {
      status,
      pipelines: this.config.pipelines.map((p) => p.name),
      upSince: status === 'running' ? this.upSince : undefined,
      error: this.fatalError?.message,
    };
  }

  /** The health endpoint's URL once it listens (service::telemetry::health_check). */
  get healthCheckUrl(): string | undefined {
    return this.healthServer?.address || undefined;
  }

  /** Called when a running component reports an unrecoverable error. */
  onFatalError(listener: (error: Error) => void): void {
    this.fatalListeners.push(listener);
  }

  /** Called when every exporter has stopped for good (Host.reportStopped): nothing is left to do. */
  onFinished(listener: (reason: string) => void): void {
    this.finishedListeners.push(listener);
  }

  private settingsFor(resolved: ResolvedComponent, label: string) {
    const telemetry = this.telemetry.forComponent(label);
    const logger = this.logger.child(label);
    return { telemetry, logger, settings: this.registry.instanceContainer({ id: resolved.id, logger, telemetry }) };
  }

  async build(): Promise<void> {
    if (this.state !== 'new') throw new Error('collector already built');
    const { components, pipelines } = this.config;
    const multiPipeline = pipelines.length > 1;
    const processorLabel = (key: string, pipeline: string): string => (multiPipeline ? `processor/${key}@${pipeline}` : `processor/${key}`);

    // Components are built exporters-first, but counters read best in data-flow order.
    for (const key of new Set(pipelines.flatMap((p) => p.receivers))) this.telemetry.forComponent(`receiver/${key}`);
    for (const p of pipelines) for (const key of p.processors) this.telemetry.forComponent(processorLabel(key, p.name));
    for (const key of new Set(pipelines.flatMap((p) => p.exporters))) {
      const resolved = components.exporter.get(key)!;
      const label = `exporter/${key}`;
      const { telemetry, logger, settings } = this.settingsFor(resolved, label);
      const factory = factoryOf(resolved, 'exporter');
      const exporter = await this.create(label, () => factory.createExporter(settings, resolved.config));
      this.exporters.set(key, { label, kind: 'exporter', component: exporter, telemetry, logger });
    }

    // Exporters contribute their metric readers; components record on one shared provider.
    const readers = [...this.exporters.values()].flatMap((i) => (i.component as Exporter).metricReaders?.() ?? []);
    this.meterProvider = new MeterProvider({ readers });
    this.metricsEnabled = readers.length > 0;
    registerSelfMetrics(this.meterProvider, this.telemetry);

    const pipelineEntry = new Map<string, FanOutTarget>();
    for (const pipeline of pipelines) {
      let next: FanOutTarget = this.fanOutTo(pipeline.exporters.map((key) => this.exporters.get(key)!));
      for (const key of [...pipeline.processors].reverse()) {
        const resolved = components.processor.get(key)!;
        const label = processorLabel(key, pipeline.name);
        const { telemetry, logger, settings } = this.settingsFor(resolved, label);
        const nextConsumer = next.consumer;
        const factory = factoryOf(resolved, 'processor');
        const processor = await this.create(label, () => factory.createProcessor(settings, resolved.config, nextConsumer));
        const instance: Instance = { label, kind: 'processor', component: processor, telemetry, logger };
        this.processors.push(instance);
        // Guarded like exporters: a processor (a plugin's, say) that throws loses its batch, not the caller's turn.
        next = { consumer: fanOut([{ consumer: processor, telemetry, logger }]), telemetry, logger };
      }
      pipelineEntry.set(pipeline.name, next);
    }
    // Processors were created back to front; shutdown wants them front to back.
    this.processors.reverse();

    for (const key of new Set(pipelines.flatMap((p) => p.receivers))) {
      const resolved = components.receiver.get(key)!;
      const label = `receiver/${key}`;
      const { telemetry, logger, settings } = this.settingsFor(resolved, label);
      const targets = pipelines.filter((p) => p.receivers.includes(key)).map((p) => pipelineEntry.get(p.name)!);
      const downstream = targets.length === 1 ? targets[0].consumer : fanOut(targets);
      const factory = factoryOf(resolved, 'receiver');
      const receiver = await this.create(label, () => factory.createReceiver(settings, resolved.config, downstream));
      this.receivers.set(key, { label, kind: 'receiver', component: receiver, telemetry, logger });
    }
    this.state = 'built';
  }

  private async create<T>(label: string, make: () => T | Promise<T>): Promise<T> {
    try {
      return await make();
    } catch (error) {
      throw new StartupError(label, error as Error);
    }
  }

  private fanOutTo(instances: Instance[]): FanOutTarget {
    const targets = instances.map((i) => ({ consumer: i.component as Exporter, telemetry: i.telemetry, logger: i.logger }));
    if (targets.length === 1) return { ...targets[0], consumer: fanOut(targets) };
    return { consumer: fanOut(targets), telemetry: targets[0].telemetry, logger: this.logger };
  }

  /** Each component's own Host: a stop report must say which component it came from. */
  private host(instance: Instance): Host {
    return {
      meterProvider: this.meterProvider!,
      metricsEnabled: this.metricsEnabled,
      reportFatalError: (error) => {
        this.fatalError ??= error;
        this.logger.error(`fatal: ${error.message}`);
        for (const listener of this.fatalListeners) listener(error);
      },
      reportStopped: (reason) => this.exporterStopped(instance, reason),
    };
  }

  private exporterStopped(instance: Instance, reason: string): void {
    if (this.state !== 'running' || this.stoppedExporters.has(instance)) return;
    if (instance.kind !== 'exporter') {
      instance.logger.warn(`reported itself stopped (${reason}); only exporters can stop alone, so it keeps its place in the pipeline`);
      return;
    }
    this.stoppedExporters.add(instance);
    const left = [...this.exporters.values()].filter((i) => !this.stoppedExporters.has(i));
    if (left.length > 0) {
      instance.logger.warn(`${reason}; ${left.map((i) => i.label).join(', ')} keep running`);
      return;
    }
    const finished = `${instance.label}: ${reason}; no exporter is left`;
    for (const listener of this.finishedListeners) listener(finished);
  }

  /** Starts exporters, then processors, then receivers; on a failure stops what started and throws. */
  async start(): Promise<void> {
    if (this.state !== 'new' && this.state !== 'built') return;
    // Up before the components are built, so probes see 503 (starting) rather than nothing.
    await this.startHealthCheck();
    if (this.state === 'new') {
      try {
        await this.build();
      } catch (error) {
        await this.healthServer?.stop();
        throw error;
      }
    }
    if (this.state !== 'built') return;
    this.state = 'running';
    const order = [...this.exporters.values(), ...[...this.processors].reverse(), ...this.receivers.values()];
    for (const instance of order) {
      try {
        await instance.component.start(this.host(instance));
        this.started.push(instance);
      } catch (error) {
        this.logger.error(`starting ${instance.label} failed; stopping the ${this.started.length} component(s) already started`);
        await this.shutdown();
        throw new StartupError(instance.label, error as Error);
      }
    }
    if (this.config.telemetry.statusIntervalMs > 0) {
      this.statusTimer = setInterval(() => this.logger.info(`status: ${this.telemetry.statusLine()}`), this.config.telemetry.statusIntervalMs);
      this.statusTimer.unref();
    }
    this.upSince = new Date();
  }

  private async startHealthCheck(): Promise<void> {
    const settings = this.config.telemetry.healthCheck;
    if (!settings || this.healthServer) return;
    const server = new HealthServer(settings, () => this.health(), this.logger);
    await server.start();
    this.healthServer = server;
  }

  /**
   * Receivers first (no new data), then processors front to back (each drains into the next),
   * then exporters (flush), within the shutdown deadline. Idempotent.
   */
  shutdown(): Promise<void> {
    this.stopPromise ??= this.doShutdown();
    return this.stopPromise;
  }

  private async doShutdown(): Promise<void> {
    this.state = 'stopping';
    if (this.statusTimer) clearInterval(this.statusTimer);
    const deadline = Date.now() + this.config.telemetry.shutdownTimeoutMs;
    const startedSet = new Set(this.started);
    const order = [...this.receivers.values(), ...this.processors, ...this.exporters.values()].filter((i) => startedSet.has(i));
    let metricsFlushed = false;
    for (const instance of order) {
      // Metrics recorded until the processors stopped reach the exporters before they close.
      if (instance.kind === 'exporter' && !metricsFlushed) {
        metricsFlushed = true;
        await this.flushMetrics(deadline);
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        this.logger.warn(`shutdown deadline reached; ${instance.label} was not given time to drain`);
        continue;
      }
      await this.stopOne(instance, remaining);
    }
    try {
      await this.meterProvider?.shutdown({ timeoutMillis: Math.max(100, deadline - Date.now()) });
    } catch (error) {
      this.logger.warn(`flushing metrics on shutdown failed: ${(error as Error).message}`);
    }
    this.state = 'stopped';
    await this.healthServer?.stop();
  }

  private async flushMetrics(deadline: number): Promise<void> {
    try {
      await this.meterProvider?.forceFlush({ timeoutMillis: Math.max(100, deadline - Date.now()) });
    } catch (error) {
      this.logger.warn(`flushing metrics before the exporters stop failed: ${(error as Error).message}`);
    }
  }

  private async stopOne(instance: Instance, budgetMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), budgetMs);
    });
    try {
      const outcome = await Promise.race([Promise.resolve(instance.component.shutdown()).then(() => 'done' as const), timeout]);
      if (outcome === 'timeout') this.logger.warn(`${instance.label} did not finish shutting down within ${budgetMs} ms; moving on`);
    } catch (error) {
      instance.telemetry.errors();
      this.logger.error(`${instance.label} failed while shutting down: ${(error as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
  }
}
