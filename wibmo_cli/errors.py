"""The tool's one error root and its exit codes.

Every failure a user can reach is a `WibmoError`. Each subclass carries the exit
code of DESIGN.md's table; one handler at the edge (`app.py`) prints the message
on one line and exits with that code.

    WibmoError
     ├── InputError          2  bad usage or bad input, caught before anything is sent
     ├── ConfigError         3  unknown profile, missing secret, bad key
     ├── CryptoError         4  a token could not be decoded or decrypted
     ├── NetworkError        5  refused, DNS, TLS, timeout
     │    └── OutcomeUnknown 5  a write may have reached the server; result not known
     ├── HTTPStatusError     6  HTTP error status with no decryptable answer
     │    └── UnreadableAnswer 6  too big (max_answer_bytes), or an encoding that fails
     ├── ApiError            1  the platform answered with a responseCode other than 00
     └── OutputError        74  stdout cannot be written (disk full, file too large, closed)
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any


class ExitStatus(IntEnum):
    """Process exit codes: the contract with shell scripts (DESIGN.md, Exit codes)."""

    OK = 0
    API_ERROR = 1
    USAGE = 2
    CONFIG = 3
    CRYPTO = 4
    NETWORK = 5
    HTTP = 6
    OUTPUT = 74  # EX_IOERR: the output could not be written
    INTERRUPTED = 130


class WibmoError(Exception):
    """Root of every error the tool raises on purpose."""

    exit_status: ExitStatus = ExitStatus.USAGE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}; {self.hint}"
        return self.message


class InputError(WibmoError):
    """Bad usage or bad input, caught before anything is sent."""

    exit_status = ExitStatus.USAGE


class ConfigError(WibmoError):
    """Profiles file, profile, secret or key is missing or wrong."""

    exit_status = ExitStatus.CONFIG


class CryptoError(WibmoError):
    """A token could not be decoded or decrypted."""

    exit_status = ExitStatus.CRYPTO


class NetworkError(WibmoError):
    """The request did not get an HTTP answer: refused, DNS, TLS, timeout."""

    exit_status = ExitStatus.NETWORK


class OutcomeUnknownError(NetworkError):
    """A write may have reached the server, and no answer that can be trusted came back:
    none in time, a dropped connection, a 5xx, an unreadable answer, another clientTxnId.

    `cause` is what happened, without the "may or may not have been applied" sentence.
    """

    def __init__(
        self,
        message: str,
        *,
        client_txn_id: str,
        cause: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.client_txn_id = client_txn_id
        self.cause = message if cause is None else cause


class HTTPStatusError(WibmoError):
    """An HTTP error status whose body is not a decryptable answer."""

    exit_status = ExitStatus.HTTP

    def __init__(self, message: str, *, status: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status


class UnreadableAnswerError(HTTPStatusError):
    """An HTTP answer that could not be read whole: bigger than the profile's
    max_answer_bytes, or a content-encoding that does not decode."""


class ApiError(WibmoError):
    """The platform answered, with a responseCode other than 00."""

    exit_status = ExitStatus.API_ERROR

    def __init__(self, message: str, *, response: dict[str, Any]) -> None:
        super().__init__(message)
        self.response = response


class OutputError(WibmoError):
    """stdout cannot be written: disk full, file too large, closed (a closed pipe is 141)."""

    exit_status = ExitStatus.OUTPUT
