"""Identity-document masking: only the last four characters of a document number show.

Applied to any decoded JSON (lookup answers, decrypted tokens, traces) unless the
user asks for `--reveal`. Card numbers arrive masked from the platform and are left
as they are.
"""

from __future__ import annotations

from typing import Any, Final

# Keys (compared case-insensitively) whose values are identity-document numbers.
MASKED_KEYS: Final = frozenset(
    {
        "docnumber",
        "ckycdocno",
        "ckycno",
        "ckycnumber",
        "pan",
        "pannumber",
        "aadhaar",
        "aadhar",
        "aadhaarnumber",
        "aadharnumber",
        "passportnumber",
        "voteridnumber",
        "epicnumber",
        "drivinglicencenumber",
        "drivinglicensenumber",
        "dlnumber",
    }
)
# Byte patterns that tell, before parsing, whether a plaintext may need masking.
_PROBES: Final = tuple(f'"{key}"'.encode() for key in MASKED_KEYS)


def mask_value(value: str) -> str:
    """`ABCDE1234A` -> `******234A`; spaces inside are kept so the shape stays readable."""
    chars = list(value)
    keep = 4
    for index in range(len(chars) - 1, -1, -1):
        if chars[index].isspace():
            continue
        if keep:
            keep -= 1
            continue
        chars[index] = "*"
    if len(value.replace(" ", "")) <= 4:
        return "*" * len(value)
    return "".join(chars)


def mask(value: Any) -> Any:
    """A copy of `value` with every document number masked."""
    if isinstance(value, dict):
        return {
            key: (
                _mask_scalar(item)
                if isinstance(key, str) and key.lower() in MASKED_KEYS
                else mask(item)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [mask(item) for item in value]
    return value


def _mask_scalar(value: Any) -> Any:
    if isinstance(value, str):
        return mask_value(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return mask_value(str(value))
    return mask(value)


def may_need_masking(plaintext: bytes) -> bool:
    """Cheap pre-check on raw JSON bytes: False means `mask` would change nothing."""
    if b"\\u" in plaintext:  # an escaped key could hide from the probes: parse to be sure
        return True
    lowered = plaintext.lower()
    return any(probe in lowered for probe in _PROBES)
