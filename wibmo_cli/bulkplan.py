"""Bulk profile updates, step one: a changes file read and checked, each customer looked
up, and a plan written for a second person to review. Nothing is sent.

    changes.csv  --read_changes-->  one ChangeRow per line: every fault of a row at once
    ChangeRow + the customer now  --planned-->  a plan row: change | unchanged | invalid |
                                                not found | failed
    the rows  --plan_text-->  plan.jsonl: a header line, then one line per row

The changes file is a CSV (comma, semicolon or tab) with a header: one identifier column
(`urn`, `customerMobile` or `customerId`, any letter case) and one column per field, named
as `--from-file` names them (the platform's names in either spelling: `emailId` or `email`,
`cardholderCity` or `city`, the flat document columns `docType`, `docNumber`, ...). An
empty cell changes nothing. A column no field has is refused before any row is read; a
row's faults (its identifier, each value, the same customer on another row) are all
listed in its plan line.

A plan row "change" holds what apply sends: the customer (`identifiers`), the card's KYC
profile the lookup showed (`cardProfileId`), the clientTxnId it will carry (fixed here:
a request sent twice by mistake would be refused by the platform as a duplicate), and
each field now and as it will be (`customer_now.before_after`: what the reviewer reads,
what `--if-unchanged` and `reconcile` compare). The plan holds personal data: it is
written 0600, like the journal.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar

from wibmo_cli.batchio import NOT_FOUND_CODES, delimiter_of
from wibmo_cli.changes import NothingToChange, UpdateRequest, parse_request
from wibmo_cli.codes import explain, is_success, normalise_code
from wibmo_cli.errors import InputError, WibmoError
from wibmo_cli.fields import DOC_KEYS
from wibmo_cli.journal import now_iso
from wibmo_cli.messages import Identifiers, lookup_payload
from wibmo_cli.paths import read_capped

if TYPE_CHECKING:
    from wibmo_cli.batch import Pace
    from wibmo_cli.exchange import LookupClient
    from wibmo_cli.profiles import Profile

VERSION: Final = 1
MAX_FILE: Final = 64 << 20  # a changes file larger is no list of customers to review
MAX_ROWS: Final = 200_000  # a plan a person can review; each row is a lookup and a send
# The identifier columns, as `_column` normalises their names -> `Identifiers` fields.
IDENTIFIER_COLUMNS: Final = {"urn": "urn", "customermobile": "mobile", "customerid": "customer_id"}
STATUSES: Final = ("change", "unchanged", "invalid", "not found", "failed")
_DOCS: Final = frozenset(key.lower() for key in DOC_KEYS)


def _column(name: str) -> str:
    return "".join(ch for ch in name.casefold() if ch.isalnum())


@dataclass
class ChangeRow:
    """One line of the changes file: who, what (checked), and every fault found."""

    number: int
    identifiers: Identifiers | None
    request: UpdateRequest | None
    errors: list[str] = field(default_factory=list)

    def who(self) -> dict[str, str]:
        return self.identifiers.given() if self.identifiers is not None else {}


@dataclass(frozen=True)
class Changes:
    """The changes file, read: its rows and what identifies the file (for the plan)."""

    path: Path
    sha256: str
    rows: list[ChangeRow]


def read_changes(path: Path, *, mobile_prefix: str) -> Changes:
    """Every row of the changes file at `path`, each checked as update-profile checks
    its options; InputError for a file that is no changes file at all."""
    data = read_capped(path, "--file", MAX_FILE, "split the file")
    text = _text(data, path)
    lines = text.splitlines()
    if not lines or not lines[0].strip():
        raise InputError(f"--file {path}: no header row (the identifier and field columns)")
    delimiter = delimiter_of(lines[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        header = [cell.strip() for cell in next(reader)]
        kind, at, columns = _header(header, path)
        rows: list[ChangeRow] = []
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise InputError(f"--file {path}: more than {MAX_ROWS:,} rows; split the file")
            rows.append(_row(reader.line_num, cells, kind, at, columns, mobile_prefix))
    except csv.Error as exc:
        raise InputError(f"--file {path}: line {reader.line_num} is not CSV ({exc})") from None
    if not rows:
        raise InputError(f"--file {path}: a header and no rows: nothing to change")
    # a customer twice is a fault of both rows, whatever else is wrong with either
    _same_customer(rows, lambda row: tuple(sorted(row.who().items())) or None)
    return Changes(path, hashlib.sha256(data).hexdigest(), rows)


def _text(data: bytes, path: Path) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"--file {path}: not UTF-8 text (byte {exc.start + 1}); save it as CSV UTF-8"
        ) from None


def _header(header: list[str], path: Path) -> tuple[str, int, dict[int, str]]:
    """(the identifier kind, its column, {column: field name as the file spells it}):
    every fault of the header in one message."""
    from wibmo_cli.changes import _file_name

    faults: list[str] = []
    identifiers = [(i, IDENTIFIER_COLUMNS[_column(n)]) for i, n in enumerate(header)
                   if _column(n) in IDENTIFIER_COLUMNS]  # fmt: skip
    if len(identifiers) != 1:
        named = ", ".join(header[i] for i, _ in identifiers)
        faults.append(
            "no identifier column: name one urn, customerMobile or customerId"
            if not identifiers
            else f"several identifier columns ({named}): keep one"
        )
    columns: dict[int, str] = {}
    seen: dict[str, str] = {}
    for index, name in enumerate(header):
        if any(index == i for i, _ in identifiers):
            continue
        if not name:
            faults.append(f"column {index + 1} has no name")
            continue
        try:
            platform = _file_name(name, "column")
        except InputError as exc:
            try:  # "Email Id", "email_id": a spreadsheet's way of writing emailId
                platform = _file_name(_column(name), "column")
            except InputError:
                faults.append(exc.message.removeprefix("column: "))
                continue
        if platform in seen:
            faults.append(f"columns {seen[platform]!r} and {name!r} are the same field")
        seen[platform] = name
        columns[index] = platform  # the row's values keyed as --from-file keys them
    if not columns and identifiers:
        faults.append("no field column: nothing to change")
    if faults:
        raise InputError(f"--file {path}: " + "; ".join(faults))
    return identifiers[0][1], identifiers[0][0], columns


def _row(
    number: int,
    cells: list[str],
    kind: str,
    at: int,
    columns: dict[int, str],
    prefix: str,
) -> ChangeRow:
    label = f"row {number}"
    errors: list[str] = []
    if len(cells) > max([at, *columns]) + 1:
        errors.append(f"{len(cells)} cells, more than the header's columns")
    value = cells[at].strip() if at < len(cells) else ""
    identifiers = None
    try:
        if not value:
            raise InputError(f"no {kind.replace('_', ' ')}: say who")
        identifiers = Identifiers.parse(**{kind: value}, mobile_prefix=prefix, as_options=False)
    except InputError as exc:
        errors.append(exc.message)
    given = {
        name: cells[index].strip()
        for index, name in columns.items()
        if index < len(cells) and cells[index].strip()
    }
    if not given:
        errors.append("nothing to change in this row")
        return ChangeRow(number, identifiers, None, errors)
    checking = identifiers or Identifiers(urn="1")  # each value checked whoever it is for
    docs = {name: text for name, text in given.items() if name.lower() in _DOCS}
    for part in [*({name: text} for name, text in given.items() if name not in docs), docs]:
        if part:
            try:
                parse_request(checking, {}, patch=part, patch_label=label, mobile_prefix=prefix)
            except InputError as exc:
                errors.append(exc.message.removeprefix(f"{label}: "))
    request = None
    if not errors:
        try:
            request = parse_request(
                checking, {}, patch=given, patch_label=label, mobile_prefix=prefix
            )
        except InputError as exc:
            errors.append(exc.message.removeprefix(f"{label}: "))
    return ChangeRow(number, identifiers, request, errors)


Key = TypeVar("Key")


def _same_customer(rows: Sequence[ChangeRow], key: Callable[[ChangeRow], Any]) -> None:
    """A customer on several rows: each such row gets the fault, naming the others (which
    change would win is not for a file's order to decide)."""
    where: dict[Any, list[ChangeRow]] = {}
    for row in rows:
        found = key(row)
        if found is not None:
            where.setdefault(found, []).append(row)
    for same in where.values():
        if len(same) > 1:
            for row in same:
                others = ", ".join(str(o.number) for o in same if o is not row)
                row.errors.append(f"the same customer as row {others}: give one row each")
                row.request = None


# -- the customers now, and the plan ----------------------------------------------------


async def planned(
    changes: Changes,
    profile: Profile,
    clients: Sequence[LookupClient],
    pace: Pace,
    on_row: Callable[[str], object] | None = None,
) -> list[dict[str, Any]]:
    """Each row's plan line, in file order: the valid rows' customers looked up (one
    request in flight per client), then planned as update-profile plans one."""
    lines: dict[int, dict[str, Any]] = {}
    found: dict[int, Any] = {}

    async def plan_one(row: ChangeRow, client: LookupClient) -> None:
        await pace.wait()
        line, customer = await _plan_row(row, profile, client)
        lines[row.number], found[row.number] = line, customer
        if on_row is not None:
            on_row(line["status"])

    for row in changes.rows:
        if row.request is None:
            lines[row.number] = _line(row, "invalid")
            if on_row is not None:
                on_row("invalid")
    await for_each([r for r in changes.rows if r.request is not None], clients, plan_one)
    changing = [row for row in changes.rows if lines[row.number]["status"] == "change"]
    _same_customer(changing, lambda row: found.get(row.number))
    for row in changing:
        if row.request is None:  # another row names the same customer another way
            lines[row.number] = _line(row, "invalid")
    return [lines[row.number] for row in changes.rows]


async def _plan_row(
    row: ChangeRow, profile: Profile, client: LookupClient
) -> tuple[dict[str, Any], Any]:
    from wibmo_cli.customer_now import before_after, customer_record
    from wibmo_cli.send import plan_update

    assert row.request is not None and row.identifiers is not None
    code = int(profile.get("lookup_message_code"))
    try:
        exchange = await client.lookup(lookup_payload(row.identifiers, message_code=code))
    except WibmoError as exc:
        return _line(row, "failed", why=f"the lookup failed: {exc.message}"), None
    answer = exchange.answer
    answered = normalise_code(str(answer.get("responseCode", "?")))
    if not is_success(answer.get("responseCode"), profile.get("success_codes")):
        status = "not found" if answered in NOT_FOUND_CODES else "failed"
        known = explain(answered)
        return _line(row, status, why=f"the lookup answered {answered}"
                     + (f" {known.name}" if known else "")), None  # fmt: skip
    try:
        plan = plan_update(profile, row.request, answer)
    except NothingToChange as exc:
        why = exc.message.removeprefix("nothing to change: ").replace(f"(row {row.number}: ", "(")
        return _line(row, "unchanged", why=why), None
    except InputError as exc:
        row.errors.append(exc.message)
        return _line(row, "invalid"), None
    record = customer_record(answer, row.identifiers.urn)
    customer = record.get("customerId") or record.get("urn") or None
    line = _line(row, "change")
    line.update(
        clientTxnId=plan.client_txn_id,
        customer=customer,  # who the lookup found: apply refuses a customer on two rows
        cardProfileId=plan.current_profile,
        fields=before_after(plan.changes, record, plan.current_profile),
        notes=list(plan.notes),
    )
    return line, customer


def _line(row: ChangeRow, status: str, *, why: str | None = None) -> dict[str, Any]:
    line: dict[str, Any] = {"row": row.number, "status": status, "identifiers": row.who()}
    if row.errors:
        line["errors"] = list(row.errors)
    if why:
        line["why"] = why
    return line


Item = TypeVar("Item")
AnyClient = TypeVar("AnyClient")


async def for_each(
    items: Iterable[Item],
    clients: Sequence[AnyClient],
    work: Callable[[Item, AnyClient], Awaitable[None]],
) -> None:
    """`work(item, client)` for every item, one in flight per client. The first failure
    that is not an item's own (a bug) cancels the rest and is raised; so is cancellation
    (Ctrl-C), after every task in flight has ended."""
    free: asyncio.Queue[AnyClient] = asyncio.Queue()
    for client in clients:
        free.put_nowait(client)
    running: set[asyncio.Task[None]] = set()

    async def one(item: Item, client: AnyClient) -> None:
        try:
            await work(item, client)
        finally:
            free.put_nowait(client)

    try:
        for item in items:
            client = await free.get()
            for task in [t for t in running if t.done()]:
                running.discard(task)
                task.result()  # a bug in `work`: raised here
            running.add(asyncio.create_task(one(item, client)))
        if running:
            await asyncio.gather(*running)
    finally:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)


def plan_text(changes: Changes, profile: Profile, lines: Sequence[dict[str, Any]]) -> str:
    """The plan file: its header (which profile, which changes file: its SHA-256), then
    one JSON line per row."""
    import json

    counts = {status: 0 for status in STATUSES}
    for line in lines:
        counts[line["status"]] += 1
    header = {
        "plan": VERSION,
        "profile": profile.name,
        "changes": str(changes.path.resolve()),
        "sha256": changes.sha256,
        "created": now_iso(),
        "rows": len(lines),
        "counts": counts,
    }
    dump = json.dumps
    return "".join(dump(x, ensure_ascii=False) + "\n" for x in [header, *lines])


def counts_of(lines: Iterable[dict[str, Any]]) -> dict[str, int]:
    counts = {status: 0 for status in STATUSES}
    for line in lines:
        counts[str(line["status"])] += 1
    return counts
