"""One activation run: learn statuses, adopt jobs in flight, start jobs under quotas, wait,
confirm, report.

This is the IO loop of ReadSetActivation's create and update. Its decisions come from the
pure modules (:mod:`.planning`, :mod:`.scheduling`); its calls go through
:class:`~omics_dynamic.aws.OmicsApi` (paced, bounded by the run's budget, transient answers
retried on the clock); its time through an injected :class:`~omics_dynamic.aws.Clock`, so
tests run it on the emulator's manual clock without sleeping.

What a run does (docs/design.md section 3, "The activation run", gives the reasons):

1. Discovery: learns every read set's status choosing between the unfiltered listing, the
   listings by status and GetReadSetMetadata per ID by expected cost, within a proven
   bound of the cheapest in hindsight (:func:`look_up_statuses`,
   :mod:`omics_dynamic.costmodel`); a listing that does not advance is left to the others.
2. Fails before starting any job if read sets are missing, DELETED, DELETING or
   UPLOAD_FAILED (:class:`~omics_dynamic.errors.ReadSetsUnusableError`).
3. Adoption: tracks the store's jobs in flight whose sources include its read sets
   (``adopted``). Jobs still SUBMITTED whose sources are not listed yet are waited for,
   bounded (:func:`~omics_dynamic.scheduling.unlisted_sources_wait_s`), before any start.
4. Starts jobs of at most 20 sources for the ARCHIVED rest, in the store's listing order,
   at most ``max_concurrent_jobs`` at a time (fewer, and blocked, after
   ServiceQuotaExceededException: :class:`~omics_dynamic.scheduling.ConcurrencyWindow`).
   clientTokens come from the inputs and an attempt number
   (:func:`~omics_dynamic.planning.client_token`); whatever the service answers for a used
   token, the run moves on (:class:`~omics_dynamic.scheduling.StartAttempts`).
5. Waits on a :class:`~omics_dynamic.scheduling.PollSchedule`; records each ended job with
   its own final status and message and each source's; confirms ACTIVE with the read sets'
   own statuses (a FINISHED source does not prove it), and re-checks every failure the
   same way before reporting it (a failed source whose read set ends ACTIVE is no failure).
   Read sets of finished jobs are confirmed page by page through the store's listing while
   jobs end, or all at once when nothing is left in flight, whichever is predicted cheaper
   (:func:`~omics_dynamic.costmodel.cursor_pays`); failures and read sets waiting for
   somebody else's activation are looked at after each poll that ended a job.
6. Finds jobs it did not start that cover its read sets (a start whose answer was lost
   where tokens are ignored, a concurrent create of the same inputs) and reports them
   (``found``).
7. Raises :class:`~omics_dynamic.errors.ActivationFailedError` once every job has ended,
   :class:`~omics_dynamic.errors.ActivationTimeoutError` when ``timeout_seconds`` is spent
   (no call outlives it by more than a few seconds), or
   :class:`~omics_dynamic.errors.ActivationCancelledError` when asked to stop.
8. Prints progress lines prefixed with the resource name (design.md section 2, rule 13):
   the first at once, then on change and at least every 30 s in every phase, each formatted
   from counts when it is printed.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import re
import sys
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Iterable, Iterator, Mapping, Optional

from .aws import ApiListener, Clock, OmicsApi, Page
from .errors import (
    ActivationCancelledError,
    ActivationFailedError,
    ActivationTimeoutError,
    AwsCallError,
    BudgetExhaustedError,
    CallCancelledError,
    ListingStuckError,
    ReadSetsUnusableError,
    SourceFailure,
)
from .costmodel import ALL, BY_STATUS, GET, NON_ACTIVE_STATUSES, LookupRace, cursor_pays, volume_text
from .planning import STATUS_CLASS, ActivationInputs, ReadSetPlan, chunk, classify, client_token
from .scheduling import (
    ConcurrencyWindow,
    ListingCursor,
    PollSchedule,
    ProgressThrottle,
    StartAttempts,
    format_duration,
    order_by_listing,
    unlisted_sources_wait_s,
)

__all__ = [
    "JOB_STATUS_CLASS",
    "read_statuses",
    "look_up_statuses",
    "StatusLookup",
    "ActivationResult",
    "ActivationRun",
    "stderr_reporter",
]

#: What each activation job status means (one table, as botocore's waiters-2.json does for
#: ``ReadSetActivationJobCompleted``): ``running`` (CANCELLING too: it has not ended),
#: ``done`` (all sources finished), ``partial`` (some sources failed) or ``failed``.
JOB_STATUS_CLASS: Mapping[str, str] = {
    "SUBMITTED": "running",
    "IN_PROGRESS": "running",
    "CANCELLING": "running",
    "COMPLETED": "done",
    "COMPLETED_WITH_FAILURES": "partial",
    "FAILED": "failed",
    "CANCELLED": "failed",
}

#: Source statuses of a job that may still activate its read set.
OPEN_SOURCE_STATUSES = ("NOT_STARTED", "IN_PROGRESS")

#: With at most this many jobs in flight, polling reads each one (GetReadSetActivationJob);
#: with more, one ListReadSetActivationJobs page (100 jobs) is cheaper.
GET_EACH_JOB_UP_TO = 2

#: Seconds of slack when placing the run's start on the service's clock (see
#: :meth:`ActivationRun._found_after`).
FOUND_MARGIN_S = 2.0

#: Seconds between progress lines without news: 25, so that with a call in between (paced,
#: or retried) the person watching still gets a line at least every 30 s.
HEARTBEAT_S = 25.0

#: Seconds between looks at in-flight jobs whose sources are not listed yet.
UNLISTED_POLL_S = 5.0

#: A ValidationException from StartReadSetActivationJob whose message matches this is
#: about the clientToken (used before, for other sources): the next attempt gets a new one.
#: Any other ValidationException is the permanent error it says it is.
_TOKEN_WORDS = re.compile(r"token|idempot", re.IGNORECASE)


@dataclass
class StatusLookup:
    """What one status lookup (:func:`look_up_statuses`) learned.

    - ``statuses``: requested read set ID -> status, for every requested ID
      (``"NOT_FOUND"`` when it does not exist).
    - ``base_counts``: ID -> ``sequenceInformation.totalBaseCount`` (bases), for the
      requested read sets not ACTIVE whose listing item or metadata reported one.
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
      ``statuses`` then holds only the read sets it had learned.
    - ``unguarded_steps``: calls the race made outside its guard (0 unless its proof fails).
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
    unguarded_steps: int = 0

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


