/**
 * Without privileges the receiver refuses to start with one paragraph that names what is
 * missing and how to fix it (capabilities, or mock mode) — a user-facing error, no stack.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const SCRIPT = join(__dirname, 'fixtures', 'start-once.ts');
const ROOT = join(__dirname, '..', '..', '..');

describe('ebpf_network without privileges', function () {
  this.timeout(30000);

  it('fails to start with one actionable paragraph', function () {
    const node = [process.execPath, '--require', 'tsx/cjs', SCRIPT];
    let argv: string[];
    if (process.getuid?.() === 0) {
      if (!existsSync('/usr/bin/setpriv')) {
        if (process.env.CI === 'true') assert.fail('setpriv (util-linux) is needed to drop privileges in CI');
        this.skip();
      }
      // Drop to nobody with no capabilities at all.
      argv = ['/usr/bin/setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', 'env', 'HOME=/tmp', ...node];
    } else {
      argv = node;
    }
    const out = execFileSync(argv[0], argv.slice(1), { cwd: ROOT, env: { ...process.env, TAPIO_MOCK_MODE: '' } }).toString().trim();
    const result = JSON.parse(out) as { started: boolean; name?: string; message?: string };
    assert.equal(result.started, false);
    assert.equal(result.name, 'UserFacingError');
    const message = result.message!;
    assert.ok(!message.includes('\n'), 'one paragraph');
    assert.ok(!/\bat .*\.ts:\d+/.test(message), 'no stack trace');
    assert.match(message, /CAP_BPF/);
    assert.match(message, /TAPIO_MOCK_MODE=true/);
  });
});
