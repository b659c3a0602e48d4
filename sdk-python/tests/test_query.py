"""the0.query: the request object, registration, and query.run() in every mode, in real processes
over real sockets (127.0.0.1 and Unix sockets only)."""

from __future__ import annotations

import errno
import json
import os
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Dict, Tuple

import pytest

from the0 import errors, query
from helpers import Server, clean_env, get, request, run_python, script, tcp_server_env

# A query program used by most tests: sync and async handlers, a failing one, state probes.
QUERY_PROGRAM = """
import asyncio, json, os, sys, time
from the0 import query, state

@query.handler("/echo")
def echo(req):
    return {"path": req.path, "params": req.params,
            "strings": {k: req.get_string(k) for k in req.params}, "missing": req.get("nope", "dflt"),
            "missing_string": req.get_string("nope", "dflt")}

@query.handler("fail")                      # registered as /fail
def fail(req):
    raise ValueError("deliberate failure")

@query.handler("/exit")
def leave(req):
    sys.exit(3)

@query.handler("/unserializable")
def unserializable(req):
    return {"when": object()}

@query.handler("/async")
async def later(req):
    await asyncio.sleep(0.01)
    return {"async": True, "n": req.get("n"), "params": query.get_params()}

@query.handler("/async-fail")
async def async_fail(req):
    await asyncio.sleep(0)
    raise RuntimeError("async failure")

@query.handler("/params")
def params(req):
    return query.get_params()

@query.handler("/param-strings")
def param_strings(req):
    return query.get_param_strings()

@query.handler("/config")
def config(req):
    return query.get_config()

@query.handler("/mode")
def mode(req):
    return {"query_mode": query.is_query_mode()}

@query.handler("/state")
def read_state(req):
    return {"value": state.get(req.get("key", "k"), "absent"), "keys": state.list()}

@query.handler("/write")
def write(req):
    try:
        state.set("k", "from a query")
    except state.ReadOnlyStateError as exc:
        return {"written": False, "status": exc.status, "message": str(exc)}
    return {"written": True}

@query.handler("/slow")
def slow(req):
    time.sleep(float(req.get("s", "0.2")))
    return {"slept": True}

if os.environ.get("CUSTOM_INFO"):
    query.handler("/info", lambda req: write(req))

query.run()
print("run returned", file=sys.stderr)
"""

AVAILABLE = [
    "/async",
    "/async-fail",
    "/config",
    "/echo",
    "/exit",
    "/fail",
    "/health",
    "/info",
    "/mode",
    "/param-strings",
    "/params",
    "/slow",
    "/state",
    "/unserializable",
    "/write",
]


@pytest.fixture
def program(tmp_path: Path) -> Path:
    return script(tmp_path, QUERY_PROGRAM, "query_program.py")


@pytest.fixture
def seeded(state_dir: Path) -> Path:
    from the0 import state

    state.set("k", {"seeded": 1})
    return state_dir


# ---------------------------------------------------------------------------------------------
# In-process API


def test_request_get_keeps_types_and_get_string_gives_the_string_form() -> None:
    req = query.QueryRequest("/p", {"s": "BTC", "n": 5, "f": 1.5, "b": True, "l": ["a", 1], "z": None})
    assert req.path == "/p"
    assert req.params["n"] == 5 and req.params["l"] == ["a", 1]
    keys = ["s", "n", "f", "b", "l", "z"]
    assert [req.get(k) for k in keys] == ["BTC", 5, 1.5, True, ["a", 1], None]
    assert [req.get_string(k) for k in keys] == ["BTC", "5", "1.5", "true", '["a",1]', "null"]
    assert req.get("missing") is None
    assert req.get("missing", 10) == 10
    assert req.get_string("missing", 10) == 10
    assert repr(req).startswith("QueryRequest(path='/p', params=")
    assert query.QueryRequest("/q").params == {}


def test_handler_registration() -> None:
    def fn(req: query.QueryRequest) -> Dict[str, Any]:
        return {}

    assert query.handler("/decorated")(fn) is fn
    assert query.handler("plain", fn) is fn
    assert "/plain" in query._handlers and "/decorated" in query._handlers
    with pytest.raises(errors.InvalidArgumentError, match="^query path must not be empty$"):
        query.handler("")(fn)
    with pytest.raises(ValueError, match="control characters"):
        query.handler("/a\nb")(fn)


