// The two things the host owns, tried as a bot author's vitest suite does: this file runs in a
// worker thread (`--pool=threads`), whose `process.env` is its own copy, and spies on `console`.
// The SDK must read this thread's `process.env` at every call and print through `console`.
// Run by scripts/test-vitest.sh with vitest's globals (`test`, `expect`, `vi`).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isMainThread } from 'node:worker_threads';

import { createRequire } from 'node:module';

// Loaded as Node loads a dependency (vitest leaves node_modules to Node): the CommonJS build.
const sdk = createRequire(import.meta.url)('../dist/index.js') as typeof import('../dist/index');
const { log, metric, parse, query, state, success } = sdk;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'the0-vitest-'));

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

test('this file runs in a worker thread, as vitest runs it by default with --pool=threads', () => {
  expect(isMainThread).toBe(false);
});

test('state follows process.env.STATE_DIR set in this worker, at every call', () => {
  process.env.STATE_DIR = path.join(dir, 'a');
  state.set('k', { n: 1 });
  expect(fs.readFileSync(path.join(dir, 'a', 'k.json'), 'utf8')).toBe('{"n":1}');
  process.env.STATE_DIR = path.join(dir, 'b');
  expect(state.get('k')).toBeUndefined();
  expect(state.list()).toEqual([]);
  process.env.STATE_DIR = path.join(dir, 'a');
  expect(state.get('k')).toEqual({ n: 1 });
});

test('parse and getConfig read BOT_ID and BOT_CONFIG from this worker', () => {
  process.env.BOT_ID = 'bot-in-a-worker';
  process.env.BOT_CONFIG = '{"symbol":"ETH"}';
  expect(parse()).toEqual({ id: 'bot-in-a-worker', config: { symbol: 'ETH' } });
  expect(query.getConfig()).toEqual({ symbol: 'ETH' });
});

test('QUERY_PATH set in this worker makes state read-only', () => {
  process.env.STATE_DIR = path.join(dir, 'guard');
  state.set('k', 1);
  process.env.QUERY_PATH = '/status';
  try {
    expect(query.isQueryMode()).toBe(true);
    expect(() => state.set('k', 2)).toThrow('state is read-only while this process serves queries: set("k") refused');
  } finally {
    delete process.env.QUERY_PATH;
  }
  expect(query.isQueryMode()).toBe(false);
  state.set('k', 3);
});

test('success writes the result file under CODE_MOUNT_DIR from this worker', () => {
  process.env.CODE_MOUNT_DIR = path.join(dir, 'bot');
  success('done', { n: 2 });
  expect(JSON.parse(fs.readFileSync(path.join(dir, 'bot', 'result.json'), 'utf8'))).toEqual({
    status: 'success',
    message: 'done',
    data: { n: 2 },
  });
});

test('metric lines go through console.log and log lines through console.error', () => {
  const out = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
  metric('trade', { qty: 1 });
  log('hello', { n: 1 }, 'warn');
  expect(out).toHaveBeenCalledTimes(1);
  const line = JSON.parse(out.mock.calls[0][0] as string);
  expect(line).toMatchObject({ _metric: 'trade', qty: 1 });
  expect(err).toHaveBeenCalledTimes(1);
  expect(JSON.parse(err.mock.calls[0][0] as string)).toMatchObject({ level: 'warn', message: 'hello', n: 1 });
});

test('a result file that cannot be written is reported through console.error', () => {
  const blocker = path.join(dir, 'file');
  fs.writeFileSync(blocker, 'x');
  process.env.CODE_MOUNT_DIR = path.join(blocker, 'bot');
  const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
  success('done');
  expect(err).toHaveBeenCalledTimes(1);
  expect(JSON.parse(err.mock.calls[0][0] as string).message).toMatch(/^cannot write result file /);
});

test('an info run in this worker follows its process.env and prints nothing', async () => {
  const result = path.join(dir, 'query', 'result.json');
  process.env.THE0_QUERY_RESULT_FILE = result;
  delete process.env.BOT_TYPE;
  query.handler('/vitest', () => 1);
  const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
  await query.run();
  expect(err).not.toHaveBeenCalled();
  expect(JSON.parse(fs.readFileSync(result, 'utf8'))).toEqual({
    status: 'ok',
    data: { available_queries: ['/health', '/info', '/vitest'] },
  });
});
