import assert from 'node:assert/strict';
import { ConfigError, formatIssue } from '../../../core/config/errors';
import { loadConfigText } from '../../../core/config/load';
import { builtinFactories } from '../../../distribution/components';

const STILL_WORKS = 'the old spelling still works but will go away';

/** The protocol the otlp exporter runs with, and the warnings, for `options` as a user writes them. */
function resolve(options: string): { protocol: string; warnings: string[] } {
  const { config } = loadConfigText(`
receivers: { ebpf_network: { mock_mode: true } }
exporters: { otlp: { ${options} } }
service: { pipelines: { p: { receivers: [ebpf_network], exporters: [otlp] } } }
`, 'otlp.yaml', __dirname, { builtins: builtinFactories });
  return { protocol: (config.components.exporter.get('otlp')!.config as { protocol: string }).protocol, warnings: config.warnings };
}

function problems(options: string): string[] {
  try {
    resolve(options);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.issues.map(formatIssue);
  }
  assert.fail('config was accepted');
}

describe('exporters/otlp protocol, and the spellings it replaced', () => {
  it('defaults to http/protobuf, as before, and takes the OTEL_EXPORTER_OTLP_PROTOCOL values without a warning', () => {
    assert.deepEqual(resolve(''), { protocol: 'http/protobuf', warnings: [] });
    for (const protocol of ['http/protobuf', 'http/json', 'grpc']) assert.deepEqual(resolve(`protocol: ${protocol}`), { protocol, warnings: [] });
  });

  it('reads protocol: http and encoding as the protocol they meant, each with a warning naming the new spelling', () => {
    assert.deepEqual(resolve('protocol: http'), {
      protocol: 'http/protobuf',
      warnings: [`exporters::otlp::protocol: http is now written http/protobuf (the values of OTEL_EXPORTER_OTLP_PROTOCOL); ${STILL_WORKS}`],
    });
    assert.deepEqual(resolve('encoding: json'), {
      protocol: 'http/json',
      warnings: [`exporters::otlp::encoding: json is now written protocol: http/json; ${STILL_WORKS}`],
    });
    assert.deepEqual(resolve('protocol: http, encoding: json'), {
      protocol: 'http/json',
      warnings: [`exporters::otlp::encoding: json with protocol: http is now written protocol: http/json; ${STILL_WORKS}`],
    });
    assert.deepEqual(resolve('protocol: grpc, encoding: proto'), {
      protocol: 'grpc',
      warnings: [`exporters::otlp::encoding: proto is what protocol: grpc sends (OTLP/gRPC carries protobuf only): remove encoding; ${STILL_WORKS}`],
    });
    assert.deepEqual(resolve('protocol: http/json, encoding: json'), {
      protocol: 'http/json',
      warnings: [`exporters::otlp::encoding: is now part of protocol, which says json already: remove encoding; ${STILL_WORKS}`],
    });
  });

  it('refuses an encoding that contradicts the protocol or is not one, with the rest of the config still checked', () => {
    assert.deepEqual(problems('protocol: grpc, encoding: json'), [
      'exporters::otlp::encoding: must be proto with protocol: grpc (OTLP/gRPC carries protobuf only); encoding is now part of protocol: remove it',
    ]);
    assert.deepEqual(problems('protocol: http/protobuf, encoding: json, timeout: soon'), [
      'exporters::otlp::encoding: json contradicts protocol: http/protobuf; encoding is now part of protocol: remove it',
      'exporters::otlp::timeout: must be a duration such as 500ms, 10s, 5m or 1h',
    ]);
    assert.deepEqual(problems('protocol: http, encoding: xml'), [
      'exporters::otlp::encoding: is now part of protocol: remove it and write protocol: http/protobuf, http/json or grpc',
    ]);
  });
});
