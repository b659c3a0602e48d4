"""A moving-average crossover strategy, shared by the bot (``main.py``) and its queries
(``query.py``).

Each tick the bot takes one price, keeps the last ``long_period`` prices, and compares the short
and long simple moving averages. When the short average crosses above the long one it records a
BUY signal, when it crosses below a SELL signal.

State lives in two keys. ``strategy`` is one consistent snapshot (prices, averages, trend, signal
count), written in one atomic write per tick so a reader never sees averages from one tick and a
count from another. ``signals`` is the bounded history of signals. The shapes (and so the bytes on
disk) are those of the Rust example, ``examples/rust-sma-crossover``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Dict, List, Optional

from the0 import state

STRATEGY_KEY = "strategy"
SIGNALS_KEY = "signals"
MAX_SIGNALS = 50

_MASK64 = (1 << 64) - 1


@dataclass
class Config:
    """The bot's configuration (``BOT_CONFIG``); see ``bot-schema.json``."""

    symbol: str = "BTC/USD"
    short_period: int = 5
    long_period: int = 20
    ticks: int = 50
    tick_interval_ms: int = 0
    prices: List[float] = field(default_factory=list)
    seed: int = 42
    start_price: float = 100.0

    @classmethod
    def from_dict(cls, raw: Dict[str, Any]) -> "Config":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ValueError(f"unknown field {unknown[0]!r}")
        config = cls(**raw)
        config.validate()
        return config

    def validate(self) -> None:
        if self.short_period < 1:
            raise ValueError("short_period must be at least 1")
        if self.short_period >= self.long_period:
            raise ValueError(
                f"short_period ({self.short_period}) must be less than long_period ({self.long_period})"
            )
        if any(not isinstance(p, (int, float)) or p <= 0 for p in self.prices):
            raise ValueError("prices must be positive numbers")


@dataclass
class Strategy:
    """The snapshot stored under ``strategy``."""

    tick: int = 0
    prices: List[float] = field(default_factory=list)
    short_sma: Optional[float] = None
    long_sma: Optional[float] = None
    trend: Optional[str] = None  # "above" | "below"
    signal_count: int = 0

    @classmethod
    def load(cls) -> "Strategy":
        raw = state.get(STRATEGY_KEY)
        return cls() if raw is None else cls(**raw)

    def save(self) -> None:
        state.set(STRATEGY_KEY, asdict(self))

    def last_price(self) -> Optional[float]:
        return self.prices[-1] if self.prices else None

    def step(self, config: Config, price: float) -> Optional[Dict[str, Any]]:
        """Takes one price and returns the signal it produces, if any."""
        self.tick += 1
        self.prices.append(float(price))
        del self.prices[: max(0, len(self.prices) - config.long_period)]
        if len(self.prices) < config.long_period:
            return None
        short = _mean(self.prices[-config.short_period :])
        long = _mean(self.prices)
        self.short_sma, self.long_sma = short, long
        if short > long:
            trend = "above"
        elif short < long:
            trend = "below"
        else:
            return None  # equal averages: no crossing, keep the trend
        previous, self.trend = self.trend, trend
        if previous is None or previous == trend:
            return None
        self.signal_count += 1
        return {
            "tick": self.tick,
            "side": "BUY" if trend == "above" else "SELL",
            "price": float(price),
            "short_sma": short,
            "long_sma": long,
        }


def _mean(values: List[float]) -> float:
    return sum(values) / len(values)


def load_signals() -> List[Dict[str, Any]]:
    """The signal history, newest last."""
    return state.get(SIGNALS_KEY, [])


def price_at(config: Config, tick: int, previous: Optional[float]) -> float:
    """The price at ``tick`` (0-based): the configured list replayed in order, or a seeded random
    walk keyed by the tick number (so a restarted bot continues the same series)."""
    if config.prices:
        return float(config.prices[tick % len(config.prices)])
    last = config.start_price if previous is None else previous
    # A step of at most +-1% from a splitmix64 hash of (seed, tick), as the Rust example.
    z = (config.seed ^ (tick * 0x9E3779B97F4A7C15)) & _MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    z ^= z >> 31
    unit = (z >> 11) / float(1 << 53)
    price = last * (1.0 + (unit * 2.0 - 1.0) * 0.01)
    return round(price * 100.0) / 100.0
