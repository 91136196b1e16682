"""What emulated time brings: the queue of timed events and automatic archiving.

Pure bookkeeping: nothing here reads a clock or takes a lock. :meth:`.backend.Backend.tick`
reads its injected clock, holds its lock, and asks these to apply what is due up to that
now (events first, then archiving).
"""

from __future__ import annotations

import heapq
import itertools
import math
from typing import TYPE_CHECKING, Any, Callable, Iterable, List, Tuple

if TYPE_CHECKING:
    from .profiles import Behaviour
    from .records import ReadSet, SequenceStore

__all__ = ["ARCHIVE_AFTER_S", "ArchiveSchedule", "EventQueue"]

#: Emulated seconds after its last access an ACTIVE read set becomes ARCHIVED (30 days).
ARCHIVE_AFTER_S = 30 * 86400.0


class EventQueue:
    """State changes due at an emulated time (job starts, source completions, ...).

    An event is ``fn(at_s, *args)``; it is called with the time it was due at (epoch
    seconds), not the time it is applied at. Events are applied in time order, events
    due at the same time in the order they were pushed.
    """

    def __init__(self) -> None:
        self._heap: List[Tuple[float, int, Callable[..., None], tuple]] = []
        self._seq = itertools.count()

    def push(self, at_s: float, fn: Callable[..., None], *args: Any) -> None:
        """Schedule ``fn(at_s, *args)`` for emulated time ``at_s`` (epoch seconds)."""
        heapq.heappush(self._heap, (at_s, next(self._seq), fn, args))

    def run_due(self, now_s: float) -> None:
        """Apply every event due at or before ``now_s``, including those the applied
        events push for a time not after ``now_s``."""
        heap = self._heap
        while heap and heap[0][0] <= now_s:
            at_s, _, fn, args = heapq.heappop(heap)
            fn(at_s, *args)


class ArchiveSchedule:
    """Automatic archiving: an ACTIVE read set whose last access is ``after_s`` emulated
    seconds old becomes ARCHIVED.

    Keeps the earliest time a read set may be due, so that :meth:`run_due` scans the
    stores only when one may be.

    :param after_s: emulated seconds from the last access to archiving (30 days).
    """

    def __init__(self, after_s: float = ARCHIVE_AFTER_S) -> None:
        self.after_s = after_s
        self.next_due_s = math.inf

    def touch(self, rs: ReadSet, at_s: float) -> None:
        """Record an access (GetReadSetMetadata, an activation) to ``rs`` at ``at_s``."""
        rs.last_access_s = max(rs.last_access_s, at_s)
        self.note_access(rs.last_access_s)

    def note_access(self, last_access_s: float) -> None:
        """Some ACTIVE read set was last accessed at ``last_access_s`` (epoch seconds)."""
        due = last_access_s + self.after_s
        if due < self.next_due_s:
            self.next_due_s = due

    def run_due(self, stores: Iterable[SequenceStore], behaviour: Behaviour, now_s: float) -> None:
        """Archive every ACTIVE read set of ``stores`` due at ``now_s`` (through the stores'
        status indexes for ``behaviour``), if any may be due."""
        if now_s < self.next_due_s:
            return
        next_due = math.inf
        for store in stores:
            index = store.index("readsets", behaviour)
            for rs in [store.read_sets[k[-1]] for k in index.keys(status="ACTIVE")]:
                due = rs.last_access_s + self.after_s
                if due <= now_s:
                    store.set_status(rs, "ARCHIVED")
                elif due < next_due:
                    next_due = due
        self.next_due_s = next_due
