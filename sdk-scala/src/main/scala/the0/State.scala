package the0

import the0.internal.{Core, HostEnv, Json, Libthe0}
import the0.internal.HostEnv.Scope

/** Persistent state: JSON documents by key, kept across runs (the platform syncs them).
  *
  * {{{
  * State.set("portfolio", """{"AAPL": 100, "GOOGL": 50}""")
  * State.get("portfolio")              // Some("""{"AAPL":100,"GOOGL":50}""")
  * State.getOrElse("trades", "[]")
  * State.exists("portfolio"); State.delete("portfolio"); State.list(); State.clear()
  * }}}
  *
  * Values are JSON text: `set` checks it is JSON and stores it in the canonical compact form
  * every the0 SDK writes and reads (`$STATE_DIR/<key>.json`, atomically); `get` returns that
  * form. Bad keys raise [[InvalidKeyError]] (an IllegalArgumentException), text that is not JSON
  * [[InvalidJsonError]] (also one), and writes while the process serves queries
  * [[ReadOnlyStateError]]. `STATE_DIR` (default `/state/.the0-state`) is read at every call,
  * from a system property of that name when set, else from the environment.
  */
object State:

  /** The JSON text stored under `key`, or None when the key has no value. */
  def get(key: String): Option[String] =
    Core.ensureLoaded()
    val out = new Array[Long](1)
    val status = Libthe0.the0_state_get(env(), Core.cText(key, "the state key"), out)
    if status == Core.NotFound then None
    else
      Core.check(status)
      Some(Core.take(out(0)))

  /** The JSON text stored under `key`, or `default` when the key has no value. */
  def getOrElse(key: String, default: String): String = get(key).getOrElse(default)

  /** Stores the JSON text `json` under `key`. */
  def set(key: String, json: String): Unit =
    Core.ensureLoaded()
    Core.check(Libthe0.the0_state_set(env(), Core.cText(key, "the state key"), Core.cText(json, s"the value of state key $key")))

  /** Removes `key`; true when it had a value. */
  def delete(key: String): Boolean =
    Core.ensureLoaded()
    val existed = new Array[Int](1)
    Core.check(Libthe0.the0_state_delete(env(), Core.cText(key, "the state key"), existed))
    existed(0) != 0

  /** Every key that has a value, sorted. */
  def list(): Seq[String] =
    Core.ensureLoaded()
    val out = new Array[Long](1)
    Core.check(Libthe0.the0_state_list(env(), out))
    Json.stringArray(Core.take(out(0)))

  /** Removes every key. */
  def clear(): Unit =
    Core.ensureLoaded()
    Core.check(Libthe0.the0_state_clear(env()))

  /** Whether `key` has a value. */
  def exists(key: String): Boolean =
    Core.ensureLoaded()
    val out = new Array[Int](1)
    Core.check(Libthe0.the0_state_exists(env(), Core.cText(key, "the state key"), out))
    out(0) != 0

  private def env(): Array[Byte] = HostEnv.snapshot(Scope.State)
