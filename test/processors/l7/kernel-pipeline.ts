/**
 * The kernel end-to-end tests' pipeline: the ebpf_network receiver on the real kernel feeding
 * the l7 processor, and the real client and server programs they observe.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Processor } from '../../../core/component';
import { CollectingConsumer, createTestHost, createTestSettings, type TestHostOptions } from '../../../core/testing';
import { factory as l7Factory, type L7Config } from '../../../processors/l7';
import { factory as receiverFactory, type EbpfNetworkConfig } from '../../../receivers/ebpf_network';
import type { EbpfNetworkReceiver } from '../../../receivers/ebpf_network/receiver';
import { testConfig } from '../../receivers/ebpf_network/helpers';

const HTTP_SERVER = join(__dirname, 'e2e', 'http-server.js');

/** The node http server of e2e/http-server.js as a child process, once it listens. */
export async function startHttpServer(): Promise<{ port: number; pid: number; stop(): Promise<void> }> {
  const http = spawn(process.execPath, [HTTP_SERVER, '18080'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => http.once('exit', () => resolve()));
  const listening = await new Promise<{ port: number; pid: number }>((resolve, reject) => {
    http.stdout!.once('data', (d: Buffer) => {
      const line = JSON.parse(d.toString().split('\n')[0]) as { event: string; port: number; pid: number };
      if (line.event === 'listening') resolve(line);
      else reject(new Error(`http server: ${d.toString()}`));
    });
  });
  return {
    ...listening,
    stop: async () => {
      http.stdin!.end();
      await exited;
    },
  };
}

/** Runs a client to completion; returns its pid (events are matched by pid: comm may be a thread's name). */
export function runClient(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: 'ignore', env: env ? { ...process.env, ...env } : process.env });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(child.pid!) : reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}`))));
  });
}

/** Stops a server started for a test: SIGTERM, SIGKILL after 3 s; resolves once `exited` did. */
export async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

/** Skips (locally) or fails (CI=true) when a client or server program is missing. */
export function requireTools(ctx: Mocha.Context, ...tools: string[]): void {
  const missing = tools.filter((t) => spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0);
  if (missing.length === 0) return;
  const why = `missing ${missing.join(', ')} (Debian packages: curl, dnsutils, dnsmasq, nginx-light, openssl)`;
  if (process.env.CI === 'true') throw new Error(`l7 end-to-end tests must run in CI but cannot: ${why}`);
  ctx.skip();
}

export async function pipeline(overrides: Partial<L7Config> = {}, receiverOverrides: Partial<EbpfNetworkConfig> = {}, hostOptions: TestHostOptions = {}) {
  delete process.env.TAPIO_MOCK_MODE;
  const out = new CollectingConsumer();
  const config: L7Config = { ...l7Factory.createDefaultConfig(), ...overrides };
  const settings = createTestSettings('processor', 'l7');
  const l7: Processor = await l7Factory.createProcessor(settings, config, out);
  const host = createTestHost(hostOptions);
  await l7.start(host);
  const receiver = (await receiverFactory.createReceiver(
    createTestSettings('receiver', 'ebpf_network'),
    testConfig({ enable_l7_capture: true, capture_bytes: 4096, ...receiverOverrides }),
    l7,
  )) as EbpfNetworkReceiver;
  await receiver.start(host);
  return {
    out,
    receiver,
    /** The l7 processor's counters (`hpack_desync`, `malformed_http2`, `self_transactions_dropped`, ...). */
    telemetry: settings.telemetry,
    async stop() {
      await receiver.shutdown();
      await l7.shutdown();
    },
  };
}
