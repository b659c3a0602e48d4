/**
 * JavaScript values to JSON text for the core. The core validates the text and rewrites it in
 * canonical form; here we only serialize.
 *
 * @internal
 */

/** `JSON.stringify(value)`, with `undefined` (and functions, symbols) stored as `null`. */
export function toJson(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? 'null' : text;
}

/** JSON text for optional data: `null` and `undefined` mean "no data". */
export function toOptionalJson(value: unknown): string | undefined {
  return value === undefined || value === null ? undefined : toJson(value);
}
