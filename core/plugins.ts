/**
 * Loads plugin modules named in collector.yaml (`plugins:`): a path to a .js or .ts file
 * (relative to the config file) or an installed package. A plugin exports factories as
 * `factories` (an array), `factory`, or `default` (a factory or an array). Every problem is
 * reported against the plugin that caused it.
 */
import { isAbsolute, resolve as resolvePath } from 'node:path';
import type { ComponentKind, Factory } from './component';
import type { ConfigIssue } from './config/errors';
import { compileSchema, validateAgainstSchema } from './config/schema-validator';
import { formatIssue } from './config/errors';
import type { ComponentRegistry } from './registry';
import { registerTypeScriptLoader } from './typescript-loader';

const KINDS: readonly ComponentKind[] = ['receiver', 'processor', 'exporter'];
/** A component type: snake_case, as the Collector's. */
const TYPE_PATTERN = /^[a-z][a-z0-9_]*$/;
const CREATE_METHOD: Record<ComponentKind, string> = {
  receiver: 'createReceiver',
  processor: 'createProcessor',
  exporter: 'createExporter',
};

function resolveSpecifier(specifier: string, baseDir: string): string {
  if (specifier.startsWith('.') || isAbsolute(specifier)) return require.resolve(resolvePath(baseDir, specifier));
  return require.resolve(specifier, { paths: [baseDir, process.cwd()] });
}

function exportedFactories(moduleExports: unknown): unknown[] | undefined {
  if (moduleExports === null || typeof moduleExports !== 'object') return undefined;
  const m = moduleExports as Record<string, unknown>;
  for (const candidate of [m.factories, m.factory, m.default]) {
    if (Array.isArray(candidate)) return candidate;
    if (candidate && typeof candidate === 'object' && 'kind' in candidate) return [candidate];
  }
  // A CommonJS default holding `factories` (TypeScript `export default { factories }`).
  const nested = m.default as Record<string, unknown> | undefined;
  if (nested && typeof nested === 'object' && Array.isArray(nested.factories)) return nested.factories;
  return undefined;
}

/** Problems that make a value unusable as a factory; [] when it is fine. */
export function checkFactoryShape(value: unknown): string[] {
  if (value === null || typeof value !== 'object') return ['a factory must be an object'];
  const f = value as Record<string, unknown>;
  const problems: string[] = [];
  if (!KINDS.includes(f.kind as ComponentKind)) problems.push(`kind must be one of ${KINDS.join(', ')} (got ${JSON.stringify(f.kind)})`);
  if (typeof f.type !== 'string' || !TYPE_PATTERN.test(f.type)) problems.push(`type must be a snake_case string (got ${JSON.stringify(f.type)})`);
  if (f.formerTypes !== undefined && !(Array.isArray(f.formerTypes) && f.formerTypes.every((t) => typeof t === 'string' && TYPE_PATTERN.test(t)))) {
    problems.push('formerTypes must be a list of snake_case strings when present');
  }
  if (typeof f.description !== 'string') problems.push('description must be a string');
  if (!['development', 'alpha', 'beta', 'stable'].includes(f.stability as string)) problems.push('stability must be development, alpha, beta or stable');
  if (typeof f.createDefaultConfig !== 'function') problems.push('createDefaultConfig must be a function');
  if (KINDS.includes(f.kind as ComponentKind) && typeof f[CREATE_METHOD[f.kind as ComponentKind]] !== 'function') {
    problems.push(`${CREATE_METHOD[f.kind as ComponentKind]} must be a function`);
  }
  if (f.validate !== undefined && typeof f.validate !== 'function') problems.push('validate must be a function when present');
  if (f.upgradeConfig !== undefined && typeof f.upgradeConfig !== 'function') problems.push('upgradeConfig must be a function when present');
  if (f.configSchema === null || typeof f.configSchema !== 'object') {
    problems.push('configSchema must be a JSON Schema object');
  } else {
    try {
      compileSchema(f.configSchema as Record<string, unknown>);
    } catch (error) {
      problems.push(`configSchema is not a valid JSON Schema: ${(error as Error).message}`);
    }
    // A default config that fails the factory's own schema is the plugin's bug, not the user's.
    if (!problems.length) {
      try {
        for (const p of validateAgainstSchema(f.configSchema as Record<string, unknown>, (f.createDefaultConfig as () => unknown)())) {
          problems.push(`its default config does not pass its own schema: ${formatIssue({ path: p.path, message: p.message })}`);
        }
      } catch (error) {
        problems.push(`createDefaultConfig threw: ${(error as Error).message}`);
      }
    }
  }
  return problems;
}

/** Loads each plugin and registers its factories; returns the problems (never throws). */
export function loadPlugins(specifiers: readonly string[], baseDir: string, registry: ComponentRegistry): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  // Before resolving: `./plugin` (no extension) may name a .ts file.
  if (specifiers.length) registerTypeScriptLoader();
  specifiers.forEach((specifier, index) => {
    const path = ['plugins', index];
    const label = `plugin "${specifier}"`;
    let resolved: string;
    try {
      resolved = resolveSpecifier(specifier, baseDir);
    } catch {
      issues.push({ path, message: `${label} cannot be found (looked relative to ${baseDir} and in node_modules); check the path or install the package` });
      return;
    }
    let moduleExports: unknown;
    try {
      moduleExports = require(resolved);
    } catch (error) {
      // Includes a dependency of the plugin that is not installed: the message names it.
      issues.push({ path, message: `${label} failed to load: ${(error as Error).message.split('\n')[0]}` });
      return;
    }
    const factories = exportedFactories(moduleExports);
    if (!factories || factories.length === 0) {
      issues.push({ path, message: `${label} exports no factory: export \`factories\` (an array), \`factory\` or a default factory` });
      return;
    }
    factories.forEach((candidate, i) => {
      const problems = checkFactoryShape(candidate);
      const name = (candidate as { type?: unknown })?.type;
      const which = `${label} factory #${i}${typeof name === 'string' ? ` (${name})` : ''}`;
      if (problems.length) {
        for (const p of problems) issues.push({ path, message: `${which}: ${p}` });
        return;
      }
      try {
        registry.register(candidate as Factory, label);
      } catch (error) {
        issues.push({ path, message: `${which}: ${(error as Error).message}` });
      }
    });
  });
  return issues;
}
