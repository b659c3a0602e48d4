/**
 * Bot input and output: `parse` the bot id and configuration, report the outcome with
 * `success` / `error` / `result` (the result file `/<CODE_MOUNT_DIR>/result.json`), and emit
 * `metric` lines (`console.log`) and `log` lines (`console.error`), as upstream. Every line and
 * file is produced by the core, which reads this thread's `process.env` at every call.
 */

import { call } from './errors';
import { toJson, toOptionalJson } from './json';
import { native } from './native';

/** Bot configuration parsed from the environment. */
export interface BotInput<T = Record<string, unknown>> {
  /** Unique bot instance id (`BOT_ID`). */
  id: string;
  /** Bot configuration (`BOT_CONFIG`, JSON). */
  config: T;
}

/** Result structure written by `success` and `error`. */
export interface BotResult {
  status: 'success' | 'error';
  message: string;
  data?: unknown;
}

/** Log levels of `log`. */
export type LogLevel = 'info' | 'warn' | 'error';

/**
 * Reads `BOT_ID` and `BOT_CONFIG` (an empty config is `{}`).
 *
 * @throws The0Error `MISSING_ENV` when a variable is not set, `INVALID_JSON` when the config is
 *   not JSON.
 */
export function parse<T = Record<string, unknown>>(): BotInput<T> {
  const input = call(() => native.inputParse(process.env));
  return { id: input.id, config: JSON.parse(input.configJson) as T };
}

/** Prints lines the core handed back on stderr. */
export function printStderr(lines: string[]): void {
  for (const line of lines) console.error(line);
}

/** Writes `{"status":"success","message":...}` (with `data` when given) to the result file. */
export function success(message: string, data?: unknown): void {
  const json = toOptionalJson(data, 'result_data');
  printStderr(call(() => native.inputReport(process.env, 'success', String(message), json)));
}

/** Writes `{"status":"error","message":...}` (with `data` when given) and exits with code 1. */
export function error(message: string, data?: unknown): never {
  const json = toOptionalJson(data, 'result_data');
  printStderr(call(() => native.inputReport(process.env, 'error', String(message), json)));
  process.exit(1);
}

/** Writes `value`, as it is, to the result file. */
export function result(value: unknown): void {
  const json = toJson(value, 'result');
  printStderr(call(() => native.inputResult(process.env, json)));
}

/**
 * Prints one metric line with `console.log`: `{"_metric":<type>, ...data, "timestamp":...}` (a
 * value that is not an object goes under `data`).
 */
export function metric(type: string, data: unknown): void {
  const json = toJson(data, 'metric');
  console.log(call(() => native.metricLine(String(type), json)));
}

/**
 * Prints one log line with `console.error`: `{"level":..., "message":..., ...data, "timestamp":...}` (data
 * that is not an object goes under `data`). Call as `log(msg)`, `log(msg, level)`,
 * `log(msg, data)` or `log(msg, data, level)`.
 *
 * @param level - `info` (default), `warn` or `error`
 * @throws The0Error `INVALID_ARGUMENT` for an unknown level
 */
export function log(message: string, level?: LogLevel): void;
export function log(message: string, data?: Record<string, unknown> | unknown, level?: LogLevel): void;
export function log(message: string, dataOrLevel?: unknown, level?: LogLevel): void {
  let data: unknown;
  let chosen: string | undefined = level;
  if (typeof dataOrLevel === 'string') {
    chosen = dataOrLevel;
  } else {
    data = dataOrLevel;
  }
  const json = toOptionalJson(data, 'log');
  console.error(call(() => native.logLine(String(message), json, chosen)));
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
