// The grid bot and its queries, as their author's jest suite tests them.
const fs = require('fs');
const path = require('path');

const { main } = require('../../main');
const queries = require('../../query');

const originalEnv = process.env;
let dir;

beforeEach(() => {
  dir = fs.mkdtempSync('/tmp/the0-upstream-jest-bot-');
  fs.mkdirSync(path.join(dir, 'bot'));
  process.env = { ...originalEnv, STATE_DIR: path.join(dir, 'state'), CODE_MOUNT_DIR: path.join(dir, 'bot') };
  delete process.env.QUERY_PATH;
  jest.spyOn(console, 'log').mockImplementation(() => {});
  jest.spyOn(console, 'error').mockImplementation(() => {});
});
afterEach(() => {
  process.env = originalEnv;
  jest.restoreAllMocks();
  fs.rmSync(dir, { recursive: true, force: true });
});

const result = () => JSON.parse(fs.readFileSync(path.join(dir, 'bot', 'result.json'), 'utf-8'));
const request = (params) => ({ path: '/x', params, get: (k, d) => (k in params ? params[k] : d) });

test('a fall buys, a rise sells; the queries see it', async () => {
  await main('grid-1', { symbol: 'ETH', price: 100 });
  await main('grid-1', { symbol: 'ETH', price: 93 });
  expect(result()).toEqual({ status: 'success', message: 'buy ETH', data: { level: 0, holdings: 1 } });
  expect(queries.holdings(request({}))).toEqual({ holdings: 1, level: 0 });
  expect(JSON.parse(console.log.mock.calls[1][0])).toMatchObject({ _metric: 'grid', action: 'buy' });
  expect(JSON.parse(console.error.mock.calls[1][0])).toMatchObject({ level: 'info', holdings: 1 });
  await main('grid-1', { symbol: 'ETH', price: 108 });
  expect(result().message).toBe('sell ETH');
  expect((await queries.trades(request({ limit: 1 }))).trades).toEqual([{ action: 'sell', price: 108 }]);
});
