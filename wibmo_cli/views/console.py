"""What `wibmo shell` writes of its own: the prompt when stdout is not the terminal (on
stderr, where it does not mix with the answers), and a value put on the clipboard."""

from __future__ import annotations

from typing import TYPE_CHECKING

from wibmo_cli.render import MessageStream

if TYPE_CHECKING:
    from wibmo_cli.render import Renderer


def show_prompt(prompt: str) -> None:
    stream = MessageStream()
    stream.write(prompt)
    stream.flush()


def show_copied(
    render: Renderer, what: str, value: str, *, clipboard: str | None, json: bool = False
) -> None:
    """`copy`: the value printed (`json`: as a JSON document); with `clipboard` (the OSC
    52 escape, stdout being a terminal) also sent to the terminal, which puts it on the
    clipboard if it allows."""
    if clipboard is not None:
        out = render.stdout
        out.write(clipboard)
        out.flush()
        render.info(f"{what} copied to the clipboard (OSC 52; if the terminal allows it)")
    else:
        render.info(f"{what} printed (stdout is not a terminal: nothing copied)")
    if json:
        render.json({"copied": what, "value": value})
    else:
        render.line(value)
