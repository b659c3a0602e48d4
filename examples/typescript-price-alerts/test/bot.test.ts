import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';

const BOT_DIR = path.resolve(__dirname, '..', '..');
const MAIN = path.join(BOT_DIR, 'dist', 'main.js');
const QUERY = path.join(BOT_DIR, 'dist', 'query.js');
const WRAPPER = path.join(__dirname, 'wrapper.js');

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'price-alerts-'));
const stateDir = path.join(work, 'state');
const mount = path.join(work, 'bot');
fs.mkdirSync(mount, { recursive: true });
after(() => fs.rmSync(work, { recursive: true, force: true }));

const CONFIG = { symbol: 'ETH/USD', base_price: 3000, alert_threshold: 0.15, update_interval_ms: 0, seed: 7 };

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
  hung: boolean;
}

function env(extra: Record<string, string>): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(out)) {
    if (/^(BOT_|QUERY_|THE0_|STATE_DIR|CODE_MOUNT_DIR)/.test(k)) delete out[k];
  }
  return { ...out, STATE_DIR: stateDir, CODE_MOUNT_DIR: mount.slice(1), ...extra };
}

interface Started {
  child: ChildProcess;
  done: Promise<Outcome>;
  /** The TCP port a query server listens on, from its "Query server started on ..." line. */
  listening: Promise<number>;
}

function start(args: string[], extra: Record<string, string>): Started {
  const child = spawn(process.execPath, args, { env: env(extra), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let announce: (port: number) => void = () => undefined;
  const listening = new Promise<number>((resolve) => (announce = resolve));
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    const started = /"message":"Query server started on 127\.0\.0\.1:(\d+)"/.exec(stderr);
    if (started) announce(Number(started[1]));
  });
  const done = new Promise<Outcome>((resolve) => {
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, hung });
    });
  });
  return { child, done, listening };
}

function lines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function botState(): Record<string, unknown> & { ticks: number; priceHistory: number[]; alertCount: number } {
  return JSON.parse(fs.readFileSync(path.join(stateDir, 'bot_state.json'), 'utf8'));
}

function resultFile(): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(mount, 'result.json'), 'utf8'));
}

async function ephemeral(queryPath: string, params?: unknown): Promise<{ code: number | null; result: unknown }> {
  const resultPath = path.join(work, 'query', 'result.json');
  const extra: Record<string, string> = {
    QUERY_PATH: queryPath,
    THE0_QUERY_RESULT_FILE: resultPath,
    BOT_CONFIG: JSON.stringify(CONFIG),
  };
  if (params !== undefined) extra.QUERY_PARAMS = JSON.stringify(params);
  const out = await start([QUERY], extra).done;
  assert.equal(out.hung, false);
  return { code: out.code, result: JSON.parse(fs.readFileSync(resultPath, 'utf8')) };
}

function get(port: number, method: string, urlPath: string, body?: string): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

