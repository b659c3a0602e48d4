from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

from helpers import REPO, SCRUBBED


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Every test starts with none of the SDK's variables set, and a private state directory."""
    for name in SCRUBBED:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STATE_DIR", str(tmp_path / "state"))
    yield


@pytest.fixture
def state_dir(tmp_path: Path) -> Path:
    return tmp_path / "state"


@pytest.fixture(scope="session")
def rust_driver() -> str:
    """The Rust SDK's conformance driver: ``$THE0_RUST_DRIVER``, or built with cargo."""
    given = os.environ.get("THE0_RUST_DRIVER")
    if given:
        return given
    cargo = shutil.which("cargo")
    if cargo is None:
        pytest.fail("cargo is needed to build the Rust driver (or set THE0_RUST_DRIVER)")
    built = subprocess.run(
        [cargo, "build", "-q", "-p", "the0-conformance", "--bin", "the0-driver-rust", "--message-format=json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    for line in built.stdout.splitlines():
        message = json.loads(line)
        if message.get("reason") == "compiler-artifact" and message.get("executable"):
            if message["target"]["name"] == "the0-driver-rust":
                return message["executable"]
    pytest.fail(f"cargo did not report the driver executable: {built.stderr}")
