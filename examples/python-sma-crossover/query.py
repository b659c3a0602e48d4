"""Query entrypoint: answers ``/status`` and ``/signals`` from the bot's state.

Run as an ephemeral query (``QUERY_PATH=/status``), as a server for a realtime bot
(``BOT_TYPE=realtime``), or with neither to list the available queries.
"""

from __future__ import annotations

from typing import Any, Dict

from the0 import query

from strategy import Strategy, load_signals


@query.handler("/status")
def status(req: query.QueryRequest) -> Dict[str, Any]:
    config = query.get_config()
    strategy = Strategy.load()
    return {
        "symbol": config.get("symbol", "BTC/USD"),
        "tick": strategy.tick,
        "price": strategy.last_price(),
        "short_sma": strategy.short_sma,
        "long_sma": strategy.long_sma,
        "trend": strategy.trend,
        "signal_count": strategy.signal_count,
    }


@query.handler("/signals")
def signals(req: query.QueryRequest) -> Dict[str, Any]:
    text = req.get_string("limit", "10")
    if not text.isdigit() or int(text) <= 0:
        raise ValueError(f'limit must be a positive integer, got "{text}"')
    history = load_signals()
    return {"signals": list(reversed(history))[: int(text)], "count": len(history)}


if __name__ == "__main__":
    query.run()
