"""What a sandbox is configured with, the fault knobs, and the record of each request."""

from __future__ import annotations

import copy
import math
import random
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Final

from wibmo_cli.crypto import IvScheme
from wibmo_cli.sandbox.seed import checked_count
from wibmo_cli.sandbox.variants import LOOKUP_PATHS as LOOKUP_PATHS  # kept importable here
from wibmo_cli.sandbox.variants import SEED, Variant
from wibmo_cli.sandbox.variants import UPDATE_PATHS as UPDATE_PATHS

SHAPES: Final = ("cardList", "flat", "mixed")
QUEUE_ENTRIES: Final = frozenset(
    {"503", "502", "429", "500", "401", "hang", "garbage", "drop", "drop_after", "hang_after", "ok"}
)
# Faults that strike after the platform acted: the request is applied (the store
# changed, its clientTxnId remembered) and then left unanswered.
AFTER_THE_PLATFORM: Final = frozenset({"drop_after", "hang_after"})


@dataclass
class Faults:
    """Knobs for tests and load, read on every API request (mutable while running).

    Rates are shares of API requests, drawn in this order from one random number:
    drop, hang, fail (answered ``fail_status``), garbage, drop_after, hang_after (the
    last two added after the others, so a seed replays the faults it always did).
    ``queue`` holds one-shot
    faults for the next API requests, in order, taken before any rate is drawn; "ok"
    lets one request through. The numbers come from ``draws``, started from ``seed``
    (None: from the system's entropy); `set_from_json` with a ``seed`` and `reset`
    start it again, so a seed given twice replays the same faults.

    Most faults strike before the platform's logic: nothing is changed and the
    clientTxnId is not remembered, so a retry with the same clientTxnId is not a
    duplicate. ``drop_after`` and ``hang_after`` (`AFTER_THE_PLATFORM`) strike after
    it: the request is applied and answered as usual, and that answer is never sent
    (the connection closed at once, or after ``hang_seconds``): the client cannot tell
    whether it was applied, and a retry with the same clientTxnId is a duplicate
    (1054). ``latency_ms`` delays every API answer, faulted or not. A hang closes the
    connection unanswered after ``hang_seconds``; control endpoints and unknown paths
    are never faulted.
    """

    latency_ms: float = 0.0
    fail_rate: float = 0.0
    fail_status: int = 503
    hang_rate: float = 0.0
    hang_seconds: float = 60.0
    garbage_rate: float = 0.0
    drop_rate: float = 0.0
    drop_after_rate: float = 0.0
    hang_after_rate: float = 0.0
    seed: int | None = None
    queue: list[str] = field(default_factory=list)
    draws: random.Random = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.restart_draws()

    def restart_draws(self) -> None:
        """Start the sequence of fault draws again from ``seed``."""
        self.draws = random.Random(self.seed)

    def take(self) -> str | None:
        """The fault for the next API request: queued first, else drawn; None for none."""
        if self.queue:
            fault = self.queue.pop(0)
            return None if fault == "ok" else fault
        if not (
            self.drop_rate
            or self.hang_rate
            or self.fail_rate
            or self.garbage_rate
            or self.drop_after_rate
            or self.hang_after_rate
        ):
            return None  # the usual case, on every request: no draw, no tuple built
        draw = self.draws.random()
        for fault, rate in (
            ("drop", self.drop_rate),
            ("hang", self.hang_rate),
            (str(self.fail_status), self.fail_rate),
            ("garbage", self.garbage_rate),
            ("drop_after", self.drop_after_rate),
            ("hang_after", self.hang_after_rate),
        ):
            if draw < rate:
                return fault
            draw -= rate
        return None

    def to_json(self) -> dict[str, Any]:
        """The knobs (what `set_from_json` takes), not the draw sequence."""
        return {f.name: copy.copy(getattr(self, f.name)) for f in fields(self) if f.init}

    def set_from_json(self, changes: dict[str, Any]) -> None:
        """Set the fields named in ``changes``; `ValueError` names the first bad one."""
        known = {f.name for f in fields(self) if f.init}  # the knobs, as to_json lists them
        checked: dict[str, Any] = {}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown fault {name!r}; known: {', '.join(sorted(known))}")
            checked[name] = _check_fault(name, value)
        for name, value in checked.items():
            setattr(self, name, value)
        if "seed" in checked:
            self.restart_draws()

    def reset(self) -> None:
        """Back to no faults, in place (holders of this object see the change)."""
        self.set_from_json(Faults().to_json())


def _check_fault(name: str, value: Any) -> Any:
    if name == "queue":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ValueError("queue must be a list of strings")
        bad = [v for v in value if v not in QUEUE_ENTRIES]
        if bad:
            raise ValueError(f"unknown queue entry {bad[0]!r}; known: {sorted(QUEUE_ENTRIES)}")
        return list(value)
    if name == "seed":
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise ValueError("seed must be an integer or null")
        return value
    if name == "fail_status":
        if not isinstance(value, int) or isinstance(value, bool) or not 400 <= value <= 599:
            raise ValueError("fail_status must be an HTTP error status (400-599)")
        return value
    if (
        not isinstance(value, int | float)
        or isinstance(value, bool)
        or not math.isfinite(value)
        or value < 0
    ):
        raise ValueError(f"{name} must be a finite number >= 0")
    if name.endswith("_rate") and value > 1:
        raise ValueError(f"{name} must be between 0 and 1")
    return float(value)


