"""Pure scheduling decisions: pacing, the concurrency window, poll timing, progress cadence.

Every class here takes the current time as an argument (seconds on whatever clock the
caller uses) and returns decisions; none sleeps or does IO, so unit tests drive them with
plain numbers. The IO loop that uses them is :mod:`omics_dynamic.activation`.
"""

from __future__ import annotations

import heapq
import math
import random as _random
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Hashable, Iterable, Mapping, NamedTuple, Optional, Sequence

from .limits import (
    BACKOFF_BASE_S,
    BACKOFF_CAP_S,
    HEARTBEAT_S,
    POLL_AGE_FRACTION,
    POLL_EARLY_FRACTION,
    POLL_LATE_GROWTH_PER_S,
    POLL_MAX_INTERVAL_S,
    POLL_MIN_INTERVAL_S,
    PROGRESS_MIN_INTERVAL_S,
    UNLISTED_POLL_S,
    UNLISTED_SOURCES_WAIT_CAP_S,
    UNLISTED_SOURCES_WAIT_FRACTION,
)

__all__ = [
    "TokenBucket",
    "ConcurrencyWindow",
    "TransientBackoff",
    "StartAttempts",
    "unlisted_sources_wait_s",
    "PollSchedule",
    "poll_basis_s",
    "unlisted_read_due_s",
    "next_wake_s",
    "ProgressThrottle",
    "TimeLeft",
    "TimeLeftEstimator",
    "ListingCursor",
    "order_by_listing",
    "format_duration",
    "round_up_duration",
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
    """How many activation jobs may be in flight, and whether a start may be tried now.

    Additive increase, multiplicative decrease: starts at ``max_limit`` (the input
    ``max_concurrent_jobs``). When HealthOmics answers ServiceQuotaExceededException the
    window drops to what was actually in flight (at least 1): that is the quota this run
    can use now (multiplicative when other users hold part of it). After each ``limit``
    completed jobs without a quota error it grows by one (one probe per "round", as TCP
    congestion avoidance does), up to ``max_limit``.

    Quota blocking (the answer means "wait for a slot", design.md section 3): after a
    quota answer no start is tried until one of our in-flight jobs ends, or, when none of
    ours is in flight (someone else holds the quota), until ``retry_after_s`` have passed.
    Pure: every method takes the caller's ``now_s`` (seconds on its clock).
    """

    def __init__(self, max_limit: int, retry_after_s: float = POLL_MAX_INTERVAL_S):
        if max_limit < 1:
            raise ValueError(f"max_limit must be at least 1, got {max_limit}")
        self.max_limit = int(max_limit)
        self.limit = int(max_limit)
        self.retry_after_s = float(retry_after_s)
        self.quota_errors = 0
        self._completions_since_change = 0
        #: Blocked until one of our in-flight jobs ends.
        self._until_a_job_ends = False
        #: Blocked until this time (no job of ours in flight when the quota answer came).
        self._until_s: Optional[float] = None

    def can_start(self, in_flight: int, now_s: float) -> bool:
        """True when another job may be started now with ``in_flight`` jobs running."""
        if self._until_a_job_ends:
            return False
        if self._until_s is not None:
            if now_s < self._until_s:
                return False
            self._until_s = None
        return in_flight < self.limit

    def retry_at_s(self) -> Optional[float]:
        """When a start may be tried again while blocked by time; None otherwise."""
        return None if self._until_a_job_ends else self._until_s

    def blocked(self) -> bool:
        """True while a quota answer blocks starts (until a job ends, or a time)."""
        return self._until_a_job_ends or self._until_s is not None

    def on_quota_exceeded(self, in_flight: int, now_s: float) -> None:
        """The service refused a start for the concurrent-job quota."""
        self.quota_errors += 1
        self.limit = max(1, min(self.limit - 1, in_flight))
        self._completions_since_change = 0
        if in_flight:
            self._until_a_job_ends = True
        else:
            self._until_s = now_s + self.retry_after_s

    def on_job_finished(self) -> None:
        """A job of ours left the in-flight set (any terminal status): a slot is free."""
        self._until_a_job_ends = False
        if self.limit >= self.max_limit:
            return
        self._completions_since_change += 1
        if self._completions_since_change >= self.limit:
            self.limit += 1
            self._completions_since_change = 0


class TransientBackoff:
    """Delays between tries of a call whose answers are transient (throttling, 5xx, 408,
    connection errors), on top of botocore's own retries.

    Exponential with "equal jitter": the n-th delay in a row is between half and all of
    ``min(cap_s, base_s * 2**(n-1))``; ``random`` gives the jitter fraction (inject a
    constant in tests). :meth:`reset` after an answer that was not transient.
    """

    def __init__(self, base_s: float = BACKOFF_BASE_S, cap_s: float = BACKOFF_CAP_S,
                 random: Callable[[], float] = _random.random):
        self.base_s = base_s
        self.cap_s = cap_s
        self.random = random
        self.in_a_row = 0

    def next_delay_s(self) -> float:
        """Record one more transient answer; return how long to wait before the next try."""
        self.in_a_row += 1
        ceiling_s = min(self.cap_s, self.base_s * 2 ** min(self.in_a_row - 1, 30))
        return ceiling_s * (0.5 + 0.5 * self.random())

    def reset(self) -> None:
        self.in_a_row = 0


class StartAttempts:
    """Resubmission bookkeeping: the attempt number in each chunk's clientToken, and the
    rounds of each read set whose job reported success while it stayed ARCHIVED.

    A chunk (a set of read set IDs) starts at attempt 1; each answer that shows the token
    was used before (an already ended job, ConflictException, a ValidationException about
    the token) burns that attempt (:meth:`burn`), and the next start uses the next number.
    At most ``max_attempts`` answers are burned per chunk in one run: then the chunk fails,
    naming every answer (:meth:`answers`). Attempt numbers are per run: a rerun tries the
    same tokens again from 1 (the service answers each used one the same way, one call
    each), so a chunk that failed in k earlier runs needs k + 1 starts.

    :meth:`requeue` counts the rounds of one read set (at most ``max_rounds``).
    """

    def __init__(self, max_attempts: int = 10, max_rounds: int = 3):
        self.max_attempts = max_attempts
        self.max_rounds = max_rounds
        self._next: dict[frozenset, int] = {}
        self._answers: dict[frozenset, list[str]] = {}
        self._rounds: Counter = Counter()

    def attempt(self, chunk: Iterable[str]) -> int:
        """The attempt number the next start of ``chunk`` uses (1, 2, ...)."""
        return self._next.get(frozenset(chunk), 1)

    def started(self, chunk: Iterable[str]) -> None:
        """A start of ``chunk`` was answered with a running job: a later start of the same
        set of read sets in this run (a requeue) uses the next attempt."""
        key = frozenset(chunk)
        self._next[key] = self._next.get(key, 1) + 1

    def burn(self, chunk: Iterable[str], answer: str) -> bool:
        """Record an answer showing the attempt's token was used; True while another
        attempt is allowed."""
        key = frozenset(chunk)
        self._answers.setdefault(key, []).append(answer)
        self._next[key] = self._next.get(key, 1) + 1
        return len(self._answers[key]) < self.max_attempts

    def answers(self, chunk: Iterable[str]) -> list[str]:
        """Every burned answer of ``chunk`` in this run, in order."""
        return list(self._answers.get(frozenset(chunk), []))

    def requeue(self, read_set_id: str) -> bool:
        """Another round for a read set still ARCHIVED after its job ended; False after
        ``max_rounds``."""
        self._rounds[read_set_id] += 1
        return self._rounds[read_set_id] < self.max_rounds


def unlisted_sources_wait_s(timeout_s: float, cap_s: float = UNLISTED_SOURCES_WAIT_CAP_S,
                            fraction: float = UNLISTED_SOURCES_WAIT_FRACTION) -> float:
    """How long to wait, before starting any job, for in-flight jobs of the store whose
    sources are not listed yet (SUBMITTED, ``sources: []``) to show them: ``cap_s``
    (2 minutes) or ``fraction`` of the run's budget, whichever is shorter."""
    return max(0.0, min(cap_s, timeout_s * fraction))


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

    min_interval_s: float = POLL_MIN_INTERVAL_S
    max_interval_s: float = POLL_MAX_INTERVAL_S
    age_fraction: float = POLL_AGE_FRACTION
    early_fraction: float = POLL_EARLY_FRACTION
    late_growth_per_s: float = POLL_LATE_GROWTH_PER_S

    def __post_init__(self) -> None:
        self.shortest_duration_s: Optional[float] = None
        self.longest_duration_s: Optional[float] = None
        self._poll_soon = False

    def observe_duration(self, duration_s: float) -> None:
        """Record how long a finished job took from its start (submission) to its end."""
        if duration_s < 0:
            return
        if self.shortest_duration_s is None or duration_s < self.shortest_duration_s:
            self.shortest_duration_s = duration_s
        if self.longest_duration_s is None or duration_s > self.longest_duration_s:
            self.longest_duration_s = duration_s

    def reset_backoff(self) -> None:
        """Something changed (a job started or ended): the next poll comes after the
        minimum interval, once."""
        self._poll_soon = True

    def _clamp(self, interval_s: float) -> float:
        return max(self.min_interval_s, min(self.max_interval_s, interval_s))

    def next_poll_at(self, now_s: float, job_start_times_s: list[float]) -> Optional[float]:
        """The time of the next poll, or None when no job is in flight."""
        if not job_start_times_s:
            return None
        if self._poll_soon:
            self._poll_soon = False
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


def poll_basis_s(job_tracked_s: Iterable[float], run_started_s: float, waiting: bool) -> list[float]:
    """The start times :meth:`PollSchedule.next_poll_at` times the next poll from (seconds
    on the run's clock): when each job in flight was tracked; with no job in flight but
    read sets ``waiting`` (to confirm, or queued to start), the run's start alone; else none
    (no poll is due). With jobs in flight the run's start never counts: the schedule would
    take it for a long overdue job and back off."""
    starts = list(job_tracked_s)
    if not starts and waiting:
        starts.append(run_started_s)
    return starts


def unlisted_read_due_s(last_read_s: float, first_seen_s: Iterable[float],
                        interval_s: float = UNLISTED_POLL_S) -> float:
    """When jobs in flight whose sources are not listed yet are read again (seconds on the
    run's clock): ``interval_s`` after the later of their last read (``last_read_s``) and
    the latest first sighting among them (``first_seen_s``)."""
    return max([last_read_s, *first_seen_s]) + interval_s


def next_wake_s(now_s: float, *, deadline_s: float, poll_at_s: Optional[float], idle_s: float,
                quota_retry_at_s: Optional[float] = None, held_until_s: Optional[float] = None,
                unlisted_read_at_s: Optional[float] = None, progress_due_s: Optional[float] = None) -> float:
    """When an activation run wakes next, all times in seconds on its clock: the earliest of

    - ``poll_at_s``, the next poll (:meth:`PollSchedule.next_poll_at` of
      :func:`poll_basis_s`), or ``now_s + idle_s`` when none is due;
    - ``quota_retry_at_s``: when a start refused for the concurrency quota may be tried again
      (:meth:`ConcurrencyWindow.retry_at_s`, given only while chunks are queued), as it is;
    - ``held_until_s`` (a held chunk may go again), ``unlisted_read_at_s`` (jobs with
      unlisted sources are due to be read, :func:`unlisted_read_due_s`) and
      ``progress_due_s`` (a progress line falls due, :meth:`ProgressThrottle.next_due_s`),
      each no earlier than ``now_s``;

    and never later than ``deadline_s``. None for any of them: no such time. A result at or
    before ``now_s`` means: do not sleep.
    """
    wake_s = poll_at_s if poll_at_s is not None else now_s + idle_s
    if quota_retry_at_s is not None:
        wake_s = min(wake_s, quota_retry_at_s)
    for other_s in (held_until_s, unlisted_read_at_s, progress_due_s):
        if other_s is not None:
            wake_s = min(wake_s, max(other_s, now_s))
    return min(wake_s, deadline_s)


_UNSEEN = object()


class ProgressThrottle:
    """Decides when to print a progress line: at the start, on each change, at least every
    ``heartbeat_s`` and never more often than every ``min_interval_s`` (seconds on the
    caller's clock).

    A change is a ``key`` different from the last one of its kind: the counts a line is
    formatted from (without the elapsed time), never the line's text, so rewording a line
    changes no behaviour. A tuple's first item is its kind (``("wait", ...)``,
    ``("confirm", ...)``), so a loop that alternates two kinds of line with the same counts
    is no news, and is printed at the heartbeat.
    """

    def __init__(self, min_interval_s: float = PROGRESS_MIN_INTERVAL_S, heartbeat_s: float = HEARTBEAT_S):
        self.min_interval_s = min_interval_s
        self.heartbeat_s = heartbeat_s
        self._last_at: Optional[float] = None
        self._last_keys: dict[Hashable, Hashable] = {}
        self._pending_change = False

    def should_emit(self, now_s: float, key: Hashable, force: bool = False) -> bool:
        """True when the line for ``key`` (the counts now) should be printed at ``now_s``.

        ``force`` prints regardless of cadence (start and final lines)."""
        kind = key[0] if isinstance(key, tuple) and key else key
        changed = self._last_keys.get(kind, _UNSEEN) != key
        self._last_keys[kind] = key
        if force or self._last_at is None:
            emit = True
        elif now_s - self._last_at < self.min_interval_s:
            emit = False
            self._pending_change = self._pending_change or changed
        else:
            emit = changed or self._pending_change or now_s - self._last_at >= self.heartbeat_s
        if emit:
            self._last_at = now_s
            self._pending_change = False
        return emit

    def next_due_s(self) -> Optional[float]:
        """When a line becomes due even without news (heartbeat or held-back change)."""
        if self._last_at is None:
            return None
        if self._pending_change:
            return self._last_at + self.min_interval_s
        return self._last_at + self.heartbeat_s


class TimeLeft(NamedTuple):
    """An estimate of the time left: ``seconds`` (None when unknown) and ``text``, the phrase
    a progress line shows ("about 3m10s left (...)", "due to end about now (...)" once every
    job is as old as expected, or "time left unknown (...)"; "" when nothing is left to
    wait for), at most about 90 characters."""

    seconds: Optional[float]
    text: str


class TimeLeftEstimator:
    """Estimates how long the jobs in flight and the queued chunks still take, from the
    durations of the jobs that ended in this run.

    Observations: :meth:`job_ended` for every job that ended, with its duration (seconds
    from when the run started it to when the run saw it end) for the jobs this run started,
    None for the others (adopted or found: their start is not known). Estimate
    (:meth:`estimate`): each job in flight ends at the mean observed duration after it
    started (at the longest, once older than the mean); each queued chunk starts when one
    of ``slots`` frees and takes the mean duration; the time left is when the last one
    ends. Unknown before a job
    of this run has ended, and while a job in flight has run longer than the longest that
    ended (a slow or stuck job: nothing observed says when it ends).

    Pure: the caller passes the clock's ``now_s``; all values are seconds on that clock.
    """

    def __init__(self) -> None:
        self.ended = 0
        self.durations_s: list[float] = []

    def job_ended(self, duration_s: Optional[float]) -> None:
        """A job ended; ``duration_s``: how long it ran (None when its start is unknown; a
        negative duration is ignored too)."""
        self.ended += 1
        if duration_s is not None and duration_s >= 0:
            self.durations_s.append(float(duration_s))

    def estimate(self, now_s: float, running_since_s: Sequence[float], queued: int, slots: int) -> TimeLeft:
        """The time left at ``now_s`` for jobs in flight since ``running_since_s`` (clock
        seconds, one per job) and ``queued`` chunks not started, at most ``slots`` jobs at a
        time (at least 1 is assumed)."""
        if not running_since_s and queued <= 0:
            return TimeLeft(0.0, "")
        if not self.durations_s:
            why = "no job has ended yet" if self.ended == 0 else "no job this run started has ended yet"
            return TimeLeft(None, f"time left unknown ({why})")
        longest_s = max(self.durations_s)
        late = sum(1 for since_s in running_since_s if now_s - since_s > longest_s)
        if late:
            return TimeLeft(None, (f"time left unknown ({late} job{'' if late == 1 else 's'} running longer "
                                   f"than the longest that ended, {format_duration(longest_s)})"))
        mean_s = sum(self.durations_s) / len(self.durations_s)
        ends = [since_s + (mean_s if now_s - since_s <= mean_s else longest_s) for since_s in running_since_s]
        heapq.heapify(ends)
        last_s = max(ends, default=now_s)
        free_at_s = now_s
        for _ in range(max(0, queued)):
            while len(ends) >= max(1, slots):
                free_at_s = max(free_at_s, heapq.heappop(ends))
            heapq.heappush(ends, free_at_s + mean_s)
            last_s = max(last_s, free_at_s + mean_s)
        left_s = last_s - now_s
        count = len(self.durations_s)
        basis = f"(from {count} ended job{'' if count == 1 else 's'}, {format_duration(mean_s)} on average)"
        if left_s < 1:
            return TimeLeft(0.0, f"due to end about now {basis}")
        return TimeLeft(left_s, f"about {format_duration(round_up_duration(left_s))} left {basis}")


def round_up_duration(seconds: float) -> float:
    """``seconds`` rounded up to a precision an estimate has: 10 s under 10 minutes, a
    minute under 2 hours, 5 minutes beyond (``61`` -> ``70``; ``601`` -> ``660``)."""
    step_s = 10.0 if seconds < 600 else 60.0 if seconds < 7200 else 300.0
    return math.ceil(max(0.0, seconds) / step_s) * step_s


def order_by_listing(ids: Iterable[str], page_of: Mapping[str, int]) -> list[str]:
    """IDs in the order the store's listing showed them (page, then ID); IDs the listing
    did not show (found one by one) come first, so their jobs end first. Cut into jobs
    with :func:`omics_dynamic.planning.chunk`, which keeps this order."""
    return sorted(set(ids), key=lambda rid: (page_of.get(rid, -1), rid))


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

    It is used only where it is the cheaper way: when the read sets it would confirm (busy
    and ready at the start) are at least as many as the pages up to the last of them (one
    GetReadSetMetadata each would cost that many calls). A few read sets spread over a large
    store are not covered from the start.

    Read sets with no page, or whose page the cursor has passed, are not covered
    (:meth:`covers`): the caller confirms them another way (a status lookup,
    :func:`omics_dynamic.activation.look_up_statuses`).
    """

    def __init__(self, page_of: Mapping[str, int], busy: Iterable[str] = (), ready: Iterable[str] = ()):
        self.page_of = dict(page_of)
        self.next_page = 0
        busy, ready = list(busy), list(ready)
        pages = [self.page_of[rid] for rid in set(busy) | set(ready) if rid in self.page_of]
        self.exhausted = not pages or max(pages) + 1 > len(pages)
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
    """``192.4`` -> ``"3m12s"``; ``3725`` -> ``"1h02m05s"``; ``4.7`` -> ``"4s"``; under a
    second, tenths, floored as the whole seconds are: ``0.97`` -> ``"0.9s"`` (``"0s"`` below
    0.1 s)."""
    if 0.1 <= seconds < 1:
        return f"{math.floor(seconds * 10) / 10:.1f}s"
    total = max(0, int(math.floor(seconds)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{secs:02d}s"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"
