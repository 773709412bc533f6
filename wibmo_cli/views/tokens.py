"""What `decrypt` shows of one token, and what `decrypt --detect` shows."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from wibmo_cli.masking import mask
from wibmo_cli.render import dumps
from wibmo_cli.streams import is_terminal

if TYPE_CHECKING:
    from wibmo_cli.crypto import Detection, LengthEvidence
    from wibmo_cli.render import Renderer
    from wibmo_cli.tokenio import Decoded

PLAIN_SAID = "a plain JSON answer, not encrypted: shown as it is (no key used)"
MASKED_SAID = "document numbers are masked (last four shown); --reveal shows them whole"


def show_decoded(render: Renderer, decoded: Decoded) -> None:
    """One decrypted token as `wibmo decrypt TOKEN` shows it (also `wibmo shell`)."""
    if decoded.plain:
        render.info(PLAIN_SAID)
    render.json(decoded.value)
    say_masked(render, decoded.masked)


def say_masked(render: Renderer, masked: int) -> None:
    """Document numbers were masked: said on a terminal, so that a masked answer is not
    taken for the whole one (`wibmo decrypt T | wibmo encrypt -` would build another
    payload); a script reading stderr gets no new line."""
    if masked and is_terminal(sys.stderr):
        render.info(MASKED_SAID)


@dataclass
class DetectionReport:
    advice: str
    renderables: list[Any] = field(default_factory=list)


def advise(results: list[Detection], working: list[Detection]) -> str:
    """One paragraph: what to put in the profile, or what is probably wrong."""
    if len(working) == 1:
        win = working[0]
        return (
            "Put this in the profile:\n"
            f'  key_encoding = "{win.key_encoding}"\n'
            f'  iv = "{win.scheme}"'
        )
    if working:
        kinds = {str(r.scheme) for r in working}
        lines = [f'  key_encoding = "{r.key_encoding}"  iv = "{r.scheme}"' for r in working]
        note = ""
        if {"zero", "ecb"} <= kinds:
            note = (
                "\nzero and ecb give the same first block; a token of one block cannot tell "
                "them apart: try a longer token (a response usually is)."
            )
        return "Several settings decrypt this token:\n" + "\n".join(lines) + note
    cbc_padding = [r for r in results if r.padding_ok and r.scheme.kind != "ecb"]
    if cbc_padding:
        enc = cbc_padding[0].key_encoding
        return (
            f'The key is right (key_encoding = "{enc}", CBC padding checks out) but the first '
            "block is garbled under every IV tried: the platform uses a fixed IV. Ask for it "
            'and set iv = "<32 hex digits>", or try --iv HEX.'
        )
    return (
        "No key reading and IV scheme gives valid padding: the key is probably wrong for "
        "this token (another environment's key?), or the token was altered or truncated."
    )


def evidence_text(evidence: LengthEvidence) -> str:
    """What the token's length says, one line per fact."""
    return "Length: " + "\n        ".join(evidence.notes)


def detection_report(
    results: list[Detection],
    working: list[Detection],
    *,
    reveal: bool,
    evidence: LengthEvidence | None = None,
    read_as: str = "",
) -> DetectionReport:
    """The table of what was tried, what the length says, the advice, and the plaintext
    that worked; `read_as`: how the input was read, when worth saying (lines joined)."""
    from rich.table import Table
    from rich.text import Text

    from wibmo_cli.textsafe import cell

    table = Table(title="decrypt --detect", title_justify="left")
    table.add_column("key_encoding")
    table.add_column("iv")
    table.add_column("result")
    for result in results:
        if result.ok:
            outcome = Text("works: valid padding and JSON", style="green")
        elif result.padding_ok:
            outcome = cell(f"padding valid, {result.error}", "yellow")
        else:
            outcome = cell(result.error, "dim")
        if not result.fits_length:
            outcome.append(" (its length rules this scheme out)", style="dim")
        table.add_row(result.key_encoding, str(result.scheme), outcome)
    advice = advise(results, working)
    said = advice if evidence is None else f"{evidence_text(evidence)}\n{advice}"
    if read_as:
        said = f"Input: {read_as}\n{said}"
    renderables: list[Any] = [table, Text(said)]
    if working:
        plaintext = working[0].plaintext if reveal else mask(working[0].plaintext)
        renderables.append(Text("\nPlaintext:", style="bold"))
        renderables.append(cell(dumps(plaintext, pretty=True), lines=True))
    return DetectionReport(advice, renderables)
