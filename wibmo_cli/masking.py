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

_Container = dict[Any, Any] | list[Any]


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
    """A copy of `value` with every document number masked.

    Iterative, not recursive: JSON nested deeper than Python's recursion limit allows
    for (json.loads accepts several hundred levels) must not crash the masking.
    """
    if not isinstance(value, dict | list):
        return value
    root: _Container = {} if isinstance(value, dict) else []
    pending: list[tuple[_Container, _Container]] = [(value, root)]
    while pending:
        source, target = pending.pop()
        items = source.items() if isinstance(source, dict) else enumerate(source)
        for key, item in items:
            copy: Any
            if isinstance(item, dict | list):
                copy = {} if isinstance(item, dict) else []
                pending.append((item, copy))
            elif isinstance(target, dict) and isinstance(key, str) and key.lower() in MASKED_KEYS:
                copy = _mask_scalar(item)
            else:
                copy = item
            if isinstance(target, dict):
                target[key] = copy
            else:
                target.append(copy)
    return root


def _mask_scalar(value: Any) -> Any:
    if isinstance(value, str):
        return mask_value(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return mask_value(str(value))
    return value


def may_need_masking(plaintext: bytes) -> bool:
    """Cheap pre-check on raw JSON bytes: False means `mask` would change nothing."""
    if b"\\u" in plaintext:  # an escaped key could hide from the probes: parse to be sure
        return True
    if b"\x00" in plaintext:  # UTF-16/32 JSON (json.loads takes it): probes cannot see keys
        return True
    lowered = plaintext.lower()
    return any(probe in lowered for probe in _PROBES)
