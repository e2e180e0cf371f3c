/**
 * `npm run bench`: every bench/*.bench.ts in its own Node process (a clean heap and JIT for each,
 * --expose-gc for the memory measurements), one after another so they do not compete for the
 * two cores. `npm run bench -- conntrack l7` runs only the benches whose names contain a word;
 * everything from the first `--option` on is passed to each bench
 * (`npm run bench -- overhead --rounds 5`).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const dir = __dirname;
const argv = process.argv.slice(2);
const firstOption = argv.findIndex((a) => a.startsWith('--'));
const filters = firstOption < 0 ? argv : argv.slice(0, firstOption);
const passed = firstOption < 0 ? [] : argv.slice(firstOption);
const benches = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((word) => f.includes(word)))
  .sort();

let failed = 0;
for (const file of benches) {
  console.log(`\n=== ${file} ===`);
  const started = Date.now();
  const result = spawnSync(process.execPath, ['--expose-gc', '-r', 'tsx/cjs', join(dir, file), ...passed], { stdio: 'inherit', cwd: join(dir, '..') });
  if (result.status !== 0) {
    failed++;
    console.log(`${file} exited with ${result.status ?? result.signal}`);
  }
  console.log(`(${((Date.now() - started) / 1000).toFixed(1)} s)`);
}
console.log(`\n${benches.length - failed} of ${benches.length} benchmarks ran`);
process.exitCode = failed ? 1 : 0;
