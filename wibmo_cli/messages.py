"""Plaintext request payloads, before encryption: pure functions over plain data.

`clientTxnId` is 14 characters, `W` + 13 base-36 characters (milliseconds since the
epoch, then random): Update Profile's field table caps it at 14, the samples run
longer, and this fits both. `requestDateTime` is local time, YYYYMMDDHHMMSS.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final, NamedTuple

from wibmo_cli import validate
from wibmo_cli.errors import InputError
from wibmo_cli.fields import TABLE, Dialect
from wibmo_cli.masking import mask_identifier

_ALPHABET: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _base36(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, rem = divmod(number, 36)
        digits.append(_ALPHABET[rem])
    return "".join(reversed(digits))


class _TxnIds:
    """`W` + 8 time + 5 base-36 characters: random for a millisecond's first id, then one
    more for each further id in that millisecond, so a process never makes the same id
    twice (random alone collided about once in 25 runs of 10,000 ids) and ids still sort
    by time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._millis = -1
        self._tail = 0

    def __call__(self) -> str:
        with self._lock:
            millis = max(time.time_ns() // 1_000_000, self._millis)
            if millis == self._millis and self._tail + 1 < _TAIL:
                self._tail += 1
            else:
                if millis == self._millis:  # a millisecond's 60 million ids used up
                    millis += 1
                self._millis, self._tail = millis, _random_below(_TAIL // 2)
            return "W" + _base36(millis, 8) + _base36(self._tail, 5)


def _random_below(bound: int) -> int:
    """A uniform random int in [0, bound) from the OS's generator (what
    `secrets.randbelow` does, without importing hashlib and hmac at start-up)."""
    bits = bound.bit_length()
    while True:
        value = int.from_bytes(os.urandom((bits + 7) // 8)) >> (-bits % 8)
        if value < bound:
            return value


_TAIL: Final = 36**5
new_client_txn_id = _TxnIds()
"""A fresh transaction id, unique within this process, unlikely to repeat across processes."""


def request_datetime(now: datetime | None = None) -> str:
    """`now` (default: this moment, local time) as the platform's YYYYMMDDHHMMSS."""
    return (now or datetime.now()).strftime("%Y%m%d%H%M%S")


_OPTION_NAMES: Final = ("--mobile", "--urn", "--customer-id", "--email")
# Each identifier's request field, as the platform names it.
_WIRE_NAMES: Final = {
    "mobile": "customerMobile",
    "urn": "urn",
    "customer_id": "customerId",
    "email": "emailId",
}
_FIELD_NAMES: Final = ("mobile", "urn", "customer id", "email")


class Identifiers(NamedTuple):
    """Who to look up: any of mobile (with prefix), URN, customer id, email."""

    mobile: str | None = None
    urn: str | None = None
    customer_id: str | None = None
    email: str | None = None

    @classmethod
    def parse(
        cls,
        *,
        mobile: str | None = None,
        urn: str | None = None,
        customer_id: str | None = None,
        email: str | None = None,
        mobile_prefix: str = "91",
        as_options: bool = True,
    ) -> Identifiers:
        """Validate and normalise what the user typed; at least one is required.

        Errors name the command-line option (`--mobile`), or with `as_options=False`
        the field (`mobile`), for identifiers read from a file.
        """
        names = _OPTION_NAMES if as_options else _FIELD_NAMES
        found = cls(
            mobile=validate.mobile(mobile, prefix=mobile_prefix, field=names[0])
            if mobile is not None
            else None,
            urn=validate.urn(urn, field=names[1]) if urn is not None else None,
            customer_id=validate.customer_id(customer_id, field=names[2])
            if customer_id is not None
            else None,
            email=validate.email(email, field=names[3]) if email is not None else None,
        )
        if not found.any():
            raise InputError(f"say who: give {', '.join(names[:3])} or {names[3]}")
        return found

    def any(self) -> bool:
        return any((self.mobile, self.urn, self.customer_id, self.email))

    def given(self) -> dict[str, str]:
        """The identifiers given, by kind ({"urn": "389"}): how a plan and a journal keep
        who an update is for (`of_given` reads it back)."""
        return {kind: value for kind in _WIRE_NAMES if (value := getattr(self, kind))}

    @classmethod
    def of_given(cls, given: Mapping[str, Any]) -> Identifiers | None:
        """`given` (a plan's or a journal's) read back as it is, not validated: the kinds
        it knows, as text; None when it names nobody."""
        known = {kind: str(given[kind]) for kind in _WIRE_NAMES if given.get(kind) is not None}
        return cls(**known) if known else None

    def fields(self) -> dict[str, str]:
        """The request fields these identifiers fill, as the platform names them."""
        return {wire: value for kind, wire in _WIRE_NAMES.items() if (value := getattr(self, kind))}

    @classmethod
    def in_payload(cls, payload: Mapping[str, Any]) -> Identifiers:
        """The identifiers a payload built by hand carries (`wibmo call`), as they are:
        not validated, a number read as its text; containers ignored."""
        found = {
            kind: str(value)
            for kind, wire in _WIRE_NAMES.items()
            if isinstance(value := payload.get(wire), str | int) and not isinstance(value, bool)
        }
        return cls(**found)

    def describe(self, *, masked: bool = True) -> str:
        """For messages and logs: the identifiers, partly hidden unless `masked=False`.

        Masked by `masking.mask_identifier`: mobile, URN and customer id keep their
        last four characters, email its first letter and domain.
        """

        def shown(kind: str, value: str) -> str:
            return mask_identifier(kind, value) if masked else value

        parts = []
        if self.mobile:
            parts.append(f"mobile {shown('mobile', self.mobile)}")
        if self.urn:
            parts.append(f"urn {shown('urn', self.urn)}")
        if self.customer_id:
            parts.append(f"customer id {shown('customer_id', self.customer_id)}")
        if self.email:
            parts.append(f"email {shown('email', self.email)}")
        return ", ".join(parts)


def lookup_payload(
    identifiers: Identifiers,
    *,
    message_code: int = 1930,
    client_txn_id: str | None = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The Retrieve Cust Record request (1930), as in the document's sample."""
    return {
        "messageCode": message_code,
        "clientTxnId": client_txn_id or new_client_txn_id(),
        "requestDateTime": request_datetime(now),
        **identifiers.fields(),
    }


def update_payload(
    identifiers: Identifiers,
    changes: Mapping[str, Any],
    *,
    card_profile_id: int,
    update_vectors: Sequence[str] = (),
    message_code: int = 1280,
    client_txn_id: str | None = None,
    now: datetime | None = None,
    dialect: Dialect = TABLE,
) -> dict[str, Any]:
    """The Update Profile request (1280), in the document's field order, in `dialect`.

    ``changes`` are already-validated fields under the table's names (`fields.FIELDS`),
    documents as a ``docList``; `dialect` (`fields.Dialect.of` a profile) says the names,
    the date format and the documents' form they go out in, and the ``productId`` (sent
    only when the profile sets one). ``updateDate`` is always filled,
    ``profileIdChangeDate`` when a new KYC profile is among the changes, ``updateVectors``
    (comma-separated, as in the sample) when any apply. Numbers travel as strings, as in
    the document's samples. No key is sent empty or null: each is asked for, or filled.
    """
    stamp = request_datetime(now)
    payload: dict[str, Any] = {"messageCode": str(message_code)}
    if dialect.product_id:
        payload["productId"] = dialect.product_id
    payload.update(
        {
            "clientTxnId": client_txn_id or new_client_txn_id(),
            "requestDateTime": stamp,
            **identifiers.fields(),
            "cardProfileId": str(card_profile_id),
            **dialect.wire_fields(changes),
        }
    )
    if "newcardProfileId" in changes:
        payload["profileIdChangeDate"] = stamp
    if update_vectors:
        payload["updateVectors"] = ",".join(update_vectors)
    payload["updateDate"] = stamp
    return payload
