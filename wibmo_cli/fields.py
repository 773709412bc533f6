"""The fields Update Profile can change: one row each, and everything wibmo knows of it. Pure.

A row drives every place a field appears:

- validation and the patch (`changes.parse_request`): the validator and its options, the
  spellings a --from-file patch may use, the ``updateVectors`` word;
- the command: `update-profile`'s option, its help, and whether it is a true/false flag
  (commands/update_profile.py builds the options from this table);
- the preview (views/preview.py): the label, where a lookup answer shows the value now,
  and how it is shown;
- the lookup view (views/customer.CUSTOMER_FIELDS takes label and keys from here);
- the sandbox (sandbox/update_rules.py): the customer column that keeps it, the same validator,
  and the spellings each dialect may send;
- the wire (`Dialect`): the name the profile's spelling set sends it under.

The two spelling sets ("dialects") of Update Profile: the field table's (``emailId``,
``cardholderCity``, ... ; the default) and the samples' and QA suite's (``email``, ``city``,
``zipCode``...: each row's `sample` column). A profile chooses one
(`update_fields`), with the date format of ``dateOfBirth``, documents as a ``docList`` or
flat (``docType``, ``docNumber``... at the top level), and a ``productId``: `Dialect.of`.

Adding a field: add its row here (and, when the sandbox should keep it, a column in
sandbox/model.Customer and sandbox/store.py's schema).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Final, Literal, NamedTuple, Protocol

from wibmo_cli import kyc
from wibmo_cli.errors import InputError

# How the preview shows a value: as it is, masked (a document number), as a readable date,
# as the 10-digit mobile, as a KYC profile.
Shown = Literal["text", "masked", "date", "mobile", "kyc"]


class Field(NamedTuple):
    """One updatable field. (A NamedTuple: the table is built at `wibmo --help`, and a
    dataclass costs ten times as much to define.)"""

    name: str  # the platform's name, as sent (the update document's field table)
    option: str  # the update-profile option; a flag also gets its --no- form
    label: str  # in the preview and the lookup view
    help: str  # the option's help
    validator: str  # its validator's name in validate.py (`check`)
    options: Mapping[str, Any] = MappingProxyType({})  # the validator's keyword options
    vector: str = ""  # its updateVectors word, if the document has one
    shown_as: tuple[str, ...] = ()  # where a lookup answer shows the current value
    sample: str = ""  # its name in the samples' spelling set, where that differs from `name`
    # more names the documents give it (the platform takes them); letter case never counts
    spellings: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()  # more names a --from-file patch may use (wibmo's own)
    column: str = ""  # the sandbox's customer column that keeps it, if any
    shown: Shown = "text"

    @property
    def check(self) -> Callable[..., Any]:
        """The validator: ``check(value, field=..., **options)``. Named, not referenced, in
        the table: building update-profile's options (and `wibmo --help`) then costs no
        import of validate.py."""
        from wibmo_cli import validate

        check: Callable[..., Any] = getattr(validate, self.validator)
        return check

    @property
    def flag(self) -> bool:
        """A true/false field: `--x/--no-x` on the command line."""
        return self.validator == "flag"

    @property
    def platform_names(self) -> tuple[str, ...]:
        """Every name the platform takes for it: the table's, the samples', the others."""
        return (self.name, *([self.sample] if self.sample else []), *self.spellings)

    @property
    def file_names(self) -> tuple[str, ...]:
        """The names a --from-file patch may use (any letter case), each once."""
        first: dict[str, str] = {}
        for name in (*self.platform_names, *self.aliases):
            first.setdefault(name.lower(), name)
        return tuple(first.values())

    @property
    def parameter(self) -> str:
        """The command function's parameter name: ``--zip-code`` -> ``zip_code``."""
        return self.option.removeprefix("--").replace("-", "_")

    def normalise(self, value: Any, where: str, *, mobile_prefix: str = "91") -> Any:
        """The validated value as the platform wants it, or `InputError` naming `where`.

        A mobile number gets `mobile_prefix` (the sandbox, which keeps the bare 10
        digits, passes "").
        """
        options = dict(self.options)
        if self.validator == "mobile":
            options["prefix"] = mobile_prefix
        return self.check(value, field=where, **options)


_UPGRADE: Final = f"required to upgrade to {kyc.FULL_KYC}, {kyc.name(kyc.FULL_KYC)}"

