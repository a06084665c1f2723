"""A keyed bijection of ``range(domain)``: how a subject's index hides inside its identifier.

Identifiers must look random (consecutive subjects do not get consecutive codes) yet decode back to
the index in O(1), so a registry of a million subjects answers ``GET /v1/subjects/{id}`` without a
table. A small Feistel network permutes the smallest even-bit power of two covering the domain, and
cycle-walking (re-applying it while the value falls outside the domain) makes it a permutation of
exactly ``range(domain)``; the walk is short because the power of two is less than four times the
domain.
"""

from __future__ import annotations

import hashlib

_MASK64 = (1 << 64) - 1
_ROUNDS = 4


class Scrambler:
    """A permutation of ``range(domain)`` keyed by a label (which code) and the dataset seed."""

    __slots__ = ("_half_bits", "_half_mask", "_keys", "domain")

    def __init__(self, domain: int, key: str) -> None:
        if domain < 2:
            raise ValueError("a scrambler needs a domain of at least 2 values")
        self.domain = domain
        bits = (domain - 1).bit_length()
        self._half_bits = (bits + 1) // 2
        self._half_mask = (1 << self._half_bits) - 1
        digest = hashlib.blake2b(key.encode(), digest_size=8 * _ROUNDS).digest()
        self._keys = tuple(int.from_bytes(digest[8 * i : 8 * i + 8], "big") for i in range(_ROUNDS))

    def forward(self, value: int) -> int:
        """The scrambled image of `value` (in ``range(domain)``)."""
        self._check(value)
        value = self._permute(value)
        while value >= self.domain:
            value = self._permute(value)
        return value

    def inverse(self, value: int) -> int:
        """The value whose image is `value`: ``inverse(forward(x)) == x``."""
        self._check(value)
        value = self._unpermute(value)
        while value >= self.domain:
            value = self._unpermute(value)
        return value

    def _check(self, value: int) -> None:
        if not 0 <= value < self.domain:
            raise ValueError(f"{value} is outside the scrambler's domain of {self.domain}")

    def _round(self, half: int, key: int) -> int:
        mixed = ((half ^ key) * 0x9E3779B97F4A7C15) & _MASK64
        mixed ^= mixed >> 29
        mixed = (mixed * 0xBF58476D1CE4E5B9) & _MASK64
        mixed ^= mixed >> 32
        return mixed & self._half_mask

    def _permute(self, value: int) -> int:
        left, right = value >> self._half_bits, value & self._half_mask
        for key in self._keys:
            left, right = right, left ^ self._round(right, key)
        return (left << self._half_bits) | right

    def _unpermute(self, value: int) -> int:
        left, right = value >> self._half_bits, value & self._half_mask
        for key in reversed(self._keys):
            left, right = right ^ self._round(left, key), left
        return (left << self._half_bits) | right