def look_up_statuses(api: OmicsApi, store: str, ids: Iterable[str], *, unseen_active: bool = False,
                     listing: bool = True, on_progress: Optional[Callable[[int, int], None]] = None,
                     also: Iterable[str] = (), all_pages_hint: Optional[int] = None,
                     status_counts_hint: Optional[Mapping[str, int]] = None,
                     partial: bool = False) -> StatusLookup:
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
        (``complete`` False) instead of raising BudgetExhaustedError.
    :returns: a :class:`StatusLookup`.
    :raises AwsCallError: on AWS errors (AccessDeniedException, a missing store...). A
        listing whose nextToken repeats (ListingStuckError) or is refused
        (ValidationException) is abandoned: the other ways finish.
    """
    wanted = list(dict.fromkeys(ids))
    wanted_set = set(wanted)
    also_set = set(also) - wanted_set
    race = LookupRace(len(wanted), unseen_active=unseen_active, listings=listing,
                      all_pages_hint=all_pages_hint, status_counts_hint=status_counts_hint)
    out = StatusLookup(statuses={})
    found = out.statuses
    shown: set[str] = set()
    shown_by_status: set[str] = set()
    counted: dict[str, str] = {}  # requested read sets reported to the race as learned, by status
    others_all: Counter = Counter()
    others_status: Counter = Counter()
    listings: dict[Optional[str], Iterator[Page]] = {}
    all_pages = 0
    next_get = iter(wanted)

    def seen(item: Mapping[str, Any]) -> None:
        if out.store_arn is None:
            out.store_arn = _store_arn_of(item.get("arn"))

    def record(rid: str, item: Mapping[str, Any]) -> bool:
        """Record a requested read set's status; True when it was unknown."""
        status = item.get("status", "")
        if status != "ACTIVE":
            count = _base_count(item)
            if count is not None:
                out.base_counts[rid] = count
        new = rid not in found
        found[rid] = status
        return new

    try:
        while True:
            step = race.next_step()
            if step is None:
                break
            if step.way == GET:
                rid = next((r for r in next_get if r not in found), None)
                if rid is None:  # the race's count and ours disagree: nothing left to read
                    break
                meta = api.get_read_set(store, rid)
                if meta is None:
                    found[rid] = "NOT_FOUND"
                else:
                    seen(meta)
                    record(rid, meta)
                    if meta.get("status") in NON_ACTIVE_STATUSES:
                        counted[rid] = meta["status"]
                race.on_get(missing=meta is None, status=None if meta is None else meta.get("status"))
            else:
                key = step.status if step.way == BY_STATUS else None
                pages = listings.get(key)
                if pages is None:
                    pages = listings[key] = api.read_set_pages(store, status=key)
                try:
                    page = next(pages, None)
                except ListingStuckError:
                    race.abandon(step.way)
                    continue
                except AwsCallError as err:
                    if err.code != "ValidationException":
                        raise
                    race.abandon(step.way)  # a refused nextToken or filter: the other ways finish
                    continue
                items = page.items if page is not None else []
                last = page is None or page.next_token is None
                newly_shown = newly_resolved = first_listed = 0
                delta: Counter = Counter()  # learned (unfiltered page) or shown_known (status page)
                for item in items:
                    rid = item.get("id")
                    seen(item)
                    if rid in wanted_set:
                        if rid not in shown and rid not in shown_by_status:
                            first_listed += 1
                        new = record(rid, item)
                        newly_resolved += new
                        status = item.get("status", "")
                        if step.way == ALL:
                            if new and status in NON_ACTIVE_STATUSES:
                                counted[rid] = status
                                delta[status] += 1
                            if rid not in shown:
                                shown.add(rid)
                                newly_shown += 1
                                out.page_of[rid] = all_pages
                        else:
                            if rid in counted:
                                delta[counted.pop(rid)] += 1
                            if rid not in shown_by_status:
                                shown_by_status.add(rid)
                                newly_shown += 1
                    elif rid in also_set:
                        out.also[rid] = item.get("status", "")
                    elif item.get("status") != "ACTIVE":
                        (others_all if step.way == ALL else others_status)[item.get("status", "")] += 1
                if step.way == ALL:
                    all_pages += 1
                    race.on_all_page(newly_shown, newly_resolved, last, learned=delta, first_listed=first_listed)
                else:
                    race.on_status_page(newly_resolved, last, shown_known=delta, newly_shown=newly_shown,
                                        first_listed=first_listed)
                    if last:
                        del listings[key]
            if on_progress is not None:
                on_progress(len(found), len(wanted))
    except BudgetExhaustedError:
        if not partial:
            raise
        out.complete = False
        out.calls = dict(race.calls)
        out.statuses = {rid: found[rid] for rid in wanted if rid in found}
        return out
    outcome = race.unresolved_outcome()
    rest = [rid for rid in wanted if rid not in found]
    for rid in rest:
        # outcome None cannot happen with read sets left; settle them exactly rather than guess
        found[rid] = outcome if outcome is not None else api.get_read_set_status(store, rid)
    if rest and outcome == "ACTIVE":
        out.assumed_active = len(rest)
    if race.status_complete and unseen_active:
        for rid in also_set:
            out.also.setdefault(rid, "ACTIVE")
    if race.all_state == "ended":
        out.others_non_active = dict(others_all)
    elif race.status_complete:
        out.others_non_active = dict(others_status)
    out.calls = dict(race.calls)
    out.unguarded_steps = race.unguarded_steps
    if (race.calls[ALL] == 0 and race.calls[BY_STATUS] == 0 and found
            and all(s == "NOT_FOUND" for s in found.values())):
        api.assert_store_exists(store)
    # Keep the requested order (callers sort as they need).
    out.statuses = {rid: found[rid] for rid in wanted}
    return out


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


