package the0

import java.io.{IOException, UncheckedIOException}

/** A failure reported by the0's core. Every SDK shows the same [[status]] name and the same
  * message (`getMessage`) for the same failure; the exception's class follows what upstream's
  * Scala SDK threw (IllegalArgumentException for bad input, [[ReadOnlyStateError]]).
  */
trait The0Error:
  self: Throwable =>

  /** The core's name for the failure: `READ_ONLY`, `INVALID_KEY`, `INVALID_JSON`, ... */
  def status: String

/** A state write (`set`, `delete`, `clear`) while this process serves queries: queries are
  * read-only in every mode. Also reachable as `Query.ReadOnlyStateError` (the same class).
  */
class ReadOnlyStateError(message: String) extends RuntimeException(message) with The0Error:
  def status: String = "READ_ONLY"

/** A state key that breaks a key rule (empty, `/`, `\`, `..`, a leading `.`, control characters,
  * over 200 bytes).
  */
class InvalidKeyError(message: String) extends IllegalArgumentException(message) with The0Error:
  def status: String = "INVALID_KEY"

/** Text that is not JSON where JSON is required (a state value, metric or log data, a result,
  * `BOT_CONFIG` for `Input.parse`).
  */
class InvalidJsonError(message: String) extends IllegalArgumentException(message) with The0Error:
  def status: String = "INVALID_JSON"

/** A required environment variable (`BOT_ID`, `BOT_CONFIG`) is not set. */
class MissingEnvError(message: String) extends IllegalArgumentException(message) with The0Error:
  def status: String = "MISSING_ENV"

/** An argument the core refuses: an unknown log level, an empty query path, text with a NUL
  * character (which the C ABI cannot carry).
  */
class InvalidArgumentError(message: String) extends IllegalArgumentException(message) with The0Error:
  def status: String = "INVALID_ARGUMENT"

/** A stored state file that is not JSON; the message names the key and the file. */
class CorruptStateError(message: String) extends IllegalStateException(message) with The0Error:
  def status: String = "CORRUPT_STATE"

/** A file-system failure in the state directory (permissions, a full disk...). */
class StateIOError(message: String)
    extends UncheckedIOException(message, new IOException(message))
    with The0Error:
  def status: String = "IO"

/** Any other failure of the core (`INVALID_STATE`, `PANIC`, ...), with its status name. */
class The0Exception(val status: String, message: String) extends RuntimeException(message) with The0Error
