package momentum

import java.util.SplittableRandom

import the0.State

/** The bot's settings, from `BOT_CONFIG` (any field may be left out). */
final case class Settings(
    symbol: String = "BTC/USD",
    basePrice: Double = 45000,
    window: Int = 5,
    thresholdPct: Double = 0.2,
    tickIntervalMs: Long = 1000,
    maxIterations: Long = 0,
    seed: Long = 7
)

object Settings:
  /** The settings in the configuration's JSON text, defaults for what it leaves out. */
  def fromJson(config: String): Settings =
    val json = ujson.read(config).obj
    val d = Settings()
    def num(name: String, default: Double): Double = json.get(name).map(_.num).getOrElse(default)
    Settings(
      symbol = json.get("symbol").map(_.str).getOrElse(d.symbol),
      basePrice = num("base_price", d.basePrice),
      window = num("window", d.window).toInt.max(1),
      thresholdPct = num("threshold_pct", d.thresholdPct),
      tickIntervalMs = num("tick_interval_ms", d.tickIntervalMs.toDouble).toLong.max(0),
      maxIterations = num("max_iterations", d.maxIterations.toDouble).toLong.max(0),
      seed = num("seed", d.seed.toDouble).toLong
    )

/** A buy or sell decision. */
final case class Signal(tick: Long, side: String, price: Double, momentumPct: Double):
  def toJson: ujson.Obj = ujson.Obj("tick" -> tick.toDouble, "side" -> side, "price" -> price, "momentum_pct" -> momentumPct)

/** What the bot remembers across runs (state key [[Strategy.StateKey]]): the last prices, the
  * signals, and the tick it is at — also what the query entrypoint reports.
  */
final case class Strategy(symbol: String, tick: Long, prices: Vector[Double], signals: Vector[Signal], signalCount: Long):

  def lastPrice: Option[Double] = prices.lastOption

  /** The change, in percent, from the oldest price of the window to the newest; 0 until there are two. */
  def momentumPct: Double =
    if prices.size < 2 then 0 else Strategy.round((prices.last - prices.head) / prices.head * 100, 4)

  /** The next tick: a new price from the simulated feed, and a signal when the momentum crosses
    * the threshold in the direction opposite to the last signal.
    */
  def step(settings: Settings): (Strategy, Option[Signal]) =
    val price = Strategy.nextPrice(lastPrice.getOrElse(settings.basePrice), settings, tick + 1)
    val moved = copy(tick = tick + 1, prices = (prices :+ price).takeRight(settings.window + 1))
    val momentum = moved.momentumPct
    val side = if momentum >= settings.thresholdPct then Some("BUY") else if momentum <= -settings.thresholdPct then Some("SELL") else None
    side.filterNot(s => signals.lastOption.exists(_.side == s)) match
      case Some(s) =>
        val signal = Signal(moved.tick, s, price, momentum)
        (moved.copy(signals = (signals :+ signal).takeRight(Strategy.KeptSignals), signalCount = signalCount + 1), Some(signal))
      case None => (moved, None)

  def toJson: String = ujson.write(
    ujson.Obj(
      "symbol" -> symbol,
      "tick" -> tick.toDouble,
      "prices" -> ujson.Arr.from(prices.map(ujson.Num(_))),
      "signals" -> ujson.Arr.from(signals.map(_.toJson)),
      "signal_count" -> signalCount.toDouble
    )
  )

object Strategy:
  /** The state key holding the strategy. */
  val StateKey = "momentum"
  /** Signals kept in state (the count goes on). */
  val KeptSignals = 50

  def fresh(symbol: String): Strategy = Strategy(symbol, 0, Vector.empty, Vector.empty, 0)

  /** The stored strategy, or a fresh one for `symbol` before the first tick. */
  def load(symbol: String): Strategy =
    State.get(StateKey).map(fromJson).getOrElse(fresh(symbol))

  def fromJson(text: String): Strategy =
    val json = ujson.read(text)
    Strategy(
      json("symbol").str,
      json("tick").num.toLong,
      json("prices").arr.map(_.num).toVector,
      json("signals").arr.map(s => Signal(s("tick").num.toLong, s("side").str, s("price").num, s("momentum_pct").num)).toVector,
      json("signal_count").num.toLong
    )

  /** The simulated feed: a seeded random move of at most ±0.5% with a pull back towards the base
    * price. Seeded by the tick, so a restarted bot continues the same series.
    */
  def nextPrice(last: Double, settings: Settings, tick: Long): Double =
    val random = SplittableRandom(settings.seed * 1_000_003 + tick)
    val move = (random.nextDouble() - 0.5) * 0.01
    val reversion = (settings.basePrice - last) / settings.basePrice * 0.02
    round(last * (1 + move + reversion), 2)

  def round(value: Double, digits: Int): Double =
    BigDecimal(value).setScale(digits, BigDecimal.RoundingMode.HALF_UP).toDouble
