"""The two things the host owns: the environment (``os.environ``, as it is at each call) and the
standard streams (``sys.stdout`` / ``sys.stderr``, as they are at each call). Tried the way a bot
author's test suite does it: ``monkeypatch`` and ``capsys``, in this process."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import the0
from the0 import query, state
from the0.errors import MissingEnvError, ReadOnlyStateError


def lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def test_state_follows_monkeypatched_state_dir_at_every_call(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("STATE_DIR", str(tmp_path / "a"))
    state.set("k", {"n": 1})
    assert (tmp_path / "a" / "k.json").read_text() == '{"n":1}'
    monkeypatch.setenv("STATE_DIR", str(tmp_path / "b"))
    assert state.get("k") is None
    assert state.list() == []
    monkeypatch.setenv("STATE_DIR", str(tmp_path / "a"))
    assert state.get("k") == {"n": 1}


def test_the_sdk_reads_os_environ_not_the_c_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """``os.putenv`` changes only the C environment, which Python's own view does not show: the
    SDK must follow ``os.environ``, as upstream's pure-Python SDK did."""
    monkeypatch.setenv("STATE_DIR", str(tmp_path / "python-view"))
    os.putenv("STATE_DIR", str(tmp_path / "c-view"))
    try:
        state.set("k", 2)
    finally:
        os.putenv("STATE_DIR", os.environ["STATE_DIR"])
    assert (tmp_path / "python-view" / "k.json").read_text() == "2"
    assert not (tmp_path / "c-view").exists()


def test_a_replaced_os_environ_is_honoured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = {"STATE_DIR": str(tmp_path / "fake"), "BOT_ID": "from-a-dict", "BOT_CONFIG": '{"x": 1}'}
    monkeypatch.setattr(os, "environ", fake)
    state.set("k", True)
    assert (tmp_path / "fake" / "k.json").read_text() == "true"
    assert the0.parse() == ("from-a-dict", {"x": 1})


def test_query_path_set_in_python_makes_state_read_only(monkeypatch: pytest.MonkeyPatch) -> None:
    state.set("k", 1)
    assert query.is_query_mode() is False
    monkeypatch.setenv("QUERY_PATH", "/status")
    assert query.is_query_mode() is True
    with pytest.raises(ReadOnlyStateError, match=r'^state is read-only while this process serves queries: set\("k"\) refused$'):
        state.set("k", 2)
    assert state.get("k") == 1
    monkeypatch.delenv("QUERY_PATH")
    state.set("k", 3)


def test_parse_config_and_params_follow_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(MissingEnvError):
        the0.parse()
    monkeypatch.setenv("BOT_ID", "bot-9")
    monkeypatch.setenv("BOT_CONFIG", '{"symbol": "ETH"}')
    assert the0.parse() == ("bot-9", {"symbol": "ETH"})
    assert query.get_config() == {"symbol": "ETH"}
    monkeypatch.setenv("QUERY_PATH", "/p")
    monkeypatch.setenv("QUERY_PARAMS", '{"n": 5, "s": "x"}')
    assert query.get_params() == {"n": 5, "s": "x"}
    assert query.get_param_strings() == {"n": "5", "s": "x"}


def test_metric_and_log_lines_go_through_the_current_sys_streams_in_order(capsys: pytest.CaptureFixture[str]) -> None:
    print("before")
    the0.metric("trade", {"qty": 1})
    print("after")
    the0.log("hello", {"n": 1}, "warn")
    out, err = capsys.readouterr()
    first, metric, last = out.splitlines()
    assert (first, last) == ("before", "after")
    assert json.loads(metric)["_metric"] == "trade"
    (log,) = lines(err)
    assert (log["level"], log["message"], log["n"]) == ("warn", "hello", 1)


def test_a_result_file_failure_is_printed_on_sys_stderr(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("CODE_MOUNT_DIR", str(blocker / "bot"))
    the0.success("done")
    (line,) = lines(capsys.readouterr().err)
    assert line["level"] == "error"
    assert line["message"].startswith("cannot write result file ")


def test_the_cannot_start_line_goes_through_sys_stderr(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("BOT_TYPE", "realtime")
    monkeypatch.setenv("THE0_QUERY_PORT", "http")
    with pytest.raises(SystemExit) as stopped:
        query.run()
    assert stopped.value.code == 1
    (line,) = lines(capsys.readouterr().err)
    assert line["message"] == 'query service cannot start: THE0_QUERY_PORT must be a non-negative integer, got "http"'


def test_an_in_process_info_run_follows_os_environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = tmp_path / "query" / "result.json"
    monkeypatch.setenv("THE0_QUERY_RESULT_FILE", str(result))
    query.run()
    answer = json.loads(result.read_text())
    assert answer["status"] == "ok"
    assert "/health" in answer["data"]["available_queries"]
    assert capsys.readouterr() == ("", "")
    state.set("after", 1)  # the run released the read-only guard
