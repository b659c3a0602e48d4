"""the0: parse, success, error, result, metric, log, sleep."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

import the0
from the0 import errors
from helpers import clean_env, json_lines, run_python, script

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


@pytest.fixture
def mount(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The code mount: the result file is ``/<CODE_MOUNT_DIR>/result.json``."""
    dir = tmp_path / "bot"
    monkeypatch.setenv("CODE_MOUNT_DIR", str(dir).lstrip("/"))
    return dir


def test_parse(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_ID", "bot-1")
    monkeypatch.setenv("BOT_CONFIG", '{"symbol": "BTC/USD", "n": 3, "px": 1.5, "on": true}')
    assert the0.parse() == ("bot-1", {"symbol": "BTC/USD", "n": 3, "px": 1.5, "on": True})
    monkeypatch.setenv("BOT_CONFIG", "")
    assert the0.parse() == ("bot-1", {})


def test_parse_errors_are_value_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_CONFIG", "{}")
    with pytest.raises(ValueError, match="^environment variable BOT_ID is not set$") as caught:
        the0.parse()
    assert isinstance(caught.value, errors.MissingEnvError)
    assert caught.value.status == "MISSING_ENV"
    monkeypatch.setenv("BOT_ID", "b")
    monkeypatch.delenv("BOT_CONFIG")
    with pytest.raises(errors.MissingEnvError, match="BOT_CONFIG"):
        the0.parse()
    monkeypatch.setenv("BOT_CONFIG", "symbol=BTC")
    with pytest.raises(errors.InvalidJSONError) as caught_json:
        the0.parse()
    assert str(caught_json.value) == "BOT_CONFIG is not valid JSON: expected value at line 1 column 1"
    assert isinstance(caught_json.value, ValueError)


def test_success_and_result_write_the_result_file(mount: Path) -> None:
    the0.success('all "good"\n')
    assert json.loads((mount / "result.json").read_text()) == {"status": "success", "message": 'all "good"\n'}
    the0.success("done", {"trades": 2})
    assert json.loads((mount / "result.json").read_text()) == {
        "status": "success",
        "message": "done",
        "data": {"trades": 2},
    }
    the0.result({"status": "success", "pnl": 1.5, "note": "é"})
    assert (mount / "result.json").read_text(encoding="utf-8") == '{"status":"success","pnl":1.5,"note":"é"}'


def test_error_writes_the_result_file_and_exits_1(mount: Path) -> None:
    with pytest.raises(SystemExit) as caught:
        the0.error("no data", {"code": 7})
    assert caught.value.code == 1
    assert json.loads((mount / "result.json").read_text()) == {
        "status": "error",
        "message": "no data",
        "data": {"code": 7},
    }


def test_a_result_that_cannot_be_written_is_logged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("CODE_MOUNT_DIR", str(blocker / "sub").lstrip("/"))
    the0.success("x")  # does not raise, as upstream
    line = json.loads(capsys.readouterr().err)
    assert line["level"] == "error"
    assert line["message"].startswith(f"cannot write result file {blocker}/sub/result.json")


def test_metric_lines_go_through_sys_stdout_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    print("before")
    the0.metric("price", {"symbol": "BTC", "value": 1.5, "_metric": "x", "timestamp": 0})
    print("after")
    the0.metric("count", 7)  # type: ignore[arg-type]
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "before" and out[2] == "after"
    line = json.loads(out[1])
    assert list(line) == ["_metric", "symbol", "value", "timestamp"]
    assert line["_metric"] == "price" and line["value"] == 1.5
    assert TIMESTAMP.match(line["timestamp"])
    assert json.loads(out[3])["data"] == 7


def test_log_forms(capsys: pytest.CaptureFixture[str]) -> None:
    the0.log("starting")
    the0.log("connection lost", "warn")
    the0.log("order placed", {"order_id": "1", "level": "bogus"})
    the0.log("order failed", {"order_id": "2"}, "error")
    the0.log('tab\there "q" é\x01')
    lines = list(json_lines(capsys.readouterr().err))
    assert [(l["level"], l["message"]) for l in lines] == [
        ("info", "starting"),
        ("warn", "connection lost"),
        ("info", "order placed"),
        ("error", "order failed"),
        ("info", 'tab\there "q" é\x01'),
    ]
    assert lines[2]["order_id"] == "1" and lines[3]["order_id"] == "2"
    assert all(TIMESTAMP.match(l["timestamp"]) for l in lines)


def test_an_unknown_log_level_is_an_error() -> None:
    with pytest.raises(errors.InvalidArgumentError) as caught:
        the0.log("m", "loud")  # type: ignore[arg-type]
    assert str(caught.value) == 'unknown log level "loud": expected info, warn or error'
    assert isinstance(caught.value, ValueError)


def test_data_that_is_not_json_is_a_clear_error() -> None:
    with pytest.raises(errors.InvalidJSONError, match="^metric data cannot be serialized: "):
        the0.metric("m", {"s": {1}})
    with pytest.raises(errors.InvalidJSONError, match="^log data cannot be serialized: "):
        the0.log("m", {"x": float("nan")})


def test_metric_and_log_order_holds_in_a_real_process(tmp_path: Path) -> None:
    code = script(
        tmp_path,
        """
        import sys, the0
        print("one")
        the0.metric("m", {"n": 1})
        print("two")
        the0.log("to stderr")
        print("err line", file=sys.stderr)
        the0.sleep(0.01)
        """,
    )
    done = run_python(code, clean_env())
    assert done.returncode == 0, done.stderr
    out = done.stdout.splitlines()
    assert out[0] == "one" and json.loads(out[1])["_metric"] == "m" and out[2] == "two"
    err = done.stderr.splitlines()
    assert json.loads(err[0])["message"] == "to stderr" and err[1] == "err line"


def test_public_api_names() -> None:
    for name in ["parse", "success", "error", "result", "metric", "log", "sleep", "state", "query"]:
        assert name in the0.__all__ and hasattr(the0, name)
    for name in ["get", "set", "exists", "delete", "list", "clear", "ReadOnlyStateError"]:
        assert hasattr(the0.state, name)
    for name in ["handler", "run", "get_params", "get_config", "is_query_mode", "QueryRequest", "ReadOnlyStateError"]:
        assert hasattr(the0.query, name)
    package = Path(the0.__file__).parent
    assert (package / "py.typed").exists()
    assert (package / "_native.pyi").exists()
    assert sys.modules["the0._native"].__version__ == the0.__version__
