// parse, success, error, result, metric and log, as a jest suite written for upstream's SDK tests
// them: jest gives each file its own `process.env` copy and `console`; the SDK must use those.
const fs = require('fs');
const path = require('path');

const { parse, success, error, result, metric, log } = require('@alexanderwanyoike/the0-node');

const originalEnv = process.env;

describe('parse', () => {
  beforeEach(() => {
    process.env = { ...originalEnv };
  });
  afterEach(() => {
    process.env = originalEnv;
  });

  test('returns the id and the config', () => {
    process.env.BOT_ID = 'grid-9';
    process.env.BOT_CONFIG = '{"symbol": "SOL", "levels": 8}';
    expect(parse()).toEqual({ id: 'grid-9', config: { symbol: 'SOL', levels: 8 } });
  });

  test('throws naming what is missing or wrong', () => {
    delete process.env.BOT_ID;
    process.env.BOT_CONFIG = '{}';
    expect(() => parse()).toThrow('BOT_ID');
    process.env.BOT_ID = 'grid-9';
    delete process.env.BOT_CONFIG;
    expect(() => parse()).toThrow('BOT_CONFIG');
    process.env.BOT_CONFIG = 'nope';
    expect(() => parse()).toThrow('JSON');
  });
});

describe('result file', () => {
  let tempDir;
  const originalExit = process.exit;

  beforeEach(() => {
    tempDir = fs.mkdtempSync('/tmp/the0-upstream-jest-');
    process.env = { ...originalEnv, CODE_MOUNT_DIR: tempDir };
    process.exit = jest.fn();
  });
  afterEach(() => {
    process.env = originalEnv;
    process.exit = originalExit;
    fs.rmSync(tempDir, { recursive: true, force: true });
  });

  const read = () => JSON.parse(fs.readFileSync(path.join('/', tempDir, 'result.json'), 'utf-8'));

  test('success', () => {
    success('done', { n: 1 });
    expect(read()).toEqual({ status: 'success', message: 'done', data: { n: 1 } });
  });

  test('error exits with code 1 after writing', () => {
    error('failed');
    expect(process.exit).toHaveBeenCalledWith(1);
    expect(read()).toEqual({ status: 'error', message: 'failed' });
  });

  test('result', () => {
    result({ status: 'success', trades: 3 });
    expect(read()).toEqual({ status: 'success', trades: 3 });
  });
});

describe('metric and log', () => {
  afterEach(() => jest.restoreAllMocks());

  test('metric goes through console.log', () => {
    const out = jest.spyOn(console, 'log').mockImplementation(() => {});
    metric('fill', { qty: 2 });
    expect(out).toHaveBeenCalledTimes(1);
    const line = JSON.parse(out.mock.calls[0][0]);
    expect(line).toMatchObject({ _metric: 'fill', qty: 2 });
    expect(new Date(line.timestamp).toISOString()).toBe(line.timestamp);
  });

  test('log goes through console.error', () => {
    const err = jest.spyOn(console, 'error').mockImplementation(() => {});
    log('order placed', { orderId: 'o-2' }, 'warn');
    expect(JSON.parse(err.mock.calls[0][0])).toMatchObject({ level: 'warn', message: 'order placed', orderId: 'o-2' });
  });
});
