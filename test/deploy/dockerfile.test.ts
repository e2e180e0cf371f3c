/**
 * deploy/Dockerfile, read statically (no Docker daemon needed): the base image, libbpf1, the
 * entrypoint the DaemonSet relies on, a build context holding everything the runtime loads,
 * and the README's deploy commands pointing at these files.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const ROOT = join(__dirname, '..', '..');
const DOCKERFILE = readFileSync(join(ROOT, 'deploy', 'Dockerfile'), 'utf8');
const ENTRYPOINT = 'node bin/network-observer.js run --config /etc/network-observer/collector.yaml';

/** Instructions with their arguments, continuation lines joined, comments dropped. */
function instructions(text: string): Array<{ op: string; args: string }> {
  const joined = text.split('\n').filter((l) => !/^\s*#/.test(l)).join('\n').replace(/\\\n/g, ' ');
  return joined.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => {
    const space = l.indexOf(' ');
    return { op: l.slice(0, space).toUpperCase(), args: l.slice(space + 1).trim() };
  });
}

describe('deploy/Dockerfile', () => {
  const steps = instructions(DOCKERFILE);
  const finalStage = steps.slice(steps.map((s) => s.op).lastIndexOf('FROM'));

  it('builds on Debian bookworm slim with Node.js 20 and installs libbpf1 in the image that runs', () => {
    const froms = steps.filter((s) => s.op === 'FROM').map((s) => s.args.split(/\s+/)[0]);
    assert.ok(froms.length > 0);
    for (const from of froms) assert.equal(from, 'node:20-bookworm-slim');
    assert.ok(finalStage.some((s) => s.op === 'RUN' && /apt-get install\b.*\blibbpf1\b/.test(s.args)), 'libbpf1 in the final stage');
    assert.ok(steps.some((s) => s.op === 'RUN' && /npm prune --omit=dev|npm ci\b.*--omit=dev/.test(s.args)), 'production dependencies only');
  });

  it(`runs \`${ENTRYPOINT}\`, the command the DaemonSet gives too`, () => {
    const json = (op: string): string[] => JSON.parse(finalStage.find((s) => s.op === op)!.args) as string[];
    const entrypoint = json('ENTRYPOINT');
    const cmd = json('CMD');
    assert.equal([...entrypoint, ...cmd].join(' '), ENTRYPOINT);
    const ds = parse(readFileSync(join(ROOT, 'deploy', 'kubernetes', 'daemonset.yaml'), 'utf8')) as { spec: { template: { spec: { containers: Array<{ args: string[]; command?: string[] }> } } } };
    const container = ds.spec.template.spec.containers[0];
    assert.equal(container.command, undefined, 'the image entrypoint is kept');
    assert.deepEqual(container.args, cmd);
  });

  it('copies only files that exist, and its context keeps everything the runtime loads', () => {
    for (const step of steps.filter((s) => s.op === 'COPY' && !s.args.startsWith('--from'))) {
      const sources = step.args.split(/\s+/).slice(0, -1);
      for (const source of sources) if (source !== '.') assert.ok(existsSync(join(ROOT, source)), `COPY ${source}`);
    }
    const ignored = readFileSync(join(ROOT, 'deploy', 'Dockerfile.dockerignore'), 'utf8')
      .split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')).map((l) => l.replace(/^\*\*\//, ''));
    const needed = ['bin/network-observer.js', 'core', 'receivers', 'processors', 'exporters', 'bpf/net.bpf.o', 'package.json', 'package-lock.json', 'tsconfig.json', 'collector.yaml'];
    for (const path of needed) {
      assert.ok(existsSync(join(ROOT, path)), `${path} exists`);
      for (const pattern of ignored) assert.ok(path !== pattern && !path.startsWith(`${pattern}/`), `${path} is excluded by ${pattern}`);
    }
  });

  it("the README's deploy commands name these files", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    assert.match(readme, /docker build -f deploy\/Dockerfile /);
    assert.match(readme, /kubectl apply -k deploy\/kubernetes\b/);
  });
});
