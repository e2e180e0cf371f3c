/**
 * What the observer costs the workload it watches: nginx on loopback driven by wrk, alternating
 * rounds without and with a tracer, as a user would measure it.
 *
 *   npm run bench -- overhead [--rounds 3] [--seconds 5] [--warmup 4] [--modes keepalive,close]
 *     [--phases saturation,light] [--light-warmup 60] [--tracers shipped,l4,bpftrace,no-tls-uprobes,export-all,capture-only,l7-only] [--light-seconds 20] [--tls] [--body 3]   (root)
 *
 * Needs Debian's `nginx-light wrk bpftrace` (apt-get install nginx-light wrk bpftrace).
 *
 * saturation: wrk -t1 -c20 against `location = /ok { return 200 "ok\n"; }` (worker_processes 1;
 *   --body N: a body of N bytes instead, at most 3000),
 *   once with keep-alive and once with `Connection: close`. Each tracer run (started --warmup s
 *   before wrk) sits between two baseline runs; its ratio is its req/s over the mean of those
 *   neighbours, so drift of this shared machine cancels out. Tracers: the shipped pipeline
 *   (collector.yaml, stdout to /dev/null), L4 only (the same pipeline without payload capture and
 *   without the l7 processor), and a minimal bpftrace capture (64 B of every read/write/recvfrom/
 *   sendto buffer into a map) as the yardstick. For the shipped pipeline it also reports the
 *   HTTP transactions counted against 2 x wrk's requests (both ends) and the ring records lost.
 *   `export-all` (not run by default) is the shipped pipeline without sampler, rate limit and
 *   HTTP/1 summaries, printing every span: the same counts plus the spans printed per second. `capture-only`
 *   (the receiver with payload capture, rate limited to 10 events/s before stdout) and `l7-only`
 *   (the same plus the l7 processor) split the shipped pipeline's cost by stage.
 * --tls: nginx serves HTTPS (self-signed certificate from openssl, TLS 1.3) and wrk drives https://;
 *   the tracer `no-tls-uprobes` is the shipped pipeline with `tls_uprobes: false`, so `shipped`
 *   against it is the cost of the HTTPS plaintext capture (OpenSSL uprobes).
 * light: 100 requests/s (10 every 100 ms over 4 keep-alive connections, node's http client) for
 *   --light-warmup seconds, then measured for --light-seconds, then 15 s after the load (its
 *   tail) and --light-seconds idle; CPU of the observer process, all threads, from the scheduler's
 *   nanosecond clock (/proc/PID/task/TID/schedstat).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument, type YAMLSeq } from 'yaml';

const args = process.argv.slice(2);
function option(name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
}
const ROUNDS = Number(option('rounds', '3'));
const SECONDS = Number(option('seconds', '5'));
const WARMUP_MS = Number(option('warmup', '4')) * 1000;
const LIGHT_SECONDS = Number(option('light-seconds', '20'));
// A daemon's steady state: V8 tiers the pipeline's code up only as it runs, so at 100 requests/s
// the first minute costs about twice what later minutes do.
const LIGHT_WARMUP_SECONDS = Number(option('light-warmup', '60'));
// Idle is measured once the load's own tail is over: its last batches, the sessions and
// transactions that time out after it, and V8's memory reducer (a few full collections ~10 s
// after allocation stops) are the load's cost, reported on their own.
const IDLE_SETTLE_SECONDS = 15;
const MODES = option('modes', 'keepalive,close').split(',');
const PHASES = option('phases', 'saturation,light').split(',');
const TRACERS = option('tracers', 'shipped,l4,bpftrace').split(',');
const TLS = args.includes('--tls');
// The response body: nginx's 3-byte "ok" by default, or --body N bytes (an API's JSON, say). nginx
// reads a `return` text as one configuration token, which it caps below 4 KiB.
const BODY_BYTES = Number(option('body', '3'));
if (!Number.isInteger(BODY_BYTES) || BODY_BYTES < 1 || BODY_BYTES > 3000) throw new Error('--body takes 1 to 3000 bytes');
const BODY = BODY_BYTES === 3 ? 'ok\\n' : 'x'.repeat(BODY_BYTES);
const SCHEME = TLS ? 'https' : 'http';
const ROOT = join(__dirname, '..');

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The bin runs the compiled JavaScript in dist/: measure what is in the sources now. */
function buildDist(): void {
  const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) {
    console.error('npm run build failed: the observer in dist/ would not be the one in the sources');
    process.exit(1);
  }
}