def test_config_and_params_outside_a_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    assert query.get_config() == {}
    monkeypatch.setenv("BOT_CONFIG", '{"symbol": "ETH", "fast": 5}')
    assert query.get_config() == {"symbol": "ETH", "fast": 5}
    monkeypatch.setenv("BOT_CONFIG", "not json")
    assert query.get_config() == {}
    assert query.get_params() == {}
    monkeypatch.setenv("QUERY_PATH", "/x")
    monkeypatch.setenv("QUERY_PARAMS", '{"a": 1, "b": "x"}')
    assert query.get_params() == {"a": 1, "b": "x"}
    assert query.get_param_strings() == {"a": "1", "b": "x"}


# ---------------------------------------------------------------------------------------------
# Ephemeral and info modes


def run_once(program: Path, tmp_path: Path, **env: str) -> Tuple[int, Any, str, str]:
    result_file = tmp_path / "query" / "result.json"
    if result_file.exists():
        result_file.unlink()
    done = run_python(
        program,
        clean_env(STATE_DIR=str(tmp_path / "state"), THE0_QUERY_RESULT_FILE=str(result_file), **env),
    )
    result = json.loads(result_file.read_text()) if result_file.exists() else None
    return done.returncode, result, done.stdout, done.stderr


@pytest.mark.parametrize(
    "path, params, code, expected",
    [
        (
            "/echo",
            '{"limit": 5, "symbol": "ETH", "tags": ["a", 1]}',
            0,
            {
                "status": "ok",
                "data": {
                    "path": "/echo",
                    "params": {"limit": 5, "symbol": "ETH", "tags": ["a", 1]},
                    "strings": {"limit": "5", "symbol": "ETH", "tags": '["a",1]'},
                    "missing": "dflt",
                    "missing_string": "dflt",
                },
            },
        ),
        ("/fail", None, 1, {"status": "error", "error": "deliberate failure"}),
        # The handler asked for exit code 3: the answer is written, then the process exits with it.
        ("/exit", None, 3, {"status": "error", "error": "3"}),
        (
            "/unserializable",
            None,
            1,
            {"status": "error", "error": "handler result cannot be serialized: Object of type object is not JSON serializable"},
        ),
        ("/async", '{"n": 2}', 0, {"status": "ok", "data": {"async": True, "n": 2, "params": {"n": 2}}}),
        ("/async-fail", None, 1, {"status": "error", "error": "async failure"}),
        ("/params", '{"a": 1, "b": "x"}', 0, {"status": "ok", "data": {"a": 1, "b": "x"}}),
        ("/param-strings", '{"a": 1, "b": "x"}', 0, {"status": "ok", "data": {"a": "1", "b": "x"}}),
        ("/mode", None, 0, {"status": "ok", "data": {"query_mode": True}}),
        ("/state", None, 0, {"status": "ok", "data": {"value": {"seeded": 1}, "keys": ["k"]}}),
        (
            "/write",
            None,
            0,
            {
                "status": "ok",
                "data": {
                    "written": False,
                    "status": "READ_ONLY",
                    "message": 'state is read-only while this process serves queries: set("k") refused',
                },
            },
        ),
        ("/health", None, 0, {"status": "ok", "data": {"status": "ok"}}),
        (
            "/missing",
            None,
            1,
            {"status": "error", "error": "No handler for path: /missing", "available": AVAILABLE},
        ),
        (
            "/echo",
            "[1]",
            1,
            {"status": "error", "error": "QUERY_PARAMS must be a JSON object, got an array"},
        ),
    ],
)
def test_ephemeral_mode(
    program: Path, tmp_path: Path, seeded: Path, path: str, params: str, code: int, expected: Any
) -> None:
    env = {"QUERY_PATH": path, "BOT_CONFIG": '{"symbol": "ETH"}'}
    if params is not None:
        env["QUERY_PARAMS"] = params
    exit_code, result, stdout, stderr = run_once(program, tmp_path, **env)
    assert (exit_code, result) == (code, expected), stderr
    assert stdout == "", "nothing is printed to stdout"
    if code == 0:
        assert "run returned" in stderr
    assert json.loads((seeded / "k.json").read_text()) == {"seeded": 1}, "state untouched"


