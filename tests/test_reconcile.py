"""reconcile's core: journaled fields + the lookup's answer -> each field's state and the
update's verdict; which updates are unknown (journal, audit log); the lookups run a few at
once, each verdict handed over as soon as it is known."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from wibmo_cli.client import Exchange
from wibmo_cli.errors import NetworkError
from wibmo_cli.journal import Journal, read_journal
from wibmo_cli.reconcile import (
    APPLIED,
    AS_IT_WAS,
    AS_PLANNED,
    CANNOT_TELL,
    CHANGED,
    NEITHER,
    NO_JOURNAL_ENTRY,
    NOT_APPLIED,
    NOT_AS_PLANNED,
    NOT_COMPARED,
    LookupSettings,
    Pending,
    Verdict,
    audit_unknowns,
    classify,
    journal_profile,
    pending_from_audit,
    pending_in_journal,
    reconcile_all,
)

RECORD = {
    "email": "abc@xyz.com",
    "firstName": "ABC",
    "mobile": "919897123456",
    "dob": "11-Jul-1993",
    "city": "Pune",
    "profileId": 150,
}


def update(**fields: tuple[Any, Any]) -> Pending:
    """An update of urn 389 setting each field from its (now, new)."""
    return Pending(
        "T1",
        row=1,
        identifiers={"urn": "389"},
        fields={name: {"now": now, "new": new} for name, (now, new) in fields.items()},
    )


def states(verdict: Verdict) -> dict[str, str]:
    return {name: check.state for name, check in verdict.fields.items()}


# -- each verdict ----------------------------------------------------------------------------


def test_every_field_as_planned_is_applied() -> None:
    verdict = classify(
        update(emailId=("old@xyz.com", "abc@xyz.com"), firstName=("A", "ABC")), RECORD
    )
    assert verdict.verdict == APPLIED
    assert states(verdict) == {"emailId": AS_PLANNED, "firstName": AS_PLANNED}


def test_every_field_as_it_was_is_not_applied() -> None:
    verdict = classify(
        update(emailId=("abc@xyz.com", "new@xyz.com"), cardholderCity=("Pune", "Goa")), RECORD
    )
    assert verdict.verdict == NOT_APPLIED
    assert states(verdict) == {"emailId": AS_IT_WAS, "cardholderCity": AS_IT_WAS}
    assert verdict.why == "every field compared is as it was"


def test_not_as_planned_when_the_value_before_is_unknown_is_not_applied() -> None:
    verdict = classify(update(emailId=(None, "new@xyz.com")), RECORD)
    assert states(verdict) == {"emailId": NOT_AS_PLANNED}
    assert verdict.verdict == NOT_APPLIED


def test_a_field_neither_is_changed_differently() -> None:
    verdict = classify(
        update(cardholderCity=("Mumbai", "Goa"), emailId=("x@xyz.com", "abc@xyz.com")), RECORD
    )
    assert states(verdict) == {"cardholderCity": NEITHER, "emailId": AS_PLANNED}
    assert verdict.verdict == CHANGED
    assert verdict.why.startswith("cardholderCity: neither")


def test_some_as_planned_some_as_they_were_is_changed_differently() -> None:
    verdict = classify(
        update(emailId=("x@xyz.com", "abc@xyz.com"), cardholderCity=("Pune", "Goa")), RECORD
    )
    assert verdict.verdict == CHANGED


def test_letter_case_of_an_email_counts() -> None:
    """A change of case is a change someone asked for (customer_now.as_held)."""
    verdict = classify(update(emailId=("abc@xyz.com", "ABC@xyz.com")), RECORD)
    assert verdict.verdict == NOT_APPLIED


# -- values compared as the platform holds them ----------------------------------------------


@pytest.mark.parametrize("shown", ["919876543210", "9876543210", "+91 98765-43210"])
def test_mobile_in_any_form(shown: str) -> None:
    record = {**RECORD, "mobile": shown}
    verdict = classify(update(mobile=("919897123456", "919876543210")), record)
    assert verdict.verdict == APPLIED


def test_mobile_as_it_was_in_another_form() -> None:
    verdict = classify(update(mobile=("9897123456", "919876543210")), RECORD)
    assert states(verdict) == {"mobile": AS_IT_WAS}


@pytest.mark.parametrize("shown", ["16-Nov-1995", "1995-11-16 00:00:00", "19951116", "16-11-1995"])
def test_date_of_birth_in_any_form(shown: str) -> None:
    record = {**RECORD, "dob": shown}
    verdict = classify(update(dateOfBirth=("11-Jul-1993", "19951116")), record)
    assert verdict.verdict == APPLIED


def test_date_of_birth_as_it_was() -> None:
    verdict = classify(update(dateOfBirth=("11-Jul-1993", "19951116")), RECORD)
    assert states(verdict) == {"dateOfBirth": AS_IT_WAS}


@pytest.mark.parametrize(
    ("profile", "verdict"), [(150, APPLIED), ("150", APPLIED), (30, NOT_APPLIED), (300, CHANGED)]
)
def test_new_card_profile_against_the_cards_profile(profile: Any, verdict: str) -> None:
    record = {**RECORD, "profileId": profile}
    assert classify(update(newcardProfileId=(30, "150")), record).verdict == verdict


def test_new_card_profile_of_the_journaled_card() -> None:
    """The lookup's card with the journaled URN is the one compared (customer_record)."""
    from wibmo_cli.customer_now import customer_record

    answer = {"cardList": [{"urn": 7, "profileId": 30}, {"urn": 389, "profileId": 150}]}
    verdict = classify(update(newcardProfileId=(30, "150")), customer_record(answer, "389"))
    assert verdict.verdict == APPLIED


