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
import sys
import time
from typing import Any, Dict, Literal, NoReturn, Optional, Tuple, Union

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


def _dumps(what: str, value: Any) -> str:
    try:
        return _encode(value)
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidJSONError(f"{what} cannot be serialized: {exc}") from exc


def parse() -> Tuple[str, Dict[str, Any]]:
    """The bot id (``BOT_ID``) and configuration (``BOT_CONFIG``, JSON).

    An empty ``BOT_CONFIG`` is an empty configuration.

    Raises:
        MissingEnvError: ``BOT_ID`` or ``BOT_CONFIG`` is not set (also a ``ValueError``).
        InvalidJSONError: ``BOT_CONFIG`` is not valid JSON (also a ``ValueError``).
    """
    return _native.parse()


def _report(status: str, message: str, data: Any) -> None:
    data_json = None if data is None else _dumps("result data", data)
    try:
        _native.write_status_result(status, message, data_json)
    except The0Error as exc:  # as upstream, a result that cannot be written is logged, not raised
        log(str(exc), level="error")


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
    text = _dumps("result", result_data)
    try:
        _native.write_result(text)
    except The0Error as exc:
        log(str(exc), level="error")


def metric(metric_type: str, data: Dict[str, Any]) -> None:
    """Prints a metric line on stdout: ``{"_metric": metric_type, **data, "timestamp": ...}``."""
    line = _native.format_metric(metric_type, _dumps("metric data", data))
    out = sys.stdout
    out.write(line + "\n")
    out.flush()


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
    data_json = None if data is None else _dumps("log data", data)
    line = _native.format_log(message, data_json, level)
    err = sys.stderr
    err.write(line + "\n")
    err.flush()


def sleep(seconds: float) -> None:
    """Sleeps for ``seconds``."""
    time.sleep(seconds)


from . import query, state  # noqa: E402  (submodules use the functions above)
