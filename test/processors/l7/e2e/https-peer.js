// HTTPS peers for the l7 end-to-end test over TLS, run as child processes so the kernel sees
// their own pids. node links its own OpenSSL, so these exercise the uprobes on the node binary
// (memory BIOs: node does the socket I/O itself, outside SSL_read/SSL_write).
//   node https-peer.js server KEY CERT   prints {"event":"listening","port":N,"pid":P}, serves until stdin closes:
//                                        every request gets 201 and a short text body
//   node https-peer.js client URL SNI    one GET with the given SNI, prints {"event":"done","status":S,"pid":P}
'use strict';
const https = require('node:https');
const fs = require('node:fs');

const say = (obj) => process.stdout.write(JSON.stringify({ pid: process.pid, ...obj }) + '\n');
const exitSoon = setTimeout(() => process.exit(3), 60000);
const [mode, a, b] = process.argv.slice(2);

if (mode === 'server') {
  const server = https.createServer({ key: fs.readFileSync(a), cert: fs.readFileSync(b) }, (req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(201, { 'content-type': 'text/plain' });
      res.end('created over tls\n');
    });
  });
  server.listen(0, '127.0.0.1', () => say({ event: 'listening', port: server.address().port }));
  process.stdin.on('end', () => {
    clearTimeout(exitSoon);
    server.close();
    process.exit(0);
  });
  process.stdin.resume();
} else {
  const url = new URL(a);
  const req = https.get({ host: url.hostname, port: url.port, path: url.pathname, servername: b, rejectUnauthorized: false, agent: false }, (res) => {
    res.resume();
    res.on('end', () => {
      say({ event: 'done', status: res.statusCode });
      clearTimeout(exitSoon);
    });
  });
  req.on('error', (e) => {
    say({ event: 'error', code: e.code || e.message });
    process.exit(1);
  });
}