# -- cannot tell -----------------------------------------------------------------------------


def test_documents_only_cannot_tell() -> None:
    docs = [{"docType": "Pancard", "docNumber": "ABCPE1234F"}]
    verdict = classify(update(docList=(None, docs)), RECORD)
    assert verdict.verdict == CANNOT_TELL
    assert states(verdict) == {"docList": NOT_COMPARED}
    assert "docList" in verdict.why
    line = json.dumps(verdict.document())
    assert "ABCPE1234F" not in line  # the document number masked
    assert "234F" in line


def test_a_field_the_lookup_does_not_show_is_not_compared() -> None:
    verdict = classify(
        update(alternateEmailId=(None, "alt@xyz.com"), emailId=("o@xyz.com", "abc@xyz.com")),
        RECORD,
    )
    assert states(verdict) == {"alternateEmailId": NOT_COMPARED, "emailId": AS_PLANNED}
    assert verdict.verdict == APPLIED
    assert "alternateEmailId: not shown by the lookup" in verdict.why


def test_nothing_shown_cannot_tell() -> None:
    verdict = classify(update(alternateEmailId=(None, "alt@xyz.com")), RECORD)
    assert verdict.verdict == CANNOT_TELL


# -- the JSON line ---------------------------------------------------------------------------


def test_document_masks_identifiers_and_carries_every_field() -> None:
    pending = Pending("T9", 4, {"mobile": "919897123456"}, {"firstName": {"now": "A", "new": "B"}})
    line = classify(pending, RECORD).document()
    assert line == {
        "row": 4,
        "clientTxnId": "T9",
        "identifiers": "mobile ********3456",
        "verdict": CHANGED,
        "fields": {"firstName": {"planned": "B", "was": "A", "now": "ABC"}},
        "why": "firstName: neither as it was nor as planned",
    }


# -- where the unknowns are ------------------------------------------------------------------


def test_pending_in_journal_are_the_unknown_rows(tmp_path: Path) -> None:
    path = tmp_path / "j.jsonl"
    with Journal.opened(path, {"profile": "uat", "plan": "p"}) as journal:
        fields = {"emailId": {"now": "a@x.com", "new": "b@x.com"}}
        for row in (1, 2, 3, 4, 5):
            journal.sending(row, f"T{row}", identifiers={"urn": "389"}, fields=fields)
        journal.outcome(2, "T2", "answered", responseCode="00")
        journal.outcome(3, "T3", "outcome unknown")
        journal.outcome(4, "T4", "interrupted")
        journal.reconciled(5, "T5", "applied")
    state = read_journal(path)
    pending = pending_in_journal(state)
    assert [(p.row, p.txn) for p in pending] == [(1, "T1"), (3, "T3"), (4, "T4")]
    assert pending[0].identifiers == {"urn": "389"}
    assert pending[0].fields == fields
    assert journal_profile(state) == "uat"


