"""One activation run: learn statuses, start jobs under quotas, wait, confirm, report.

This is the IO loop of ReadSetActivation's create and update. Its decisions come from the
pure modules (:mod:`.planning`, :mod:`.scheduling`); its calls go through
:class:`~omics_dynamic.aws.OmicsApi`; its time through an injected
:class:`~omics_dynamic.aws.Clock`, so tests run it on the emulator's manual clock
without sleeping.

What a run does (issue 3, lifecycle create/update):

1. Learns every read set's status with the fewest calls (:func:`read_statuses`).
2. Fails before starting any job if read sets are missing, DELETED, DELETING or
   UPLOAD_FAILED (:class:`~omics_dynamic.errors.ReadSetsUnusableError`).
3. Starts no job for ACTIVATING and PROCESSING_UPLOAD read sets; waits for ACTIVE.
4. Adopts activation jobs already in flight for its ARCHIVED read sets (an interrupted
   ``pulumi up`` left them, or somebody else started them), then starts jobs of at most 20
   sources for the rest, with clientTokens derived from the inputs, keeping at most
   ``max_concurrent_jobs`` in flight (less after ServiceQuotaExceededException, see
   :class:`~omics_dynamic.scheduling.ConcurrencyWindow`).
5. Polls on a :class:`~omics_dynamic.scheduling.PollSchedule`, fetches a job's sources
   only when it did not simply COMPLETE, and confirms ACTIVE with the read sets' own
   statuses (a FINISHED source does not prove ACTIVE, design.md section 3).
6. Raises :class:`~omics_dynamic.errors.ActivationFailedError` listing failed read sets
   with job IDs and messages once every job has ended, or
   :class:`~omics_dynamic.errors.ActivationTimeoutError` when ``timeout_seconds`` runs out.
7. Prints progress lines prefixed with the resource name (design.md section 2, rule 13).
"""

from __future__ import annotations

import datetime as _dt
import sys
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterable, Mapping, Optional

from .aws import Clock, OmicsApi
from .errors import (
    ActivationCancelledError,
    ActivationFailedError,
    ActivationTimeoutError,
    AwsCallError,
    ReadSetsUnusableError,
    SourceFailure,
)
from .planning import ActivationInputs, chunk, classify, client_token
from .scheduling import (
    ConcurrencyWindow,
    ListingCursor,
    PollSchedule,
    ProgressThrottle,
    chunk_in_order,
    format_duration,
    keep_listing,
    order_by_listing,
)

__all__ = [
    "JOB_STATUS_CLASS",
    "read_statuses",
    "ActivationResult",
    "ActivationRun",
    "stderr_reporter",
]

#: What each activation job status means (one table, as botocore's waiters-2.json does for
#: ``ReadSetActivationJobCompleted``): ``running``, ``done`` (all sources finished),
#: ``partial`` (some sources failed) or ``failed``.
JOB_STATUS_CLASS: Mapping[str, str] = {
    "SUBMITTED": "running",
    "IN_PROGRESS": "running",
    "CANCELLING": "running",
    "COMPLETED": "done",
    "COMPLETED_WITH_FAILURES": "partial",
    "FAILED": "failed",
    "CANCELLED": "failed",
}

#: Rounds of re-submission for read sets whose job reported success but which are still
#: ARCHIVED (e.g. a reused clientToken answered with an old job).
MAX_ROUNDS = 3

#: Below this many IDs, GetReadSetMetadata per ID is used without trying a listing.
SMALL_LOOKUP = 3


def read_statuses(api: OmicsApi, store: str, ids: Iterable[str],
                  page_of: Optional[dict[str, int]] = None) -> dict[str, str]:
    """Current status of each read set, with the fewest calls.

    Lists the store (ListReadSets, 100 per page) while that is cheaper than one
    GetReadSetMetadata per still-unknown ID (:func:`~omics_dynamic.scheduling.keep_listing`),
    then gets the rest one by one. IDs the store does not hold get ``"NOT_FOUND"`` (after
    one check that the store itself exists, so a missing store is reported as such).

    :param page_of: if given, receives read set ID -> 0-based page of the listing it was
        seen on (for :class:`~omics_dynamic.scheduling.ListingCursor`).
    :returns: read set ID -> status for every requested ID.
    :raises AwsCallError: on AWS errors (e.g. AccessDeniedException, a missing store).
    """
    unknown = set(ids)
    found: dict[str, str] = {}
    pages = 0
    token: Optional[str] = None
    if len(unknown) > SMALL_LOOKUP:
        while keep_listing(pages, len(unknown)):
            page = api.list_read_sets(store, next_token=token)
            pages += 1
            for item in page.items:
                rid = item.get("id")
                if rid in unknown:
                    found[rid] = item["status"]
                    unknown.discard(rid)
                    if page_of is not None:
                        page_of[rid] = pages - 1
            token = page.next_token
            if not token:
                break
    for rid in sorted(unknown):
        found[rid] = api.get_read_set_status(store, rid)
    if pages == 0 and found and all(s == "NOT_FOUND" for s in found.values()):
        api.assert_store_exists(store)
    return found


