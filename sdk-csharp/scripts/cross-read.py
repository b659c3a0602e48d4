#!/usr/bin/env python3
"""The cross-reading case of the conformance suite, for the C# drivers: state written by each
driver is read back by every other, and every writer leaves byte-identical files.

Usage: cross-read.py NAME=COMMAND...   (e.g. rust=/path/the0-driver-rust "csharp-mono=mono /path/d.dll")

Run by scripts/test.sh with the Rust driver, the C# driver on Mono and on .NET 8, and the Python
and Node drivers when their SDKs are built. (The same case as tests/conformance's cross-reading
test where the harness lists drivers; this script keeps the C# SDK's check self-contained.)
"""
import json
import os
import subprocess
import sys
import tempfile

VALUES = [
    ("prices", "[1, 2.5, -3, 1e-7, 123456.789]"),
    ("text", '"café ☕ 😀 \\"q\\" \\\\ \\n\\t \\u0001"'),
    ("nested", '{"z": 1, "a": {"b": [true, false, null], "c": {}}, "é": "€"}'),
    ("empty", "{}"),
    ("flag", "false"),
    ("big", "123456789012345678901234567890"),
    ("prix_€", '"x"'),
]


def numbers_as_floats(value):
    """JSON with every number as a float: drivers print integers beyond 64 bits either exactly or
    as the nearest double, and both mean the same stored value (the files are compared byte for
    byte besides)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, list):
        return [numbers_as_floats(v) for v in value]
    return {k: numbers_as_floats(v) for k, v in value.items()}


def run(command, args, state_dir):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STATE_", "QUERY_", "BOT_"))}
    env["STATE_DIR"] = state_dir
    done = subprocess.run(command.split() + args, env=env, capture_output=True, timeout=120)
    assert done.returncode == 0, f"{command} {args}: {done.stderr.decode()}"
    return json.loads(done.stdout)


def main(drivers):
    keys = sorted(k for k, _ in VALUES)
    files = {}
    with tempfile.TemporaryDirectory() as root:
        for writer, write_with in drivers:
            state_dir = os.path.join(root, writer)
            for key, text in VALUES:
                assert run(write_with, ["state", "set", key, text], state_dir) == {"ok": None}, (writer, key)
                with open(os.path.join(state_dir, key + ".json"), "rb") as f:
                    content = f.read()
                first = files.setdefault(key, (writer, content))
                assert first[1] == content, f"{key}: {writer} stored {content!r}, {first[0]} {first[1]!r}"
            for reader, read_with in drivers:
                assert run(read_with, ["state", "list"], state_dir) == {"ok": keys}, f"{reader} lists {writer}'s keys"
                for key, text in VALUES:
                    got = run(read_with, ["state", "get", key], state_dir)
                    expected = {"ok": {"found": True, "value": json.loads(text)}}
                    assert numbers_as_floats(got) == numbers_as_floats(expected), f"{reader} reads {writer}'s {key}: {got}"
            print(f"ok   state written by {writer} is read back by {', '.join(n for n, _ in drivers)}")
    print(f"{len(drivers)} passed, 0 failed")


if __name__ == "__main__":
    main([arg.split("=", 1) for arg in sys.argv[1:]])
