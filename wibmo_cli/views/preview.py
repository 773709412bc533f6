"""How an update is shown before it is sent: the preview, the dry run, the check command.

`preview` is pure (plan + lookup record -> rows of field, now, will be); the drawing
functions import rich only when called. Document numbers are always masked here.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wibmo_cli import kyc
from wibmo_cli.changes import Plan
from wibmo_cli.fields import FIELDS, Field
from wibmo_cli.masking import mask, mask_value, redact_url, shown_value
from wibmo_cli.textsafe import cell
from wibmo_cli.views.values import readable_date

if TYPE_CHECKING:
    from rich.console import RenderableType

    from wibmo_cli.messages import Identifiers


@dataclass(frozen=True)
class PreviewRow:
    label: str
    now: str
    will_be: str

    @property
    def unchanged(self) -> bool:
        return self.now == self.will_be


def preview(plan: Plan, record: Mapping[str, Any] | None) -> list[PreviewRow]:
    """Each field the plan sends (in whatever spelling its dialect sends it), as the lookup
    shows it now and as it will be."""
    record = record or {}
    rows: list[PreviewRow] = []
    for f in FIELDS:
        sent = plan.sent(f)
        if sent is None:
            continue
        if f.shown == "kyc":  # now: the card's profile the plan was made for
            now_kyc = kyc.describe(plan.current_profile)
            rows.append(PreviewRow(f.label, now_kyc, kyc.describe(sent)))
            continue
        now = next((record[k] for k in f.shown_as if record.get(k) not in (None, "")), None)
        rows.append(PreviewRow(f.label, _shown(f, now), _shown(f, sent)))
    on_file = {str(d.get("docType")): d for d in record.get("docList") or [] if isinstance(d, dict)}
    for doc in plan.documents():
        old = on_file.get(doc["docType"])
        rows.append(PreviewRow(f"Document {doc['docType']}", _doc(old) if old else "", _doc(doc)))
    return rows


def _shown(f: Field, value: Any) -> str:
    if value is None or value == "":
        return ""
    if f.shown == "masked":
        return mask_value(str(value))
    if f.shown == "date":
        return readable_date(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if f.shown == "mobile":
        return text[-10:]
    return text


def _doc(doc: Mapping[str, Any]) -> str:
    masked = mask(dict(doc))
    extra = [str(masked[k]) for k in ("docCountry", "docExpiry") if masked.get(k)]
    return str(masked.get("docNumber", "")) + (f" ({', '.join(extra)})" if extra else "")


# -- text for the operator -----------------------------------------------------------------


def lookup_command(profile: str, identifiers: Identifiers, new_mobile: str | None = None) -> str:
    """The `wibmo lookup` that shows whether an update applied."""
    command = ["wibmo", "-p", profile, "lookup"]
    if identifiers.urn:
        command += ["--urn", identifiers.urn]
    elif identifiers.customer_id:
        command += ["--customer-id", identifiers.customer_id]
    elif identifiers.mobile:
        command += ["--mobile", identifiers.mobile]
    text = shlex.join(command)
    if new_mobile and identifiers.mobile and not (identifiers.urn or identifiers.customer_id):
        other = shlex.join(["wibmo", "-p", profile, "lookup", "--mobile", new_mobile])
        text += f" (or, if the new mobile number applied, {other})"
    return text


def curl_command(
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: Mapping[str, Any],
    secrets: Iterable[str],
) -> str:
    """An equivalent curl command, every secret value replaced by its redaction: by name
    (Authorization, Cookie, ...) or by value (`secrets`), and a password in the URL's
    userinfo (`masking.shown_value`, `redact_url`)."""
    hidden = {s for s in secrets if s}
    lines = [f"curl -sS -X {method} {shlex.quote(redact_url(url))}"]
    lines += [f"-H {shlex.quote(f'{k}: {shown_value(k, v, hidden)}')}" for k, v in headers.items()]
    data = {k: (v if k == "token" else shown_value(k, v, hidden)) for k, v in body.items()}
    lines.append(f"--data-raw {shlex.quote(json.dumps(data, separators=(',', ':')))}")
    return " \\\n  ".join(lines)


# -- drawing -------------------------------------------------------------------------------


def preview_renderables(
    rows: list[PreviewRow], *, title: str, notes: Iterable[str] = (), sent_as: str = ""
) -> list[RenderableType]:
    """The preview table (`sent_as`: how the profile spells the request, when not as the
    field table does: `fields.Dialect.describe`); the title and "now" hold what the lookup
    answered, so every value goes in through `textsafe.cell` (never markup, control
    characters escaped)."""
    from rich.table import Table

    table = Table(title=cell(title, "table.title"), title_justify="left")
    table.add_column("field", style="bold", no_wrap=True)
    table.add_column("now")
    table.add_column("will be")
    for row in rows:
        will_be = cell(row.will_be + ("  (unchanged)" if row.unchanged else ""))
        table.add_row(cell(row.label), cell(row.now or "—"), will_be)
    out: list[RenderableType] = [table]
    if sent_as:
        out.append(cell(f"sent as: {sent_as}", "dim"))
    out += [cell(f"note: {note}", "yellow") for note in notes]
    return out


def dry_run_text(payload: Mapping[str, Any], token: str, curl: str) -> str:
    """Plain text (never wrapped: the curl must paste whole), `#` headings, like a script."""
    return "\n".join(
        [
            "# Payload (decrypted; document numbers masked)",
            json.dumps(mask(dict(payload)), indent=2, ensure_ascii=False),
            "# Token",
            token,
            "# Equivalent curl (secrets redacted)",
            curl,
        ]
    )
