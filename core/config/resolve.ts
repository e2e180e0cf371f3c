/**
 * Turns a parsed collector.yaml into a validated, fully-defaulted ResolvedConfig, collecting
 * every problem along the way: the document's shape, each component's schema and cross-field
 * rules, and the pipeline graph.
 */
import type { ComponentId, ComponentKind, Factory } from '../component';
import { parseEndpoint, type HostPort } from '../http-endpoint';
import type { ComponentRegistry } from '../registry';
import collectorSchema from './collector.schema.json';
import type { CollectorConfigFile } from './collector.generated';
import { ConfigError, formatIssue, formatPath, type ConfigIssue } from './errors';
import { normalizeUnits, validateAgainstSchema } from './schema-validator';
import { deepMerge } from './merge';

export interface ResolvedComponent {
  id: ComponentId;
  factory: Factory;
  config: unknown;
}

export interface ResolvedPipeline {
  name: string;
  receivers: string[];
  processors: string[];
  exporters: string[];
}

export interface HealthCheckSettings {
  endpoint: HostPort;
  path: string;
}

export interface ServiceTelemetry {
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  statusIntervalMs: number;
  shutdownTimeoutMs: number;
  /** service::telemetry::health_check; undefined when the section is absent. */
  healthCheck?: HealthCheckSettings;
}

export interface ResolvedConfig {
  components: Record<ComponentKind, Map<string, ResolvedComponent>>;
  pipelines: ResolvedPipeline[];
  telemetry: ServiceTelemetry;
  /** Not errors, but worth telling (components defined but unused). */
  warnings: string[];
}

export const SECTION: Record<ComponentKind, 'receivers' | 'processors' | 'exporters'> = {
  receiver: 'receivers',
  processor: 'processors',
  exporter: 'exporters',
};
const KINDS: readonly ComponentKind[] = ['receiver', 'processor', 'exporter'];
const ID_PATTERN = /^([a-z][a-z0-9_]*)(?:\/([^/\s]+))?$/;

export function parseComponentId(kind: ComponentKind, key: string): ComponentId | undefined {
  const match = ID_PATTERN.exec(key);
  if (!match) return undefined;
  return { kind, type: match[1], name: match[2] ?? '', key };
}

/** Issues, leaving out those at a path an earlier issue already explains (an unset env variable). */
class IssueList {
  private readonly explained: Set<string>;

  constructor(readonly issues: ConfigIssue[]) {
    this.explained = new Set(issues.map((i) => formatPath(i.path)));
  }

  push(issue: ConfigIssue): void {
    if (!this.explained.has(formatPath(issue.path))) this.issues.push(issue);
  }
}

/**
 * Options the factory renamed are read under their new name; the old one still works, with a
 * warning, unless both are given.
 */
function applyRenames(factory: Factory, body: Record<string, unknown>, base: Array<string | number>, issues: IssueList, warnings: string[]): Record<string, unknown> {
  const renamed = factory.renamedOptions;
  if (renamed === undefined) return body;
  const out = { ...body };
  for (const [old, current] of Object.entries(renamed)) {
    if (!(old in out)) continue;
    const value = out[old];
    delete out[old];
    if (current in out) {
      issues.push({ path: [...base, old], message: `is the old name of ${current}, which is set too: keep only ${current}` });
    } else {
      out[current] = value;
      warnings.push(`${[...base, old].join('::')} is now called ${current}; the old name still works but will go away`);
    }
  }
  return out;
}

/** Old option values the factory still reads (Factory.upgradeConfig), each with a warning. */
function applyUpgrade(factory: Factory, body: Record<string, unknown>, base: Array<string | number>, issues: IssueList, warnings: string[]): Record<string, unknown> | undefined {
  if (!factory.upgradeConfig) return body;
  let upgrade: ReturnType<NonNullable<Factory['upgradeConfig']>>;
  try {
    upgrade = factory.upgradeConfig(body);
  } catch (error) {
    issues.push({ path: base, message: `reading older option spellings failed inside the component: ${(error as Error).message}` });
    return undefined;
  }
  for (const w of upgrade.warnings) warnings.push(formatIssue({ path: [...base, ...w.path], message: w.message }));
  for (const p of upgrade.issues) issues.push({ path: [...base, ...p.path], message: p.message });
  // The rest of the config is still checked, so every problem is reported at once.
  return upgrade.config;
}

function resolveComponent(
  kind: ComponentKind, key: string, body: unknown, registry: ComponentRegistry, issues: IssueList, warnings: string[],
): ResolvedComponent | undefined {
  const base = [SECTION[kind], key];
  const id = parseComponentId(kind, key);
  if (!id) {
    issues.push({ path: base, message: 'is not a valid component id: use type or type/name (type in snake_case)' });
    return undefined;
  }
  const factory = registry.lookup(kind, id.type);
  if (!factory) {
    const valid = registry.types(kind);
    issues.push({ path: base, message: `unknown ${kind} type "${id.type}" (valid ${kind} types: ${valid.length ? valid.join(', ') : 'none registered'})` });
    return undefined;
  }
  if (factory.type !== id.type) {
    const current = id.name ? `${factory.type}/${id.name}` : factory.type;
    warnings.push(`${formatPath(base)}: the ${id.type} ${kind} is now called ${factory.type}: write ${current}, here and in service::pipelines; the old name still works but will go away`);
  }
  if (body !== null && body !== undefined && (typeof body !== 'object' || Array.isArray(body))) {
    issues.push({ path: base, message: 'must be a mapping of options (or empty for the defaults)' });
    return undefined;
  }
  const given = applyUpgrade(factory, applyRenames(factory, (body ?? {}) as Record<string, unknown>, base, issues, warnings), base, issues, warnings);
  if (!given) return undefined;
  const merged = deepMerge(factory.createDefaultConfig(), given);
  const problems = validateAgainstSchema(factory.configSchema, merged);
  for (const p of problems) issues.push({ path: [...base, ...p.path], message: p.message });
  if (problems.length) return undefined;
  const config = normalizeUnits(factory.configSchema, merged);
  let ruleIssues: ReturnType<NonNullable<Factory['validate']>> = [];
  try {
    ruleIssues = factory.validate?.(config) ?? [];
  } catch (error) {
    issues.push({ path: base, message: `validation failed inside the component: ${(error as Error).message}` });
    return undefined;
  }
  for (const p of ruleIssues) issues.push({ path: [...base, ...p.path], message: p.message });
  return ruleIssues.length ? undefined : { id, factory, config };
}

