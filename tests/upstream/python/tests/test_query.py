"""the0.query through the module-level seams upstream's own suite uses, and that bot authors copy:
``query._handlers``, ``query._current_params``, ``query._config`` and ``query._run_ephemeral``
(with ``builtins.open`` patched, as upstream's tests do)."""

import json
import os
import shutil
import sys
import tempfile
import unittest
from unittest.mock import mock_open, patch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from the0 import query, state
from the0.query import QueryRequest, ReadOnlyStateError


def written(m):
    """Everything written through a mock_open handle, parsed."""
    return json.loads("".join(call.args[0] for call in m().write.call_args_list))


class TestQueryRequest(unittest.TestCase):
    def test_fields_and_typed_get(self):
        req = QueryRequest("/prices", {"symbol": "ETH", "limit": 3})
        self.assertEqual(req.path, "/prices")
        self.assertEqual(req.params, {"symbol": "ETH", "limit": 3})
        self.assertEqual(req.get("limit"), 3)
        self.assertEqual(req.get("symbol"), "ETH")
        self.assertIsNone(req.get("missing"))
        self.assertEqual(req.get("missing", "d"), "d")
        self.assertIn("/prices", repr(req))


class TestHandlers(unittest.TestCase):
    def setUp(self):
        query._handlers.clear()

    def test_the_table_holds_the_functions(self):
        @query.handler("/one")
        def one(req):
            return {"n": 1}

        @query.handler("/two")
        def two(req):
            return {"n": req.get("n")}

        self.assertIs(query._handlers["/one"], one)
        self.assertEqual(query._handlers["/two"](QueryRequest("/two", {"n": 2})), {"n": 2})
        self.assertEqual(sorted(query._handlers), ["/one", "/two"])

    def test_builtins_added_by_hand(self):
        query._handlers.setdefault("/health", lambda req: {"status": "ok"})
        self.assertEqual(query._handlers["/health"](QueryRequest("/health", {})), {"status": "ok"})


class TestParamsAndConfig(unittest.TestCase):
    def tearDown(self):
        query._current_params = {}
        query._config = {}

    def test_params_are_a_copy_of_current_params(self):
        query._current_params = {}
        self.assertEqual(query.get_params(), {})
        query._current_params = {"symbol": "ETH", "limit": 5}
        params = query.get_params()
        self.assertEqual(params, {"symbol": "ETH", "limit": 5})
        params["added"] = True
        self.assertNotIn("added", query._current_params)

    def test_config_is_a_copy_of_config(self):
        query._config = {}
        self.assertEqual(query.get_config(), {})
        query._config = {"symbol": "SOL", "band": 0.1}
        config = query.get_config()
        self.assertEqual(config, {"symbol": "SOL", "band": 0.1})
        config["added"] = True
        self.assertNotIn("added", query._config)


class TestEphemeral(unittest.TestCase):
    def setUp(self):
        query._handlers.clear()
        query._current_params = {}
        self.dir = tempfile.mkdtemp()

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def run_query(self, path, params="{}"):
        """``_run_ephemeral(path)`` with the result file mocked; returns the mock."""
        m = mock_open()
        env = {"QUERY_PATH": path, "QUERY_PARAMS": params, "STATE_DIR": self.dir}
        with patch.dict(os.environ, env), patch("builtins.open", m), patch("os.makedirs"):
            query._run_ephemeral(path)
        return m

    def test_answer_is_written_to_the_result_file(self):
        @query.handler("/prices")
        def prices(req):
            return {"symbol": req.get("symbol"), "limit": req.get("limit"), "params": query.get_params()}

        m = self.run_query("/prices", '{"symbol": "ETH", "limit": 2}')
        self.assertEqual(
            written(m),
            {"status": "ok", "data": {"symbol": "ETH", "limit": 2, "params": {"symbol": "ETH", "limit": 2}}},
        )
        self.assertEqual(m.call_args_list[0].args[0], "/query/result.json")
        self.assertEqual(query._current_params, {"symbol": "ETH", "limit": 2})

    def test_unknown_path_exits_1(self):
        m = mock_open()
        with patch.dict(os.environ, {"QUERY_PATH": "/missing"}), patch("builtins.open", m), patch("os.makedirs"):
            with self.assertRaises(SystemExit) as ctx:
                query._run_ephemeral("/missing")
        self.assertEqual(ctx.exception.code, 1)
        answer = written(m)
        self.assertEqual(answer["status"], "error")
        self.assertIn("No handler", answer["error"])

    def test_handler_error_exits_1(self):
        @query.handler("/boom")
        def boom(req):
            raise ValueError("no prices yet")

        with self.assertRaises(SystemExit) as ctx:
            self.run_query("/boom")
        self.assertEqual(ctx.exception.code, 1)

    def test_handler_error_message(self):
        @query.handler("/boom")
        def boom(req):
            raise ValueError("no prices yet")

        m = mock_open()
        with patch.dict(os.environ, {"QUERY_PATH": "/boom"}), patch("builtins.open", m), patch("os.makedirs"):
            with self.assertRaises(SystemExit):
                query._run_ephemeral("/boom")
        self.assertEqual(written(m), {"status": "error", "error": "no prices yet"})

    def test_writes_inside_a_query_are_refused(self):
        @query.handler("/write")
        def write(req):
            try:
                state.set("k", 1)
            except state.ReadOnlyStateError as exc:
                return {"refused": str(exc)}
            return {"refused": None}

        m = self.run_query("/write")
        self.assertIn("read-only", written(m)["data"]["refused"])
        self.assertEqual(os.listdir(self.dir), [])


class TestReadOnlyState(unittest.TestCase):
    def setUp(self):
        self._orig_environ = os.environ.copy()
        self.dir = tempfile.mkdtemp()
        os.environ["STATE_DIR"] = self.dir

    def tearDown(self):
        os.environ.clear()
        os.environ.update(self._orig_environ)
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_is_query_mode(self):
        os.environ.pop("QUERY_PATH", None)
        self.assertFalse(query.is_query_mode())
        os.environ["QUERY_PATH"] = "/position"
        self.assertTrue(query.is_query_mode())

    def test_writes_raise_reads_work(self):
        state.set("k", "kept")
        os.environ["QUERY_PATH"] = "/position"
        for write in (lambda: state.set("k", "x"), lambda: state.delete("k"), state.clear):
            with self.assertRaises(state.ReadOnlyStateError):
                write()
        self.assertEqual(state.get("k"), "kept")
        self.assertEqual(state.get("nothing", "default"), "default")
        self.assertTrue(state.exists("k"))
        self.assertEqual(state.list(), ["k"])

    def test_error_class(self):
        err = ReadOnlyStateError("no writes in queries")
        self.assertEqual(str(err), "no writes in queries")
        self.assertIsInstance(err, Exception)


if __name__ == "__main__":
    unittest.main()
