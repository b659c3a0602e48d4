// The grid bot (main.js) and its queries (query.js), as its author's vitest suite tests them:
// main(botId, config) in-process, handlers called with a request of the test's own, and one
// ephemeral query run the way the platform runs it (a child process with QUERY_PATH).
import { describe, it, expect, vi, beforeEach, afterEach } from 'vitest';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

import { query } from '@alexanderwanyoike/the0-node';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { main, levelOf } = require('../../main.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const queries = require('../../query.js');

const originalEnv = process.env;
const root = path.resolve(__dirname, '..', '..');

function request(params: Record<string, unknown>): query.QueryRequest {
  return { path: '/test', params, get: (key: string, fallback?: unknown) => (key in params ? params[key] : fallback) };
}

describe('grid bot', () => {
  let dir: string;

  beforeEach(() => {
    dir = fs.mkdtempSync('/tmp/the0-upstream-bot-');
    fs.mkdirSync(path.join(dir, 'bot'));
    process.env = { ...originalEnv, STATE_DIR: path.join(dir, 'state'), CODE_MOUNT_DIR: path.join(dir, 'bot') };
    delete process.env.QUERY_PATH;
    vi.spyOn(console, 'log').mockImplementation(() => {});
    vi.spyOn(console, 'error').mockImplementation(() => {});
  });
  afterEach(() => {
    process.env = originalEnv;
    vi.restoreAllMocks();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const result = () => JSON.parse(fs.readFileSync(path.join(dir, 'bot', 'result.json'), 'utf-8'));

  it('maps prices to levels', () => {
    expect([80, 90, 95, 104.9, 110, 200].map((p) => levelOf(p, 90, 110, 4))).toEqual([0, 0, 1, 2, 4, 4]);
  });

  it('buys when the price falls a level and sells when it rises', async () => {
    await main('grid-1', { symbol: 'ETH', price: 100 });
    expect(result()).toEqual({ status: 'success', message: 'hold ETH', data: { level: 2, holdings: 0 } });
    await main('grid-1', { symbol: 'ETH', price: 93 });
    expect(result().message).toBe('buy ETH');
    await main('grid-1', { symbol: 'ETH', price: 108 });
    expect(result()).toEqual({ status: 'success', message: 'sell ETH', data: { level: 3, holdings: 0 } });
    const metric = JSON.parse((console.log as unknown as ReturnType<typeof vi.fn>).mock.calls[2][0]);
    expect(metric).toMatchObject({ _metric: 'grid', action: 'sell', level: 3 });
  });

  it('reports a config without a price and exits 1', async () => {
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    await main('grid-1', { symbol: 'ETH' });
    expect(exit).toHaveBeenCalledWith(1);
    expect(result()).toEqual({ status: 'error', message: 'config.price must be a number', data: { got: null } });
  });

  it('answers queries from its state', async () => {
    for (const price of [100, 93, 91]) await main('grid-1', { symbol: 'ETH', price });
    expect(queries.holdings(request({}))).toEqual({ holdings: 1, level: 0 });
    process.env.BOT_CONFIG = '{"symbol": "ETH"}';
    expect(await queries.trades(request({ limit: 2 }))).toEqual({
      trades: [
        { action: 'buy', price: 93 },
        { action: 'hold', price: 91 },
      ],
      limit: 2,
      symbol: 'ETH',
    });
  });

  it('answers one ephemeral query in a child process, as the platform runs it', async () => {
    await main('grid-1', { symbol: 'ETH', price: 100 });
    await main('grid-1', { symbol: 'ETH', price: 93 });
    const out = path.join(dir, 'query', 'result.json');
    const run = (queryPath: string) =>
      spawnSync(process.execPath, [path.join(root, 'query.js')], {
        env: { ...process.env, QUERY_PATH: queryPath, QUERY_PARAMS: '{"limit": 1}', THE0_QUERY_RESULT_FILE: out },
        encoding: 'utf-8',
      });
    expect(run('/trades').status).toBe(0);
    expect(JSON.parse(fs.readFileSync(out, 'utf-8'))).toEqual({
      status: 'ok',
      data: { trades: [{ action: 'buy', price: 93 }], limit: 1 },
    });
    expect(run('/params').status).toBe(0);
    expect(JSON.parse(fs.readFileSync(out, 'utf-8')).data).toEqual({ limit: 1 });
    const refused = run('/reset');
    expect(refused.status).toBe(1);
    expect(JSON.parse(fs.readFileSync(out, 'utf-8')).error).toContain('read-only');
  });
});
