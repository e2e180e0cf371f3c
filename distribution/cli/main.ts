/**
 * `network-observer` command line: run, validate, components, doctor. Returns an exit code;
 * user mistakes are printed as messages, never as stack traces (set NETWORK_OBSERVER_DEBUG=1
 * to see the stack of an unexpected failure).
 */
import 'reflect-metadata';
import { Command, CommanderError } from 'commander';
import { ConfigError, UserFacingError } from '../../core/config/errors';
import { loadConfigFile } from '../../core/config/load';
import { StartupError } from '../../core/collector';
import { runCollector } from './run';
import { listComponents } from './components';
import { runDoctor } from './doctor';
import { builtinFactories } from '../components';

const DEFAULT_CONFIG = 'collector.yaml';

export function describeFailure(error: unknown): string {
  if (error instanceof ConfigError || error instanceof UserFacingError || error instanceof StartupError) return error.message;
  const e = error as Error;
  const debug = process.env.NETWORK_OBSERVER_DEBUG === '1' || process.env.NETWORK_OBSERVER_DEBUG === 'true';
  return debug && e?.stack ? e.stack : `${e?.message ?? String(error)} (set NETWORK_OBSERVER_DEBUG=1 for details)`;
}

export async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const program = new Command()
    .name('network-observer')
    .description('eBPF network observer: connections, HTTP, DNS, gRPC and TLS from live traffic, exported over OTLP')
    .exitOverride()
    .showHelpAfterError();

  program
    .command('run', { isDefault: true })
    .description('run the pipelines of a collector.yaml until SIGINT/SIGTERM')
    .option('-c, --config <file>', 'config file', DEFAULT_CONFIG)
    .action(async (opts: { config: string }) => {
      exitCode = await runCollector(opts.config);
    });

  program
    .command('validate')
    .description('check a config (schema, every component, pipeline graph) without running it')
    .option('-c, --config <file>', 'config file', DEFAULT_CONFIG)
    .action((opts: { config: string }) => {
      const { config } = loadConfigFile(opts.config, { builtins: builtinFactories });
      for (const warning of config.warnings) console.error(`warning: ${warning}`);
      const counts = `${config.pipelines.length} pipeline(s), ${config.components.receiver.size} receiver(s), ${config.components.processor.size} processor(s), ${config.components.exporter.size} exporter(s)`;
      console.log(`${opts.config} is valid: ${counts}`);
    });

  program
    .command('components')
    .description('list every receiver, processor and exporter type (built-in and from plugins)')
    .option('-c, --config <file>', 'also load the plugins this config names')
    .action((opts: { config?: string }) => {
      console.log(listComponents(opts.config));
    });

  program
    .command('doctor')
    .description('check that this machine can run the eBPF receiver, and say how to fix what is missing')
    .option('-c, --config <file>', 'config file to check as well', DEFAULT_CONFIG)
    .action(async (opts: { config: string }) => {
      exitCode = await runDoctor(opts.config);
    });

  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    console.error(`network-observer: ${describeFailure(error)}`);
    return 1;
  }
  return exitCode;
}
