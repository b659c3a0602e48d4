"""Type stubs of the0._native, the pyo3 extension over the the0 core's host API (bindings/python).

Values cross the boundary as JSON text; failures raise the classes of ``the0.errors``. Calls that
read the environment take the mapping to read it from (``os.environ``); lines come back for the
caller to print.
"""

from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

__version__: str
__all__ = [
    "__version__",
    "state_set",
    "state_set_unserializable",
    "state_get",
    "state_exists",
    "state_delete",
    "state_list",
    "state_clear",
    "parse",
    "report",
    "write_result",
    "metric_line",
    "log_line",
    "unserializable",
    "query_register",
    "query_set_paths",
    "query_start",
    "query_next",
    "query_respond",
    "query_respond_error",
    "query_respond_unserializable",
    "query_stop",
    "query_finish",
    "result_write_error",
    "is_query_mode",
    "get_config",
    "query_params",
    "param_strings",
    "status_names",
]

_Environ = Mapping[str, str]

# State (GIL released; JSON text in and out)
def state_set(environ: _Environ, key: str, json: str) -> None: ...
def state_set_unserializable(environ: _Environ, key: str, detail: str) -> BaseException: ...
def state_get(environ: _Environ, key: str) -> Optional[str]: ...
def state_exists(environ: _Environ, key: str) -> bool: ...
def state_delete(environ: _Environ, key: str) -> bool: ...
def state_list(environ: _Environ) -> List[str]: ...
def state_clear(environ: _Environ) -> None: ...

# Input and output: lines to print come back
def parse(environ: _Environ) -> Tuple[str, Any]: ...
def report(environ: _Environ, status: str, message: str, data_json: Optional[str] = None) -> List[str]: ...
def write_result(environ: _Environ, json: str) -> List[str]: ...
def metric_line(metric_type: str, data_json: str) -> str: ...
def log_line(message: str, data_json: Optional[str] = None, level: Optional[str] = None) -> str: ...
def unserializable(payload: str, detail: str) -> BaseException: ...

# Query service (poll model)
_Request = Tuple[int, str, Dict[str, Any], Dict[str, str]]

def query_register(path: str) -> str: ...
def query_set_paths(paths: List[str]) -> List[str]: ...
def query_start(
    environ: _Environ, default_workers: int, keep_answer: bool = False
) -> Tuple[Optional[str], int, List[str]]:
    """``(mode, workers, lines)``; ``(None, 0, [line])`` when the service cannot start. With
    ``keep_answer``, ``query_finish`` hands the ephemeral or info answer back unwritten."""
def query_next(timeout: float, greedy: bool = False) -> Union[_Request, Tuple[()], None]:
    """A request, ``None`` when idle, ``()`` when the service is done. Waits with the GIL released;
    with ``greedy``, a request already queued is taken without releasing it."""
def query_respond(id: int, json: str) -> None: ...
def query_respond_error(id: int, message: str) -> None: ...
def query_respond_unserializable(id: int, detail: str) -> None: ...
def query_stop() -> None: ...
def query_finish() -> Tuple[int, bool, List[str], Optional[Tuple[str, str]]]:
    """``(exit_code, abandoned, lines, answer)``; ``answer`` is ``(file, json)`` to write when the
    service was started with ``keep_answer``."""
def result_write_error(file: str, errno: Optional[int] = None, reason: str = "") -> str: ...
def is_query_mode(environ: _Environ) -> bool: ...
def get_config(environ: _Environ) -> Any: ...
def query_params(environ: _Environ) -> Tuple[Dict[str, Any], Dict[str, str]]: ...
def param_strings(params_json: str) -> Dict[str, str]: ...
def status_names() -> List[str]: ...
