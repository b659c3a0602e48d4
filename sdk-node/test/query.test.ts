import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { The0Error, query } from '@the0/sdk';

import { jsonLines, request, runFixture, startServer, tempDir, type Outcome, type Server } from './helpers';

/** What the fixture's `/write` handler reports when its `state.set("k", ...)` is refused. */
const WRITE_REFUSED = {
  written: false,
  name: 'ReadOnlyStateError',
  status: 'READ_ONLY',
  message: 'state is read-only while this process serves queries: set("k") refused',
};

const ALL_PATHS = [
  '/async',
  '/bigint',
  '/config',
  '/echo',
  '/gate',
  '/health',
  '/info',
  '/inside',
  '/mode',
  '/never',
  '/no-slash',
  '/open',
  '/reject',
  '/reject-string',
  '/sleep',
  '/state',
  '/throw',
  '/undefined',
  '/write',
];

function stderrLines(out: Outcome): Array<Record<string, unknown>> {
  return jsonLines(out.stderr) as Array<Record<string, unknown>>;
}

/** Polls the fixture's `/inside` until `field` reaches 1: the request is inside its handler. */
async function untilInside(port: number, field: 'waiting' | 'sleeping'): Promise<void> {
  for (;;) {
    const r = await request(port, 'GET', '/inside');
    if ((r.body as { data: Record<string, number> }).data[field] >= 1) return;
  }
}

function ranToTheEnd(out: Outcome): boolean {
  return stderrLines(out).some((l) => l.fixture === 'run returned');
}

interface Ephemeral {
  out: Outcome;
  result: unknown;
}

async function ephemeral(env: Record<string, string>): Promise<Ephemeral> {
  const dir = tempDir();
  const resultFile = path.join(dir, 'query', 'result.json');
  const out = await runFixture('query-bot.js', {
    STATE_DIR: path.join(dir, 'state'),
    THE0_QUERY_RESULT_FILE: resultFile,
    ...env,
  });
  assert.equal(out.hung, false, 'the process did not exit by itself');
  assert.equal(out.stdout, '', 'nothing is printed on stdout');
  return { out, result: JSON.parse(fs.readFileSync(resultFile, 'utf8')) };
}

describe('ephemeral mode (child processes)', () => {
  test('a handler answer, with typed params and string forms; run() resolves and the process exits', async () => {
    const { out, result } = await ephemeral({
      QUERY_PATH: '/echo',
      QUERY_PARAMS: '{"limit": 5, "symbol": "ETH", "live": true, "tags": ["a", 1]}',
    });
    assert.equal(out.code, 0, out.stderr);
    assert.deepEqual(result, {
      status: 'ok',
      data: {
        path: '/echo',
        params: { limit: 5, symbol: 'ETH', live: true, tags: ['a', 1] },
        strings: { limit: '5', symbol: 'ETH', live: 'true', tags: '["a",1]' },
        typed: { limit: 5, symbol: 'ETH', live: true, tags: ['a', 1] },
        missing: 'fallback',
        missingString: 'fallback',
        undefinedMissing: true,
      },
    });
    assert.ok(ranToTheEnd(out), out.stderr);
  });

  test('an async handler sees its params through getParams before and after await', async () => {
    const { out, result } = await ephemeral({ QUERY_PATH: '/async', QUERY_PARAMS: '{"i": 7, "ms": 20}' });
    assert.equal(out.code, 0, out.stderr);
    const strings = { i: '7', ms: '20' };
    assert.deepEqual(result, {
      status: 'ok',
      data: { i: 7, before: { i: 7, ms: 20 }, after: { i: 7, ms: 20 }, beforeStrings: strings, afterStrings: strings },
    });
  });

  test('a handler that throws or rejects exits 1 with its message', async () => {
    for (const [p, message] of [
      ['/throw', 'sync boom'],
      ['/reject', 'async boom'],
      ['/reject-string', 'plain string'],
    ]) {
      const { out, result } = await ephemeral({ QUERY_PATH: p });
      assert.equal(out.code, 1, `${p}: ${out.stderr}`);
      assert.deepEqual(result, { status: 'error', error: message }, p);
      assert.equal(ranToTheEnd(out), false, `${p}: the process exits 1 inside run()`);
    }
  });

  test('an unknown path exits 1 and lists what is available', async () => {
    const { out, result } = await ephemeral({ QUERY_PATH: '/missing' });
    assert.equal(out.code, 1);
    assert.deepEqual(result, { status: 'error', error: 'No handler for path: /missing', available: ALL_PATHS });
  });

  test('a handler over the timeout is answered 504 and the process exits 1', async () => {
    const { out, result } = await ephemeral({
      QUERY_PATH: '/sleep',
      QUERY_PARAMS: '{"ms": 20000}',
      THE0_QUERY_TIMEOUT_MS: '200',
    });
    assert.equal(out.code, 1, out.stderr);
    assert.deepEqual(result, { status: 'error', error: 'handler for /sleep timed out after 200 ms' });
  });

  test('a handler that never settles, holding nothing, still gets its 504 answer and exit 1', async () => {
    const { out, result } = await ephemeral({ QUERY_PATH: '/never', THE0_QUERY_TIMEOUT_MS: '300' });
    assert.equal(out.code, 1, out.stderr);
    assert.deepEqual(result, { status: 'error', error: 'handler for /never timed out after 300 ms' });
  });

  test('undefined is answered as null; a value JSON cannot hold is a handler error', async () => {
    const undef = await ephemeral({ QUERY_PATH: '/undefined' });
    assert.deepEqual(undef.result, { status: 'ok', data: null });
    const big = await ephemeral({ QUERY_PATH: '/bigint' });
    assert.equal(big.out.code, 1);
    assert.deepEqual(big.result, {
      status: 'error',
      error: 'handler result cannot be serialized: Do not know how to serialize a BigInt',
    });
  });

  test('state is read-only in ephemeral mode', async () => {
    const { result } = await ephemeral({ QUERY_PATH: '/write' });
    assert.deepEqual(result, { status: 'ok', data: WRITE_REFUSED });
  });

  test('a path registered without its slash gets one', async () => {
    const { result } = await ephemeral({ QUERY_PATH: '/no-slash' });
    assert.deepEqual(result, { status: 'ok', data: 'slash added' });
  });
});

