/**
 * tls: settings against real TLS receivers on loopback (OTLP/HTTP over HTTPS and OTLP/gRPC over
 * TLS), with a private CA, a server certificate for the name otlp.test and a client certificate,
 * all made by openssl for the run.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { factory, type OtlpConfig } from '../../../exporters/otlp';
import { httpEvent } from '../fixtures';
import { OtlpGrpcReceiver } from '../otlp-grpc-receiver';
import { OtlpReceiver } from '../otlp-receiver';
import { startExporter, until, type Started } from './harness';

interface Pki {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

/** A CA, a server certificate for otlp.test (only that name) and a client certificate. */
function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'netobs-tls-'));
  const at = (name: string) => join(dir, name);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=netobs test CA');
  for (const [name, ext] of [['server', 'subjectAltName=DNS:otlp.test'], ['client', 'extendedKeyUsage=clientAuth']]) {
    writeFileSync(at(`${name}.ext`), `${ext}\n`);
    ssl('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=netobs ${name}`);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`);
  }
  return { dir, ca: at('ca.pem'), serverCert: at('server.pem'), serverKey: at('server.key'), clientCert: at('client.pem'), clientKey: at('client.key') };
}

describe('exporters/otlp tls', function () {
  this.timeout(20_000);
  let pki: Pki;
  const cleanups: Array<() => Promise<void>> = [];

  before(() => {
    pki = makePki();
  });

  after(() => rmSync(pki.dir, { recursive: true, force: true }));

  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  function config(endpoint: string, tls: Partial<OtlpConfig['tls']>, patch: Partial<OtlpConfig> = {}): OtlpConfig {
    const base = factory.createDefaultConfig();
    return {
      ...base,
      endpoint,
      tls: { ...base.tls, ...tls },
      retry_on_failure: { ...base.retry_on_failure, initial_interval: 20, max_interval: 100, max_elapsed_time: 2_000, randomization_factor: 0 },
      sending_queue: { ...base.sending_queue, batch: { max_size: 512, flush_timeout: 20 } },
      signals: { traces: true, metrics: false, logs: false },
      shutdown_timeout: 500,
      ...patch,
    };
  }

  function start(cfg: OtlpConfig): Started {
    const s = startExporter(cfg);
    cleanups.push(() => s.stop());
    return s;
  }

  async function httpsReceiver(mutual = false): Promise<OtlpReceiver> {
    const r = await new OtlpReceiver().startTls({
      cert: readFileSync(pki.serverCert),
      key: readFileSync(pki.serverKey),
      ...(mutual ? { ca: readFileSync(pki.ca), requestCert: true, rejectUnauthorized: true } : {}),
    });
    cleanups.push(() => r.stop());
    return r;
  }

  it('OTLP/HTTP over HTTPS: trusts the backend through ca_file, checking the name from server_name_override', async () => {
    const r = await httpsReceiver();
    const { exporter } = start(config(r.url, { ca_file: pki.ca, server_name_override: 'otlp.test' }, { protocol: 'http/json' }));
    exporter.consume([httpEvent()]);
    await until(() => r.requests.length === 1, 'delivery over HTTPS');
  });

  const unverifiable: Array<[string, () => Partial<OtlpConfig['tls']>, RegExp]> = [
    ['without ca_file', () => ({ server_name_override: 'otlp.test' }), /certificate/i],
    ['when the name does not match', () => ({ ca_file: pki.ca }), /altnames|does not match/i],
  ];
  for (const [name, tls, reason] of unverifiable) {
    it(`refuses a certificate it cannot verify (${name}), and drops without retrying`, async () => {
      const r = await httpsReceiver();
      const { exporter, settings } = start(config(r.url, tls(), { protocol: 'http/json' }));
      exporter.consume([httpEvent()]);
      await until(() => settings.telemetry.get('dropped') === 1, 'the drop');
      assert.equal(settings.telemetry.get('dropped_send_failed'), 1, 'a bad certificate is not retried');
      assert.equal(r.requests.length, 0);
      const error = (exporter as unknown as { lastError?: Error }).lastError;
      assert.match(error?.message ?? '', reason);
    });
  }

  it('insecure_skip_verify accepts any certificate', async () => {
    const r = await httpsReceiver();
    const { exporter } = start(config(r.url, { insecure_skip_verify: true }, { protocol: 'http/json' }));
    exporter.consume([httpEvent()]);
    await until(() => r.requests.length === 1, 'delivery without verification');
  });

  it('mutual TLS: presents cert_file and key_file to a backend that requires a client certificate', async () => {
    const r = await httpsReceiver(true);
    const { exporter } = start(config(r.url, { ca_file: pki.ca, server_name_override: 'otlp.test', cert_file: pki.clientCert, key_file: pki.clientKey }, { protocol: 'http/json' }));
    exporter.consume([httpEvent()]);
    await until(() => r.requests.length === 1, 'delivery with a client certificate');
  });

  it('OTLP/gRPC over TLS (ALPN h2) with ca_file', async () => {
    const r = await new OtlpGrpcReceiver().startTls({ cert: readFileSync(pki.serverCert), key: readFileSync(pki.serverKey) });
    cleanups.push(() => r.stop());
    const { exporter } = start(config(r.endpoint, { ca_file: pki.ca, server_name_override: 'otlp.test' }, { protocol: 'grpc' }));
    exporter.consume([httpEvent()]);
    await until(() => r.calls.length === 1, 'an Export call over TLS');
  });

  it('config: cert_file and key_file go together, and files must exist', () => {
    const issues = factory.validate!(config('https://x', { cert_file: pki.clientCert, ca_file: join(pki.dir, 'missing.pem') }));
    assert.deepEqual(issues.map((i) => i.path.join('.')).sort(), ['tls.ca_file', 'tls.key_file']);
  });
});
