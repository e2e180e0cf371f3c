/**
 * Environment expansion in collector.yaml values, as the OpenTelemetry Collector does it:
 * `${env:VAR}`, `${env:VAR:-default}`, and `$$` for a literal `$`. Expansion happens on
 * parsed string values (never on keys or on the raw text), so an expanded value can never
 * change the document's structure.
 */

const WHOLE_REFERENCE = /^\$\{env:[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}$/;
const REFERENCE = /\$\$|\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** A variable referenced without a default that is not set (it expanded to ''). */
export interface MissingVariable {
  name: string;
  /** YAML path of the value that references it. */
  path: (string | number)[];
}

export interface ExpansionResult<T> {
  value: T;
  missing: MissingVariable[];
}

export function expandEnv<T>(value: T, env: NodeJS.ProcessEnv = process.env): ExpansionResult<T> {
  const missing: MissingVariable[] = [];
  const expandString = (text: string, path: (string | number)[]): string =>
    text.replace(REFERENCE, (match, name: string | undefined, fallback: string | undefined) => {
      if (match === '$$') return '$';
      const set = env[name!];
      if (set !== undefined && set !== '') return set;
      if (fallback !== undefined) return fallback;
      missing.push({ name: name!, path });
      return '';
    });
  const walk = (node: unknown, path: (string | number)[]): unknown => {
    if (typeof node === 'string') {
      const expanded = expandString(node, path);
      return WHOLE_REFERENCE.test(node) ? coerceScalar(expanded) : expanded;
    }
    if (Array.isArray(node)) return node.map((item, i) => walk(item, [...path, i]));
    if (node !== null && typeof node === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(node)) out[k] = walk(v, [...path, k]);
      return out;
    }
    return node;
  };
  return { value: walk(value, []) as T, missing };
}

/**
 * A value that was wholly a reference (`${env:PORT}`) and expanded to a number or boolean
 * literal becomes that type, so `port: ${env:PORT}` validates as an integer.
 */
export function coerceScalar(text: string): string | number | boolean {
  if (/^-?\d+(\.\d+)?$/.test(text)) return Number(text);
  if (text === 'true') return true;
  if (text === 'false') return false;
  return text;
}
