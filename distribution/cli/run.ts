/** `network-observer run`: load, build, start, wait for a signal, drain, print counters. */
import { Collector } from '../../core/collector';
import { loadConfigFile } from '../../core/config/load';
import { createLogger } from '../../core/logger';
import { builtinFactories } from '../components';

export async function runCollector(configPath: string): Promise<number> {
  const { config, registry } = loadConfigFile(configPath, { builtins: builtinFactories });
  const logger = createLogger(config.telemetry.logLevel);
  for (const warning of config.warnings) logger.warn(warning);
  const collector = new Collector(config, registry, logger);

  let exitCode = 0;
  let stopping: Promise<void> | undefined;
  const stop = (reason: string, code: number): Promise<void> => {
    if (!stopping) {
      exitCode = code;
      logger.info(`${reason}; shutting down (deadline ${config.telemetry.shutdownTimeoutMs} ms)`);
      stopping = collector.shutdown();
    }
    return stopping;
  };
  const finished = new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      void stop(`received ${signal}`, 0).then(resolve);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    collector.onFatalError((error) => {
      void stop(`a component failed: ${error.message}`, 1).then(resolve);
    });
    // Every exporter's destination is gone (`run | head -1` once head exits): a normal end,
    // as for any Unix tool whose reader went away, so exit 0.
    collector.onFinished((reason) => {
      void stop(reason, 0).then(resolve);
    });
  });

  await collector.start();
  logger.info(`running ${config.pipelines.length} pipeline(s): ${config.pipelines.map((p) => p.name).join(', ')}`);
  // Components may rely on unref'd timers or native polls; the process itself stays up until
  // a signal or a fatal error says otherwise.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  await finished;
  clearInterval(keepAlive);
  process.stderr.write(collector.telemetry.summary() + '\n');
  return exitCode;
}
