#!/usr/bin/env node
// Compiles the TypeScript sources to CommonJS + .d.ts in dist/, and adds the ESM entry point
// (dist/index.mjs, a wrapper over the CommonJS build so that `import` and `require` share one
// module instance: one handler table, one native addon) and its types (dist/index.d.mts).
'use strict';

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const pkgDir = path.resolve(__dirname, '..');
const dist = path.join(pkgDir, 'dist');

let tsc;
try {
  tsc = require.resolve('typescript/bin/tsc', { paths: [pkgDir] });
} catch {
  process.stderr.write('@the0/sdk: typescript is not installed; run `npm install` in sdk-node first\n');
  process.exit(1);
}

fs.rmSync(dist, { recursive: true, force: true });
const run = spawnSync(process.execPath, [tsc, '-p', path.join(pkgDir, 'tsconfig.json')], {
  cwd: pkgDir,
  stdio: 'inherit',
});
if (run.status !== 0) process.exit(run.status === null ? 1 : run.status);

for (const file of ['index.mjs', 'index.d.mts']) {
  fs.copyFileSync(path.join(pkgDir, 'src', 'esm', file), path.join(dist, file));
}
