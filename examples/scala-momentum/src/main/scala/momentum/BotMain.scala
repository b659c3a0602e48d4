package momentum

import java.util.concurrent.CountDownLatch

import the0.{Input, State}

/** The bot (`java -jar momentum.jar`): one tick per `tick_interval_ms` — a price from the
  * simulated feed, a `price` metric, a `signal` metric when the momentum turns, then the state —
  * until `max_iterations` ticks or SIGTERM. On SIGTERM a shutdown hook lets the current tick
  * finish and its state be written before the JVM ends.
  */
object BotMain:
  @volatile private var running = true

  def main(args: Array[String]): Unit =
    val (botId, config) = Input.parse()
    val settings = Settings.fromJson(config)
    var strategy = Strategy.load(settings.symbol)
    val stopped = CountDownLatch(1)
    val main = Thread.currentThread
    Runtime.getRuntime.addShutdownHook(Thread { () =>
      running = false
      // Bounded: a System.exit on the main thread would wait for this hook while it waits for main.
      if main.isAlive then stopped.await(10, java.util.concurrent.TimeUnit.SECONDS)
    })
    Input.log("momentum bot started", s"""{"bot_id":${ujson.write(botId)},"symbol":${ujson.write(settings.symbol)},"resumed_at_tick":${strategy.tick}}""")

    var ticks = 0L
    try
      while running && (settings.maxIterations == 0 || ticks < settings.maxIterations) do
        val (next, signal) = strategy.step(settings)
        strategy = next
        ticks += 1
        Input.metric("price", ujson.write(ujson.Obj(
          "symbol" -> settings.symbol, "price" -> strategy.lastPrice.get, "tick" -> strategy.tick.toDouble,
          "momentum_pct" -> strategy.momentumPct)))
        signal.foreach(s => Input.metric("signal", ujson.write(s.toJson)))
        State.set(Strategy.StateKey, strategy.toJson)
        if running && settings.tickIntervalMs > 0 then Thread.sleep(settings.tickIntervalMs)
      Input.log("momentum bot stopped", s"""{"ticks":$ticks,"signal_count":${strategy.signalCount},"stopped_by_signal":${!running}}""")
      Input.success(s"processed $ticks prices", s"""{"ticks":$ticks,"total_ticks":${strategy.tick},"signal_count":${strategy.signalCount}}""")
    finally stopped.countDown()
