// The ESM entry point: same names as the CommonJS one, and the same module instance.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';

import the0, * as esm from '@the0/sdk';
import { ReadOnlyStateError, The0Error, query, state } from '@the0/sdk';

const require = createRequire(import.meta.url);
const cjs = require('@the0/sdk') as Record<string, unknown>;

test('ESM exports every CommonJS export, as the same objects', () => {
  const cjsNames = Object.keys(cjs).filter((k) => k !== '__esModule').sort();
  const esmNames = Object.keys(esm).sort();
  assert.deepEqual(esmNames, cjsNames);
  for (const name of cjsNames) {
    assert.equal((esm as Record<string, unknown>)[name], cjs[name], name);
  }
  assert.equal(the0, cjs.default);
});

test('ESM named imports work', () => {
  assert.equal(typeof query.handler, 'function');
  assert.equal(state.delete, state.remove);
  assert.ok(new ReadOnlyStateError('x') instanceof The0Error);
  assert.equal(the0.state, state);
});
