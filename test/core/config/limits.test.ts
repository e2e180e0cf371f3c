/**
 * validate refuses what run cannot do (issue 13): numbers YAML cannot hold exactly, durations
 * beyond what a Node.js timer takes, duration strings below an option's minimum, unset
 * environment variables. Each with its YAML path, all at once, against the built-in components.
 */
import assert from 'node:assert/strict';
import { ConfigError, formatIssue } from '../../../core/config/errors';
import { loadConfigText } from '../../../core/config/load';
import { limitProblems } from '../../../core/config/schema-validator';
import { MAX_DURATION_MS } from '../../../core/units';
import { builtinFactories } from '../../../distribution/components';

function problems(yaml: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    loadConfigText(yaml, 'limits.yaml', __dirname, { env, builtins: builtinFactories });
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${(error as Error).stack}`);
    return error.issues.map(formatIssue);
  }
  assert.fail('config was accepted');
}

const pipeline = (processors = '[]', exporters = '[stdout]'): string =>
  `service: { pipelines: { p: { receivers: [ebpf_network], processors: ${processors}, exporters: ${exporters} } } }`;

describe('config limits', () => {
  it('bounds the receiver\'s table and batch sizes below what the kernel or an array can take', () => {
    const issues = problems(`
receivers:
  ebpf_network: { max_tracked_sockets: 100000000, buffer_size: 5000000, max_flows: 9999999, max_records_per_turn: 9999999 }
exporters: { stdout: }
${pipeline()}
`);
    for (const key of ['max_tracked_sockets', 'buffer_size', 'max_flows', 'max_records_per_turn']) {
      assert.ok(issues.some((i) => i.startsWith(`receivers::ebpf_network::${key}: must be <=`)), `${key} in ${issues.join('\n')}`);
    }
  });

  it('rejects the out-of-range values of issue 13, each with its YAML path', () => {
    const issues = problems(`
receivers:
  ebpf_network:
    tcp_update_interval: 1e400
    max_tracked_sockets: 99999999999999999999999
    buffer_size: 9007199254740993
    poll_interval: 1us
processors:
  conntrack: { cleanup_interval: 1us }
exporters:
  stdout:
  otlp: { timeout: 99999999999h }
${pipeline('[conntrack]', '[stdout, otlp]')}
`);
    assert.deepEqual(issues.sort(), [
      'exporters::otlp::timeout: must be at most 2147483647ms (about 24.8 days), the longest delay a Node.js timer takes',
      'processors::conntrack::cleanup_interval: must be at least 100ms (got 0.001ms)',
      'receivers::ebpf_network::buffer_size: must be at most 9007199254740991 (larger integers are not exact)',
      'receivers::ebpf_network::max_tracked_sockets: must be at most 9007199254740991 (larger integers are not exact)',
      'receivers::ebpf_network::poll_interval: must be at least 1ms (got 0.001ms)',
      'receivers::ebpf_network::tcp_update_interval: must be a finite number (got Infinity)',
    ]);
  });

  it('bounds every duration by the longest Node.js timer, as a string or as milliseconds', () => {
    const issues = problems(`
receivers: { ebpf_network: { flush_interval: ${MAX_DURATION_MS + 1} } }
exporters: { stdout: }
service:
  telemetry: { shutdown_timeout: 600h, status_interval: 10ms }
  pipelines: { p: { receivers: [ebpf_network], exporters: [stdout] } }
`);
    assert.deepEqual(issues.sort(), [
      'receivers::ebpf_network::flush_interval: must be at most 2147483647ms (about 24.8 days), the longest delay a Node.js timer takes',
      'service::telemetry::shutdown_timeout: must be at most 2147483647ms (about 24.8 days), the longest delay a Node.js timer takes',
      'service::telemetry::status_interval: must be 0 (off) or at least 1s: the status line goes to stderr each time (got 10ms)',
    ]);
    // The limit itself is fine.
    assert.deepEqual(limitProblems({ type: ['string', 'number'], format: 'duration' }, MAX_DURATION_MS), []);
    assert.deepEqual(limitProblems({ type: ['string', 'number'], format: 'duration' }, '596h'), []);
  });

  it('names an unset ${env:VAR} and the YAML path that uses it, instead of a message about an empty value', () => {
    const issues = problems(`
receivers: { ebpf_network: }
exporters:
  otlp:
    endpoint: \${env:OTLP_ENDPOINT}
    headers: { authorization: "Bearer \${env:OTLP_TOKEN}" }
${pipeline('[]', '[otlp]')}
`);
    assert.deepEqual(issues, [
      'exporters::otlp::endpoint: environment variable OTLP_ENDPOINT is not set and ${env:OTLP_ENDPOINT} has no default; set it, or write ${env:OTLP_ENDPOINT:-default}',
      'exporters::otlp::headers::authorization: environment variable OTLP_TOKEN is not set and ${env:OTLP_TOKEN} has no default; set it, or write ${env:OTLP_TOKEN:-default}',
    ]);
  });

  it('never echoes an endpoint expanded from the environment (it may hold credentials)', () => {
    const issues = problems(`
receivers: { ebpf_network: }
exporters:
  otlp:
    endpoint: \${env:OTLP_ENDPOINT}
${pipeline('[]', '[otlp]')}
`, { OTLP_ENDPOINT: 'http//user:SECRETPASS@collector:4318' });
    assert.equal(issues.length, 1, issues.join('\n'));
    assert.match(issues[0], /^exporters::otlp::endpoint: is not a URL/);
    assert.doesNotMatch(issues[0], /SECRET/);
  });
});
