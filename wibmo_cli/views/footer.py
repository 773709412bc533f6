"""The closing lines of an answer shown: the code, the ids that name the exchange for
support, the time, and every other envelope field the platform sent.

`footer` is the line people quote (`responseCode 00 SUCCESS · accosaTransactionId 7441
· clientTxnId ... · 42 ms`); `envelope_rest` the envelope keys it does not show
(messageCode, responseDateTime, bankId, clientId, a second spelling of an id), so none
is dropped. Both are pure; given a width, lines break between parts, never inside one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from wibmo_cli.textsafe import visible
from wibmo_cli.views.values import readable_date

if TYPE_CHECKING:
    from wibmo_cli.views.customer import AnswerView


def footer(view: AnswerView, elapsed: float | None, *, width: int | None = None) -> str:
    """`responseCode 00 SUCCESS · accosaTransactionId 7441 · clientTxnId ... · 42 ms`:
    the code, what names this exchange for support, and the time; lines of at most
    `width` (broken between two parts) when given. The time is never alone on a line:
    it is packed as one part with the id before it."""
    parts, _ = _footer_parts(view)
    if elapsed is not None:
        parts[-1] += f" · {elapsed * 1000:.0f} ms"
    return _packed(parts, width)


def envelope_rest(view: AnswerView, *, width: int | None = None) -> str:
    """The envelope fields the footer does not show, for lines of their own:
    `messageCode 1931 · responseDateTime 16 Nov 2022 11:42:43 · bankId 2010 · ...`."""
    _, shown = _footer_parts(view)
    parts = [
        f"{key} {readable_date(value) if key == 'responseDateTime' else value}"
        for key, value in view.envelope.items()
        if key not in shown and value != ""
    ]
    return _packed(parts, width)


def _packed(parts: list[str], width: int | None) -> str:
    """`parts` joined with `` · ``; with a `width`, a line is broken only between two
    parts (a label stays with its value) unless one part alone is wider. Each part is
    made `visible` first: the only line feeds left are the breaks made here."""
    lines: list[str] = []
    for part in map(visible, parts):
        if lines and (width is None or len(lines[-1]) + 3 + len(part) <= width):
            lines[-1] += " · " + part
        else:
            lines.append(part)
    return "\n".join(lines)


def _footer_parts(view: AnswerView) -> tuple[list[str], set[str]]:
    """The footer's parts, and the envelope keys they show (an empty one, or one that
    says what another part says, counts as shown). The clientTxnId wibmo sent is the
    reference the platform's support asks for: when the answer does not carry it (error
    answers often do not), it is shown marked "(sent)"."""
    env = view.envelope
    parts = [f"responseCode {view.code} {view.name}"]
    shown = {"responseCode", "responseMessage", "description"}
    message = env.get("responseMessage")
    if message and message.replace(" ", "_").upper() != view.name:
        parts.append(f"message {message!r}")
    if env.get("description"):
        parts.append(f"description {env['description']!r}")
    for label, keys in (
        ("accosaTransactionId", ("accosaTransactionId", "accosaTransactionID")),
        ("accosaRefNo", ("accosaRefNo",)),
        ("clientTxnId", ("clientTxnId",)),
    ):
        values = [env[key] for key in keys if key in env]
        said = next((value for value in values if value), "")
        if said:
            parts.append(f"{label} {said}")
        shown.update(key for key in keys if env.get(key, "") in ("", said))
    sent = view.client_txn_id
    if sent and sent != env.get("clientTxnId"):
        parts.append(f"clientTxnId {sent} (sent)")
    return parts, shown
