package momentum

import org.scalatest.funsuite.AnyFunSuite

class StrategySpec extends AnyFunSuite:

  private val settings = Settings(window = 3, thresholdPct = 0.3, seed = 11)

  private def run(from: Strategy, ticks: Int): (Strategy, Vector[Signal]) =
    (1 to ticks).foldLeft((from, Vector.empty[Signal])) { case ((s, signals), _) =>
      val (next, signal) = s.step(settings)
      (next, signals ++ signal)
    }

  test("settings come from the configuration, defaults for what it leaves out") {
    assert(Settings.fromJson("{}") == Settings())
    assert(Settings.fromJson("""{"symbol":"ETH","window":0,"tick_interval_ms":100,"max_iterations":3}""") ==
      Settings(symbol = "ETH", window = 1, tickIntervalMs = 100, maxIterations = 3))
  }

  test("the feed is deterministic and continues across a restart") {
    val (straight, _) = run(Strategy.fresh("BTC"), 40)
    val (half, _) = run(Strategy.fresh("BTC"), 20)
    val (resumed, _) = run(Strategy.fromJson(half.toJson), 20)
    assert(resumed == straight)
    assert(straight.tick == 40 && straight.prices.size == settings.window + 1)
  }

  test("signals alternate, follow the momentum threshold, and are counted") {
    val (end, signals) = run(Strategy.fresh("BTC"), 300)
    assert(signals.nonEmpty)
    assert(signals.sliding(2).forall { case Seq(a, b) => a.side != b.side; case _ => true })
    assert(signals.forall(s => if s.side == "BUY" then s.momentumPct >= 0.3 else s.momentumPct <= -0.3))
    assert(end.signalCount == signals.size)
    assert(end.signals == signals.takeRight(Strategy.KeptSignals))
  }

  test("the stored form round-trips") {
    val (end, _) = run(Strategy.fresh("BTC/USD"), 50)
    assert(Strategy.fromJson(end.toJson) == end)
  }
