import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import * as sdk from '@the0/sdk';
import { ReadOnlyStateError, STATUS_NAMES, The0Error, query, state } from '@the0/sdk';

import { PKG_DIR, cleanEnv, tempDir } from './helpers';

test('the upstream export names are all there', () => {
  for (const name of ['parse', 'success', 'error', 'result', 'metric', 'log', 'sleep']) {
    assert.equal(typeof (sdk as Record<string, unknown>)[name], 'function', name);
  }
  for (const name of ['get', 'set', 'remove', 'delete', 'list', 'clear', 'exists']) {
    assert.equal(typeof (state as Record<string, unknown>)[name], 'function', `state.${name}`);
  }
  for (const name of ['handler', 'run', 'getParams', 'getParamStrings', 'getConfig', 'isQueryMode']) {
    assert.equal(typeof (query as Record<string, unknown>)[name], 'function', `query.${name}`);
  }
  assert.equal(state.ReadOnlyStateError, ReadOnlyStateError);
  assert.equal(query.ReadOnlyStateError, ReadOnlyStateError);
});

test('errors: ReadOnlyStateError is a The0Error is an Error', () => {
  const e = new ReadOnlyStateError('nope');
  assert.ok(e instanceof The0Error && e instanceof Error);
  assert.equal(e.name, 'ReadOnlyStateError');
  assert.equal(e.status, 'READ_ONLY');
  assert.equal(e.code, 'READ_ONLY');
});

test('the status table matches the core', () => {
  const { native } = require(path.join(PKG_DIR, 'dist', 'native.js')) as {
    native: { statusNames(): string[]; coreVersion(): string };
  };
  assert.deepEqual(native.statusNames(), [...STATUS_NAMES]);
  const pkg = JSON.parse(fs.readFileSync(path.join(PKG_DIR, 'package.json'), 'utf8')) as { version: string };
  assert.equal(native.coreVersion(), pkg.version, 'package and core versions agree');
});

test('src/native.ts describes exactly the functions the addon exports', () => {
  // The addon's exports, as loaded...
  const addon = require(path.join(PKG_DIR, 'native', 'the0.node')) as Record<string, unknown>;
  const exported = Object.keys(addon)
    .filter((name) => typeof addon[name] === 'function')
    .sort();
  // ...against the methods of `interface Native` in the TypeScript source.
  const source = fs.readFileSync(path.join(PKG_DIR, 'src', 'native.ts'), 'utf8');
  const body = /export interface Native \{([\s\S]*?)\n\}/.exec(source);
  assert.ok(body, 'src/native.ts has an `export interface Native { ... }`');
  const described = [...body[1].matchAll(/^\s+(\w+)\(/gm)].map((m) => m[1]).sort();
  assert.ok(described.length > 20, `only ${described.length} methods found in interface Native`);
  assert.deepEqual(described, exported);
});

test('`npm install <sdk-node folder>` gives a working package (CommonJS, ESM, and the upstream alias)', () => {
  const app = tempDir('the0-node-app-');
  fs.writeFileSync(
    path.join(app, 'package.json'),
    JSON.stringify({
      name: 'app',
      version: '1.0.0',
      private: true,
      dependencies: {
        '@the0/sdk': `file:${PKG_DIR}`,
        '@alexanderwanyoike/the0-node': `file:${PKG_DIR}`,
      },
    }),
  );
  const npm = spawnSync('npm', ['install', '--no-audit', '--no-fund', '--offline'], {
    cwd: app,
    encoding: 'utf8',
    env: cleanEnv(),
  });
  assert.equal(npm.status, 0, npm.stderr);
  fs.writeFileSync(
    path.join(app, 'bot.js'),
    `const { state } = require('@the0/sdk');
     const legacy = require('@alexanderwanyoike/the0-node');
     state.set('k', { n: 1 });
     console.log(JSON.stringify({ cjs: state.get('k'), same: legacy.state.get === state.get }));`,
  );
  fs.writeFileSync(
    path.join(app, 'bot.mjs'),
    `import { state } from '@the0/sdk';
     import { query } from '@alexanderwanyoike/the0-node';
     console.log(JSON.stringify({ esm: state.get('k'), mode: query.isQueryMode() }));`,
  );
  const env = cleanEnv({ STATE_DIR: path.join(app, 'state') });
  const cjs = spawnSync(process.execPath, ['bot.js'], { cwd: app, encoding: 'utf8', env });
  assert.equal(cjs.status, 0, cjs.stderr);
  assert.deepEqual(JSON.parse(cjs.stdout), { cjs: { n: 1 }, same: true });
  const esm = spawnSync(process.execPath, ['bot.mjs'], { cwd: app, encoding: 'utf8', env });
  assert.equal(esm.status, 0, esm.stderr);
  assert.deepEqual(JSON.parse(esm.stdout), { esm: { n: 1 }, mode: false });
});
