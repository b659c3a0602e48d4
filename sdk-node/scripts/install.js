#!/usr/bin/env node
// npm "install" lifecycle script: makes the package usable right after `npm install ./sdk-node`
// (or `npm ci` inside sdk-node) on a fresh machine. Builds only what is missing:
//   - native/the0.node with cargo (skipped when THE0_NODE_ADDON names a prebuilt addon);
//   - dist/ with tsc; when the package was linked from a folder, npm does not install its
//     devDependencies, so this installs them first (`npm ci --ignore-scripts` in sdk-node).
// `npm run build` always rebuilds both.
'use strict';

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const pkgDir = path.resolve(__dirname, '..');

function run(command, args) {
  const result = spawnSync(command, args, { cwd: pkgDir, stdio: 'inherit' });
  if (result.error) {
    process.stderr.write(`@the0/sdk: cannot run ${command}: ${result.error.message}\n`);
    process.exit(1);
  }
  if (result.status !== 0) process.exit(result.status === null ? 1 : result.status);
}

function hasTypeScript() {
  try {
    require.resolve('typescript/bin/tsc', { paths: [pkgDir] });
    return true;
  } catch {
    return false;
  }
}

if (!process.env.THE0_NODE_ADDON && !fs.existsSync(path.join(pkgDir, 'native', 'the0.node'))) {
  run(process.execPath, [path.join(__dirname, 'build-native.js')]);
}

if (!fs.existsSync(path.join(pkgDir, 'dist', 'index.js'))) {
  if (!hasTypeScript()) {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const lock = fs.existsSync(path.join(pkgDir, 'package-lock.json'));
    run(npm, [lock ? 'ci' : 'install', '--ignore-scripts', '--no-audit', '--no-fund', '--include=dev']);
  }
  run(process.execPath, [path.join(__dirname, 'build-ts.js')]);
}
