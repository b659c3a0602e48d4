"""The Python SDK's conformance driver: the command line of the0-driver-rust, over ``the0``.

::

    driver.py query [--custom-info]          register the standard handlers, then query.run()
    driver.py state set KEY JSON | get KEY | exists KEY | delete KEY | list | clear
    driver.py read-loop KEY COUNT            read KEY COUNT times, report torn or missing reads
    driver.py input parse | success MSG [DATA] | error MSG | result JSON | metric TYPE JSON
                    | log MSG [DATA|-] [LEVEL]

``state`` and ``input`` print one JSON line: ``{"ok": <result>}`` or
``{"error": {"status": "<STATUS>", "message": "<text>"}}``.

The driver uses only the public API of ``the0`` (plus ``the0._native.state_get`` in read-loop,
which needs the raw read to tell a torn file from a missing one without decoding).
"""

from __future__ import annotations

import json
import os
import sys
from decimal import Decimal
import time
from typing import Any, Callable, Dict, List

import the0
from the0 import query, state
from the0.errors import CorruptStateError, InvalidArgumentError, InvalidJSONError, The0Error


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _inexact(value: Any) -> bool:
    """Whether ``value`` (decoded with Decimal floats) holds a number a Python float cannot."""
    if isinstance(value, Decimal):
        return Decimal(repr(float(value))) != value
    if isinstance(value, dict):
        return any(_inexact(v) for v in value.values())
    if isinstance(value, list):
        return any(_inexact(v) for v in value)
    return False


def set_text(key: str, text: str) -> None:
    """Stores the JSON text ``text`` under ``key`` through the public API (decode, then
    ``state.set``). Text that is not JSON, or that holds a number a Python float cannot (a long
    decimal), goes to the core as it is: the core reports the first exactly as the Rust driver's
    ``set_json`` does, and stores the second as written."""
    try:
        exact = not _inexact(json.loads(text, parse_float=Decimal, parse_constant=_not_json))
    except ValueError:
        exact = False
    if not exact:
        the0._native.state_set(os.environ, key, text)  # the core's INVALID_JSON, READ_ONLY...
        return
    state.set(key, json.loads(text))


def error_json(exc: The0Error) -> Dict[str, str]:
    return {"status": exc.status, "message": str(exc)}


def write_probe(write: Callable[[], None]) -> Dict[str, Any]:
    """The outcome of a state write attempted by a query handler."""
    try:
        write()
    except The0Error as exc:
        return {"written": False, "error": error_json(exc)}
    return {"written": True}


def run_query(custom_info: bool) -> None:
    @query.handler("/echo")
    def echo(req: query.QueryRequest) -> Any:
        strings = {k: req.get_string(k) for k in req.params}
        return {"path": req.path, "params": req.params, "strings": strings}

    @query.handler("/fail")
    def fail(req: query.QueryRequest) -> Any:
        raise RuntimeError("deliberate failure")

    @query.handler("/sleep")
    def sleep(req: query.QueryRequest) -> Any:
        try:
            ms = int(req.get_string("ms", "0"))
        except ValueError:
            ms = 0
        time.sleep(ms / 1000)
        return {"slept_ms": ms}

    @query.handler("/state")
    def read_state(req: query.QueryRequest) -> Any:
        key = req.get_string("key", "")
        try:
            missing = object()
            value = state.get(key, missing)
        except The0Error as exc:
            return {"key": key, "error": error_json(exc)}
        found = value is not missing
        return {"key": key, "exists": found, "value": value if found else None}

    @query.handler("/write")
    def write(req: query.QueryRequest) -> Any:
        key = req.get_string("key", "")
        text = req.get_string("value", "null")
        return write_probe(lambda: set_text(key, text))

    @query.handler("/config")
    def config(req: query.QueryRequest) -> Any:
        return query.get_config()

    @query.handler("/params")
    def params(req: query.QueryRequest) -> Any:
        return query.get_param_strings()

    if custom_info:

        @query.handler("/info")
        def info(req: query.QueryRequest) -> Any:
            return write_probe(lambda: state.set("info-probe", True))

    query.run()


def print_outcome(outcome: Callable[[], Any]) -> int:
    try:
        line = {"ok": outcome()}
    except The0Error as exc:
        line = {"error": error_json(exc)}
    print(json.dumps(line, ensure_ascii=False))
    return 0


def invalid(kind: str, op: List[str]) -> The0Error:
    return InvalidArgumentError(f"unknown {kind} operation {op!r}")


def state_op(op: List[str]) -> Any:
    if len(op) == 3 and op[0] == "set":
        set_text(op[1], op[2])
        return None
    if len(op) == 2 and op[0] == "get":
        missing = object()
        value = state.get(op[1], missing)
        return {"found": False} if value is missing else {"found": True, "value": value}
    if len(op) == 2 and op[0] == "exists":
        return state.exists(op[1])
    if len(op) == 2 and op[0] == "delete":
        return state.delete(op[1])
    if op == ["list"]:
        return state.list()
    if op == ["clear"]:
        state.clear()
        return None
    raise invalid("state", op)


def read_loop(key: str, count: int) -> int:
    missing = torn = failed = 0
    read = the0._native.state_get  # the core's read: validated JSON text, not decoded
    for _ in range(count):
        try:
            if read(os.environ, key) is None:
                missing += 1
        except CorruptStateError:
            torn += 1
        except The0Error:
            failed += 1
    print(json.dumps({"reads": count, "missing": missing, "torn": torn, "failed": failed}))
    return 0


def json_arg(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InvalidJSONError(f"argument is not valid JSON: {exc}") from exc


def input_op(op: List[str]) -> Any:
    if op == ["parse"]:
        bot_id, config = the0.parse()
        return {"bot_id": bot_id, "config": config}
    if len(op) == 2 and op[0] == "success":
        the0.success(op[1])
        return None
    if len(op) == 3 and op[0] == "success":
        the0.success(op[1], json_arg(op[2]))
        return None
    if len(op) == 2 and op[0] == "error":
        the0.error(op[1])
    if len(op) == 2 and op[0] == "result":
        the0.result(json_arg(op[1]))
        return None
    if len(op) == 3 and op[0] == "metric":
        the0.metric(op[1], json_arg(op[2]))
        return None
    if len(op) >= 2 and op[0] == "log":
        rest = op[2:]
        data = None if not rest or rest[0] == "-" else json_arg(rest[0])
        level = rest[1] if len(rest) > 1 else None
        if data is None:
            the0.log(op[1], level)
        else:
            the0.log(op[1], data, level)
        return None
    raise invalid("input", op)


def main(argv: List[str]) -> int:
    if argv[:1] == ["query"]:
        run_query("--custom-info" in argv[1:])
        return 0
    if argv[:1] == ["state"]:
        return print_outcome(lambda: state_op(argv[1:]))
    if len(argv) == 3 and argv[0] == "read-loop":
        return read_loop(argv[1], int(argv[2]))
    if argv[:1] == ["input"]:
        return print_outcome(lambda: input_op(argv[1:]))
    print("usage: driver.py query|state|read-loop|input ... (see the source header)", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
