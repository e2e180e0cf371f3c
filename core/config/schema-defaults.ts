/**
 * A component's default configuration, read from the `default`s of its config schema: each
 * default is stated once, in the schema users' editors also see, and the factory's
 * createDefaultConfig() derives from it. Durations and sizes are converted as for a user's
 * values (`10s` -> 10000 ms).
 */
import type { ConfigSchema } from '../component';
import { isPlainObject } from './merge';
import { normalizeUnits, resolveRef, type SchemaNode } from './schema-validator';

/**
 * The defaults under `node`: its own `default`, completed (for an object) by the defaults of
 * the properties it does not name.
 */
function collect(node: SchemaNode, root: SchemaNode): unknown {
  const resolved = resolveRef(node, root);
  const own = 'default' in resolved ? structuredClone(resolved.default) : undefined;
  const properties = resolved.properties as Record<string, SchemaNode> | undefined;
  if (properties === undefined || (own !== undefined && !isPlainObject(own))) return own;
  const out: Record<string, unknown> = isPlainObject(own) ? own : {};
  for (const [key, child] of Object.entries(properties)) {
    if (key in out) continue;
    const value = collect(child, root);
    if (value !== undefined) out[key] = value;
  }
  return out;
}

/** The configuration the schema's defaults describe, units converted. */
export function defaultsFromSchema<T>(schema: ConfigSchema): T {
  const root = schema as SchemaNode;
  return normalizeUnits(schema, collect(root, root) ?? {}) as T;
}

/** Paths of the options (nested ones too) that have no default in the schema. */
export function optionsWithoutDefault(schema: ConfigSchema): string[] {
  const root = schema as SchemaNode;
  const missing: string[] = [];
  const walk = (node: SchemaNode, path: string, covered: boolean): void => {
    const resolved = resolveRef(node, root);
    const properties = resolved.properties as Record<string, SchemaNode> | undefined;
    const own = resolved.default;
    if (properties === undefined) {
      if (path !== '' && !covered && !('default' in resolved)) missing.push(path);
      return;
    }
    for (const [key, child] of Object.entries(properties)) {
      walk(child, path === '' ? key : `${path}.${key}`, isPlainObject(own) && key in own);
    }
  };
  walk(root, '', false);
  return missing;
}
