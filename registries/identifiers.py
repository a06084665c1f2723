"""Check characters and layouts of the two subject identifiers (DOMAIN.md, "Identifiers").

The generator builds codes itself (python-stdnum validates but does not build), so the arithmetic
lives here, in one place, and the tests hold every generated code to python-stdnum.
"""

from __future__ import annotations

from datetime import date

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""GB 32100 characters: digits and capitals without I, O, S, V, Z."""

_USCC_VALUES = {char: value for value, char in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_RIC_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def normalise_id(raw: str) -> str:
    """The canonical form of a subject id: no spaces or hyphens, upper case."""
    return raw.replace(" ", "").replace("-", "").strip().upper()


def uscc_check(body: str) -> str:
    """GB 32100 check character of the first 17 characters."""
    total = sum(
        _USCC_VALUES[char] * weight for char, weight in zip(body, _USCC_WEIGHTS, strict=True)
    )
    return USCC_ALPHABET[(31 - total % 31) % 31]


def org_code_check(body: str) -> str:
    """GB 11714 check character of an 8-character organisation code body (A=10 … Z=35)."""
    total = sum(int(char, 36) * weight for char, weight in zip(body, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    if check == 10:
        return "X"
    if check == 11:
        return "0"
    return str(check)


def make_uscc(prefix: str, division_code: str, org_body: str) -> str:
    """A USCC: 2-character authority/category prefix, division, organisation code, check."""
    if len(prefix) != 2 or len(division_code) != 6 or len(org_body) != 8:
        raise ValueError("a USCC is a 2-char prefix, a 6-digit division and an 8-char org body")
    if any(char not in _USCC_VALUES for char in org_body):
        raise ValueError(f"organisation code body {org_body!r} leaves the USCC alphabet")
    body = f"{prefix}{division_code}{org_body}{org_code_check(org_body)}"
    return body + uscc_check(body)


def is_uscc_shaped(code: str) -> bool:
    """18 characters of the USCC alphabet with a correct check character."""
    return (
        len(code) == 18
        and code[:8].isdigit()
        and all(char in _USCC_VALUES for char in code)
        and uscc_check(code[:17]) == code[17]
    )


def ric_check(body: str) -> str:
    """GB 11643 (ISO 7064 MOD 11-2) check character of the first 17 digits."""
    total = sum(int(char) * weight for char, weight in zip(body, _RIC_WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


def make_ric(division_code: str, birth_date: date, sequence: int) -> str:
    """A resident ID number; an odd sequence number is a man's, an even one a woman's."""
    if not 0 <= sequence <= 999:
        raise ValueError("the sequence code has three digits")
    body = f"{division_code}{birth_date:%Y%m%d}{sequence:03d}"
    return body + ric_check(body)


def is_ric_shaped(code: str) -> bool:
    """17 digits and a correct check character (the date and place are checked by the caller)."""
    return len(code) == 18 and code[:17].isdigit() and ric_check(code[:17]) == code[17]


def encode_base31(value: int, width: int) -> str:
    """`value` in `width` USCC-alphabet digits, most significant first."""
    chars = []
    for _ in range(width):
        value, digit = divmod(value, 31)
        chars.append(USCC_ALPHABET[digit])
    if value:
        raise ValueError("value does not fit the width")
    return "".join(reversed(chars))


def decode_base31(text: str) -> int | None:
    """Inverse of `encode_base31`; None if a character is outside the alphabet."""
    value = 0
    for char in text:
        digit = _USCC_VALUES.get(char)
        if digit is None:
            return None
        value = value * 31 + digit
    return value
