/**
 * Reading collector.yaml: file -> YAML -> env expansion -> plugins -> ResolvedConfig.
 * Each step reports what is wrong in the user's terms (file, line, YAML path).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { parseDocument } from 'yaml';
import type { Factory } from '../component';
import { loadPlugins } from '../plugins';
import { ComponentRegistry } from '../registry';
import { ConfigError, UserFacingError } from './errors';
import { expandEnv } from './expand';
import { resolveConfig, type ResolvedConfig } from './resolve';

export interface LoadedConfig {
  config: ResolvedConfig;
  registry: ComponentRegistry;
  path: string;
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /**
   * Factories available before plugins load: the distribution's (distribution/components.ts).
   * The runtime is given its components; it never reaches up for them.
   */
  builtins: () => Factory[];
}

export function createRegistry(builtins: () => Factory[]): ComponentRegistry {
  const registry = new ComponentRegistry();
  for (const factory of builtins()) registry.register(factory, 'builtin');
  return registry;
}

export function parseYaml(text: string, source: string): unknown {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    throw new ConfigError(source, doc.errors.map((e) => ({ path: [], message: `YAML: ${e.message.split('\n')[0]}${e.linePos ? ` (line ${e.linePos[0].line}, column ${e.linePos[0].col})` : ''}` })));
  }
  return doc.toJS();
}

/** Parses and validates a config given as text; `baseDir` anchors relative plugin paths. */
export function loadConfigText(text: string, source: string, baseDir: string, options: LoadOptions): LoadedConfig {
  const raw = parseYaml(text, source);
  const { value, missing } = expandEnv(raw, options.env ?? process.env);
  const registry = createRegistry(options.builtins);
  const pluginList = value && typeof value === 'object' && Array.isArray((value as Record<string, unknown>).plugins)
    ? ((value as Record<string, unknown>).plugins as unknown[]).filter((p): p is string => typeof p === 'string')
    : [];
  // An unset variable is an error: expanded to '' it would fail later with a message about
  // the empty value that never names the variable (or, worse, pass and send data nowhere).
  const envIssues = missing.map(({ name, path }) => ({
    path,
    message: `environment variable ${name} is not set and \${env:${name}} has no default; set it, or write \${env:${name}:-default}`,
  }));
  const pluginIssues = loadPlugins(pluginList, baseDir, registry);
  const config = resolveConfig(value, registry, source, [...envIssues, ...pluginIssues]);
  return { config, registry, path: source };
}

export function loadConfigFile(path: string, options: LoadOptions): LoadedConfig {
  const absolute = resolvePath(path);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserFacingError(
      code === 'ENOENT'
        ? `config file ${absolute} does not exist; pass --config <file> (the repository ships collector.yaml)`
        : `cannot read config file ${absolute}: ${(error as Error).message}`,
      error,
    );
  }
  return loadConfigText(text, path, dirname(absolute), options);
}
