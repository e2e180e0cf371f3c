#!/usr/bin/env node
'use strict';
// Runs the compiled JavaScript in dist/ (built by `npm install` through the `prepare` script,
// or `npm run build`). Nothing is compiled at run time, so nothing executable is read from a
// cache in a world-writable directory: the observer runs as root.
let cli;
try {
  cli = require('../dist/distribution/cli/main.js');
} catch (error) {
  if (error && error.code === 'MODULE_NOT_FOUND' && /dist[\\/]distribution[\\/]cli[\\/]main\.js/.test(error.message)) {
    console.error('network-observer: the compiled JavaScript is missing (dist/); run `npm run build` in the package directory');
    process.exit(1);
  }
  throw error;
}
cli.main(process.argv).then(
  (code) => { process.exitCode = code; },
  (err) => { console.error(`network-observer: ${err && err.message ? err.message : err}`); process.exitCode = 1; },
);
