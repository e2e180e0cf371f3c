/**
 * JSON Schema validation of config sections with ajv, and the two conversions every component
 * relies on: `format: duration` values become milliseconds and `format: size` values bytes.
 * Messages are rewritten into the words a user of collector.yaml needs.
 */
import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import type { ConfigSchema } from '../component';
import { ENDPOINT_FORMAT_MESSAGE, isUrlPath, parseEndpoint, URL_PATH_FORMAT_MESSAGE } from '../http-endpoint';
import { MAX_DURATION_MS, parseDuration, parseSize } from '../units';

export interface SchemaProblem {
  /** Path below the validated value. */
  path: (string | number)[];
  message: string;
}

const ajv = new Ajv2020({ allErrors: true, strict: false, allowUnionTypes: true });
ajv.addFormat('duration', { type: 'string', validate: (text: string) => parseDuration(text) !== undefined });
ajv.addFormat('size', { type: 'string', validate: (text: string) => parseSize(text) !== undefined });
ajv.addFormat('endpoint', { type: 'string', validate: (text: string) => parseEndpoint(text) !== undefined });
ajv.addFormat('url-path', { type: 'string', validate: isUrlPath });
// Used by json-schema-to-typescript to type normalized values; meaningless to validation.
ajv.addKeyword({ keyword: 'tsType', schemaType: 'string' });

const compiled = new WeakMap<object, ValidateFunction>();

/** Compiles (once per schema object); throws with ajv's reason when the schema itself is invalid. */
export function compileSchema(schema: ConfigSchema): ValidateFunction {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = ajv.compile(schema as object);
    compiled.set(schema, validate);
  }
  return validate;
}

const ARTICLE = (word: string): string => (/^[aeiou]/.test(word) ? `an ${word}` : `a ${word}`);

function describeError(error: ErrorObject): SchemaProblem {
  const path = error.instancePath
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return { path: [...path, String(p.additionalProperty)], message: 'unknown key' };
    case 'type': {
      const types = String(p.type).split(',');
      return { path, message: `must be ${types.map(ARTICLE).join(' or ')}` };
    }
    case 'enum':
      return { path, message: `must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}` };
    case 'format':
      if (p.format === 'duration') return { path, message: 'must be a duration such as 500ms, 10s, 5m or 1h' };
      if (p.format === 'size') return { path, message: 'must be a size such as 4096, 64KiB or 8MiB' };
      if (p.format === 'endpoint') return { path, message: ENDPOINT_FORMAT_MESSAGE };
      if (p.format === 'url-path') return { path, message: URL_PATH_FORMAT_MESSAGE };
      return { path, message: `must be a valid ${String(p.format)}` };
    case 'minLength':
      if (p.limit === 1) return { path, message: 'must not be empty' };
      return { path, message: `must be at least ${String(p.limit)} characters long` };
    case 'required':
      return { path: [...path, String(p.missingProperty)], message: 'is required' };
    default:
      return { path, message: error.message ?? 'is invalid' };
  }
}

/**
 * Every problem, with anyOf/oneOf noise reduced to the branch errors a user can act on, plus
 * the limits JSON Schema cannot state for these values (see limitProblems); a value with a
 * limit problem gets that message alone.
 */
export function validateAgainstSchema(schema: ConfigSchema, value: unknown): SchemaProblem[] {
  const out = limitProblems(schema, value);
  const validate = compileSchema(schema);
  if (validate(value)) return out;
  const errors = (validate.errors ?? []).filter((e) => e.keyword !== 'anyOf' && e.keyword !== 'oneOf' && e.keyword !== 'if');
  const seen = new Set<string>(out.map((p) => p.path.join('/')));
  for (const error of errors) {
    const problem = describeError(error);
    const key = `${problem.path.join('/')}|${problem.message}`;
    if (seen.has(key) || seen.has(problem.path.join('/'))) continue;
    seen.add(key);
    out.push(problem);
  }
  return out;
}

export type SchemaNode = Record<string, unknown>;

/** The schema of an object's property or an array's item, when the schema gives one. */
function childSchema(node: SchemaNode, key: string | number): ConfigSchema | undefined {
  if (typeof key === 'number') return node.items as ConfigSchema | undefined;
  const properties = (node.properties ?? {}) as Record<string, ConfigSchema>;
  const additional = node.additionalProperties;
  return properties[key] ?? (typeof additional === 'object' ? (additional as ConfigSchema) : undefined);
}

