/**
 * Queries: read-only handlers that answer questions about a bot.
 *
 * `run()` detects the mode once, in the core: `QUERY_PATH` set → answer that one query and write
 * the envelope to `/query/result.json`; `BOT_TYPE=realtime` → serve HTTP (port 9476, or the
 * agent's Unix socket); otherwise → write the `/info` answer — as this thread's `process.env`
 * says when `run()` starts. The HTTP server, routing, params (query string and JSON body),
 * envelopes, limits, timeouts and every line printed are the core's. Requests reach
 * JavaScript through a Promise (`queryNext`), so the event loop never blocks: many handlers may
 * be in flight at once and async handlers interleave.
 *
 * @example
 * ```typescript
 * import { query, state } from '@the0/sdk';
 *
 * query.handler('/portfolio', async (req) => {
 *   const positions = state.get('positions', []);
 *   return { positions, symbol: req.get('symbol', 'BTC/USD') };
 * });
 *
 * await query.run();
 * ```
 */

import { AsyncLocalStorage } from 'node:async_hooks';

import { call, failure, messageOf } from './errors';
import { printStderr } from './input';
import { native, type NativeIncoming } from './native';

export { ReadOnlyStateError, The0Error } from './errors';

/**
 * The request a handler receives: upstream's shape (`path`, `params`, `get`), so a plain object
 * literal of that shape is one too (in tests). Requests from the core also have `getString`.
 */
export interface QueryRequest<P = Record<string, any>> {
  /** The requested path, such as `"/portfolio"`. */
  readonly path: string;
  /**
   * Parameters with their JSON types: query-string values are strings, values from a JSON body
   * (or from `QUERY_PARAMS`) keep their types.
   */
  readonly params: P;
  /**
   * A parameter with its JSON type (`5` for `{"limit": 5}`), or `defaultValue` when absent — as
   * upstream. Typed `any`, as upstream's was `string` while `QUERY_PARAMS` and JSON bodies carry
   * any JSON value.
   */
  get(key: string, defaultValue?: any): any;
  /**
   * A parameter in string form — a string parameter as it is, any other value as its JSON text
   * (`"5"`, `"true"`, `"[1,2]"`) — or `defaultValue` when absent. Identical in every the0 SDK.
   */
  getString?(key: string, defaultValue?: string): string | undefined;
}

/** A query handler: returns (or resolves to) any JSON-serializable value. */
export type QueryHandler<P = Record<string, any>> = (req: QueryRequest<P>) => unknown;

/** How long one wait for requests lasts before it is renewed (it ends early on shutdown). */
const POLL_MS = 1000;
/** Most requests taken from the core in one wait. */
const BATCH = 256;
/**
 * After SIGTERM/SIGINT has stopped the server and `run()` has returned, the process exits by
 * itself when nothing else holds the event loop; if something still does after this long, the
 * SDK exits it (status 0), as a terminated query server must end.
 */
const SIGNAL_EXIT_GRACE_MS = 2000;

const handlers = new Map<string, QueryHandler>();
const current = new AsyncLocalStorage<Request>();

function parseObject<T>(json: string): T {
  return (json === '{}' ? {} : JSON.parse(json)) as T;
}

class Request implements QueryRequest {
  readonly path: string;
  readonly #paramsJson: string;
  readonly #stringsJson: string;
  #params: Record<string, unknown> | undefined;
  #strings: Record<string, string> | undefined;

  constructor(path: string, paramsJson: string, stringsJson: string) {
    this.path = path;
    this.#paramsJson = paramsJson;
    this.#stringsJson = stringsJson;
  }