async function until(what: string, check: () => boolean | Promise<boolean>, limitMs = 20_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('bot-config.yaml', () => {
  test('declares the upstream fields and entrypoints that exist', () => {
    const yaml = fs.readFileSync(path.join(BOT_DIR, 'bot-config.yaml'), 'utf8');
    for (const field of ['name: price-alerts', 'description:', 'version:', 'author:', 'type: realtime', 'runtime: nodejs20']) {
      assert.ok(yaml.includes(`\n${field}`) || yaml.startsWith(field), field);
    }
    assert.match(yaml, /\nentrypoints:\n {2}bot: dist\/main\.js\n {2}query: dist\/query\.js\n/);
    assert.match(yaml, /\nschema:\n {2}bot: bot-schema\.json\n/);
    assert.ok(fs.existsSync(MAIN) && fs.existsSync(QUERY));
    JSON.parse(fs.readFileSync(path.join(BOT_DIR, 'bot-schema.json'), 'utf8'));
  });
});

describe('the bot', () => {
  let alertsSeen = 0;

  test('a run of 40 ticks: price and alert metrics, state saved, success result', async () => {
    const out = await start([MAIN], { BOT_ID: 'bot-1', BOT_CONFIG: JSON.stringify({ ...CONFIG, max_iterations: 40 }) }).done;
    assert.equal(out.code, 0, out.stderr);
    const metrics = lines(out.stdout);
    const prices = metrics.filter((m) => m._metric === 'price');
    const alerts = metrics.filter((m) => m._metric === 'alert');
    assert.equal(prices.length, 40);
    assert.ok(alerts.length > 0, 'the seeded feed raises alerts');
    assert.equal(prices.length + alerts.length, metrics.length);
    for (const a of alerts) assert.ok(Math.abs(a.change_pct as number) >= CONFIG.alert_threshold);
    alertsSeen = alerts.length;
    const saved = botState();
    assert.equal(saved.ticks, 40);
    assert.equal(saved.alertCount, alerts.length);
    assert.deepEqual(saved.priceHistory, prices.map((p) => p.value));
    assert.deepEqual(resultFile(), {
      status: 'success',
      message: 'processed 40 prices',
      data: { ticks: 40, total_ticks: 40, total_alerts: alerts.length },
    });
    assert.ok(lines(out.stderr).some((l) => l.message === 'price alerts started' && l.bot_id === 'bot-1'));
  });

  test('the next run, through the runtime wrapper, resumes from the saved state', async () => {
    const out = await start([WRAPPER], {
      BOT_ID: 'bot-1',
      BOT_CONFIG: JSON.stringify({ ...CONFIG, max_iterations: 10 }),
      SCRIPT_PATH: MAIN,
    }).done;
    assert.equal(out.code, 0, out.stderr);
    const alerts = lines(out.stdout).filter((m) => m._metric === 'alert');
    const saved = botState();
    assert.equal(saved.ticks, 50);
    assert.equal(saved.priceHistory.length, 50);
    assert.equal(saved.alertCount, alertsSeen + alerts.length);
    assert.equal((resultFile().data as Record<string, unknown>).total_ticks, 50);
  });

  test('as a realtime bot it runs until SIGTERM, then saves and reports success', async () => {
    const before = botState().ticks;
    const run = start([MAIN], { BOT_ID: 'bot-1', BOT_CONFIG: JSON.stringify({ ...CONFIG, update_interval_ms: 20 }) });
    await until('three more ticks', () => botState().ticks >= before + 3);
    run.child.kill('SIGTERM');
    const out = await run.done;
    assert.equal(out.hung, false);
    assert.equal(out.code, 0, out.stderr);
    assert.ok(lines(out.stderr).some((l) => l.message === 'price alerts stopped' && l.stopped_by_signal === true));
    assert.equal(resultFile().status, 'success');
    assert.equal(botState().ticks, before + lines(out.stdout).filter((m) => m._metric === 'price').length);
  });
});

describe('the queries', () => {
  test('ephemeral: /current-price reflects the saved history', async () => {
    const saved = botState();
    const { code, result } = await ephemeral('/current-price');
    assert.equal(code, 0);
    const history = saved.priceHistory;
    assert.deepEqual(result, {
      status: 'ok',
      data: {
        symbol: 'ETH/USD',
        price: history[history.length - 1],
        high: Math.max(...history),
        low: Math.min(...history),
        change_pct: Math.round(((history[history.length - 1] - history[0]) / history[0]) * 100 * 1000) / 1000,
        data_points: history.length,
      },
    });
  });

  test('ephemeral: /alerts with a typed limit, newest first; a bad limit is an error', async () => {
    const saved = botState() as unknown as { alerts: Array<{ tick: number }>; alertCount: number };
    const { code, result } = await ephemeral('/alerts', { limit: 2 });
    assert.equal(code, 0);
    assert.deepEqual(result, {
      status: 'ok',
      data: { total_alerts: saved.alertCount, alerts: saved.alerts.slice(-2).reverse() },
    });
    const bad = await ephemeral('/alerts', { limit: 0 });
    assert.equal(bad.code, 1);
    assert.deepEqual(bad.result, { status: 'error', error: 'limit must be a positive integer, got 0' });
  });

  test('server mode: the queries over HTTP, then SIGTERM ends the process with 0', async () => {
    const server = start([QUERY], {
      BOT_TYPE: 'realtime',
      THE0_QUERY_HOST: '127.0.0.1',
      THE0_QUERY_PORT: '0',
      BOT_CONFIG: JSON.stringify(CONFIG),
    });
    const port = await Promise.race([
      server.listening,
      server.done.then((o): number => {
        throw new Error(`the query server exited before listening (${o.code}): ${o.stderr}`);
      }),
    ]);
    const saved = botState() as unknown as { alerts: unknown[]; alertCount: number; ticks: number; priceHistory: number[] };
    const alerts = await get(port, 'GET', '/alerts?limit=1');
    assert.deepEqual(alerts.body, { status: 'ok', data: { total_alerts: saved.alertCount, alerts: saved.alerts.slice(-1) } });
    const viaBody = await get(port, 'POST', '/alerts', '{"limit": 3}');
    assert.equal(viaBody.body.data.alerts.length, Math.min(3, saved.alerts.length));
    const stats = await get(port, 'GET', '/statistics');
    assert.deepEqual(stats.body, {
      status: 'ok',
      data: {
        symbol: 'ETH/USD',
        ticks: saved.ticks,
        total_alerts: saved.alertCount,
        data_points: saved.priceHistory.length,
        config: { alert_threshold: 0.15, update_interval_ms: 0 },
      },
    });
    const info = await get(port, 'GET', '/info');
    assert.deepEqual(info.body.data.available_queries, ['/alerts', '/current-price', '/health', '/info', '/statistics']);
    server.child.kill('SIGTERM');
    const out = await server.done;
    assert.equal(out.hung, false);
    assert.equal(out.code, 0, out.stderr);
  });
});