REQUEST_TIMEOUT: Final = 30.0  # seconds from a request's first byte to its last
IDLE_TIMEOUT: Final = 120.0  # seconds a connection may wait with no request under way


@dataclass
class SandboxSettings:
    """Everything a sandbox needs; the credentials are the ones clients must present.

    ``variant`` is the environment served (`variants`: paths, methods, credential
    placement, message codes, envelope, helpers); ``lookup_paths`` / ``update_paths``
    are where a lenient variant (the seed) also answers, a strict one only at its own.
    ``customers``: how many generated customers the database must hold (a new one is
    seeded with them; one seeded with another count is refused at start,
    `store.SeededOtherwise`); None takes the database as it is (a new one gets
    `seed.GENERATED`).
    """

    key: bytes
    iv: IvScheme
    api_key: str
    client_id: str
    bank_id: str
    secure_code: str
    entity_id: str = "100"
    consumer_custom_id: str = ""
    lookup_paths: tuple[str, ...] = LOOKUP_PATHS
    update_paths: tuple[str, ...] = UPDATE_PATHS
    db_path: Path = field(kw_only=True)  # created and seeded when missing, else reused
    customers: int | None = field(default=None, kw_only=True)
    shape: str = "cardList"
    variant: Variant = SEED
    faults: Faults = field(default_factory=Faults)
    workers: int = field(default=1, kw_only=True)  # processes serving (`server.Workers`)
    request_timeout: float = REQUEST_TIMEOUT  # a slow request: 408 and closed
    idle_timeout: float = IDLE_TIMEOUT  # an idle connection: closed

    def __post_init__(self) -> None:
        if self.shape not in SHAPES:
            raise ValueError(f"shape {self.shape!r} is not one of {', '.join(SHAPES)}")
        if self.customers is not None:
            checked_count(self.customers)
        self.db_path = Path(self.db_path)

    def __repr__(self) -> str:  # never show the secrets
        return (
            f"SandboxSettings(client_id={self.client_id!r}, bank_id={self.bank_id!r}, "
            f"iv={self.iv}, db_path={str(self.db_path)!r}, shape={self.shape!r}, "
            f"variant={self.variant.name!r})"
        )


@dataclass(slots=True)
class RequestRecord:
    """One request the sandbox received and what it did with it.

    ``status`` is 0 when no answer was sent (a hang or a drop); ``fault`` names the
    injected fault, if any; ``response_code`` is the platform's responseCode, if the
    platform's logic ran (after a ``drop_after`` or ``hang_after`` too, though nobody
    received it). For lookups and updates, faulted or not, ``client_txn_id`` and
    ``identifiers`` are read from the token when it decrypts to a JSON object:
    ``identifiers`` holds the customer identifiers the API reads (`IDENTIFIERS`) that
    the payload gave, as text the way the platform reads them (stripped), each cut to
    `MAX_RECORDED` characters; so a test can count the updates each customer received.
    """

    method: str
    path: str
    api: str  # "lookup" | "update" | "helper" | "control" | "other"
    status: int = 0
    client_txn_id: str | None = None
    response_code: str | None = None
    fault: str | None = None
    identifiers: dict[str, str] = field(default_factory=dict)
    at: float = field(default_factory=time.time)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# The customer identifiers each API reads, as the documents spell them (the payload's
# keys are matched case-insensitively). Update Profile's email is a field it changes,
# not an identifier.
IDENTIFIERS: Final = {
    "lookup": ("customerMobile", "urn", "customerId", "emailId"),
    "update": ("customerMobile", "urn", "customerId"),
}
MAX_RECORDED: Final = 100  # characters of a clientTxnId or an identifier kept in a record
MAX_RECORDS: Final = 100_000  # a RequestLog's bound, beyond which the oldest tenth goes


class RequestLog(list[RequestRecord]):
    """The records of one sandbox, oldest first, bounded for long load runs: beyond
    ``limit`` the oldest tenth is forgotten, and ``forgotten`` counts them (reported
    by GET /__sandbox/status), so a test that counts requests knows when it cannot."""

    def __init__(self, limit: int = MAX_RECORDS) -> None:
        super().__init__()
        self.limit = limit
        self.forgotten = 0

    def keep(self, record: RequestRecord) -> None:
        self.append(record)
        if len(self) > self.limit:
            cut = max(1, self.limit // 10)
            del self[:cut]
            self.forgotten += cut

    def restart(self) -> None:
        """Forget every record, and that any was forgotten (POST /__sandbox/reset)."""
        self.clear()
        self.forgotten = 0
