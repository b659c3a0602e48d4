/**
 * Persistent key-value state: `$STATE_DIR/<key>.json` (default `/state/.the0-state`), synced to
 * the object store by the agent between runs.
 *
 * Key rules, canonical JSON, atomic writes and the read-only guard (writes fail with
 * `ReadOnlyStateError` while this process serves queries) are the core's, identical in every
 * the0 SDK: a value written here is byte for byte the file the Rust or Python SDK writes.
 * `STATE_DIR` and `QUERY_PATH` are read from this thread's `process.env` at every call.
 *
 * @example
 * ```typescript
 * import { state } from '@the0/sdk';
 *
 * state.set('portfolio', { AAPL: 100 });
 * const portfolio = state.get('portfolio', {});
 * state.delete('portfolio');
 * ```
 */

import { call, messageOf } from './errors';
import { native } from './native';

export { ReadOnlyStateError, The0Error } from './errors';

/**
 * The value stored under `key`, or `defaultValue` when the key has no value.
 *
 * @throws The0Error `INVALID_KEY` for a bad key, `CORRUPT_STATE` for a file that is not JSON.
 */
export function get<T = unknown>(key: string, defaultValue?: T): T | undefined {
  const text = call(() => native.stateGet(process.env, key));
  return text === null ? defaultValue : (JSON.parse(text) as T);
}

/**
 * Stores `value` (anything `JSON.stringify` accepts; `undefined` is stored as `null`).
 *
 * @throws ReadOnlyStateError while serving queries; The0Error `INVALID_KEY` for a bad key.
 */
export function set<T = unknown>(key: string, value: T): void {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (e) {
    // The core decides what to report, in its order: read-only, key, then this value.
    call(() => native.stateSetUnserializable(process.env, key, messageOf(e)));
  }
  call(() => native.stateSet(process.env, key, json ?? 'null'));
}

/**
 * Removes `key`; returns whether it had a value. Also exported as `delete`.
 *
 * @throws ReadOnlyStateError while serving queries; The0Error `INVALID_KEY` for a bad key.
 */
export function remove(key: string): boolean {
  return call(() => native.stateDelete(process.env, key));
}

export { remove as delete };

/** Every key with a value, sorted. */
export function list(): string[] {
  return call(() => native.stateList(process.env));
}

/**
 * Removes every key.
 *
 * @throws ReadOnlyStateError while serving queries.
 */
export function clear(): void {
  call(() => native.stateClear(process.env));
}

/** Whether `key` has a value. @throws The0Error `INVALID_KEY` for a bad key. */
export function exists(key: string): boolean {
  return call(() => native.stateExists(process.env, key));
}

/**
 * The JSON text stored under `key` (canonical form), or `undefined` when it has no value.
 * Useful to pass a stored value on without parsing it.
 */
export function getJson(key: string): string | undefined {
  const text = call(() => native.stateGet(process.env, key));
  return text === null ? undefined : text;
}

/**
 * Stores JSON text as it is (the core checks it is JSON and stores it in canonical form).
 *
 * @throws The0Error `INVALID_JSON` when `json` is not JSON text.
 */
export function setJson(key: string, json: string): void {
  call(() => native.stateSet(process.env, key, json));
}
