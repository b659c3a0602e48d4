"""Persistent key-value state, synced to the object store between runs.

Example::

    from the0 import state

    state.set("portfolio", {"AAPL": 100, "GOOGL": 50})
    portfolio = state.get("portfolio", {})
    keys = state.list()
    state.delete("portfolio")
    state.clear()

Each key is one JSON document, ``$STATE_DIR/<key>.json`` (default ``/state/.the0-state``). The
shared Rust core validates keys, stores values in one canonical JSON form (the same bytes every
the0 SDK writes for the same value), replaces files atomically (a reader never sees a half-written
value), and refuses writes while the process serves queries (:class:`ReadOnlyStateError`). It reads
``STATE_DIR`` and ``QUERY_PATH`` from ``os.environ`` at every call. Disk work runs with the GIL
released.
"""

from __future__ import annotations

import builtins
import json
import os
from typing import Any

from . import _native
from .errors import ReadOnlyStateError

__all__ = ["get", "set", "exists", "delete", "list", "clear", "ReadOnlyStateError"]

_encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode
_decode = json.loads
_state_get = _native.state_get
_state_set = _native.state_set


def _dumps(key: str, value: Any) -> str:
    try:
        return _encode(value)
    except (TypeError, ValueError, RecursionError) as exc:
        # The core decides what to report, in its order: read-only, key, then this value.
        raise _native.state_set_unserializable(os.environ, key, str(exc)) from exc


def get(key: str, default: Any = None) -> Any:
    """The value stored under ``key``, or ``default`` when the key has no value.

    Raises:
        InvalidKeyError: ``key`` breaks a key rule (also a ``ValueError``).
        CorruptStateError: the file for ``key`` is not valid JSON (also a ``ValueError``).
    """
    text = _state_get(os.environ, key)
    if text is None:
        return default
    return _decode(text)


def set(key: str, value: Any) -> None:  # noqa: A001 - upstream name
    """Stores ``value`` (anything ``json.dumps`` accepts) under ``key``.

    A value that cannot be serialized (a ``set``, an object, ``float("nan")``...) raises
    :class:`InvalidJSONError` and leaves the stored value as it was.

    Raises:
        ReadOnlyStateError: the process serves queries.
        InvalidKeyError: ``key`` breaks a key rule.
        InvalidJSONError: ``value`` cannot be serialized as JSON.
    """
    _state_set(os.environ, key, _dumps(key, value))


def exists(key: str) -> bool:
    """Whether ``key`` has a value.

    Raises:
        InvalidKeyError: ``key`` breaks a key rule.
    """
    return _native.state_exists(os.environ, key)


def delete(key: str) -> bool:
    """Removes ``key``; returns whether it had a value.

    Raises:
        ReadOnlyStateError: the process serves queries.
        InvalidKeyError: ``key`` breaks a key rule.
    """
    return _native.state_delete(os.environ, key)


def list() -> builtins.list[str]:  # noqa: A001 - upstream name
    """Every key that has a value, sorted."""
    return _native.state_list(os.environ)


def clear() -> None:
    """Removes every key (files in the state directory that are not keys are left alone).

    Raises:
        ReadOnlyStateError: the process serves queries.
    """
    _native.state_clear(os.environ)
