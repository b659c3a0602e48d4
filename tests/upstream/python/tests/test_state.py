"""the0.state, tested the way upstream's own suite tests it (a temporary STATE_DIR through
``patch.dict``, ``ValueError`` for bad keys)."""

import os
import shutil
import sys
import tempfile
import unittest
from unittest.mock import patch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from the0 import state


class TestState(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.env = patch.dict(os.environ, {"STATE_DIR": self.dir})
        self.env.start()

    def tearDown(self):
        self.env.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_round_trips(self):
        for key, value in [("d", {"ETH": 2, "BTC": 0.5}), ("l", [1.5, 2.0]), ("n", 7), ("s", "ETH/USD"),
                           ("b", False), ("z", None), ("nested", {"a": [{"b": {"c": [1, "x"]}}]})]:
            state.set(key, value)
            self.assertEqual(state.get(key), value, key)

    def test_defaults(self):
        self.assertIsNone(state.get("nothing"))
        self.assertEqual(state.get("nothing", {"empty": True}), {"empty": True})
        state.set("there", 0)
        self.assertEqual(state.get("there", 99), 0)

    def test_exists_delete_list_clear(self):
        self.assertFalse(state.exists("a"))
        state.set("a", 1)
        state.set("b", 2)
        self.assertTrue(state.exists("a"))
        self.assertEqual(sorted(state.list()), ["a", "b"])
        self.assertTrue(state.delete("a"))
        self.assertFalse(state.delete("a"))
        self.assertEqual(state.list(), ["b"])
        state.clear()
        self.assertEqual(state.list(), [])
        state.clear()

    def test_files_are_json_named_after_the_key(self):
        state.set("portfolio", {"ETH": 1})
        self.assertTrue(os.path.exists(os.path.join(self.dir, "portfolio.json")))

    def test_empty_key(self):
        with self.assertRaises(ValueError) as ctx:
            state.get("")
        self.assertIn("empty", str(ctx.exception).lower())

    def test_keys_that_are_paths(self):
        for key in ["../escape", "..\\escape", "a/b", "a\\b", ".."]:
            with self.assertRaises(ValueError) as ctx:
                state.set(key, "evil")
            self.assertIn("path", str(ctx.exception).lower(), key)
        self.assertEqual(os.listdir(self.dir), [])


if __name__ == "__main__":
    unittest.main()
