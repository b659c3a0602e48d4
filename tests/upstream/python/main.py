"""A mean-reversion bot written as bots for upstream's the0 Python SDK 0.3 are written: the
platform's wrapper calls ``main(bot_id, config)``; run directly, it parses the environment."""

from the0 import error, log, metric, parse, state, success

WINDOW = 5


def decide(prices, price, band):
    """``buy`` below the mean by more than ``band`` (a fraction), ``sell`` above it, else ``hold``."""
    if not prices:
        return "hold"
    mean = sum(prices) / len(prices)
    if price < mean * (1 - band):
        return "buy"
    if price > mean * (1 + band):
        return "sell"
    return "hold"


def main(bot_id=None, config=None):
    if bot_id is None or config is None:
        bot_id, config = parse()
    symbol = config.get("symbol", "BTC/USD")
    price = config.get("price")
    if not isinstance(price, (int, float)):
        error("config.price must be a number", {"got": price})
        return
    prices = state.get("prices", [])
    signal = decide(prices, price, config.get("band", 0.05))
    position = state.get("position", 0)
    if signal == "buy":
        position += 1
    elif signal == "sell" and position > 0:
        position -= 1
    state.set("prices", (prices + [price])[-WINDOW:])
    state.set("position", position)
    state.set("last", {"signal": signal, "price": price})
    metric("signal", {"symbol": symbol, "signal": signal, "price": price})
    log("tick", {"bot_id": bot_id, "position": position})
    success(f"{signal} {symbol}", {"position": position})


if __name__ == "__main__":
    main()
