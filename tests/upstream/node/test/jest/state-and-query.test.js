// state and query as a jest suite written for upstream's SDK tests them.
const fs = require('fs');

const { state, query } = require('@alexanderwanyoike/the0-node');

const originalEnv = process.env;
let tempDir;

beforeEach(() => {
  tempDir = fs.mkdtempSync('/tmp/the0-upstream-jest-state-');
  process.env = { ...originalEnv, STATE_DIR: tempDir };
  delete process.env.QUERY_PATH;
});
afterEach(() => {
  process.env = originalEnv;
  fs.rmSync(tempDir, { recursive: true, force: true });
});

test('state round trip, list, remove, clear', () => {
  state.set('book', { ETH: 2 });
  state.set('n', 1);
  expect(state.get('book')).toEqual({ ETH: 2 });
  expect(state.get('missing', 'd')).toBe('d');
  expect(state.list().sort()).toEqual(['book', 'n']);
  expect(state.remove('n')).toBe(true);
  state.clear();
  expect(state.list()).toEqual([]);
});

test('bad keys', () => {
  expect(() => state.get('')).toThrow('empty');
  expect(() => state.set('../x', 1)).toThrow('path');
  expect(() => state.set('..', 1)).toThrow('path');
});

test('query mode makes state read-only', () => {
  state.set('kept', 1);
  process.env.QUERY_PATH = '/holdings';
  expect(query.isQueryMode()).toBe(true);
  expect(() => state.set('kept', 2)).toThrow(state.ReadOnlyStateError);
  expect(() => state.remove('kept')).toThrow(state.ReadOnlyStateError);
  expect(() => state.clear()).toThrow(state.ReadOnlyStateError);
  expect(state.get('kept')).toBe(1);
});

test('getParams and getConfig', () => {
  expect(query.getParams()).toEqual({});
  process.env.QUERY_PATH = '/trades';
  process.env.QUERY_PARAMS = '{"limit": 3}';
  expect(query.getParams()).toEqual({ limit: 3 });
  process.env.BOT_CONFIG = '{"symbol": "ETH"}';
  expect(query.getConfig()).toEqual({ symbol: 'ETH' });
});

test('handlers register without being called; ReadOnlyStateError', () => {
  const fn = jest.fn(() => ({}));
  query.handler('/jest', fn);
  expect(fn).not.toHaveBeenCalled();
  const e = new query.ReadOnlyStateError('x');
  expect(e).toBeInstanceOf(Error);
  expect(e.name).toBe('ReadOnlyStateError');
});
