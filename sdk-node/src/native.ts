/**
 * The napi-rs addon (`native/the0.node`, built from `bindings/node` over the Rust core).
 *
 * Every rule of the SDK lives in the core; this file only describes and loads the addon. Set
 * `THE0_NODE_ADDON` to load the addon from another path.
 *
 * @internal
 */

import * as path from 'node:path';

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
  error?: NativeFailure | null;
}

/** The functions the addon exports. Errors are thrown with `code` = the core's status name. */
export interface Native {
  coreVersion(): string;
  statusNames(): string[];

  stateSet(key: string, json: string): void;
  stateGet(key: string): string | null;
  stateExists(key: string): boolean;
  stateDelete(key: string): boolean;
  stateList(): string[];
  stateClear(): void;

  inputParse(): NativeBotInput;
  inputSuccess(message: string, dataJson?: string | null): void;
  inputError(message: string, dataJson?: string | null): void;
  inputResult(json: string): void;
  formatMetric(metricType: string, dataJson: string): string;
  formatLog(message: string, dataJson?: string | null, level?: string | null): string;

  queryRegister(path: string): string;
  queryStart(): string;
  queryNext(timeoutMs: number, max: number): Promise<NativeBatch>;
  queryRespond(id: number, json: string): void;
  queryRespondError(id: number, message: string): void;
  queryStop(): void;
  queryFinish(): Promise<NativeFinished>;
  queryGetConfig(): string;
  queryGetParams(): string;
  queryIsQueryMode(): boolean;
}

function load(): Native {
  const file = process.env.THE0_NODE_ADDON || path.join(__dirname, '..', 'native', 'the0.node');
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require(file) as Native;
  } catch (e) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new Error(
      `@the0/sdk: cannot load the native addon ${file} (${reason}). ` +
        'Build it with `npm run build:native` in the sdk-node folder (needs cargo).',
    );
  }
}

/** The loaded addon. */
export const native: Native = load();
