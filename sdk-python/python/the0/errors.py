"""Exceptions raised by the the0 SDK.

Every failure comes from the shared Rust core with a stable status name (``"READ_ONLY"``,
``"INVALID_KEY"``...) and a message that is identical in every the0 SDK. The classes below map
those statuses to idiomatic Python exceptions:

- :class:`The0Error` is the base of all of them; ``exc.status`` is the core's status name and
  ``str(exc)`` its message.
- :class:`InvalidKeyError`, :class:`InvalidJSONError` (and :class:`CorruptStateError`),
  :class:`MissingEnvError` and :class:`InvalidArgumentError` are also ``ValueError``, so code
  written for the upstream SDK (which raised ``ValueError``) keeps working.
- :class:`ReadOnlyStateError` is raised by state writes while the process serves queries; it is
  the same class as ``the0.state.ReadOnlyStateError`` and ``the0.query.ReadOnlyStateError``.
- :class:`StateIOError` is also an ``OSError``.
"""

from __future__ import annotations

__all__ = [
    "The0Error",
    "InvalidKeyError",
    "InvalidJSONError",
    "CorruptStateError",
    "ReadOnlyStateError",
    "MissingEnvError",
    "InvalidArgumentError",
    "StateIOError",
]


class The0Error(Exception):
    """Base class of every error of the the0 SDK.

    Attributes:
        status: the core's status name, the same in every the0 SDK (for example ``"READ_ONLY"``).
        message: the core's message (also ``str(exc)``).
    """

    status: str = "INTERNAL"

    def __init__(self, message: str, status: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status

    def __str__(self) -> str:
        return self.message


class InvalidKeyError(The0Error, ValueError):
    """A state key that breaks a key rule (empty, too long, ``/``, ``\\``, ``..``, leading ``.``,
    control characters)."""

    status = "INVALID_KEY"


class InvalidJSONError(The0Error, ValueError):
    """A value that cannot be stored or sent as JSON, or text that is not JSON."""

    status = "INVALID_JSON"


class CorruptStateError(InvalidJSONError):
    """A state file on disk that does not hold valid JSON; the message names the key and file."""

    status = "CORRUPT_STATE"


class ReadOnlyStateError(The0Error):
    """A state write (``set``, ``delete``, ``clear``) while this process serves queries."""

    status = "READ_ONLY"


class MissingEnvError(The0Error, ValueError):
    """A required environment variable (``BOT_ID``, ``BOT_CONFIG``) is not set."""

    status = "MISSING_ENV"


class InvalidArgumentError(The0Error, ValueError):
    """An argument that makes no sense (an unknown log level, an empty query path...)."""

    status = "INVALID_ARGUMENT"


class StateIOError(The0Error, OSError):
    """A file-system or socket failure; the message says what was done to which path."""

    status = "IO"

    def __init__(self, message: str, status: str | None = None) -> None:
        The0Error.__init__(self, message, status)


_BY_STATUS: dict[str, type[The0Error]] = {
    cls.status: cls
    for cls in (
        InvalidKeyError,
        InvalidJSONError,
        CorruptStateError,
        ReadOnlyStateError,
        MissingEnvError,
        InvalidArgumentError,
        StateIOError,
    )
}


def _from_status(status: str, message: str) -> The0Error:
    """The exception for a core status (called by ``the0._native``)."""
    return _BY_STATUS.get(status, The0Error)(message, status)