describe('info mode (child processes)', () => {
  const envs: Array<Record<string, string>> = [{}, { BOT_TYPE: 'scheduled' }, { QUERY_PATH: '' }];
  for (const env of envs) {
    test(`writes the /info answer with ${JSON.stringify(env)}`, async () => {
      const { out, result } = await ephemeral(env);
      assert.equal(out.code, 0, out.stderr);
      assert.deepEqual(result, { status: 'ok', data: { available_queries: ALL_PATHS } });
      assert.ok(ranToTheEnd(out));
    });
  }
});

describe('server mode over HTTP', () => {
  let server: Server;
  let stateDir: string;

  before(async () => {
    stateDir = path.join(tempDir(), 'state');
    fs.mkdirSync(stateDir, { recursive: true });
    fs.writeFileSync(path.join(stateDir, 'k.json'), '"seeded"');
    server = await startServer('query-bot.js', {
      STATE_DIR: stateDir,
      BOT_CONFIG: '{"symbol":"BTC/USD","fast":5}',
      THE0_QUERY_TIMEOUT_MS: '5000',
    });
  });

  after(() => {
    server.child.kill('SIGKILL');
  });

  test('built-ins, 404 and envelopes', async () => {
    assert.deepEqual(await request(server.port, 'GET', '/health'), {
      status: 200,
      contentType: 'application/json',
      body: { status: 'ok', data: { status: 'ok' } },
    });
    const info = await request(server.port, 'GET', '/info');
    assert.deepEqual(info.body, { status: 'ok', data: { available_queries: ALL_PATHS } });
    const missing = await request(server.port, 'GET', '/missing');
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.body, { status: 'error', error: 'No handler for path: /missing', available: ALL_PATHS });
  });

  test('query-string params are strings, body params keep their JSON types', async () => {
    const r = await request(server.port, 'POST', '/echo?symbol=BTC%2FUSD&limit=1', '{"limit": 5, "px": 1.5, "none": null}');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, {
      status: 'ok',
      data: {
        path: '/echo',
        params: { symbol: 'BTC/USD', limit: 5, px: 1.5, none: null },
        strings: { symbol: 'BTC/USD', limit: '5', px: '1.5', none: 'null' },
        typed: { symbol: 'BTC/USD', limit: 5, px: 1.5, none: null },
        missing: 'fallback',
        missingString: 'fallback',
        undefinedMissing: true,
      },
    });
  });

  test('100 concurrent requests to async handlers each get their own answer', async () => {
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) => {
        const ms = (i * 7) % 40;
        return i % 2 === 0
          ? request(server.port, 'GET', `/async?i=${i}&ms=${ms}`)
          : request(server.port, 'POST', '/async', JSON.stringify({ i, ms }));
      }),
    );
    answers.forEach((r, i) => {
      const ms = (i * 7) % 40;
      const strings = { i: String(i), ms: String(ms) };
      const params = i % 2 === 0 ? strings : { i, ms };
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.deepEqual(r.body, {
        status: 'ok',
        data: { i: params.i, before: params, after: params, beforeStrings: strings, afterStrings: strings },
      });
    });
  });

  test('async handlers interleave: a waiting handler does not hold up the others', async () => {
    const waiting = request(server.port, 'GET', '/gate');
    await untilInside(server.port, 'waiting');
    const opener = await request(server.port, 'GET', '/open');
    assert.deepEqual(opener.body, { status: 'ok', data: { opened: 1 } });
    const gate = await waiting;
    assert.equal(gate.status, 200, JSON.stringify(gate.body));
    assert.deepEqual(gate.body, { status: 'ok', data: { opened: 1 } });
  });

  test('a handler that throws or rejects is a 500, and the server keeps serving', async () => {
    for (const [p, message] of [
      ['/throw', 'sync boom'],
      ['/reject', 'async boom'],
      ['/reject-string', 'plain string'],
      ['/bigint', 'handler result cannot be serialized: Do not know how to serialize a BigInt'],
    ]) {
      const r = await request(server.port, 'GET', p);
      assert.equal(r.status, 500, p);
      assert.deepEqual(r.body, { status: 'error', error: message });
      assert.equal((await request(server.port, 'GET', '/health')).status, 200);
    }
    assert.deepEqual((await request(server.port, 'GET', '/undefined')).body, { status: 'ok', data: null });
  });

  test('a handler over the timeout is a 504, and the server keeps serving', async () => {
    const slow = await request(server.port, 'GET', '/sleep?ms=8000');
    assert.equal(slow.status, 504);
    assert.deepEqual(slow.body, { status: 'error', error: 'handler for /sleep timed out after 5000 ms' });
    assert.equal((await request(server.port, 'GET', '/echo')).status, 200);
  });

  test('state is readable and read-only while serving', async () => {
    assert.deepEqual((await request(server.port, 'GET', '/state?key=k')).body, { status: 'ok', data: { value: 'seeded' } });
    assert.deepEqual((await request(server.port, 'GET', '/write')).body, { status: 'ok', data: WRITE_REFUSED });
    assert.deepEqual((await request(server.port, 'GET', '/mode')).body, { status: 'ok', data: { isQueryMode: true } });
    assert.equal(fs.readFileSync(path.join(stateDir, 'k.json'), 'utf8'), '"seeded"');
  });

  test('config comes from BOT_CONFIG', async () => {
    assert.deepEqual((await request(server.port, 'GET', '/config')).body, {
      status: 'ok',
      data: { symbol: 'BTC/USD', fast: 5 },
    });
  });
});