def audit(txn: str, result: str, *, command: str = "update-profile", **more: Any) -> dict[str, Any]:
    return {"command": command, "action": "update", "clientTxnId": txn, "result": result, **more}


def test_audit_unknowns() -> None:
    entries = [
        audit("A", "sending", identifiers="urn ***", profile="uat"),
        audit("A", "answered"),
        audit("B", "sending"),  # the process died: no result
        audit("C", "sending"),
        audit("C", "outcome unknown"),
        audit("D", "sending"),
        audit("D", "interrupted: outcome unknown"),
        audit("E", "sending"),
        audit("E", "outcome unknown"),
        {"command": "reconcile", "clientTxnId": "E", "result": NOT_APPLIED},
        audit("F", "sending"),
        audit("F", "outcome unknown"),
        {"command": "reconcile", "clientTxnId": "F", "result": CANNOT_TELL},  # still unknown
        audit("G", "sending", command="call"),  # not an update-profile
        {**audit("H", "not sent (dry run)"), "action": "dry-run"},
        audit("I", "HTTP 401"),
    ]
    assert list(audit_unknowns(entries)) == ["B", "C", "D", "F"]


def test_pending_from_audit_without_a_journal_entry() -> None:
    entry = audit("B", "sending", identifiers="urn ***", profile="uat")
    pending = pending_from_audit("B", entry, None)
    assert (pending.missing, pending.described(), pending.profile) == (
        NO_JOURNAL_ENTRY,
        "urn ***",
        "uat",
    )


# -- the lookups -----------------------------------------------------------------------------


def exchange(answer: dict[str, Any]) -> Exchange:
    return Exchange(answer=answer, status=200, elapsed=0.0, client_txn_id="L", attempts=1)


def test_reconcile_all_hands_over_each_verdict() -> None:
    answers = {
        "389": exchange({"responseCode": "00", "cardList": [{**RECORD, "urn": 389}]}),
        "7": exchange({"responseCode": "1303"}),
    }
    in_flight = 0
    most = 0

    async def lookup(payload: dict[str, Any]) -> Exchange:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        if payload["urn"] == "1":
            raise NetworkError("connection refused")
        return answers[payload["urn"]]

    updates = [
        Pending(f"T{n}", n, {"urn": urn}, {"emailId": {"now": None, "new": "abc@xyz.com"}})
        for n, urn in enumerate(("389", "7", "1", "389"))
    ]
    updates.append(Pending("T9", None, who="urn ***", missing=NO_JOURNAL_ENTRY))
    done: list[Verdict] = []
    asyncio.run(reconcile_all(updates, [lookup, lookup], LookupSettings(), done.append))
    by_txn = {v.update.txn: v for v in done}
    assert [by_txn[f"T{n}"].verdict for n in range(4)] == [
        APPLIED,
        CANNOT_TELL,
        CANNOT_TELL,
        APPLIED,
    ]
    assert "1303 CUSTOMER_DETAILS_NOT_PRESENT" in by_txn["T1"].why
    assert by_txn["T2"].why == "the lookup failed: connection refused"
    assert by_txn["T9"].why == NO_JOURNAL_ENTRY
    assert most == 2  # one lookup per client at once


def test_reconcile_all_cancelled_keeps_what_is_done() -> None:
    async def lookup(payload: dict[str, Any]) -> Exchange:
        if payload["urn"] == "2":
            await asyncio.sleep(30)
        return exchange({"responseCode": "00", "cardList": [{**RECORD, "urn": 1}]})

    updates = [
        Pending(f"T{n}", n, {"urn": str(n)}, {"cardholderCity": {"now": "Pune", "new": "Goa"}})
        for n in (1, 2)
    ]
    done: list[Verdict] = []

    async def main() -> None:
        task = asyncio.ensure_future(
            reconcile_all(updates, [lookup], LookupSettings(), done.append)
        )
        while not done:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(asyncio.wait_for(main(), 10))
    assert [(v.update.txn, v.verdict) for v in done] == [("T1", NOT_APPLIED)]
