import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeEach, describe, test } from 'node:test';

import { The0Error, query, state } from '@the0/sdk';

import { runFixture, runRustDriver, tempDir } from './helpers';

let dir: string;

beforeEach(() => {
  dir = path.join(tempDir(), 'state');
  process.env.STATE_DIR = dir;
  delete process.env.QUERY_PATH;
});

function fileOf(key: string): string {
  return fs.readFileSync(path.join(dir, `${key}.json`), 'utf8');
}

function expectError(fn: () => unknown, status: string, message: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof The0Error, `not a The0Error: ${String(e)}`);
    assert.equal(e.status, status);
    assert.equal(e.code, status);
    assert.equal(e.message, message);
    return true;
  });
}

describe('state', () => {
  test('set then get round-trips JSON values', () => {
    const values: Record<string, unknown> = {
      obj: { b: [1, 2.5], a: 'café', nested: { t: true, n: null } },
      num: 42,
      neg: -1.25,
      str: 'tab\there "quoted" \u0001',
      arr: [1, 'two', { three: 3 }],
      yes: true,
      nothing: null,
    };
    for (const [key, value] of Object.entries(values)) state.set(key, value);
    for (const [key, value] of Object.entries(values)) assert.deepEqual(state.get(key), value, key);
    assert.deepEqual(state.list(), Object.keys(values).sort());
  });

  test('get of a missing key gives the default, or undefined', () => {
    assert.equal(state.get('missing'), undefined);
    assert.deepEqual(state.get('missing', { d: 1 }), { d: 1 });
    assert.equal(state.get<number>('missing', 0), 0);
    state.set('present', 0);
    assert.equal(state.get('present', 7), 0, 'a stored falsy value is not replaced by the default');
  });

  test('a stored null is a value, undefined is stored as null', () => {
    state.set('n', null);
    assert.equal(state.get('n', 'default'), null);
    assert.equal(state.exists('n'), true);
    state.set('u', undefined);
    assert.equal(fileOf('u'), 'null');
  });

  test('files hold compact canonical JSON', () => {
    state.set('prices', { b: [1, 2.5], a: 'café' });
    assert.equal(fileOf('prices'), '{"b":[1,2.5],"a":"café"}');
    state.setJson('raw', ' { "x" : [ 1 , 1e3 ] } ');
    assert.equal(fileOf('raw'), '{"x":[1,1000.0]}');
    assert.equal(state.getJson('raw'), '{"x":[1,1000.0]}');
    assert.equal(state.getJson('nope'), undefined);
  });

  test('exists, remove and its alias delete', () => {
    assert.equal(state.delete, state.remove);
    state.set('a', 1);
    assert.equal(state.exists('a'), true);
    assert.equal(state.remove('a'), true);
    assert.equal(state.exists('a'), false);
    assert.equal(state.remove('a'), false);
    state.set('b', 2);
    assert.equal(state.delete('b'), true);
  });

  test('list is sorted and skips temporary and foreign files; clear keeps foreign files', () => {
    state.set('b', 1);
    state.set('a', 2);
    fs.writeFileSync(path.join(dir, '.a.json.99.0.tmp'), '{"torn');
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'x');
    assert.deepEqual(state.list(), ['a', 'b']);
    state.clear();
    assert.deepEqual(state.list(), []);
    assert.equal(fs.readFileSync(path.join(dir, 'notes.txt'), 'utf8'), 'x');
  });

  test('a missing state directory is empty', () => {
    process.env.STATE_DIR = path.join(dir, 'never', 'created');
    assert.deepEqual(state.list(), []);
    assert.equal(state.exists('k'), false);
    state.clear();
  });

  test('every key rule gives the core error for every operation', () => {
    const long = 'k'.repeat(201);
    const cases: Array<[string, string]> = [
      ['', 'invalid state key "": must not be empty'],
      [long, `invalid state key "${long}": must be at most 200 bytes`],
      ['a\u0001b', 'invalid state key "a\\u0001b": must not contain control characters'],
      ['a/b', `invalid state key "a/b": must not contain a path separator ('/' or '\\')`],
      ['a\\b', `invalid state key "a\\\\b": must not contain a path separator ('/' or '\\')`],
      ['a..b', `invalid state key "a..b": must not contain '..' (path traversal)`],
      ['.hidden', `invalid state key ".hidden": must not start with '.'`],
    ];
    for (const [key, message] of cases) {
      expectError(() => state.set(key, 1), 'INVALID_KEY', message);
      expectError(() => state.get(key), 'INVALID_KEY', message);
      expectError(() => state.exists(key), 'INVALID_KEY', message);
      expectError(() => state.remove(key), 'INVALID_KEY', message);
    }
    state.set('k'.repeat(200), 1);
    assert.deepEqual(state.list(), ['k'.repeat(200)]);
  });

  test('JSON text that is not JSON is refused and the old value kept', () => {
    state.set('k', 1);
    expectError(
      () => state.setJson('k', '{oops'),
      'INVALID_JSON',
      'value for state key "k" is not valid JSON: key must be a string at line 1 column 2',
    );
    assert.equal(state.get('k'), 1);
  });

  test('values JSON cannot express are refused with the core\'s error, and nothing is written', () => {
    expectError(
      () => state.set('big', 10n),
      'INVALID_JSON',
      'value for state key "big" cannot be serialized: Do not know how to serialize a BigInt',
    );
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    assert.throws(
      () => state.set('loop', circular),
      (e: unknown) =>
        e instanceof The0Error &&
        e.status === 'INVALID_JSON' &&
        e.message.startsWith('value for state key "loop" cannot be serialized: Converting circular structure to JSON'),
    );
    assert.equal(state.exists('big'), false);
    assert.equal(state.exists('loop'), false);
    // The key rule is reported first, as for any set.
    expectError(() => state.set('a/b', 10n), 'INVALID_KEY', `invalid state key "a/b": must not contain a path separator ('/' or '\\')`);
  });

  test('a corrupt file is an error naming the key and the file', () => {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'bad.json'), '{"a": [1, 2');
    expectError(
      () => state.get('bad', 'default'),
      'CORRUPT_STATE',
      `state file for key "bad" is corrupt (${dir}/bad.json): EOF while parsing a list at line 1 column 11`,
    );
    assert.equal(state.exists('bad'), true);
  });

  test('a failed write is an IO error', () => {
    const blocker = path.join(tempDir(), 'file');
    fs.writeFileSync(blocker, 'not a directory');
    process.env.STATE_DIR = path.join(blocker, 'state');
    assert.throws(
      () => state.set('k', 1),
      (e: unknown) => e instanceof The0Error && e.status === 'IO',
    );
  });

  test('this process is not in query mode', () => {
    assert.equal(query.isQueryMode(), false);
  });
});

