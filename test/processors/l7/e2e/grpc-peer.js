// gRPC with @grpc/grpc-js, run as child processes for the l7 end-to-end tests: over cleartext
// HTTP/2 (h2c, prior knowledge), or over TLS when given a key and certificate (HTTP/2 in node,
// OpenSSL inside the node binary). Messages are raw bytes (no protobuf needed).
//   node grpc-peer.js server [KEY CERT]  prints {"event":"listening","port":N,"pid":P}, serves until stdin closes
//   node grpc-peer.js client PORT        makes CALLS below in order on one channel (one HTTP/2 connection)
//   node grpc-peer.js client PORT CERT   over TLS (SNI and authority tls.test): Echo (OK), then Missing (NOT_FOUND)
//   Both print {"event":"done","pid":P,"calls":[[method,code],...]}.
// demo.Bulk: Echo (unary, answers the request's bytes), Missing (unary, NOT_FOUND), List (server
// streaming: 'ok' streams 5 messages, one of 200 KB, then OK; 'fail' streams 2, then NOT_FOUND),
// Chat (bidi: echoes each message, ends with OK when the client ends).
'use strict';
const fs = require('node:fs');
const grpc = require('@grpc/grpc-js');

const say = (obj) => process.stdout.write(JSON.stringify({ pid: process.pid, ...obj }) + '\n');
const exitSoon = setTimeout(() => process.exit(3), 60000);
const raw = { requestSerialize: (b) => b, requestDeserialize: (b) => b, responseSerialize: (b) => b, responseDeserialize: (b) => b };
const method = (name, requestStream, responseStream) => ({ path: `/demo.Bulk/${name}`, requestStream, responseStream, ...raw });
const SERVICE = {
  Echo: method('Echo', false, false),
  Missing: method('Missing', false, false),
  List: method('List', false, true),
  Chat: method('Chat', true, true),
};
const KB = 1024;
const bytes = (n) => Buffer.alloc(n, 0x6d);
/** What the client calls, in order: [method, request bytes]; the test expects the same list. */
const CALLS = [
  ['Echo', 100 * KB], ['Echo', 10], ['Missing', 10],
  ['Echo', 1024 * KB], ['Echo', 10], ['Missing', 10],
  ['List', 'ok'], ['List', 'fail'], ['Chat', [10, 100 * KB, 10]], ['Echo', 10],
];
const [mode, a, b] = process.argv.slice(2);

if (mode === 'server') {
  const server = new grpc.Server();
  server.addService(SERVICE, {
    Echo: (call, done) => done(null, call.request),
    Missing: (call, done) => done({ code: grpc.status.NOT_FOUND, details: 'no such thing' }),
    List: (call) => {
      const fail = call.request.toString() === 'fail';
      const sizes = fail ? [10, 10] : [10, 200 * KB, 10, 10, 10];
      for (const n of sizes) call.write(bytes(n));
      if (fail) call.emit('error', { code: grpc.status.NOT_FOUND, details: 'gone mid-stream' });
      else call.end();
    },
    Chat: (call) => {
      call.on('data', (m) => call.write(m));
      call.on('end', () => call.end());
    },
  });
  const creds = a
    ? grpc.ServerCredentials.createSsl(null, [{ private_key: fs.readFileSync(a), cert_chain: fs.readFileSync(b) }], false)
    : grpc.ServerCredentials.createInsecure();
  server.bindAsync('127.0.0.1:0', creds, (error, bound) => {
    if (error) throw error;
    say({ event: 'listening', port: bound });
  });
  process.stdin.on('end', () => {
    clearTimeout(exitSoon);
    server.forceShutdown();
    process.exit(0);
  });
  process.stdin.resume();
} else {
  const Client = grpc.makeGenericClientConstructor(SERVICE, 'Bulk');
  const client = b
    ? new Client(`127.0.0.1:${a}`, grpc.credentials.createSsl(fs.readFileSync(b), null, null, { checkServerIdentity: () => undefined }),
      { 'grpc.ssl_target_name_override': 'tls.test', 'grpc.default_authority': 'tls.test' })
    : new Client(`127.0.0.1:${a}`, grpc.credentials.createInsecure());
  const codeOf = (error) => (error ? error.code : grpc.status.OK);
  const unary = (name, size) => new Promise((resolve) => client[name](bytes(size), (error) => resolve(codeOf(error))));
  const stream = (call, sizes) => new Promise((resolve) => {
    call.on('data', () => undefined);
    call.on('error', (error) => resolve(codeOf(error)));
    call.on('status', (status) => status.code === grpc.status.OK && resolve(grpc.status.OK));
    for (const n of sizes) call.write(bytes(n));
    if (sizes.length) call.end();
  });
  (async () => {
    const calls = [];
    for (const [name, arg] of b ? [['Echo', 10], ['Missing', 10]] : CALLS) {
      let code;
      if (name === 'List') code = await stream(client.List(Buffer.from(arg)), []);
      else if (name === 'Chat') code = await stream(client.Chat(), arg);
      else code = await unary(name, arg);
      calls.push([name, code]);
    }
    client.close();
    clearTimeout(exitSoon);
    say({ event: 'done', calls });
  })();
}