def test_ephemeral_timeout(program: Path, tmp_path: Path) -> None:
    code, result, _, _ = run_once(
        program, tmp_path, QUERY_PATH="/slow", QUERY_PARAMS='{"s": 5}', THE0_QUERY_TIMEOUT_MS="300"
    )
    assert (code, result) == (1, {"status": "error", "error": "handler for /slow timed out after 300 ms"})


@pytest.mark.parametrize("bot_type", [None, "scheduled"])
def test_info_mode(program: Path, tmp_path: Path, bot_type: str) -> None:
    env = {} if bot_type is None else {"BOT_TYPE": bot_type}
    code, result, stdout, _ = run_once(program, tmp_path, **env)
    assert (code, result) == (0, {"status": "ok", "data": {"available_queries": AVAILABLE}})
    assert stdout == ""


def test_info_mode_is_read_only(program: Path, tmp_path: Path) -> None:
    code, result, _, _ = run_once(program, tmp_path, CUSTOM_INFO="1")
    assert code == 0
    assert result["data"]["written"] is False
    assert result["data"]["status"] == "READ_ONLY"
    assert not (tmp_path / "state" / "k.json").exists()


def test_an_answer_that_cannot_be_written_is_reported_and_exits_1(program: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    target = blocker / "result.json"
    env = clean_env(QUERY_PATH="/health", STATE_DIR=str(tmp_path / "state"), THE0_QUERY_RESULT_FILE=str(target))
    done = run_python(program, env)
    assert done.returncode == 1
    (line,) = [json.loads(l) for l in done.stderr.splitlines() if l.startswith("{")]
    reason = os.strerror(errno.ENOTDIR)
    assert (line["level"], line["message"]) == (
        "error",
        f"cannot write query result {target}: {reason} (os error {errno.ENOTDIR})",
    ), "the same line as every SDK's"


def test_the_handler_table_is_what_the_core_serves(tmp_path: Path) -> None:
    program = script(tmp_path, """
        import os
        from the0 import query

        @query.handler("/stale")
        def stale(req):
            return "stale"

        query._handlers.clear()
        query._handlers["fresh"] = lambda req: {"fresh": req.get("n")}   # no leading slash, not decorated
        query._config = {"assigned": True}
        query._handlers["/config"] = lambda req: query.get_config()
        query.run()
    """)
    result = tmp_path / "result.json"
    env = clean_env(THE0_QUERY_RESULT_FILE=str(result), BOT_CONFIG='{"from": "env"}')

    def ask(path: str) -> Any:
        done = run_python(program, {**env, "QUERY_PATH": path, "QUERY_PARAMS": '{"n": 5}'})
        return done.returncode, json.loads(result.read_text())

    assert ask("/fresh") == (0, {"status": "ok", "data": {"fresh": 5}})
    assert ask("/stale") == (
        1,
        {"status": "error", "error": "No handler for path: /stale", "available": ["/config", "/fresh", "/health", "/info"]},
    )
    assert ask("/config") == (0, {"status": "ok", "data": {"from": "env"}}), "run() loads BOT_CONFIG, as upstream"


# ---------------------------------------------------------------------------------------------
# Server mode


@pytest.fixture
def server(program: Path, seeded: Path) -> Any:
    env = tcp_server_env(STATE_DIR=str(seeded), BOT_CONFIG='{"symbol": "BTC/USD"}', THE0_QUERY_WORKERS="4")
    with Server(program, env) as running:
        yield running


def test_server_answers_and_keeps_serving_after_a_handler_raises(server: Server) -> None:
    t = server.target
    assert get(t, "/fail") == (500, {"status": "error", "error": "deliberate failure"})
    assert get(t, "/async-fail") == (500, {"status": "error", "error": "async failure"})
    assert get(t, "/exit") == (500, {"status": "error", "error": "3"})
    status, body, headers = request(t, "POST", "/echo?x=q&limit=1", b'{"limit": 2, "live": true}')
    assert status == 200 and headers["content-type"] == "application/json"
    assert body["data"]["params"] == {"x": "q", "limit": 2, "live": True}
    assert body["data"]["strings"] == {"x": "q", "limit": "2", "live": "true"}
    assert get(t, "/async?n=7")[1]["data"] == {"async": True, "n": "7", "params": {"n": "7"}}
    assert get(t, "/params?a=1&b=x") == (200, {"status": "ok", "data": {"a": "1", "b": "x"}})
    assert get(t, "/config")[1]["data"] == {"symbol": "BTC/USD"}
    assert get(t, "/mode")[1]["data"] == {"query_mode": True}
    assert get(t, "/nope")[0] == 404
    assert get(t, "/info")[1]["data"]["available_queries"] == AVAILABLE
    assert get(t, "/unserializable")[0] == 500
    assert get(t, "/health") == (200, {"status": "ok", "data": {"status": "ok"}})


def test_server_mode_is_read_only(server: Server, seeded: Path) -> None:
    status, body = get(server.target, "/write")
    assert status == 200
    assert body["data"]["status"] == "READ_ONLY"
    assert get(server.target, "/state")[1]["data"]["value"] == {"seeded": 1}
    assert json.loads((seeded / "k.json").read_text()) == {"seeded": 1}


def test_one_hundred_concurrent_requests_each_get_their_own_answer(server: Server) -> None:
    barrier = threading.Barrier(100)

    def one(i: int) -> Tuple[int, int, Any]:
        barrier.wait()
        if i % 4 == 0:
            status, body, _ = request(server.target, "POST", "/echo", json.dumps({"i": i}).encode())
        elif i % 4 == 1:
            status, body = get(server.target, f"/params?i={i}")
        elif i % 4 == 2:
            status, body = get(server.target, f"/async?n={i}")
        else:
            status, body = get(server.target, "/fail")
        return i, status, body

    with ThreadPoolExecutor(max_workers=100) as pool:
        answers = list(pool.map(one, range(100)))
    for i, status, body in answers:
        if i % 4 == 0:
            assert (status, body["data"]["params"]) == (200, {"i": i}), i
            assert body["data"]["strings"] == {"i": str(i)}
        elif i % 4 == 1:
            assert (status, body) == (200, {"status": "ok", "data": {"i": str(i)}}), i
        elif i % 4 == 2:
            assert (status, body["data"]) == (200, {"async": True, "n": str(i), "params": {"n": str(i)}}), i
        else:
            assert (status, body) == (500, {"status": "error", "error": "deliberate failure"}), i
    assert get(server.target, "/health")[0] == 200


def test_a_slow_handler_does_not_stall_the_others(server: Server) -> None:
    with ThreadPoolExecutor(max_workers=1) as pool:
        slow = pool.submit(get, server.target, "/slow?s=2")
        # Answered while the slow handler still runs (no timing assertion: the slow one is only
        # checked afterwards).
        assert get(server.target, "/params?x=1")[0] == 200
        assert not slow.done() or slow.result()[0] == 200
        assert slow.result()[0] == 200


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_sigterm_and_ctrl_c_stop_the_server_cleanly(program: Path, state_dir: Path, signum: int) -> None:
    with Server(program, tcp_server_env(STATE_DIR=str(state_dir))) as running:
        assert get(running.target, "/echo")[0] == 200
        code, _, err = running.stop(signum)
    assert code == 0, err
    assert "run returned" in err
    assert "Traceback" not in err


def test_server_over_a_unix_socket(program: Path, tmp_path: Path, state_dir: Path) -> None:
    socket_path = tmp_path / "run" / "query.sock"
    env = clean_env(BOT_TYPE="realtime", STATE_DIR=str(state_dir), THE0_QUERY_SOCKET=str(socket_path))
    with Server(program, env) as running:
        assert running.target == str(socket_path)
        assert get(str(socket_path), "/params?via=unix")[1]["data"] == {"via": "unix"}
        code, _, err = running.stop(signal.SIGTERM)
    assert code == 0, err
    assert not socket_path.exists()


def test_a_port_in_use_is_a_clear_startup_error(program: Path, tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_python(program, tcp_server_env(port, STATE_DIR=str(tmp_path / "state")))
    assert done.returncode == 1
    line = json.loads(done.stderr.splitlines()[0])
    assert line["level"] == "error"
    assert line["message"].startswith(f"query service cannot start: cannot listen on 127.0.0.1:{port}")


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("THE0_QUERY_WORKERS", "0", "query service cannot start: THE0_QUERY_WORKERS must be at least 1"),
        ("THE0_QUERY_PORT", "http", 'query service cannot start: THE0_QUERY_PORT must be a non-negative integer, got "http"'),
    ],
)
def test_bad_settings_are_clear_startup_errors(program: Path, tmp_path: Path, name: str, value: str, message: str) -> None:
    env = tcp_server_env(STATE_DIR=str(tmp_path / "state"))
    env[name] = value
    done = run_python(program, env)
    assert done.returncode == 1
    assert message in [json.loads(l)["message"] for l in done.stderr.splitlines() if l.startswith("{")]


