package the0

import java.nio.file.Files

import org.scalatest.funsuite.AnyFunSuite

import the0.TestSupport.*

/** The environment rule (ARCHITECTURE.md, "What a host must do", 2): the core reads the JVM's
  * view — a system property of a variable's name when set, else the variable — at every call.
  */
class EnvSpec extends AnyFunSuite:

  test("an environment variable is read when no property overrides it") {
    val fromEnv = tempDir("env")
    val out = runJvm("the0.bots.Probe", Seq("state-set", "k", "1"), env = Map("STATE_DIR" -> fromEnv.toString))
    assert(out == Outcome(0, "ok\n", ""), out)
    assert(read(fromEnv.resolve("k.json")) == "1")
  }

  test("a system property of the same name overrides the variable") {
    val (fromEnv, fromProp) = (tempDir("env"), tempDir("prop"))
    val out = runJvm("the0.bots.Probe", Seq("state-set", "k", "2"),
      env = Map("STATE_DIR" -> fromEnv.toString), props = Map("STATE_DIR" -> fromProp.toString))
    assert(out.exitCode == 0, out)
    assert(read(fromProp.resolve("k.json")) == "2")
    assert(Files.list(fromEnv).count() == 0)
  }

  test("the environment and the properties are read at every call, never cached") {
    val (first, second) = (tempDir("first"), tempDir("second"))
    withProps("STATE_DIR" := first.toString, unset("QUERY_PATH")) {
      State.set("a", "1")
      System.setProperty("STATE_DIR", second.toString)
      State.set("b", "2")
      assert(State.list() == Seq("b"))
      System.setProperty("QUERY_PATH", "/q")
      intercept[ReadOnlyStateError](State.set("c", "3"))
      System.clearProperty("QUERY_PATH") // cleared: the (unset) variable shows through again
      State.set("c", "3")
    }
    assert(read(first.resolve("a.json")) == "1")
    assert(Files.exists(second.resolve("b.json")) && Files.exists(second.resolve("c.json")))
  }

  test("input and query calls read the same view") {
    withProps("BOT_ID" := "bot-7", "BOT_CONFIG" := """{"symbol": "ETH"}""", unset("QUERY_PATH")) {
      assert(Input.parse() == ("bot-7", """{"symbol":"ETH"}"""))
      assert(Query.getConfig == """{"symbol":"ETH"}""")
      assert(!Query.isQueryMode)
      System.setProperty("QUERY_PATH", "/status")
      assert(Query.isQueryMode)
    }
    val out = runJvm("the0.bots.Probe", Seq("parse"), env = Map("BOT_ID" -> "from-env", "BOT_CONFIG" -> """{"n":1}"""),
      props = Map("BOT_ID" -> "from-prop"))
    assert(out == Outcome(0, "from-prop {\"n\":1}\n", ""), out)
  }
