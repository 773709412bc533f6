"""The KYC profiles: every fact about them, in one table. Pure data.

The two API documents name the same profiles differently: Retrieve Cust Record says
1 "Min KYC", 150 "Full KYC", 200 "IKYC"; Update Profile says 30 "Simple CDD",
150 "Full CDD", 300 "No CDD" (spec/public-notes.md). Each profile has ONE display
name built from both, used wherever wibmo shows a profile (lookup, update preview,
messages, help), and `describe` is the one way a profile id is shown beside it.

Only 30, 150 and 300 can be set by Update Profile (``newcardProfileId``: `UPDATABLE`), but
a card may be on any of the five, and ``cardProfileId`` is "the present KYC profile": what
the lookup shows (`CARD_PROFILES`). `rank` orders all five for the downgrade note:
No CDD < Min KYC = Simple CDD < IKYC < Full KYC / Full CDD. Min KYC and Simple CDD are one
level (kycName MIN_KYC is answered for Simple CDD too). Neither document ranks
IKYC; it is put above the minimum and below full KYC, so that leaving it for 30 or 300 is
noted as a downgrade (a note too many costs a glance; one too few, a compliance slip) and
200 -> 150 is an upgrade with the full-KYC rules. 1 -> 30 is no downgrade. `kyc_names`
are the symbolic ``kycName`` values the platform sends for a profile (the sandbox answers
the first).
"""

from __future__ import annotations

from typing import Any, Final, NamedTuple


class Profile(NamedTuple):  # a NamedTuple: built at `wibmo --help`, ten times cheaper
    id: int
    name: str  # the display name, from both documents
    kyc_names: tuple[str, ...]  # kycName values answered for it; the sandbox answers the first
    rank: int  # the KYC level, for the downgrade note
    settable: bool = False  # Update Profile can set it (newcardProfileId)


PROFILES: Final[dict[int, Profile]] = {
    p.id: p
    for p in (
        Profile(1, "Min KYC", ("MIN_KYC",), rank=1),
        Profile(30, "Simple CDD", ("MIN_KYC", "SIMPLE_CDD"), rank=1, settable=True),
        Profile(150, "Full KYC / Full CDD", ("FULL_KYC", "FULL_CDD"), rank=3, settable=True),
        Profile(200, "IKYC", ("IKYC",), rank=2),
        Profile(300, "No CDD", ("NO_KYC", "NO_CDD"), rank=0, settable=True),
    )
}
FULL_KYC: Final = 150
# What Update Profile can set (newcardProfileId), in id order.
UPDATABLE: Final = tuple(p.id for p in PROFILES.values() if p.settable)
# What a card can be on, so what cardProfileId (the present profile) may carry, in id order.
CARD_PROFILES: Final = tuple(PROFILES)


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


def listed(among: tuple[int, ...] = UPDATABLE) -> str:
    """``30 (Simple CDD), 150 (Full KYC / Full CDD), 300 (No CDD)``: what Update Profile
    sets (or the profiles `among`), for messages and help."""
    return ", ".join(f"{i} ({PROFILES[i].name})" for i in among)


def ids(among: tuple[int, ...] = UPDATABLE) -> str:
    """``30, 150 or 300``: the ids Update Profile sets (or `among`), for hints."""
    return ", ".join(map(str, among[:-1])) + f" or {among[-1]}"


def is_downgrade(current: int, new: int) -> bool:
    """Whether Update Profile from `current` (any card's profile) to `new` (one it can
    set) lowers the KYC level; ValueError for an id that is not a KYC profile."""
    if new not in UPDATABLE:
        raise ValueError(f"KYC profile {new} cannot be set by Update Profile")
    if current not in PROFILES:
        raise ValueError(f"{current} is not a KYC profile")
    return PROFILES[new].rank < PROFILES[current].rank


def sandbox_kyc_name(profile_id: int) -> str:
    """The kycName the sandbox answers for a card with this profile."""
    known = PROFILES.get(profile_id)
    return known.kyc_names[0] if known else str(profile_id)
