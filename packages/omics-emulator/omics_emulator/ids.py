"""The 10-digit IDs the emulator gives stores, read sets and jobs."""

from __future__ import annotations

import random
from typing import List, Set, Tuple

__all__ = ["IdAllocator"]


class IdAllocator:
    """Random 10-digit IDs (as strings), never given twice.

    An ID is never one already used (given here or claimed by a seed) nor inside a range
    reserved for synthetic read sets.

    :param random_seed: seed of the ID sources (``random_seed`` for single IDs,
        ``random_seed + 3`` for ranges, as the backend's other sources take ``+1``, ``+2``).
    """

    def __init__(self, random_seed: int) -> None:
        self._rng = random.Random(random_seed)
        self._range_rng = random.Random(random_seed + 3)
        self._used: Set[str] = set()
        self._ranges: List[Tuple[int, int]] = []  # [lo, hi) reserved by synthetic stores

    def new(self) -> str:
        """A fresh ID, now used."""
        while True:
            number = self._rng.randrange(10**9, 10**10)
            candidate = str(number)
            if candidate not in self._used and not any(lo <= number < hi for lo, hi in self._ranges):
                self._used.add(candidate)
                return candidate

    def claim(self, id_: str) -> None:
        """Mark ``id_`` (given by a seed, or by :meth:`new`) as used."""
        self._used.add(id_)

    def reserve_range(self, n: int) -> int:
        """Reserve ``n`` consecutive free 10-digit IDs; returns the first (an int).

        :raises ValueError: when 1,000 random tries found no free range.
        """
        for _ in range(1000):
            base = self._range_rng.randrange(10**9, 10**10 - n)
            end = base + n
            if any(lo < end and base < hi for lo, hi in self._ranges):
                continue
            if any(base <= int(i) < end for i in self._used):
                continue
            self._ranges.append((base, end))
            return base
        raise ValueError(f"no free range of {n} read set IDs left; generate fewer read sets")
