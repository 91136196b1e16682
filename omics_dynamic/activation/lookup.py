"""Status lookups: learn the statuses of read sets with as few calls as the cost model allows.

Three ways (docs/design.md section 3.1, "Status lookups"): the unfiltered ListReadSets, one
ListReadSets per non-ACTIVE status (``filter.status``) and GetReadSetMetadata per ID. The
pure :class:`~omics_dynamic.costmodel.LookupRace` decides, call by call, which way goes next
(within 3 x, and in the cases it names 2 x, the cheapest way chosen in hindsight);
:class:`_Lookup` here makes those calls through :class:`~omics_dynamic.aws.OmicsApi` and
feeds back what each answer showed.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional

from ..aws import OmicsApi, Page
from ..costmodel import ALL, BY_STATUS, GET, NON_ACTIVE_STATUSES, LookupRace, Step
from ..errors import AwsCallError, BudgetExhaustedError, ListingStuckError
from ..planning import STATUS_CLASS

__all__ = ["StatusLookup", "LookupStopped", "look_up_statuses", "read_statuses"]


class LookupStopped(BudgetExhaustedError):
    """A partial lookup (``look_up_statuses(partial=True)``) stopped before its next call:
    its deadline had passed although every call so far was answered, or it had made its
    ``max_calls``. ``stopped_by`` of the :class:`StatusLookup`; the message says which."""

    def __init__(self, text: str):
        super().__init__("status lookup", 0.0, sent=False)
        self.args = (text,)

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass
class StatusLookup:
    """What one status lookup (:func:`look_up_statuses`) learned.

    - ``statuses``: requested read set ID -> status, for every requested ID
      (``"NOT_FOUND"`` when it does not exist).
    - ``base_counts``: ID -> ``sequenceInformation.totalBaseCount`` (bases), for the
      requested read sets whose listing item or metadata reported one.
    - ``store_arn``: ``arn:aws:omics:<region>:<account>:sequenceStore/<id>``, from the
      ``arn`` of any read set seen; None when none was seen.
    - ``page_of``: ID -> 0-based page of the unfiltered listing that showed it.
    - ``others_non_active``: the store's other read sets (not requested) that are not
      ACTIVE, per status, when a listing saw the whole store (the unfiltered listing ended,
      or every status listing did); None otherwise.
    - ``assumed_active``: requested read sets taken as ACTIVE because no status listing
      showed them (``unseen_active`` only).
    - ``calls``: calls per way (:data:`~omics_dynamic.costmodel.ALL`,
      :data:`~omics_dynamic.costmodel.BY_STATUS`, :data:`~omics_dynamic.costmodel.GET`).
    - ``also``: ID -> status of the ``also`` read sets the lookup learned without spending
      a call on them.
    - ``complete``: False when the lookup was stopped by its time budget (``partial``):
      ``statuses`` then holds only the read sets it had learned, and ``stopped_by`` the
      :class:`~omics_dynamic.errors.BudgetExhaustedError` that stopped it (why: no answer,
      the endpoint unreachable, transient errors).
    - ``unguarded_steps``: calls the race made outside its guard (0 unless its proof fails).
    - ``undocumented_seen``: True when an answer showed a read set in a status
      :data:`~omics_dynamic.planning.STATUS_CLASS` does not know; an ``unseen_active``
      lookup then stops taking unseen read sets as ACTIVE (no status listing lists such a
      status) and settles them by the unfiltered listing or reads.
    """

    statuses: dict[str, str]
    base_counts: dict[str, int] = field(default_factory=dict)
    store_arn: Optional[str] = None
    page_of: dict[str, int] = field(default_factory=dict)
    others_non_active: Optional[dict[str, int]] = None
    assumed_active: int = 0
    calls: dict[str, int] = field(default_factory=dict)
    also: dict[str, str] = field(default_factory=dict)
    complete: bool = True
    stopped_by: Optional[BudgetExhaustedError] = None
    unguarded_steps: int = 0
    undocumented_seen: bool = False

    def volume(self, status: str = "ARCHIVED") -> tuple[int, int, int]:
        """``(read sets, bases, read sets without a base count)`` of the requested read
        sets in ``status`` (ARCHIVED: what an activation starts jobs for)."""
        ids = [rid for rid, s in self.statuses.items() if s == status]
        with_count = [rid for rid in ids if rid in self.base_counts]
        return len(ids), sum(self.base_counts[rid] for rid in with_count), len(ids) - len(with_count)


def _store_arn_of(read_set_arn: Any) -> Optional[str]:
    """``arn:...:sequenceStore/<id>`` from a read set's ARN (``.../readSet/<id>``)."""
    if isinstance(read_set_arn, str) and "/readSet/" in read_set_arn:
        return read_set_arn.split("/readSet/", 1)[0]
    return None


