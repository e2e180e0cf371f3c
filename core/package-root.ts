/**
 * Where the installed package lives, found from this module's own location. The code runs from
 * its TypeScript sources (tests, benchmarks) or from the compiled `dist/` (the bin), so files
 * shipped next to the sources (the eBPF object, package.json) are found from the package root,
 * never relative to `__dirname`, whose depth differs between the two.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

function findPackageRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no package.json above ${from}: the network-observer installation is incomplete`);
  }
}

export const PACKAGE_ROOT = findPackageRoot(__dirname);

/** The package's version (`service.version` of the observer's own telemetry). */
export const PACKAGE_VERSION: string = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
