package the0.internal

import java.nio.charset.StandardCharsets.UTF_8
import java.util.concurrent.{ConcurrentHashMap, CountDownLatch}

import scala.util.control.NonFatal

import sun.misc.{Signal, SignalHandler}

import the0.Query
import the0.internal.HostEnv.Scope

/** One run of the query system, the JVM's side of the poll model (ARCHITECTURE.md, "What a host
  * must do", 6): start the core's service, take requests on daemon threads this SDK owns, answer
  * them, finish, and end the JVM when the core says the run failed. The core never calls into
  * the JVM.
  */
private[the0] object QueryService:

  // THE0_MODE_* and THE0_REPLY_*: part of the ABI.
  private val ServerMode = 2
  private val ReplyOk = 0
  private val ReplyError = 1
  private val ReplyUnserializable = 2

  /** How long one `next` waits before polling again. */
  private val PollMs = 1000

  private val currentRequest = ThreadLocal[Query.Request]()

  /** The request the calling thread is answering, if any. */
  def current: Option[Query.Request] = Option(currentRequest.get)

  /** Asks the running server to stop; a no-op when none runs (the core then says INVALID_STATE). */
  def stop(): Unit =
    Core.ensureLoaded()
    Libthe0.the0_query_stop()

  def run(handlers: ConcurrentHashMap[String, Query.Handler]): Unit =
    Core.ensureLoaded()
    // SIGTERM and SIGINT stop the server instead of ending the JVM at once; installed before the
    // server listens, kept only in server mode.
    val signals = StopSignals.install()
    val mode = new Array[Int](1)
    val workers = new Array[Int](1)
    val lines = new Array[Long](1)
    val status = Libthe0.the0_query_start(HostEnv.snapshot(Scope.Query), 0, Query.DefaultWorkers, mode, workers, lines)
    Streams.err(Core.take(lines(0)))
    if status != Core.Ok then
      signals.restore()
      exit(1)
    if mode(0) != ServerMode then signals.restore()
    else if signals.received then stop()

    val done = CountDownLatch(1)
    for n <- 1 to workers(0) do
      val worker = Thread(() => poll(handlers, done), s"the0-query-$n")
      worker.setDaemon(true)
      worker.start()
    if mode(0) == ServerMode then
      awaitStop(done)
      signals.restore()
    finish()

  /** Waits until the server has stopped handing out requests; an interrupt asks it to stop. */
  private def awaitStop(done: CountDownLatch): Unit =
    var interrupted = false
    while done.getCount > 0 do
      try done.await()
      catch
        case _: InterruptedException =>
          interrupted = true
          stop()
    if interrupted then Thread.currentThread.interrupt()

  /** A worker: takes requests until the service says there are no more. */
  private def poll(handlers: ConcurrentHashMap[String, Query.Handler], done: CountDownLatch): Unit =
    val id = new Array[Long](1)
    val path = new Array[Long](1)
    val params = new Array[Long](1)
    val strings = new Array[Long](1)
    var polling = true
    while polling do
      Libthe0.the0_query_next(PollMs, id, path, params, strings) match
        case Core.Ok =>
          val request = Query.Request.fromCore(Core.take(path(0)), Json.stringObject(Core.take(strings(0))), Core.take(params(0)))
          answer(id(0), request, handlers.get(request.path))
        case Core.Timeout => ()
        case _ => polling = false // DONE; or the run is over (finished) and the service is gone
    done.countDown()

  /** Runs `handler` for `request` and hands its answer to the core. A late answer (the request
    * timed out, UNKNOWN_REQUEST) and an answer that is not JSON (answered 500 by the core,
    * INVALID_JSON) need nothing more.
    */
  private def answer(id: Long, request: Query.Request, handler: Query.Handler): Unit =
    currentRequest.set(request)
    val (reply, body) =
      try
        handler(request) match
          case null => (ReplyOk, "null")
          case text if text.indexOf('\u0000') >= 0 =>
            (ReplyUnserializable, "the answer contains a NUL character, which the0's C ABI cannot carry")
          case text => (ReplyOk, text)
      catch case NonFatal(e) => (ReplyError, message(e))
      finally currentRequest.remove()
    Libthe0.the0_query_respond(id, reply, (body + "\u0000").getBytes(UTF_8))

  /** An exception's message for an error answer (its class name when it has none). */
  private def message(e: Throwable): String =
    Option(e.getMessage).getOrElse(e.getClass.getName).replace('\u0000', '\uFFFD')

  /** Ends the run: waits for the service, prints its lines, and ends the JVM when the run failed
    * or a handler hangs past its timeout (its daemon thread does not hold the JVM).
    */
  private def finish(): Unit =
    val exitCode = new Array[Int](1)
    val lines = new Array[Long](1)
    val status = Libthe0.the0_query_finish(exitCode, lines)
    Streams.err(Core.take(lines(0)))
    if status == Core.Timeout then exit(exitCode(0))
    Core.check(status)
    if exitCode(0) != 0 then exit(exitCode(0))

  private def exit(code: Int): Nothing =
    System.out.flush()
    sys.exit(code)

  /** SIGTERM and SIGINT handled the JVM's way (`sun.misc.Signal`): they stop the server, then
    * `run()` returns and the JVM ends normally, with code 0.
    */
  private final class StopSignals private (previous: Seq[(Signal, SignalHandler)], flag: java.util.concurrent.atomic.AtomicBoolean):
    def received: Boolean = flag.get
    def restore(): Unit = previous.foreach(Signal.handle(_, _))

  private object StopSignals:
    def install(): StopSignals =
      val flag = java.util.concurrent.atomic.AtomicBoolean(false)
      val onSignal: SignalHandler = _ =>
        flag.set(true)
        stop()
      StopSignals(Seq("TERM", "INT").map(name => Signal(name)).map(s => s -> Signal.handle(s, onSignal)), flag)
