"""Queries: read-only handlers that answer questions about a running bot.

Example::

    from the0 import query, state

    @query.handler("/portfolio")
    def portfolio(req):
        positions = state.get("positions", [])
        return {"positions": positions, "count": len(positions)}

    @query.handler("/status")
    async def status(req):              # async handlers run on an asyncio loop
        return {"symbol": req.get("symbol", "BTC/USD"), "active": True}

    query.run()

:func:`run` detects the mode once (the same rules in every the0 SDK):

1. ``QUERY_PATH`` non-empty: **ephemeral** -- answer that path with ``QUERY_PARAMS``, write the
   envelope to ``/query/result.json`` (``THE0_QUERY_RESULT_FILE``), exit 0 or 1.
2. ``BOT_TYPE=realtime``: **server** -- HTTP on ``THE0_QUERY_SOCKET`` or TCP
   ``0.0.0.0:${THE0_QUERY_PORT:-9476}``, until SIGTERM or Ctrl-C.
3. otherwise: **info** -- the ``/info`` answer to the result file.

The HTTP server, routing, parameters (query string and JSON body), envelopes, limits, timeouts,
the worker count and every line printed are the shared Rust core's; mode and settings are read from
``os.environ`` when ``run()`` starts. Python threads wait for requests in the core with the GIL
released, call the handler, and hand the JSON result back. A handler that raises is answered 500
with its message, and the server keeps serving. While the process serves queries, state is
read-only.

Upstream's module-level seams work as they did, for tests written against upstream's SDK:
``_handlers`` maps each path to its handler function (clear it, fill it, call its functions; ``run``
serves exactly its paths), assigning ``_current_params`` or ``_config`` sets what
:func:`get_params` and :func:`get_config` return outside a handler, and ``_run_ephemeral(path)``
answers one query in this process, writing the result file with ``open()`` (so a test may patch
``builtins.open``) and exiting with code 1 when the query failed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import json
import os
import signal
import sys
import threading
import time
from types import CoroutineType
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, TypeVar, Union

from . import _native, _print_stderr
from .errors import ReadOnlyStateError, The0Error

__all__ = [
    "handler",
    "run",
    "get_params",
    "get_param_strings",
    "get_config",
    "is_query_mode",
    "QueryRequest",
    "ReadOnlyStateError",
]

HandlerResult = Union[Any, Awaitable[Any]]
HandlerFn = Callable[["QueryRequest"], HandlerResult]
F = TypeVar("F", bound=HandlerFn)

#: Handler threads in server mode when ``THE0_QUERY_WORKERS`` is not set. Python code runs one
#: thread at a time (the GIL), so more threads only help handlers that block (I/O, sleep);
#: a few are enough to keep one slow handler from stalling the others.
DEFAULT_WORKERS = 4

#: A handler running longer than this lets another thread take requests (see ``_Pool``).
STALL_SECONDS = 0.02

_encode = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode

#: path -> handler (upstream's seam: tests clear, fill and call it; ``run`` serves its paths).
_handlers: Dict[str, HandlerFn] = {}

# "Not assigned" markers of the two seams below: a test's own ``{}`` is another object.
_PARAMS_UNSET: Dict[str, Any] = {}
_CONFIG_UNSET: Dict[str, Any] = {}

#: What :func:`get_params` returns outside a handler once assigned (upstream's seam); the
#: single-query modes set it to the query's parameters, as upstream did.
_current_params: Dict[str, Any] = _PARAMS_UNSET

#: What :func:`get_config` returns once assigned (upstream's seam).
_config: Dict[str, Any] = _CONFIG_UNSET

# The request being handled (thread- and task-local).
_current: contextvars.ContextVar[Optional["QueryRequest"]] = contextvars.ContextVar(
    "the0_query_request", default=None
)

# The core's stored path -> the key of ``_handlers`` it came from (they differ when a key lacks
# its leading ``/``).
_routes: Dict[str, str] = {}


class QueryRequest:
    """The request a handler receives.

    Attributes:
        path: the requested path (``"/portfolio"``).
        params: the parameters with their JSON types: query-string values are strings, values of a
            JSON body (what the platform's gateway sends) and of ``QUERY_PARAMS`` keep their types
            (``{"limit": 5}``).
    """

    __slots__ = ("path", "params", "_strings")

    def __init__(
        self,
        path: str,
        params: Optional[Dict[str, Any]] = None,
        strings: Optional[Dict[str, str]] = None,
    ) -> None:
        self.path = path
        self.params: Dict[str, Any] = {} if params is None else params
        self._strings = strings

    def get(self, key: str, default: Any = None) -> Any:
        """Parameter ``key`` with its JSON type (``5`` for ``{"limit": 5}``), or ``default`` when
        absent -- as upstream."""
        return self.params.get(key, default)

    def get_string(self, key: str, default: Any = None) -> Any:
        """Parameter ``key`` in string form, or ``default`` when absent: a string parameter as it
        is, any other value as its JSON text (``"5"``, ``"true"``, ``'["a",1]'``) -- the same answer
        in every the0 SDK."""
        return self._string_view().get(key, default)

    def _string_view(self) -> Dict[str, str]:
        strings = self._strings
        if strings is None:
            strings = self._strings = _native.param_strings(_encode(self.params))
        return strings

    def __repr__(self) -> str:
        return f"QueryRequest(path={self.path!r}, params={self.params!r})"


def handler(path: str, fn: Optional[HandlerFn] = None) -> Any:
    """Registers a handler for ``path`` (a missing leading ``/`` is added).

    Used as a decorator, ``@query.handler("/status")``, or called as ``query.handler("/status",
    fn)``. The handler receives a :class:`QueryRequest` and returns anything ``json.dumps``
    accepts; it may be an ``async def``. Registering a path again replaces its handler.

    Raises:
        InvalidArgumentError: the path is empty or contains control characters.
    """

    def register(func: F) -> F:
        _handlers[_native.query_register(path)] = func
        return func

    if fn is not None:
        return register(fn)
    return register


def _assigned_params() -> Optional[Dict[str, Any]]:
    """``_current_params`` when a test (or a single-query run) has set it."""
    if _current_params is not _PARAMS_UNSET or _current_params:
        return _current_params
    return None


def get_params() -> Dict[str, Any]:
    """Parameters of the query being handled, with their JSON types (as :meth:`QueryRequest.get`
    returns them); outside a handler, those assigned to ``_current_params``, else those of
    ``QUERY_PARAMS`` in ephemeral mode, else ``{}``. A copy."""
    request = _current.get()
    if request is not None:
        return dict(request.params)
    assigned = _assigned_params()
    if assigned is not None:
        return dict(assigned)
    return _native.query_params(os.environ)[0]


def get_param_strings() -> Dict[str, str]:
    """:func:`get_params` in string form (as :meth:`QueryRequest.get_string` returns them)."""
    request = _current.get()
    if request is not None:
        return dict(request._string_view())
    assigned = _assigned_params()
    if assigned is not None:
        return _native.param_strings(_encode(assigned))
    return _native.query_params(os.environ)[1]


def get_config() -> Dict[str, Any]:
    """The bot configuration: what was assigned to ``_config``, else ``BOT_CONFIG`` (``{}`` when
    unset or not valid JSON). A copy."""
    if _config is not _CONFIG_UNSET or _config:
        return dict(_config)
    return _native.get_config(os.environ)


def is_query_mode() -> bool:
    """Whether this process answers queries: ``QUERY_PATH`` is set, or :func:`run` is serving.
    State is read-only then."""
    return _native.is_query_mode(os.environ)


# ---------------------------------------------------------------------------------------------
# Serving


def _message(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _answer_error(rid: int, message: str) -> None:
    try:
        _native.query_respond_error(rid, message)
    except The0Error:
        pass  # the request timed out meanwhile: nobody is waiting


def _answer(rid: int, data: Any) -> None:
    try:
        try:
            text = _encode(data)
        except (TypeError, ValueError, RecursionError) as exc:
            _native.query_respond_unserializable(rid, str(exc))
            return
        _native.query_respond(rid, text)
    except The0Error:
        pass  # the request timed out meanwhile: nobody is waiting


class _AsyncRunner:
    """One asyncio loop on a daemon thread, shared by every ``async def`` handler."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: Optional[asyncio.AbstractEventLoop] = None

    def submit(self, rid: int, awaitable: Awaitable[Any], request: QueryRequest) -> None:
        future = asyncio.run_coroutine_threadsafe(_with_request(awaitable, request), self._get())
        future.add_done_callback(lambda f: _complete(rid, f))

    def _get(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="the0-query-asyncio", daemon=True
                )
                thread.start()
                self._loop = loop
            return self._loop

    def close(self) -> None:
        with self._lock:
            if self._loop is not None:
                self._loop.call_soon_threadsafe(self._loop.stop)
                self._loop = None


async def _with_request(awaitable: Awaitable[Any], request: QueryRequest) -> Any:
    _current.set(request)  # this task's own context
    return await awaitable


def _complete(rid: int, future: "concurrent.futures.Future[Any]") -> None:
    if future.cancelled():
        _answer_error(rid, "handler was cancelled")
        return
    exc = future.exception()
    if exc is not None:
        _answer_error(rid, _message(exc))
    else:
        _answer(rid, future.result())


_async_runner = _AsyncRunner()


def _handle(
    rid: int,
    path: str,
    params: Dict[str, Any],
    strings: Dict[str, str],
    escaped: Optional[List[BaseException]] = None,
) -> None:
    """Runs the handler of one request and answers it (async handlers answer when they finish).

    A handler raising ``SystemExit`` or ``KeyboardInterrupt`` is answered 500 like any other
    failure; the exception is then kept in ``escaped`` when given (the single-request modes
    re-raise it on the caller's thread once the answer is written).
    """
    fn = _handlers.get(_routes.get(path, path))
    if fn is None:
        _answer_error(rid, f"no Python handler is registered for {path}")
        return
    request = QueryRequest(path, params, strings)
    token = _current.set(request)
    try:
        data = fn(request)
    except Exception as exc:
        _answer_error(rid, _message(exc))
        return
    except BaseException as exc:  # SystemExit, KeyboardInterrupt
        _answer_error(rid, _message(exc))
        if escaped is not None:
            escaped.append(exc)
        return
    finally:
        _current.reset(token)
    if type(data) is CoroutineType:
        _async_runner.submit(rid, data, request)
    else:
        _answer(rid, data)


def _serve_once(escaped: List[BaseException]) -> None:
    """Ephemeral and info modes: the (at most one) request is handled on a daemon thread, in a
    copy of the caller's context, so that the caller's thread waits in ``query_finish`` and learns
    of a handler that hangs past the timeout (the core then reports it, and the caller exits
    without waiting for the handler). The query's parameters become ``_current_params``, as
    upstream's ``_run_ephemeral`` set them."""

    def work() -> None:
        global _current_params
        while True:
            item = _native.query_next(0.5, True)
            if item is None:
                continue  # idle
            if item:
                _current_params = item[2]
                _handle(*item, escaped)
            return  # one request at most: done

    context = contextvars.copy_context()
    threading.Thread(target=context.run, args=(work,), name="the0-query-worker-0", daemon=True).start()


class _Pool:
    """Server mode's handler threads. They take turns polling the core:

    one thread at a time (the poller) takes requests and runs their handlers, so fast handlers
    never contend for the GIL and never wait for a thread switch. When the poller has been inside
    one handler for longer than ``stall`` seconds (a handler blocked on I/O, or sleeping), an idle
    thread takes over polling; the slow thread rejoins the idle ones when its handler returns. Up
    to ``size`` handlers can so be in progress at once.
    """

    def __init__(self, size: int, stall: float, done: threading.Event) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._poller: Optional[int] = None  # thread ident of the poller
        self._busy_since = 0.0  # when the poller entered its handler; 0.0 while it polls
        self._finished = False
        self._size = size
        self._stall = stall
        self._done = done

    def start(self) -> None:
        for i in range(self._size):
            threading.Thread(target=self._run, name=f"the0-query-worker-{i}", daemon=True).start()

    def _claim(self, me: int) -> bool:
        """Waits until this thread is the poller; False once the service is done."""
        with self._cond:
            while not self._finished:
                poller, busy = self._poller, self._busy_since
                if poller is None or poller == me or (busy and time.monotonic() - busy >= self._stall):
                    self._poller, self._busy_since = me, 0.0
                    return True
                self._cond.wait(self._stall)
            return False

    def _run(self) -> None:
        me = threading.get_ident()
        next_request = _native.query_next
        monotonic = time.monotonic
        cond = self._cond
        try:
            while self._claim(me):
                while True:
                    item = next_request(0.5, True)
                    if item is None:
                        continue  # idle
                    if not item:
                        return  # done
                    self._busy_since = monotonic()
                    _handle(*item)
                    with cond:
                        if self._poller != me:
                            break  # another thread took over while this handler ran
                        self._busy_since = 0.0
        finally:
            # The poller leaves on Done (or on an unexpected error): the pool is finished.
            self._finish_if_poller(me)

    def _finish_if_poller(self, me: int) -> None:
        with self._cond:
            if self._finished or self._poller != me:
                return
            self._finished = True
            self._cond.notify_all()
        self._done.set()


def _serve(count: int) -> None:
    """Server mode: a pool of ``count`` handler threads polls the core; this thread waits for a
    stop signal (SIGTERM, SIGINT) or for the service to end, then returns (``run`` then waits for
    the server to finish)."""
    done = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        _native.query_stop()
        done.set()  # do not wait for handler threads: a hung handler must not block the exit

    # Handlers first: once the pool runs, this thread may wait for the GIL a while.
    previous = _install_signal_handlers(on_signal)
    try:
        _Pool(count, STALL_SECONDS, done).start()
        while not done.wait(0.25):
            pass
    except KeyboardInterrupt:
        # Raised here when Python's own SIGINT handler is still in place (run() not called from
        # the main thread).
        pass
    finally:
        _restore_signal_handlers(previous)
        _native.query_stop()  # a no-op when the server has already stopped


def _install_signal_handlers(handler: Any) -> Dict[int, Any]:
    previous: Dict[int, Any] = {}
    if threading.current_thread() is not threading.main_thread():
        return previous
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            previous[sig] = signal.signal(sig, handler)
        except (ValueError, OSError):
            pass
    return previous


def _restore_signal_handlers(previous: Dict[int, Any]) -> None:
    for sig, old in previous.items():
        try:
            signal.signal(sig, old)
        except (ValueError, OSError, TypeError):
            pass


def _register_handlers() -> None:
    """Makes the keys of ``_handlers`` the paths the core serves (a test may have filled or
    cleared the table directly)."""
    global _routes
    keys = list(_handlers)
    _routes = dict(zip(_native.query_set_paths(keys), keys))


def run() -> None:
    """Runs the query system in the detected mode (see the module documentation).

    Ephemeral and info modes write the answer to the result file and return, or exit with code 1
    when the query failed. Server mode serves until SIGTERM or Ctrl-C (call ``run()`` from the main
    thread so that those signals reach it), then returns. A server that cannot start (port in use,
    bad settings) logs the reason on stderr and exits with code 1.

    As upstream's, it (re)loads the configuration from ``BOT_CONFIG``: a value assigned to
    ``_config`` before is dropped.
    """
    global _config
    _config = _CONFIG_UNSET
    _start(os.environ)


def _run_ephemeral(query_path: str) -> None:
    """Answers ``query_path`` once, in this process, as ephemeral mode does: parameters from
    ``QUERY_PARAMS``, the answer written to the result file, exit with code 1 when the query failed.

    Upstream's seam, kept for tests written against upstream's SDK.
    """
    environ = dict(os.environ)
    environ["QUERY_PATH"] = query_path
    environ.pop("BOT_TYPE", None)  # one answer, never a server
    _start(environ)


def _start(environ: Mapping[str, str]) -> None:
    _register_handlers()
    mode, workers, lines = _native.query_start(environ, DEFAULT_WORKERS, keep_answer=True)
    _print_stderr(lines)
    if mode is None:
        sys.exit(1)
    escaped: List[BaseException] = []
    try:
        if mode == "server":
            _serve(workers)
        else:
            _serve_once(escaped)
    finally:
        code, _abandoned, lines, answer = _native.query_finish()
        _async_runner.close()
    _print_stderr(lines)
    if answer is not None and not _write_answer(*answer):
        code = 1
    if escaped:  # the handler's sys.exit() or Ctrl-C, now that its answer is written
        raise escaped[0]
    if code != 0:  # also when a handler was abandoned: its daemon thread does not hold the exit
        sys.stdout.flush()
        sys.exit(code)


def _write_answer(file: str, body: str) -> bool:
    """Writes the answer of a single-query mode with ``open()``, as upstream did, so that tests
    patching ``builtins.open`` see it. (The platform reads the file once this process has exited,
    so it needs no atomic replace.) A failure is reported on stderr; returns whether it worked."""
    try:
        try:
            out = open(file, "w", encoding="utf-8")
        except FileNotFoundError:  # missing parent directories are created, as the core does
            os.makedirs(os.path.dirname(file) or ".", exist_ok=True)
            out = open(file, "w", encoding="utf-8")
        with out:
            out.write(body)
    except OSError as exc:
        errno = exc.errno if isinstance(exc.errno, int) else None
        _print_stderr([_native.result_write_error(file, errno, str(exc))])
        return False
    return True
