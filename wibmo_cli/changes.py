"""Update Profile (1280): from what the operator asked for to a checked payload. Pure.

    options + --from-file JSON  --parse_request-->  UpdateRequest   every field validated
    UpdateRequest + the customer now  --plan-->  Plan   what is already so left out,
                                                        full-KYC rules, payload

The customer now (their record, the card's KYC profile) is read by `customer_now`.

Field names are the document's table (`fields.FIELDS`); a file may also use the sample's
spellings (``email``, ``address``, ``city``, ``zipCode``, ...) and any letter case, and
give one document flat (``docType``, ``docNumber``, ... at the top level) instead of a
``docList``. What is sent is spelled as the profile says (`fields.Dialect`, given to `plan`).
A card may be on any KYC profile (1, 30, 150, 200, 300): ``cardProfileId`` carries the one
the lookup shows; only ``newcardProfileId`` is limited to what Update Profile sets.
The new mobile number travels as ``mobile`` (the document lists "Mobile No." as
updatable and ``mobile`` in ``updateVectors``), with the profile's mobile prefix like
``customerMobile``. Every message names the CLI option, or ``FILE: field`` for a value
from the file. Identity document numbers never appear whole in a message or preview.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from wibmo_cli import kyc, validate
from wibmo_cli.customer_now import left_out
from wibmo_cli.errors import InputError
from wibmo_cli.fields import (
    BY_NAME,
    CARD_PROFILE,
    DOC_KEYS,
    DOC_LIST,
    FIELDS,
    FILLED,
    IDENTIFIERS,
    TABLE,
    Dialect,
    Field,
)
from wibmo_cli.masking import mask_value
from wibmo_cli.messages import Identifiers, request_datetime, update_payload
from wibmo_cli.tokenio import parse_json_payload

# Filled by wibmo (productId from the profile): a file may not set them.
TOOL_FIELDS: Final = frozenset(name.lower() for name in FILLED)
IDENTIFIER_FIELDS: Final = frozenset(name.lower() for name in IDENTIFIERS)
DOC_OPTION: Final = "--doc"
_FILE_NAMES: Final = {spelling.lower(): f.name for f in FIELDS for spelling in f.file_names} | {
    name.lower(): name for name in (DOC_LIST, CARD_PROFILE, *DOC_KEYS)
}


class NothingToChange(InputError):
    """Every field asked for is already so: an update with nothing to send (a bulk plan's
    "unchanged" row; for one customer, exit 2 as any input that sends nothing)."""


@dataclass(frozen=True)
class UpdateRequest:
    """Who, what changes (validated, platform names), and the current profile if given."""

    identifiers: Identifiers
    changes: dict[str, Any]
    card_profile_id: int | None = None
    sources: dict[str, str] = field(default_factory=dict)  # platform field -> option / file

    @property
    def documents(self) -> list[dict[str, str]]:
        docs: list[dict[str, str]] = self.changes.get("docList", [])
        return docs


@dataclass(frozen=True)
class Plan:
    """What will be sent, and what it changes."""

    payload: dict[str, Any]  # as sent, in `dialect`
    current_profile: int
    new_profile: int | None
    notes: tuple[str, ...] = ()
    dialect: Dialect = TABLE
    changes: Mapping[str, Any] = field(default_factory=dict)  # what it sets, table names

    @property
    def client_txn_id(self) -> str:
        return str(self.payload["clientTxnId"])

    def sent(self, f: Field) -> Any:
        """What the payload sends for `f` (None: not sent), whatever its spelling."""
        return self.dialect.sent(self.payload, f)

    def documents(self) -> list[Mapping[str, Any]]:
        """The documents the payload sends, as a docList or flat."""
        return self.dialect.documents_in(self.payload)

    def changed(self) -> list[str]:
        """Field names changed, as the table names them whatever the dialect (document
        types for documents; never a value)."""
        names = [f.name for f in FIELDS if self.sent(f) is not None]
        names += [f"docList:{doc['docType']}" for doc in self.documents()]
        return names


# -- parsing and validating ----------------------------------------------------------------


def read_patch(text: str, label: str) -> dict[str, Any]:
    """A --from-file patch: a JSON object keyed by the platform's field names, each once
    (in every object of it: a key given twice is refused, not resolved to the last)."""
    return parse_json_payload(
        text,
        f"--from-file {label}",
        expected='it must be a JSON object of fields, e.g. {"emailId": "new@example.com"}',
        unique_keys=True,
    )


def parse_request(
    identifiers: Identifiers,
    options: Mapping[str, Any],
    *,
    docs: Sequence[str] = (),
    card_profile_id: str | None = None,
    patch: Mapping[str, Any] | None = None,
    patch_label: str = "patch",
    mobile_prefix: str = "91",
    now: datetime | None = None,
) -> UpdateRequest:
    """Validate everything asked for; options (platform name -> value) override the file."""
    raw: dict[str, tuple[Any, str]] = {}
    for key, value in (patch or {}).items():
        name = _file_name(str(key), patch_label)
        where = f"{patch_label}: {key}"
        if name in raw:
            first = raw[name][1].removeprefix(f"{patch_label}: ")
            raise InputError(
                f"{patch_label}: {json.dumps(first)} and {json.dumps(str(key))} "
                "are the same field; give it once"
            )
        raw[name] = (value, where)
    for name, value in options.items():
        if value is not None:
            raw[name] = (value, BY_NAME[name].option if name in BY_NAME else name)
    flat = _flat_document(raw, patch_label)
    if docs:
        raw["docList"] = (list(docs), DOC_OPTION)
    if card_profile_id is not None:
        raw["cardProfileId"] = (card_profile_id, "--card-profile-id")

    changes: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for f in FIELDS:
        if f.name in raw:
            value, where = raw[f.name]
            changes[f.name] = _scalar(f, value, where, mobile_prefix)
            sources[f.name] = where
    if "newcardProfileId" in changes:
        changes["newcardProfileId"] = str(changes["newcardProfileId"])
    if "docList" in raw:
        value, where = raw["docList"]
        changes["docList"] = _documents(value, where, indexed=where != flat)
        sources["docList"] = where
    if "kycDateStamp" in changes and changes["kycDateStamp"] > request_datetime(now):
        raise InputError(
            f"{sources['kycDateStamp']} {changes['kycDateStamp']!r}: must not be in the future"
        )
    current = None
    if "cardProfileId" in raw:
        value, where = raw["cardProfileId"]
        current = validate.card_profile_id(_plain(value, where), field=where)
    if not changes:
        raise InputError(
            "nothing to change: give at least one field option (see --help) or --from-file"
        )
    return UpdateRequest(identifiers, changes, current, sources)


def _flat_document(raw: dict[str, tuple[Any, str]], label: str) -> str | None:
    """A file's flat document (``docType``, ``docNumber``, ... at the top level, as the
    field table lists them) becomes its one-entry docList; where it is, for messages."""
    flat = {key: raw.pop(key) for key in DOC_KEYS if key in raw}
    if not flat:
        return None
    if "docList" in raw:
        raise InputError(
            f"{label}: give the documents as docList or as one flat docType/docNumber, not both"
        )
    where = f"{label}: document"
    raw["docList"] = ([{key: value for key, (value, _) in flat.items()}], where)
    return where


def _file_name(key: str, label: str) -> str:
    lowered = key.strip().lower()
    if lowered in TOOL_FIELDS:
        raise InputError(f"{label}: {key} is filled by wibmo; leave it out of the file")
    if lowered in IDENTIFIER_FIELDS:
        raise InputError(
            f"{label}: {key} names the customer; say who with --urn, --mobile or --customer-id"
        )
    name = _FILE_NAMES.get(lowered)
    if name is None:
        raise InputError(
            f"{label}: unknown field {key!r}; known: "
            + ", ".join([*(f.name for f in FIELDS), DOC_LIST, *DOC_KEYS, CARD_PROFILE])
        )
    return name


def _plain(value: Any, where: str) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise InputError(f"{where}: must be a string or a number, not {_json_type(value)}")
    return str(value)


def _scalar(f: Field, value: Any, where: str, prefix: str) -> Any:
    if f.flag:
        if not isinstance(value, bool | str):
            raise InputError(f"{where}: must be true or false, not {_json_type(value)}")
        return f.normalise(value, where, mobile_prefix=prefix)
    return f.normalise(_plain(value, where), where, mobile_prefix=prefix)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", bool: "true/false", float: "a fraction"}.get(
        type(value), type(value).__name__
    )


def _documents(value: Any, where: str, *, indexed: bool = True) -> list[dict[str, str]]:
    """``--doc TYPE:NUMBER[:COUNTRY[:EXPIRY]]`` strings, or a file's docList objects (its
    flat document: not `indexed` in messages)."""
    if not isinstance(value, list) or not value:
        raise InputError(f"{where}: must be a non-empty list of documents")
    docs: list[dict[str, str]] = []
    for index, item in enumerate(value):
        if isinstance(item, str):
            parts = item.split(":")
            if len(parts) < 2 or len(parts) > 4:
                raise InputError(
                    f"{where} {mask_value(item)!r}: must be TYPE:NUMBER[:COUNTRY[:EXPIRY]], "
                    "e.g. PAN:ABCPE1234F:India"
                )
            parts += [""] * (4 - len(parts))
            kind, number, country, expiry = parts
            at = where
        elif isinstance(item, dict):
            entry = {str(k).strip().lower(): v for k, v in item.items()}
            unknown = set(entry) - {"doctype", "docnumber", "doccountry", "docexpiry"}
            if unknown:
                raise InputError(
                    f"{where}[{index}]: unknown key {sorted(unknown)[0]!r}; "
                    "known: docType, docNumber, docCountry, docExpiry"
                )
            at = f"{where}[{index}]" if indexed else where
            kind, number, country, expiry = (
                _plain(entry.get(k, ""), f"{at}.{k}")
                for k in ("doctype", "docnumber", "doccountry", "docexpiry")
            )
        else:
            raise InputError(f"{where}[{index}]: must be an object or TYPE:NUMBER text")
        doc_type, doc_number = validate.document(
            kind, number, field=f"{at} number", type_field=f"{at} type"
        )
        doc = {"docType": doc_type, "docNumber": doc_number}
        if country.strip():
            doc["docCountry"] = validate.text(country, field=f"{at} country", max_len=50)
        if expiry.strip():
            doc["docExpiry"] = validate.date_yyyymmdd(expiry, field=f"{at} expiry", future=True)
        if any(d["docType"] == doc_type for d in docs):
            raise InputError(f"{where}: two {doc_type} documents; give one of each type")
        docs.append(doc)
    return docs


# -- planning --------------------------------------------------------------------------------


def plan(
    request: UpdateRequest,
    current_profile: int,
    *,
    record: Mapping[str, Any] | None = None,
    message_code: int = 1280,
    client_txn_id: str | None = None,
    now: datetime | None = None,
    dialect: Dialect = TABLE,
) -> Plan:
    """The payload to send in `dialect`, after the rules that need the customer as they
    are now: the current KYC profile (any a card can be on: 1 and 200 rank as `kyc` says
    for the downgrade note), and `record` (`customer_now.customer_record`), where each
    field already as asked is left out (`customer_now.left_out`). Nothing left to
    change: InputError, nothing sent."""
    changes = dict(request.changes)
    already: list[str] = []
    new: int | None = None
    if "newcardProfileId" in changes:
        new = int(changes["newcardProfileId"])
        if new == current_profile:
            del changes["newcardProfileId"]
            new = None
            already.append(
                f"the KYC profile is already {current_profile} ({kyc.name(current_profile)})"
            )
    upgrade = new == kyc.FULL_KYC
    already += left_out(changes, record, request.sources, keep=FULL_KYC_FIELDS if upgrade else ())
    if not changes:
        raise NothingToChange(f"nothing to change: {'; '.join(already)}")
    notes = [f"{what}: it is left out" for what in already]
    if upgrade:
        full_kyc_rules(changes, request.sources)
    elif new is not None and kyc.is_downgrade(current_profile, new):
        notes.append(
            f"this lowers the KYC profile from {current_profile} to {new}: make sure "
            "your compliance policy allows it"
        )
    if "mobile" in changes:
        notes.append("this changes the registered mobile number (a compliance-sensitive change)")
    vectors = list(dict.fromkeys(f.vector for f in FIELDS if f.vector and f.name in changes))
    payload = update_payload(
        request.identifiers,
        changes,
        card_profile_id=current_profile,
        update_vectors=vectors,
        message_code=message_code,
        client_txn_id=client_txn_id,
        now=now,
        dialect=dialect,
    )
    return Plan(payload, current_profile, new, tuple(notes), dialect, changes)


# What an upgrade to `kyc.FULL_KYC` carries: sent even when the record holds them already.
FULL_KYC_FIELDS: Final = frozenset({"cardholderAddress", "kycDateStamp", "cKycDocNo", "docConsent"})


def full_kyc_rules(changes: Mapping[str, Any], sources: Mapping[str, str]) -> None:
    """What an upgrade to `kyc.FULL_KYC` must carry, per the document's field table: every
    requirement missing, in one message (a run per missing requirement taught them one
    at a time)."""
    option = sources.get("newcardProfileId", "--new-card-profile-id")
    missing: list[str] = []
    if "cardholderAddress" not in changes:
        missing.append("the address (--address, sent as cardholderAddress)")
    docs: list[dict[str, str]] = changes.get("docList", [])
    if not docs and "cKycDocNo" not in changes:
        missing.append("at least one identity document (--doc TYPE:NUMBER) or --ckyc-number")
    if "kycDateStamp" not in changes:
        missing.append("--kyc-date-stamp (when the KYC was done, YYYYMMDDHHMMSS)")
    missing += [
        f"the {doc['docType']}'s expiry date (--doc {doc['docType']}:NUMBER:COUNTRY:YYYYMMDD)"
        for doc in docs
        if doc["docType"] in validate.EXPIRING_DOCS and "docExpiry" not in doc
    ]
    if any(doc["docType"] == "Aadhar" for doc in docs) and changes.get("docConsent") is not True:
        missing.append("the customer's consent, as it carries an Aadhaar (--doc-consent)")
    if missing:
        raise InputError(
            f"{option} {kyc.FULL_KYC}: an upgrade to {kyc.name(kyc.FULL_KYC)} needs "
            + "; ".join(missing)
        )
