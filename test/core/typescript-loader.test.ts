/**
 * TypeScript plugins in the compiled collector: transpiled in memory, nothing cached on disk.
 * (Tests themselves run under tsx; the compiled bin's use of this loader is tested end to end
 * in test/cli/cli.test.ts.)
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import Module from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerTypeScriptLoader, transpileTypeScript } from '../../core/typescript-loader';

const ROOT = join(__dirname, '../..');
const COMPILED_LOADER = join(ROOT, 'dist/core/typescript-loader.js');

describe('typescript-loader', () => {
  it('transpiles TypeScript (types, enums, a JSON import) to CommonJS with an inline source map', () => {
    const js = transpileTypeScript([
      "import type { Factory } from './component';",
      "import schema from './schema.json';",
      'enum Mode { Drop = 1, Keep }',
      'export const mode: Mode = Mode.Keep;',
      'export function f(x: number): number { return x * 2; }',
      'export const s: unknown = schema;',
      'export type Unused = Factory;',
    ].join('\n'), 'plugin.ts');
    assert.match(js, /require\("\.\/schema\.json"\)/);
    assert.doesNotMatch(js, /require\("\.\/component"\)/, 'type-only imports disappear');
    assert.doesNotMatch(js, /: number/);
    assert.match(js, /sourceMappingURL=data:application\/json;base64,/, 'source map inline, not in a file');
  });

  it('keeps a hook that already handles .ts (tsx under mocha)', () => {
    const extensions = (Module as unknown as { _extensions: Record<string, unknown> })._extensions;
    const before = extensions['.ts'];
    assert.ok(before, 'mocha runs under tsx');
    registerTypeScriptLoader();
    assert.equal(extensions['.ts'], before);
  });

  it('in plain Node (no tsx), requires a .ts module and its .ts imports, writing nothing to disk', function () {
    this.timeout(30_000);
    assert.ok(existsSync(COMPILED_LOADER), 'dist/ is missing: run `npm run build` (npm install runs it)');
    const dir = mkdtempSync(join(tmpdir(), 'ts-plugin-'));
    const tmp = mkdtempSync(join(tmpdir(), 'ts-plugin-tmpdir-'));
    writeFileSync(join(dir, 'helper.ts'), 'export const double = (n: number): number => n * 2;\n');
    writeFileSync(join(dir, 'plugin.ts'), "import { double } from './helper';\nexport const answer: number = double(21);\n");
    const script = `
      require(${JSON.stringify(COMPILED_LOADER)}).registerTypeScriptLoader();
      console.log(require(${JSON.stringify(join(dir, 'plugin'))}).answer);
    `;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, TMPDIR: tmp, NODE_OPTIONS: '' } });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), '42');
    assert.deepEqual(readdirSync(dir).sort(), ['helper.ts', 'plugin.ts'], 'no compiled file next to the sources');
    assert.deepEqual(readdirSync(tmp), [], 'no cache in TMPDIR');
  });
});
