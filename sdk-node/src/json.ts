/**
 * JavaScript values to JSON text for the core. The core validates the text and rewrites it in
 * canonical form; here we only serialize. A value `JSON.stringify` rejects (a BigInt, a cycle) is
 * reported with the core's error for `payload`.
 *
 * @internal
 */

import { call, messageOf } from './errors';
import { native, type NativePayload } from './native';

/** `JSON.stringify(value)`, with `undefined` (and functions, symbols) stored as `null`. */
export function toJson(value: unknown, payload: NativePayload): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (e) {
    return call(() => native.unserializable(payload, messageOf(e)));
  }
  return text === undefined ? 'null' : text;
}

/** JSON text for optional data: `null` and `undefined` mean "no data". */
export function toOptionalJson(value: unknown, payload: NativePayload): string | undefined {
  return value === undefined || value === null ? undefined : toJson(value, payload);
}