describe('server lifecycle (child processes)', () => {
  test('SIGTERM stops the server: run() resolves and the process exits 0 by itself', async () => {
    const server = await startServer('query-bot.js', { STATE_DIR: tempDir() });
    assert.equal((await request(server.port, 'GET', '/echo')).status, 200);
    server.child.kill('SIGTERM');
    const out = await server.exited;
    assert.equal(out.hung, false, 'the process did not exit after SIGTERM');
    assert.equal(out.signal, null);
    assert.equal(out.code, 0, out.stderr);
    const lines = stderrLines(out);
    assert.ok(
      lines.some((l) => l.level === 'info' && String(l.message).startsWith('Query server started on 127.0.0.1:')),
      out.stderr,
    );
    assert.ok(ranToTheEnd(out), out.stderr);
    assert.ok(
      !lines.some((l) => l.level === 'warn'),
      `the SDK had to force the exit: something stayed referenced\n${out.stderr}`,
    );
  });

  test('SIGINT stops the server too', async () => {
    const server = await startServer('query-bot.js', { STATE_DIR: tempDir() });
    server.child.kill('SIGINT');
    const out = await server.exited;
    assert.equal(out.hung, false);
    assert.equal(out.code, 0, out.stderr);
    assert.ok(ranToTheEnd(out));
  });

  test('requests in flight at SIGTERM still get their answer', async () => {
    const server = await startServer('query-bot.js', { STATE_DIR: tempDir() });
    const inFlight = request(server.port, 'GET', '/sleep?ms=300');
    await untilInside(server.port, 'sleeping');
    server.child.kill('SIGTERM');
    const r = await inFlight;
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { status: 'ok', data: { slept: true } });
    const out = await server.exited;
    assert.equal(out.code, 0, out.stderr);
  });

  test('when user code keeps the event loop busy, a SIGTERM still ends the process with 0', async () => {
    const server = await startServer('query-bot.js', { STATE_DIR: tempDir() }, ['--linger']);
    server.child.kill('SIGTERM');
    const out = await server.exited;
    assert.equal(out.hung, false);
    assert.equal(out.code, 0, out.stderr);
    assert.ok(ranToTheEnd(out));
    assert.ok(
      stderrLines(out).some(
        (l) => l.level === 'warn' && l.message === 'query server stopped by a signal; exiting although the event loop is still busy',
      ),
      out.stderr,
    );
  });

  test('a port in use is a clear startup error and exit code 1', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as net.AddressInfo;
    try {
      const out = await runFixture('query-bot.js', {
        BOT_TYPE: 'realtime',
        THE0_QUERY_HOST: '127.0.0.1',
        THE0_QUERY_PORT: String(port),
      });
      assert.equal(out.code, 1);
      const [line] = stderrLines(out);
      assert.equal(line.level, 'error');
      assert.match(String(line.message), new RegExp(`^query service cannot start: cannot listen on 127\\.0\\.0\\.1:${port}: `));
    } finally {
      taken.close();
    }
  });

  test('a bad setting is a clear startup error', async () => {
    const out = await runFixture('query-bot.js', { BOT_TYPE: 'realtime', THE0_QUERY_PORT: 'http' });
    assert.equal(out.code, 1);
    assert.equal(
      stderrLines(out)[0].message,
      'query service cannot start: THE0_QUERY_PORT must be a non-negative integer, got "http"',
    );
  });
});

