"""state.get / state.set operations per second: the0 (shared core, atomic canonical writes) against
upstream's pure-Python file IO (open + json.dump / json.load), same values, same directory.

    python bench_state.py SECONDS [DIR]     (DIR: where the state directories go; default $TMPDIR)

Prints one JSON line: {"the0": {"set": ops/s, "get": ops/s}, "upstream": {...}}.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from typing import Any, Callable, Dict, Optional

from the0 import state

VALUE = {"symbol": "BTC/USD", "position": 0.5, "prices": [45000.5 + i for i in range(20)], "open": True}
KEYS = [f"key{i}" for i in range(16)]


class Upstream:
    """The upstream SDK's state functions (v0.3.x), reduced to what the benchmark calls."""

    def __init__(self, directory: str) -> None:
        self.dir = directory

    def path(self, key: str) -> str:
        if not key or "/" in key or "\\" in key or ".." in key:
            raise ValueError("bad key")
        return os.path.join(self.dir, f"{key}.json")

    def set(self, key: str, value: Any) -> None:
        os.makedirs(self.dir, exist_ok=True)
        with open(self.path(key), "w") as f:
            json.dump(value, f)

    def get(self, key: str, default: Any = None) -> Any:
        try:
            with open(self.path(key)) as f:
                return json.load(f)
        except (FileNotFoundError, json.JSONDecodeError):
            return default


def rate(fn: Callable[[str], Any], seconds: float) -> float:
    count, start = 0, time.perf_counter()
    deadline = start + seconds
    while True:
        for key in KEYS:
            fn(key)
        count += len(KEYS)
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start)


def measure(seconds: float, parent: Optional[str]) -> Dict[str, Dict[str, float]]:
    with tempfile.TemporaryDirectory(prefix="the0-bench-state-", dir=parent) as root:
        os.environ["STATE_DIR"] = os.path.join(root, "the0")
        upstream = Upstream(os.path.join(root, "upstream"))
        out: Dict[str, Dict[str, float]] = {"the0": {}, "upstream": {}}
        for _ in range(2):  # the second round counts (warm caches, warm allocator)
            out["the0"]["set"] = rate(lambda k: state.set(k, VALUE), seconds)
            out["upstream"]["set"] = rate(lambda k: upstream.set(k, VALUE), seconds)
            out["the0"]["get"] = rate(lambda k: state.get(k), seconds)
            out["upstream"]["get"] = rate(lambda k: upstream.get(k), seconds)
        assert state.get(KEYS[0]) == upstream.get(KEYS[0]) == VALUE
        return out


if __name__ == "__main__":
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    print(json.dumps(measure(seconds, sys.argv[2] if len(sys.argv) > 2 else None)))