/**
 * What the value must respect to be usable at run time, beyond what ajv checks:
 * - every number is finite, every integer exact (at most Number.MAX_SAFE_INTEGER): YAML reads
 *   `1e400` as Infinity and 99999999999999999999999 as an inexact float;
 * - a duration is at most MAX_DURATION_MS, the longest a Node.js timer waits;
 * - `minimum`/`maximum` of a duration or size also bound what a string means (`1us`, `2GiB`):
 *   ajv applies them to numbers only.
 */
export function limitProblems(schema: ConfigSchema, value: unknown, root: ConfigSchema = schema, path: (string | number)[] = []): SchemaProblem[] {
  const node = resolveRef(schema as SchemaNode, root as SchemaNode);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return [{ path, message: `must be a finite number (got ${value})` }];
    if (Number.isInteger(value) && !Number.isSafeInteger(value)) {
      const bound = value > 0 ? `at most ${Number.MAX_SAFE_INTEGER}` : `at least -${Number.MAX_SAFE_INTEGER}`;
      return [{ path, message: `must be ${bound} (larger integers are not exact)` }];
    }
  }
  if (node.format === 'duration' || node.format === 'size') {
    const amount = typeof value === 'number' ? value : typeof value === 'string' ? (node.format === 'duration' ? parseDuration(value) : parseSize(value)) : undefined;
    return amount === undefined ? [] : unitLimitProblems(node, amount, typeof value === 'string', path);
  }
  const out: SchemaProblem[] = [];
  if (Array.isArray(value)) {
    const items = childSchema(node, 0);
    if (items) value.forEach((item, i) => out.push(...limitProblems(items, item, root, [...path, i])));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
      const sub = childSchema(node, key);
      if (sub) out.push(...limitProblems(sub, child, root, [...path, key]));
    }
  }
  return out;
}

function unitLimitProblems(node: SchemaNode, amount: number, fromString: boolean, path: (string | number)[]): SchemaProblem[] {
  const isDuration = node.format === 'duration';
  const unit = isDuration ? 'ms' : ' bytes';
  if (isDuration && amount > MAX_DURATION_MS) {
    return [{ path, message: `must be at most ${MAX_DURATION_MS}ms (about 24.8 days), the longest delay a Node.js timer takes` }];
  }
  // Numbers were already checked by ajv against the same keywords.
  if (!fromString) return [];
  const { minimum, maximum } = node as { minimum?: unknown; maximum?: unknown };
  if (typeof minimum === 'number' && amount < minimum) return [{ path, message: `must be at least ${minimum}${unit} (got ${amount}${unit})` }];
  if (typeof maximum === 'number' && amount > maximum) return [{ path, message: `must be at most ${maximum}${unit} (got ${amount}${unit})` }];
  return [];
}

/**
 * Replaces duration strings with milliseconds and size strings with bytes wherever the schema
 * says `format: duration` / `format: size`. Runs after validation, so every such string parses.
 */
export function normalizeUnits(schema: ConfigSchema, value: unknown, root: ConfigSchema = schema): unknown {
  const node = resolveRef(schema as SchemaNode, root as SchemaNode);
  if (typeof value === 'string') {
    if (node.format === 'duration') return parseDuration(value) ?? value;
    if (node.format === 'size') return parseSize(value) ?? value;
    return value;
  }
  if (Array.isArray(value)) {
    const items = childSchema(node, 0);
    return items ? value.map((v) => normalizeUnits(items, v, root)) : value;
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
      const sub = childSchema(node, key);
      out[key] = sub ? normalizeUnits(sub, child, root) : child;
    }
    return out;
  }
  return value;
}

/** `node`, or what its local `$ref` (`#/...`) points to in `root`. */
export function resolveRef(node: SchemaNode, root: SchemaNode): SchemaNode {
  const ref = node.$ref;
  if (typeof ref !== 'string' || !ref.startsWith('#/')) return node;
  let target: unknown = root;
  for (const segment of ref.slice(2).split('/')) target = (target as SchemaNode | undefined)?.[segment];
  return (target as SchemaNode | undefined) ?? node;
}
