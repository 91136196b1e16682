"""The activation run: the loop that composes discovery, adoption, starting, polling and
confirmation, and its three ends (success, failure, timeout or cancellation)."""

from __future__ import annotations

import datetime as _dt
import functools
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Collection, Mapping, Optional

from .. import messages
from ..aws import Clock, OmicsApi
from ..errors import (
    ActivationCancelledError,
    ActivationFailedError,
    ActivationTimeoutError,
    AwsCallError,
    BudgetExhaustedError,
    CallCancelledError,
    ListingStuckError,
    QuotaRefusals,
    ReadSetsUnusableError,
    UnansweredStart,
)
from ..limits import UNLISTED_POLL_S
from ..planning import ActivationInputs, ReadSetPlan, classify
from ..scheduling import (
    ConcurrencyWindow,
    PollSchedule,
    ProgressThrottle,
    StartAttempts,
    TimeLeftEstimator,
    next_wake_s,
    order_by_listing,
    poll_basis_s,
    unlisted_read_due_s,
    unlisted_sources_wait_s,
)
from .confirmation import Confirmation
from .jobs import JOB_STATUS_CLASS, JobTracker
from .lookup import look_up_statuses
from .progress import Progress, ProgressListener, RunCounts, stderr_reporter
from .readsets import ReadSets
from .starting import Starter

__all__ = ["ActivationResult", "ActivationRun", "UNLISTED_POLL_S"]


