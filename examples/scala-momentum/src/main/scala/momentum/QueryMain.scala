package momentum

import the0.Query

/** The query entrypoint (`java -cp momentum.jar momentum.QueryMain`), read-only:
  *
  *   /status            symbol, tick, last price, momentum, signal count and the last signal
  *   /signals?limit=N   the last N signals, newest first (default 10)
  */
object QueryMain:
  def main(args: Array[String]): Unit =
    Query.handler("/status") { _ =>
      val settings = Settings.fromJson(Query.getConfig)
      val strategy = Strategy.load(settings.symbol)
      ujson.write(ujson.Obj(
        "symbol" -> strategy.symbol,
        "tick" -> strategy.tick.toDouble,
        "price" -> strategy.lastPrice.map(ujson.Num(_)).getOrElse(ujson.Null),
        "momentum_pct" -> strategy.momentumPct,
        "signal_count" -> strategy.signalCount.toDouble,
        "last_signal" -> strategy.signals.lastOption.map(_.toJson).getOrElse(ujson.Null)
      ))
    }
    Query.handler("/signals") { req =>
      val text = req.getOrElse("limit", "10")
      val limit = text.toIntOption.filter(_ > 0).getOrElse(
        throw IllegalArgumentException(s"limit must be a positive integer, got \"$text\""))
      val strategy = Strategy.load(Settings.fromJson(Query.getConfig).symbol)
      ujson.write(ujson.Obj(
        "signals" -> ujson.Arr.from(strategy.signals.reverse.take(limit).map(_.toJson)),
        "count" -> strategy.signalCount.toDouble
      ))
    }
    Query.run()