function requireTools(): void {
  const missing = ['nginx', 'wrk', 'bpftrace'].filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
  if (missing.length > 0) {
    console.error(`missing ${missing.join(', ')}: apt-get install nginx-light wrk bpftrace`);
    process.exit(1);
  }
  if (process.getuid?.() !== 0) {
    console.error('the overhead benchmark loads eBPF programs: run it as root');
    process.exit(1);
  }
  // bpftrace's syscall tracepoints are found through tracefs, which not every host mounts.
  if (TRACERS.includes('bpftrace') && spawnSync('test', ['-d', '/sys/kernel/tracing/events/syscalls']).status !== 0) {
    console.log('mounting tracefs at /sys/kernel/tracing for bpftrace');
    spawnSync('mount', ['-t', 'tracefs', 'tracefs', '/sys/kernel/tracing'], { stdio: 'inherit' });
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** A stopped child: its exit is awaited so the next run starts on a quiet machine. */
async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

function waitForOutput(child: ChildProcess, stream: 'stdout' | 'stderr', pattern: RegExp, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start within 30 s:\n${seen.slice(-2000)}`)), 30_000);
    child[stream]!.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      if (pattern.test(seen)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}:\n${seen.slice(-2000)}`));
    });
  });
}

/** `listen` arguments and certificate lines for nginx; a fresh self-signed certificate with --tls. */
function listenDirectives(dir: string, port: number): string {
  if (!TLS) return `listen 127.0.0.1:${port};`;
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=bench.test'], { stdio: 'ignore' });
  return `listen 127.0.0.1:${port} ssl; ssl_protocols TLSv1.3; ssl_certificate ${cert}; ssl_certificate_key ${key};`;
}

