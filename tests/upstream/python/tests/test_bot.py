"""The bot (main.py) and its queries (query.py), run in-process the way upstream-style suites run
them: the wrapper's ``main(bot_id, config)``, handlers called through ``query._handlers``, one
ephemeral query through ``query._run_ephemeral``."""

import importlib
import json
import os
import shutil
import sys
import tempfile
import unittest
from unittest.mock import mock_open, patch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import main
from the0 import query
from the0.query import QueryRequest


class BotTestCase(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.env = patch.dict(os.environ, {
            "STATE_DIR": os.path.join(self.dir, "state"),
            "CODE_MOUNT_DIR": os.path.join(self.dir, "bot").lstrip("/"),
        })
        self.env.start()
        os.makedirs(os.path.join(self.dir, "bot"))
        os.environ.pop("QUERY_PATH", None)
        query._handlers.clear()
        query._config = {}
        self.queries = importlib.reload(importlib.import_module("query"))

    def tearDown(self):
        self.env.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def result(self):
        with open(os.path.join(self.dir, "bot", "result.json")) as f:
            return json.load(f)

    def tick(self, price, **config):
        main.main("mr-1", {"symbol": "ETH", "price": price, **config})
        return self.result()


class TestBot(BotTestCase):
    def test_prices_move_the_position(self):
        self.assertEqual(self.tick(100.0), {"status": "success", "message": "hold ETH", "data": {"position": 0}})
        self.assertEqual(self.tick(90.0)["message"], "buy ETH")
        self.assertEqual(self.tick(120.0)["message"], "sell ETH")
        self.assertEqual(self.tick(101.0)["data"], {"position": 0})

    def test_parse_when_called_without_arguments(self):
        with patch.dict(os.environ, {"BOT_ID": "mr-2", "BOT_CONFIG": '{"symbol": "SOL", "price": 20}'}):
            main.main()
        self.assertEqual(self.result()["message"], "hold SOL")

    def test_a_bad_price_is_an_error_result(self):
        with self.assertRaises(SystemExit) as ctx:
            main.main("mr-1", {"price": "high"})
        self.assertEqual(ctx.exception.code, 1)
        self.assertEqual(self.result(), {"status": "error", "message": "config.price must be a number",
                                         "data": {"got": "high"}})


class TestQueries(BotTestCase):
    def test_handlers_read_the_bots_state(self):
        for price in (100.0, 90.0, 95.0):
            self.tick(price)
        position = query._handlers["/position"](QueryRequest("/position", {}))
        self.assertEqual(position, {"position": 1, "last": {"signal": "hold", "price": 95.0}})
        query._config = {"symbol": "ETH"}
        prices = query._handlers["/prices"](QueryRequest("/prices", {"limit": 2}))
        self.assertEqual(prices, {"prices": [90.0, 95.0], "limit": 2, "symbol": "ETH"})

    def test_params_seam(self):
        query._current_params = {"symbol": "BTC", "size": 3}
        try:
            answer = query._handlers["/params"](QueryRequest("/params", {"symbol": "BTC", "size": 3}))
        finally:
            query._current_params = {}
        self.assertEqual(answer, {"params": {"symbol": "BTC", "size": 3}, "symbol": "BTC"})

    def test_one_ephemeral_query(self):
        self.tick(100.0)
        self.tick(80.0)
        query._config = {"symbol": "ETH"}
        m = mock_open()
        env = {"QUERY_PATH": "/prices", "QUERY_PARAMS": '{"limit": 1}'}
        with patch.dict(os.environ, env), patch("builtins.open", m), patch("os.makedirs"):
            query._run_ephemeral("/prices")
        written = json.loads("".join(c.args[0] for c in m().write.call_args_list))
        self.assertEqual(written, {"status": "ok", "data": {"prices": [80.0], "limit": 1, "symbol": "ETH"}})

    def test_a_query_cannot_reset_the_state(self):
        self.tick(100.0)
        m = mock_open()
        with patch.dict(os.environ, {"QUERY_PATH": "/reset"}), patch("builtins.open", m), patch("os.makedirs"):
            with self.assertRaises(SystemExit):
                query._run_ephemeral("/reset")
        written = json.loads("".join(c.args[0] for c in m().write.call_args_list))
        self.assertEqual(written["status"], "error")
        self.assertIn("read-only", written["error"])
        self.assertEqual(query._handlers["/position"](QueryRequest("/position", {}))["position"], 0)


if __name__ == "__main__":
    unittest.main()
