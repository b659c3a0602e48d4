"""parse, success, error, result, metric and log, tested the way upstream's own suite tests them:
``patch.dict(os.environ)``, a temporary CODE_MOUNT_DIR, ``patch('sys.stdout', StringIO())``."""

import json
import os
import sys
import tempfile
import unittest
from io import StringIO
from unittest.mock import patch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from the0 import error, log, metric, parse, result, success


class TestParse(unittest.TestCase):
    def test_id_and_typed_config(self):
        with patch.dict(os.environ, {"BOT_ID": "mr-1", "BOT_CONFIG": '{"symbol": "ETH", "band": 0.02, "live": true}'}):
            bot_id, config = parse()
        self.assertEqual(bot_id, "mr-1")
        self.assertEqual(config, {"symbol": "ETH", "band": 0.02, "live": True})

    def test_missing_bot_id_is_a_value_error_naming_it(self):
        with patch.dict(os.environ, {"BOT_CONFIG": "{}"}, clear=True):
            with self.assertRaises(ValueError) as ctx:
                parse()
        self.assertIn("BOT_ID", str(ctx.exception))

    def test_missing_config_is_a_value_error_naming_it(self):
        with patch.dict(os.environ, {"BOT_ID": "mr-1"}, clear=True):
            with self.assertRaises(ValueError) as ctx:
                parse()
        self.assertIn("BOT_CONFIG", str(ctx.exception))

    def test_config_that_is_not_json(self):
        with patch.dict(os.environ, {"BOT_ID": "mr-1", "BOT_CONFIG": "{'single': 'quotes'}"}):
            with self.assertRaises(ValueError) as ctx:
                parse()
        self.assertIn("JSON", str(ctx.exception))


class TestResultFile(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.env = patch.dict(os.environ, {"CODE_MOUNT_DIR": self.tmp.name})
        self.env.start()

    def tearDown(self):
        self.env.stop()
        self.tmp.cleanup()

    def read(self):
        with open(os.path.join("/", self.tmp.name, "result.json")) as f:
            return json.load(f)

    def test_success(self):
        success("bought 1 ETH")
        self.assertEqual(self.read(), {"status": "success", "message": "bought 1 ETH"})

    def test_success_with_data(self):
        success("done", {"position": 2, "fills": [1.5, 2.5]})
        self.assertEqual(self.read()["data"], {"position": 2, "fills": [1.5, 2.5]})

    def test_error_writes_then_exits_1(self):
        with self.assertRaises(SystemExit) as ctx:
            error("exchange down", {"retry_in": 30})
        self.assertEqual(ctx.exception.code, 1)
        self.assertEqual(self.read(), {"status": "error", "message": "exchange down", "data": {"retry_in": 30}})

    def test_result_is_written_as_given(self):
        result({"status": "success", "signals": [{"symbol": "ETH", "side": "buy"}], "note": "é\n"})
        self.assertEqual(self.read()["signals"], [{"symbol": "ETH", "side": "buy"}])
        self.assertEqual(self.read()["note"], "é\n")


class TestLines(unittest.TestCase):
    def test_metric_goes_to_stdout(self):
        out = StringIO()
        with patch("sys.stdout", out):
            metric("price", {"symbol": "ETH", "value": 2012.5})
        line = json.loads(out.getvalue().strip())
        self.assertEqual(line["_metric"], "price")
        self.assertEqual(line["value"], 2012.5)
        self.assertTrue(line["timestamp"].endswith("Z"))

    def test_log_goes_to_stderr_with_level_and_data(self):
        err = StringIO()
        with patch("sys.stderr", err):
            log("starting")
            log("slow fill", "warn")
            log("order", {"id": "o-1"}, "error")
        first, second, third = [json.loads(l) for l in err.getvalue().splitlines()]
        self.assertEqual((first["level"], first["message"]), ("info", "starting"))
        self.assertEqual(second["level"], "warn")
        self.assertEqual((third["level"], third["id"]), ("error", "o-1"))
        self.assertTrue(third["timestamp"].endswith("Z"))


if __name__ == "__main__":
    unittest.main()