def test_a_forked_child_cannot_use_the_parents_service(tmp_path: Path) -> None:
    code = script(
        tmp_path,
        """
        import json, os, sys
        from the0 import _native, query
        from the0.errors import The0Error

        query.handler("/x", lambda req: {})
        assert _native.query_start(os.environ, 4)[0] == "server"
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            outcome = []
            for call in (lambda: _native.query_next(0.01), lambda: _native.query_respond(1, "1"), _native.query_stop):
                try:
                    call()
                    outcome.append(None)
                except The0Error as exc:
                    outcome.append([exc.status, str(exc)])
            os.write(write, json.dumps(outcome).encode())
            os._exit(0)
        os.close(write)
        with os.fdopen(read) as pipe:
            child = json.loads(pipe.read())
        os.waitpid(pid, 0)
        _native.query_stop()
        print(json.dumps({"child": child, "parent_exit": _native.query_finish()[0], "pid": pid}))
        """,
    )
    done = run_python(code, tcp_server_env(STATE_DIR=str(tmp_path / "state")))
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["parent_exit"] == 0
    for status, message in report["child"]:
        assert status == "INVALID_STATE"
        assert f"this process ({report['pid']}) is a fork of it" in message


def test_a_hung_handler_does_not_keep_the_server_from_stopping(program: Path, state_dir: Path) -> None:
    env = tcp_server_env(STATE_DIR=str(state_dir), THE0_QUERY_WORKERS="1", THE0_QUERY_TIMEOUT_MS="300")
    with Server(program, env) as running:
        port = running.target
        # The only handler thread sleeps for a minute; the client gets its 504 from the core.
        assert get(port, "/slow?s=60") == (
            504,
            {"status": "error", "error": "handler for /slow timed out after 300 ms"},
        )
        code, _, err = running.stop(signal.SIGTERM, limit=30)
    assert code == 0, err


