/**
 * `network-observer doctor`: what this machine lacks to run the observer, and how to fix it.
 * The runtime's own checks (Node.js, config) are here; the eBPF receiver adds its kernel checks
 * (kernel version, BTF, privileges, cgroup2, libbpf, a trial load and attach of every program).
 */
import { join } from 'node:path';
import { ConfigError, UserFacingError } from '../config/errors';
import { loadConfigFile } from '../config/load';

export interface DoctorCheck {
  name: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

export function runtimeChecks(configPath: string): DoctorCheck[] {
  const checks: DoctorCheck[] = [];
  const [major, minor] = process.versions.node.split('.').map(Number);
  checks.push({
    name: 'node.js',
    ok: major > 20 || (major === 20 && minor >= 6),
    detail: `v${process.versions.node}`,
    fix: 'install Node.js 20.6 or newer',
  });
  try {
    const { config } = loadConfigFile(configPath);
    checks.push({ name: 'config', ok: true, detail: `${configPath} is valid (${config.pipelines.length} pipeline(s))` });
  } catch (error) {
    const detail = error instanceof ConfigError || error instanceof UserFacingError ? error.message : (error as Error).message;
    checks.push({ name: 'config', ok: false, detail, fix: `run \`network-observer validate --config ${configPath}\` and fix what it lists` });
  }
  return checks;
}

type EbpfDoctor = { runDoctorChecks(): Promise<DoctorCheck[]> };

async function receiverChecks(): Promise<DoctorCheck[]> {
  // No extension: the sources (.ts under tsx) and the compiled build (.js) both resolve.
  let modulePath: string;
  try {
    modulePath = require.resolve(join(__dirname, '../../receivers/ebpf_network/doctor'));
  } catch {
    return [{ name: 'ebpf receiver', ok: false, detail: 'the eBPF receiver checks are not available in this build' }];
  }
  try {
    return await (require(modulePath) as EbpfDoctor).runDoctorChecks();
  } catch (error) {
    return [{ name: 'ebpf receiver', ok: false, detail: `running the eBPF checks failed: ${(error as Error).message}` }];
  }
}

export function formatChecks(checks: DoctorCheck[]): string {
  const width = Math.max(...checks.map((c) => c.name.length));
  return checks
    .map((c) => {
      const line = `${c.ok ? ' ok ' : 'FAIL'}  ${c.name.padEnd(width)}  ${c.detail}`;
      return c.ok || !c.fix ? line : `${line}\n${' '.repeat(width + 8)}fix: ${c.fix}`;
    })
    .join('\n');
}

export async function runDoctor(configPath: string): Promise<number> {
  const checks = [...runtimeChecks(configPath), ...(await receiverChecks())];
  console.log(formatChecks(checks));
  const failed = checks.filter((c) => !c.ok).length;
  console.log(failed ? `\n${failed} check(s) failed` : '\nall checks passed');
  return failed ? 1 : 0;
}
