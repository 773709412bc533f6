"""The tool's one error root and its exit codes.

Every failure a user can reach is a `WibmoError`. Each subclass carries the exit
code of DESIGN.md's table; one handler at the edge (`app.py`) prints the message
on one line and exits with that code.

    WibmoError
     ├── InputError          2  bad usage or bad input, caught before anything is sent
     ├── ConfigError         3  unknown profile, missing secret, bad key
     ├── CryptoError         4  a token could not be decoded or decrypted
     │    └── UndecryptableAnswer 4  an answer's token (carried) did not decrypt
     ├── NetworkError        5  refused, DNS, TLS, timeout (`sent` False: it never left)
     │    └── OutcomeUnknown 5  a write may have reached the server; result not known
     ├── HTTPStatusError     6  HTTP error status with no decryptable answer
     │    └── UnreadableAnswer 6  too big (max_answer_bytes), or an encoding that fails
     ├── ApiError            1  the platform answered with a responseCode other than 00
     ├── OutputError        74  stdout cannot be written (disk full, file too large, closed)
     └── NothingSentError    *  a step before a write failed (the lookup before it, the
                                audit log): the exit code of the error it carries

The parts of a message are fields (`cause`, `sent`, `client_txn_id`, the carried `error`),
so no caller takes a message apart or rewrites it: it builds a new error from the fields.
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
            return f"{self.message}; {_clause(self.hint)}"
        return self.message


def _clause(text: str) -> str:
    """A hint as the clause it becomes after a semicolon: "Check the URN" -> "check the
    URN" (the catalogue's actions are written as sentences, for the "what to do" cell);
    an acronym or a name in capitals ("HTTP", "URN") stays as it is."""
    if len(text) > 1 and text[0].isupper() and text[1].islower():
        return text[0].lower() + text[1:]
    return text


class InputError(WibmoError):
    """Bad usage or bad input, caught before anything is sent."""

    exit_status = ExitStatus.USAGE


class ConfigError(WibmoError):
    """Profiles file, profile, secret or key is missing or wrong."""

    exit_status = ExitStatus.CONFIG


class CryptoError(WibmoError):
    """A token could not be decoded or decrypted."""

    exit_status = ExitStatus.CRYPTO


class UndecryptableAnswerError(CryptoError):
    """An answer came as a token the profile's key and IV scheme do not decrypt; `token`
    is that token (not a secret), for `profiles check` to run detect on."""

    def __init__(self, message: str, *, token: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.token = token


class NetworkError(WibmoError):
    """The request did not get an HTTP answer: refused, DNS, TLS, timeout.

    `cause` is what happened. `sent` is False when the request cannot have left (a write
    that failed to connect: the message then says "nothing was sent"), None when unsaid.
    """

    exit_status = ExitStatus.NETWORK

    def __init__(self, cause: str, *, sent: bool | None = None, hint: str | None = None) -> None:
        self.cause = cause
        self.sent = sent
        super().__init__(self._said(), hint=hint)

    def _said(self) -> str:
        return f"{self.cause}; nothing was sent" if self.sent is False else self.cause


class OutcomeUnknownError(NetworkError):
    """A write may have reached the server, and no answer that can be trusted came back:
    none in time, a dropped connection, a 5xx, an unreadable answer, another clientTxnId.

    `cause` is what happened; the message adds that `what` ("update", "request") may
    have been applied, and the `client_txn_id` to look for.
    """

    def __init__(
        self, cause: str, *, client_txn_id: str, hint: str | None = None, what: str = "update"
    ) -> None:
        self.client_txn_id = client_txn_id
        self.what = what
        super().__init__(cause, sent=True, hint=hint)

    def _said(self) -> str:
        return (
            f"{self.cause}; the {self.what} may or may not have been applied "
            f"(clientTxnId {self.client_txn_id})"
        )


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


class NothingSentError(WibmoError):
    """A step before a write failed, so nothing was sent: the lookup before an update
    (`step` names it), or the audit log. `error` is what failed; its exit code is kept."""

    def __init__(self, error: WibmoError, *, step: str | None = None) -> None:
        what = f"{step} failed: {error.message}" if step else error.message
        super().__init__(f"{what}; nothing was sent", hint=error.hint)
        self.error = error
        self.step = step
        self.exit_status = error.exit_status
