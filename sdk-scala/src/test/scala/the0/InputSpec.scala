package the0

import java.nio.charset.StandardCharsets.UTF_8
import java.nio.file.{Files, Path}

import org.scalatest.funsuite.AnyFunSuite

import the0.TestSupport.*

class InputSpec extends AnyFunSuite:

  /** Runs `body` with CODE_MOUNT_DIR naming a fresh directory; returns the result file's path. */
  private def withMount(body: => Unit): Path =
    val mount = tempDir("bot")
    withProps("CODE_MOUNT_DIR" := mount.toString.stripPrefix("/"))(body)
    mount.resolve("result.json")

  test("parse gives the bot id and the configuration in canonical JSON text") {
    withProps("BOT_ID" := "bot-1", "BOT_CONFIG" := """{"symbol": "BTC/USD", "n": 3}""") {
      assert(Input.parse() == ("bot-1", """{"symbol":"BTC/USD","n":3}"""))
    }
    withProps("BOT_ID" := "bot-1", "BOT_CONFIG" := "") {
      assert(Input.parse() == ("bot-1", "{}"))
    }
  }

  test("parse fails clearly when a variable is missing or the configuration is not JSON") {
    withProps(unset("BOT_ID"), "BOT_CONFIG" := "{}") {
      val e = intercept[MissingEnvError](Input.parse())
      assert(e.isInstanceOf[IllegalArgumentException] && e.status == "MISSING_ENV")
      assert(e.getMessage == "environment variable BOT_ID is not set")
    }
    withProps("BOT_ID" := "b", "BOT_CONFIG" := "symbol=BTC") {
      val e = intercept[InvalidJsonError](Input.parse())
      assert(e.getMessage.startsWith("BOT_CONFIG is not valid JSON"), e.getMessage)
    }
  }

  test("success, result and resultRaw write the result file") {
    val quoted = "all \"good\"\n"
    assert(read(withMount(Input.success(quoted))) == """{"status":"success","message":"all \"good\"\n"}""")
    assert(read(withMount(Input.success("done", """{"trades": 2}"""))) ==
      """{"status":"success","message":"done","data":{"trades":2}}""")
    assert(read(withMount(Input.result("warning", "rate \\ limit"))) == """{"status":"warning","message":"rate \\ limit"}""")
    assert(read(withMount(Input.resultRaw("""{"status":"success","pnl":1.5}"""))) == """{"status":"success","pnl":1.5}""")
  }

  test("result data that is not JSON is refused and nothing is written") {
    val file = withMount {
      intercept[InvalidJsonError](Input.resultRaw("{oops"))
      intercept[InvalidJsonError](Input.success("done", "nope"))
    }
    assert(!Files.exists(file))
  }

  test("a result file that cannot be written is reported on stderr, not thrown") {
    val blocker = Files.createTempFile("the0-scala-", ".file")
    val (_, err) = captureErr {
      withProps("CODE_MOUNT_DIR" := blocker.toString.stripPrefix("/"))(Input.success("done"))
    }
    val line = lines(err)
    assert(line.size == 1 && line.head.contains(blocker.toString), line)
  }

  test("error writes the result file and ends the JVM with code 1") {
    val mount = tempDir("bot")
    val out = runJvm("the0.bots.Probe", Seq("error", "no data"), env = Map("CODE_MOUNT_DIR" -> mount.toString.stripPrefix("/")))
    assert(out.exitCode == 1, out)
    assert(out.stdout.isEmpty)
    assert(read(mount.resolve("result.json")) == """{"status":"error","message":"no data"}""")
  }

  test("metric prints one line on System.out, in UTF-8 whatever the stream's charset") {
    val (_, out) = captureOut {
      Input.metric("price", """{"symbol":"€/café","value":1.5,"_metric":"x"}""")
      Input.metric("count", "7")
    }
    val printed = lines(out)
    assert(printed.size == 2)
    val timestamp = """"timestamp":"([^"]+)"""".r
    assert(printed(0).startsWith("""{"_metric":"price","symbol":"€/café","value":1.5,"timestamp":""""), printed(0))
    assert(printed(1).startsWith("""{"_metric":"count","data":7,"timestamp":""""), printed(1))
    for line <- printed do
      val ts = timestamp.findFirstMatchIn(line).get.group(1)
      assert(Timestamp.matches(ts), ts)
  }

  test("metric data that is not JSON is refused and nothing is printed") {
    val (_, out) = captureOut(intercept[InvalidJsonError](Input.metric("price", "{")))
    assert(out.isEmpty)
  }

  test("log prints one line on System.err, with the upstream levels and level names") {
    val (_, err) = captureErr {
      Input.log("hello")
      Input.log("Connection lost", level = Input.LogLevel.Warn)
      Input.log("order \"filled\"", """{"id":7,"level":"bogus"}""", Input.LogLevel.Error)
      Input.log("by name", """{"x":"é"}""", "WARNING")
      Input.log("no data", null, "info")
    }
    val printed = lines(err).map(_.replaceAll(""""timestamp":"[^"]+"""", """"timestamp":"T""""))
    assert(printed == Vector(
      """{"level":"info","message":"hello","timestamp":"T"}""",
      """{"level":"warn","message":"Connection lost","timestamp":"T"}""",
      """{"level":"error","message":"order \"filled\"","id":7,"timestamp":"T"}""",
      """{"level":"warn","message":"by name","x":"é","timestamp":"T"}""",
      """{"level":"info","message":"no data","timestamp":"T"}"""
    ))
  }

  test("an unknown level name is the core's INVALID_ARGUMENT") {
    val e = intercept[InvalidArgumentError](Input.log("m", "{}", "loud"))
    assert(e.getMessage == "unknown log level \"loud\": expected info, warn or error")
  }

  test("LogLevel keeps upstream's shape") {
    assert(Seq(Input.LogLevel.Info, Input.LogLevel.Warn, Input.LogLevel.Error).map(_.value) == Seq("info", "warn", "error"))
  }
