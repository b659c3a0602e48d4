package the0

import java.io.{OutputStream, PrintStream}
import java.nio.charset.StandardCharsets.UTF_8
import java.nio.file.{Files, Path}
import java.util.concurrent.{CountDownLatch, TimeUnit}

import org.scalatest.funsuite.AnyFunSuite

import the0.Http.{Loopback, Target, Unix}
import the0.TestSupport.*

class QuerySpec extends AnyFunSuite:

  private val release = CountDownLatch(1)

  // The handlers of the in-process servers (the registry is the process's).
  Query.handler("/echo") { req =>
    s"""{"path":${q(req.path)},"params":${req.paramsJson},"strings":${strings(req.params)}}"""
  }
  Query.handler("/params") { _ => strings(Query.getParams) }
  Query.handler("/fail") { _ => throw IllegalStateException("deliberate \"failure\"") }
  Query.handler("/not-json") { _ => "{oops" }
  Query.handler("/null") { _ => null }
  Query.handler("/write") { _ =>
    try
      State.set("k", "1")
      """{"written":true}"""
    catch case e: The0Error => s"""{"written":false,"status":${q(e.status)}}"""
  }
  Query.handler("/state") { req => State.getOrElse(req.getOrElse("key", ""), "null") }
  Query.handler("/sleep") { req =>
    Thread.sleep(req.getOrElse("ms", "0").toLong)
    "true"
  }
  Query.handler("/wait") { _ => s"""{"released":${release.await(20, TimeUnit.SECONDS)}}""" }
  Query.handler("release") { _ =>
    release.countDown()
    "true"
  }

  private def q(s: String): String = internal.Json.quote(s)

  private def strings(params: Map[String, String]): String =
    params.toSeq.sortBy(_._1).map((k, v) => s"${q(k)}:${q(v)}").mkString("{", ",", "}")

  /** An error stream that remembers what is written and wakes a waiter at each write. */
  private final class Recorder extends OutputStream:
    private val bytes = java.io.ByteArrayOutputStream()
    override def write(b: Int): Unit = synchronized {
      bytes.write(b)
      notifyAll()
    }
    override def write(b: Array[Byte], off: Int, len: Int): Unit = synchronized {
      bytes.write(b, off, len)
      notifyAll()
    }
    def text: String = synchronized(String(bytes.toByteArray, UTF_8))
    /** Waits (at most a minute: a server that never starts fails the test) for a line containing `needle`. */
    def await(needle: String): String = synchronized {
      val deadline = System.nanoTime + TimeUnit.MINUTES.toNanos(1)
      while !text.contains(needle) && System.nanoTime < deadline do wait(1000)
      text.linesIterator.find(_.contains(needle)).getOrElse(fail(s"no '$needle' line in: $text"))
    }

  /** Runs `Query.run()` in server mode on a thread with the properties `settings` and a fresh
    * STATE_DIR, gives `body` where it listens, then stops it and checks that `run()` returned.
    */
  private def withServer(settings: (String, Option[String])*)(body: (Target, Path) => Unit): Unit =
    val state = tempDir("state")
    Files.writeString(state.resolve("position.json"), """{"qty":1.5}""")
    withProps(Seq("BOT_TYPE" := "realtime", "STATE_DIR" := state.toString, unset("QUERY_PATH"),
                  unset("THE0_QUERY_SOCKET"), "THE0_QUERY_HOST" := "127.0.0.1", "THE0_QUERY_PORT" := "0") ++ settings*) {
      val recorder = Recorder()
      val original = System.err
      System.setErr(PrintStream(recorder, true, UTF_8))
      val runner = Thread(() => Query.run(), "test-query-run")
      runner.start()
      val target =
        try Http.target(recorder.await("Query server started on"))
        finally System.setErr(original)
      try body(target, state)
      finally
        Query.stop()
        runner.join(TimeUnit.MINUTES.toMillis(1))
      assert(!runner.isAlive, "Query.run() did not return after Query.stop()")
    }

  private def json(response: Http.Response): String =
    assert(response.contentType.contains("application/json"))
    response.body

  test("server over TCP: parameters from the query string and from a JSON body") {
    withServer() { (target, _) =>
      val fromQuery = Http.get(target, "/echo?symbol=BTC%2FUSD&n=3")
      assert(fromQuery.status == 200)
      assert(json(fromQuery) ==
        """{"status":"ok","data":{"path":"/echo","params":{"symbol":"BTC/USD","n":"3"},"strings":{"n":"3","symbol":"BTC/USD"}}}""")

      val fromBody = Http.post(target, "/echo?src=url", """{"limit": 5, "flag": true, "name": "x", "tags": ["a"]}""")
      assert(fromBody.status == 200)
      assert(json(fromBody) == """{"status":"ok","data":{"path":"/echo",""" +
        """"params":{"src":"url","limit":5,"flag":true,"name":"x","tags":["a"]},""" +
        """"strings":{"flag":"true","limit":"5","name":"x","src":"url","tags":"[\"a\"]"}}}""")

      assert(json(Http.post(target, "/params", """{"i": 7}""")) == """{"status":"ok","data":{"i":"7"}}""")
      assert(json(Http.get(target, "/state?key=position")) == """{"status":"ok","data":{"qty":1.5}}""")
      assert(json(Http.get(target, "/null")) == """{"status":"ok","data":null}""")
      assert(Http.get(target, "/health").status == 200)
    }
  }

  test("server: 404 for an unknown path, 500 for a failing handler or an answer that is not JSON") {
    withServer() { (target, _) =>
      val missing = Http.get(target, "/nope")
      assert(missing.status == 404)
      assert(json(missing).startsWith("""{"status":"error","error":"No handler for path: /nope","available":["""))
      assert(missing.body.contains("\"/echo\"") && missing.body.contains("\"/release\""))

      val failed = Http.get(target, "/fail")
      assert(failed.status == 500)
      assert(json(failed) == """{"status":"error","error":"deliberate \"failure\""}""")

      val notJson = Http.get(target, "/not-json")
      assert(notJson.status == 500)
      assert(json(notJson).startsWith("""{"status":"error","error":"""), notJson.body)
      assert(Http.get(target, "/echo").status == 200, "the server keeps serving")
    }
  }

  test("server: state is read-only while serving, and writable again after run() returns") {
    withServer() { (target, _) =>
      assert(json(Http.get(target, "/write")) == """{"status":"ok","data":{"written":false,"status":"READ_ONLY"}}""")
      assert(Query.isQueryMode)
    }
    val dir = tempDir("state")
    withProps("STATE_DIR" := dir.toString, unset("QUERY_PATH")) {
      assert(!Query.isQueryMode)
      State.set("k", "1")
    }
  }

  test("server: handlers run on several threads at once") {
    withServer() { (target, _) =>
      var waited: Http.Response = null
      val waiter = Thread(() => waited = Http.get(target, "/wait"))
      waiter.start()
      // /wait holds one handler thread until /release runs on another one.
      assert(json(Http.get(target, "/release")) == """{"status":"ok","data":true}""")
      waiter.join()
      assert(json(waited) == """{"status":"ok","data":{"released":true}}""")
    }
  }

  test("server: a handler past THE0_QUERY_TIMEOUT_MS gets 504, and the server stops without waiting for it") {
    withServer("THE0_QUERY_TIMEOUT_MS" := "200") { (target, _) =>
      val slow = Http.get(target, "/sleep?ms=5000")
      assert(slow.status == 504)
      assert(json(slow).startsWith("""{"status":"error","error":"""))
      assert(Http.get(target, "/echo").status == 200)
    }
  }

  test("server over a Unix socket; the socket file is removed when it stops") {
    val socket = tempDir("sock").resolve("q.sock")
    withServer("THE0_QUERY_SOCKET" := socket.toString) { (target, _) =>
      assert(target == Unix(socket))
      assert(json(Http.post(target, "/echo", """{"n": 1}""")) ==
        """{"status":"ok","data":{"path":"/echo","params":{"n":1},"strings":{"n":"1"}}}""")
    }
    assert(!Files.exists(socket))
  }

  test("Request keeps upstream's accessors and adds the typed parameters") {
    val req = Query.Request("/portfolio", Map("symbol" -> "BTC/USD", "n" -> "5"))
    assert(req.get("symbol").contains("BTC/USD") && req.get("missing").isEmpty)
    assert(req.getOrElse("symbol", "x") == "BTC/USD" && req.getOrElse("missing", "d") == "d")
    assert(req.has("n") && !req.has("missing"))
    assert(req.path == "/portfolio")
    assert(req.paramsJson == """{"n":"5","symbol":"BTC/USD"}""")
    val handler: Query.Handler = r => s"""{"n":${r.getOrElse("n", "0")}}"""
    assert(handler(req) == """{"n":5}""")
  }

  test("getParams outside a handler: QUERY_PARAMS in string form; getConfig and isQueryMode") {
    withProps("QUERY_PATH" := "/status", "QUERY_PARAMS" := """{"limit": 5, "symbol": "ETH"}""", "BOT_CONFIG" := """{"a" : 1}""") {
      assert(Query.getParams == Map("limit" -> "5", "symbol" -> "ETH"))
      assert(Query.getConfig == """{"a":1}""")
      assert(Query.isQueryMode)
    }
    withProps(unset("QUERY_PATH"), unset("QUERY_PARAMS"), "BOT_CONFIG" := "not json") {
      assert(Query.getParams.isEmpty)
      assert(Query.getConfig == "{}")
      assert(!Query.isQueryMode)
    }
  }

  // Ephemeral and info modes end the JVM on failure: they run in child JVMs (the0.bots.QueryBot).

  private def ephemeral(path: String, params: String = "{}", extra: Map[String, String] = Map.empty): (Outcome, String) =
    val dir = tempDir("ephemeral")
    val result = dir.resolve("query/result.json")
    val env = Map("STATE_DIR" -> dir.resolve("state").toString, "THE0_QUERY_RESULT_FILE" -> result.toString) ++
      (if path.isEmpty then Map.empty else Map("QUERY_PATH" -> path, "QUERY_PARAMS" -> params)) ++ extra
    val out = runJvm("the0.bots.QueryBot", env = env)
    (out, if Files.exists(result) then read(result) else "<no result file>")

  test("ephemeral: the answer goes to the result file, exit 0, and the JVM ends normally after run()") {
    val (out, result) = ephemeral("/echo", """{"limit": 5, "symbol": "BTC"}""")
    assert(result == """{"status":"ok","data":{"path":"/echo","params":{"limit":5,"symbol":"BTC"},"strings":{"limit":"5","symbol":"BTC"}}}""")
    assert(out == Outcome(0, "after run\nhook ran\n", ""), out)
  }

  test("ephemeral: a failing handler or an unknown path writes the error and exits 1, with shutdown hooks") {
    val (failed, failure) = ephemeral("/fail")
    assert(failure == """{"status":"error","error":"deliberate failure"}""")
    assert(failed.exitCode == 1 && failed.stdout == "hook ran\n", failed)

    val (unknown, missing) = ephemeral("/nope")
    assert(missing.startsWith("""{"status":"error","error":"No handler for path: /nope","available":["""), missing)
    assert(unknown.exitCode == 1, unknown)
  }

  test("ephemeral: state is read-only in the query process") {
    val (out, result) = ephemeral("/write")
    assert(result == """{"status":"ok","data":{"written":false,"status":"READ_ONLY"}}""")
    assert(out.exitCode == 0, out)
  }

  test("ephemeral: a handler that hangs past the timeout gets 504 and the JVM still ends, code 1") {
    val (out, result) = ephemeral("/hang", extra = Map("THE0_QUERY_TIMEOUT_MS" -> "300"))
    assert(result.startsWith("""{"status":"error","error":"""), result)
    assert(result.contains("300"), result)
    assert(out.exitCode == 1, out)
    assert(out.stdout == "hook ran\n", out)
    assert(out.stderr.nonEmpty, "the core's timeout line is printed")
  }

  test("info mode writes the available queries, exit 0") {
    val (out, result) = ephemeral("")
    assert(result.startsWith("""{"status":"ok","data":{"available_queries":["""), result)
    assert(Seq("/echo", "/fail", "/hang", "/write", "/health", "/info").forall(p => result.contains(s"\"$p\"")), result)
    assert(out == Outcome(0, "after run\nhook ran\n", ""), out)
  }

  test("server in its own JVM: SIGTERM stops it, run() returns, the JVM exits 0 after its shutdown hooks") {
    val dir = tempDir("server")
    val process = childJvm("the0.bots.QueryBot",
      env = Map("BOT_TYPE" -> "realtime", "STATE_DIR" -> dir.toString, "THE0_QUERY_HOST" -> "127.0.0.1", "THE0_QUERY_PORT" -> "0"))
      .redirectOutput(dir.resolve("stdout").toFile).start()
    val stderr = scala.io.Source.fromInputStream(process.getErrorStream, "UTF-8").getLines()
    val target = Http.target(stderr.find(_.contains("Query server started on")).getOrElse(fail("no start line")))
    assert(target.isInstanceOf[Loopback])
    assert(Http.get(target, "/echo?a=b").status == 200)
    process.destroy() // SIGTERM
    assert(process.waitFor(1, TimeUnit.MINUTES), "the server did not stop on SIGTERM")
    assert(process.exitValue == 0)
    assert(read(dir.resolve("stdout")) == "after run\nhook ran\n")
  }

  test("a server that cannot listen says why on stderr and exits 1") {
    val taken = java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress)
    try
      val out = runJvm("the0.bots.QueryBot",
        env = Map("BOT_TYPE" -> "realtime", "THE0_QUERY_HOST" -> "127.0.0.1", "THE0_QUERY_PORT" -> taken.getLocalPort.toString))
      assert(out.exitCode == 1, out)
      assert(out.stderr.contains(s"cannot listen on 127.0.0.1:${taken.getLocalPort}"), out)
      assert(out.stdout == "hook ran\n")
    finally taken.close()
  }
