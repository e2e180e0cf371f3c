/**
 * Loads TypeScript plugins (docs/plugins.md) in the compiled collector: `.ts` files are
 * transpiled in memory with the `typescript` package's `transpileModule` when required. Nothing
 * is written to or read back from a cache on disk: the collector runs as root, and a compile
 * cache in a world-writable place (tsx keeps one in /tmp) lets another local user swap the code
 * root executes. Types are not checked here; a plugin's author runs `tsc` for that.
 *
 * Under a development runner that already handles `.ts` (tsx for tests and benchmarks), that
 * runner's hook is kept.
 */
import { readFileSync } from 'node:fs';
import Module from 'node:module';
import type * as ts from 'typescript';

type CompilingModule = Module & { _compile(code: string, filename: string): void };

let typescript: typeof ts | undefined;

/** CommonJS JavaScript for one TypeScript source file, with an inline source map for stack traces. */
export function transpileTypeScript(source: string, fileName: string): string {
  // Loaded on first use: a collector without .ts plugins never pays for the compiler.
  typescript ??= require('typescript') as typeof ts;
  const { outputText } = typescript.transpileModule(source, {
    fileName,
    compilerOptions: {
      module: typescript.ModuleKind.CommonJS,
      target: typescript.ScriptTarget.ES2022,
      esModuleInterop: true,
      experimentalDecorators: true,
      emitDecoratorMetadata: true,
      inlineSourceMap: true,
      inlineSources: true,
    },
  });
  return outputText;
}

function loadTypeScript(module: Module, filename: string): void {
  (module as CompilingModule)._compile(transpileTypeScript(readFileSync(filename, 'utf8'), filename), filename);
}

/** Lets `require()` load `.ts` files (and resolve extension-less imports to them) from now on. */
export function registerTypeScriptLoader(): void {
  const extensions = (Module as unknown as { _extensions: Record<string, unknown> })._extensions;
  for (const ext of ['.ts', '.cts']) {
    if (!extensions[ext]) extensions[ext] = loadTypeScript;
  }
}