  get params(): Record<string, unknown> {
    let params = this.#params;
    if (params === undefined) {
      params = parseObject<Record<string, unknown>>(this.#paramsJson);
      this.#params = params;
    }
    return params;
  }

  get(key: string, defaultValue?: any): any {
    const params = this.params;
    return Object.prototype.hasOwnProperty.call(params, key) ? params[key] : defaultValue;
  }

  getString(key: string, defaultValue?: string): string | undefined {
    const strings = this.#stringView();
    return Object.prototype.hasOwnProperty.call(strings, key) ? strings[key] : defaultValue;
  }

  /** A copy of every parameter in string form. */
  strings(): Record<string, string> {
    return { ...this.#stringView() };
  }

  toJSON(): { path: string; params: Record<string, unknown> } {
    return { path: this.path, params: this.params };
  }

  #stringView(): Record<string, string> {
    let strings = this.#strings;
    if (strings === undefined) {
      strings = parseObject<Record<string, string>>(this.#stringsJson);
      this.#strings = strings;
    }
    return strings;
  }
}

/**
 * Registers `fn` for `path` (a missing leading `/` is added; registering a path again replaces
 * its handler). `fn` may be async. `/health` and `/info` are built in unless registered here.
 *
 * @throws The0Error `INVALID_ARGUMENT` for an empty path or one with control characters.
 */
export function handler<P = Record<string, any>>(path: string, fn: QueryHandler<P>): void {
  if (typeof fn !== 'function') {
    throw new TypeError(`query handler for ${JSON.stringify(path)} must be a function`);
  }
  const stored = call(() => native.queryRegister(String(path)));
  handlers.set(stored, fn as QueryHandler);
}

/**
 * Parameters of the current query with their JSON types, as upstream: those of the request being
 * handled (also after an `await` inside the handler), else those of `QUERY_PARAMS` in ephemeral
 * mode, else none. A copy.
 */
export function getParams(): Record<string, any> {
  const request = current.getStore();
  if (request !== undefined) return { ...request.params };
  return JSON.parse(call(() => native.queryParams(process.env)).paramsJson) as Record<string, any>;
}

/** `getParams()` in string form (as `req.getString` gives them). */
export function getParamStrings(): Record<string, string> {
  const request = current.getStore();
  if (request !== undefined) return request.strings();
  return JSON.parse(call(() => native.queryParams(process.env)).stringsJson) as Record<string, string>;
}

/** The bot configuration from `BOT_CONFIG`; `{}` when unset or not valid JSON. */
export function getConfig<T = Record<string, unknown>>(): T {
  return JSON.parse(call(() => native.queryConfig(process.env))) as T;
}

/**
 * Whether this process serves queries (`QUERY_PATH` set, or `run()` started): state is then
 * read-only.
 */
export function isQueryMode(): boolean {
  return call(() => native.queryIsQueryMode(process.env));
}

/**
 * Runs the query system in the detected mode and resolves when it is done.
 *
 * - ephemeral / info: writes the answer to the result file; a failed query exits the process
 *   with code 1 (as upstream), a successful one resolves and the process exits by itself.
 * - server: serves until SIGTERM or SIGINT, answers the requests in flight, then resolves; the
 *   process then exits by itself with code 0.
 *
 * A server that cannot start (port in use, bad setting) logs the reason and exits with code 1.
 */
export async function run(): Promise<void> {
  // Signal handlers first: the core answers /health as soon as it listens, so a supervisor may
  // send SIGTERM before queryStart has even returned.
  let signalled = false;
  const onSignal = (): void => {
    signalled = true;
    try {
      native.queryStop();
    } catch {
      // not started yet, or already finished
    }
  };
  const listen = (on: boolean): void => {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      if (on) process.on(signal, onSignal);
      else process.off(signal, onSignal);
    }
  };
  listen(true);
  let started;
  try {
    // Handlers run concurrently on this thread's event loop: the core's worker count does not apply.
    started = call(() => native.queryStart(process.env, 1));
  } catch (e) {
    listen(false);
    throw e;
  }
  const server = started.mode === 'server';
  if (!server) listen(false);
  else if (signalled) onSignal(); // a signal that came before the server could be stopped
  printStderr(started.stderr);
  if (started.mode == null) process.exit(1);

  let finished;
  try {
    await pump();
  } finally {
    finished = await native.queryFinish();
    if (server) listen(false);
  }
  printStderr(finished.stderr);
  if (finished.error) throw failure(finished.error.status, finished.error.message);
  // Also when a handler was abandoned after its timeout: it must not hold the process.
  if (finished.exitCode !== 0) process.exit(finished.exitCode);
  if (signalled) exitAfterGrace();
}

/** Takes requests from the core and starts their handlers until the service is done. */
async function pump(): Promise<void> {
  for (;;) {
    const batch = await native.queryNext(POLL_MS, BATCH);
    for (const request of batch.requests) dispatch(request);
    if (batch.error) throw failure(batch.error.status, batch.error.message);
    if (batch.done) return;
  }
}

function dispatch(incoming: NativeIncoming): void {
  const { id, path } = incoming;
  const fn = handlers.get(path);
  if (fn === undefined) {
    answerError(id, `no JavaScript handler is registered for ${path}`);
    return;
  }
  const request = new Request(path, incoming.paramsJson, incoming.stringsJson);
  let out: unknown;
  try {
    out = current.run(request, fn, request);
  } catch (e) {
    answerError(id, messageOf(e));
    return;
  }
  if (out !== null && typeof out === 'object' && typeof (out as PromiseLike<unknown>).then === 'function') {
    (out as PromiseLike<unknown>).then(
      (value) => answer(id, value),
      (e: unknown) => answerError(id, messageOf(e)),
    );
  } else {
    answer(id, out);
  }
}

function answer(id: number, value: unknown): void {
  try {
    let json: string | undefined;
    try {
      json = JSON.stringify(value);
    } catch (e) {
      native.queryRespondUnserializable(id, messageOf(e));
      return;
    }
    native.queryRespond(id, json ?? 'null');
  } catch {
    // The request timed out or its client left (UNKNOWN_REQUEST), or the core answered 500
    // itself (INVALID_JSON): nobody is waiting for more.
  }
}

function answerError(id: number, message: string): void {
  try {
    native.queryRespondError(id, message);
  } catch {
    // The request timed out or its client left: nobody is waiting.
  }
}

function exitAfterGrace(): void {
  setTimeout(() => {
    const message = 'query server stopped by a signal; exiting although the event loop is still busy';
    console.error(native.logLine(message, undefined, 'warn'));
    process.exit();
  }, SIGNAL_EXIT_GRACE_MS).unref();
}