describe('query API in this process', () => {
  test('getParams outside a handler: QUERY_PARAMS (typed; getParamStrings in string form) in ephemeral mode, else none', () => {
    delete process.env.QUERY_PATH;
    process.env.QUERY_PARAMS = '{"a": 1, "b": "x"}';
    assert.deepEqual(query.getParams(), {});
    assert.deepEqual(query.getParamStrings(), {});
    process.env.QUERY_PATH = '/x';
    try {
      assert.deepEqual(query.getParams(), { a: 1, b: 'x' });
      assert.deepEqual(query.getParamStrings(), { a: '1', b: 'x' });
      assert.equal(query.isQueryMode(), true);
    } finally {
      delete process.env.QUERY_PATH;
      delete process.env.QUERY_PARAMS;
    }
    assert.equal(query.isQueryMode(), false);
  });

  test('getConfig reads BOT_CONFIG; unset or invalid is {}', () => {
    process.env.BOT_CONFIG = '{"symbol":"ETH","n":[1,2]}';
    assert.deepEqual(query.getConfig(), { symbol: 'ETH', n: [1, 2] });
    const copy = query.getConfig<{ symbol: string }>();
    copy.symbol = 'changed';
    assert.equal(query.getConfig<{ symbol: string }>().symbol, 'ETH', 'each call gives a fresh copy');
    process.env.BOT_CONFIG = 'nope';
    assert.deepEqual(query.getConfig(), {});
    delete process.env.BOT_CONFIG;
    assert.deepEqual(query.getConfig(), {});
  });

  test('handler validates its arguments', () => {
    assert.throws(() => query.handler('/x', 'nope' as never), TypeError);
    assert.throws(
      () => query.handler('', () => 1),
      (e: unknown) => e instanceof The0Error && e.status === 'INVALID_ARGUMENT' && e.message === 'query path must not be empty',
    );
    assert.throws(
      () => query.handler('/a\nb', () => 1),
      (e: unknown) => e instanceof The0Error && e.status === 'INVALID_ARGUMENT',
    );
  });
});
