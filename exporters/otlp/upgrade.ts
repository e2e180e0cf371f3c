/**
 * The spellings `protocol` replaced, still read for a release: `protocol: http | grpc` with
 * `encoding: proto | json` became one option with OTEL_EXPORTER_OTLP_PROTOCOL's values
 * (`http/protobuf`, `http/json`, `grpc`). `protocol: grpc` is spelled as before.
 */
import type { ConfigUpgrade, ValidationIssue } from '../../core/component';
import type { Encoding, Protocol } from './signals';

const HTTP_PROTOCOL: Readonly<Record<Encoding, Protocol>> = { proto: 'http/protobuf', json: 'http/json' };
const STILL_WORKS = 'the old spelling still works but will go away';

function isEncoding(value: unknown): value is Encoding {
  return value === 'proto' || value === 'json';
}

/** What `encoding: <encoding>` means next to `protocol: <protocol>` as written today. */
function encodingNote(encoding: Encoding, protocol: unknown): { warning?: string; problem?: string } {
  if (protocol === 'grpc') {
    return encoding === 'proto'
      ? { warning: `proto is what protocol: grpc sends (OTLP/gRPC carries protobuf only): remove encoding; ${STILL_WORKS}` }
      : { problem: 'must be proto with protocol: grpc (OTLP/gRPC carries protobuf only); encoding is now part of protocol: remove it' };
  }
  if (protocol === HTTP_PROTOCOL[encoding]) return { warning: `is now part of protocol, which says ${encoding} already: remove encoding; ${STILL_WORKS}` };
  if (protocol === 'http/protobuf' || protocol === 'http/json') {
    return { problem: `${encoding} contradicts protocol: ${protocol}; encoding is now part of protocol: remove it` };
  }
  // Not a protocol at all: the schema says which values are.
  return {};
}

export function upgradeProtocol(given: Readonly<Record<string, unknown>>): ConfigUpgrade {
  if (given.protocol !== 'http' && !('encoding' in given)) return { config: { ...given }, warnings: [], issues: [] };
  const { encoding, ...config }: Record<string, unknown> = given;
  const warnings: ValidationIssue[] = [];
  const issues: ValidationIssue[] = [];
  if (!('encoding' in given)) {
    config.protocol = 'http/protobuf';
    warnings.push({ path: ['protocol'], message: `http is now written http/protobuf (the values of OTEL_EXPORTER_OTLP_PROTOCOL); ${STILL_WORKS}` });
  } else if (!isEncoding(encoding)) {
    if (config.protocol === 'http') config.protocol = 'http/protobuf';
    issues.push({ path: ['encoding'], message: 'is now part of protocol: remove it and write protocol: http/protobuf, http/json or grpc' });
  } else if (config.protocol === undefined || config.protocol === 'http') {
    const written = config.protocol === 'http' ? `${encoding} with protocol: http` : encoding;
    config.protocol = HTTP_PROTOCOL[encoding];
    warnings.push({ path: ['encoding'], message: `${written} is now written protocol: ${HTTP_PROTOCOL[encoding]}; ${STILL_WORKS}` });
  } else {
    const note = encodingNote(encoding, config.protocol);
    if (note.warning) warnings.push({ path: ['encoding'], message: note.warning });
    if (note.problem) issues.push({ path: ['encoding'], message: note.problem });
  }
  return { config, warnings, issues };
}
