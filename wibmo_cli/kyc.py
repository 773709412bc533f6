"""The KYC profiles: every fact about them, in one table. Pure data.

The two API documents name the same profiles differently: Retrieve Cust Record says
1 "Min KYC", 150 "Full KYC", 200 "IKYC"; Update Profile says 30 "Simple CDD",
150 "Full CDD", 300 "No CDD" (spec/public-notes.md). Each profile has ONE display
name built from both, used wherever wibmo shows a profile (lookup, update preview,
messages, help), and `describe` is the one way a profile id is shown beside it.

Only 30, 150 and 300 can be set by Update Profile; `rank` orders them for the
upgrade/downgrade rules (No CDD < Simple CDD < Full CDD). `kyc_names` are the symbolic
``kycName`` values the platform sends for a profile (the sandbox answers the first).
"""

from __future__ import annotations

from typing import Any, Final, NamedTuple


class Profile(NamedTuple):  # a NamedTuple: built at `wibmo --help`, ten times cheaper
    id: int
    name: str  # the display name, from both documents
    kyc_names: tuple[str, ...]  # kycName values answered for it; the sandbox answers the first
    rank: int | None = None  # set only for the profiles Update Profile takes


PROFILES: Final[dict[int, Profile]] = {
    p.id: p
    for p in (
        Profile(1, "Min KYC", ("MIN_KYC",)),
        Profile(30, "Simple CDD", ("MIN_KYC", "SIMPLE_CDD"), rank=1),
        Profile(150, "Full KYC / Full CDD", ("FULL_KYC", "FULL_CDD"), rank=2),
        Profile(200, "IKYC", ("IKYC",)),
        Profile(300, "No CDD", ("NO_KYC", "NO_CDD"), rank=0),
    )
}
FULL_KYC: Final = 150
# What Update Profile takes (newcardProfileId, cardProfileId), in id order.
UPDATABLE: Final = tuple(p.id for p in PROFILES.values() if p.rank is not None)


def name(profile_id: int) -> str | None:
    """The display name of a known profile id, else None."""
    known = PROFILES.get(profile_id)
    return known.name if known else None


def describe(profile_id: Any) -> str:
    """A profile as every view shows it: ``Full KYC / Full CDD · 150``; an id wibmo does
    not know, or a value that is not an id, is shown as it came."""
    text = str(profile_id).strip()
    number = int(text) if text.isascii() and text.isdigit() else None
    known = PROFILES.get(number) if number is not None else None
    return f"{known.name} · {number}" if known else text


def listed() -> str:
    """``30 (Simple CDD), 150 (Full KYC / Full CDD), 300 (No CDD)``: what Update Profile
    takes, for messages and help."""
    return ", ".join(f"{i} ({PROFILES[i].name})" for i in UPDATABLE)


def ids() -> str:
    """``30, 150 or 300``: the ids Update Profile takes, for hints."""
    return ", ".join(map(str, UPDATABLE[:-1])) + f" or {UPDATABLE[-1]}"


def is_downgrade(current: int, new: int) -> bool:
    """Whether Update Profile from `current` to `new` lowers the KYC level."""
    return _rank(new) < _rank(current)


def _rank(profile_id: int) -> int:
    rank = PROFILES[profile_id].rank
    if rank is None:
        raise ValueError(f"KYC profile {profile_id} cannot be set by Update Profile")
    return rank


def sandbox_kyc_name(profile_id: int) -> str:
    """The kycName the sandbox answers for a card with this profile."""
    known = PROFILES.get(profile_id)
    return known.kyc_names[0] if known else str(profile_id)