def test_waiting_for_a_request_releases_the_gil(tmp_path: Path) -> None:
    """A thread waits in the core's next() for up to 60 s; the main thread must still run Python
    (an HTTP client) meanwhile, and that request is what ends the wait. If the wait held the GIL,
    the client could not run and the subprocess would time out."""
    code = script(
        tmp_path,
        """
        import http.client, json, os, threading, time
        from the0 import _native, query

        query.handler("/x", lambda req: {})
        mode, _workers, lines = _native.query_start(os.environ, 4)
        assert mode == "server"
        port = int(json.loads(lines[0])["message"].rsplit(":", 1)[1])  # bound on port 0
        taken = []
        waiting = threading.Event()
        def wait():
            waiting.set()
            item = _native.query_next(60.0)
            taken.append(item[1])
            _native.query_respond(item[0], '{"answered": true}')
        waiter = threading.Thread(target=wait)
        waiter.start()
        waiting.wait()
        time.sleep(0.2)  # let the waiter get inside next() (not a timing assertion)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=50)
        conn.request("GET", "/x")
        body = json.loads(conn.getresponse().read())
        waiter.join()
        _native.query_stop()
        print(json.dumps({"taken": taken, "body": body, "exit": _native.query_finish()[0]}))
        """,
    )
    done = run_python(code, tcp_server_env(STATE_DIR=str(tmp_path / "state")), timeout=40)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"taken": ["/x"], "body": {"status": "ok", "data": {"answered": True}}, "exit": 0}
