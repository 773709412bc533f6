"""The customer as the lookup shows them now, as an update needs them. Pure.

    lookup answer  --customer_record-->  the record (the card with the URN, when given)
    lookup answer  --current_profile-->  the KYC profile cardProfileId must carry
    record + changes  --left_out-->      the fields already as asked, taken out

An update that sets a field to what the platform holds now changes nothing but the
audit trail: like a KYC profile that is already the one asked for, such a field is left
out of the request with a note, and an update left with nothing is not sent
(`changes.plan`). Only a field the lookup shows can be compared; one it does not show is
sent as asked.

Values are compared as the platform holds them, each through its field's own validator
(`fields.Field.check`), so a value given in any form the validator accepts matches:

    mobile                      with or without 91 / +91 / 0, spaces or dashes
    dateOfBirth                 YYYYMMDD, YYYY-MM-DD, DD-MM-YYYY, DD/MM/YYYY, and as a
                                lookup shows it: 16-Nov-1993, 1993-11-16 00:00:00, ...
    gender, flags               M / Male / male; true / "Y" / 1
    names, emails, address, ... exactly (after the validator's trimming): a change of
                                letter case is a change someone asked for (an agent
                                correcting an email's case must be able to send it)

Documents are never left out: an upgrade sends them again whatever the record holds.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any, Final

from wibmo_cli import kyc, validate
from wibmo_cli.errors import InputError
from wibmo_cli.fields import FIELDS, Field
from wibmo_cli.masking import mask_value

# A date sent as a timestamp (`19931116000000`, `1993-11-16 00:00:00`): its day is the date.
_TIMESTAMP: Final = re.compile(
    r"([0-9]{8})[0-9]{6}|(.{10})[ T][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
)
_LOOKUP_DAY: Final = "%d-%b-%Y"  # how a lookup shows a date of birth: 16-Nov-1993


def customer_record(answer: Mapping[str, Any], urn: str | None = None) -> dict[str, Any]:
    """The lookup answer's record of the customer (the card with ``urn`` when given)."""
    cards = _cards(answer)
    if urn is not None:
        for card in cards:
            if str(card.get("urn", card.get("Urn", ""))).lstrip("0") == urn:
                return {**answer, **card}
    return {**answer, **cards[0]} if cards else dict(answer)


def _cards(answer: Mapping[str, Any]) -> list[dict[str, Any]]:
    card_list = answer.get("cardList")
    if isinstance(card_list, list):
        return [c for c in card_list if isinstance(c, dict)]
    return [dict(answer)] if "profileId" in answer or "urn" in answer else []


def current_profile(answer: Mapping[str, Any], urn: str | None, given: int | None) -> int:
    """The card's KYC profile id per the lookup (any a card can be on, `kyc.CARD_PROFILES`:
    cardProfileId is "the present KYC profile"), checked against --card-profile-id."""
    cards = _cards(answer)
    if urn is not None:
        cards = [c for c in cards if str(c.get("urn", c.get("Urn", ""))).lstrip("0") == urn]
    found = sorted(
        {str(c["profileId"]) for c in cards if c.get("profileId") not in (None, "")},
        key=lambda profile: profile.zfill(12),
    )
    hint = f"pass --card-profile-id ({kyc.ids(kyc.CARD_PROFILES)})"
    if given is not None:
        if found and str(given) not in found:
            raise InputError(
                f"--card-profile-id {given}: the lookup shows the card's KYC profile is "
                f"{', '.join(found)} (the platform would answer 1309 CARDPROFILE_MISTMATCH)"
            )
        return given
    if not found:
        raise InputError(f"the lookup does not show the card's KYC profile; {hint}")
    if len(found) > 1:
        raise InputError(
            f"this customer's cards have KYC profiles {', '.join(found)}; say which with "
            "--card-profile-id, or identify the card with --urn"
        )
    try:
        return validate.card_profile_id(found[0])
    except InputError:
        raise InputError(
            f"the lookup shows KYC profile {found[0]}, which is not one wibmo knows "
            f"({kyc.ids(kyc.CARD_PROFILES)}); {hint}"
        ) from None


# -- what the record already holds ----------------------------------------------------------


