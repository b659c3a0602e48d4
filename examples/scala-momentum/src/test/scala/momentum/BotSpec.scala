package momentum

import java.nio.charset.StandardCharsets.UTF_8
import java.nio.file.{Files, Path}
import java.util.concurrent.TimeUnit

import scala.jdk.CollectionConverters.*

import org.scalatest.funsuite.AnyFunSuite

/** The bot and its queries as the platform runs them: separate JVMs, sharing a state directory. */
class BotSpec extends AnyFunSuite:

  private val dir = Files.createTempDirectory("the0-momentum-")
  private val state = dir.resolve("state")
  private val config = """{"symbol":"ETH/USD","window":3,"threshold_pct":0.3,"tick_interval_ms":0,"seed":11}"""

  private def jvm(main: String, env: (String, String)*): ProcessBuilder = jvmOn(state, main, env*)

  private def jvmOn(state: Path, main: String, env: (String, String)*): ProcessBuilder =
    val java = Option(System.getProperty("the0.test.java")).getOrElse("java")
    val builder = ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), main)
    builder.environment().putAll((Map("STATE_DIR" -> state.toString, "BOT_ID" -> "m-1", "BOT_CONFIG" -> config) ++ env).asJava)
    builder

  private def run(main: String, env: (String, String)*): (Int, Vector[String]) =
    val out = dir.resolve("out.txt")
    val process = jvm(main, env*).redirectOutput(out.toFile).redirectError(ProcessBuilder.Redirect.INHERIT).start()
    assert(process.waitFor(2, TimeUnit.MINUTES), s"$main did not end")
    (process.exitValue, Files.readAllLines(out, UTF_8).asScala.toVector)

  private def stored: Strategy = storedIn(state)

  private def storedIn(state: Path): Strategy = Strategy.fromJson(Files.readString(state.resolve("momentum.json")))

  private def withConfig(extra: String) = "BOT_CONFIG" -> config.replace("}", s",$extra}")

  test("runs, stores its strategy, continues from it, and its queries report it") {
    val mount = dir.resolve("bot")
    Files.createDirectories(mount)
    val (code, lines) = run("momentum.BotMain", withConfig(""""max_iterations":6"""), "CODE_MOUNT_DIR" -> mount.toString.stripPrefix("/"))
    assert(code == 0)
    assert(lines.count(_.startsWith("""{"_metric":"price","symbol":"ETH/USD","price":""")) == 6, lines)
    assert(stored.tick == 6)
    assert(Files.readString(mount.resolve("result.json")).startsWith("""{"status":"success","message":"processed 6 prices""""))

    val (again, _) = run("momentum.BotMain", withConfig(""""max_iterations":14"""), "CODE_MOUNT_DIR" -> mount.toString.stripPrefix("/"))
    assert(again == 0)
    val straight = (1 to 20).foldLeft(Strategy.fresh("ETH/USD"))((s, _) => s.step(Settings.fromJson(config))._1)
    assert(stored == straight, "a restarted bot continues the same series")

    val result = dir.resolve("result.json")
    val (queried, _) = run("momentum.QueryMain", "QUERY_PATH" -> "/status", "THE0_QUERY_RESULT_FILE" -> result.toString)
    assert(queried == 0)
    val status = ujson.read(Files.readString(result))
    assert(status("status").str == "ok")
    assert(status("data")("tick").num == 20 && status("data")("signal_count").num == straight.signalCount)

    val (bad, _) = run("momentum.QueryMain", "QUERY_PATH" -> "/signals", "QUERY_PARAMS" -> """{"limit":"many"}""",
      "THE0_QUERY_RESULT_FILE" -> result.toString)
    assert(bad == 1)
    assert(Files.readString(result) == """{"status":"error","error":"limit must be a positive integer, got \"many\""}""")
  }

  test("SIGTERM lets the current tick finish: every price printed is stored") {
    val own = Files.createTempDirectory("the0-momentum-sigterm-")
    val process = jvmOn(own, "momentum.BotMain", withConfig(""""tick_interval_ms":20""")).redirectError(ProcessBuilder.Redirect.INHERIT).start()
    val stdout = scala.io.Source.fromInputStream(process.getInputStream, "UTF-8").getLines()
    val firstTicks = stdout.take(3).toVector // readiness: three ticks printed
    assert(firstTicks.forall(_.contains("\"_metric\":\"price\"")), firstTicks)
    // SIGTERM, as `kill` sends it (Process.destroy would also close the streams read here).
    assert(ProcessBuilder("kill", "-TERM", process.pid.toString).start().waitFor() == 0)
    val rest = stdout.toVector
    assert(process.waitFor(1, TimeUnit.MINUTES))
    assert(process.exitValue == 143, "the JVM ends as SIGTERM asks, after its hook")
    val prices = (firstTicks ++ rest).count(_.contains("\"_metric\":\"price\""))
    assert(storedIn(own).tick == prices, s"$prices prices printed")
  }
