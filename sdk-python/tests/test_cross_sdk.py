"""Python and Rust share state files byte for byte: values written by one SDK are read back
identically by the other (the Rust SDK's conformance driver, a real process, on the same files)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from the0 import state
from helpers import clean_env

VALUES = [
    {"b": [1, 2.5, None, True], "a": {"nested": "x"}, "prix_€": "café"},
    [1, "two", 3.0, False, -0.5, 1e-7, 12345678901234],
    "line\nbreak \"quoted\" tab\t \u0001 é €",
    0,
    None,
    {"empty": {}, "list": []},
]


def rust(driver: str, state_dir: Path, *args: str) -> Any:
    done = subprocess.run(
        [driver, "state", *args],
        env=clean_env(STATE_DIR=str(state_dir)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("value", VALUES)
def test_python_writes_rust_reads_and_files_are_identical(
    rust_driver: str, tmp_path: Path, state_dir: Path, value: Any
) -> None:
    state.set("from_python", value)
    assert rust(rust_driver, state_dir, "get", "from_python") == {"ok": {"found": True, "value": value}}
    # The same value written by the Rust SDK, from JSON text as Python's json module writes it.
    rust(rust_driver, state_dir, "set", "from_rust", json.dumps(value))
    assert (state_dir / "from_python.json").read_bytes() == (state_dir / "from_rust.json").read_bytes()
    assert rust(rust_driver, state_dir, "list") == {"ok": ["from_python", "from_rust"]}


@pytest.mark.parametrize("value", VALUES)
def test_rust_writes_python_reads(rust_driver: str, state_dir: Path, value: Any) -> None:
    rust(rust_driver, state_dir, "set", "k", json.dumps(value, indent=2))
    written_by_rust = (state_dir / "k.json").read_bytes()
    assert state.get("k") == value
    state.set("k", state.get("k"))  # a Python round trip leaves the file byte-identical
    assert (state_dir / "k.json").read_bytes() == written_by_rust


def test_both_sdks_agree_on_errors(rust_driver: str, state_dir: Path) -> None:
    from the0.errors import The0Error

    for args, call in [
        (["get", "a/b"], lambda: state.get("a/b")),
        (["delete", ".x"], lambda: state.delete(".x")),
    ]:
        with pytest.raises(The0Error) as caught:
            call()
        expected = rust(rust_driver, state_dir, *args)["error"]
        assert {"status": caught.value.status, "message": str(caught.value)} == expected


def test_deletes_and_clears_are_seen_by_the_other_sdk(rust_driver: str, state_dir: Path) -> None:
    state.set("a", 1)
    state.set("b", 2)
    assert rust(rust_driver, state_dir, "delete", "a") == {"ok": True}
    assert state.list() == ["b"]
    state.clear()
    assert rust(rust_driver, state_dir, "list") == {"ok": []}
