"""Shared helpers of the SDK tests: clean environments, subprocesses, a small HTTP client."""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import textwrap
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

REPO = Path(__file__).resolve().parents[2]

#: Variables that change the SDK's behaviour; removed from every child environment so that each
#: test states the environment it means.
SCRUBBED = [
    "BOT_ID",
    "BOT_CONFIG",
    "BOT_TYPE",
    "CODE_MOUNT_DIR",
    "STATE_DIR",
    "QUERY_PATH",
    "QUERY_PARAMS",
    "THE0_QUERY_PORT",
    "THE0_QUERY_HOST",
    "THE0_QUERY_SOCKET",
    "THE0_QUERY_RESULT_FILE",
    "THE0_QUERY_TIMEOUT_MS",
    "THE0_QUERY_MAX_BODY_BYTES",
    "THE0_QUERY_MAX_IN_FLIGHT",
    "THE0_QUERY_WORKERS",
]


def clean_env(**extra: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SCRUBBED}
    env.update(extra)
    return env


def script(tmp_path: Path, source: str, name: str = "script.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


def run_python(path: Path, env: Dict[str, str], timeout: float = 60, args: List[str] = ()) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(path), *args],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float = 30) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._path)
        self.sock = sock


Target = Any  # a port (int) or a Unix socket path (str)


def request(
    target: Target, method: str, path: str, body: Optional[bytes] = None, timeout: float = 30
) -> Tuple[int, Any, Dict[str, str]]:
    """One request on a fresh connection; returns (status, parsed JSON body, headers)."""
    if isinstance(target, int):
        conn: http.client.HTTPConnection = http.client.HTTPConnection("127.0.0.1", target, timeout=timeout)
    else:
        conn = UnixHTTPConnection(target, timeout=timeout)
    try:
        headers = {"Connection": "close"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        raw = response.read()
        return response.status, json.loads(raw), {k.lower(): v for k, v in response.getheaders()}
    finally:
        conn.close()


def get(target: Target, path: str) -> Tuple[int, Any]:
    status, body, _ = request(target, "GET", path)
    return status, body


class Server:
    """A query program started in server mode; killed on exit from the ``with`` block.

    The program binds port 0 (or its Unix socket); ``target`` is read back from the line the SDK
    prints once it listens, ``Query server started on <where>``.
    """

    def __init__(self, path: Path, env: Dict[str, str]) -> None:
        self.target: Target = None
        self._head: list[str] = []  # stderr read while waiting for the start line
        self.proc = subprocess.Popen(
            [sys.executable, str(path)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def __enter__(self) -> "Server":
        # A program that neither starts nor exits is killed, so the wait ends.
        watchdog = threading.Timer(60, self.proc.kill)
        watchdog.start()
        try:
            assert self.proc.stderr is not None
            for line in self.proc.stderr:
                self._head.append(line)
                started = STARTED.search(line)
                if started:
                    at = started.group(1)
                    self.target = at[len("unix:"):] if at.startswith("unix:") else int(at.rsplit(":", 1)[1])
                    return self
        finally:
            watchdog.cancel()
        self.proc.wait()
        raise AssertionError(f"server exited with {self.proc.returncode} before listening: {''.join(self._head)}")

    def __exit__(self, *exc: Any) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate(timeout=30)

    def stop(self, signum: int, limit: float = 30) -> Tuple[int, str, str]:
        """Sends ``signum`` and waits for the exit; returns (exit code, stdout, stderr)."""
        self.proc.send_signal(signum)
        out, err = self.proc.communicate(timeout=limit)
        return self.proc.returncode, out, "".join(self._head) + err


STARTED = re.compile(r'"message":"Query server started on ([^"]+)"')


def tcp_server_env(port: int = 0, **extra: str) -> Dict[str, str]:
    """Server mode on 127.0.0.1: port 0 (the kernel picks one) unless a test needs a given port."""
    return clean_env(BOT_TYPE="realtime", THE0_QUERY_HOST="127.0.0.1", THE0_QUERY_PORT=str(port), **extra)


def json_lines(text: str) -> Iterator[Any]:
    for line in text.splitlines():
        if line.strip():
            yield json.loads(line)