@dataclass
class ActivationResult:
    """What a completed run observed (every list sorted).

    Jobs: ``started_job_ids`` (this run's starts answered with a running job),
    ``adopted_job_ids`` (in flight when the run began, covering its read sets),
    ``found_job_ids`` (created during the run by someone else, or by a start whose answer
    was lost, covering its read sets); ``job_ids`` is all three.

    Read sets: ``activated_by_jobs_read_set_ids`` (sources of those jobs, not ACTIVE at the
    start, ACTIVE at the end), ``activated_without_job_read_set_ids`` (not ACTIVE at the
    start, ACTIVE at the end, in none of those jobs: ACTIVATING or PROCESSING_UPLOAD under
    somebody else), ``already_active_read_set_ids`` (ACTIVE at the start);
    :attr:`became_active_read_set_ids` is the first two together.

    ``read_set_statuses``: ID -> status at the end (all ACTIVE); ``activated_at``: ISO-8601
    UTC instant of the final confirmation; ``calls``: API calls by operation.

    ``activated_base_count``: bases, the sum of ``sequenceInformation.totalBaseCount`` of
    ``activated_by_jobs_read_set_ids`` as the status discovery's listing (or metadata)
    reported them, 0 for a read set it gave no count for. ``store_arn``:
    ``arn:aws:omics:<region>:<account>:sequenceStore/<id>`` from the ARN of any read set the
    run saw, None if it saw none.
    """

    job_ids: list[str]
    started_job_ids: list[str]
    adopted_job_ids: list[str]
    found_job_ids: list[str]
    activated_by_jobs_read_set_ids: list[str]
    activated_without_job_read_set_ids: list[str]
    already_active_read_set_ids: list[str]
    read_set_statuses: dict[str, str]
    activated_at: str
    calls: Counter = field(default_factory=Counter)
    activated_base_count: int = 0
    store_arn: Optional[str] = None

    @property
    def became_active_read_set_ids(self) -> list[str]:
        """Not ACTIVE at the start, ACTIVE at the end (with or without a job of this run)."""
        return sorted(self.activated_by_jobs_read_set_ids + self.activated_without_job_read_set_ids)


@dataclass
class _Job:
    job_id: str
    #: The run's read sets this job may still activate (its open sources among them).
    read_set_ids: list[str]
    #: When the run started tracking it (clock seconds).
    tracked_s: float
    creation_time: Optional[_dt.datetime]
    #: "started", "adopted" or "found": only started jobs teach the poll schedule a
    #: duration (the others' start time is unknown).
    origin: str


def stderr_reporter(line: str) -> None:
    """Write one progress line to stderr (the engine shows it in ``pulumi up``, rule 13)."""
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def _utc_now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _running(status: str) -> bool:
    return JOB_STATUS_CLASS.get(status, "running") == "running"


class _ProgressListener(ApiListener):
    """Turns :class:`OmicsApi`'s backoffs and long waits into the run's progress lines."""

    def __init__(self, run: "ActivationRun"):
        self.run = run

    def on_backoff(self, operation: str, error: AwsCallError, delay_s: float, in_a_row: int) -> None:
        run = self.run
        run._say(("backoff", operation, error.code, in_a_row), lambda: (
            f"{run.name}: HealthOmics answered {operation} with {error.code} {in_a_row} time(s) in "
            f"a row after botocore's retries; backing off {format_duration(delay_s)} and going on "
            f"(transient), {run._elapsed()} elapsed"), force=in_a_row == 1)  # a burst's start is news

    def on_waiting(self, operation: str, waited_real_s: float) -> None:
        run = self.run
        run._say(("no-answer", operation), lambda: (
            f"{run.name}: waiting for HealthOmics to answer {operation} "
            f"({waited_real_s:.0f}s so far; timeout_seconds bounds the wait), {run._elapsed()} elapsed"))