function checkPipelines(file: CollectorConfigFile, defined: Record<ComponentKind, Set<string>>, issues: IssueList): ResolvedPipeline[] {
  const pipelines: ResolvedPipeline[] = [];
  for (const [name, spec] of Object.entries(file.service?.pipelines ?? {})) {
    const base = ['service', 'pipelines', name];
    const lists = { receiver: spec.receivers ?? [], processor: spec.processors ?? [], exporter: spec.exporters ?? [] };
    if (lists.receiver.length === 0) issues.push({ path: [...base, 'receivers'], message: 'a pipeline needs at least one receiver' });
    if (lists.exporter.length === 0) issues.push({ path: [...base, 'exporters'], message: 'a pipeline needs at least one exporter' });
    for (const kind of KINDS) {
      const seen = new Set<string>();
      lists[kind].forEach((ref, index) => {
        if (!defined[kind].has(ref)) {
          const names = [...defined[kind]];
          issues.push({
            path: [...base, SECTION[kind], index],
            message: `references undefined ${kind} "${ref}" (defined under ${SECTION[kind]}: ${names.length ? names.join(', ') : 'none'})`,
          });
        }
        if (seen.has(ref)) issues.push({ path: [...base, SECTION[kind], index], message: `${kind} "${ref}" appears twice in this pipeline` });
        seen.add(ref);
      });
    }
    pipelines.push({ name, receivers: lists.receiver, processors: lists.processor, exporters: lists.exporter });
  }
  return pipelines;
}

/** Validates `file` (already env-expanded) against the registry; throws ConfigError with every problem. */
export function resolveConfig(file: unknown, registry: ComponentRegistry, source: string, priorIssues: ConfigIssue[] = []): ResolvedConfig {
  const list = new IssueList([...priorIssues]);
  const issues = list.issues;
  if (file === null || file === undefined) {
    throw new ConfigError(source, [...issues, { path: [], message: 'the file is empty: a config needs receivers, exporters and service::pipelines (see the shipped collector.yaml)' }]);
  }
  const shapeProblems = validateAgainstSchema(collectorSchema, file);
  for (const p of shapeProblems) list.push({ path: p.path, message: p.message });
  const doc = (file ?? {}) as CollectorConfigFile;
  if (shapeProblems.length && (doc === null || typeof doc !== 'object')) throw new ConfigError(source, issues);

  const warnings: string[] = [];
  const components = { receiver: new Map(), processor: new Map(), exporter: new Map() } as ResolvedConfig['components'];
  const defined = { receiver: new Set<string>(), processor: new Set<string>(), exporter: new Set<string>() };
  for (const kind of KINDS) {
    const section: unknown = doc[SECTION[kind]];
    if (section === null || section === undefined || typeof section !== 'object') continue;
    for (const [key, body] of Object.entries(section as Record<string, unknown>)) {
      defined[kind].add(key);
      const resolved = resolveComponent(kind, key, body, registry, list, warnings);
      if (resolved) components[kind].set(key, resolved);
    }
  }
  const pipelines = checkPipelines(doc, defined, list);
  const telemetryInput = doc.service?.telemetry ?? {};
  const telemetry = normalizeUnits(collectorSchema.properties.service.properties.telemetry, {
    log_level: 'info',
    status_interval: '0s',
    shutdown_timeout: '10s',
    ...telemetryInput,
  }) as { log_level: ServiceTelemetry['logLevel']; status_interval: number; shutdown_timeout: number };
  if (telemetry.status_interval > 0 && telemetry.status_interval < 1000) {
    list.push({ path: ['service', 'telemetry', 'status_interval'], message: `must be 0 (off) or at least 1s: the status line goes to stderr each time (got ${telemetry.status_interval}ms)` });
  }
  if (issues.length) throw new ConfigError(source, issues);
  const healthInput = telemetryInput.health_check;
  // Shape (and the endpoint's format) were checked by the schema above; defaults come from it.
  const healthDefaults = collectorSchema.properties.service.properties.telemetry.properties.health_check.properties;
  const healthCheck = healthInput
    ? { endpoint: parseEndpoint(healthInput.endpoint ?? healthDefaults.endpoint.default)!, path: healthInput.path ?? healthDefaults.path.default }
    : undefined;

  const used = new Set(pipelines.flatMap((p) => [...p.receivers.map((r) => `receiver:${r}`), ...p.processors.map((r) => `processor:${r}`), ...p.exporters.map((r) => `exporter:${r}`)]));
  for (const kind of KINDS) {
    for (const key of components[kind].keys()) {
      if (!used.has(`${kind}:${key}`)) warnings.push(`${SECTION[kind]}::${key} is defined but not used in any pipeline; it will not run`);
    }
  }
  return {
    components,
    pipelines,
    telemetry: { logLevel: telemetry.log_level, statusIntervalMs: telemetry.status_interval, shutdownTimeoutMs: telemetry.shutdown_timeout, healthCheck },
    warnings,
  };
}
