"""What a run knows about its read sets: the status at the start, the last status seen,
where the discovery listing showed each one, and their base counts."""

from __future__ import annotations

from typing import Iterable, Optional

from .lookup import StatusLookup

__all__ = ["ReadSets"]


class ReadSets:
    """The run's read sets (IDs from the inputs) and their statuses.

    - ``statuses``: ID -> last status seen; ``initial``: ID -> status at the start.
    - ``page_of``: ID -> 0-based page of the discovery's unfiltered listing.
    - ``base_counts``: ID -> bases (``totalBaseCount``) as the discovery saw them.
    - ``store_arn``: the store's ARN from any read set seen, or None.
    - ``others_non_active``: the store's other read sets not ACTIVE, per status, when the
      discovery saw the whole store (else None).
    - ``active_count``: how many have ACTIVE as last status (kept as a counter: O(1) per line).
    """

    def __init__(self, ids: Iterable[str]):
        self.ids = tuple(ids)
        self.statuses: dict[str, str] = {}
        self.initial: dict[str, str] = {}
        self.page_of: dict[str, int] = {}
        self.base_counts: dict[str, int] = {}
        self.store_arn: Optional[str] = None
        self.others_non_active: Optional[dict[str, int]] = None
        self.active_count = 0
        self.volume = (0, 0, 0)  # ARCHIVED at the start: (read sets, bases, without a count)
        self._candidates: Optional[set[str]] = None

    def discovered(self, found: StatusLookup) -> None:
        """Record the discovery's lookup (the statuses at the start)."""
        self.statuses = found.statuses
        self.page_of = found.page_of
        self.base_counts = found.base_counts
        self.store_arn = found.store_arn
        self.others_non_active = found.others_non_active
        self.active_count = sum(1 for status in self.statuses.values() if status == "ACTIVE")
        self.initial = dict(self.statuses)
        self.volume = found.volume("ARCHIVED")

    def set_status(self, rid: str, status: str) -> None:
        """Record ``rid``'s status as last seen."""
        old = self.statuses.get(rid)
        self.statuses[rid] = status
        self.active_count += (status == "ACTIVE") - (old == "ACTIVE")

    def candidates(self) -> set[str]:
        """Read sets not ACTIVE at the start (computed once: ``initial`` does not change
        after discovery): those a job may activate for this run."""
        if self._candidates is None:
            self._candidates = {rid for rid, status in self.initial.items() if status != "ACTIVE"}
        return self._candidates
