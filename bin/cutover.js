#!/usr/bin/env node
'use strict';
// `cutover` CLI entry point: runs the compiled client (npm run build → dist/client/main.js).
const fs = require('fs');
const path = require('path');

const main = path.join(__dirname, '..', 'dist', 'client', 'main.js');
if (!fs.existsSync(main)) {
  process.stderr.write('cutover: not built yet — run `npm run build` first\n');
  process.exit(2);
}

require(main)
  .run(process.argv)
  .then((code) => {
    // Exit once stdout and stderr are flushed (the Temporal connection is already closed).
    process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
  })
  .catch((err) => {
    process.stderr.write(`cutover: ${err && err.stack ? err.stack : err}\n`);
    process.exit(1);
  });
