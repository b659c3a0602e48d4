/**
 * the0 SDK for Node.js / TypeScript trading bots.
 *
 * A thin TypeScript skin over the shared Rust core (a napi-rs addon): every rule — state keys,
 * canonical JSON, atomic writes, the read-only guard, query modes, the HTTP server, envelopes,
 * metric and log lines — is the core's, identical in every the0 SDK. Export names are those of
 * the upstream `@alexanderwanyoike/the0-node` package.
 *
 * @example
 * ```typescript
 * import { parse, success, metric, state } from '@the0/sdk';
 *
 * const { id, config } = parse<{ symbol: string }>();
 * const runs = state.get<number>('runs', 0)! + 1;
 * state.set('runs', runs);
 * metric('run', { symbol: config.symbol, runs });
 * success(`bot ${id} done`);
 * ```
 */

import { error, log, metric, parse, result, sleep, success } from './input';
import * as query from './query';
import * as state from './state';

export { error, log, metric, parse, result, sleep, success } from './input';
export type { BotInput, BotResult, LogLevel } from './input';
export { ReadOnlyStateError, The0Error, STATUS_NAMES } from './errors';
export type { StatusName } from './errors';
export type { QueryHandler, QueryRequest } from './query';
export { query, state };

/** Default export with every function, for `import the0 from '@the0/sdk'`. */
export default {
  parse,
  success,
  error,
  result,
  metric,
  log,
  sleep,
  state,
  query,
};
