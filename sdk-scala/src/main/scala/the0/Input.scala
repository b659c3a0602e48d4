package the0

import the0.internal.{Core, HostEnv, Json, Libthe0, Streams}
import the0.internal.HostEnv.Scope

/** The bot's input and output: its id and configuration, its result file, metric and log lines.
  *
  * {{{
  * val (botId, config) = Input.parse()            // config is JSON text
  * Input.metric("price", """{"symbol":"BTC/USD","value":45000.5}""")
  * Input.log("order placed", """{"order_id":"12345"}""", Input.LogLevel.Warn)
  * Input.success("done")                           // Input.error("why") writes and exits 1
  * }}}
  *
  * The result file is `/<CODE_MOUNT_DIR>/result.json` (default `/bot/result.json`). Metric lines
  * go to `System.out`, log lines to `System.err`, one JSON line each, formatted by the core:
  * data fields merged in, text escaped, an RFC 3339 UTC timestamp with milliseconds.
  */
object Input:

  /** The bot id (`BOT_ID`) and its configuration (`BOT_CONFIG`, in canonical JSON text; `{}`
    * when set but empty). Throws [[MissingEnvError]] when either is unset and [[InvalidJsonError]]
    * when the configuration is not JSON (both are IllegalArgumentExceptions).
    */
  def parse(): (String, String) =
    Core.ensureLoaded()
    val botId = new Array[Long](1)
    val config = new Array[Long](1)
    Core.check(Libthe0.the0_input_parse(env(), botId, config))
    (Core.take(botId(0)), Core.take(config(0)))

  /** Writes `{"status":"success","message":message}` to the result file. */
  def success(message: String): Unit = writeSuccess(message, null)

  /** Writes `{"status":"success","message":message,"data":<data>}`; `data` is JSON text. */
  def success(message: String, data: String): Unit = writeSuccess(message, data)

  /** Writes `{"status":"error","message":message}` to the result file and exits with code 1. */
  def error(message: String): Nothing = writeErrorAndExit(message, null)

  /** As [[error(message:String)*]], with `"data":<data>` (JSON text). */
  def error(message: String, data: String): Nothing = writeErrorAndExit(message, data)

  /** Writes `{"status":status,"message":message}` to the result file. */
  def result(status: String, message: String): Unit =
    resultRaw(s"""{"status":${Json.quote(status)},"message":${Json.quote(message)}}""")

  /** Writes the JSON text `json` as it is to the result file. */
  def resultRaw(json: String): Unit =
    writeResult((env, lines) => Libthe0.the0_input_result(env, Core.cText(json, "the result"), lines))

  /** Prints one metric line on stdout: `{"_metric":metricType,<fields of json>,"timestamp":...}`.
    * `json` is JSON text; a value that is not an object is kept under `"data"`.
    */
  def metric(metricType: String, json: String): Unit =
    Core.ensureLoaded()
    val line = new Array[Long](1)
    Core.check(Libthe0.the0_input_metric(Core.cText(metricType, "the metric type"), Core.cText(json, "the metric data"), line))
    Streams.out(Core.take(line(0)))

  /** Log levels of [[log]]. */
  sealed trait LogLevel:
    def value: String

  object LogLevel:
    case object Info extends LogLevel:
      val value = "info"
    case object Warn extends LogLevel:
      val value = "warn"
    case object Error extends LogLevel:
      val value = "error"

  /** Prints one log line on stderr: `{"level":...,"message":message,<fields of data>,"timestamp":...}`.
    * `data` is JSON text (an object's fields are merged in; `"{}"` adds none).
    */
  def log(message: String, data: String = "{}", level: LogLevel = LogLevel.Info): Unit =
    writeLog(message, data, level.value)

  /** As [[log]], with the level by name: `info`, `warn` (or `warning`) or `error`, in any case;
    * another name raises [[InvalidArgumentError]].
    */
  def log(message: String, data: String, level: String): Unit = writeLog(message, data, level)

  private def writeLog(message: String, data: String, level: String): Unit =
    Core.ensureLoaded()
    val line = new Array[Long](1)
    Core.check(
      Libthe0.the0_input_log(
        Core.cText(message, "the log message"),
        Core.cText(data, "the log data"),
        Core.cText(level, "the log level"),
        line
      )
    )
    Streams.err(Core.take(line(0)))

  private def writeSuccess(message: String, data: String): Unit =
    writeResult((env, lines) =>
      Libthe0.the0_input_success(env, Core.cText(message, "the message"), Core.cText(data, "the result data"), lines))

  private def writeErrorAndExit(message: String, data: String): Nothing =
    writeResult((env, lines) =>
      Libthe0.the0_input_error(env, Core.cText(message, "the message"), Core.cText(data, "the result data"), lines))
    sys.exit(1)

  /** Runs a result-file call (`env_json`, `out_stderr` → status): prints the lines it hands back
    * (a file that cannot be written is reported, not thrown), then throws for its status.
    */
  private def writeResult(call: (Array[Byte], Array[Long]) => Int): Unit =
    Core.ensureLoaded()
    val lines = new Array[Long](1)
    val status = call(env(), lines)
    Streams.err(Core.take(lines(0)))
    Core.check(status)

  private def env(): Array[Byte] = HostEnv.snapshot(Scope.Input)
