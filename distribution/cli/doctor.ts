/**
 * `network-observer doctor`: what this machine lacks to run the observer, and how to fix it.
 * The runtime's own checks (Node.js, config) are here; each component declares its own through
 * its factory (the eBPF receiver: kernel version, BTF, privileges, cgroup2, libbpf, a trial load
 * and attach of every program).
 */
import { ConfigError, UserFacingError } from '../../core/config/errors';
import type { DoctorCheck, Factory } from '../../core/component';
import { loadConfigFile } from '../../core/config/load';
import { builtinFactories } from '../components';


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
    const { config } = loadConfigFile(configPath, { builtins: builtinFactories });
    checks.push({ name: 'config', ok: true, detail: `${configPath} is valid (${config.pipelines.length} pipeline(s))` });
  } catch (error) {
    const detail = error instanceof ConfigError || error instanceof UserFacingError ? error.message : (error as Error).message;
    checks.push({ name: 'config', ok: false, detail, fix: `run \`network-observer validate --config ${configPath}\` and fix what it lists` });
  }
  return checks;
}

/** The built-in factories and, when the config loads, its plugins' too. */
function factoriesFor(configPath: string): Factory[] {
  try {
    const { registry } = loadConfigFile(configPath, { builtins: builtinFactories });
    return (['receiver', 'processor', 'exporter'] as const).flatMap((kind) => registry.list(kind).map((entry) => entry.factory));
  } catch {
    return builtinFactories(); // the config check above says what is wrong with it
  }
}

/** The checks every component declares (built-in ones and the config's plugins alike). */
async function componentChecks(factories: readonly Factory[]): Promise<DoctorCheck[]> {
  const checks: DoctorCheck[] = [];
  for (const factory of factories) {
    if (!factory.doctorChecks) continue;
    try {
      checks.push(...(await factory.doctorChecks()));
    } catch (error) {
      checks.push({ name: `${factory.kind}/${factory.type}`, ok: false, detail: `running its checks failed: ${(error as Error).message}` });
    }
  }
  return checks;
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
  const checks = [...runtimeChecks(configPath), ...(await componentChecks(factoriesFor(configPath)))];
  console.log(formatChecks(checks));
  const failed = checks.filter((c) => !c.ok).length;
  console.log(failed ? `\n${failed} check(s) failed` : '\nall checks passed');
  return failed ? 1 : 0;
}
