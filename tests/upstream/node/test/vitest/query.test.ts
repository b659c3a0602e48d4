// the0 query as an upstream-style vitest suite tests it: registration, getParams and getConfig
// copies, the read-only guard driven by process.env.QUERY_PATH, and the request and handler types.
import { describe, it, expect, beforeEach, afterEach, vi } from 'vitest';
import * as fs from 'fs';

import { query, state } from '@alexanderwanyoike/the0-node';

const originalEnv = { ...process.env };

describe('query module', () => {
  beforeEach(() => {
    // As upstream's own suite does: clear the (private) handler table if there is one.
    // @ts-expect-error - not part of the public API
    query.handlers?.clear?.() || ((query as any).handlers = new Map());
    process.env = { ...originalEnv };
  });
  afterEach(() => {
    process.env = { ...originalEnv };
    vi.restoreAllMocks();
  });

  it('registers handlers without calling them', () => {
    const one = vi.fn().mockReturnValue({ id: 1 });
    const two = vi.fn().mockReturnValue({ id: 2 });
    query.handler('/one', one);
    query.handler('/two', two);
    expect(one).not.toHaveBeenCalled();
    expect(two).not.toHaveBeenCalled();
  });

  it('getParams is empty by default and a copy', () => {
    expect(query.getParams()).toEqual({});
    const params = query.getParams();
    params.added = 'x';
    expect(query.getParams()).not.toHaveProperty('added');
  });

  it('getParams gives QUERY_PARAMS with their types in a query', () => {
    process.env.QUERY_PATH = '/trades';
    process.env.QUERY_PARAMS = '{"limit": 2, "symbol": "ETH"}';
    expect(query.getParams()).toEqual({ limit: 2, symbol: 'ETH' });
  });

  it('getConfig is empty by default and a copy', () => {
    delete process.env.BOT_CONFIG;
    expect(query.getConfig()).toEqual({});
    const config = query.getConfig();
    config.added = 'x';
    expect(query.getConfig()).not.toHaveProperty('added');
  });

  it('ReadOnlyStateError is an Error with its name and message', () => {
    const e = new query.ReadOnlyStateError('no writes in queries');
    expect(e.message).toBe('no writes in queries');
    expect(e.name).toBe('ReadOnlyStateError');
    expect(e).toBeInstanceOf(Error);
  });

  it('isQueryMode follows QUERY_PATH', () => {
    delete process.env.QUERY_PATH;
    expect(query.isQueryMode()).toBe(false);
    process.env.QUERY_PATH = '/holdings';
    expect(query.isQueryMode()).toBe(true);
  });
});

describe('state is read-only in query mode', () => {
  let tempDir: string;

  beforeEach(() => {
    tempDir = fs.mkdtempSync('/tmp/the0-upstream-guard-');
    process.env = { ...originalEnv, STATE_DIR: tempDir };
    state.set('kept', 'yes');
    process.env.QUERY_PATH = '/holdings';
  });
  afterEach(() => {
    process.env = { ...originalEnv };
    fs.rmSync(tempDir, { recursive: true, force: true });
  });

  it('set, remove and clear throw ReadOnlyStateError', () => {
    expect(() => state.set('kept', 'no')).toThrow(state.ReadOnlyStateError);
    expect(() => state.remove('kept')).toThrow(state.ReadOnlyStateError);
    expect(() => state.clear()).toThrow(state.ReadOnlyStateError);
  });

  it('get, list and exists work', () => {
    expect(state.get('kept')).toBe('yes');
    expect(state.get('nothing', 'default')).toBe('default');
    expect(state.list()).toEqual(['kept']);
    expect(state.exists('nothing')).toBe(false);
  });
});

describe('request and handler types', () => {
  it('a QueryRequest is a plain object of upstream shape', () => {
    const req: query.QueryRequest = {
      path: '/trades',
      params: { limit: '2' },
      get: (key: string, defaultValue?: string) => ({ limit: '2' } as Record<string, string>)[key] ?? defaultValue,
    };
    expect(req.get('limit')).toBe('2');
    expect(req.get('missing', 'd')).toBe('d');
  });

  it('handlers may be sync or async', async () => {
    const sync: query.QueryHandler = (req) => ({ value: req.get('key') });
    const later: query.QueryHandler = async (req) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return { value: req.get('key') };
    };
    const req: query.QueryRequest = { path: '/x', params: { key: 'v' }, get: (k) => ({ key: 'v' } as Record<string, string>)[k] };
    expect(sync(req)).toEqual({ value: 'v' });
    expect(await later(req)).toEqual({ value: 'v' });
  });
});
