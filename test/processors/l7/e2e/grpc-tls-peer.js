// gRPC over TLS with @grpc/grpc-js (HTTP/2 in node, OpenSSL inside the node binary), run as child
// processes for the l7 HTTPS end-to-end test. Messages are raw bytes (no protobuf needed).
//   node grpc-tls-peer.js server KEY CERT   prints {"event":"listening","port":N,"pid":P}, serves until stdin closes
//   node grpc-tls-peer.js client PORT CERT  calls demo.Greeter/Greet (OK) and demo.Greeter/Missing (NOT_FOUND),
//                                           prints {"event":"done","pid":P,"codes":[0,5]}
'use strict';
const fs = require('node:fs');
const grpc = require('@grpc/grpc-js');

const say = (obj) => process.stdout.write(JSON.stringify({ pid: process.pid, ...obj }) + '\n');
const exitSoon = setTimeout(() => process.exit(3), 60000);
const raw = { requestSerialize: (b) => b, requestDeserialize: (b) => b, responseSerialize: (b) => b, responseDeserialize: (b) => b };
const SERVICE = {
  Greet: { path: '/demo.Greeter/Greet', requestStream: false, responseStream: false, ...raw },
  Missing: { path: '/demo.Greeter/Missing', requestStream: false, responseStream: false, ...raw },
};
const [mode, a, b] = process.argv.slice(2);

if (mode === 'server') {
  const server = new grpc.Server();
  server.addService(SERVICE, {
    Greet: (call, done) => done(null, Buffer.from('hello over grpc+tls')),
    Missing: (call, done) => done({ code: grpc.status.NOT_FOUND, details: 'no such thing' }),
  });
  const creds = grpc.ServerCredentials.createSsl(null, [{ private_key: fs.readFileSync(a), cert_chain: fs.readFileSync(b) }], false);
  server.bindAsync('127.0.0.1:0', creds, (error, port) => {
    if (error) throw error;
    say({ event: 'listening', port });
  });
  process.stdin.on('end', () => {
    clearTimeout(exitSoon);
    server.forceShutdown();
    process.exit(0);
  });
  process.stdin.resume();
} else {
  const Client = grpc.makeGenericClientConstructor(SERVICE, 'Greeter');
  const creds = grpc.credentials.createSsl(fs.readFileSync(b), null, null, { checkServerIdentity: () => undefined });
  const client = new Client(`127.0.0.1:${a}`, creds, { 'grpc.ssl_target_name_override': 'tls.test', 'grpc.default_authority': 'tls.test' });
  const call = (name) => new Promise((resolve) => client[name](Buffer.from('hi'), (error) => resolve(error ? error.code : 0)));
  (async () => {
    const codes = [await call('Greet'), await call('Missing')];
    client.close();
    clearTimeout(exitSoon);
    say({ event: 'done', codes });
  })();
}
