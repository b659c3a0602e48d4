package the0

import java.util.concurrent.ConcurrentHashMap

import the0.internal.{Core, HostEnv, Json, Libthe0, QueryService}
import the0.internal.HostEnv.Scope

/** Query handlers: read-only answers about the bot, over HTTP for realtime bots or once per run
  * for scheduled ones.
  *
  * {{{
  * Query.handler("/portfolio") { req =>
  *   val symbol = req.getOrElse("symbol", "BTC/USD")
  *   s"""{"symbol": ${quoted(symbol)}, "positions": ${State.getOrElse("positions", "[]")}}"""
  * }
  * Query.run()
  * }}}
  *
  * A handler returns its answer as JSON text (answered 200 `{"status":"ok","data":<answer>}`);
  * text that is not JSON, or an exception, is answered 500 with the message. `run()` detects the
  * mode: `QUERY_PATH` set → answer that query once into `/query/result.json` (exit code 1 when it
  * failed); `BOT_TYPE=realtime` → serve HTTP on `THE0_QUERY_SOCKET` or
  * `0.0.0.0:${THE0_QUERY_PORT:-9476}` until SIGTERM / SIGINT or [[stop]]; otherwise write the
  * `/info` answer. The server is the core's: concurrent, bounded, with timeouts (504); handlers
  * run on daemon threads of this SDK (`THE0_QUERY_WORKERS`, default [[DefaultWorkers]]).
  */
object Query:

  /** The same class as [[the0.ReadOnlyStateError]], under the name upstream's Query module gave it. */
  type ReadOnlyStateError = the0.ReadOnlyStateError

  /** A query: its path and its parameters in string form (a string as it is, any other JSON
    * value as its JSON text), from the URL query string and a JSON object body.
    */
  case class Request(path: String, params: Map[String, String]):
    private var typed: String = null

    /** The parameter `key`, in string form. */
    def get(key: String): Option[String] = params.get(key)

    /** The parameter `key` in string form, or `default` when it is absent. */
    def getOrElse(key: String, default: String): String = params.getOrElse(key, default)

    /** Whether the parameter `key` is present. */
    def has(key: String): Boolean = params.contains(key)

    /** The parameters as a JSON object with their JSON types (a JSON body's `{"limit": 5}` keeps
      * the number; query-string values are strings).
      */
    def paramsJson: String =
      if typed != null then typed
      else params.toSeq.sortBy(_._1).map((k, v) => s"${Json.quote(k)}:${Json.quote(v)}").mkString("{", ",", "}")

  object Request:
    /** A request as the core handed it over: string forms and typed JSON text. */
    private[the0] def fromCore(path: String, strings: Map[String, String], typed: String): Request =
      val request = Request(path, strings)
      request.typed = typed
      request

  /** A handler: the request in, the answer out as JSON text. */
  type Handler = Request => String

  /** Handler threads in server mode unless `THE0_QUERY_WORKERS` says otherwise. */
  val DefaultWorkers: Int = math.max(4, 2 * Runtime.getRuntime.availableProcessors)

  private val handlers = ConcurrentHashMap[String, Handler]()

  /** Registers `fn` for `path` (a missing leading `/` is added). Register before [[run]]. */
  def handler(path: String)(fn: Handler): Unit =
    Core.ensureLoaded()
    val stored = new Array[Long](1)
    Core.check(Libthe0.the0_query_register(Core.cText(path, "the query path"), stored))
    handlers.put(Core.take(stored(0)), fn)

  /** The parameters of the query being answered on this thread, in string form; outside a
    * handler, those of `QUERY_PARAMS` when `QUERY_PATH` is set, else none.
    */
  def getParams: Map[String, String] =
    QueryService.current match
      case Some(request) => request.params
      case None =>
        Core.ensureLoaded()
        val typed = new Array[Long](1)
        val strings = new Array[Long](1)
        Core.check(Libthe0.the0_query_params(env(), typed, strings))
        Core.take(typed(0))
        Json.stringObject(Core.take(strings(0)))

  /** The bot configuration (`BOT_CONFIG`) as JSON text; `{}` when it is unset or not JSON. */
  def getConfig: String =
    Core.ensureLoaded()
    val out = new Array[Long](1)
    Core.check(Libthe0.the0_query_config(env(), out))
    Core.take(out(0))

  /** Whether this process answers queries (`QUERY_PATH` set, or the service running), so state
    * is read-only.
    */
  def isQueryMode: Boolean =
    Core.ensureLoaded()
    val out = new Array[Int](1)
    Core.check(Libthe0.the0_query_is_query_mode(env(), out))
    out(0) != 0

  /** Runs the query system in the detected mode and returns when it is done (server: after
    * SIGTERM, SIGINT or [[stop]], once requests in flight are answered). A failed ephemeral query,
    * a server that cannot start, or a handler given up on ends the JVM with code 1
    * (`System.exit`: shutdown hooks run). Handler threads are daemons: the JVM ends normally
    * after `run()` returns.
    */
  def run(): Unit = QueryService.run(handlers)

  /** Asks a running server to stop, as SIGTERM does; [[run]] then returns. Nothing happens when
    * no server runs.
    */
  def stop(): Unit = QueryService.stop()

  private def env(): Array[Byte] = HostEnv.snapshot(Scope.Query)
