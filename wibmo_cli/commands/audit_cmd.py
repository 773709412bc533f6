"""`wibmo audit`: the recent entries of the audit log (writes and reveals)."""

from __future__ import annotations

from typing import Annotated

import typer

from wibmo_cli.commands.options import AuditLogPath, command_options
from wibmo_cli.errors import InputError
from wibmo_cli.runtime import TABULAR, OutputFormat, Runtime


@command_options(formats=(OutputFormat.table, OutputFormat.json, *TABULAR))
def audit(
    rt: Runtime,
    limit: Annotated[
        int, typer.Option("--limit", "-n", help="How many entries, newest last.")
    ] = 20,
    audit_log: AuditLogPath = None,
) -> None:
    """Show the audit log: every write (update-profile, call), dry run and --reveal.

    The table joins an update's "sending" entry with its result; -o json prints the
    entries as they are stored, one JSON object per line; -o csv / -o tsv one row per
    entry (columns: time, user, profile, command, action, identifiers, fields,
    kycProfile, clientTxnId, accosaTransactionId, responseCode, result, error, file,
    rows, messageCode, method, path; --fields chooses them).

    \b
    Examples:
      wibmo audit
      wibmo audit -n 100 -o json | jq -c 'select(.result == "answered" and .responseCode != "00")'
      wibmo audit --audit-log /var/log/wibmo/audit.jsonl
      wibmo audit -n 500 -o csv > audit.csv
      wibmo audit -o tsv --fields time,user,identifiers,result
    """
    if limit < 1:
        raise InputError(f"--limit {limit}: must be 1 or more")
    log = rt.audit_log(audit_log)
    if rt.json or rt.tabular:
        from wibmo_cli.textsafe import json_text
        from wibmo_cli.views.audit import CSV_COLUMNS

        out = rt.rows(CSV_COLUMNS) if rt.tabular else rt.render.stdout  # JSON lines in
        for entry in log.tail(limit):
            out.write(json_text(dict(entry)) + "\n")
        if rt.tabular:
            out.finish()
        out.flush()
        return
    from wibmo_cli.views.audit import audit_table, table_rows

    rows = table_rows(log.tail(limit * 2))[-limit:]
    if not rows:
        rt.render.info(f"no entries in {log.path}")
        return
    rt.render.print(audit_table(rows, log.path))