async function startNginx(dir: string, port: number): Promise<ChildProcess> {
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, `worker_processes 1;
daemon off;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'nginx-error.log')};
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir};
  server { ${listenDirectives(dir, port)} location = /ok { return 200 "${BODY}"; } }
}
`);
  const nginx = spawn('nginx', ['-c', conf], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    await sleep(50);
    if (spawnSync('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`]).status === 0) return nginx;
  }
  throw new Error('nginx did not start listening');
}

interface WrkResult {
  requestsPerSecond: number;
  requests: number;
}

function runWrk(port: number, mode: string): WrkResult {
  const extra = mode === 'close' ? ['-H', 'Connection: close'] : [];
  const out = spawnSync('wrk', ['-t1', '-c20', `-d${SECONDS}s`, ...extra, `${SCHEME}://127.0.0.1:${port}/ok`], { encoding: 'utf8' });
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(out.stdout);
  const total = /(\d+) requests in/.exec(out.stdout);
  if (!rps || !total) throw new Error(`wrk failed: ${out.stdout}${out.stderr}`);
  return { requestsPerSecond: Number(rps[1]), requests: Number(total[1]) };
}

/**
 * L4 only, as a user would run it: the shipped pipeline without payload capture and without
 * the l7 processor (same enrichment, sampling, rate limit and output).
 */
function l4ConfigText(): string {
  const doc = parseDocument(readFileSync(join(ROOT, 'collector.yaml'), 'utf8'));
  doc.setIn(['receivers', 'ebpf_network', 'enable_l7_capture'], false);
  doc.deleteIn(['processors', 'l7']);
  const processors = doc.getIn(['service', 'pipelines', 'network', 'processors']) as YAMLSeq;
  processors.items = processors.items.filter((item) => String((item as { value?: unknown }).value ?? item) !== 'l7');
  return doc.toString();
}

// The yardstick: 64 bytes of each buffer into a map, nothing sent to user space.
const BPFTRACE_SCRIPT = `
tracepoint:syscalls:sys_enter_write { @data[tid] = buf(args->buf, 64); }
tracepoint:syscalls:sys_enter_sendto { @data[tid] = buf(args->buff, 64); }
tracepoint:syscalls:sys_enter_read { @rbuf[tid] = (uint64)args->buf; }
tracepoint:syscalls:sys_enter_recvfrom { @rbuf[tid] = (uint64)args->ubuf; }
tracepoint:syscalls:sys_exit_read, tracepoint:syscalls:sys_exit_recvfrom /@rbuf[tid]/ {
  if (args->ret > 0) { @data[tid] = buf(@rbuf[tid], 64); }
  delete(@rbuf[tid]);
}
END { clear(@data); clear(@rbuf); }
`;

interface Tracer {
  name: string;
  start(): Promise<ChildProcess>;
}

/**
 * Every span exported: the shipped pipeline without probabilistic_sampler and rate_limit, each
 * transaction printed as a JSON line (to /dev/null). Shows the rate the export path sustains.
 */
function exportAllConfigText(): string {
  const doc = parseDocument(readFileSync(join(ROOT, 'collector.yaml'), 'utf8'));
  // Every exchange copied in full to become a span: none summarised or counted in the kernel.
  doc.deleteIn(['receivers', 'ebpf_network', 'http1_summary_above']);
  doc.deleteIn(['processors', 'probabilistic_sampler']);
  doc.deleteIn(['processors', 'rate_limit']);
  const processors = doc.getIn(['service', 'pipelines', 'network', 'processors']) as YAMLSeq;
  processors.items = processors.items.filter((item) => !['probabilistic_sampler', 'rate_limit'].includes(String((item as { value?: unknown }).value ?? item)));
  return doc.toString();
}

/**
 * Stages of the shipped pipeline, to see where its cost is: the receiver with payload capture
 * and then only `processors` (plus a rate limit of 10 events/s before stdout, so printing costs
 * nothing).
 */
function stageConfigText(processors: string[]): string {
  const doc = parseDocument(readFileSync(join(ROOT, 'collector.yaml'), 'utf8'));
  doc.setIn(['processors', 'rate_limit', 'events_per_second'], 10);
  const pipeline = doc.getIn(['service', 'pipelines', 'network', 'processors']) as YAMLSeq;
  pipeline.items = pipeline.items.filter((item) => [...processors, 'rate_limit'].includes(String((item as { value?: unknown }).value ?? item)));
  return doc.toString();
}

function tracers(dir: string): Tracer[] {
  const l4Config = join(dir, 'l4.yaml');
  writeFileSync(l4Config, l4ConfigText());
  const exportAllConfig = join(dir, 'export-all.yaml');
  writeFileSync(exportAllConfig, exportAllConfigText());
  const captureOnlyConfig = join(dir, 'capture-only.yaml');
  writeFileSync(captureOnlyConfig, stageConfigText([]));
  const l7OnlyConfig = join(dir, 'l7-only.yaml');
  writeFileSync(l7OnlyConfig, stageConfigText(['l7']));
  const noTlsConfig = join(dir, 'no-tls-uprobes.yaml');
  const shipped = parseDocument(readFileSync(join(ROOT, 'collector.yaml'), 'utf8'));
  shipped.setIn(['receivers', 'ebpf_network', 'tls_uprobes'], false);
  writeFileSync(noTlsConfig, shipped.toString());
  const observer = (config: string) => async () => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'network-observer.js'), 'run', '--config', config], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    await waitForOutput(child, 'stderr', /running \d+ pipeline/, `network-observer ${config}`);
    return child;
  };
  const all: Tracer[] = [
    { name: 'shipped', start: observer(join(ROOT, 'collector.yaml')) },
    { name: 'l4', start: observer(l4Config) },
    { name: 'no-tls-uprobes', start: observer(noTlsConfig) },
    { name: 'export-all', start: observer(exportAllConfig) },
    { name: 'capture-only', start: observer(captureOnlyConfig) },
    { name: 'l7-only', start: observer(l7OnlyConfig) },
    {
      name: 'bpftrace',
      start: async () => {
        const child = spawn('bpftrace', ['-e', BPFTRACE_SCRIPT], { stdio: ['ignore', 'pipe', 'pipe'] });
        const stderr = collectStderr(child);
        await waitForOutput(child, 'stdout', /Attaching \d+ probe/, 'bpftrace').catch((error: Error) => {
          throw new Error(`${error.message}${stderr()}`);
        });
        return child;
      },
    },
  ];
  return all.filter((t) => TRACERS.includes(t.name));
}