@dataclass
class ActivationResult:
    """What a completed run observed.

    ``job_ids``: jobs this run started or adopted (sorted); ``activated_read_set_ids``:
    read sets that were ARCHIVED (or ACTIVATING/PROCESSING_UPLOAD) at the start and ACTIVE
    at the end; ``already_active_read_set_ids``: ACTIVE at the start;
    ``read_set_statuses``: ID -> status at the end (all ACTIVE); ``activated_at``: ISO-8601
    UTC instant of the final confirmation; ``calls``: API calls by operation.
    """

    job_ids: list[str]
    activated_read_set_ids: list[str]
    already_active_read_set_ids: list[str]
    read_set_statuses: dict[str, str]
    activated_at: str
    calls: Counter = field(default_factory=Counter)


@dataclass
class _Job:
    job_id: str
    read_set_ids: list[str]
    started_s: float
    creation_time: Optional[_dt.datetime] = None
    #: Started before this run (found in flight): its start time is unknown, so its
    #: duration teaches the poll schedule nothing.
    adopted: bool = False


def stderr_reporter(line: str) -> None:
    """Write one progress line to stderr (the engine shows it in ``pulumi up``, rule 13)."""
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def _utc_now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class ActivationRun:
    """Activate the read sets of ``inputs`` and wait until every one is ACTIVE.

    :param api: paced HealthOmics calls (its clock is the run's clock).
    :param inputs: validated inputs (store, IDs, ``timeout_seconds``, ``max_concurrent_jobs``).
    :param generation: salt of the clientTokens: the same for a rerun of the same
        create/update (so tokens repeat), different for a later re-activation.
    :param report: receives progress lines (default: stderr).
    :param poll: the polling schedule (default :class:`PollSchedule`; seconds on the clock).
    :param now_iso: returns the ISO-8601 UTC time stamp of ``activated_at``.
    :param cancel: when set (by the provider's cancellation glue: the engine's Cancel RPC
        or SIGINT), the run stops within seconds: its waits wait on this event (through
        ``clock.wait``), and it raises
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
        self.progress = progress or ProgressThrottle()
        self.now_iso = now_iso
        self.cancel = cancel
        self.window = ConcurrencyWindow(inputs.max_concurrent_jobs)
        # Run state.
        self.statuses: dict[str, str] = {}
        self.in_flight: dict[str, _Job] = {}
        self.pending: list[list[str]] = []  # chunks not yet started
        self.unconfirmed: set[str] = set()  # finished sources / waiting read sets to confirm
        self.failures: list[SourceFailure] = []
        self.job_ids: set[str] = set()
        self.started_at_s = 0.0
        self._job_of: dict[str, str] = {}
        self._round = 1
        self._stale_answers: dict[tuple, int] = {}  # chunk -> ended jobs its token returned
        self._quota_blocked_until_s: Optional[float] = None
        self._confirm_due = False
        self._requeue: list[str] = []
        self.cursor = ListingCursor({})
        self._cursor_token: Optional[str] = None

    # -- public -----------------------------------------------------------------------
    def run(self) -> ActivationResult:
        """Run to the end.

        :raises ReadSetsUnusableError: before starting any job, for unusable read sets.
        :raises ActivationFailedError: after every job ended, if sources or jobs failed.
        :raises ActivationTimeoutError: when ``timeout_seconds`` is spent.
        :raises ActivationCancelledError: when the ``cancel`` event is set.
        :raises AwsCallError: for AWS errors other than throttling/quota (kept code and
            request ID).
        """
        clock = self.clock
        self.started_at_s = clock.now()
        deadline_s = self.started_at_s + self.inputs.timeout_seconds
        ids = list(self.inputs.read_set_ids)

        self._check_cancel()
        page_of: dict[str, int] = {}
        self.statuses = read_statuses(self.api, self.store, ids, page_of=page_of)
        plan = classify(self.statuses)
        if plan.unusable:
            raise ReadSetsUnusableError(self.store, plan.unusable)
        initially_active = set(plan.active)
        to_activate = list(plan.activate)
        waiting = set(plan.wait)
        if to_activate or waiting:
            to_activate, adopted = self._adopt_in_flight(to_activate, waiting)
            waiting -= adopted
        self.unconfirmed = set(waiting)
        # Confirm ACTIVE page by page in listing order (jobs are started in that order).
        busy = list(to_activate) + [rid for job in self.in_flight.values() for rid in job.read_set_ids]
        self.cursor = ListingCursor(page_of, busy=busy, ready=waiting)
        self.pending = chunk_in_order(order_by_listing(to_activate, page_of))
        self._emit(
            f"{self.name}: {len(ids)} read sets in sequence store {self.store}: "
            f"{len(plan.active)} ACTIVE, {len(plan.activate)} ARCHIVED, {len(plan.wait)} "
            f"activating or uploading; {len(self.in_flight)} job(s) already in flight, "
            f"{len(self.pending)} to start (at most {self.inputs.max_concurrent_jobs} at a time)",
            force=True,
        )

        while True:
            self._check_cancel()
            self._start_jobs()
            if not self.in_flight and not self.pending and not self.unconfirmed:
                break
            now_s = clock.now()
            if now_s >= deadline_s:
                self._timeout()
            wake_s = self._next_wake(now_s, deadline_s)
            if wake_s > now_s:
                self._sleep(wake_s - now_s)
            self._check_cancel()
            if clock.now() >= deadline_s and (self.in_flight or self.pending or self.unconfirmed):
                # One last look before giving up, so a run that just finished is not lost.
                self._poll_jobs()
                self._confirm()
                if self.in_flight or self.pending or self.unconfirmed:
                    self._timeout()
                continue
            self._poll_jobs()
            self._start_jobs()  # refill freed slots before spending time on confirmation
            self._confirm()
            self._emit(self._summary())

        final = sorted(self.statuses)
        activated = sorted(rid for rid in final if rid not in initially_active and self.statuses[rid] == "ACTIVE")
        if self.failures:
            self._emit(f"{self.name}: {len(self.failures)} read set(s) failed to activate", force=True)
            raise ActivationFailedError(self.name, self.failures, activated)
        self._emit(f"{self.name}: all {len(final)} read sets ACTIVE after "
                   f"{format_duration(clock.now() - self.started_at_s)} "
                   f"({len(self.job_ids)} activation job(s))", force=True)
        return ActivationResult(
            job_ids=sorted(self.job_ids),
            activated_read_set_ids=activated,
            already_active_read_set_ids=sorted(initially_active),
            read_set_statuses={rid: self.statuses[rid] for rid in final},
            activated_at=self.now_iso(),
            calls=Counter(self.api.calls),
        )

    # -- steps ------------------------------------------------------------------------
    def _sleep(self, seconds: float) -> None:
        """Wait on the clock; with a ``cancel`` event, wait on it (wakes when it is set)."""
        if self.cancel is None:
            self.clock.sleep(seconds)
        else:
            self.clock.wait(self.cancel, seconds)

    def _check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            self._emit(f"{self.name}: cancelled; {len(self.in_flight)} activation job(s) keep "
                       "running in HealthOmics (the next `pulumi up` resumes them)", force=True)
            raise ActivationCancelledError(self.name, sorted(self.in_flight))

    def _adopt_in_flight(self, archived: list[str], activating: set[str]) -> tuple[list[str], set[str]]:
        """Track jobs already running for our ARCHIVED or ACTIVATING read sets.

        Lists the store's SUBMITTED and IN_PROGRESS jobs and reads their sources, so a
        rerun after an interrupted ``pulumi up`` starts no duplicate (design.md section 2,
        rule 9) without relying on what HealthOmics does with a reused clientToken, and
        watches those jobs as its own: their failures are reported with job ID and message,
        and they count in ``job_ids`` and in the progress lines.

        :returns: ``(archived read sets no job covers, activating read sets adopted)``.
        """
        wanted = set(archived) | set(activating)
        now_s = self.clock.now()
        for status in ("SUBMITTED", "IN_PROGRESS"):
            for item in self.api.list_jobs(self.store, status=status):
                job = self.api.get_job(self.store, item["id"])
                ours = [s["readSetId"] for s in job.get("sources", [])
                        if s["readSetId"] in wanted and s.get("status") in ("NOT_STARTED", "IN_PROGRESS")]
                if ours and item["id"] not in self.in_flight:
                    self.in_flight[item["id"]] = _Job(item["id"], ours, now_s, item.get("creationTime"),
                                                      adopted=True)
                    self.job_ids.add(item["id"])
                    for rid in ours:
                        self._job_of[rid] = item["id"]
                    wanted.difference_update(ours)
        return sorted(wanted & set(archived)), set(activating) - wanted

    def _start_jobs(self) -> None:
        now_s = self.clock.now()
        if self._quota_blocked_until_s is not None and now_s < self._quota_blocked_until_s:
            return
        self._quota_blocked_until_s = None
        while self.pending and self.window.can_start(len(self.in_flight)):
            ids = self.pending[0]
            resubmits = self._stale_answers.get(tuple(ids), 0)
            salt = f"{self.generation}/round-{self._round}" + (f"/resubmit-{resubmits}" if resubmits else "")
            token = client_token(self.store, ids, salt)
            try:
                resp = self.api.start_job(self.store, ids, token)
            except AwsCallError as err:
                if err.code != "ServiceQuotaExceededException":
                    raise
                self.window.on_quota_exceeded(len(self.in_flight))
                if not self.in_flight:
                    # Nothing of ours will free a slot: someone else holds the quota.
                    self._quota_blocked_until_s = self.clock.now() + self.poll.max_interval_s
                else:
                    self._quota_blocked_until_s = float("inf")  # until one of ours ends
                return
            if JOB_STATUS_CLASS.get(resp.get("status", ""), "running") != "running":
                # A new job is never born ended: HealthOmics answered the clientToken with an
                # older job that has already ended (what it does with reused tokens is not
                # documented). Its read sets are still ARCHIVED, so resubmit the chunk under
                # another token, a bounded number of times.
                self._stale_answers[tuple(ids)] = resubmits + 1
                if resubmits + 1 >= MAX_ROUNDS:
                    self.pending.pop(0)
                    for rid in ids:
                        self.failures.append(SourceFailure(
                            rid, resp["id"], f"job {resp.get('status')}",
                            f"StartReadSetActivationJob answered {MAX_ROUNDS} times with an "
                            "already ended job; run `pulumi up` again later"))
                continue
            self.pending.pop(0)
            job = _Job(resp["id"], ids, self.clock.now(), resp.get("creationTime"))
            self.in_flight[job.job_id] = job
            self.job_ids.add(job.job_id)
            for rid in ids:
                self._job_of[rid] = job.job_id
            self.poll.reset_backoff()

    def _next_wake(self, now_s: float, deadline_s: float) -> float:
        starts = [j.started_s for j in self.in_flight.values()]
        if not starts and (self.unconfirmed or self.pending):
            # Only read sets waiting without a job of ours: time the checks from the run's
            # start. (With jobs in flight, the run's start must not count as the "oldest
            # job": the schedule would think a job is long overdue and back off.)
            starts.append(self.started_at_s)
        wake = self.poll.next_poll_at(now_s, starts) or now_s + self.poll.max_interval_s
        if self._quota_blocked_until_s is not None and self._quota_blocked_until_s != float("inf"):
            wake = min(wake, self._quota_blocked_until_s)
        due = self.progress.next_due_s()
        if due is not None:
            wake = min(wake, max(due, now_s))
        return min(wake, deadline_s)

    def _poll_jobs(self) -> None:
        """Learn which in-flight jobs ended; collect their finished and failed sources."""
        if not self.in_flight:
            return
        ended: dict[str, dict] = {}
        if len(self.in_flight) <= 2:
            for job_id in list(self.in_flight):
                detail = self.api.get_job(self.store, job_id)
                if JOB_STATUS_CLASS.get(detail["status"], "running") != "running":
                    ended[job_id] = detail
        else:
            created = [j.creation_time for j in self.in_flight.values() if j.creation_time]
            after = (min(created) - _dt.timedelta(seconds=1)) if len(created) == len(self.in_flight) else None
            for item in self.api.list_jobs(self.store, created_after=after):
                if item["id"] in self.in_flight and JOB_STATUS_CLASS.get(item["status"], "running") != "running":
                    ended[item["id"]] = item
        now_s = self.clock.now()
        for job_id, item in ended.items():
            job = self.in_flight.pop(job_id)
            self.window.on_job_finished()
            if not job.adopted:
                self.poll.observe_duration(now_s - job.started_s)
            self.poll.reset_backoff()
            if self._quota_blocked_until_s == float("inf"):
                self._quota_blocked_until_s = None
            kind = JOB_STATUS_CLASS[item["status"]]
            if kind == "done":
                self.unconfirmed.update(job.read_set_ids)
                for rid in job.read_set_ids:
                    self.cursor.mark_ready(rid, was_busy=True)
                continue
            detail = item if "sources" in item else self.api.get_job(self.store, job_id)
            sources = {s["readSetId"]: s for s in detail.get("sources", [])}
            for rid in job.read_set_ids:
                src = sources.get(rid)
                finished = src is not None and src.get("status") == "FINISHED"
                self.cursor.mark_ready(rid, was_busy=True, to_confirm=finished)
                if finished:
                    self.unconfirmed.add(rid)
                else:
                    message = (src or {}).get("statusMessage") or detail.get("statusMessage") or ""
                    status = (src or {}).get("status") or f"job {detail['status']}"
                    self.failures.append(SourceFailure(rid, job_id, status, message))
        if ended:
            self._confirm_due = True

    def _confirm(self) -> None:
        """Confirm ACTIVE with the read sets' own statuses, with as few calls as possible.

        Read sets still covered by the listing cursor are confirmed when it reads their
        page (once every job with read sets on that page has ended). The others (not seen
        by the discovery listing, passed by the cursor while not yet ACTIVE, or waiting from
        the start) are re-read with :func:`read_statuses` when a poll ended some job or
        nothing else is in flight, to save requests.
        """
        if not self.unconfirmed:
            return
        while self.cursor.wants_page():
            try:
                page = self.api.list_read_sets(self.store, next_token=self._cursor_token)
            except AwsCallError as err:
                if err.code != "ValidationException" or self._cursor_token is None:
                    raise
                self.cursor.reset()  # the nextToken was refused (expired?): confirm otherwise
                break
            for item in page.items:
                if item.get("id") in self.unconfirmed:
                    self._settle(item["id"], item["status"])
            self._cursor_token = page.next_token
            self.cursor.page_read(last=not page.next_token)
        left = sorted(rid for rid in self.unconfirmed if not self.cursor.covers(rid))
        if left and (self._confirm_due or not self.in_flight):
            self._confirm_due = False
            for rid, status in read_statuses(self.api, self.store, left).items():
                self._settle(rid, status)
        if self._requeue:
            self._round += 1
            for rid in self._requeue:
                self.cursor.mark_busy(rid)
            self.pending.extend(chunk(self._requeue))
            self._requeue = []

    def _settle(self, rid: str, status: str) -> None:
        """Record one unconfirmed read set's current status and decide what it means."""
        self.statuses[rid] = status
        kind = classify({rid: status})
        if status == "ACTIVE":
            self.unconfirmed.discard(rid)
        elif kind.unusable:
            self.unconfirmed.discard(rid)
            self.failures.append(SourceFailure(
                rid, self._job_of.get(rid, "-"), status,
                f"read set became {status} while waiting for it to become ACTIVE"))
        elif status == "ARCHIVED" and self._job_of.get(rid) not in self.in_flight:
            # No job of ours is running for it: its job reported success but it is still
            # ARCHIVED, or it was ACTIVATING under a job we did not see and fell back.
            self.unconfirmed.discard(rid)
            if self._round < MAX_ROUNDS:
                self._requeue.append(rid)
            else:
                self.failures.append(SourceFailure(
                    rid, self._job_of.get(rid, "-"), "ARCHIVED",
                    f"still ARCHIVED after {MAX_ROUNDS} rounds of activation"))

    def _timeout(self) -> None:
        # The statuses seen so far are stale (a job start does not change them here): read
        # the not-yet-ACTIVE ones once more so the error counts ACTIVATING correctly.
        stale = sorted(rid for rid in self.inputs.read_set_ids if self.statuses.get(rid) != "ACTIVE")
        try:
            self.statuses.update(read_statuses(self.api, self.store, stale))
        except AwsCallError:
            pass  # keep the last known statuses; the timeout is the error to report
        counts = Counter(self.statuses.get(rid, "UNKNOWN") for rid in self.inputs.read_set_ids)
        self._emit(f"{self.name}: timed out: {self._summary().split(': ', 1)[1]}", force=True)
        raise ActivationTimeoutError(self.name, self.inputs.timeout_seconds,
                                     sorted(self.in_flight), counts)

    # -- progress ---------------------------------------------------------------------
    def _summary(self) -> str:
        total = len(self.inputs.read_set_ids)
        active = sum(1 for s in self.statuses.values() if s == "ACTIVE")
        elapsed = format_duration(self.clock.now() - self.started_at_s)
        return (f"{self.name}: {active}/{total} read sets active, {len(self.in_flight)} "
                f"job{'' if len(self.in_flight) == 1 else 's'} running, {len(self.pending)} queued, {elapsed} elapsed")

    def _emit(self, text: str, force: bool = False) -> None:
        # The cadence ignores the elapsed time at the end of the line.
        key = text.rsplit(",", 1)[0]
        if self.progress.should_emit(self.clock.now(), key, force=force):
            self.report(text)
