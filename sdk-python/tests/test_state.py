"""the0.state: values, files on disk, key rules, errors, the read-only guard, the GIL."""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest

import the0
from the0 import errors, query, state
from helpers import clean_env, run_python, script

BAD_KEYS = {
    "": 'invalid state key "": must not be empty',
    "k" * 201: f'invalid state key "{"k" * 201}": must be at most 200 bytes',
    "a\nb": 'invalid state key "a\\nb": must not contain control characters',
    "a/b": "invalid state key \"a/b\": must not contain a path separator ('/' or '\\')",
    "a\\b": "invalid state key \"a\\\\b\": must not contain a path separator ('/' or '\\')",
    "..": "invalid state key \"..\": must not contain '..' (path traversal)",
    ".hidden": "invalid state key \".hidden\": must not start with '.'",
}


@pytest.mark.parametrize(
    "value",
    [
        {"b": [1, 2.5, None, True], "a": {"nested": "x"}},
        [1, "two", 3.0, False],
        "plain text with \"quotes\", a tab\t and é €",
        42,
        -7.25,
        True,
        None,
        {},
        [],
        2**63 - 1,
        2**70,
        {"wei": 10**30, "debt": -(2**65)},
    ],
)
def test_values_round_trip(value: object) -> None:
    state.set("v", value)
    assert state.get("v") == value
    assert state.exists("v")


def test_integers_beyond_64_bits_are_stored_exactly(state_dir: Path) -> None:
    state.set("balance", {"wei": 10**30})
    assert (state_dir / "balance.json").read_bytes() == b'{"wei":1000000000000000000000000000000}'


def test_files_are_canonical_compact_utf8_json_in_state_dir(state_dir: Path) -> None:
    state.set("prices", {"b": [1, 2.5], "a": "café \"q\"\n"})
    assert (state_dir / "prices.json").read_bytes() == '{"b":[1,2.5],"a":"café \\"q\\"\\n"}'.encode()


def test_missing_keys_default_and_stored_null_is_a_value() -> None:
    assert state.get("nothing") is None
    assert state.get("nothing", {"d": 1}) == {"d": 1}
    assert not state.exists("nothing")
    assert state.delete("nothing") is False
    state.set("n", None)
    assert state.get("n", "default") is None
    assert state.exists("n")


def test_list_delete_clear(state_dir: Path) -> None:
    assert state.list() == []  # no directory yet
    state.clear()
    for key in ["b", "a", "c.d"]:
        state.set(key, 0)
    (state_dir / ".a.json.1.2.tmp").write_text("{")
    (state_dir / ".hidden.json").write_text("0")
    (state_dir / "notes.txt").write_text("x")
    (state_dir / "sub.json").mkdir()
    assert state.list() == ["a", "b", "c.d"]
    assert state.delete("a") is True
    assert state.delete("a") is False
    assert state.list() == ["b", "c.d"]
    state.clear()
    assert state.list() == []
    assert (state_dir / "notes.txt").read_text() == "x"


