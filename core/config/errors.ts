/**
 * Errors a user can act on. They carry every problem found (never just the first) with the
 * YAML path in the Collector's `a::b::c` notation, and print without a stack trace.
 */

export interface ConfigIssue {
  /** YAML path segments, e.g. ['processors', 'rate_limit', 'burst']. */
  path: readonly (string | number)[];
  message: string;
}

export function formatPath(path: readonly (string | number)[]): string {
  return path.map(String).join('::');
}

export function formatIssue(issue: ConfigIssue): string {
  return issue.path.length ? `${formatPath(issue.path)}: ${issue.message}` : issue.message;
}

/** Thrown when a config (or a plugin it names) cannot be used; `issues` lists every problem. */
export class ConfigError extends Error {
  constructor(readonly source: string, readonly issues: readonly ConfigIssue[]) {
    super(`${source}: ${issues.length} problem${issues.length === 1 ? '' : 's'}:\n` + issues.map((i) => `  - ${formatIssue(i)}`).join('\n'));
    this.name = 'ConfigError';
  }
}

/** An error meant for the user: the CLI prints its message alone, without a stack. */
export class UserFacingError extends Error {
  constructor(message: string, override readonly cause?: unknown) {
    super(message);
    this.name = 'UserFacingError';
  }
}
