"""A decrypted answer of the platform shown: masked JSON, or the customer's tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

PLAIN_ANSWER = (
    "the answer came as plain JSON, not encrypted: it proves nothing about the key, and "
    "may come from a proxy or helper in front of the platform"
)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from wibmo_cli.render import Renderer


def show_answer(
    render: Renderer,
    answer: dict[str, object],
    *,
    elapsed: float | None,
    reveal: bool,
    title: str,
    success_codes: Iterable[str],
    plain: bool = False,
) -> bool:
    """Render `answer` (masked unless `reveal`) as JSON or as tables, as `render` is set;
    True when its responseCode is one of `success_codes` (the profile's). `plain`: it
    came unencrypted, which is said on stderr (whatever the format): a proxy or helper
    answered, or the platform did not encrypt."""
    from wibmo_cli.codes import is_success
    from wibmo_cli.masking import mask

    if plain:
        render.warn(PLAIN_ANSWER)

    shown = answer if reveal else mask(answer)
    if render.json_output:
        render.json(shown)
    else:
        from wibmo_cli.views.customer import answer_renderables, answer_view

        view = answer_view(shown, success_codes)
        width = render.console.width
        render.print(*answer_renderables(view, elapsed=elapsed, title=title, width=width))
    return is_success(answer.get("responseCode"), success_codes)
