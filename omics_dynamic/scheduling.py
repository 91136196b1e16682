"""Pure scheduling decisions: pacing, the concurrency window, poll timing, progress cadence.

Every class here takes the current time as an argument (seconds on whatever clock the
caller uses) and returns decisions; none sleeps or does IO, so unit tests drive them with
plain numbers. The IO loop that uses them is :mod:`omics_dynamic.activation`.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Mapping, Optional

__all__ = [
    "TokenBucket",
    "ConcurrencyWindow",
    "PollSchedule",
    "ProgressThrottle",
    "keep_listing",
    "ListingCursor",
    "order_by_listing",
    "chunk_in_order",
    "format_duration",
]


class TokenBucket:
    """A token bucket: ``rate_per_s`` tokens a second, at most ``burst`` saved up.

    Used to pace our own calls per operation family within the service's request rates
    (design.md section 3: about 5 requests/s each). Thread-safe: one bucket is shared by
    every activation in a provider process. ``rate_per_s <= 0`` means unlimited.
    """

    def __init__(self, rate_per_s: float, burst: Optional[float] = None):
        self.rate_per_s = float(rate_per_s)
        self.burst = float(burst if burst is not None else max(1.0, rate_per_s))
        self._tokens = self.burst
        self._stamp: Optional[float] = None
        self._lock = threading.Lock()

    def reserve(self, now_s: float) -> float:
        """Take one token; return how many seconds the caller must wait before calling.

        The token is taken at once (it may go negative), so concurrent callers queue up
        fairly instead of all waking together.
        """
        if self.rate_per_s <= 0:
            return 0.0
        with self._lock:
            if self._stamp is None:
                self._stamp = now_s
            elapsed = max(0.0, now_s - self._stamp)
            self._tokens = min(self.burst, self._tokens + elapsed * self.rate_per_s)
            self._stamp = now_s
            self._tokens -= 1.0
            if self._tokens >= 0:
                return 0.0
            return -self._tokens / self.rate_per_s


class ConcurrencyWindow:
    """How many activation jobs may be in flight: additive increase, multiplicative decrease.

    Starts at ``max_limit`` (the input ``max_concurrent_jobs``). When HealthOmics answers
    ServiceQuotaExceededException the window drops to what was actually in flight (at
    least 1): that is the quota this run can use now (multiplicative when other users
    hold part of it). After each ``limit`` completed jobs without a quota error it grows
    by one (one probe per "round", as TCP congestion avoidance does), up to ``max_limit``.
    """

    def __init__(self, max_limit: int):
        if max_limit < 1:
            raise ValueError(f"max_limit must be at least 1, got {max_limit}")
        self.max_limit = int(max_limit)
        self.limit = int(max_limit)
        self._completions_since_change = 0
        self.quota_errors = 0

    def can_start(self, in_flight: int) -> bool:
        """True when another job may be started with ``in_flight`` jobs running."""
        return in_flight < self.limit

    def on_quota_exceeded(self, in_flight: int) -> None:
        """The service refused a start for the concurrent-job quota."""
        self.quota_errors += 1
        self.limit = max(1, min(self.limit - 1, in_flight))
        self._completions_since_change = 0

    def on_job_finished(self) -> None:
        """A job of ours left the in-flight set (any terminal status)."""
        if self.limit >= self.max_limit:
            return
        self._completions_since_change += 1
        if self._completions_since_change >= self.limit:
            self.limit += 1
            self._completions_since_change = 0


@dataclass
class PollSchedule:
    """When to ask HealthOmics again how the in-flight jobs are doing.

    Activation has no published duration (design.md section 3), so the schedule learns it.
    Until a job has finished, the interval grows with the age of the oldest running job,
    ``age * age_fraction`` bounded by ``min_interval_s`` and ``max_interval_s``: a job is
    noticed within about ``age_fraction`` of its own duration, short or long. Once a job
    has finished, the shortest observed duration predicts when each running job can end at
    the earliest: before ``early_fraction`` of it polls are sparse (every
    ``max_interval_s``); from then on dense (``min_interval_s``) until the longest observed
    duration has passed, then backing off by ``late_growth_per_s`` per second of lateness
    beyond it, so a stuck job costs little.

    All values are seconds on the caller's clock.
    """

    min_interval_s: float = 0.5
    max_interval_s: float = 15.0
    age_fraction: float = 1 / 30
    early_fraction: float = 0.9
    late_growth_per_s: float = 0.1

    def __post_init__(self) -> None:
        self.shortest_duration_s: Optional[float] = None
        self.longest_duration_s: Optional[float] = None
        self._floor_until_s: float = float("-inf")

    def observe_duration(self, duration_s: float) -> None:
        """Record how long a finished job took from its start (submission) to its end."""
        if duration_s < 0:
            return
        if self.shortest_duration_s is None or duration_s < self.shortest_duration_s:
            self.shortest_duration_s = duration_s
        if self.longest_duration_s is None or duration_s > self.longest_duration_s:
            self.longest_duration_s = duration_s

    def reset_backoff(self, now_s: Optional[float] = None) -> None:
        """Something changed (a job started or ended): poll at the minimum interval once."""
        self._floor_until_s = float("inf") if now_s is None else now_s

    def _clamp(self, interval_s: float) -> float:
        return max(self.min_interval_s, min(self.max_interval_s, interval_s))

    def next_poll_at(self, now_s: float, job_start_times_s: list[float]) -> Optional[float]:
        """The time of the next poll, or None when no job is in flight."""
        if not job_start_times_s:
            return None
        if self._floor_until_s == float("inf"):
            self._floor_until_s = float("-inf")
            return now_s + self.min_interval_s
        oldest_s = min(job_start_times_s)
        if self.shortest_duration_s is None:
            return now_s + self._clamp((now_s - oldest_s) * self.age_fraction)
        earliest_finish_s = oldest_s + self.early_fraction * self.shortest_duration_s
        if now_s < earliest_finish_s:
            return min(earliest_finish_s, now_s + self.max_interval_s)
        # Dense while within the durations seen so far; later than any job seen: back off.
        latest_finish_s = oldest_s + (self.longest_duration_s or self.shortest_duration_s)
        lateness_s = max(0.0, now_s - latest_finish_s)
        return now_s + self._clamp(self.min_interval_s + lateness_s * self.late_growth_per_s)


class ProgressThrottle:
    """Decides when to print a progress line (issue: at the start, on each change, at least
    every ``heartbeat_s`` and never more often than every ``min_interval_s``)."""

    def __init__(self, min_interval_s: float = 5.0, heartbeat_s: float = 30.0):
        self.min_interval_s = min_interval_s
        self.heartbeat_s = heartbeat_s
        self._last_at: Optional[float] = None
        self._last_text: Optional[str] = None
        self._pending_change = False

    def should_emit(self, now_s: float, text: str, force: bool = False) -> bool:
        """True when ``text`` (the summary now) should be printed at ``now_s``.

        ``force`` prints regardless of cadence (start and final lines)."""
        changed = text != self._last_text
        if force or self._last_at is None:
            emit = True
        elif now_s - self._last_at < self.min_interval_s:
            emit = False
            self._pending_change = self._pending_change or changed
        else:
            emit = changed or self._pending_change or now_s - self._last_at >= self.heartbeat_s
        if emit:
            self._last_at = now_s
            self._last_text = text
            self._pending_change = False
        return emit

    def next_due_s(self) -> Optional[float]:
        """When a line becomes due even without news (heartbeat or held-back change)."""
        if self._last_at is None:
            return None
        if self._pending_change:
            return self._last_at + self.min_interval_s
        return self._last_at + self.heartbeat_s


def keep_listing(pages_spent: int, unknown_remaining: int) -> bool:
    """Whether to fetch another ListReadSets page instead of one GetReadSetMetadata per ID.

    A page answers up to 100 read sets but the store's size is unknown until the listing
    ends, so this is the ski-rental rule: keep listing while the pages already spent are
    fewer than the IDs still unknown. Total calls stay within twice the cheaper of the two
    ways, whatever the store's size.
    """
    return unknown_remaining > 0 and pages_spent < unknown_remaining


def order_by_listing(ids: Iterable[str], page_of: Mapping[str, int]) -> list[str]:
    """IDs in the order the store's listing showed them (page, then ID); IDs the listing
    did not show (found one by one) come first, so their jobs end first."""
    return sorted(set(ids), key=lambda rid: (page_of.get(rid, -1), rid))


def chunk_in_order(ids: list[str], size: int = 20) -> list[list[str]]:
    """Consecutive chunks of at most ``size`` IDs, keeping the given order."""
    if not 1 <= size <= 20:
        raise ValueError(f"chunk size must be 1 to 20, got {size}")
    return [ids[i:i + size] for i in range(0, len(ids), size)]


class ListingCursor:
    """Which ListReadSets page to read next when confirming ACTIVE: each page once, in order.

    ``page_of`` maps read sets of ours to the 0-based page the status discovery saw them
    on; jobs are started in that order (:func:`order_by_listing`), so the pages fill with
    finished read sets one after the other and the last page holds the last job's read sets.
    Read sets start *busy* (their job has not ended) or *ready* (to be confirmed). The next
    page is worth reading when none of ours predicted on it is busy and some ready read set
    is predicted on it or on a later page (a listing cannot skip pages). A run that confirms
    this way reads the store's listing about once in all, and after the last job ends
    typically one page.

    Read sets with no page, or whose page the cursor has passed, are not covered
    (:meth:`covers`): the caller confirms them another way (GetReadSetMetadata or a new
    listing, whichever is cheaper).
    """

    def __init__(self, page_of: Mapping[str, int], busy: Iterable[str] = (), ready: Iterable[str] = ()):
        self.page_of = dict(page_of)
        self.next_page = 0
        self.exhausted = not self.page_of
        self._busy_on: Counter = Counter()
        self._ready_on: Counter = Counter()
        self._ready_ahead = 0
        for rid in busy:
            self.mark_busy(rid)
        for rid in ready:
            self.mark_ready(rid)

    def covers(self, rid: str) -> bool:
        """True while a page still to be read is predicted to hold ``rid``."""
        page = self.page_of.get(rid)
        return page is not None and not self.exhausted and page >= self.next_page

    def mark_busy(self, rid: str) -> None:
        """``rid``'s job has not ended (or it was queued again)."""
        if self.covers(rid):
            self._busy_on[self.page_of[rid]] += 1

    def mark_ready(self, rid: str, *, was_busy: bool = False, to_confirm: bool = True) -> None:
        """``rid`` left its job (``was_busy``) and, with ``to_confirm``, awaits confirmation."""
        if not self.covers(rid):
            return
        page = self.page_of[rid]
        if was_busy and self._busy_on[page] > 0:
            self._busy_on[page] -= 1
        if to_confirm:
            self._ready_on[page] += 1
            self._ready_ahead += 1

    def wants_page(self) -> bool:
        """True when reading the next page now confirms something and wastes nothing."""
        return (not self.exhausted and self._ready_ahead > 0
                and self._busy_on.get(self.next_page, 0) <= 0)

    def page_read(self, last: bool) -> None:
        """The next page was read; ``last`` when the listing has no further page."""
        self._ready_ahead -= self._ready_on.pop(self.next_page, 0)
        self._busy_on.pop(self.next_page, None)
        self.next_page += 1
        if last:
            self.exhausted = True

    def reset(self) -> None:
        """Stop covering anything (e.g. the listing's nextToken was refused)."""
        self.exhausted = True


def format_duration(seconds: float) -> str:
    """``192.4`` -> ``"3m12s"``; ``3725`` -> ``"1h02m05s"``; ``4`` -> ``"4s"``."""
    total = max(0, int(math.floor(seconds)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{secs:02d}s"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"
