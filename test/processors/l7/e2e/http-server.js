// HTTP/1.1 server run as a child process for the l7 end-to-end test, so the kernel sees its
// own pid and comm. Listens on the first free port from PORT upwards (a non-default port),
// prints {"event":"listening","port":N,"pid":P}, serves until stdin closes.
//   /hello    200, content-length body (12 bytes)
//   /chunked  200, chunked body (11 + 29 bytes)
//   /echo     201, echoes the request body size as JSON
//   /big      200, 100000-byte body (far beyond the capture size)
//   /bigchunked 200, chunked body of 1 MiB in 16 writes
//   /old      200 without a length: chunked to HTTP/1.1 clients, close-delimited to HTTP/1.0 ones
//   /drop     no response: the connection is closed
//   /late/NNN status NNN after 15 ms, content-length body (pipelined answers arrive apart)
//   /sized/N  200, content-length body of N bytes (N at most 1 MiB)
//   /tall     200, a header block of about 2 KiB (40 x-filler headers), content-length body
//   other     404
'use strict';
const http = require('node:http');

process.title = 'l7-e2e-server';
const first = Number(process.argv[2] || 18080);
const exitSoon = setTimeout(() => process.exit(3), 60000);
const say = (obj) => process.stdout.write(JSON.stringify({ pid: process.pid, ...obj }) + '\n');

const server = http.createServer((req, res) => {
  let body = 0;
  req.on('data', (d) => { body += d.length; });
  req.on('end', () => {
    const path = (req.url || '/').split('?')[0];
    if (path === '/hello') {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 12 });
      res.end('hello world\n');
    } else if (path === '/chunked') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first part\n');
      setTimeout(() => res.end('second part, a little longer\n'), 5);
    } else if (path === '/big') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': 100000 });
      res.end(Buffer.alloc(100000, 0x61));
    } else if (path === '/bigchunked') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      for (let i = 0; i < 15; i++) res.write(Buffer.alloc(65536, 0x62));
      res.end(Buffer.alloc(65536, 0x63));
    } else if (path === '/old') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('an old-style body, ended by the close\n');
    } else if (path.startsWith('/late/')) {
      setTimeout(() => {
        res.writeHead(Number(path.slice(6)), { 'content-type': 'text/plain', 'content-length': 3 });
        res.end('ok\n');
      }, 15);
    } else if (path.startsWith('/sized/') && Number(path.slice(7)) <= 1 << 20) {
      const size = Number(path.slice(7));
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
      res.end(Buffer.alloc(size, 0x61));
    } else if (path === '/tall') {
      const headers = { 'content-type': 'text/plain', 'content-length': 5 };
      for (let i = 0; i < 40; i++) headers[`x-filler-${i}`] = 'f'.repeat(32);
      res.writeHead(200, headers);
      res.end('tall\n');
    } else if (path === '/drop') {
      req.socket.destroy();
    } else if (path === '/echo') {
      const text = JSON.stringify({ received: body });
      res.writeHead(201, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain', 'content-length': 10 });
      res.end('not found\n');
    }
  });
});

function listen(port) {
  server.once('error', (err) => {
    if (err.code === 'EADDRINUSE' && port < first + 20) listen(port + 1);
    else { say({ event: 'error', code: err.code }); process.exit(2); }
  });
  server.listen(port, '127.0.0.1', () => say({ event: 'listening', port }));
}
listen(first);
process.stdin.on('data', () => undefined);
process.stdin.on('end', () => { clearTimeout(exitSoon); server.close(); process.exit(0); });
