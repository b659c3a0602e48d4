/**
 * Bot input and output: `parse` the bot id and configuration, report the outcome with
 * `success` / `error` / `result` (the result file `/<CODE_MOUNT_DIR>/result.json`), and emit
 * `metric` lines (stdout) and `log` lines (stderr). Every line and file is produced by the core.
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
  const input = call(() => native.inputParse());
  return { id: input.id, config: JSON.parse(input.configJson) as T };
}

/** Writes `{"status":"success","message":...}` (with `data` when given) to the result file. */
export function success(message: string, data?: unknown): void {
  const json = toOptionalJson(data);
  call(() => native.inputSuccess(String(message), json));
}

/** Writes `{"status":"error","message":...}` (with `data` when given) and exits with code 1. */
export function error(message: string, data?: unknown): never {
  const json = toOptionalJson(data);
  call(() => native.inputError(String(message), json));
  process.exit(1);
}

/** Writes `value`, as it is, to the result file. */
export function result(value: unknown): void {
  const json = toJson(value);
  call(() => native.inputResult(json));
}

/**
 * Prints one metric line on stdout: `{"_metric":<type>, ...data, "timestamp":...}` (a value
 * that is not an object goes under `data`).
 */
export function metric(type: string, data: unknown): void {
  const line = call(() => native.formatMetric(String(type), toJson(data)));
  process.stdout.write(`${line}\n`);
}

/**
 * Prints one log line on stderr: `{"level":..., "message":..., ...data, "timestamp":...}` (data
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
  const json = toOptionalJson(data);
  const line = call(() => native.formatLog(String(message), json, chosen));
  process.stderr.write(`${line}\n`);
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