/** The observer's counters, printed on stderr when it stops. */
function collectStderr(child: ChildProcess): () => string {
  let text = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
    if (text.length > 1 << 20) text = text.slice(-(1 << 19));
  });
  return () => text;
}

function counter(text: string, name: string): number {
  const m = new RegExp(`\\b${name}=(\\d+)`).exec(text);
  return m ? Number(m[1]) : NaN;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function saturation(port: number, list: Tracer[], mode: string): Promise<void> {
  console.log(`\nsaturation, ${mode === 'close' ? "wrk -H 'Connection: close'" : 'keep-alive'}: wrk -t1 -c20 -d${SECONDS}s, ${ROUNDS} rounds, ${BODY_BYTES}-byte body`);
  const ratios = new Map<string, number[]>(list.map((t) => [t.name, []]));
  const baselines: number[] = [];
  let before = runWrk(port, mode).requestsPerSecond;
  baselines.push(before);
  for (let round = 1; round <= ROUNDS; round++) {
    for (const tracer of list) {
      const child = await tracer.start();
      const stderr = collectStderr(child);
      await sleep(WARMUP_MS);
      const traced = runWrk(port, mode);
      await stop(child, tracer.name === 'bpftrace' ? 'SIGINT' : 'SIGTERM');
      const after = runWrk(port, mode).requestsPerSecond;
      baselines.push(after);
      const ratio = traced.requestsPerSecond / ((before + after) / 2);
      ratios.get(tracer.name)!.push(ratio);
      let detail = '';
      if (tracer.name === 'shipped' || tracer.name === 'export-all') {
        const text = stderr();
        detail = `  http transactions ${counter(text, 'transactions_http')} of ${2 * traced.requests} (both ends), ring_lost ${counter(text, 'ring_lost')}`;
        if (tracer.name === 'export-all') {
          const printed = counter(text.slice(text.indexOf('exporter/stdout')), 'emitted');
          detail += `, ${printed} spans printed (${(printed / SECONDS).toFixed(0)}/s)`;
        }
      }
      console.log(`  round ${round} ${tracer.name.padEnd(14)} ${traced.requestsPerSecond.toFixed(0).padStart(7)} req/s, baselines ${before.toFixed(0)}/${after.toFixed(0)}: ratio ${ratio.toFixed(3)}${detail}`);
      before = after;
    }
  }
  console.log(`  ${'tracer'.padEnd(14)} | ${Array.from({ length: ROUNDS }, (_, i) => `round ${i + 1}`).join(' | ')} | median`);
  for (const [name, rs] of ratios) {
    console.log(`  ${name.padEnd(14)} | ${rs.map((r) => r.toFixed(3).padStart(7)).join(' | ')} | ${median(rs).toFixed(3)}`);
  }
  console.log(`  baseline req/s: median ${median(baselines).toFixed(0)} (${baselines.length} runs)`);
}

/**
 * CPU time of process `pid` so far, in seconds, summed over its threads (V8's helpers included)
 * from the scheduler's own nanosecond clock: /proc/PID/stat's 10 ms ticks charge a short wake-up
 * a whole tick or nothing, which made "idle" read 0.00 or 0.10 % by chance.
 */
function cpuSeconds(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      // The thread ended between the listing and the read; its time is gone with it.
    }
  }
  return ns / 1e9;
}

