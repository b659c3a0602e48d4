// the0 state as an upstream-style vitest suite tests it: STATE_DIR in a replaced process.env.
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import * as fs from 'fs';

import { state } from '@alexanderwanyoike/the0-node';

describe('state', () => {
  const originalEnv = process.env;
  let tempDir: string;

  beforeEach(() => {
    tempDir = fs.mkdtempSync('/tmp/the0-upstream-state-');
    process.env = { ...originalEnv, STATE_DIR: tempDir };
  });
  afterEach(() => {
    process.env = originalEnv;
    fs.rmSync(tempDir, { recursive: true, force: true });
  });

  it('round-trips every JSON type', () => {
    const values: Record<string, unknown> = {
      dict: { ETH: 2, BTC: 0.5 },
      list: [1.5, 2],
      num: 7,
      str: 'ETH/USD',
      bool: false,
      nil: null,
      nested: { a: [{ b: { c: [1, 'x'] } }] },
    };
    for (const [key, value] of Object.entries(values)) {
      state.set(key, value);
      expect(state.get(key)).toEqual(value);
    }
  });

  it('gives the default, or undefined, for a missing key', () => {
    expect(state.get('nothing')).toBeUndefined();
    expect(state.get('nothing', { empty: true })).toEqual({ empty: true });
    state.set('zero', 0);
    expect(state.get('zero', 99)).toBe(0);
  });

  it('exists, remove (also as delete), list, clear', () => {
    state.set('a', 1);
    state.set('b', 2);
    expect(state.exists('a')).toBe(true);
    expect(state.list().sort()).toEqual(['a', 'b']);
    expect(state.remove('a')).toBe(true);
    expect(state.remove('a')).toBe(false);
    expect(state.delete('b')).toBe(true);
    state.set('c', 3);
    state.clear();
    expect(state.list()).toEqual([]);
    expect(() => state.clear()).not.toThrow();
  });

  it('stores one JSON file per key', () => {
    state.set('portfolio', { ETH: 1 });
    expect(JSON.parse(fs.readFileSync(`${tempDir}/portfolio.json`, 'utf-8'))).toEqual({ ETH: 1 });
  });

  it('refuses an empty key', () => {
    expect(() => state.get('')).toThrow('empty');
  });

  it('refuses keys that are paths', () => {
    expect(() => state.set('../escape', 'evil')).toThrow('path');
    expect(() => state.set('..\\escape', 'evil')).toThrow('path');
    expect(() => state.set('a/b', 'evil')).toThrow('path');
    expect(() => state.set('..', 'evil')).toThrow('path');
    expect(fs.readdirSync(tempDir)).toEqual([]);
  });

  it('supports typed generics', () => {
    interface Book {
      holdings: { symbol: string; qty: number }[];
    }
    state.set<Book>('book', { holdings: [{ symbol: 'ETH', qty: 2 }] });
    expect(state.get<Book>('book')?.holdings[0].qty).toBe(2);
  });
});
