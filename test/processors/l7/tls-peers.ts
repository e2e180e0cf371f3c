/**
 * Real TLS peers for the HTTPS end-to-end tests: a self-signed certificate made by openssl,
 * nginx serving HTTP/1.1 and HTTP/2 over TLS from a temporary configuration on a free port,
 * node's https client and server (fixture e2e/https-peer.js) and a gRPC client and server with
 * @grpc/grpc-js (e2e/grpc-peer.js), over TLS or, without a certificate, over h2c.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { stopChild } from './kernel-pipeline';

export const HTTPS_PEER = join(__dirname, 'e2e', 'https-peer.js');
export const GRPC_PEER = join(__dirname, 'e2e', 'grpc-peer.js');

export interface TempTls {
  dir: string;
  key: string;
  cert: string;
  remove(): void;
}

/** A temporary directory with a fresh self-signed certificate for `tls.test`. */
export function makeCertificate(): TempTls {
  const dir = mkdtempSync(join(tmpdir(), 'no-https-'));
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=tls.test', '-addext', 'subjectAltName=DNS:tls.test'], { stdio: 'ignore' });
  return { dir, key, cert, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface Nginx {
  port: number;
  pid: number;
  stop(): Promise<void>;
}

/** nginx in the foreground, one process, HTTPS with HTTP/2 on a free port; every path answers 200. */
export async function startNginx(tls: TempTls): Promise<Nginx> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const conf = join(tls.dir, 'nginx.conf');
    const temp = (name: string) => `${name}_temp_path ${tls.dir};`;
    writeFileSync(conf, [
      'daemon off;', 'master_process off;', 'worker_processes 1;', `pid ${join(tls.dir, 'nginx.pid')};`,
      `error_log ${join(tls.dir, 'error.log')};`, 'events { worker_connections 64; }',
      'http {', 'access_log off;', ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map(temp),
      'server {', `listen 127.0.0.1:${port} ssl http2;`, 'ssl_protocols TLSv1.2 TLSv1.3;',
      `ssl_certificate ${tls.cert};`, `ssl_certificate_key ${tls.key};`,
      'location / { default_type text/plain; return 200 "hello over tls\\n"; }', '}', '}', '',
    ].join('\n'));
    const child = spawn('nginx', ['-c', conf, '-p', tls.dir], { stdio: 'ignore' });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    for (let i = 0; i < 50 && child.exitCode === null; i++) {
      if (await listening(port)) {
        return { port, pid: child.pid!, stop: () => stopChild(child, exited) };
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGKILL');
    await exited;
    const log = safeRead(join(tls.dir, 'error.log'));
    if (!/address already in use/i.test(log)) throw new Error(`nginx did not start on port ${port}: ${log.trim()}`);
  }
  throw new Error('nginx: no free port after 5 attempts');
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** A server of e2e/https-peer.js or e2e/grpc-peer.js (over TLS when given `tls`), until stop(). */
export async function startNodeServer(script: string, tls?: TempTls): Promise<{ port: number; pid: number; stop(): Promise<void> }> {
  const args = tls ? [tls.key, tls.cert] : [];
  const child: ChildProcess = spawn(process.execPath, [script, 'server', ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const line = await new Promise<{ event: string; port: number; pid: number }>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (l) => resolve(JSON.parse(l)));
    child.once('exit', (code) => reject(new Error(`${script} server exited with ${code}`)));
  });
  return {
    port: line.port,
    pid: line.pid,
    async stop() {
      child.stdin!.end();
      await exited;
    },
  };
}
