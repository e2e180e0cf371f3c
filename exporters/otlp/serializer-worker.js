'use strict';
// Entry point of the span serializer worker (see serializer-worker.ts) when the project runs
// from its TypeScript sources (tests and benchmarks, through tsx). The compiled build needs no
// shim: tsc writes serializer-worker.ts to dist/exporters/otlp/serializer-worker.js, which
// the client finds under the same name. A worker thread does not inherit the `tsx/cjs` require
// hook of a process started with `-r tsx/cjs`, while `tsx file.ts` passes its hooks through
// execArgv: install the hook only when .ts files cannot load yet.
if (!require.extensions['.ts']) require('tsx/cjs');
require('./serializer-worker.ts');
