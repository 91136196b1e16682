"""Pure cost model of reading read set statuses: which HealthOmics call to make next.

There are three ways to learn the statuses of K requested read sets of a sequence store
whose size nobody knows in advance (costs in API calls; a ListReadSets page holds at most
:data:`PAGE_SIZE` read sets):

- **all**: ListReadSets without a filter, page after page, until it has shown every
  requested read set or ends (a requested read set it never showed does not exist). Its
  cost ``a`` depends on the store's size and order.
- **by status**: ListReadSets filtered by status (the API's ``filter.status``, one status
  per listing), one listing to its end per non-ACTIVE status (:data:`NON_ACTIVE_STATUSES`,
  six of them). A requested read set none of them shows is ACTIVE, or gone. Its cost ``b``
  is at least six calls and grows with what is not ACTIVE in the whole store.
- **get**: GetReadSetMetadata per read set: ``k = K`` calls, known in advance.

Where "gone" matters: diff's live check, the confirmation of ACTIVE and the timeout's last
look may take a read set that no status listing shows as ACTIVE (the read sets existed
when the run started; a deletion passes through DELETING and DELETED, which are listed).
Create's discovery and refresh may not: a requested read set that does not exist must be
reported missing, so after the status listings the read sets they did not show are still
unknown, and only the unfiltered listing or GetReadSetMetadata can settle them
(``unseen_active=False``).

The rule (:class:`LookupRace`)
------------------------------
Every way ``w`` has a lower bound ``LB_w`` on what it costs in all, from the start, had it
been the only way used, computed from what has been seen:

- ``LB_all = calls_all + ceil(n_all / 100)``, ``n_all`` the requested read sets the
  unfiltered listing has not shown yet (not counting read sets known to be missing): a page
  shows at most 100 of them. (A lower bound when those read sets exist; see below.)
- ``LB_status = calls_status + sum over the status listings not yet ended of
  max(1, ceil(k_s / 100))``, ``k_s`` the requested read sets known (from the unfiltered
  listing or a read) to be in status ``s`` that its listing has not shown yet: each needs
  one more call, and has to show those. (In create's mode, once every status listing has
  ended, the requested read sets they did not show, ``n_status``, still need the
  unfiltered listing from its start or a read each: ``calls_status + min(n_status,
  calls_all + ceil(r / 100))`` with ``r`` of them the unfiltered listing has not shown
  yet, or ``ceil(n_status / 100)`` in place of the second term when it has shown all.)
- ``LB_get = K``: the reads cost exactly one call per requested read set. (Not ``calls_get +
  u`` with ``u`` still unknown: that smaller bound would fall as the listings find read
  sets and stop a listing that is about to finish; the reads of a last few read sets come
  from the expected cost, below.)

A way may spend its next call only while its calls so far plus one are at most the least
lower bound of all ways (the guard); among the ways the guard allows, the one with the
least expected remaining cost goes (:meth:`LookupRace.expected_cost`, from the page yields
seen so far and the caller's hints; ties: get, then all, then by status).

The bound, and its proof
------------------------
Let ``OPT = min(a, b, k)``, the cheapest of the three ways chosen in hindsight (``b`` is the
status listings read to their ends; in create's mode, the status listings plus what the
unfiltered listing or the reads then cost for the read sets they left unknown).

1. Each ``LB_w`` is at most the cost of way ``w``: a way's own calls so far are calls it
   would make too, and what it still has to do needs at least the calls counted (the
   unfiltered listing has to show each requested read set it has not shown, at most 100 a
   page; each unfinished status listing needs a call; the reads are K calls).
   So at any time, ``min_w LB_w <= OPT``.
2. A way only calls when its calls so far plus one are at most ``min_w LB_w``; so after any
   of its calls, its calls are at most ``OPT``.
3. Hence the total is at most ``OPT`` times the number of ways used: **at most 3 x OPT
   always, and at most 2 x OPT whenever one of the three is never used**. A way is never
   used when its lower bound starts above ``OPT`` (the unfiltered listing when ``K/100 >
   OPT``, the status listings when ``6 > OPT``): for example an all-ACTIVE cohort of
   100,000 in a store of 100,000 costs the six status listings and nothing else, a store
   of 100 read sets one unfiltered page and nothing else.

Why not "at most 2 x OPT" in every case: no online rule can promise it. Take K read sets,
all ACTIVE, behind X pages of ARCHIVED read sets in the unfiltered listing, with Y pages in
the ARCHIVED listing. Until the rule has read X unfiltered pages or Y ARCHIVED pages, every
page it sees is full of other read sets, so what it does cannot depend on X and Y. Let it
have spent ``x`` and ``y`` on the two listings when it reads the last requested read set
one by one (it must, or its cost is unbounded when X and Y are). Choosing X = x and
Y = y + 1 gives ``a = x + K/100``, ``b <= y + 6`` and ``k = K`` while the rule paid at
least ``x + y + K``: with K = 10,000 the ratio is at least 2.9 for every choice of x and y.
The race's 3 x bound is the best possible up to that.

The bound assumes the requested read sets exist (``LB_all`` counts them) and keep their
statuses while they are looked up (``LB_status`` counts the ones seen). When some do not
exist, the unfiltered listing may end sooner than ``LB_all`` says; create then fails
(``NOT_FOUND``) and the live check counts them as not ACTIVE or, when the status listings
answered, as ACTIVE.

Everything here is pure (numbers in, decisions out); the calls are made by
:func:`omics_dynamic.activation.look_up_statuses`.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

from .limits import PAGE_SIZE, RECENT_PAGES

__all__ = [
    "NON_ACTIVE_STATUSES",
    "PAGE_SIZE",
    "ALL",
    "BY_STATUS",
    "GET",
    "Step",
    "LookupRace",
    "status_round_calls",
    "cursor_pays",
    "format_bases",
    "volume_text",
]

#: Every read set status but ACTIVE, as botocore's model lists them (``ReadSetStatus``;
#: ``tests/test_cost_model.py`` compares with the model), in the order the status listings
#: read them. A read set may change status while the six listings are read; it escapes all
#: of them only by moving into a status whose listing has already passed it. In this order
#: the moves the service makes on its own go forward (PROCESSING_UPLOAD to UPLOAD_FAILED,
#: DELETING to DELETED, and ACTIVATING back to ARCHIVED when an activation fails or is
#: cancelled: ARCHIVED is read last), so a read set no listing shows was ACTIVE at some
#: moment of the lookup, unless somebody started its activation (ARCHIVED to ACTIVATING) or
#: its deletion during it.
NON_ACTIVE_STATUSES = ("ACTIVATING", "PROCESSING_UPLOAD", "DELETING", "DELETED", "UPLOAD_FAILED", "ARCHIVED")


#: The three ways.
ALL = "all"
BY_STATUS = "status"
GET = "get"

_ORDER = (GET, ALL, BY_STATUS)  # tie-break: exact and known first


@dataclass(frozen=True)
class Step:
    """The next call: ``way`` is :data:`ALL` (the next unfiltered page), :data:`BY_STATUS`
    (the next page of the listing of ``status``) or :data:`GET` (one GetReadSetMetadata of
    any read set still unknown)."""

    way: str
    status: Optional[str] = None


class LookupRace:
    """The online choice of :mod:`omics_dynamic.costmodel` for one lookup of ``wanted``
    read sets (see the module docstring for the rule and the proof of its bound).

    Drive it with :meth:`next_step` (None when done) and report each call's outcome with
    :meth:`on_all_page`, :meth:`on_status_page` or :meth:`on_get`; :meth:`abandon` a
    listing that cannot go on (a nextToken repeated or refused).

    :param wanted: how many read sets are requested (K, distinct).
    :param unseen_active: True when a read set that no status listing shows may be taken as
        ACTIVE (live check, confirmation); False when it must be shown to exist (create's
        discovery, refresh).
    :param listings: False to use GetReadSetMetadata only.
    :param by_status: False to leave the status listings out.
    :param statuses: the statuses listed one by one (default :data:`NON_ACTIVE_STATUSES`).
    :param page_items: read sets per page at most (default 100).
    :param all_pages_hint: expected unfiltered pages until every requested read set is shown
        (e.g. from an earlier listing of the store), for the expected cost only.
    :param status_counts_hint: expected read sets per status in the store (status ->
        count), for the expected cost only.
    """

    def __init__(self, wanted: int, *, unseen_active: bool, listings: bool = True, by_status: bool = True,
                 statuses: Sequence[str] = NON_ACTIVE_STATUSES, page_items: int = PAGE_SIZE,
                 all_pages_hint: Optional[int] = None, status_counts_hint: Optional[Mapping[str, int]] = None):
        if wanted < 0 or page_items < 1:
            raise ValueError(f"wanted must be >= 0 and page_items >= 1, got {wanted} and {page_items}")
        self.wanted = int(wanted)
        self.unseen_active = unseen_active
        self.page_items = int(page_items)
        self.unresolved = self.wanted
        #: Requested read sets the unfiltered listing has not shown (and not known missing).
        self.not_shown = self.wanted
        self.shown = 0
        self._recent_yields: deque = deque(maxlen=RECENT_PAGES)
        #: Requested read sets no status listing has shown (and not known missing).
        self.not_shown_by_status = self.wanted
        #: Requested read sets no listing at all has shown (and not known missing).
        self.not_listed = self.wanted
        self.calls = {ALL: 0, BY_STATUS: 0, GET: 0}
        self.all_state = "open" if listings else "dead"  # open | ended | dead
        self.open_statuses = list(statuses) if (listings and by_status) else []
        self.status_state = "open" if self.open_statuses else "dead"  # open | complete | dead
        self._current_status_pages = 0
        #: Steps taken with no way allowed by the guard (0 unless the proof is wrong).
        self.unguarded_steps = 0
        #: status -> requested read sets known to be in it that its listing has not shown.
        self.known_in: dict[str, int] = {}
        self.all_pages_hint = all_pages_hint
        self.status_counts_hint = dict(status_counts_hint or {})

    # -- state ---------------------------------------------------------------------------
    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    @property
    def status_complete(self) -> bool:
        """Every status listing has ended: an unshown read set is ACTIVE or gone."""
        return self.status_state == "complete"

    def done(self) -> bool:
        """True when nothing is left to learn: every read set is known, the unfiltered
        listing ended (the rest are missing), or (``unseen_active``) every status listing
        ended (the rest are ACTIVE)."""
        return (self.unresolved <= 0 or self.all_state == "ended"
                or (self.unseen_active and self.status_state == "complete"))

    def unresolved_outcome(self) -> Optional[str]:
        """What the read sets still unknown at the end are: ``"NOT_FOUND"`` (the unfiltered
        listing ended without them), ``"ACTIVE"`` (no status listing showed them,
        ``unseen_active``), or None (none left)."""
        if self.unresolved <= 0:
            return None
        if self.all_state == "ended":
            return "NOT_FOUND"
        if self.unseen_active and self.status_state == "complete":
            return "ACTIVE"
        return None

    # -- bounds and estimates ------------------------------------------------------------
    def _pages_for(self, n: int) -> int:
        return max(1, math.ceil(n / self.page_items))

    def lower_bound(self, way: str) -> float:
        """``LB_way``: a lower bound on the calls ``way`` costs in all (from the start), or
        ``inf`` when it can no longer be used."""
        if way == ALL:
            if self.all_state != "open":
                return math.inf
            return self.calls[ALL] + self._pages_for(self.not_shown)
        if way == BY_STATUS:
            if self.status_state == "open":
                return self.calls[BY_STATUS] + sum(self._pages_for(self.known_in.get(st, 0))
                                                   for st in self.open_statuses)
            if self.status_state == "complete" and not self.unseen_active:
                # The status listings, then the unfiltered listing from its start or one
                # read each for the read sets they did not show (a bound only: the status
                # listings take no more steps; the other two ways do the rest).
                n = self.not_shown_by_status
                if n <= 0:
                    return self.calls[BY_STATUS]
                rest: float = n
                if self.all_state != "dead":
                    rest = min(rest, self.calls[ALL] + self._pages_for(self.not_listed) if self.not_listed > 0
                               else self._pages_for(n))
                return self.calls[BY_STATUS] + rest
            return math.inf
        if way == GET:
            return self.wanted if self.unresolved > 0 else math.inf
        raise ValueError(f"unknown way {way!r}")

    def _steppable(self, way: str) -> bool:
        if way == ALL:
            return self.all_state == "open"
        if way == BY_STATUS:
            return self.status_state == "open"
        return self.unresolved > 0

    def expected_cost(self, way: str) -> float:
        """Expected calls ``way`` still needs to settle everything on its own (a heuristic:
        it only chooses among the ways the guard allows, so it cannot break the bound).

        get: the read sets still unknown. all: the caller's hint, else the pages the
        requested read sets still need at the yield of the last pages (100 a page before
        any page); with no yield yet, as many pages again as spent (at least what the
        requested read sets fill), so that the reads win once the pages spent reach the
        read sets still unknown, the ski-rental rule. by status: one page per status
        listing not ended (or the hinted count's pages), plus, when unseen read sets must
        still be shown to exist, their pages."""
        if way == GET:
            return float(self.unresolved)
        if way == ALL:
            spent = self.calls[ALL]
            if self.all_pages_hint is not None and spent < self.all_pages_hint:
                return float(max(1, self.all_pages_hint - spent))
            if spent == 0:
                return float(self._pages_for(self.not_shown))
            recent = sum(self._recent_yields) / len(self._recent_yields)
            if recent <= 0:
                return float(max(self._pages_for(self.not_shown), spent))
            return float(math.ceil(self.not_shown / recent))
        pages = 0
        for i, status in enumerate(self.open_statuses):
            expected = self._pages_for(max(self.status_counts_hint.get(status, 0), self.known_in.get(status, 0)))
            if i == 0:
                expected = max(1, expected - self._current_status_pages)
            pages += expected
        if not self.unseen_active:
            pages += min(self._pages_for(self.unresolved), self.unresolved)
        return float(pages)

    def next_step(self) -> Optional[Step]:
        """The next call, or None when done."""
        if self.done():
            return None
        ways = [w for w in _ORDER if self._steppable(w)]
        least = min(self.lower_bound(w) for w in (ALL, BY_STATUS, GET))
        allowed = [w for w in ways if self.calls[w] + 1 <= least]
        if not allowed:  # not expected (see the proof): counted, and the least overshoot
            self.unguarded_steps += 1
            allowed = [min(ways, key=lambda w: (self.lower_bound(w), _ORDER.index(w)))]
        way = min(allowed, key=lambda w: (self.expected_cost(w), _ORDER.index(w)))
        return Step(way, self.open_statuses[0] if way == BY_STATUS else None)

    # -- outcomes ------------------------------------------------------------------------
    def _learn(self, learned: Optional[Mapping[str, int]], sign: int = 1) -> None:
        for status, n in (learned or {}).items():
            if status in self.known_in or sign > 0:
                self.known_in[status] = max(0, self.known_in.get(status, 0) + sign * n)

    def on_all_page(self, newly_shown: int, newly_resolved: int, last: bool,
                    learned: Optional[Mapping[str, int]] = None, first_listed: int = 0) -> None:
        """One unfiltered page: ``newly_shown`` requested read sets it showed for the first
        time, ``newly_resolved`` of which were not known before; ``last``: no nextToken;
        ``learned``: status -> how many of those newly resolved are in it (no status
        listing had shown them); ``first_listed``: requested read sets no listing had
        shown before."""
        self._learn(learned)
        self._recent_yields.append(newly_shown)
        self.not_listed = max(0, self.not_listed - first_listed)
        self.calls[ALL] += 1
        self.shown += newly_shown
        self.not_shown = max(0, self.not_shown - newly_shown)
        self.unresolved = max(0, self.unresolved - newly_resolved)
        if last:
            self.all_state = "ended"

    def on_status_page(self, newly_resolved: int, last: bool,
                       shown_known: Optional[Mapping[str, int]] = None, newly_shown: int = 0,
                       first_listed: int = 0) -> None:
        """One page of the current status listing (``open_statuses[0]``): ``newly_resolved``
        requested read sets it made known, ``newly_shown`` it showed for the first time in
        any status listing, ``shown_known``: status -> how many of those were reported
        ``learned`` before (by the unfiltered listing or a read) in that status."""
        if self.status_state != "open":
            raise ValueError("no status listing is open")
        self._learn(shown_known, sign=-1)
        self.not_shown_by_status = max(0, self.not_shown_by_status - newly_shown)
        self.not_listed = max(0, self.not_listed - first_listed)
        self.calls[BY_STATUS] += 1
        self._current_status_pages += 1
        self.unresolved = max(0, self.unresolved - newly_resolved)
        if last:
            self.open_statuses.pop(0)
            self._current_status_pages = 0
            if not self.open_statuses:
                self.status_state = "complete"

    def on_get(self, missing: bool, status: Optional[str] = None) -> None:
        """One GetReadSetMetadata of an unknown read set; ``missing`` when it does not
        exist (the unfiltered listing will never show it); ``status``: what it answered."""
        if status is not None and not missing:
            self._learn({status: 1})
        self.calls[GET] += 1
        self.unresolved = max(0, self.unresolved - 1)
        if missing:
            self.not_shown = max(0, self.not_shown - 1)
            self.not_shown_by_status = max(0, self.not_shown_by_status - 1)
            self.not_listed = max(0, self.not_listed - 1)

    def abandon(self, way: str) -> None:
        """``way`` cannot go on (its listing repeated or refused a nextToken): the others
        finish the lookup."""
        if way == ALL and self.all_state == "open":
            self.all_state = "dead"
        elif way == BY_STATUS and self.status_state == "open":
            self.status_state = "dead"
            self.open_statuses = []


def status_round_calls(counts: Mapping[str, int], statuses: Sequence[str] = NON_ACTIVE_STATUSES,
                       page_items: int = PAGE_SIZE) -> int:
    """Calls to read every status listing once to its end, given the read sets expected
    per status (``counts``): at least one call per status, ``ceil(count / 100)`` for more."""
    return sum(max(1, math.ceil(counts.get(s, 0) / page_items)) for s in statuses)


def cursor_pays(cursor_pages: int, others_non_active: Optional[Mapping[str, int]]) -> bool:
    """Whether to confirm ACTIVE page by page through the unfiltered listing while jobs end
    (:class:`~omics_dynamic.scheduling.ListingCursor`, ``cursor_pages`` calls: the pages up
    to the last one holding a read set to confirm) rather than once at the end through the
    status listings (the read sets of finished jobs are then ACTIVE unless a listing shows
    them; :func:`status_round_calls` of the other read sets not ACTIVE).

    The cursor unless it costs more than twice the round: it confirms read sets as their
    jobs end (progress lines count them ACTIVE) and its last confirmation after the last
    job is one page, where the round is all its calls (about 1.3 s at 5 requests/s).
    ``others_non_active``: the store's other read sets not ACTIVE, per status, when a
    listing saw the whole store; None when unknown (the cursor, whose cost is known, wins).
    """
    if others_non_active is None:
        return True
    return cursor_pages <= 2 * status_round_calls(others_non_active)


def format_bases(bases: int) -> str:
    """Bases as gigabases with one decimal: ``90_000_000_000`` -> ``"90.0 Gbases"``."""
    return f"{bases / 1e9:,.1f} Gbases"


def volume_text(read_sets: int, bases: int, without_count: int = 0) -> str:
    """``"798 read sets (71,820.0 Gbases)"``, saying how many read sets the listing gave no
    base count for (``sequenceInformation.totalBaseCount`` is optional in the API):
    ``"3 read sets (180.0 Gbases; 1 read set without a base count)"``."""
    noun = "read set" if read_sets == 1 else "read sets"
    text = f"{read_sets:,} {noun} ({format_bases(bases)}"
    if without_count:
        text += f"; {without_count:,} read set{'' if without_count == 1 else 's'} without a base count"
    return text + ")"