def _base_count(item: Mapping[str, Any]) -> Optional[int]:
    info = item.get("sequenceInformation") or {}
    count = info.get("totalBaseCount")
    return int(count) if isinstance(count, int) and not isinstance(count, bool) else None


class _Lookup:
    """One lookup's IO: makes the calls :class:`LookupRace` chooses and records what each
    answer shows (see :func:`look_up_statuses` for the parameters)."""

    def __init__(self, api: OmicsApi, store: str, ids: Iterable[str], *, unseen_active: bool,
                 listing: bool, also: Iterable[str], all_pages_hint: Optional[int],
                 status_counts_hint: Optional[Mapping[str, int]]):
        self.api = api
        self.store = store
        self.unseen_active = unseen_active
        self.wanted = list(dict.fromkeys(ids))
        self.wanted_set = set(self.wanted)
        self.also_set = set(also) - self.wanted_set
        self.race = LookupRace(len(self.wanted), unseen_active=unseen_active, listings=listing,
                               all_pages_hint=all_pages_hint, status_counts_hint=status_counts_hint)
        self.out = StatusLookup(statuses={})
        self.found = self.out.statuses
        self.shown: set[str] = set()  # requested read sets the unfiltered listing showed
        self.shown_by_status: set[str] = set()  # ... that a status listing showed
        self.counted: dict[str, str] = {}  # requested read sets reported to the race as learned, by status
        self.others_all: Counter = Counter()
        self.others_status: Counter = Counter()
        self.listings: dict[Optional[str], Iterator[Page]] = {}
        self.all_pages = 0
        self.next_get = iter(self.wanted)

    def run(self, on_progress: Optional[Callable[[int, int], None]], *, stop_early: bool = False,
            max_calls: Optional[int] = None) -> None:
        """Make calls until the race has nothing left to do.

        :param stop_early: raise :class:`LookupStopped` before a call once the api's
            deadline has passed (each call is bounded by the time left, but calls answered
            in time would otherwise go on past it, one after the other).
        :param max_calls: raise :class:`LookupStopped` before a call once this many were made.
        """
        while True:
            step = self.race.next_step()
            if step is None:
                return
            deadline_s = self.api.deadline_s
            if stop_early and deadline_s is not None and self.api.clock.now() >= deadline_s:
                raise LookupStopped(f"the time budget was spent after {self.race.total_calls} call(s)")
            if max_calls is not None and self.race.total_calls >= max_calls:
                raise LookupStopped(f"it made its {max_calls} calls at most")
            if step.way == GET:
                if not self._read_one():
                    return
            else:
                self._read_page(step)
            if on_progress is not None:
                on_progress(len(self.found), len(self.wanted))

    def _seen(self, item: Mapping[str, Any]) -> None:
        status = item.get("status")
        if self.unseen_active and isinstance(status, str) and status not in STATUS_CLASS:
            # A status nobody documented is in no status listing (they list the documented
            # non-ACTIVE ones): "no status listing shows it" no longer means ACTIVE, so the
            # rest must be seen (the unfiltered listing or a read each).
            self.unseen_active = False
            self.race.unseen_active = False
            self.out.undocumented_seen = True
        if self.out.store_arn is None:
            self.out.store_arn = _store_arn_of(item.get("arn"))

    def _record(self, rid: str, item: Mapping[str, Any]) -> bool:
        """Record a requested read set's status; True when it was unknown."""
        status = item.get("status", "")
        count = _base_count(item)
        if count is not None:
            self.out.base_counts[rid] = count
        new = rid not in self.found
        self.found[rid] = status
        return new

    def _read_one(self) -> bool:
        """GetReadSetMetadata of the next unknown read set; False when none is left (the
        race's count and ours disagree)."""
        rid = next((r for r in self.next_get if r not in self.found), None)
        if rid is None:
            return False
        meta = self.api.get_read_set(self.store, rid)
        if meta is None:
            self.found[rid] = "NOT_FOUND"
        else:
            self._seen(meta)
            self._record(rid, meta)
            if meta.get("status") in NON_ACTIVE_STATUSES:
                self.counted[rid] = meta["status"]
        self.race.on_get(missing=meta is None, status=None if meta is None else meta.get("status"))
        return True

    def _read_page(self, step: Step) -> None:
        """The next page of the unfiltered listing (ALL) or of one status listing."""
        key = step.status if step.way == BY_STATUS else None
        pages = self.listings.get(key)
        if pages is None:
            pages = self.listings[key] = self.api.read_set_pages(self.store, status=key)
        try:
            page = next(pages, None)
        except ListingStuckError:
            self.race.abandon(step.way)
            return
        except AwsCallError as err:
            if err.code != "ValidationException":
                raise
            self.race.abandon(step.way)  # a refused nextToken or filter: the other ways finish
            return
        items = page.items if page is not None else []
        last = page is None or page.next_token is None
        newly_shown = newly_resolved = first_listed = 0
        delta: Counter = Counter()  # learned (unfiltered page) or shown_known (status page)
        for item in items:
            rid = item.get("id")
            self._seen(item)
            if rid in self.wanted_set:
                if rid not in self.shown and rid not in self.shown_by_status:
                    first_listed += 1
                new = self._record(rid, item)
                newly_resolved += new
                status = item.get("status", "")
                if step.way == ALL:
                    if new and status in NON_ACTIVE_STATUSES:
                        self.counted[rid] = status
                        delta[status] += 1
                    if rid not in self.shown:
                        self.shown.add(rid)
                        newly_shown += 1
                        self.out.page_of[rid] = self.all_pages
                else:
                    if rid in self.counted:
                        delta[self.counted.pop(rid)] += 1
                    if rid not in self.shown_by_status:
                        self.shown_by_status.add(rid)
                        newly_shown += 1
            elif rid in self.also_set:
                self.out.also[rid] = item.get("status", "")
            elif item.get("status") != "ACTIVE":
                (self.others_all if step.way == ALL else self.others_status)[item.get("status", "")] += 1
        if step.way == ALL:
            self.all_pages += 1
            self.race.on_all_page(newly_shown, newly_resolved, last, learned=delta, first_listed=first_listed)
        else:
            self.race.on_status_page(newly_resolved, last, shown_known=delta, newly_shown=newly_shown,
                                     first_listed=first_listed)
            if last:
                del self.listings[key]

    def partial(self) -> StatusLookup:
        """What is known when the time budget stopped the lookup."""
        self.out.complete = False
        self.out.calls = dict(self.race.calls)
        self.out.statuses = {rid: self.found[rid] for rid in self.wanted if rid in self.found}
        return self.out

    def result(self) -> StatusLookup:
        """Settle the read sets no call showed, and sum up."""
        race, found = self.race, self.found
        outcome = race.unresolved_outcome()
        rest = [rid for rid in self.wanted if rid not in found]
        for rid in rest:
            # outcome None cannot happen with read sets left; settle them exactly rather than guess
            found[rid] = outcome if outcome is not None else self.api.get_read_set_status(self.store, rid)
        if rest and outcome == "ACTIVE":
            self.out.assumed_active = len(rest)
        if race.status_complete and self.unseen_active:
            for rid in self.also_set:
                self.out.also.setdefault(rid, "ACTIVE")
        if race.all_state == "ended":
            self.out.others_non_active = dict(self.others_all)
        elif race.status_complete:
            self.out.others_non_active = dict(self.others_status)
        self.out.calls = dict(race.calls)
        self.out.unguarded_steps = race.unguarded_steps
        if (race.calls[ALL] == 0 and race.calls[BY_STATUS] == 0 and found
                and all(s == "NOT_FOUND" for s in found.values())):
            self.api.assert_store_exists(self.store)
        # Keep the requested order (callers sort as they need).
        self.out.statuses = {rid: found[rid] for rid in self.wanted}
        return self.out