def test_state_dir_is_read_at_every_call(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STATE_DIR", str(tmp_path / "one"))
    state.set("k", 1)
    monkeypatch.setenv("STATE_DIR", str(tmp_path / "two"))
    assert state.get("k") is None
    state.set("k", 2)
    assert (tmp_path / "one" / "k.json").read_text() == "1"
    assert (tmp_path / "two" / "k.json").read_text() == "2"


@pytest.mark.parametrize("key", list(BAD_KEYS))
def test_every_operation_checks_the_key(key: str) -> None:
    for call in (
        lambda: state.set(key, 1),
        lambda: state.get(key),
        lambda: state.exists(key),
        lambda: state.delete(key),
    ):
        with pytest.raises(errors.InvalidKeyError) as caught:
            call()
        assert str(caught.value) == BAD_KEYS[key]
        assert caught.value.status == "INVALID_KEY"
        assert isinstance(caught.value, ValueError)  # upstream raised ValueError
        assert isinstance(caught.value, the0.The0Error)


@pytest.mark.parametrize(
    "value, reason",
    [
        ({1, 2}, "Object of type set is not JSON serializable"),
        ({"when": object()}, "Object of type object is not JSON serializable"),
        (float("nan"), "Out of range float values are not JSON compliant"),
        ([math.inf], "Out of range float values are not JSON compliant"),
    ],
)
def test_a_value_that_is_not_json_is_a_clear_error_and_keeps_the_old_value(
    value: object, reason: str, state_dir: Path
) -> None:
    state.set("k", {"kept": True})
    before = (state_dir / "k.json").read_bytes()
    with pytest.raises(errors.InvalidJSONError) as caught:
        state.set("k", value)
    assert str(caught.value).startswith('value for state key "k" cannot be serialized: ')
    assert reason in str(caught.value)
    assert caught.value.status == "INVALID_JSON"
    assert isinstance(caught.value, ValueError)
    assert (state_dir / "k.json").read_bytes() == before
    assert state.get("k") == {"kept": True}
    assert sorted(os.listdir(state_dir)) == ["k.json"], "no temporary file left behind"


def test_a_circular_value_is_a_clear_error() -> None:
    loop: list = []
    loop.append(loop)
    with pytest.raises(errors.InvalidJSONError, match="Circular reference detected"):
        state.set("loop", loop)
    assert not state.exists("loop")


def test_a_corrupt_file_is_an_error_naming_the_key(state_dir: Path) -> None:
    state_dir.mkdir()
    (state_dir / "bad.json").write_text('{"a": [1, 2')
    with pytest.raises(errors.CorruptStateError) as caught:
        state.get("bad")
    assert str(caught.value) == (
        f'state file for key "bad" is corrupt ({state_dir}/bad.json): EOF while parsing a list at line 1 column 11'
    )
    assert caught.value.status == "CORRUPT_STATE"
    assert isinstance(caught.value, ValueError)
    assert state.exists("bad")
    assert state.list() == ["bad"]


def test_writes_are_refused_in_query_mode_and_reads_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    state.set("k", 1)
    monkeypatch.setenv("QUERY_PATH", "/status")
    assert query.is_query_mode()
    for call, operation in (
        (lambda: state.set("k", 2), 'set("k")'),
        (lambda: state.delete("k"), 'delete("k")'),
        (lambda: state.clear(), "clear()"),
        # A value that is not JSON is still refused as a write first, as in every SDK.
        (lambda: state.set("k", {1}), 'set("k")'),
    ):
        with pytest.raises(state.ReadOnlyStateError) as caught:
            call()
        assert str(caught.value) == f"state is read-only while this process serves queries: {operation} refused"
        assert caught.value.status == "READ_ONLY"
    assert state.get("k") == 1
    assert state.exists("k")
    assert state.list() == ["k"]
    monkeypatch.setenv("QUERY_PATH", "")  # empty means not set
    assert not query.is_query_mode()
    state.set("k", 3)
    assert state.get("k") == 3


def test_one_read_only_error_class_everywhere() -> None:
    assert state.ReadOnlyStateError is query.ReadOnlyStateError is the0.ReadOnlyStateError
    assert issubclass(state.ReadOnlyStateError, the0.The0Error)


def test_every_core_status_maps_to_an_exception() -> None:
    for name in the0._native.status_names():
        exc = errors._from_status(name, "m")
        assert isinstance(exc, the0.The0Error)
        assert exc.status == name
        assert str(exc) == "m"
    assert isinstance(errors._from_status("IO", "m"), OSError)
    assert isinstance(errors._from_status("MISSING_ENV", "m"), ValueError)


def test_disk_calls_release_the_gil(tmp_path: Path) -> None:
    """A state read blocked on a FIFO must not stop another Python thread from running: the other
    thread is the one that unblocks it. Holding the GIL would deadlock (the subprocess times out)."""
    code = script(
        tmp_path,
        """
        import os, threading
        from the0 import state
        path = os.path.join(os.environ["STATE_DIR"], "pipe.json")
        os.makedirs(os.environ["STATE_DIR"])
        os.mkfifo(path)
        got = []
        reader = threading.Thread(target=lambda: got.append(state.get("pipe")))
        reader.start()
        with open(path, "w") as fifo:  # blocks until the reader opened it: runs while it waits
            fifo.write('{"via": "fifo"}')
        reader.join()
        print(got[0]["via"])
        """,
    )
    done = run_python(code, clean_env(STATE_DIR=str(tmp_path / "state")), timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "fifo"
