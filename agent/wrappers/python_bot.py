"""the0 bot-mode wrapper for Python bots, written out and run by the0-agent.

Loads the bot's entrypoint (SCRIPT_PATH, default main.py) from the code directory and calls its
``main(bot_id, config)`` (a coroutine function is run with asyncio). The result file
``/<CODE_MOUNT_DIR>/result.json`` then says what happened, unless the bot wrote its own:

- main returned: ``{"status": "success", ...}``, exit 0;
- main raised: ``{"status": "error", "message": "<Type>: <text>"}``, the traceback on stderr,
  exit 1 (upstream's wrapper reported success and exited 0);
- SIGTERM: the exception ``Terminated`` is raised in the bot's main thread so that its
  ``finally`` blocks and context managers run, then ``{"status": "terminated"}``, exit 143.
"""

import asyncio
import importlib.util
import inspect
import json
import os
import signal
import sys
import traceback


class Terminated(BaseException):
    """Raised in the bot's main thread when the agent asks it to stop."""


def result_path():
    return os.path.join("/", os.environ.get("CODE_MOUNT_DIR", "bot").lstrip("/"), "result.json")


def write_result(result):
    path = result_path()
    temp = os.path.join(os.path.dirname(path), ".result.json.wrapper.tmp")
    try:
        with open(temp, "w", encoding="utf-8") as handle:
            json.dump(result, handle)
        os.replace(temp, path)
    except OSError as error:
        print(json.dumps({"level": "error", "message": f"cannot write {path}: {error}"}), file=sys.stderr)


def on_sigterm(signum, frame):
    raise Terminated()


def load_main(code_dir, script):
    path = os.path.join(code_dir, script)
    spec = importlib.util.spec_from_file_location("main", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the bot entrypoint {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["main"] = module
    spec.loader.exec_module(module)
    entry = getattr(module, "main", None)
    if not callable(entry):
        raise TypeError(f"{script} defines no main(bot_id, config) function")
    return entry


def run():
    code_dir = os.getcwd()
    sys.path[:0] = [code_dir, os.path.join(code_dir, "vendor")]
    try:
        os.remove(result_path())
    except FileNotFoundError:
        pass
    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        entry = load_main(code_dir, os.environ.get("SCRIPT_PATH", "main.py"))
        config = json.loads(os.environ.get("BOT_CONFIG") or "{}")
        outcome = entry(os.environ.get("BOT_ID", ""), config)
        if inspect.isawaitable(outcome):
            asyncio.run(outcome)
    except Terminated:
        write_result({"status": "terminated", "message": "stopped by SIGTERM"})
        return 143
    except SystemExit as exit:
        code = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
        if code != 0 and not os.path.exists(result_path()):
            write_result({"status": "error", "message": f"the bot exited with code {code}"})
        return code
    except BaseException as error:
        traceback.print_exc()
        write_result({"status": "error", "message": f"{type(error).__name__}: {error}"})
        return 1
    if not os.path.exists(result_path()):
        write_result({"status": "success", "message": "Bot executed successfully"})
    return 0


if __name__ == "__main__":
    sys.exit(run())
