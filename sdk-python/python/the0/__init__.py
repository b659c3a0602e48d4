"""the0 SDK for Python trading bots.

Example::

    from the0 import parse, success, error, metric, log, state

    bot_id, config = parse()
    runs = state.get("runs", 0)
    state.set("runs", runs + 1)
    metric("price", {"symbol": config.get("symbol", "BTC/USD"), "value": 45000.5})
    log("run complete", {"runs": runs + 1})
    success("done")

Queries live in ``the0.query``; persistent state in ``the0.state``. Every behaviour (state files,
key rules, the query server, result files, metric and log lines) is implemented once, in the shared
Rust core, and reached through the native module ``the0._native``: this package converts Python
values to and from JSON and calls it.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any, Dict, Iterable, Literal, NoReturn, Optional, Tuple, Union

from . import _native
from .errors import (
    CorruptStateError,
    InvalidArgumentError,
    InvalidJSONError,
    InvalidKeyError,
    MissingEnvError,
    ReadOnlyStateError,
    StateIOError,
    The0Error,
)

__version__ = _native.__version__
__all__ = [
    "parse",
    "success",
    "error",
    "result",
    "metric",
    "log",
    "sleep",
    "state",
    "query",
    "The0Error",
    "InvalidKeyError",
    "InvalidJSONError",
    "CorruptStateError",
    "ReadOnlyStateError",
    "MissingEnvError",
    "InvalidArgumentError",
    "StateIOError",
]

LogLevel = Literal["info", "warn", "error"]

_encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


def _dumps(payload: str, value: Any) -> str:
    try:
        return _encode(value)
    except (TypeError, ValueError, RecursionError) as exc:
        raise _native.unserializable(payload, str(exc)) from exc


def _print_stderr(lines: Iterable[str]) -> None:
    """Writes lines the core handed back on ``sys.stderr`` (as it is now: capture tools see them)."""
    for line in lines:
        print(line, file=sys.stderr, flush=True)


def parse() -> Tuple[str, Dict[str, Any]]:
    """The bot id (``BOT_ID``) and configuration (``BOT_CONFIG``, JSON).

    An empty ``BOT_CONFIG`` is an empty configuration.

    Raises:
        MissingEnvError: ``BOT_ID`` or ``BOT_CONFIG`` is not set (also a ``ValueError``).
        InvalidJSONError: ``BOT_CONFIG`` is not valid JSON (also a ``ValueError``).
    """
    return _native.parse(os.environ)


def _report(status: str, message: str, data: Any) -> None:
    data_json = None if data is None else _dumps("result_data", data)
    _print_stderr(_native.report(os.environ, status, message, data_json))


def success(message: str, data: Optional[Dict[str, Any]] = None) -> None:
    """Writes ``{"status": "success", "message": message[, "data": data]}`` to the result file
    (``/<CODE_MOUNT_DIR>/result.json``)."""
    _report("success", message, data)


def error(message: str, data: Optional[Dict[str, Any]] = None) -> NoReturn:
    """Writes ``{"status": "error", "message": message[, "data": data]}`` to the result file and
    exits with code 1."""
    _report("error", message, data)
    sys.exit(1)


def result(result_data: Dict[str, Any]) -> None:
    """Writes ``result_data`` as it is to the result file."""
    _print_stderr(_native.write_result(os.environ, _dumps("result", result_data)))


def metric(metric_type: str, data: Dict[str, Any]) -> None:
    """Prints a metric line on stdout: ``{"_metric": metric_type, **data, "timestamp": ...}``."""
    print(_native.metric_line(metric_type, _dumps("metric", data)), flush=True)


def log(
    message: str,
    data_or_level: Optional[Union[Dict[str, Any], LogLevel]] = None,
    level: Optional[LogLevel] = None,
) -> None:
    """Prints a log line on stderr: ``{"level": ..., "message": ..., **data, "timestamp": ...}``.

    Examples::

        log("starting")                               # info
        log("connection lost", "warn")                # a level
        log("order placed", {"order_id": "12345"})    # data
        log("order failed", {"order_id": "1"}, "error")

    Raises:
        InvalidArgumentError: the level is not ``info``, ``warn`` or ``error``.
    """
    data: Any = None
    if isinstance(data_or_level, str):
        level = data_or_level
    else:
        data = data_or_level
    data_json = None if data is None else _dumps("log", data)
    print(_native.log_line(message, data_json, level), file=sys.stderr, flush=True)


def sleep(seconds: float) -> None:
    """Sleeps for ``seconds``."""
    time.sleep(seconds)


from . import query, state  # noqa: E402  (submodules use the functions above)
