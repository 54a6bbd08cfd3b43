"""Random sources. Every randomised function takes one explicitly: :class:`SystemRandom` in
production, :class:`DeterministicRandom` for known-answer vectors and tests."""

from __future__ import annotations

import hashlib
import os

from plebiscite._records import TYPE_CHECKING

__all__ = ["DeterministicRandom", "RandomSource", "SystemRandom"]

if TYPE_CHECKING:
    from typing import Protocol

    class RandomSource(Protocol):
        def below(self, n: int) -> int:
            """A uniform integer in ``[0, n)``."""
            ...

else:

    class RandomSource:
        """What a random source provides: ``below(n)``, a uniform integer in ``[0, n)``.
        (A typing Protocol for the type checker; typing is not imported at run time.)"""


class SystemRandom:
    """The operating system's CSPRNG (``os.urandom``), with rejection sampling: uniform."""

    def below(self, n: int) -> int:
        n = int(n)
        if n <= 0:
            raise ValueError("the upper bound must be positive")
        k = n.bit_length()
        nbytes, mask = (k + 7) // 8, (1 << k) - 1
        while True:
            x = int.from_bytes(os.urandom(nbytes), "big") & mask
            if x < n:
                return x


class DeterministicRandom:
    """SHA256 in counter mode over a seed, with rejection sampling: reproducible, uniform.
    Never for real elections."""

    def __init__(self, seed: bytes | str) -> None:
        self.seed = seed.encode() if isinstance(seed, str) else seed
        self.counter = 0

    def _block(self) -> bytes:
        self.counter += 1
        return hashlib.sha256(self.seed + self.counter.to_bytes(8, "big")).digest()

    def below(self, n: int) -> int:
        n = int(n)
        nbytes = (n.bit_length() + 7) // 8 + 8
        while True:
            buf = b""
            while len(buf) < nbytes:
                buf += self._block()
            x = int.from_bytes(buf[:nbytes], "big")
            limit = (1 << (8 * nbytes)) - (1 << (8 * nbytes)) % n
            if x < limit:
                return x % n
