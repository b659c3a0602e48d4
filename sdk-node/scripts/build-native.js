#!/usr/bin/env node
// Builds the napi-rs addon (crate `the0-node` in ../bindings/node of the Rust workspace) with
// cargo and installs it as native/the0.node. Honours CARGO_TARGET_DIR (cargo reads it) and
// THE0_NODE_PROFILE (`release`, the default, or `debug`).
'use strict';

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const pkgDir = path.resolve(__dirname, '..');
const manifest = path.resolve(pkgDir, '..', 'bindings', 'node', 'Cargo.toml');
const dest = path.join(pkgDir, 'native', 'the0.node');

function fail(message) {
  process.stderr.write(`@the0/sdk: ${message}\n`);
  process.exit(1);
}

function main() {
  if (!fs.existsSync(manifest)) {
    fail(
      `cannot build the native addon: ${manifest} not found. The addon is built from the ` +
        'the0 runtime repository; install the package from its sdk-node folder there, or set ' +
        'THE0_NODE_ADDON to a prebuilt the0.node file.',
    );
  }
  const profile = process.env.THE0_NODE_PROFILE || 'release';
  if (profile !== 'release' && profile !== 'debug') {
    fail(`THE0_NODE_PROFILE must be "release" or "debug", got ${JSON.stringify(profile)}`);
  }
  const args = ['build', '--manifest-path', manifest, '--message-format=json-render-diagnostics'];
  if (profile === 'release') args.push('--release');
  process.stderr.write(`@the0/sdk: cargo ${args.join(' ')}\n`);
  const run = spawnSync('cargo', args, {
    cwd: path.dirname(manifest),
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 256 * 1024 * 1024,
    encoding: 'utf8',
  });
  if (run.error) {
    fail(`cannot run cargo (${run.error.message}); install Rust (https://rustup.rs) to build the addon`);
  }
  if (run.status !== 0) fail(`cargo build failed with exit code ${run.status}`);

  let library;
  for (const line of run.stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const message = JSON.parse(line);
    if (
      message.reason === 'compiler-artifact' &&
      message.target &&
      message.target.name === 'the0_node' &&
      message.target.kind.includes('cdylib')
    ) {
      library = message.filenames.find((f) => /\.(so|dylib|dll)$/.test(f));
    }
  }
  if (!library) fail('cargo did not report the the0_node library');

  fs.mkdirSync(path.dirname(dest), { recursive: true });
  // Copy then rename: a process that has the old addon loaded keeps its mapping intact.
  const tmp = `${dest}.${process.pid}.tmp`;
  fs.copyFileSync(library, tmp);
  fs.renameSync(tmp, dest);
  process.stderr.write(`@the0/sdk: installed ${path.relative(process.cwd(), dest) || dest}\n`);
}

main();
