/**
 * The napi-rs addon (`native/the0.node`, built from `bindings/node` over the Rust core).
 *
 * Every rule of the SDK lives in the core; this file only describes and loads the addon. Set
 * `THE0_NODE_ADDON` to load the addon from another path.
 *
 * @internal
 */

import * as path from 'node:path';

import { messageOf } from './errors';

/** The environment the core reads: this thread's `process.env`. */
export type ProcessEnv = NodeJS.ProcessEnv;

/** `BOT_ID` and `BOT_CONFIG` as the core read them. */
export interface NativeBotInput {
  id: string;
  configJson: string;
}

/** A core failure reported in a resolved value. */
export interface NativeFailure {
  status: string;
  message: string;
}

/** What `queryStart` did; `mode` is null when the service cannot start (`stderr` says why). */
export interface NativeStarted {
  mode?: string | null;
  workers: number;
  stderr: string[];
}

/** One query request taken from the core's queue. */
export interface NativeIncoming {
  id: number;
  path: string;
  paramsJson: string;
  stringsJson: string;
}

/** The answer of `queryNext`. */
export interface NativeBatch {
  requests: NativeIncoming[];
  done: boolean;
  error?: NativeFailure | null;
}

/** The answer of `queryFinish`. */
export interface NativeFinished {
  exitCode: number;
  abandoned: boolean;
  stderr: string[];
  error?: NativeFailure | null;
}

/** Parameters outside a handler, typed and in string form. */
export interface NativeParams {
  paramsJson: string;
  stringsJson: string;
}

/** Payloads named in the error of a value that cannot be serialized. */
export type NativePayload = 'metric' | 'log' | 'result_data' | 'result';

/**
 * The functions the addon exports. Errors are thrown with `code` = the core's status name.
 * Functions that read the environment take `process.env`; lines come back for the skin to print.
 */
export interface Native {
  coreVersion(): string;
  statusNames(): string[];

  stateSet(env: ProcessEnv, key: string, json: string): void;
  stateSetUnserializable(env: ProcessEnv, key: string, detail: string): never;
  stateGet(env: ProcessEnv, key: string): string | null;
  stateExists(env: ProcessEnv, key: string): boolean;
  stateDelete(env: ProcessEnv, key: string): boolean;
  stateList(env: ProcessEnv): string[];
  stateClear(env: ProcessEnv): void;

  inputParse(env: ProcessEnv): NativeBotInput;
  inputReport(env: ProcessEnv, status: 'success' | 'error', message: string, dataJson?: string | null): string[];
  inputResult(env: ProcessEnv, json: string): string[];
  metricLine(metricType: string, dataJson: string): string;
  logLine(message: string, dataJson?: string | null, level?: string | null): string;
  unserializable(payload: NativePayload, detail: string): never;

  queryRegister(path: string): string;
  queryStart(env: ProcessEnv, defaultWorkers: number): NativeStarted;
  queryNext(timeoutMs: number, max: number): Promise<NativeBatch>;
  queryRespond(id: number, json: string): void;
  queryRespondError(id: number, message: string): void;
  queryRespondUnserializable(id: number, detail: string): void;
  queryStop(): void;
  queryFinish(): Promise<NativeFinished>;
  queryConfig(env: ProcessEnv): string;
  queryParams(env: ProcessEnv): NativeParams;
  paramStrings(paramsJson: string): string;
  queryIsQueryMode(env: ProcessEnv): boolean;
}

function load(): Native {
  const file = process.env.THE0_NODE_ADDON || path.join(__dirname, '..', 'native', 'the0.node');
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(file) as Native;
  } catch (e) {
    const reason = messageOf(e);
    throw new Error(
      `@the0/sdk: cannot load the native addon ${file} (${reason}). ` +
        'Build it with `npm run build:native` in the sdk-node folder (needs cargo).',
    );
  }
}

/** The loaded addon. */
export const native: Native = load();
