/**
 * Config schemas live next to their components (`<kind>s/<type>/config.schema.json`).
 * This module composes them into the root `config.schema.json` (for editors and for a
 * dry look at the whole shape) and generates each fragment's TypeScript types.
 * `npm run gen:types` writes the files; test/config/generated-drift.test.ts fails when a
 * committed file differs from what this module produces.
 */
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { compile } from 'json-schema-to-typescript';
import { builtinFactories } from '../distribution/components';

export const ROOT = join(__dirname, '..');
const KIND_FOLDERS = { receivers: 'receiver', processors: 'processor', exporters: 'exporter' } as const;
const COLLECTOR_SCHEMA = join(ROOT, 'core/config/collector.schema.json');

const BANNER = '/* Generated from config.schema.json by `npm run gen:types`. Do not edit. */';

interface Fragment {
  folder: keyof typeof KIND_FOLDERS;
  type: string;
  schemaPath: string;
  schema: Record<string, unknown>;
}

export function findFragments(): Fragment[] {
  const out: Fragment[] = [];
  for (const folder of Object.keys(KIND_FOLDERS) as Array<keyof typeof KIND_FOLDERS>) {
    const dir = join(ROOT, folder);
    if (!existsSync(dir)) continue;
    for (const type of readdirSync(dir).sort()) {
      const schemaPath = join(dir, type, 'config.schema.json');
      if (!existsSync(schemaPath)) continue;
      out.push({ folder, type, schemaPath, schema: JSON.parse(readFileSync(schemaPath, 'utf8')) });
    }
  }
  return out;
}

/** Drops the keywords json-schema-to-typescript and editors do not need to see twice. */
function withoutTopMeta(schema: Record<string, unknown>): Record<string, unknown> {
  const copy = { ...schema };
  delete copy.$schema;
  delete copy.$id;
  return copy;
}

/** Types a built-in component was renamed from, still accepted (see Factory.formerTypes). */
function formerTypes(kind: string, type: string): readonly string[] {
  return builtinFactories().find((f) => f.kind === kind && f.type === type)?.formerTypes ?? [];
}

export function composeRootSchema(fragments: Fragment[]): Record<string, unknown> {
  const collector = JSON.parse(readFileSync(COLLECTOR_SCHEMA, 'utf8')) as Record<string, unknown>;
  const defs: Record<string, unknown> = {};
  const sections: Record<string, unknown> = {};
  for (const folder of Object.keys(KIND_FOLDERS) as Array<keyof typeof KIND_FOLDERS>) {
    const mine = fragments.filter((f) => f.folder === folder);
    const patternProperties: Record<string, unknown> = {};
    for (const f of mine) {
      const defName = `${KIND_FOLDERS[folder]}.${f.type}`;
      defs[defName] = withoutTopMeta(f.schema);
      // A component may be configured as `type:` with no body, which YAML reads as null.
      patternProperties[`^${f.type}(/[^/\\s]+)?$`] = { anyOf: [{ $ref: `#/$defs/${defName}` }, { type: 'null' }] };
      for (const old of formerTypes(KIND_FOLDERS[folder], f.type)) {
        patternProperties[`^${old}(/[^/\\s]+)?$`] = {
          description: `The former name of ${f.type}; still accepted, with a warning. Write ${f.type}.`,
          deprecated: true,
          anyOf: [{ $ref: `#/$defs/${defName}` }, { type: 'null' }],
        };
      }
    }
    sections[folder] = {
      type: 'object',
      description: `${KIND_FOLDERS[folder]}s keyed by type[/name]. Types registered by plugins are validated at run time.`,
      patternProperties,
      additionalProperties: true,
    };
  }
  const properties = { ...(collector.properties as Record<string, unknown>), ...sections };
  return {
    ...collector,
    properties,
    $defs: { ...((collector.$defs as Record<string, unknown>) ?? {}), ...defs },
  };
}

function typeNameFor(f: Fragment): string {
  const pascal = f.type.replace(/(^|_)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase());
  const kind = KIND_FOLDERS[f.folder];
  return `${pascal}${kind[0].toUpperCase()}${kind.slice(1)}Config`;
}

async function typesFor(schema: Record<string, unknown>, name: string): Promise<string> {
  const ts = await compile({ ...withoutTopMeta(schema), title: name } as never, name, {
    bannerComment: BANNER,
    additionalProperties: false,
    style: { singleQuote: true, printWidth: 110 },
  });
  return ts;
}

/** Every generated file: absolute path -> content. */
export async function generateAll(): Promise<Map<string, string>> {
  const fragments = findFragments();
  const files = new Map<string, string>();
  files.set(join(ROOT, 'config.schema.json'), JSON.stringify(composeRootSchema(fragments), null, 2) + '\n');
  const collector = JSON.parse(readFileSync(COLLECTOR_SCHEMA, 'utf8')) as Record<string, unknown>;
  files.set(join(ROOT, 'core/config/collector.generated.ts'), await typesFor(collector, 'CollectorConfigFile'));
  for (const f of fragments) {
    files.set(join(ROOT, f.folder, f.type, 'config.generated.ts'), await typesFor(f.schema, typeNameFor(f)));
  }
  return files;
}

export function displayPath(path: string): string {
  return relative(ROOT, path);
}