# fmt: off
FIELDS: Final[tuple[Field, ...]] = (
    Field("firstName", "--first-name", "First name", "New first name.", "name",
          shown_as=("firstName",), column="first_name"),
    Field("lastName", "--last-name", "Last name", "New last name.", "name",
          shown_as=("lastName",), column="last_name"),
    Field("emailId", "--email", "Email", "New email address.", "email",
          vector="emailId", shown_as=("email", "emailId"), sample="email", column="email"),
    Field("alternateEmailId", "--alternate-email", "Alternate email",
          "New alternate email address.", "email",
          vector="alternateEmailId", shown_as=("alternateEmail", "alternateEmailId"),
          spellings=("alternateEmail",), column="alternate_email"),
    Field("mobile", "--new-mobile", "Mobile",
          "New mobile number (sent as `mobile`, with the profile's prefix).", "mobile",
          vector="mobile", shown_as=("mobile", "customerMobile"), aliases=("newMobile",),
          column="mobile", shown="mobile"),
    Field("dateOfBirth", "--dob", "Date of birth",
          "Date of birth: YYYYMMDD (also YYYY-MM-DD, DD-MM-YYYY), in the past.",
          "date_yyyymmdd", {"past": True},
          shown_as=("dob", "dateOfBirth"), spellings=("dob",), column="dob", shown="date"),
    Field("gender", "--gender", "Gender", "Male, Female or Transgender (M / F / T).",
          "gender", shown_as=("gender",), column="gender"),
    Field("cardholderAddress", "--address", "Address",
          f"Postal address (cardholderAddress; {_UPGRADE}).", "text", {"max_len": 200},
          vector="address", shown_as=("address", "cardholderAddress"), sample="address",
          column="address"),
    Field("addressline1", "--address-line1", "Address line 1", "Address line 1.",
          "text", vector="address", shown_as=("addressLine1", "addressline1"),
          column="address1"),
    Field("addressline2", "--address-line2", "Address line 2", "Address line 2.",
          "text", vector="address", shown_as=("addressLine2", "addressline2"),
          column="address2"),
    Field("addressline3", "--address-line3", "Address line 3", "Address line 3.",
          "text", vector="address", shown_as=("addressLine3", "addressline3"),
          column="address3"),
    Field("cardholderCity", "--city", "City", "City.", "text", {"max_len": 50},
          vector="city", shown_as=("city", "cardholderCity"), sample="city", column="city"),
    Field("cardholderState", "--state", "State", "State.", "text", {"max_len": 50},
          vector="state", shown_as=("state", "cardholderState"), sample="state",
          column="state"),
    Field("cardholderCountry", "--country", "Country", "Country.", "text",
          {"max_len": 50}, vector="country", shown_as=("country", "cardholderCountry"),
          sample="country", column="country"),
    Field("cardholderZipCode", "--zip-code", "PIN code", "6-digit PIN code.",
          "zip_code", vector="zipcode", shown_as=("zipCode", "cardholderZipCode"),
          sample="zipCode", aliases=("pinCode",), column="zip_code"),
    Field("newcardProfileId", "--new-card-profile-id", "KYC profile",
          f"New KYC profile: {kyc.listed()}.", "kyc_profile_id",
          shown="kyc"),  # the sample writes newcardProfileId too (the QA suite: any case)
    Field("kycDateStamp", "--kyc-date-stamp", "KYC date",
          f"When the KYC was done: YYYYMMDDHHMMSS (required to upgrade to {kyc.FULL_KYC}).",
          "datetime14", shown_as=("kycDateStamp",)),
    Field("cKycDocNo", "--ckyc-number", "CKYC number", "The customer's 14-digit CKYC number.",
          "ckyc_number", shown_as=("cKycDocNo",), aliases=("ckycNo", "ckycNumber"),
          shown="masked"),
    Field("docConsent", "--doc-consent", "Document consent",
          f"The customer consented (required with an Aadhaar in an upgrade to "
          f"{kyc.FULL_KYC}).", "flag", shown_as=("docConsent",)),
    Field("sorCustomerId", "--sor-customer-id", "SOR customer id",
          "The customer's id in the issuer's system of record.", "customer_id",
          shown_as=("sorCustomerId",)),
    Field("sorDisable", "--sor-disable", "SOR disabled",
          "Disable (or --no-sor-disable: enable) SOR integration.", "flag",
          shown_as=("sorDisable",)),
)
# fmt: on
BY_NAME: Final = {f.name: f for f in FIELDS}

# What wibmo fills around the fields (messages.update_payload), the same in both spelling
# sets (letter case never counts: the table's ``ProfileIdchangedate`` is this one); never
# taken from a --from-file patch.
FILLED: Final = (
    "messageCode",
    "productId",
    "clientTxnId",
    "requestDateTime",
    "profileIdChangeDate",
    "updateVectors",
    "updateDate",
)
IDENTIFIERS: Final = ("customerMobile", "urn", "customerId")  # who (messages.Identifiers)
CARD_PROFILE: Final = "cardProfileId"  # the card's present KYC profile
DOC_LIST: Final = "docList"  # documents as a list of objects with DOC_KEYS
DOC_KEYS: Final = ("docType", "docNumber", "docCountry", "docExpiry")  # or flat, one document


