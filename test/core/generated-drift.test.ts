import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { displayPath, generateAll } from '../../scripts/config-schemas';

describe('generated config schema and types', () => {
  it('match the committed files (run `npm run gen:types` after changing a schema)', async function () {
    this.timeout(60_000);
    const files = await generateAll();
    const stale: string[] = [];
    for (const [path, content] of files) {
      if (!existsSync(path) || readFileSync(path, 'utf8') !== content) stale.push(displayPath(path));
    }
    assert.deepEqual(stale, [], `out of date: ${stale.join(', ')} — run npm run gen:types and commit`);
  });
});