def left_out(
    changes: dict[str, Any],
    record: Mapping[str, Any] | None,
    sources: Mapping[str, str],
    *,
    keep: Collection[str] = (),
) -> list[str]:
    """Remove from `changes` each field (but those in `keep`) whose value `record`, the
    customer as the lookup shows them, already holds; one phrase per field removed:
    ``Email is already abc@xyz.com (--email)``."""
    if not record:
        return []
    said: list[str] = []
    for f in FIELDS:
        if f.name not in changes or f.name in keep or not f.shown_as:
            continue
        now = shown_now(f, record)
        held = None if now is None else as_held(f, now)
        if held is not None and held == as_held(f, changes[f.name]):
            del changes[f.name]
            said.append(f"{f.label} is already {_shown(f, now)} ({sources.get(f.name, f.option)})")
    return said


def before_after(
    changes: Mapping[str, Any], record: Mapping[str, Any] | None, current_profile: int
) -> dict[str, dict[str, Any]]:
    """Each field an update sets: {"now": as the lookup's `record` shows it (None: not
    shown, or no lookup), "new": as it will be}. What a plan shows a reviewer, and what
    reconcile compares the customer with afterwards (the journal keeps it)."""
    fields: dict[str, dict[str, Any]] = {}
    for f in FIELDS:
        if f.name in changes:
            now = current_profile if f.name == "newcardProfileId" else None
            if record is not None and f.shown_as:
                now = shown_now(f, record)
            fields[f.name] = {"now": now, "new": changes[f.name]}
    if "docList" in changes:
        fields["docList"] = {"now": None, "new": changes["docList"]}
    return fields


def changed_since(
    fields: Mapping[str, Any], answer: Mapping[str, Any], urn: str | None, card_profile: int
) -> list[str]:
    """The fields (and the KYC profile) the lookup `answer` no longer shows as a plan saw
    them (`fields`: before_after's {name: {"now", "new"}}): what `--if-unchanged` refuses."""
    from wibmo_cli.fields import BY_NAME

    changed = []
    record = customer_record(answer, urn)
    cards = [record] if urn is not None else _cards(answer)  # the card named, else any
    profiles = {str(c.get("profileId")) for c in cards if c.get("profileId") is not None}
    if profiles and str(card_profile) not in profiles:
        changed.append("the KYC profile")
    for name, value in fields.items():
        f = BY_NAME.get(name)
        if f is None or not f.shown_as or not isinstance(value, Mapping):
            continue
        now = shown_now(f, record)
        was = value.get("now")
        held_now = None if now is None else as_held(f, now)
        held_was = None if was is None else as_held(f, was)
        if held_now != held_was:
            changed.append(f.label)
    return changed


def shown_now(f: Field, record: Mapping[str, Any]) -> Any:
    """The value of `f` the lookup's `record` shows (None: it shows none)."""
    return next((record[k] for k in f.shown_as if record.get(k) not in (None, "")), None)


def as_held(f: Field, value: Any) -> Any:
    """`value` as the platform holds it for `f`; None for what is not a value of `f`."""
    if not isinstance(value, str | int) or (isinstance(value, bool) and not f.flag):
        return None
    if f.validator == "date_yyyymmdd":
        return _day(str(value))
    options = {"prefix": ""} if f.validator == "mobile" else dict(f.options)
    try:
        held = f.check(value, field=f.name, **options)
    except InputError:
        return None
    return held  # an email's letter case too: correcting it is a change to send


def _day(text: str) -> str | None:
    """A date as YYYYMMDD, from any form a user may give or a lookup may show it in."""
    day = text.strip()
    stamp = _TIMESTAMP.fullmatch(day)
    if stamp:
        day = stamp.group(1) or stamp.group(2)
    try:
        return validate.date_yyyymmdd(day)
    except InputError:
        pass
    try:
        return datetime.strptime(day, _LOOKUP_DAY).strftime("%Y%m%d")
    except ValueError:
        return None


def _shown(f: Field, now: Any) -> str:
    """The value the lookup holds, for the note (it passed the field's validator)."""
    if f.shown == "masked":
        return mask_value(str(now))
    if f.shown == "mobile":
        return str(as_held(f, now))
    if isinstance(now, bool):
        return "true" if now else "false"
    return str(now).strip()
