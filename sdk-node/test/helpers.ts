/**
 * Helpers for the tests: child processes with a clean environment, an HTTP client for 127.0.0.1,
 * temporary folders, and the Rust SDK's conformance driver (for byte-for-byte comparisons).
 */

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';

/** The package folder (sdk-node). */
export const PKG_DIR = path.resolve(__dirname, '..', '..');
/** The repository root. */
export const REPO_DIR = path.resolve(PKG_DIR, '..');
/** Compiled fixtures (child-process scripts). */
export const FIXTURES = path.join(__dirname, 'fixtures');

/** Variables that change the SDK's behaviour: never inherited by a child, as in the harness. */
const SCRUBBED = [
  'BOT_ID',
  'BOT_CONFIG',
  'BOT_TYPE',
  'CODE_MOUNT_DIR',
  'STATE_DIR',
  'QUERY_PATH',
  'QUERY_PARAMS',
  'THE0_QUERY_PORT',
  'THE0_QUERY_HOST',
  'THE0_QUERY_SOCKET',
  'THE0_QUERY_RESULT_FILE',
  'THE0_QUERY_TIMEOUT_MS',
  'THE0_QUERY_MAX_BODY_BYTES',
  'THE0_QUERY_MAX_IN_FLIGHT',
  'THE0_QUERY_WORKERS',
];

/** A copy of this process's environment without the SDK's variables, plus `env`. */
export function cleanEnv(env: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = { ...process.env };
  for (const name of SCRUBBED) delete out[name];
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out;
}

const temporary: string[] = [];
process.once('exit', () => {
  for (const dir of temporary) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary folder, removed when the process exits. */
export function tempDir(prefix = 'the0-node-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  temporary.push(dir);
  return dir;
}

export interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Whether the process had to be killed because it did not exit within the limit. */
  hung: boolean;
}

/**
 * Runs `node <fixture> ...args` to completion. A process still running after `limitMs` is
 * killed and reported as `hung` (a generous bound: it measures that the process exits at all).
 */
export function runFixture(
  fixture: string,
  env: Record<string, string | undefined>,
  args: string[] = [],
  limitMs = 30_000,
): Promise<Outcome> {
  const child = spawn(process.execPath, [path.join(FIXTURES, fixture), ...args], {
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return collect(child, limitMs);
}

/** Waits for `child` to exit (killing it after `limitMs`) and collects its output. */
export function collect(child: ChildProcess, limitMs = 30_000): Promise<Outcome> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve, reject) => {
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, limitMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, hung });
    });
  });
}

/** Parses each non-empty line of `text` as JSON. */
export function jsonLines(text: string): unknown[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as unknown);
}

export interface HttpAnswer {
  status: number;
  contentType: string | undefined;
  body: unknown;
}

/** One HTTP/1.1 request to 127.0.0.1 (a new connection each time). */
export function request(port: number, method: string, urlPath: string, body?: string): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: urlPath,
        agent: false,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], body: JSON.parse(text) });
          } catch (e) {
            reject(new Error(`${method} ${urlPath}: body is not JSON: ${text} (${String(e)})`));
          }
        });
      },
    );
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** A query server fixture started in realtime mode on 127.0.0.1, port 0. */
export interface Server {
  port: number;
  child: ChildProcess;
  /** Resolves when the process has exited. */
  exited: Promise<Outcome>;
}

const STARTED = /"message":"Query server started on 127\.0\.0\.1:(\d+)"/;

/**
 * Starts `fixture` as a realtime query server on port 0 and reads the port the kernel chose
 * from the line the SDK prints when the server listens ("Query server started on ...").
 */
export async function startServer(
  fixture: string,
  env: Record<string, string | undefined> = {},
  args: string[] = [],
  limitMs = 60_000,
): Promise<Server> {
  const child = spawn(process.execPath, [path.join(FIXTURES, fixture), ...args], {
    env: cleanEnv({
      BOT_TYPE: 'realtime',
      THE0_QUERY_HOST: '127.0.0.1',
      THE0_QUERY_PORT: '0',
      ...env,
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const listening = new Promise<number>((resolve) => {
    let seen = '';
    child.stderr?.on('data', (d: Buffer) => {
      seen += d.toString('utf8');
      const m = STARTED.exec(seen);
      if (m) resolve(Number(m[1]));
    });
  });
  const exited = collect(child, limitMs);
  let port: number;
  try {
    port = await Promise.race([
      listening,
      exited.then((o): number => {
        throw new Error(`server exited before listening (${o.code}): ${o.stderr}`);
      }),
    ]);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return { port, child, exited };
}

let rustDriver: string | undefined;

/**
 * The Rust SDK's conformance driver: `THE0_RUST_DRIVER`, or built here with
 * `cargo build -p the0-conformance --bin the0-driver-rust`.
 */
export function rustDriverPath(): string {
  if (rustDriver !== undefined) return rustDriver;
  const fromEnv = process.env.THE0_RUST_DRIVER;
  if (fromEnv) {
    rustDriver = fromEnv;
    return fromEnv;
  }
  const run = spawnSync(
    'cargo',
    ['build', '-p', 'the0-conformance', '--bin', 'the0-driver-rust', '--message-format=json-render-diagnostics'],
    { cwd: REPO_DIR, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  if (run.status !== 0) throw new Error(`cannot build the Rust driver (cargo exit ${run.status})`);
  for (const line of run.stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const m = JSON.parse(line) as { reason?: string; executable?: string | null; target?: { name?: string } };
    if (m.reason === 'compiler-artifact' && m.target?.name === 'the0-driver-rust' && m.executable) {
      rustDriver = m.executable;
    }
  }
  if (rustDriver === undefined) throw new Error('cargo did not report the the0-driver-rust executable');
  return rustDriver;
}

/** Runs the Rust driver with `args` and a clean environment plus `env`; its one JSON line. */
export function runRustDriver(args: string[], env: Record<string, string>): unknown {
  const run = spawnSync(rustDriverPath(), args, { env: cleanEnv(env), encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`the0-driver-rust ${args.join(' ')} exited ${run.status}: ${run.stderr}`);
  return JSON.parse(run.stdout);
}
