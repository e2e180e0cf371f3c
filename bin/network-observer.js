#!/usr/bin/env node
'use strict';
// The CLI is TypeScript; tsx compiles it in memory so the project needs no build step.
require('tsx/cjs');
require('../core/cli/main.ts').main(process.argv).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(`network-observer: ${err && err.message ? err.message : err}`); process.exitCode = 1; },
);
