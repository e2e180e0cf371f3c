'use strict';
// Entry point of the span serializer worker (see serializer-worker.ts). The project runs as
// TypeScript through tsx: a process started by bin/network-observer.js installed tsx with
// require('tsx/cjs'), which a worker thread does not inherit, while `tsx file.ts` passes its hooks
// to workers through execArgv. Install the require hook only when .ts files cannot load yet.
if (!require.extensions['.ts']) require('tsx/cjs');
require('./serializer-worker.ts');
