import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeEach, describe, test } from 'node:test';

import the0, { The0Error, error, log, metric, parse, result, sleep, success } from '@the0/sdk';

import { jsonLines, runFixture, tempDir } from './helpers';

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

let mount: string;

beforeEach(() => {
  mount = path.join(tempDir(), 'bot');
  fs.mkdirSync(mount, { recursive: true });
  process.env.CODE_MOUNT_DIR = mount.replace(/^\//, '');
});

function resultFile(): unknown {
  return JSON.parse(fs.readFileSync(path.join(mount, 'result.json'), 'utf8'));
}

/** Runs `fn` and returns what it wrote to `stream` (synchronously). */
function capture(stream: NodeJS.WriteStream, fn: () => void): string {
  const original = stream.write;
  let text = '';
  stream.write = ((chunk: string | Uint8Array) => {
    text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  }) as typeof stream.write;
  try {
    fn();
  } finally {
    stream.write = original;
  }
  return text;
}

function withoutTimestamp(line: unknown): Record<string, unknown> {
  const copy = { ...(line as Record<string, unknown>) };
  assert.match(String(copy.timestamp), TIMESTAMP);
  delete copy.timestamp;
  return copy;
}

describe('parse', () => {
  test('reads BOT_ID and BOT_CONFIG', () => {
    process.env.BOT_ID = 'bot-1';
    process.env.BOT_CONFIG = '{"symbol": "BTC/USD", "n": 3}';
    const input = parse<{ symbol: string; n: number }>();
    assert.deepEqual(input, { id: 'bot-1', config: { symbol: 'BTC/USD', n: 3 } });
    assert.equal(input.config.n + 1, 4);
  });

  test('an empty config is {}', () => {
    process.env.BOT_ID = 'bot-1';
    process.env.BOT_CONFIG = '';
    assert.deepEqual(parse().config, {});
  });

  test('missing variables and invalid JSON are core errors', () => {
    const cases: Array<[Record<string, string | undefined>, string, string]> = [
      [{ BOT_ID: undefined, BOT_CONFIG: '{}' }, 'MISSING_ENV', 'environment variable BOT_ID is not set'],
      [{ BOT_ID: 'b', BOT_CONFIG: undefined }, 'MISSING_ENV', 'environment variable BOT_CONFIG is not set'],
      [{ BOT_ID: 'b', BOT_CONFIG: 'symbol=BTC' }, 'INVALID_JSON', 'BOT_CONFIG is not valid JSON: expected value at line 1 column 1'],
    ];
    for (const [env, status, message] of cases) {
      for (const [k, v] of Object.entries(env)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      assert.throws(parse, (e: unknown) => e instanceof The0Error && e.status === status && e.message === message);
    }
  });
});

describe('results', () => {
  test('success writes the result file, with optional data', () => {
    success('all "good"\n');
    assert.deepEqual(resultFile(), { status: 'success', message: 'all "good"\n' });
    success('done', { trades: 2 });
    assert.deepEqual(resultFile(), { status: 'success', message: 'done', data: { trades: 2 } });
  });

  test('result writes the value as it is', () => {
    result({ status: 'success', pnl: 1.5, signals: [{ s: 'BTC' }] });
    assert.deepEqual(resultFile(), { status: 'success', pnl: 1.5, signals: [{ s: 'BTC' }] });
    assert.equal(fs.readFileSync(path.join(mount, 'result.json'), 'utf8'), '{"status":"success","pnl":1.5,"signals":[{"s":"BTC"}]}');
  });

  test('error writes the result file and exits 1', async () => {
    const out = await runFixture('input-error.js', { CODE_MOUNT_DIR: mount.replace(/^\//, '') });
    assert.equal(out.code, 1, out.stderr);
    assert.equal(out.stdout, '');
    assert.deepEqual(resultFile(), { status: 'error', message: 'no data', data: { reason: 'feed down' } });
    assert.equal(typeof error, 'function');
  });

  test('a result that cannot be written is logged on stderr by the core, not thrown', async () => {
    const blocker = path.join(mount, 'a-file');
    fs.writeFileSync(blocker, 'not a directory');
    const out = await runFixture('input-success.js', { CODE_MOUNT_DIR: path.join(blocker, 'bot').replace(/^\//, '') });
    assert.equal(out.code, 0, out.stderr);
    assert.equal(out.stdout, 'still running\n');
    const [line] = jsonLines(out.stderr) as Array<Record<string, unknown>>;
    assert.equal(line.level, 'error');
    assert.equal(line.message, `cannot write result file ${blocker}/bot/result.json: Not a directory (os error 20)`);
  });
});

describe('metric and log lines', () => {
  test('metric prints one line on stdout, reserved fields win', () => {
    const out = capture(process.stdout, () => metric('price', { symbol: 'BTC', value: 1.5, _metric: 'x' }));
    assert.ok(out.endsWith('\n'));
    const lines = jsonLines(out);
    assert.equal(lines.length, 1);
    assert.deepEqual(withoutTimestamp(lines[0]), { _metric: 'price', symbol: 'BTC', value: 1.5 });
    assert.ok(out.startsWith('{"_metric":"price","symbol":"BTC","value":1.5,"timestamp":"'), out);
  });

  test('a metric value that is not an object goes under data', () => {
    const out = capture(process.stdout, () => metric('count', 7));
    assert.deepEqual(withoutTimestamp(jsonLines(out)[0]), { _metric: 'count', data: 7 });
  });

  test('log prints one line on stderr with data and level', () => {
    const out = capture(process.stderr, () => log('order "filled"', { id: 7, level: 'bogus' }, 'warn'));
    assert.deepEqual(withoutTimestamp(jsonLines(out)[0]), { level: 'warn', message: 'order "filled"', id: 7 });
  });

  test('log defaults to info and accepts the level as second argument', () => {
    assert.deepEqual(withoutTimestamp(jsonLines(capture(process.stderr, () => log('hello')))[0]), {
      level: 'info',
      message: 'hello',
    });
    assert.deepEqual(withoutTimestamp(jsonLines(capture(process.stderr, () => log('careful', 'warn')))[0]), {
      level: 'warn',
      message: 'careful',
    });
    assert.deepEqual(withoutTimestamp(jsonLines(capture(process.stderr, () => log('bad', {}, 'error')))[0]), {
      level: 'error',
      message: 'bad',
    });
  });

  test('control characters and non-ASCII text are escaped by the core', () => {
    const out = capture(process.stderr, () => log('tab\there é\u0001'));
    assert.ok(out.includes('\\t') && out.includes('\\u0001') && out.includes('é'), out);
    assert.equal((jsonLines(out)[0] as { message: string }).message, 'tab\there é\u0001');
  });

  test('an unknown level is an INVALID_ARGUMENT error', () => {
    assert.throws(
      () => log('m', undefined, 'loud' as 'info'),
      (e: unknown) =>
        e instanceof The0Error &&
        e.status === 'INVALID_ARGUMENT' &&
        e.message === 'unknown log level "loud": expected info, warn or error',
    );
  });
});

describe('sleep and the default export', () => {
  test('sleep resolves after the delay', async () => {
    const start = Date.now();
    await sleep(20);
    assert.ok(Date.now() - start >= 15);
  });

  test('the default export carries every function', () => {
    for (const name of ['parse', 'success', 'error', 'result', 'metric', 'log', 'sleep'] as const) {
      assert.equal(typeof the0[name], 'function', name);
    }
    assert.equal(typeof the0.state.get, 'function');
    assert.equal(typeof the0.query.run, 'function');
  });
});
