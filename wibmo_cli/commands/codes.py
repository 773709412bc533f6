"""`wibmo codes`: the response-code catalogue, or one code explained."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from wibmo_cli.commands.options import command_options, completing
from wibmo_cli.errors import InputError
from wibmo_cli.runtime import TABULAR, OutputFormat, Runtime

if TYPE_CHECKING:
    from wibmo_cli.tabular import Column


@command_options(formats=(OutputFormat.table, OutputFormat.json, *TABULAR))
def codes(
    rt: Runtime,
    code: Annotated[
        str | None,
        typer.Argument(
            help="A responseCode (e.g. 1303), its name in any case (e.g. duplicate_request) "
            "or an HTTP status (e.g. 503).",
            show_default=False,
            autocompletion=completing("complete_code"),
        ),
    ] = None,
    api: Annotated[
        str | None,
        typer.Option(
            "--api",
            metavar="lookup|update|gateway|public",
            help="Only the codes this source lists (public: seen on the vendor's public pages).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """The error-code catalogue of both APIs, the gateway and the platform's public pages,
    or one code explained.

    -o csv / -o tsv: one row per response code (code, name, apis, meaning, action; an
    HTTP status: http_status, name, meaning, action); the catalogue's HTTP statuses are
    in -o json's "http". --fields picks in each row.

    \b
    Examples:
      wibmo codes
      wibmo codes 1303
      wibmo codes DUPLICATE_REQUEST
      wibmo codes 1045
      wibmo codes 503
      wibmo codes --api update -o json
      wibmo codes -o csv > codes.csv
      wibmo codes --fields code,name
    """
    from wibmo_cli import codes as catalogue
    from wibmo_cli.views import codes as views

    if code is not None:
        found = catalogue.find(code)
        if found is None:
            raise InputError(catalogue.unknown_code(code))
        if rt.json:
            rt.render.json(views.record(found))
        elif rt.tabular:
            _rows(rt, views.record_columns(found), [views.record(found)])
        else:
            rt.render.print(views.explained(found))
        return
    selected = catalogue.CATALOGUE
    if api is not None:
        if api not in catalogue.SOURCES:
            allowed = ", ".join(catalogue.SOURCES[:-1]) + " or " + catalogue.SOURCES[-1]
            raise InputError(f"--api {api!r}: must be {allowed}")
        selected = tuple(c for c in selected if api in c.apis)
    selected = catalogue.in_code_order(selected)  # every format lists them in one order
    if rt.json:
        rt.render.json(
            {
                "codes": [views.code_record(c) for c in selected],
                "http": [views.http_record(s) for s in catalogue.HTTP_STATUSES],
            },
            rows=("codes", "http"),  # --fields code,name picks in each row
        )
    elif rt.tabular:
        _rows(rt, views.CODE_COLUMNS, [views.code_record(c) for c in selected])
    else:
        rt.render.print(views.catalogue_table(selected))
        if api is None:
            rt.render.print(views.http_table(catalogue.HTTP_STATUSES))


def _rows(rt: Runtime, columns: tuple[Column, ...], records: list[dict[str, Any]]) -> None:
    rows = rt.rows(columns)
    for record in records:
        rows.record(record)
    rows.finish()
