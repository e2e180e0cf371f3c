/**
 * The CLI as a user runs it: a real child process of bin/network-observer.js.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, closeSync, constants, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OtlpReceiver } from '../exporters/otlp-receiver';

const ROOT = join(__dirname, '../..');
const BIN = join(ROOT, 'bin/network-observer.js');

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
}

const dir = mkdtempSync(join(tmpdir(), 'observer-cli-'));

/** The 20-line processor plugin of the issue: outside the repository, plain JavaScript. */
writeFileSync(join(dir, 'drop-pid.js'), `
module.exports.factories = [{
  kind: 'processor',
  type: 'drop_pid',
  stability: 'alpha',
  description: 'drops every event of one process id',
  configSchema: { type: 'object', additionalProperties: false, properties: { pid: { type: 'integer', minimum: 0 } } },
  createDefaultConfig: () => ({ pid: 0 }),
  createProcessor(settings, config, next) {
    return {
      mutatesData: false,
      start() {},
      shutdown() {},
      consume(batch) {
        const kept = batch.filter((e) => e.process.pid !== config.pid);
        settings.telemetry.received(batch.length);
        settings.telemetry.dropped(batch.length - kept.length);
        return kept.length ? next.consume(kept) : undefined;
      },
    };
  },
}];
`);

writeFileSync(join(dir, 'mock.yaml'), `
plugins: [./drop-pid.js]
receivers:
  ebpf_network:
    mock_events_per_second: 400
processors:
  drop_pid:
    pid: 733
exporters:
  stdout:
    format: json
service:
  telemetry: { shutdown_timeout: 3s }
  pipelines:
    events: { receivers: [ebpf_network], processors: [drop_pid], exporters: [stdout] }
`);

writeFileSync(join(dir, 'bad.yaml'), `
receivers:
  ebpf_network:
    enable_tcpp: true
    ring_buffer_size: huge
exporters:
  stdout:
service:
  pipelines:
    events: { receivers: [ebpf_network], processors: [batch], exporters: [stdout] }
`);

