// parse, success, error, result, metric and log as an upstream-style vitest suite tests them:
// process.env replaced per test, process.exit mocked, console spied on.
import { describe, it, expect, vi, beforeEach, afterEach } from 'vitest';
import * as fs from 'fs';
import * as path from 'path';
import { isMainThread } from 'worker_threads';

import { parse, success, error, result, metric, log } from '@alexanderwanyoike/the0-node';

const originalEnv = process.env;

it('runs in a worker thread, as vitest 1 runs test files by default (its threads pool)', () => {
  expect(isMainThread).toBe(false);
});

describe('parse', () => {
  beforeEach(() => {
    process.env = { ...originalEnv };
  });
  afterEach(() => {
    process.env = originalEnv;
  });

  it('returns the id and the typed config', () => {
    process.env.BOT_ID = 'grid-1';
    process.env.BOT_CONFIG = JSON.stringify({ symbol: 'ETH/USD', price: 101.5, levels: 4 });
    const { id, config } = parse<{ symbol: string; price: number; levels: number }>();
    expect(id).toBe('grid-1');
    expect(config.symbol).toBe('ETH/USD');
    expect(config.price).toBe(101.5);
    expect(config.levels).toBe(4);
  });

  it('throws naming BOT_ID when it is missing', () => {
    delete process.env.BOT_ID;
    process.env.BOT_CONFIG = '{}';
    expect(() => parse()).toThrow('BOT_ID');
  });

  it('throws naming BOT_CONFIG when it is missing', () => {
    process.env.BOT_ID = 'grid-1';
    delete process.env.BOT_CONFIG;
    expect(() => parse()).toThrow('BOT_CONFIG');
  });

  it('throws on a config that is not JSON', () => {
    process.env.BOT_ID = 'grid-1';
    process.env.BOT_CONFIG = '{symbol: ETH}';
    expect(() => parse()).toThrow('JSON');
  });
});

describe('result file', () => {
  let tempDir: string;
  const originalExit = process.exit;

  beforeEach(() => {
    tempDir = fs.mkdtempSync('/tmp/the0-upstream-vitest-');
    process.env = { ...originalEnv, CODE_MOUNT_DIR: tempDir };
    process.exit = vi.fn() as never;
  });
  afterEach(() => {
    process.env = originalEnv;
    process.exit = originalExit;
    fs.rmSync(tempDir, { recursive: true, force: true });
  });

  const read = () => JSON.parse(fs.readFileSync(path.join('/', tempDir, 'result.json'), 'utf-8'));

  it('success writes status, message and data', () => {
    success('filled', { orderId: 'o-7', qty: 0.5 });
    expect(read()).toEqual({ status: 'success', message: 'filled', data: { orderId: 'o-7', qty: 0.5 } });
  });

  it('error writes the result and exits with code 1', () => {
    error('exchange down', { retryIn: 30 });
    expect(process.exit).toHaveBeenCalledWith(1);
    expect(read()).toEqual({ status: 'error', message: 'exchange down', data: { retryIn: 30 } });
  });

  it('result writes the object as it is', () => {
    result({ status: 'success', signals: [{ symbol: 'ETH', direction: 'long' }], note: 'é\n' });
    expect(read().signals[0].direction).toBe('long');
    expect(read().note).toBe('é\n');
  });
});

describe('metric and log', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('metric prints one JSON line with console.log and an ISO timestamp', () => {
    const out = vi.spyOn(console, 'log').mockImplementation(() => {});
    metric('price', { symbol: 'ETH', value: 2012.5 });
    expect(out).toHaveBeenCalledTimes(1);
    const line = JSON.parse(out.mock.calls[0][0]);
    expect(line._metric).toBe('price');
    expect(line.value).toBe(2012.5);
    expect(new Date(line.timestamp).toISOString()).toBe(line.timestamp);
  });

  it('log prints one JSON line with console.error, with level and data', () => {
    const err = vi.spyOn(console, 'error').mockImplementation(() => {});
    log('starting');
    log('slow fill', 'warn');
    log('order', { orderId: 'o-1' }, 'error');
    const [first, second, third] = err.mock.calls.map((call) => JSON.parse(call[0]));
    expect([first.level, first.message]).toEqual(['info', 'starting']);
    expect(second.level).toBe('warn');
    expect([third.level, third.orderId]).toEqual(['error', 'o-1']);
  });
});
