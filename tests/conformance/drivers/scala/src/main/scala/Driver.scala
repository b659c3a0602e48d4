/** The Scala SDK's conformance driver: the command line of the0-driver-rust
  * (tests/conformance/README.md), over the public API of `the0` only.
  *
  * {{{
  * driver query [--custom-info]         register the standard handlers, then Query.run()
  * driver state set KEY JSON | get KEY | exists KEY | delete KEY | list | clear
  * driver read-loop KEY COUNT           read KEY COUNT times, report torn or missing reads
  * driver input parse | success MSG [DATA] | error MSG | result JSON | metric TYPE JSON
  *              | log MSG [DATA|-] [LEVEL]
  * }}}
  *
  * `state` and `input` print one JSON line: `{"ok": <result>}` or
  * `{"error": {"status": "<STATUS>", "message": "<text>"}}`. The SDK's values are JSON text, so
  * the driver splices them into its lines as they are; it only quotes its own strings.
  */
import java.nio.charset.StandardCharsets.UTF_8

import the0.{Input, Query, State, The0Error}

object Driver:

  def main(args: Array[String]): Unit =
    args.toList match
      case "query" :: flags => runQuery(flags.contains("--custom-info"))
      case "state" :: op => emit(outcome(stateOp(op)))
      case List("read-loop", key, count) => readLoop(key, count.toInt)
      case "input" :: op => emit(outcome(inputOp(op)))
      case _ =>
        System.err.println("usage: driver query|state|read-loop|input ... (see Driver.scala)")
        sys.exit(2)

  /** Writes one line on stdout as UTF-8, whatever the JVM's default charset. */
  private def emit(line: String): Unit =
    val bytes = (line + "\n").getBytes(UTF_8)
    System.out.write(bytes, 0, bytes.length)
    System.out.flush()

  private def quote(s: String): String =
    val out = StringBuilder("\"")
    s.foreach {
      case '"' => out ++= "\\\""
      case '\\' => out ++= "\\\\"
      case c if c < ' ' => out ++= f"\\u${c.toInt}%04x"
      case c => out += c
    }
    (out += '"').toString

  private def stringsJson(params: Map[String, String]): String =
    params.toSeq.sortBy(_._1).map((k, v) => s"${quote(k)}:${quote(v)}").mkString("{", ",", "}")

  private def errorJson(e: The0Error): String =
    s"""{"status":${quote(e.status)},"message":${quote(e.asInstanceOf[Throwable].getMessage)}}"""

  private def outcome(result: => String): String =
    try s"""{"ok":$result}"""
    catch case e: The0Error => s"""{"error":${errorJson(e)}}"""

  /** The outcome of a state write attempted by a query handler. */
  private def writeProbe(write: => Unit): String =
    try
      write
      """{"written":true}"""
    catch case e: The0Error => s"""{"written":false,"error":${errorJson(e)}}"""

  private def runQuery(customInfo: Boolean): Unit =
    Query.handler("/echo") { req =>
      s"""{"path":${quote(req.path)},"params":${req.paramsJson},"strings":${stringsJson(req.params)}}"""
    }
    Query.handler("/fail") { _ => throw RuntimeException("deliberate failure") }
    Query.handler("/sleep") { req =>
      val ms = req.get("ms").flatMap(_.toIntOption).getOrElse(0)
      Thread.sleep(ms)
      s"""{"slept_ms":$ms}"""
    }
    Query.handler("/state") { req =>
      val key = req.getOrElse("key", "")
      try
        State.get(key) match
          case Some(value) => s"""{"key":${quote(key)},"exists":true,"value":$value}"""
          case None => s"""{"key":${quote(key)},"exists":false,"value":null}"""
      catch case e: The0Error => s"""{"key":${quote(key)},"error":${errorJson(e)}}"""
    }
    Query.handler("/write") { req =>
      writeProbe(State.set(req.getOrElse("key", ""), req.getOrElse("value", "null")))
    }
    Query.handler("/config") { _ => Query.getConfig }
    Query.handler("/params") { _ => stringsJson(Query.getParams) }
    if customInfo then Query.handler("/info") { _ => writeProbe(State.set("info-probe", "true")) }
    Query.run()

  private def stateOp(op: List[String]): String = op match
    case List("set", key, json) =>
      State.set(key, json)
      "null"
    case List("get", key) =>
      State.get(key) match
        case Some(value) => s"""{"found":true,"value":$value}"""
        case None => """{"found":false}"""
    case List("exists", key) => State.exists(key).toString
    case List("delete", key) => State.delete(key).toString
    case List("list") => State.list().map(quote).mkString("[", ",", "]")
    case List("clear") =>
      State.clear()
      "null"
    case _ => unknown("state", op)

  private def readLoop(key: String, count: Int): Unit =
    var missing, torn, failed = 0
    for _ <- 1 to count do
      try if State.get(key).isEmpty then missing += 1
      catch
        case _: the0.CorruptStateError => torn += 1
        case _: The0Error => failed += 1
    emit(s"""{"reads":$count,"missing":$missing,"torn":$torn,"failed":$failed}""")

  private def inputOp(op: List[String]): String = op match
    case List("parse") =>
      val (botId, config) = Input.parse()
      s"""{"bot_id":${quote(botId)},"config":$config}"""
    case List("success", message) =>
      Input.success(message)
      "null"
    case List("success", message, data) =>
      Input.success(message, data)
      "null"
    case List("error", message) => Input.error(message)
    case List("result", json) =>
      Input.resultRaw(json)
      "null"
    case List("metric", kind, json) =>
      Input.metric(kind, json)
      "null"
    case "log" :: message :: rest =>
      val data = rest.headOption.filter(_ != "-").orNull
      rest.lift(1) match
        case Some(level) => Input.log(message, data, level)
        case None if data == null => Input.log(message)
        case None => Input.log(message, data)
      "null"
    case _ => unknown("input", op)

  private def unknown(kind: String, op: List[String]): Nothing =
    System.err.println(s"unknown $kind operation ${op.mkString(" ")}")
    sys.exit(2)
