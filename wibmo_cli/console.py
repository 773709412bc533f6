"""`wibmo shell`'s core, pure: what a typed or pasted line is, the command words, the
masked history of the session, and what `copy` takes from an answer.

    recognise   a line -> a `Command` (its exact word first), a `Lookup` (a mobile, URN,
                email or customer id, by `batchio.sniff_kind`'s rules), a `Token` to
                decrypt, `Unknown`, or None for a blank line
    History     the recent customers, identifiers masked, newest last, at most 50: what
                the agent scrolls back to without personal data kept in the clear
    copy_target the URN or customer id of an answer, for `copy`
    osc52       the terminal escape that puts text on the clipboard (OSC 52)
"""

from __future__ import annotations

import base64
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from wibmo_cli import batchio, tokentext
from wibmo_cli.messages import Identifiers
from wibmo_cli.textsafe import visible

HISTORY_SIZE: Final = 50
LONGEST_COPIED: Final = 64  # a URN or customer id; an answer's longer value is not one
LONGEST_CODE: Final = 16  # a responseCode in the history; an answer's longer one is cut
LONGEST_CUSTOMER_ID: Final = 20  # validate.customer_id: anything longer is no customer id

# Each command word and what it does: `help` lists them, Tab completes them.
COMMANDS: Final[Mapping[str, str]] = {
    "explain": "explain CODE: a response code explained (as `wibmo codes CODE`)",
    "again": "repeat the last lookup",
    "json": "the last answer as `-o json` prints it",
    "history": f"the recent customers (masked), newest last, at most {HISTORY_SIZE}",
    "copy": "the URN or customer id of the last answer, to the clipboard",
    "help": "this list",
    "quit": "leave (also exit, or Ctrl-D)",
    "exit": "leave",
}
ACCEPTS: Final = (
    "a mobile, URN, email, customer id or token, or a command: "
    + ", ".join(COMMANDS)
    + " (help says more)"
)
# The Identifiers.parse keyword of each kind `batchio.sniff_kind` names.
_KEYWORDS: Final = {
    "mobile": "mobile",
    "urn": "urn",
    "email": "email",
    "customerId": "customer_id",
}


@dataclass(frozen=True)
class Command:
    """A command word, and what follows it (`explain 1303`: "1303")."""

    word: str
    argument: str = ""


@dataclass(frozen=True)
class Lookup:
    """An identifier to look up: `keyword` as `Identifiers.parse` names it."""

    keyword: str
    value: str

    @property
    def searched(self) -> dict[str, str]:
        """As `wibmo lookup` echoes a search (`{"customer_id": "..."}`)."""
        return {self.keyword: self.value}


@dataclass(frozen=True)
class Token:
    """A token, or a body holding one, to decrypt."""

    text: str


@dataclass(frozen=True)
class Unknown:
    text: str


Input = Command | Lookup | Token | Unknown


def recognise(line: str) -> Input | None:
    """What one line is. A command only for its exact word, in any letter case (`json`,
    `Help`, `explain 1303`): any other word is an identifier, so a customer id that merely
    resembles a command is looked up. A token is a body (`{...}`) or a run of base64
    longer than any customer id that decodes to whole AES blocks; a mobile may carry
    spaces (`+91 98971 23456`)."""
    text = line.strip()
    if not text:
        return None
    word, *rest_parts = text.split(None, 1)
    rest = rest_parts[0] if rest_parts else ""
    word = word.lower()  # Help, EXIT: a command in any case (no customer id is a word)
    if word in COMMANDS and (not rest.strip() or word == "explain"):
        return Command(word, rest.strip())
    if text.startswith("{") or _is_token(text):
        return Token(text)
    kind = batchio.sniff_kind(text)
    if kind != "mobile" and any(c.isspace() for c in text):
        return Unknown(text)
    return Lookup(_KEYWORDS[kind], text)


def _is_token(text: str) -> bool:
    return (
        len(text) > LONGEST_CUSTOMER_ID
        and tokentext.could_be_token(text)
        and not text.isdigit()
        and tokentext.is_whole_token(text)
    )


def completions(prefix: str) -> list[str]:
    """The command words starting with `prefix` (Tab)."""
    return [word for word in COMMANDS if word.startswith(prefix)]


def help_lines() -> list[str]:
    width = max(map(len, COMMANDS))
    return [
        "Paste a mobile, URN, email or customer id to look it up, or a token to decrypt it.",
        *(f"  {word:<{width}}  {said}" for word, said in COMMANDS.items()),
    ]


class History:
    """The customers looked up this session, newest last: each search masked
    (`Identifiers.describe`) with the answer's code. Never written anywhere."""

    def __init__(self, size: int = HISTORY_SIZE) -> None:
        self._entries: deque[str] = deque(maxlen=size)

    def add(self, identifiers: Identifiers, response_code: object) -> None:
        """`response_code`: the answer's (network text: made visible, cut short), or None
        when none came (a network error, a lookup cancelled)."""
        if response_code is None:
            code = "no answer"
        else:
            code = f"responseCode {visible(str(response_code)[:LONGEST_CODE])}"
        self._entries.append(f"{identifiers.describe()}: {code}")

    def lines(self) -> list[str]:
        return [f"{n:>2}  {entry}" for n, entry in enumerate(self._entries, 1)]


def copy_target(answer: Mapping[str, Any]) -> tuple[str, str] | None:
    """(what, value) for `copy`: a customer with one card, its URN; with several, the
    customer id (the customer, not one of the cards) when the answer names one; else
    the first card's URN. None when the answer has neither. Values come from the
    network: one with a control character, or longer than `LONGEST_COPIED`, is none
    (it would go to the clipboard, and from there into whatever the agent pastes in)."""
    cards = [c for c in answer.get("cardList") or () if isinstance(c, Mapping)]
    urns = [urn for c in cards if (urn := _copyable(c.get("urn")))]
    named = (answer.get("customerId"), *(c.get("customerId") for c in cards))
    ids = {i for i in map(_copyable, named) if i}
    if len(urns) == 1:
        return "URN", urns[0]
    if len(ids) == 1:
        return "customer id", ids.pop()
    return ("URN", urns[0]) if urns else None


def _copyable(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = str(value)
    return text if 0 < len(text) <= LONGEST_COPIED and text.isprintable() else None


def osc52(text: str) -> str:
    """The escape that asks the terminal (and tmux, ssh) to put `text` on the clipboard."""
    return "\x1b]52;c;" + base64.b64encode(text.encode()).decode("ascii") + "\x07"
