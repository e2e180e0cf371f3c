/** A small leveled logger writing one line per message to stderr. */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  /** A logger whose lines carry `scope` (e.g. a component id). */
  child(scope: string): Logger;
}

export type LogSink = (line: string) => void;

export function createLogger(level: LogLevel = 'info', sink: LogSink = (line) => process.stderr.write(line + '\n'), scope = ''): Logger {
  const threshold = LEVEL_ORDER[level];
  const write = (lvl: LogLevel, message: string): void => {
    if (LEVEL_ORDER[lvl] < threshold) return;
    const prefix = scope ? ` [${scope}]` : '';
    sink(`${new Date().toISOString()} ${lvl.toUpperCase()}${prefix} ${message}`);
  };
  return {
    debug: (m) => write('debug', m),
    info: (m) => write('info', m),
    warn: (m) => write('warn', m),
    error: (m) => write('error', m),
    child: (childScope) => createLogger(level, sink, scope ? `${scope}/${childScope}` : childScope),
  };
}

/** Discards everything; for tests and benchmarks. */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
};