describe('network-observer CLI', function () {
  this.timeout(60_000);

  before(() => {
    assert.ok(existsSync(join(ROOT, 'dist/distribution/cli/main.js')), 'dist/ is missing: run `npm run build` (npm install runs it)');
  });

  it('runs compiled JavaScript: no tsx, no compile cache, nothing from a TMPDIR another user prepared', () => {
    // The attack of issue 13: another user creates tsx's cache folder for root before root's
    // first run. Here it exists, world-writable and owned by nobody; it must stay unused.
    const tmp = mkdtempSync(join(tmpdir(), 'observer-hostile-tmp-'));
    const trap = join(tmp, `tsx-${process.getuid?.() ?? 0}`);
    mkdirSync(trap);
    writeFileSync(join(trap, 'planted.js'), "require('fs').writeFileSync(__filename + '.ran', '')\n");
    chmodSync(trap, 0o777);
    if (process.getuid?.() === 0) chownSync(trap, 65534, 65534);
    const loaded = join(tmp, 'loaded.json');
    // Records every module the bin loaded, as it exits.
    const preload = join(dir, 'record-modules.js');
    writeFileSync(preload, `process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(loaded)}, JSON.stringify(Object.keys(require.cache))));`);
    // The plugin example is TypeScript: it is transpiled in memory.
    const r = spawnSync(process.execPath, ['-r', preload, BIN, 'validate', '--config', 'examples/collector-with-plugin.yaml'], {
      cwd: ROOT, encoding: 'utf8', env: { ...process.env, TMPDIR: tmp, NODE_OPTIONS: '' }, timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    const modules = JSON.parse(readFileSync(loaded, 'utf8')) as string[];
    assert.ok(modules.includes(join(ROOT, 'dist/distribution/cli/main.js')), 'the CLI ran from dist/');
    assert.deepEqual(modules.filter((m) => m.includes('/node_modules/tsx/') || m.startsWith(tmp)), []);
    const typescriptSources = modules.filter((m) => m.endsWith('.ts') && !m.startsWith(join(ROOT, 'examples')) && !m.startsWith(join(ROOT, 'core')));
    assert.deepEqual(typescriptSources, [], 'only the plugin (and the API modules it imports relatively) are TypeScript');
    assert.deepEqual(readdirSync(trap), ['planted.js']);
    assert.deepEqual(readdirSync(tmp).sort(), ['loaded.json', `tsx-${process.getuid?.() ?? 0}`]);
  });

  it('validate accepts the shipped collector.yaml', () => {
    const r = cli(['validate', '--config', 'collector.yaml']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /collector\.yaml is valid/);
  });

  it('validate accepts the shipped OTLP example', () => {
    const r = cli(['validate', '--config', 'examples/collector-otlp.yaml']);
    assert.equal(r.status, 0, r.stderr);
  });

  it('validate accepts the otlp exporter\'s former name otlp_http, warning with the new spelling', () => {
    writeFileSync(join(dir, 'otlp-http.yaml'), `
receivers: { ebpf_network: { mock_mode: true } }
exporters: { otlp_http/backend: { endpoint: "http://127.0.0.1:4318" } }
service: { pipelines: { p: { receivers: [ebpf_network], exporters: [otlp_http/backend] } } }
`);
    const r = cli(['validate', '--config', join(dir, 'otlp-http.yaml')]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /^warning: exporters::otlp_http\/backend: the otlp_http exporter is now called otlp: write otlp\/backend, here and in service::pipelines; the old name still works but will go away$/m);
  });

  it('validate names an unknown key, a wrongly typed value and an undefined processor, exit 1, no stack', () => {
    const r = cli(['validate', '--config', join(dir, 'bad.yaml')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /receivers::ebpf_network::enable_tcpp: unknown key/);
    assert.match(r.stderr, /receivers::ebpf_network::ring_buffer_size: must be a size/);
    assert.match(r.stderr, /service::pipelines::events::processors::0: references undefined processor "batch"/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  });

  it('a missing config file is one clear line', () => {
    const r = cli(['validate', '--config', join(dir, 'nope.yaml')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /config file .*nope\.yaml does not exist/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });

  it('components lists built-in types and plugin types', () => {
    const r = cli(['components', '--config', join(dir, 'mock.yaml')]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /receivers:\n\s+ebpf_network\s+\w+/);
    assert.match(r.stdout, /drop_pid\s+alpha\s+drops every event of one process id\s+\[plugin "\.\/drop-pid\.js"\]/);
    assert.match(r.stdout, /exporters:[\s\S]*stdout/);
    assert.match(r.stdout, /^  otlp\s+beta\s+.*\(formerly otlp_http, still accepted\)$/m);
  });

  it('doctor reports every check with a verdict, and its exit code says whether all passed', () => {
    const r = cli(['doctor']);
    assert.match(r.stdout, /^ ok   node\.js/m);
    assert.match(r.stdout, /ebpf: kernel BTF/);
    if (process.getuid?.() === 0) {
      assert.equal(r.status, 0, r.stdout);
      assert.match(r.stdout, /ok\s+ebpf: program on_tcp_state\s+loads and attaches/);
    } else {
      assert.equal(r.status, 1);
      assert.match(r.stdout, /FAIL\s+ebpf: privileges/);
    }
  });

  /** Runs mock mode with `stdout` as standard output, never read; SIGTERM after 2.5 s. */
  async function runWithStuckReader(stdout: number | 'pipe'): Promise<{ code: number | null; stoppedMs: number; stderr: string }> {
    const child = spawn(process.execPath, [BIN, 'run', '--config', join(dir, 'mock.yaml')], {
      cwd: ROOT, env: { ...process.env, TAPIO_MOCK_MODE: 'true' }, stdio: ['ignore', stdout, 'pipe'],
    });
    child.stdout?.pause(); // node's 'pipe' is a socket pair; never read from it
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => { stderr += d; });
    try {
      await new Promise((r) => setTimeout(r, 2500));
      const signalledAt = Date.now();
      child.kill('SIGTERM');
      const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      return { code, stoppedMs: Date.now() - signalledAt, stderr };
    } finally {
      child.kill('SIGKILL');
      child.stdout?.destroy();
    }
  }

  function assertStoppedAndCounted(run: { code: number | null; stoppedMs: number; stderr: string }): void {
    assert.equal(run.code, 0, run.stderr);
    assert.ok(run.stoppedMs < 5000, `stopped within 5 s (took ${run.stoppedMs} ms)`);
    assert.match(run.stderr, /standard output did not drain within \d+ ms; the [1-9]\d* bytes of output it still held were dropped/);
    assert.match(run.stderr, /receiver\/ebpf_network: received=[1-9]/, 'the pipeline kept running');
  }

  it('a reader that stops reading its stdout pipe neither blocks the observer nor keeps it from exiting', async () => {
    // A named pipe, as container runtimes give containers, whose reader never reads: it fills
    // within a fraction of a second, and a synchronous write(2) would then block for good.
    const fifo = join(dir, 'stuck.fifo');
    spawnSync('mkfifo', [fifo]);
    const readEnd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writeEnd = openSync(fifo, 'w');
    try {
      assertStoppedAndCounted(await runWithStuckReader(writeEnd));
    } finally {
      closeSync(readEnd);
      closeSync(writeEnd);
    }
  });

  it('the same with a socket as stdout whose reader stops reading', async () => {
    assertStoppedAndCounted(await runWithStuckReader('pipe'));
  });

  it('`run | head -1`: when head exits, the observer says so once and shuts down cleanly within 2 s, exit 0', () => {
    // A shell pipeline, as a user types it: stdout is a FIFO whose reader exits after one line.
    const script = [
      `node ${JSON.stringify(BIN)} run --config ${JSON.stringify(join(dir, 'mock.yaml'))} | { head -1; echo "head-exited $(date +%s%3N)" >&2; }`,
      'echo "observer-exit ${PIPESTATUS[0]} $(date +%s%3N)" >&2',
    ].join('; ');
    const r = spawnSync('bash', ['-c', script], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, TAPIO_MOCK_MODE: 'true' }, timeout: 30_000 });
    assert.equal(r.stdout.split('\n').filter(Boolean).length, 1, r.stderr);
    JSON.parse(r.stdout);
    const headExited = Number(/head-exited (\d+)/.exec(r.stderr)?.[1]);
    const [, code, at] = /observer-exit (\d+) (\d+)/.exec(r.stderr) ?? [];
    assert.equal(code, '0', r.stderr);
    assert.ok(Number(at) - headExited < 2000, `ended ${Number(at) - headExited} ms after head exited`);
    assert.equal(r.stderr.match(/standard output was closed by its reader \(EPIPE\)/g)?.length, 1, r.stderr);
    assert.match(r.stderr, /exporter\/stdout: standard output was closed by its reader \(EPIPE\); the rest of its output is dropped; no exporter is left; shutting down/);
    // Each event counted once: written to the pipe (emitted) or not (dropped).
    const [, received, emitted, dropped] = /exporter\/stdout: received=(\d+) emitted=(\d+) dropped=(\d+) errors=0/.exec(r.stderr) ?? [];
    assert.ok(Number(dropped) > 0, r.stderr);
    assert.equal(Number(emitted) + Number(dropped), Number(received), r.stderr);
  });

  it('SIGTERM after an OTLP backend hung and recovered delivers everything, waiting for no retry backoff', async () => {
    const receiver = await new OtlpReceiver().start();
    receiver.responder = () => 'hang';
    writeFileSync(join(dir, 'otlp.yaml'), `
receivers:
  ebpf_network: { mock_events_per_second: 200, flush_interval: 100ms }
exporters:
  otlp:
    endpoint: ${receiver.url}
    protocol: http/json
    timeout: 300ms
    retry_on_failure: { initial_interval: 20s, max_interval: 20s }
    signals: { traces: true, metrics: false, logs: true }
    sending_queue: { batch: { flush_timeout: 50ms } }
service:
  telemetry: { shutdown_timeout: 5s }
  pipelines:
    events: { receivers: [ebpf_network], exporters: [otlp] }
`);
    const child = spawn(process.execPath, [BIN, 'run', '--config', join(dir, 'otlp.yaml')], {
      cwd: ROOT, env: { ...process.env, TAPIO_MOCK_MODE: 'true' }, stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => { stderr += d; });
    try {
      // Hung requests time out after 300 ms and wait a 20 s backoff; then the backend is back.
      await receiver.waitFor(() => receiver.attempts.filter((a) => a.status === 'hang').length >= 2, 20_000, 'requests to the hung backend');
      await new Promise((r) => setTimeout(r, 800));
      receiver.responder = () => undefined;
      await new Promise((r) => setTimeout(r, 700));
      const signalledAt = Date.now();
      child.kill('SIGTERM');
      const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      assert.equal(code, 0, stderr);
      assert.ok(Date.now() - signalledAt < 4000, `stopped ${Date.now() - signalledAt} ms after SIGTERM, not after a backoff`);
      const counters = /exporter\/otlp: (.*)/.exec(stderr)?.[1] ?? '';
      assert.match(counters, /received=[1-9]\d* emitted=[1-9]\d* dropped=0 /, stderr);
      assert.match(counters, / retries=[1-9]/, 'the hung requests were retried');
      const [, received, emitted] = /received=(\d+) emitted=(\d+)/.exec(counters)!;
      const exported = receiver.spans().length + receiver.logs().length;
      assert.equal(Number(emitted), exported, 'every span and log record the exporter counts as emitted reached the backend');
      assert.ok(Number(received) >= exported);
      assert.doesNotMatch(stderr, /WARN .*dropped/);
    } finally {
      child.kill('SIGKILL');
      await receiver.stop();
    }
  });

  it('TAPIO_MOCK_MODE=true run prints JSON lines; SIGTERM stops it with exit 0 within 5 s and prints the counters', async () => {
    const child = spawn(process.execPath, [BIN, 'run', '--config', join(dir, 'mock.yaml')], {
      cwd: ROOT, env: { ...process.env, TAPIO_MOCK_MODE: 'true' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d; });
    child.stderr.on('data', (d: Buffer) => { stderr += d; });
    const deadline = Date.now() + 20_000;
    while (stdout.split('\n').length < 30 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const signalledAt = Date.now();
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    assert.equal(code, 0, stderr);
    assert.ok(Date.now() - signalledAt < 5000, 'stopped within 5 s');
    const lines = stdout.split('\n').filter(Boolean);
    assert.ok(lines.length >= 30, `got ${lines.length} lines`);
    for (const line of lines) JSON.parse(line);
    assert.ok(!stdout.includes('"process.pid":733'), 'the plugin dropped pid 733');
    assert.match(stderr, /receiver\/ebpf_network: received=\d+ emitted=[1-9]/);
    assert.match(stderr, /processor\/drop_pid: received=\d+ emitted=\d+ dropped=[1-9]/);
  });
});