def look_up_statuses(api: OmicsApi, store: str, ids: Iterable[str], *, unseen_active: bool = False,
                     listing: bool = True, on_progress: Optional[Callable[[int, int], None]] = None,
                     also: Iterable[str] = (), all_pages_hint: Optional[int] = None,
                     status_counts_hint: Optional[Mapping[str, int]] = None,
                     partial: bool = False, max_calls: Optional[int] = None) -> StatusLookup:
    """Learn the statuses of ``ids`` choosing, call by call, between the unfiltered listing,
    one listing per non-ACTIVE status and GetReadSetMetadata per ID
    (:class:`~omics_dynamic.costmodel.LookupRace`: at most 3 x, and in the cases
    :mod:`omics_dynamic.costmodel` names 2 x, the calls of the cheapest of the three chosen
    in hindsight).

    :param unseen_active: True to take a read set that no status listing shows as ACTIVE
        (diff's live check, the confirmation of ACTIVE, the timeout's last look: the read
        sets existed when the run started); False (create's discovery, refresh) to settle
        each such read set with the unfiltered listing or a read, so that a read set that
        does not exist is reported ``"NOT_FOUND"``.
    :param listing: False to read each ID (no listing at all).
    :param on_progress: called with ``(known, total)`` after each call.
    :param also: other read sets whose statuses are welcome if a listing shows them (or, with
        ``unseen_active``, if every status listing ends): no call is spent on them.
    :param all_pages_hint: expected unfiltered pages until ``ids`` are shown (from an earlier
        listing); ``status_counts_hint``: expected read sets per status. Both only steer
        the expected cost, never the bound.
    :param partial: True to return what is known when the api's time budget runs out
        (``complete`` False) instead of raising BudgetExhaustedError; the lookup then also
        stops before a call once the api's deadline has passed, answered calls or not
        (:class:`LookupStopped`), so its time is bounded by the deadline plus one call.
    :param max_calls: with ``partial``, stop (``complete`` False) before a call once this
        many were made: a cost that grows with neither the store nor the cohort.
    :returns: a :class:`StatusLookup`.
    :raises AwsCallError: on AWS errors (AccessDeniedException, a missing store...). A
        listing whose nextToken repeats (ListingStuckError) or is refused
        (ValidationException) is abandoned: the other ways finish.
    """
    lookup = _Lookup(api, store, ids, unseen_active=unseen_active, listing=listing, also=also,
                     all_pages_hint=all_pages_hint, status_counts_hint=status_counts_hint)
    try:
        lookup.run(on_progress, stop_early=partial, max_calls=max_calls if partial else None)
    except BudgetExhaustedError as err:
        if not partial:
            raise
        out = lookup.partial()
        out.stopped_by = err
        return out
    return lookup.result()


def read_statuses(api: OmicsApi, store: str, ids: Iterable[str],
                  page_of: Optional[dict[str, int]] = None,
                  on_progress: Optional[Callable[[int, int], None]] = None,
                  listing: bool = True, unseen_active: bool = False) -> dict[str, str]:
    """Current status of each read set (read set ID -> status; ``"NOT_FOUND"`` for one the
    store does not hold, after one check that the store itself exists), through
    :func:`look_up_statuses` (its cost bound; ``unseen_active`` as there).

    :param page_of: if given, receives read set ID -> 0-based page of the unfiltered listing
        it was seen on (for :class:`~omics_dynamic.scheduling.ListingCursor`).
    :param on_progress: called with ``(known, total)`` after each call.
    :param listing: False to read each ID.
    :raises AwsCallError: on AWS errors (e.g. AccessDeniedException, a missing store).
    """
    found = look_up_statuses(api, store, ids, unseen_active=unseen_active, listing=listing,
                             on_progress=on_progress)
    if page_of is not None:
        page_of.update(found.page_of)
    return found.statuses
