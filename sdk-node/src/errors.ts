/**
 * Errors thrown by the SDK. Their `status` is the core's stable status name and their message
 * is the core's text, identical in every the0 SDK.
 */

/** Status names of the core (see `Status` in sdk-rust), in code order. */
export const STATUS_NAMES = [
  'OK',
  'NOT_FOUND',
  'INVALID_KEY',
  'INVALID_JSON',
  'READ_ONLY',
  'IO',
  'TIMEOUT',
  'DONE',
  'INVALID_ARGUMENT',
  'PANIC',
  'CORRUPT_STATE',
  'MISSING_ENV',
  'UNKNOWN_REQUEST',
  'INVALID_STATE',
] as const;

/** A status name of the core, such as `"INVALID_KEY"` or `"READ_ONLY"`. */
export type StatusName = (typeof STATUS_NAMES)[number];

const KNOWN = new Set<string>(STATUS_NAMES);

/** A failure reported by the the0 core (bad state key, invalid JSON, missing variable...). */
export class The0Error extends Error {
  /** The core's status name, such as `"INVALID_KEY"`. */
  readonly status: StatusName;
  /** Same as `status` (Node's convention for error codes). */
  readonly code: StatusName;

  constructor(message: string, status: StatusName = 'INVALID_ARGUMENT') {
    super(message);
    this.name = 'The0Error';
    this.status = status;
    this.code = status;
  }
}

/** A state write (`set`, `remove`/`delete`, `clear`) while this process serves queries. */
export class ReadOnlyStateError extends The0Error {
  constructor(message: string) {
    super(message, 'READ_ONLY');
    this.name = 'ReadOnlyStateError';
  }
}

/**
 * Whether `e` is an Error of any realm. The addon's errors belong to the realm that loaded it
 * first: under jest, whose test files each run in their own VM context, that is not the test's
 * realm, so `instanceof Error` alone would miss them.
 */
function isError(e: unknown): e is Error {
  return e instanceof Error || Object.prototype.toString.call(e) === '[object Error]';
}

/** The SDK error for an error thrown by the addon; other values are returned unchanged. */
export function fromNative(e: unknown): unknown {
  if (isError(e) && !(e instanceof The0Error)) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && KNOWN.has(code)) {
      return failure(code as StatusName, e.message);
    }
  }
  return e;
}

/** The SDK error for a status name and message. */
export function failure(status: StatusName | string, message: string): The0Error {
  if (status === 'READ_ONLY') return new ReadOnlyStateError(message);
  return new The0Error(message, KNOWN.has(status) ? (status as StatusName) : 'PANIC');
}

/** Runs a call into the addon, rethrowing its errors as SDK errors. */
export function call<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw fromNative(e);
  }
}

/** The message of a thrown value: an Error's message, else its string form. */
export function messageOf(e: unknown): string {
  if (isError(e)) return e.message;
  try {
    return String(e);
  } catch {
    return 'unknown error';
  }
}
