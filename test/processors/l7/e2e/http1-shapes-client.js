// Raw HTTP/1 client run as a child process for the l7 end-to-end test: the message shapes the
// capture must keep whole, each on a connection of its own, one after another. Prints
// {"event":"done","requests":N} when every response has been read to its end.
//   pipelined   three GETs in one write (/hello /missing /hello)
//   split       one GET written in 12 pieces, 5 ms apart
//   big header  a GET with a 6 KiB header block
//   upload      a 200 KiB POST /echo in 8 writes
//   chunked     GET /bigchunked: a 1 MiB chunked response
//   http/1.0    GET /old: a body ended by the close
'use strict';
const net = require('node:net');

process.title = 'l7-e2e-shapes';
const port = Number(process.argv[2]);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
setTimeout(() => process.exit(3), 30000).unref();

/** Connects, lets `write` send, and resolves once `responses` responses (or the close) were read. */
function exchange(write, responses, untilClose = false) {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let seen = Buffer.alloc(0);
    sock.on('error', reject);
    sock.on('connect', () => write(sock).catch(reject));
    sock.on('data', (d) => {
      seen = Buffer.concat([seen, d]);
      if (!untilClose && complete(seen) >= responses) sock.end();
    });
    sock.on('close', () => resolve());
  });
}

/** Responses fully read in `buf`: heads with content-length bodies, or chunked bodies ended by 0\r\n\r\n. */
function complete(buf) {
  let n = 0;
  let at = 0;
  const text = buf.toString('latin1');
  while (at < text.length) {
    const headEnd = text.indexOf('\r\n\r\n', at);
    if (headEnd < 0) break;
    const head = text.slice(at, headEnd);
    const length = /content-length: *(\d+)/i.exec(head);
    if (length) {
      const end = headEnd + 4 + Number(length[1]);
      if (end > text.length) break;
      at = end;
    } else if (/transfer-encoding: *chunked/i.test(head)) {
      const end = text.indexOf('\r\n0\r\n\r\n', headEnd);
      if (end < 0) break;
      at = end + 7;
    } else break;
    n++;
  }
  return n;
}

const get = (path, extra = '') => `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}\r\n`;

(async () => {
  await exchange(async (s) => s.write(get('/hello') + get('/missing') + get('/hello?again=1')), 3);
  await exchange(async (s) => {
    const request = get('/split', 'User-Agent: shapes\r\nAccept: */*\r\n');
    const piece = Math.ceil(request.length / 12);
    for (let i = 0; i < request.length; i += piece) {
      s.write(request.slice(i, i + piece));
      await sleep(5);
    }
  }, 1);
  await exchange(async (s) => s.write(get('/padded', `X-Pad: ${'p'.repeat(6 * 1024)}\r\n`)), 1);
  await exchange(async (s) => {
    const body = Buffer.alloc(200 * 1024, 0x75);
    s.write(`POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${body.length}\r\n\r\n`);
    for (let i = 0; i < 8; i++) s.write(body.subarray((i * body.length) / 8, ((i + 1) * body.length) / 8));
  }, 1);
  await exchange(async (s) => s.write(get('/bigchunked')), 1);
  await exchange(async (s) => s.write('GET /old HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n'), 1, true);
  process.stdout.write(JSON.stringify({ event: 'done', requests: 8 }) + '\n');
})().catch((err) => {
  process.stdout.write(JSON.stringify({ event: 'error', message: err.message }) + '\n');
  process.exit(1);
});