describe('read-only guard', () => {
  test('writes are refused with ReadOnlyStateError when QUERY_PATH is set, reads are allowed', async () => {
    const stateDir = path.join(tempDir(), 'state');
    process.env.STATE_DIR = stateDir;
    state.set('k', 1);
    const out = await runFixture('state-guard.js', { STATE_DIR: stateDir, QUERY_PATH: '/status' });
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(JSON.parse(out.stdout), {
      isQueryMode: true,
      get: 1,
      exists: true,
      list: ['k'],
      set: {
        name: 'ReadOnlyStateError',
        readOnly: true,
        the0: true,
        status: 'READ_ONLY',
        message: 'state is read-only while this process serves queries: set("k") refused',
      },
      remove: {
        name: 'ReadOnlyStateError',
        readOnly: true,
        the0: true,
        status: 'READ_ONLY',
        message: 'state is read-only while this process serves queries: delete("k") refused',
      },
      clear: {
        name: 'ReadOnlyStateError',
        readOnly: true,
        the0: true,
        status: 'READ_ONLY',
        message: 'state is read-only while this process serves queries: clear() refused',
      },
    });
    assert.equal(state.get('k'), 1, 'the value is untouched');
  });

  test('an empty QUERY_PATH is not query mode', async () => {
    const stateDir = path.join(tempDir(), 'state');
    const out = await runFixture('state-guard.js', { STATE_DIR: stateDir, QUERY_PATH: '' });
    assert.equal(out.code, 0, out.stderr);
    const report = JSON.parse(out.stdout) as Record<string, unknown>;
    assert.equal(report.isQueryMode, false);
    assert.equal(report.set, 'written');
  });
});

describe('files are byte-identical to the Rust SDK', () => {
  const values: unknown[] = [
    { symbol: 'BTC/USD', prices: [45000.5, 45100, -0.001, 1e21, 1.5e-7], tags: ['a', 'é', '😀', '\u0000\n"'] },
    [1, 2, 3, [], {}],
    'plain string',
    123456789,
    0.1,
    true,
    null,
    { z: 1, a: 2, m: { y: [null, false] } },
  ];

  test('Node writes the file the Rust SDK writes, and each reads the other', () => {
    const nodeDir = path.join(tempDir(), 'node');
    const rustDir = path.join(tempDir(), 'rust');
    values.forEach((value, i) => {
      const key = `value-${i}`;
      process.env.STATE_DIR = nodeDir;
      state.set(key, value);
      // The Rust SDK gets the same value as pretty-printed text: the core canonicalizes both.
      assert.deepEqual(runRustDriver(['state', 'set', key, JSON.stringify(value, null, 2)], { STATE_DIR: rustDir }), {
        ok: null,
      });
      const nodeBytes = fs.readFileSync(path.join(nodeDir, `${key}.json`));
      const rustBytes = fs.readFileSync(path.join(rustDir, `${key}.json`));
      assert.ok(nodeBytes.equals(rustBytes), `${key}: node ${nodeBytes} != rust ${rustBytes}`);
      // Rust reads what Node wrote, Node reads what Rust wrote.
      assert.deepEqual(runRustDriver(['state', 'get', key], { STATE_DIR: nodeDir }), {
        ok: { found: true, value },
      });
      process.env.STATE_DIR = rustDir;
      assert.deepEqual(state.get(key), value);
    });
    process.env.STATE_DIR = nodeDir;
    assert.deepEqual(runRustDriver(['state', 'list'], { STATE_DIR: nodeDir }), { ok: state.list() });
  });

  test('Rust errors and Node errors are the same', () => {
    const stateDir = path.join(tempDir(), 'state');
    process.env.STATE_DIR = stateDir;
    for (const key of ['', 'a/b', '..', '.x']) {
      const rust = runRustDriver(['state', 'set', key, '1'], { STATE_DIR: stateDir }) as {
        error: { status: string; message: string };
      };
      expectError(() => state.set(key, 1), rust.error.status, rust.error.message);
    }
  });
});
