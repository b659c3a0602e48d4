"""Bot entrypoint: ``main(bot_id, config)``, called by the platform's Python wrapper.

A scheduled bot processes ``ticks`` prices per run; a realtime bot (``BOT_TYPE=realtime``) ticks
until it is stopped. Run it directly with ``python main.py`` (reads ``BOT_ID``/``BOT_CONFIG``).
"""

from __future__ import annotations

import os
import time
from typing import Any, Dict

from the0 import error, log, metric, parse, state, success

from strategy import MAX_SIGNALS, SIGNALS_KEY, Config, Strategy, load_signals, price_at


def main(bot_id: str, config: Dict[str, Any]) -> None:
    try:
        settings = Config.from_dict(config or {})
    except (TypeError, ValueError) as exc:
        error(f"invalid configuration: {exc}")
    strategy = Strategy.load()
    signals = load_signals()
    realtime = os.environ.get("BOT_TYPE") == "realtime"
    log(f"bot {bot_id} starting at tick {strategy.tick}", {"symbol": settings.symbol, "realtime": realtime})
    ticks_this_run = 0
    while realtime or ticks_this_run < settings.ticks:
        price = price_at(settings, strategy.tick, strategy.last_price())
        metric("price", {"symbol": settings.symbol, "price": price})
        signal = strategy.step(settings, price)
        if signal is not None:
            metric("signal", {"symbol": settings.symbol, "side": signal["side"], "price": price})
            signals.append(signal)
            del signals[: max(0, len(signals) - MAX_SIGNALS)]
            state.set(SIGNALS_KEY, signals)
        strategy.save()
        ticks_this_run += 1
        if settings.tick_interval_ms > 0:
            time.sleep(settings.tick_interval_ms / 1000)
    success(f"processed {strategy.tick} ticks, {strategy.signal_count} signals so far")


if __name__ == "__main__":
    main(*parse())
