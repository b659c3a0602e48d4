"""The example bot end to end: real processes, real state files, queries over the result file,
TCP on 127.0.0.1 and a Unix socket."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

import pytest

BOT_DIR = Path(__file__).resolve().parents[1]
CROSSING_PRICES = [10.0, 10.0, 10.0, 5.0, 5.0, 5.0, 20.0, 20.0, 20.0, 5.0]
CROSSING = {"symbol": "TEST", "short_period": 2, "long_period": 3, "ticks": 10, "prices": CROSSING_PRICES}

# What the platform's Python wrapper does: load the bot entrypoint as module `main` from the code
# directory and call its main(bot_id, config).
WRAPPER = """
import importlib.util, json, os, sys
sys.path.insert(0, os.getcwd())
spec = importlib.util.spec_from_file_location("main", os.path.join(os.getcwd(), "main.py"))
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
module.main(os.environ["BOT_ID"], json.loads(os.environ.get("BOT_CONFIG") or "{}"))
"""

SCRUBBED = {"BOT_ID", "BOT_CONFIG", "BOT_TYPE", "CODE_MOUNT_DIR", "STATE_DIR", "QUERY_PATH", "QUERY_PARAMS"}


class Sandbox:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.state_dir = root / "state"
        self.code_dir = root / "bot"
        self.query_result = root / "query" / "result.json"

    def env(self, config: Dict[str, Any], **extra: str) -> Dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in SCRUBBED and not k.startswith("THE0_QUERY")}
        env.update(
            BOT_ID="sma-1",
            BOT_CONFIG=json.dumps(config),
            STATE_DIR=str(self.state_dir),
            CODE_MOUNT_DIR=str(self.code_dir).lstrip("/"),
            THE0_QUERY_RESULT_FILE=str(self.query_result),
        )
        env.update(extra)
        return env

    def bot(self, config: Dict[str, Any], **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-c", WRAPPER], cwd=BOT_DIR, env=self.env(config, **extra),
            capture_output=True, text=True, timeout=120,
        )

    def query_once(self, config: Dict[str, Any], path: str, params: Any) -> Tuple[int, Any]:
        done = subprocess.run(
            [sys.executable, "query.py"], cwd=BOT_DIR,
            env=self.env(config, QUERY_PATH=path, QUERY_PARAMS=json.dumps(params)),
            capture_output=True, text=True, timeout=120,
        )
        assert done.stdout == ""
        return done.returncode, read_json(self.query_result)


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    return Sandbox(tmp_path)


def test_a_scheduled_run_writes_state_metrics_and_a_result_then_the_next_run_continues(sandbox: Sandbox) -> None:
    done = sandbox.bot(CROSSING)
    assert done.returncode == 0, done.stderr
    assert read_json(sandbox.code_dir / "result.json") == {
        "status": "success",
        "message": "processed 10 ticks, 2 signals so far",
    }
    strategy = read_json(sandbox.state_dir / "strategy.json")
    assert (strategy["signal_count"], strategy["short_sma"], strategy["long_sma"], strategy["trend"]) == (
        2, 12.5, 15.0, "below",
    )
    assert [s["side"] for s in read_json(sandbox.state_dir / "signals.json")] == ["BUY", "SELL"]
    metrics = [json.loads(line) for line in done.stdout.splitlines()]
    assert sum(m["_metric"] == "price" for m in metrics) == 10
    assert [m["side"] for m in metrics if m["_metric"] == "signal"] == ["BUY", "SELL"]
    logs = [json.loads(line) for line in done.stderr.splitlines()]
    assert logs[0]["message"] == "bot sma-1 starting at tick 0"

    # The second run restores the state and continues the series (same figures as the Rust example).
    assert sandbox.bot(CROSSING).returncode == 0
    strategy = read_json(sandbox.state_dir / "strategy.json")
    assert (strategy["tick"], strategy["signal_count"]) == (20, 6)
    assert [s["tick"] for s in read_json(sandbox.state_dir / "signals.json")] == [7, 10, 12, 14, 17, 20]


def test_the_random_walk_is_deterministic_and_bounded() -> None:
    sys.path.insert(0, str(BOT_DIR))
    try:
        from strategy import Config, price_at
    finally:
        sys.path.remove(str(BOT_DIR))
    config = Config()
    a = price_at(config, 7, 100.0)
    assert a == price_at(config, 7, 100.0)
    assert 99.0 <= a <= 101.0


@pytest.mark.skipif(not os.environ.get("THE0_RUST_SMA_BOT"), reason="THE0_RUST_SMA_BOT (the Rust example's sma-bot) not given")
def test_the_python_and_rust_bots_write_identical_state(tmp_path: Path) -> None:
    """Same configuration, same strategy: the state files of the Python bot and of the Rust example
    (examples/rust-sma-crossover) are byte-identical, random walk included."""
    config = {"symbol": "BTC/USD", "short_period": 5, "long_period": 20, "ticks": 200, "seed": 7}
    python_run, rust_run = Sandbox(tmp_path / "py"), Sandbox(tmp_path / "rs")
    assert python_run.bot(config).returncode == 0
    done = subprocess.run([os.environ["THE0_RUST_SMA_BOT"]], env=rust_run.env(config), capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for key in ["strategy.json", "signals.json"]:
        assert (python_run.state_dir / key).read_bytes() == (rust_run.state_dir / key).read_bytes(), key
    assert read_json(python_run.code_dir / "result.json") == read_json(rust_run.code_dir / "result.json")


def test_a_bad_configuration_is_an_error_result(sandbox: Sandbox) -> None:
    done = sandbox.bot({"short_period": 20, "long_period": 5})
    assert done.returncode == 1
    assert read_json(sandbox.code_dir / "result.json") == {
        "status": "error",
        "message": "invalid configuration: short_period (20) must be less than long_period (5)",
    }
    assert not sandbox.state_dir.exists(), "nothing written"


def test_ephemeral_and_info_queries_read_the_state(sandbox: Sandbox) -> None:
    assert sandbox.bot(CROSSING).returncode == 0
    assert sandbox.query_once(CROSSING, "/status", {}) == (
        0,
        {"status": "ok", "data": {
            "symbol": "TEST", "tick": 10, "price": 5.0, "short_sma": 12.5, "long_sma": 15.0,
            "trend": "below", "signal_count": 2,
        }},
    )
    code, signals = sandbox.query_once(CROSSING, "/signals", {"limit": 1})
    assert code == 0 and signals["data"]["count"] == 2
    assert signals["data"]["signals"] == [
        {"tick": 10, "side": "SELL", "price": 5.0, "short_sma": 12.5, "long_sma": 15.0}
    ]
    assert sandbox.query_once(CROSSING, "/signals", {"limit": "many"}) == (
        1, {"status": "error", "error": 'limit must be a positive integer, got "many"'},
    )
    code, missing = sandbox.query_once(CROSSING, "/trades", {})
    assert (code, missing["error"]) == (1, "No handler for path: /trades")

    done = subprocess.run([sys.executable, "query.py"], cwd=BOT_DIR, env=sandbox.env(CROSSING),
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert read_json(sandbox.query_result) == {
        "status": "ok", "data": {"available_queries": ["/health", "/info", "/signals", "/status"]},
    }


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=30)
        self._path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(30)
        self.sock.connect(self._path)


def call(target: Any, method: str, path: str, body: Optional[bytes] = None) -> Tuple[int, Any]:
    conn = (http.client.HTTPConnection("127.0.0.1", target, timeout=30)
            if isinstance(target, int) else UnixConnection(target))
    try:
        conn.request(method, path, body=body, headers={"Connection": "close"})
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def listening(proc: subprocess.Popen) -> Any:
    """Where the query server listens (a port, or a Unix socket path), from the line the SDK
    prints once it does: ``Query server started on <where>``."""
    assert proc.stderr is not None
    for line in proc.stderr:
        if '"message":"Query server started on ' in line:
            at = json.loads(line)["message"].rsplit(" ", 1)[1]
            return at[len("unix:"):] if at.startswith("unix:") else int(at.rsplit(":", 1)[1])
    raise AssertionError(f"the query server exited with {proc.wait()} before listening")


def start_query_server(sandbox: Sandbox, config: Dict[str, Any], **listen: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "query.py"], cwd=BOT_DIR,
                            env=sandbox.env(config, BOT_TYPE="realtime", **listen),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def stop(proc: subprocess.Popen) -> int:
    proc.terminate()
    proc.communicate(timeout=30)
    return proc.returncode


def test_the_query_server_answers_over_tcp_and_over_a_unix_socket(sandbox: Sandbox) -> None:
    assert sandbox.bot(CROSSING).returncode == 0
    socket_path = str(sandbox.root / "query.sock")
    servers = [
        start_query_server(sandbox, CROSSING, THE0_QUERY_HOST="127.0.0.1", THE0_QUERY_PORT="0"),
        start_query_server(sandbox, CROSSING, THE0_QUERY_SOCKET=socket_path),
    ]
    try:
        targets = [listening(proc) for proc in servers]
        assert isinstance(targets[0], int) and targets[1] == socket_path
        for target in targets:
            status, body = call(target, "GET", "/status")
            assert (status, body["data"]["signal_count"]) == (200, 2)
            by_query_string = call(target, "GET", "/signals?limit=1")
            by_body = call(target, "POST", "/signals", b'{"limit": 1}')
            assert by_query_string == by_body
            assert by_body[1]["data"]["signals"][0]["side"] == "SELL"
            assert call(target, "GET", "/signals?limit=0") == (
                500, {"status": "error", "error": 'limit must be a positive integer, got "0"'},
            )
    finally:
        codes = [stop(proc) for proc in servers]
    assert codes == [0, 0]


def test_a_realtime_bot_and_its_query_server_run_side_by_side(sandbox: Sandbox) -> None:
    config = {"symbol": "LIVE", "short_period": 2, "long_period": 4, "tick_interval_ms": 5}
    bot = subprocess.Popen([sys.executable, "-c", WRAPPER], cwd=BOT_DIR,
                           env=sandbox.env(config, BOT_TYPE="realtime"),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = start_query_server(sandbox, config, THE0_QUERY_HOST="127.0.0.1", THE0_QUERY_PORT="0")
    try:
        port = listening(server)

        def tick_now() -> int:
            status, body = call(port, "GET", "/status")
            assert status == 200, body
            return body["data"]["tick"]

        first = tick_now()
        deadline = time.monotonic() + 30
        while tick_now() <= first:
            assert time.monotonic() < deadline, "the bot's ticks never reached the query server"
            time.sleep(0.02)
        assert bot.poll() is None, "the realtime bot stopped on its own"
    finally:
        bot.kill()
        bot.wait(timeout=30)
        assert stop(server) == 0