/** 10 requests every 100 ms over 4 keep-alive connections, for `seconds`. */
async function steadyLoad(port: number, seconds: number): Promise<number> {
  const agent = TLS ? new HttpsAgent({ keepAlive: true, maxSockets: 4, rejectUnauthorized: false }) : new Agent({ keepAlive: true, maxSockets: 4 });
  const send = TLS ? httpsRequest : request;
  let done = 0;
  const one = () =>
    new Promise<void>((resolve) => {
      const req = send({ host: '127.0.0.1', port, path: '/ok', agent }, (res) => {
        res.resume();
        res.on('end', () => {
          done++;
          resolve();
        });
      });
      req.on('error', () => resolve());
      req.end();
    });
  const until = Date.now() + seconds * 1000;
  while (Date.now() < until) {
    const tick = Date.now();
    await Promise.all(Array.from({ length: 10 }, one));
    await sleep(Math.max(0, 100 - (Date.now() - tick)));
  }
  agent.destroy();
  return done;
}

/** CPU of process `pid` over the next `seconds`, in % of one core. */
async function cpuOver(pid: number, seconds: number): Promise<number> {
  const cpu = cpuSeconds(pid);
  const t0 = performance.now();
  await sleep(seconds * 1000);
  return ((cpuSeconds(pid) - cpu) / ((performance.now() - t0) / 1000)) * 100;
}

async function light(port: number, list: Tracer[]): Promise<void> {
  console.log(
    `\nlight load: 100 requests/s for ${LIGHT_SECONDS} s after ${LIGHT_WARMUP_SECONDS} s of the same, then ${IDLE_SETTLE_SECONDS} s ` +
      `for the load's tail (last batches, timeouts, the garbage collector's clean-up) and ${LIGHT_SECONDS} s idle; CPU of the observer (% of one core)`,
  );
  for (const tracer of list.filter((t) => t.name !== 'bpftrace')) {
    const child = await tracer.start();
    await steadyLoad(port, LIGHT_WARMUP_SECONDS);
    const pid = child.pid!;
    const cpu = cpuSeconds(pid);
    const t0 = performance.now();
    const requests = await steadyLoad(port, LIGHT_SECONDS);
    const loaded = ((cpuSeconds(pid) - cpu) / ((performance.now() - t0) / 1000)) * 100;
    const afterLoad = await cpuOver(pid, IDLE_SETTLE_SECONDS);
    const idle = await cpuOver(pid, LIGHT_SECONDS);
    await stop(child);
    console.log(
      `  ${tracer.name.padEnd(14)} ${requests} requests: ${loaded.toFixed(2)} % under load, ` +
        `${afterLoad.toFixed(2)} % in the ${IDLE_SETTLE_SECONDS} s after it, ${idle.toFixed(3)} % idle`,
    );
  }
}

async function main(): Promise<void> {
  requireTools();
  buildDist();
  const dir = mkdtempSync(join(tmpdir(), 'netobs-overhead-'));
  const port = await freePort();
  const nginx = await startNginx(dir, port);
  try {
    const list = tracers(dir);
    console.log(`machine: ${spawnSync('nproc').stdout.toString().trim()} cores, kernel ${spawnSync('uname', ['-r']).stdout.toString().trim()}, node ${process.version}`);
    if (PHASES.includes('saturation')) for (const mode of MODES) await saturation(port, list, mode);
    if (PHASES.includes('light')) await light(port, list);
  } finally {
    await stop(nginx, 'SIGQUIT');
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