class ActivationRun:
    """Activate the read sets of ``inputs`` and wait until every one is ACTIVE.

    :param api: paced HealthOmics calls (its clock is the run's clock). The run bounds it
        by its deadline and cancel event (:meth:`OmicsApi.bound`) and listens to it for
        progress lines.
    :param inputs: validated inputs (store, IDs, ``timeout_seconds``, ``max_concurrent_jobs``).
    :param generation: salt of the clientTokens: the same for a rerun of the same
        create/update (so tokens repeat), different for a later re-activation.
    :param report: receives progress lines (default: stderr).
    :param poll: the polling schedule (default :class:`PollSchedule`; seconds on the clock).
    :param progress: the progress cadence (default :class:`ProgressThrottle`: on change at
        most every 5 s, else every :data:`HEARTBEAT_S`).
    :param now_iso: returns the ISO-8601 UTC time stamp of ``activated_at``.
    :param cancel: when set (by the provider's cancellation glue: the engine's Cancel RPC
        or SIGINT), the run stops within seconds: its waits wait on this event (through
        ``clock.wait``), a call in progress is abandoned, and it raises
        :class:`~omics_dynamic.errors.ActivationCancelledError` naming the jobs still
        running, which the next ``pulumi up`` adopts.
    """

    def __init__(
        self,
        api: OmicsApi,
        inputs: ActivationInputs,
        *,
        generation: str,
        report: Callable[[str], None] = stderr_reporter,
        poll: Optional[PollSchedule] = None,
        progress: Optional[ProgressThrottle] = None,
        now_iso: Callable[[], str] = _utc_now_iso,
        cancel: Optional[threading.Event] = None,
    ):
        self.api = api
        self.clock: Clock = api.clock
        self.inputs = inputs
        self.store = inputs.sequence_store_id
        self.name = inputs.resource_name
        self.generation = generation
        self.report = report
        self.poll = poll or PollSchedule()
        self.progress = progress or ProgressThrottle(min_interval_s=5.0, heartbeat_s=HEARTBEAT_S)
        self.now_iso = now_iso
        self.cancel = cancel
        self.window = ConcurrencyWindow(inputs.max_concurrent_jobs, retry_after_s=self.poll.max_interval_s)
        self.attempts = StartAttempts()
        self.started_at_s = 0.0
        self.deadline_s = 0.0
        # Read sets.
        self.statuses: dict[str, str] = {}  # last seen status
        self.initial: dict[str, str] = {}  # status at the start
        self.page_of: dict[str, int] = {}  # page of the discovery listing
        self.base_counts: dict[str, int] = {}  # totalBaseCount of read sets not ACTIVE at the start
        self.store_arn: Optional[str] = None
        self._others_non_active: Optional[dict[str, int]] = None  # the store's other read sets
        self._n_active = 0  # read sets whose last seen status is ACTIVE
        self._candidate_set: Optional[set[str]] = None
        self.unconfirmed: set[str] = set()  # no job of ours running for it; not seen ACTIVE yet
        # Each unconfirmed read set is covered by the cursor, or deferred (its job finished
        # it: confirmed when nothing is left in flight), or prompt (looked at after each poll
        # that ended a job: failures, read sets waiting for somebody else's activation).
        self._deferred: set[str] = set()
        self._prompt: set[str] = set()
        self._ids_on_page: dict[int, list[str]] = {}
        self.suspects: dict[str, SourceFailure] = {}  # failed in a job; re-checked before reported
        self.failures: list[SourceFailure] = []
        self._requeue: list[str] = []
        self._jobs_of: dict[str, set[str]] = {}  # read set -> running jobs of ours covering it
        self._last_job: dict[str, str] = {}  # read set -> last job of ours covering it
        # Jobs.
        self.in_flight: dict[str, _Job] = {}
        self.pending: list[list[str]] = []  # chunks not yet started
        self.origin: dict[str, str] = {}  # job -> "started" | "adopted" | "found"
        self.job_sources: dict[str, set[str]] = {}  # job -> its sources among our read sets
        self._foreign: set[str] = set()  # jobs seen that cover none of our read sets
        self._unlisted: set[str] = set()  # jobs SUBMITTED with no sources listed yet
        self._run_start_service_time: Optional[_dt.datetime] = None
        self._job_listing_stuck = False
        # Confirmation.
        self.cursor = ListingCursor({})
        self._cursor_pages: Optional[Iterator[Page]] = None
        self._confirm_due = False
        self._sweep_due = False
        self._volume = (0, 0, 0)  # ARCHIVED at the start: (read sets, bases, without a count)

    # -- public -----------------------------------------------------------------------
    def run(self) -> ActivationResult:
        """Run to the end.

        :raises ReadSetsUnusableError: before starting any job, for unusable read sets.
        :raises ActivationFailedError: after every job ended, if read sets did not become
            ACTIVE (each failure re-checked against the read set's own status).
        :raises ActivationTimeoutError: when ``timeout_seconds`` is spent.
        :raises ActivationCancelledError: when the ``cancel`` event is set.
        :raises ListingStuckError: when the store's jobs in flight cannot be listed (a
            nextToken repeats), so that starting a job could duplicate one.
        :raises AwsCallError: for permanent AWS errors (AccessDenied, not found, validation),
            with code and request ID.
        """
        self.started_at_s = self.clock.now()
        self.deadline_s = self.started_at_s + self.inputs.timeout_seconds
        self.api.bound(self.deadline_s, self.cancel)
        self.api.listener = _ProgressListener(self)
        try:
            self._check_cancel()
            plan = self._discover()
            self._adopt_and_plan(plan)
            self._wait()
            self._final_sweep()
        except BudgetExhaustedError as err:
            self._timeout(err)
        except CallCancelledError:
            self._cancelled()
        finally:
            self.api.bound(None, None)
        return self._finish()

    # -- phases -----------------------------------------------------------------------
    def _discover(self) -> ReadSetPlan:
        ids = self.inputs.read_set_ids
        self._say(("discover", 0), lambda: (
            f"{self.name}: reading the statuses of {len(ids)} read sets in sequence store {self.store}"),
            force=True)

        def on_progress(known: int, total: int) -> None:
            self._say(("discover", known), lambda: (
                f"{self.name}: reading read set statuses: {known}/{total} known, {self._elapsed()} elapsed"))

        found = look_up_statuses(self.api, self.store, ids, on_progress=on_progress)
        self.statuses = found.statuses
        self.page_of = found.page_of
        self.base_counts = found.base_counts
        self.store_arn = found.store_arn
        self._others_non_active = found.others_non_active
        self._n_active = sum(1 for status in self.statuses.values() if status == "ACTIVE")
        self.initial = dict(self.statuses)
        self._volume = found.volume("ARCHIVED")
        plan = classify(self.statuses)
        if plan.unusable:
            raise ReadSetsUnusableError(self.store, plan.unusable)
        return plan

    def _adopt_and_plan(self, plan: ReadSetPlan) -> None:
        """Adopt the jobs in flight for our read sets, then cut the rest into chunks."""
        to_activate = list(plan.activate)
        waiting = set(plan.wait)
        covered: set[str] = set()
        if to_activate or waiting:
            self._say(("adopt",), lambda: (
                f"{self.name}: looking for activation jobs already in flight in sequence store "
                f"{self.store}, {self._elapsed()} elapsed"))
            covered = self._look_for_in_flight("adopted")
            if self._unlisted and set(to_activate) - covered:
                covered |= self._await_unlisted_sources()
        to_activate = [rid for rid in to_activate if rid not in covered]
        self.unconfirmed = waiting - covered
        busy = to_activate + sorted(covered)
        self.cursor = ListingCursor(self.page_of, busy=busy, ready=self.unconfirmed)
        if not self.cursor.exhausted:
            pages = 1 + max(self.page_of[rid] for rid in itertools.chain(busy, self.unconfirmed)
                            if rid in self.page_of)
            if cursor_pays(pages, self._others_non_active):
                for rid in itertools.chain(busy, self.unconfirmed):
                    if rid in self.page_of:
                        self._ids_on_page.setdefault(self.page_of[rid], []).append(rid)
            else:
                self.cursor = ListingCursor({})  # one round of status listings at the end is cheaper
        for rid in self.unconfirmed:
            self._place(rid)
        self.pending = chunk(order_by_listing(to_activate, self.page_of))
        read_sets, bases, without = self._volume
        self._say(("plan",), lambda: (
            f"{self.name}: {len(self.inputs.read_set_ids)} read sets in sequence store {self.store}: "
            f"{len(plan.active)} ACTIVE, {len(plan.activate)} ARCHIVED, {len(plan.wait)} "
            f"activating or uploading; will activate {volume_text(read_sets, bases, without)}; "
            f"{len(self.in_flight)} job(s) already in flight, "
            f"{len(self.pending)} to start (at most {self.inputs.max_concurrent_jobs} at a time)"),
            force=True)

    def _await_unlisted_sources(self) -> set[str]:
        """Wait, bounded, until in-flight jobs with no sources listed show them or leave
        SUBMITTED (design.md section 3: starting before could duplicate them)."""
        budget_s = unlisted_sources_wait_s(self.inputs.timeout_seconds)
        until_s = min(self.clock.now() + budget_s, self.deadline_s)
        covered: set[str] = set()
        while self._unlisted and self.clock.now() < until_s:
            count = len(self._unlisted)
            if self._due(("unlisted", count)):
                self.report(f"{self.name}: waiting up to {format_duration(budget_s)} for {count} "
                            "activation job(s) in flight whose sources are not listed yet "
                            f"(SUBMITTED), so as not to start duplicates; {self._elapsed()} elapsed")
            self._sleep(min(UNLISTED_POLL_S, until_s - self.clock.now()))
            self._check_cancel()
            for job_id in sorted(self._unlisted):
                covered |= self._consider_job(job_id, self.api.get_job(self.store, job_id), "adopted")
        if self._unlisted:
            count = len(self._unlisted)
            self._say(("unlisted-left", count), lambda: (
                f"{self.name}: {count} job(s) in flight still list no sources; starting jobs "
                "now (any that duplicate them are found and reported in job_ids)"), force=True)
        return covered

    def _wait(self) -> None:
        """Start, poll, confirm, until nothing is left (or the budget ends)."""
        while True:
            self._check_cancel()
            self._start_jobs()
            if self._sweep_due:
                self._sweep(track=True)
            if self._done():
                return
            now_s = self.clock.now()
            if now_s < self.deadline_s:
                wake_s = self._next_wake(now_s)
                if wake_s > now_s:
                    self._sleep(wake_s - now_s)
                self._check_cancel()
            if self.clock.now() >= self.deadline_s:
                self._final_look()
                return
            self._say_summary()  # a heartbeat due now is not held back by the calls below
            self._poll_jobs()
            self._start_jobs()  # refill freed slots before spending time on confirmation
            self._confirm()
            self._say_summary()

    def _final_look(self) -> None:
        """The budget is spent: one last look (each call bounded by a few real seconds) so
        a run that just finished is not lost; otherwise the timeout error."""
        self.api.bound(self.clock.now(), self.cancel)
        try:
            self._poll_jobs()
            self._confirm()
        except (BudgetExhaustedError, ListingStuckError):
            pass
        if not self._done():
            self._timeout(None)

    def _final_sweep(self) -> None:
        """Before reporting success, find the jobs covering our read sets that the run did
        not start (report them; do not wait for them: every read set is ACTIVE)."""
        if self._run_start_service_time is None and not self._unlisted:
            return
        try:
            self._sweep(track=False)
        except BudgetExhaustedError:
            self._say(("sweep-skipped",), lambda: (
                f"{self.name}: warning: no time left to look for duplicate jobs; job_ids lists "
                "only the jobs this run knows"), force=True)

    # -- starting jobs ----------------------------------------------------------------
    def _start_jobs(self) -> None:
        while self.pending and self.window.can_start(len(self.in_flight), self.clock.now()):
            if not self._start_one(self.pending[0]):
                return

    def _start_one(self, ids: list[str]) -> bool:
        """Start the first pending chunk; False when the quota blocks further starts.

        What the answer means (the service's handling of a used clientToken is not
        documented; every answer converges, design.md section 3):
        a running job: ours (new, or the token's job from an earlier run); an ended job:
        the token is stale, next attempt; ConflictException or a ValidationException about
        the token: the token is burned, look again for jobs in flight covering these read
        sets and adopt them, else next attempt; ServiceQuotaExceededException: wait for a
        slot. Other errors are permanent.
        """
        attempt = self.attempts.attempt(ids)
        token = client_token(self.store, ids, self.generation, attempt)
        try:
            answer = self.api.start_job(self.store, ids, token)
        except AwsCallError as err:
            if err.code == "ServiceQuotaExceededException":
                self.window.on_quota_exceeded(len(self.in_flight), self.clock.now())
                return False
            if err.code == "ConflictException" or (
                    err.code == "ValidationException" and _TOKEN_WORDS.search(err.aws_message or "")):
                self._token_used(ids, attempt, f"{err.code} (request ID {err.request_id or 'none'})",
                                 look_again=True)
                return True
            raise
        if not _running(answer.status):
            self._token_used(ids, attempt, f"job {answer.job_id} already {answer.status} "
                                           f"(request ID {answer.request_id or 'none'})", look_again=False)
            return True
        self.pending.pop(0)
        self.attempts.started(ids)
        if isinstance(answer.creation_time, _dt.datetime):
            # A new job was created at most this long after the run began (clock seconds are
            # service seconds: real time against AWS, the same scale against the emulator):
            # a lower bound of the run's start on the service's clock. The latest bound wins
            # (a token answered with an older running job gives a bound too early).
            before_s = self.clock.now() - self.started_at_s + FOUND_MARGIN_S
            bound = answer.creation_time - _dt.timedelta(seconds=before_s)
            if self._run_start_service_time is None or bound > self._run_start_service_time:
                self._run_start_service_time = bound
        if answer.job_id not in self.in_flight:
            self.origin[answer.job_id] = "started"
            self.job_sources[answer.job_id] = set(ids)
            self._track(answer.job_id, ids, answer.creation_time, "started")
        self.poll.reset_backoff()
        if answer.retried:
            self._sweep_due = True  # an earlier try may have started a job we never heard of
        return True

    def _token_used(self, ids: list[str], attempt: int, answer: str, look_again: bool) -> None:
        """The attempt's clientToken was used before: adopt what covers the chunk, then let
        the rest go to the next attempt, or fail it once the attempts are spent."""
        allowed = self.attempts.burn(ids, f"attempt {attempt}: {answer}")
        covered = self._look_for_in_flight("found") if look_again else set()
        remaining = [rid for rid in ids if rid not in covered]
        if allowed or not remaining:
            return
        if remaining in self.pending:  # the chunk, less what was adopted, is still first
            self.pending.remove(remaining)
        answers = self.attempts.answers(ids)
        for rid in remaining:
            self.cursor.mark_ready(rid, was_busy=True, to_confirm=False)
            self.failures.append(SourceFailure(
                rid, "-", "NOT_STARTED",
                f"StartReadSetActivationJob answered {len(answers)} clientTokens of this chunk as "
                f"used before ({'; '.join(answers)}); run `pulumi up` again later"))

    # -- adoption and found jobs ------------------------------------------------------
    def _candidates(self) -> set[str]:
        """Our read sets that were not ACTIVE at the start (computed once: ``initial`` does
        not change after discovery)."""
        if self._candidate_set is None:
            self._candidate_set = {rid for rid, status in self.initial.items() if status != "ACTIVE"}
        return self._candidate_set

    def _look_for_in_flight(self, origin: str) -> set[str]:
        """Track the store's SUBMITTED and IN_PROGRESS jobs covering our read sets, as
        ``origin``: "adopted" at the start; "found" later (created during the run), except
        jobs in flight at the start whose sources were not listed then ("adopted").

        :returns: the read sets those jobs cover (now tracked as in flight).
        :raises ListingStuckError: when the jobs cannot be listed: starting without knowing
            them could duplicate one.
        """
        covered: set[str] = set()
        read = 0
        for status in ("SUBMITTED", "IN_PROGRESS"):
            for item in self.api.list_jobs(self.store, status=status):
                job_id = item["id"]
                if job_id in self.origin or job_id in self._foreign:
                    continue
                covered |= self._consider_job(job_id, self.api.get_job(self.store, job_id),
                                              "adopted" if job_id in self._unlisted else origin)
                read += 1
                if self._due(("adopt", read)):
                    self.report(f"{self.name}: looking for activation jobs in flight: {read} read, "
                                f"{len(self.in_flight)} cover read sets of this resource, "
                                f"{self._elapsed()} elapsed")
        return covered

    def _consider_job(self, job_id: str, detail: Mapping[str, Any], origin: str, track: bool = True) -> set[str]:
        """Decide whether a job we did not start covers our read sets; track it if it may
        still activate some (``track``). :returns: the read sets it now covers for us."""
        sources = detail.get("sources") or []
        status = detail.get("status", "")
        if not sources:
            if status == "SUBMITTED":
                self._unlisted.add(job_id)  # sources not listed yet: look again later
            else:
                self._unlisted.discard(job_id)
                self._foreign.add(job_id)
            return set()
        self._unlisted.discard(job_id)
        ours = {s["readSetId"] for s in sources} & self._candidates()
        if not ours:
            self._foreign.add(job_id)
            return set()
        self.origin[job_id] = origin
        self.job_sources[job_id] = ours
        if not (track and _running(status)):
            return set()
        covering = [s["readSetId"] for s in sources
                    if s["readSetId"] in ours and s.get("status") in OPEN_SOURCE_STATUSES
                    and self.statuses.get(s["readSetId"]) != "ACTIVE"]
        if covering:
            self._track(job_id, covering, detail.get("creationTime"), origin)
        return set(covering)

    def _track(self, job_id: str, read_set_ids: Iterable[str], creation_time: Any, origin: str) -> None:
        ids = sorted(set(read_set_ids))
        self.in_flight[job_id] = _Job(job_id, ids, self.clock.now(), creation_time, origin)
        for rid in ids:
            self._jobs_of.setdefault(rid, set()).add(job_id)
            self._last_job[rid] = job_id
            self.unconfirmed.discard(rid)
            self._deferred.discard(rid)
            self._prompt.discard(rid)
        if origin != "started" and self.pending:
            covering = set(ids)
            self.pending = [rest for rest in ([rid for rid in c if rid not in covering] for c in self.pending) if rest]

    def _found_after(self) -> Optional[_dt.datetime]:
        """createdAfter of the listings that look for found jobs: the run's start on the
        service's clock (None until this run has started a job).

        A job created during the run that covers its read sets was started by a try whose
        answer was lost, or by a concurrent create; a job created before the run began was
        either in flight at its start (adopted) or had ended (its read sets' statuses at the
        start show its outcome). Each started job's creationTime minus the clock seconds from
        the run's start to its answer (and :data:`FOUND_MARGIN_S`) is a lower bound of the
        run's start on the service's clock (the gap is over-estimated, so no job of the run
        is missed); the latest bound is used.
        """
        return self._run_start_service_time

    def _sweep(self, track: bool) -> None:
        """Look for jobs we did not start that cover our read sets (and jobs in flight
        whose sources were not listed); record them as found (or adopted)."""
        self._sweep_due = False
        candidates = set(self._unlisted)
        after = self._found_after()
        if after is not None:
            try:
                for item in self.api.list_jobs(self.store, created_after=after):
                    if item["id"] not in self.origin and item["id"] not in self._foreign:
                        candidates.add(item["id"])
            except ListingStuckError as err:
                reason = str(err)
                self._say(("sweep-stuck",), lambda: (
                    f"{self.name}: warning: cannot look for duplicate jobs: {reason}"), force=True)
        for job_id in sorted(candidates):
            origin = "adopted" if job_id in self._unlisted else "found"
            self._consider_job(job_id, self.api.get_job(self.store, job_id), origin, track=track)

    # -- waiting ----------------------------------------------------------------------
    def _done(self) -> bool:
        return not self.in_flight and not self.pending and not self.unconfirmed

    def _next_wake(self, now_s: float) -> float:
        starts = [j.tracked_s for j in self.in_flight.values()]
        if not starts and (self.unconfirmed or self.pending):
            # Only read sets waiting without a job of ours: time the checks from the run's
            # start. (With jobs in flight, the run's start must not count as the "oldest
            # job": the schedule would think a job is long overdue and back off.)
            starts.append(self.started_at_s)
        wake = self.poll.next_poll_at(now_s, starts) or now_s + self.poll.max_interval_s
        retry_s = self.window.retry_at_s()
        if retry_s is not None and self.pending:
            wake = min(wake, retry_s)
        due = self.progress.next_due_s()
        if due is not None:
            wake = min(wake, max(due, now_s))
        return min(wake, self.deadline_s)

    def _poll_jobs(self) -> None:
        """Learn which in-flight jobs ended and record each end."""
        if not self.in_flight:
            return
        ended = self._ended_jobs()
        for job_id, item in ended.items():
            self._record_end(self.in_flight[job_id], item)
        if ended:
            self._confirm_due = True

    def _ended_jobs(self) -> dict[str, Mapping[str, Any]]:
        """Which in-flight jobs have ended: job ID -> what was read about it.

        Few jobs: GetReadSetActivationJob each. More: one listing of the jobs created since
        the oldest in flight (its unknown jobs, if recent, are looked at as found jobs); a
        listing that does not advance falls back to reading each job, for the rest of the run.
        """
        if len(self.in_flight) <= GET_EACH_JOB_UP_TO or self._job_listing_stuck:
            return self._ended_by_get()
        created = [j.creation_time for j in self.in_flight.values() if j.creation_time is not None]
        after = (min(created) - _dt.timedelta(seconds=1)) if len(created) == len(self.in_flight) else None
        ended: dict[str, Mapping[str, Any]] = {}
        unknown: list[str] = []
        found_after = self._found_after()
        try:
            for item in self.api.list_jobs(self.store, created_after=after):
                job_id = item["id"]
                if job_id in self.in_flight:
                    if not _running(item["status"]):
                        ended[job_id] = item
                elif (job_id not in self.origin and job_id not in self._foreign and found_after is not None
                      and item.get("creationTime") is not None and item["creationTime"] >= found_after):
                    unknown.append(job_id)
        except ListingStuckError:
            self._job_listing_stuck = True
            self._say(("jobs-listing-stuck",), lambda: (
                f"{self.name}: ListReadSetActivationJobs repeats a nextToken; reading each job "
                "instead"), force=True)
            return self._ended_by_get()
        for job_id in unknown:
            self._consider_job(job_id, self.api.get_job(self.store, job_id), "found")
        return ended

    def _ended_by_get(self) -> dict[str, Mapping[str, Any]]:
        ended: dict[str, Mapping[str, Any]] = {}
        for job_id in list(self.in_flight):
            detail = self.api.get_job(self.store, job_id)
            if not _running(detail["status"]):
                ended[job_id] = detail
        return ended

    def _record_end(self, job: _Job, item: Mapping[str, Any]) -> None:
        """Record one ended job: the read sets it no longer covers go to confirmation; each
        one whose source did not finish becomes a suspect failure with the job's own final
        status and message and the source's (reported only if the read set does not end
        ACTIVE, :meth:`_settle`)."""
        status = item["status"]
        kind = JOB_STATUS_CLASS.get(status, "failed")
        detail = item if (kind == "done" or "sources" in item) else self.api.get_job(self.store, job.job_id)
        del self.in_flight[job.job_id]
        self.window.on_job_finished()
        if job.origin == "started":
            self.poll.observe_duration(self.clock.now() - job.tracked_s)
        self.poll.reset_backoff()
        sources = {s["readSetId"]: s for s in detail.get("sources") or []}
        for rid in job.read_set_ids:
            src = sources.get(rid) or {}
            if kind == "done" or src.get("status") == "FINISHED":
                self.suspects.pop(rid, None)
            else:
                self.suspects[rid] = SourceFailure(
                    rid, job.job_id, src.get("status") or "not listed", src.get("statusMessage") or "",
                    status, detail.get("statusMessage") or "")
            running_for_it = self._jobs_of.get(rid, set())
            running_for_it.discard(job.job_id)
            if running_for_it:
                continue  # another job of ours still covers it
            self.cursor.mark_ready(rid, was_busy=True)
            self.unconfirmed.add(rid)
            self._place(rid)

    # -- confirmation -----------------------------------------------------------------
    def _confirm(self) -> None:
        """Confirm ACTIVE with the read sets' own statuses, with as few calls as possible.

        Read sets still covered by the listing cursor are confirmed when it reads their
        page (once every job with read sets on that page has ended). The prompt ones
        (failures to re-check, read sets waiting for somebody else's activation, pages the
        cursor passed without them) are looked up when a poll ended some job or nothing of
        ours is in flight; the deferred ones (their job finished them) once nothing is in
        flight or queued, in one lookup (:func:`look_up_statuses`, taking a read set that no
        status listing shows as ACTIVE: these read sets exist). A lookup of the prompt ones
        that ends every status listing settles the deferred ones too, for no extra call.
        """
        if not self.unconfirmed:
            return
        self._read_cursor_pages()
        final = not self.in_flight and not self.pending
        ids: set[str] = set()
        if self._prompt and (self._confirm_due or not self.in_flight):
            ids |= self._prompt
        if final:
            ids |= self._deferred
        if ids:
            self._confirm_due = False

            def on_progress(known: int, total: int) -> None:
                self._say(("confirm", known, total), lambda: (
                    f"{self.name}: confirming ACTIVE: {known}/{total} read sets read, "
                    f"{self._elapsed()} elapsed"))

            found = look_up_statuses(self.api, self.store, sorted(ids), unseen_active=True,
                                     on_progress=on_progress, also=self._deferred - ids,
                                     all_pages_hint=self._pages_hint(ids),
                                     status_counts_hint=self._status_counts_hint())
            for rid, status in itertools.chain(found.statuses.items(), found.also.items()):
                if rid in self.unconfirmed:
                    self._settle(rid, status)
        if self._requeue:
            ids_ = order_by_listing(self._requeue, self.page_of)
            self._requeue = []
            for rid in ids_:
                self.cursor.mark_busy(rid)
            self.pending.extend(chunk(ids_))

    def _place(self, rid: str) -> None:
        """File an unconfirmed read set the cursor does not cover: deferred when its last
        job of ours (or adopted) finished it, else prompt."""
        if self.cursor.covers(rid) or rid not in self.unconfirmed:
            return
        if rid in self._last_job and rid not in self.suspects:
            self._deferred.add(rid)
        else:
            self._prompt.add(rid)

    def _pages_hint(self, ids: Iterable[str]) -> Optional[int]:
        """Unfiltered pages up to the last of ``ids`` in the discovery listing (all must
        have been seen there), for the lookup's expected cost."""
        pages = [self.page_of.get(rid) for rid in ids]
        if not pages or any(p is None for p in pages):
            return None
        return 1 + max(p for p in pages if p is not None)

    def _status_counts_hint(self) -> dict[str, int]:
        """Read sets expected per status now: the store's others as discovery saw them, our
        queued read sets ARCHIVED, those of jobs in flight ACTIVATING."""
        counts = Counter(self._others_non_active or {})
        counts["ARCHIVED"] += sum(len(c) for c in self.pending)
        counts["ACTIVATING"] += sum(len(j.read_set_ids) for j in self.in_flight.values())
        return dict(counts)

    def _read_cursor_pages(self) -> None:
        while self.cursor.wants_page():
            if self._cursor_pages is None:
                self._cursor_pages = self.api.read_set_pages(self.store)
            try:
                page = next(self._cursor_pages, None)
            except ListingStuckError:
                page = None
            except AwsCallError as err:
                if err.code != "ValidationException":
                    raise
                page = None  # the nextToken was refused (expired?): confirm otherwise
            if page is None:
                self.cursor.reset()
                self._cursor_pages = None
                self._ids_on_page.clear()
                for rid in list(self.unconfirmed):
                    if rid not in self._deferred:
                        self._place(rid)
                return
            for item in page.items:
                if item.get("id") in self.unconfirmed:
                    self._settle(item["id"], item["status"])
            passed = self.cursor.next_page
            self.cursor.page_read(last=page.next_token is None)
            for rid in self._ids_on_page.pop(passed, ()):
                self._place(rid)  # predicted on that page but not confirmed there
            if self.cursor.exhausted:
                for rid in list(self.unconfirmed):
                    self._place(rid)
                self._ids_on_page.clear()
            pages = self.cursor.next_page
            if self._due(("confirm-pages", pages)):
                self.report(f"{self.name}: confirming ACTIVE: {pages} page(s) of the store's "
                            f"listing read, {len(self.unconfirmed)} read sets left to confirm, "
                            f"{self._elapsed()} elapsed")

    def _settle(self, rid: str, status: str) -> None:
        """Record one unconfirmed read set's current status and decide what it means.

        ACTIVE: done (a suspect failure is dropped). ACTIVATING or PROCESSING_UPLOAD: keep
        waiting (somebody is activating it, or a job COMPLETED while it still activates).
        DELETED and other unusable statuses: a failure. ARCHIVED with no job of ours running
        for it: the suspect failure if there is one (the source's message), else another
        round (its job reported success, or somebody else's activation fell back).
        """
        self._set_status(rid, status)
        if status == "ACTIVE":
            self._unconfirm(rid)
            self.suspects.pop(rid, None)
            return
        kind = STATUS_CLASS.get(status, "unusable")
        if kind == "wait" or self._jobs_of.get(rid):
            return
        self._unconfirm(rid)
        suspect = self.suspects.pop(rid, None)
        if kind == "unusable":
            self.failures.append(SourceFailure(
                rid, suspect.job_id if suspect else self._last_job.get(rid, "-"), status,
                f"read set became {status} while waiting for it to become ACTIVE"))
        elif suspect is not None:
            self.failures.append(suspect)
        elif self.attempts.requeue(rid):
            self._requeue.append(rid)
        else:
            self.failures.append(SourceFailure(
                rid, self._last_job.get(rid, "-"), "ARCHIVED",
                f"still ARCHIVED after {self.attempts.max_rounds} rounds of activation"))

    def _unconfirm(self, rid: str) -> None:
        self.unconfirmed.discard(rid)
        self._deferred.discard(rid)
        self._prompt.discard(rid)

    def _set_status(self, rid: str, status: str) -> None:
        old = self.statuses.get(rid)
        self.statuses[rid] = status
        self._n_active += (status == "ACTIVE") - (old == "ACTIVE")

    # -- ends -------------------------------------------------------------------------
    def _finish(self) -> ActivationResult:
        final = sorted(self.statuses)
        became = sorted(rid for rid in final
                        if self.initial.get(rid) != "ACTIVE" and self.statuses[rid] == "ACTIVE")
        if self.failures:
            count = len(self.failures)
            self._say(("failed",), lambda: f"{self.name}: {count} read set(s) failed to activate", force=True)
            raise ActivationFailedError(self.name, self.failures, became)
        covered = set().union(*self.job_sources.values()) if self.job_sources else set()
        jobs_by_origin: dict[str, list[str]] = {"started": [], "adopted": [], "found": []}
        for job_id, origin in sorted(self.origin.items()):
            jobs_by_origin[origin].append(job_id)
        self._say(("done",), lambda: (
            f"{self.name}: all {len(final)} read sets ACTIVE after {self._elapsed()} "
            f"({len(self.origin)} activation job(s))"), force=True)
        by_jobs = [rid for rid in became if rid in covered]
        return ActivationResult(
            job_ids=sorted(self.origin),
            started_job_ids=jobs_by_origin["started"],
            adopted_job_ids=jobs_by_origin["adopted"],
            found_job_ids=jobs_by_origin["found"],
            activated_by_jobs_read_set_ids=by_jobs,
            activated_without_job_read_set_ids=[rid for rid in became if rid not in covered],
            already_active_read_set_ids=sorted(rid for rid, s in self.initial.items() if s == "ACTIVE"),
            read_set_statuses={rid: self.statuses[rid] for rid in final},
            activated_at=self.now_iso(),
            calls=Counter(self.api.calls),
            activated_base_count=sum(self.base_counts.get(rid, 0) for rid in by_jobs),
            store_arn=self.store_arn,
        )

    def _timeout(self, blocked: Optional[BudgetExhaustedError]) -> None:
        """Raise ActivationTimeoutError. Unless the budget ran out inside a call (no answer,
        or transient answers until the end), the not-yet-ACTIVE statuses are read once more
        (each call bounded by a few real seconds) so the error counts ACTIVATING correctly."""
        if blocked is None:
            self.api.bound(self.clock.now(), self.cancel)
            stale = sorted(rid for rid in self.inputs.read_set_ids if self.statuses.get(rid) != "ACTIVE")
            try:
                found = look_up_statuses(self.api, self.store, stale, unseen_active=True,
                                         status_counts_hint=self._status_counts_hint())
                for rid, status in found.statuses.items():
                    self._set_status(rid, status)
            except (AwsCallError, BudgetExhaustedError, ListingStuckError):
                pass  # keep the last known statuses; the timeout is the error to report
        counts = Counter(self.statuses.get(rid, "UNKNOWN") for rid in self.inputs.read_set_ids)
        detail = f"when it ran out: {blocked}" if blocked is not None else ""
        self._say(("timeout",), lambda: f"{self.name}: timed out: {self._summary_text()}", force=True)
        raise ActivationTimeoutError(self.name, self.inputs.timeout_seconds, sorted(self.in_flight),
                                     counts, detail)

    def _cancelled(self) -> None:
        running = len(self.in_flight)
        self._say(("cancelled",), lambda: (
            f"{self.name}: cancelled; {running} activation job(s) keep running in HealthOmics "
            "(the next `pulumi up` resumes them)"), force=True)
        raise ActivationCancelledError(self.name, sorted(self.in_flight))

    def _check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            self._cancelled()

    def _sleep(self, seconds: float) -> None:
        """Wait on the clock; with a ``cancel`` event, wait on it (wakes when it is set)."""
        if seconds <= 0:
            return
        if self.cancel is None:
            self.clock.sleep(seconds)
        elif self.clock.wait(self.cancel, seconds):
            self._cancelled()

    # -- progress ---------------------------------------------------------------------
    def _due(self, key: Hashable, force: bool = False) -> bool:
        """Whether the cadence allows a line for ``key`` now: ``key`` is the counts the line
        is made of (without the elapsed time), never its text."""
        return self.progress.should_emit(self.clock.now(), key, force=force)

    def _say(self, key: Hashable, render: Callable[[], str], force: bool = False) -> None:
        """Print ``render()`` (formatted only then) when a line for ``key`` is due."""
        if self._due(key, force=force):
            self.report(render())

    def _elapsed(self) -> str:
        return format_duration(self.clock.now() - self.started_at_s)

    def _counts(self) -> tuple[int, int, int, int, int]:
        """(active, jobs running, chunks queued, finished by their jobs and to be confirmed
        at the end, waiting to be confirmed now): kept as counters, O(1) per line."""
        busy = bool(self.in_flight or self.pending)
        finished = len(self._deferred) if busy else 0
        waiting = 0 if busy else len(self.unconfirmed)
        return self._n_active, len(self.in_flight), len(self.pending), finished, waiting

    def _summary_text(self) -> str:
        active, running, queued, finished, waiting = self._counts()
        text = (f"{active}/{len(self.inputs.read_set_ids)} read sets active, {running} "
                f"job{'' if running == 1 else 's'} running, {queued} queued")
        if finished:
            text += f", {finished} more finished by their jobs (confirmed ACTIVE at the end)"
        if waiting:
            text += f", {waiting} waiting to be confirmed ACTIVE"
        return text + f", {self._elapsed()} elapsed"

    def _say_summary(self) -> None:
        self._say(("wait",) + self._counts(), lambda: f"{self.name}: {self._summary_text()}")