@dataclass
class ActivationResult:
    """What a completed run observed (every list sorted).

    Jobs: ``started_job_ids`` (this run's starts answered with a running job),
    ``adopted_job_ids`` (in flight when the run began, covering its read sets),
    ``found_job_ids`` (created during the run by someone else, or by a start whose answer
    was lost, covering its read sets), ``earlier_job_ids`` (ended before the run began,
    created after ``earlier_jobs_after``, they activated read sets of
    ``earlier_read_set_ids`` ACTIVE at its start: the jobs of an earlier run that timed out
    or was stopped); ``job_ids`` is all four.

    Read sets: ``activated_by_jobs_read_set_ids`` (sources of those jobs, not ACTIVE at the
    start, ACTIVE at the end, and the read sets the earlier jobs activated),
    ``activated_without_job_read_set_ids`` (not ACTIVE at the start, ACTIVE at the end, in
    none of those jobs: ACTIVATING or PROCESSING_UPLOAD under somebody else),
    ``already_active_read_set_ids`` (ACTIVE at the start, activated by no earlier job);
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
    earlier_job_ids: list[str] = field(default_factory=list)

    @property
    def became_active_read_set_ids(self) -> list[str]:
        """Not ACTIVE at the start, ACTIVE at the end (with or without a job of this run)."""
        return sorted(self.activated_by_jobs_read_set_ids + self.activated_without_job_read_set_ids)


def _utc_now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


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
        most every 5 s, else every :data:`~omics_dynamic.activation.progress.HEARTBEAT_S`).
    :param now_iso: returns the ISO-8601 UTC time stamp of ``activated_at``.
    :param cancel: when set (by the provider's cancellation glue: the engine's Cancel RPC
        or SIGINT), the run stops within seconds: its waits wait on this event (through
        ``clock.wait``), a call in progress is abandoned, and it raises
        :class:`~omics_dynamic.errors.ActivationCancelledError` naming the jobs still
        running, which the next ``pulumi up`` adopts.
    :param earlier_read_set_ids: read sets that an earlier run nobody recorded (it timed
        out or was stopped) may have activated: those found ACTIVE at the start are
        credited, after success, to the ended jobs that activated them
        (:meth:`JobTracker.find_earlier`, bounded in calls), reported in
        ``earlier_job_ids``. None (default): no such look.
    :param earlier_jobs_after: only jobs created after this instant (on the service's
        clock: the last recorded run's ``activated_at``) are looked at; None: any.

    The parts it composes: :class:`ReadSets` (statuses), :class:`JobTracker` (jobs in
    flight, adopted, found), :class:`Starter` (the queue, attempts, the window),
    :class:`Confirmation` (ACTIVE confirmed by the read sets' own statuses, failures) and
    :class:`Progress` (lines).
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
        earlier_read_set_ids: Optional[Collection[str]] = None,
        earlier_jobs_after: Optional[_dt.datetime] = None,
    ):
        self.api = api
        self.clock: Clock = api.clock
        self.inputs = inputs
        self.store = inputs.sequence_store_id
        self.name = inputs.resource_name
        self.now_iso = now_iso
        self.cancel = cancel
        self.earlier_read_set_ids = None if earlier_read_set_ids is None else set(earlier_read_set_ids)
        self.earlier_jobs_after = earlier_jobs_after
        self.earlier: dict[str, set[str]] = {}
        self.deadline_s = 0.0
        self.poll = poll or PollSchedule()
        self.progress = Progress(self.name, self.clock, report, progress)
        self.read_sets = ReadSets(inputs.read_set_ids)
        self.jobs = JobTracker(api, self.store, self.clock, self.read_sets, self.progress, self._on_tracked,
                               unlisted_wait_s=unlisted_sources_wait_s(inputs.timeout_seconds))
        attempts = StartAttempts()
        self.confirmation = Confirmation(api, self.store, self.read_sets, self.jobs, attempts, self.progress)
        window = ConcurrencyWindow(inputs.max_concurrent_jobs, retry_after_s=self.poll.max_interval_s)
        self.starter = Starter(api, self.store, generation, self.clock, self.jobs, self.confirmation,
                               self.read_sets, self.progress, self.poll, window, attempts)
        self._unlisted_read_at_s = 0.0
        self.time_left = TimeLeftEstimator()

    # -- public -----------------------------------------------------------------------
    def run(self) -> ActivationResult:
        """Run to the end.

        :raises ReadSetsUnusableError: before starting any job, for unusable read sets.
        :raises ActivationFailedError: after every job ended, if read sets did not become
            ACTIVE (each failure re-checked against the read set's own status).
        :raises ActivationTimeoutError: when ``timeout_seconds`` is spent.
        :raises ActivationCancelledError: when the ``cancel`` event is set.
        :raises ListingStuckError: when the store's jobs in flight cannot be listed (a
            nextToken repeats) before any start, so that starting a job could duplicate
            one; it names the jobs found running by then.
        :raises AwsCallError: for permanent AWS errors (AccessDenied, expired credentials,
            not found, validation), with code and request ID; when jobs are in flight, it
            names them and says the next ``pulumi up`` resumes them
            (:meth:`AwsCallError.with_jobs_left`).
        """
        self.progress.start()
        self.starter.started_at_s = self.progress.started_at_s
        self.deadline_s = self.progress.started_at_s + self.inputs.timeout_seconds
        self.starter.deadline_s = self.deadline_s
        self.api.bound(self.deadline_s, self.cancel)
        self.api.listener = ProgressListener(self.progress)
        try:
            self._check_cancel()
            plan = self._discover()
            self._adopt_and_plan(plan)
            self._wait()
            self._final_sweep()
            self._find_earlier()
        except BudgetExhaustedError as err:
            self._timeout(err)
        except CallCancelledError:
            self._cancelled()
        except ListingStuckError as err:
            if not self.jobs.in_flight:
                raise
            raise ListingStuckError(err.operation, err.pages, err.request_ids,
                                    running_job_ids=list(self.jobs.in_flight)) from err
        except AwsCallError as err:
            # Any other AWS error ends the run (expired credentials, access denied, ...): the
            # jobs in flight keep running, and the error says so, as the timeout's does.
            if not self.jobs.in_flight and self.starter.unanswered is None:
                raise
            raise err.with_jobs_left(self.name, sorted(self.jobs.in_flight), self.jobs.cancelling(),
                                     self._unanswered()) from err
        finally:
            self.api.bound(None, None)
        return self._finish()

    def _on_tracked(self, job_id: str, ids: list[str], origin: str) -> None:
        """A job now covers ``ids``: nothing to confirm for them until it ends, and (unless
        this run started it) nothing to start."""
        self.confirmation.covered(ids)
        if origin != "started":
            self.starter.drop(ids)

    # -- phases -----------------------------------------------------------------------
    def _discover(self) -> ReadSetPlan:
        ids = self.inputs.read_set_ids
        self.progress.say(("discover", 0), lambda: messages.discovery_started(len(ids), self.store), force=True)

        def on_progress(known: int, total: int) -> None:
            self.progress.say(("discover", known),
                              lambda: messages.discovery_progress(known, total, self.progress.elapsed()))

        self.read_sets.discovered(look_up_statuses(self.api, self.store, ids, on_progress=on_progress))
        plan = classify(self.read_sets.statuses)
        if plan.unusable:
            raise ReadSetsUnusableError(self.store, plan.unusable)
        return plan

    def _adopt_and_plan(self, plan: ReadSetPlan) -> None:
        """Adopt the jobs in flight for our read sets, then cut the rest into chunks."""
        to_activate = list(plan.activate)
        waiting = set(plan.wait)
        covered: set[str] = set()
        if to_activate or waiting:
            self.progress.say(("adopt",), lambda: messages.adoption_started(self.store, self.progress.elapsed()))
            covered = self.jobs.look_for_in_flight("adopted")
            if self.jobs.unlisted and set(to_activate) - covered:
                covered |= self._await_unlisted_sources()
        to_activate = [rid for rid in to_activate if rid not in covered]
        self.confirmation.plan(busy=to_activate + sorted(covered), waiting=waiting - covered)
        self.starter.queue(order_by_listing(to_activate, self.read_sets.page_of))
        self.progress.say(("plan",), lambda: messages.plan_line(
            total=len(self.inputs.read_set_ids), store=self.store, active=len(plan.active),
            archived=len(plan.activate), waiting_statuses=[self.read_sets.statuses.get(rid) for rid in plan.wait],
            volume=self.read_sets.volume, in_flight=len(self.jobs.in_flight), to_start=len(self.starter.pending),
            max_concurrent_jobs=self.inputs.max_concurrent_jobs), force=True)

    def _await_unlisted_sources(self) -> set[str]:
        """Wait, bounded, until in-flight jobs with no sources listed show them or leave
        SUBMITTED (design.md section 3.1: starting before could duplicate them)."""
        budget_s = self.jobs.unlisted_wait_s
        until_s = min(self.clock.now() + budget_s, self.deadline_s)
        covered: set[str] = set()
        while self.jobs.unlisted and self.clock.now() < until_s:
            count = len(self.jobs.unlisted)
            self.progress.say(("unlisted", count), functools.partial(self._unlisted_line, budget_s, count))
            self._sleep(min(UNLISTED_POLL_S, until_s - self.clock.now()))
            self._check_cancel()
            covered |= self.jobs.reread_unlisted()
        if self.jobs.unlisted:
            count = len(self.jobs.unlisted)
            self.progress.say(("unlisted-left", count), lambda: messages.unlisted_still_after_wait(count), force=True)
        return covered

    def _unlisted_line(self, budget_s: float, count: int) -> str:
        return messages.unlisted_wait_before_starting(budget_s, count, self.progress.elapsed())

    def _wait(self) -> None:
        """Start, poll, confirm, until nothing is left (or the budget ends)."""
        while True:
            self._check_cancel()
            self.starter.start_ready()
            if self.starter.retried_start:
                self.starter.retried_start = False
                self.jobs.sweep(track=True)
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
            self._reread_unlisted()
            self.starter.start_ready()  # refill freed slots before spending time on confirmation
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
        if self.jobs.found_after() is None and not self.jobs.unlisted:
            return
        try:
            self.jobs.sweep(track=False)
        except BudgetExhaustedError:
            self.progress.say(("sweep-skipped",), messages.sweep_skipped, force=True)

    def _find_earlier(self) -> None:
        """The read sets of ``earlier_read_set_ids`` ACTIVE at the start that ended jobs
        created after ``earlier_jobs_after`` activated (:meth:`JobTracker.find_earlier`),
        recorded as the work of those jobs."""
        wanted = self.earlier_read_set_ids
        if not wanted:
            return
        active = sorted(rid for rid, status in self.read_sets.initial.items() if status == "ACTIVE" and rid in wanted)
        if not active:
            return
        try:
            self.earlier = self.jobs.find_earlier(active, self.earlier_jobs_after)
        except (AwsCallError, BudgetExhaustedError, ListingStuckError) as err:  # every read set is ACTIVE: no failure
            reason = str(err)
            self.progress.say(("earlier-skipped",), lambda: messages.earlier_look_failed(len(active), reason), force=True)
            return
        if self.earlier:
            count = sum(len(ids) for ids in self.earlier.values())
            jobs = len(self.earlier)
            self.progress.say(("earlier",), lambda: messages.earlier_jobs_found(count, len(active), jobs, min(self.earlier)),
                              force=True)

    # -- waiting ----------------------------------------------------------------------
    def _done(self) -> bool:
        return not self.jobs.in_flight and not self.starter.pending and not self.confirmation.unconfirmed

    def _next_wake(self, now_s: float) -> float:
        """When to wake next (:func:`~omics_dynamic.scheduling.next_wake_s`)."""
        starts = poll_basis_s([j.tracked_s for j in self.jobs.in_flight.values()], self.progress.started_at_s,
                              waiting=bool(self.confirmation.unconfirmed or self.starter.pending))
        return next_wake_s(now_s, deadline_s=self.deadline_s, poll_at_s=self.poll.next_poll_at(now_s, starts),
                           idle_s=self.poll.max_interval_s,
                           quota_retry_at_s=self.starter.window.retry_at_s() if self.starter.pending else None,
                           held_until_s=self.starter.held_until_s(), unlisted_read_at_s=self._unlisted_read_due_s(),
                           progress_due_s=self.progress.next_due_s())

    def _unlisted_read_due_s(self) -> Optional[float]:
        """When jobs with unlisted sources are next read again: every
        :data:`~omics_dynamic.limits.UNLISTED_POLL_S` while a chunk is held back for them
        (None otherwise)."""
        if not self.jobs.unlisted or self.jobs.unlisted_wait_until_s() is None:
            return None
        if not any(self.starter.held(queued) for queued in self.starter.pending):
            return None
        return unlisted_read_due_s(self._unlisted_read_at_s, [u.first_seen_s for u in self.jobs.unlisted.values()])

    def _reread_unlisted(self) -> None:
        due_s = self._unlisted_read_due_s()
        if due_s is None or self.clock.now() < due_s:
            return
        count = len(self.jobs.unlisted)
        self.progress.say(("unlisted", count), lambda: messages.unlisted_wait_holding_queue(
            self.jobs.unlisted_wait_s, count, self.starter.queued_read_sets(), self.progress.elapsed()))
        self._unlisted_read_at_s = self.clock.now()
        self.jobs.reread_unlisted()

    def _poll_jobs(self) -> None:
        """Learn which in-flight jobs ended and record each end."""
        if not self.jobs.in_flight:
            return
        ended = self.jobs.ended_jobs()
        for job_id, item in ended.items():
            self._record_end(job_id, item)
        if ended:
            self.confirmation.due = True

    def _record_end(self, job_id: str, item: Mapping[str, Any]) -> None:
        """Record one ended job (its sources read if the poll did not show them)."""
        status = item["status"]
        kind = JOB_STATUS_CLASS.get(status, "failed")
        detail = item if (kind == "done" or "sources" in item) else (self.jobs.get_job(job_id) or item)
        job, freed = self.jobs.end(job_id)
        self.starter.window.on_job_finished()
        duration_s = self.clock.now() - job.tracked_s if job.origin == "started" else None
        if duration_s is not None:
            self.poll.observe_duration(duration_s)
        self.time_left.job_ended(duration_s)
        self.poll.reset_backoff()
        self.confirmation.job_ended(job, status, detail, freed)

    def _confirm(self) -> None:
        requeue = self.confirmation.confirm(final=not self.jobs.in_flight and not self.starter.pending,
                                            in_flight=bool(self.jobs.in_flight),
                                            status_counts_hint=self._status_counts_hint)
        if requeue:
            self.starter.queue(requeue)

    def _status_counts_hint(self) -> dict[str, int]:
        """Read sets expected per status now: the store's others as discovery saw them, our
        queued read sets ARCHIVED, those of jobs in flight ACTIVATING."""
        counts = Counter(self.read_sets.others_non_active or {})
        counts["ARCHIVED"] += self.starter.queued_read_sets()
        counts["ACTIVATING"] += sum(len(j.read_set_ids) for j in self.jobs.in_flight.values())
        return dict(counts)

    # -- ends -------------------------------------------------------------------------
    def _finish(self) -> ActivationResult:
        rs = self.read_sets
        final = sorted(rs.statuses)
        became = sorted(rid for rid in final if rs.initial.get(rid) != "ACTIVE" and rs.statuses[rid] == "ACTIVE")
        failures = self.confirmation.failures
        if failures:
            count = len(failures)
            self.progress.say(("failed",), lambda: messages.failed_line(count), force=True)
            raise ActivationFailedError(self.name, failures, became)
        origin = self.jobs.origin
        covered = set().union(*self.jobs.job_sources.values()) if self.jobs.job_sources else set()
        jobs_by_origin: dict[str, list[str]] = {"started": [], "adopted": [], "found": [], "earlier": []}
        for job_id, job_origin in sorted(origin.items()):
            jobs_by_origin[job_origin].append(job_id)
        self.progress.say(("done",), lambda: messages.done_line(len(final), self.progress.elapsed(), len(origin)),
                          force=True)
        earlier = set().union(*self.earlier.values()) if self.earlier else set()
        by_jobs = sorted([rid for rid in became if rid in covered] + [rid for rid in final if rid in earlier])
        return ActivationResult(
            job_ids=sorted(origin),
            started_job_ids=jobs_by_origin["started"],
            adopted_job_ids=jobs_by_origin["adopted"],
            found_job_ids=jobs_by_origin["found"],
            activated_by_jobs_read_set_ids=by_jobs,
            activated_without_job_read_set_ids=[rid for rid in became if rid not in covered],
            already_active_read_set_ids=sorted(rid for rid, s in rs.initial.items()
                                               if s == "ACTIVE" and rid not in earlier),
            read_set_statuses={rid: rs.statuses[rid] for rid in final},
            activated_at=self.now_iso(),
            calls=Counter(self.api.calls),
            activated_base_count=sum(rs.base_counts.get(rid, 0) for rid in by_jobs),
            store_arn=rs.store_arn,
            earlier_job_ids=jobs_by_origin["earlier"],
        )

    def _timeout(self, blocked: Optional[BudgetExhaustedError]) -> None:
        """Raise ActivationTimeoutError after one last look, each call bounded by a few real
        seconds: the not-yet-ACTIVE statuses are read once more (so the error counts
        ACTIVATING correctly) unless the budget ran out inside a read set call (no answer,
        or transient answers until the end: it would only wait again); and when a start got
        no answer, the store's jobs in flight are listed to find the job it may have
        created."""
        self.api.bound(self.clock.now(), self.cancel)
        if self.starter.unanswered is not None:
            self._look_for_unanswered_start()
        if blocked is None or blocked.operation not in ("ListReadSets", "GetReadSetMetadata"):
            self._refresh_statuses()
        rs = self.read_sets
        counts = Counter(rs.statuses.get(rid, "UNKNOWN") for rid in self.inputs.read_set_ids)
        detail = f"when it ran out: {blocked}" if blocked is not None else ""
        self.progress.say(("timeout",), lambda: messages.timed_out_line(self._counts(), self.progress.elapsed()),
                          force=True)
        quota = None
        if self.starter.quota_refusals and self.starter.pending:
            error = self.starter.last_quota_error
            quota = QuotaRefusals(self.starter.quota_refusals, error.request_id if error else None,
                                  len(self.starter.pending), len(self.jobs.in_flight))
        raise ActivationTimeoutError(self.name, self.inputs.timeout_seconds, sorted(self.jobs.in_flight),
                                     counts, detail, cancelling=self.jobs.cancelling(),
                                     unanswered_start=self._unanswered(), quota=quota,
                                     failures=self.confirmation.known_failures(),
                                     unreachable=blocked.unreachable_advice() if blocked is not None else "")

    def _refresh_statuses(self) -> None:
        stale = sorted(rid for rid in self.inputs.read_set_ids if self.read_sets.statuses.get(rid) != "ACTIVE")
        try:
            found = look_up_statuses(self.api, self.store, stale, unseen_active=True,
                                     status_counts_hint=self._status_counts_hint())
        except (AwsCallError, BudgetExhaustedError, ListingStuckError):
            return  # keep the last known statuses; the timeout is the error to report
        for rid, status in found.statuses.items():
            self.read_sets.set_status(rid, status)

    def _look_for_unanswered_start(self) -> None:
        """A start got no answer: list the store's jobs in flight (found ones are tracked and
        named by the error); when one now covers the start's read sets, that was its job."""
        unanswered = self.starter.unanswered
        if unanswered is None:
            return
        try:
            self.jobs.look_for_in_flight("found")
        except (AwsCallError, BudgetExhaustedError, ListingStuckError):
            return
        queued, _ = unanswered
        if not queued.ids or queued not in self.starter.pending:
            self.starter.unanswered = None  # a job in flight covers every read set of that start

    def _unanswered(self) -> Optional[UnansweredStart]:
        return self.starter.unanswered[1] if self.starter.unanswered is not None else None

    def _cancelled(self) -> None:
        running = sorted(self.jobs.in_flight)
        unanswered = self._unanswered()
        self.progress.say(("cancelled",), lambda: messages.cancelled_line(len(running), unanswered is not None),
                          force=True)
        raise ActivationCancelledError(self.name, running, cancelling=self.jobs.cancelling(),
                                       unanswered_start=unanswered, failures=self.confirmation.known_failures())

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
    def _counts(self) -> RunCounts:
        busy = bool(self.jobs.in_flight or self.starter.pending)
        confirmation = self.confirmation
        finished, suspects = confirmation.ended_counts() if busy else (0, 0)
        return RunCounts(
            active=self.read_sets.active_count, total=len(self.inputs.read_set_ids),
            running=len(self.jobs.in_flight), queued=len(self.starter.pending),
            finished=finished,
            waiting=0 if busy else len(confirmation.unconfirmed),
            failed=len(confirmation.failures) + suspects,
            held=sum(1 for queued in self.starter.pending if self.starter.held(queued)),
            cancelling=sum(1 for job in self.jobs.in_flight.values() if job.status == "CANCELLING"),
            unanswered=int(self.starter.unanswered is not None),
            ended=self.time_left.ended,
            submitted=sum(1 for job in self.jobs.in_flight.values() if job.status == "SUBMITTED"),
            sources_finished=sum(job.sources_finished or 0 for job in self.jobs.in_flight.values()),
            sources_read=sum(len(job.read_set_ids) for job in self.jobs.in_flight.values()
                             if job.sources_finished is not None),
            **self._quota_counts())

    def _quota_counts(self) -> dict[str, Any]:
        if not self.starter.quota_blocked():
            return {}
        error = self.starter.last_quota_error
        return {"quota_refusals": self.starter.quota_refusals,
                "quota_request_id": (error.request_id if error else None) or ""}

    def _say_summary(self) -> None:
        """The waiting line; its cadence key is :meth:`RunCounts.cadence_key` (the time
        left, which moves with the clock, is computed only when the line is printed)."""
        counts = self._counts()
        self.progress.say(("wait",) + counts.cadence_key(),
                          lambda: messages.waiting_line(counts, self.progress.elapsed(), self._time_left_text()))

    def _time_left_text(self) -> str:
        in_flight = self.jobs.in_flight.values()
        return self.time_left.estimate(self.clock.now(), [job.tracked_s for job in in_flight],
                                       queued=len(self.starter.pending), slots=self.starter.window.limit).text