class Settings(Protocol):
    """What `Dialect.of` reads: a profile (profiles.Profile), or any mapping-like getter."""

    def get(self, key: str) -> Any: ...


class Dialect(NamedTuple):
    """How one environment spells an Update Profile request: its profile's `update_fields`,
    `update_date_format`, `update_documents` and `product_id`, made once (`of`) and handed
    to `changes.plan` and `messages.update_payload`. The default is the field table's
    spelling, as wibmo has always sent it."""

    spelling: str = "table"  # "table" | "sample": which name each row goes out under
    date_format: str = "YYYYMMDD"  # dateOfBirth's: "YYYYMMDD" | "DD-MM-YYYY"
    documents: str = "list"  # "list" (a docList array) | "flat" (one document, top level)
    product_id: str = ""  # sent as productId when set

    @classmethod
    def of(cls, profile: Settings) -> Dialect:
        keys = ("update_fields", "update_date_format", "update_documents", "product_id")
        spelling, date_format, documents, product_id = (str(profile.get(k)) for k in keys)
        return cls(spelling, date_format, documents, product_id)

    def describe(self) -> str:
        """How this dialect differs from the field table's, for the preview ("" for none)."""
        parts = []
        if self.spelling != TABLE.spelling:
            parts.append("the samples' field names (email, city, zipCode, ...)")
        if self.date_format != TABLE.date_format:
            parts.append(f"dateOfBirth as {self.date_format}")
        if self.documents != TABLE.documents:
            parts.append(f"documents {self.documents}")
        if self.product_id:
            parts.append(f"productId {self.product_id}")
        return ", ".join(parts)

    def name(self, f: Field) -> str:
        """The name `f` is sent under."""
        return (f.sample or f.name) if self.spelling == "sample" else f.name

    def date(self, yyyymmdd: str) -> str:
        """A validated YYYYMMDD date in this dialect's format."""
        if self.date_format == "DD-MM-YYYY":
            return f"{yyyymmdd[6:8]}-{yyyymmdd[4:6]}-{yyyymmdd[:4]}"
        return yyyymmdd

    def wire_fields(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        """`changes` (validated, under the table's names, documents as a docList) as this
        dialect sends them, in the table's order; `InputError` for more than one document
        where documents go flat (the top level holds one)."""
        out: dict[str, Any] = {}
        for f in FIELDS:
            if f.name in changes:
                value = changes[f.name]
                out[self.name(f)] = self.date(value) if f.validator == "date_yyyymmdd" else value
        docs: list[Mapping[str, Any]] = changes.get(DOC_LIST) or []
        if docs and self.documents == "flat":
            if len(docs) > 1:
                raise InputError(
                    f'this profile sends documents flat (update_documents = "flat"), one per '
                    f"update: give one document, not {len(docs)}"
                )
            out.update(docs[0])
        elif docs:
            out[DOC_LIST] = [dict(doc) for doc in docs]
        return out

    def sent(self, payload: Mapping[str, Any], f: Field) -> Any:
        """What `payload` (built in this dialect) sends for `f`; None when it is not sent."""
        return payload.get(self.name(f))

    def documents_in(self, payload: Mapping[str, Any]) -> list[Mapping[str, Any]]:
        """The documents `payload` (built in this dialect) sends."""
        if self.documents == "flat":
            doc = {key: payload[key] for key in DOC_KEYS if key in payload}
            return [doc] if doc else []
        docs: list[Mapping[str, Any]] = payload.get(DOC_LIST, [])
        return docs


TABLE: Final = Dialect()  # the field table's spelling: wibmo's default


def spelling_set(spelling: str | None = None, documents: str | None = None) -> frozenset[str]:
    """The keys (lower case) an Update Profile request may carry in `spelling` ("table" |
    "sample"; None: either, and the documents' other names) with documents `documents`
    ("list" | "flat"; None: either). The sandbox answers 1045 for any other key."""
    names = {*FILLED, *IDENTIFIERS, CARD_PROFILE}
    for f in FIELDS:
        names.update(f.platform_names if spelling is None else (Dialect(spelling).name(f),))
    if documents in (None, "list"):
        names.add(DOC_LIST)
    if documents in (None, "flat"):
        names.update(DOC_KEYS)
    return frozenset(name.lower() for name in names)
