"""The activation run: the loop that composes discovery, adoption, starting, polling and
confirmation, and its three ends (success, failure, timeout or cancellation)."""

from __future__ import annotations

import datetime as _dt
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Collection, Optional

from .. import messages
from ..aws import OmicsApi
from ..errors import (
    ActivationCancelledError,
    ActivationFailedError,
    ActivationTimeoutError,
    AwsCallError,
    BudgetExhaustedError,
    CallCancelledError,
    ListingStuckError,
    ReadSetsUnusableError,
)
from ..planning import ActivationInputs, ReadSetPlan, classify
from ..scheduling import (
    ConcurrencyWindow,
    PollSchedule,
    ProgressThrottle,
    StartAttempts,
    order_by_listing,
    unlisted_sources_wait_s,
)
from .adoption import adopt_jobs_in_flight
from .attribution import credit_earlier_jobs, sweep_for_found_jobs
from .confirmation import Confirmation
from .context import RunContext
from .jobs import JobTracker
from .lookup import look_up_statuses
from .progress import Progress, stderr_reporter
from .readsets import ReadSets
from .starting import Starter
from .waiting import WaitLoop

__all__ = ["ActivationResult", "ActivationRun"]


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
        credited, after success, to the ended jobs that activated them (bounded in calls,
        :func:`~omics_dynamic.activation.attribution.find_earlier_jobs`), reported in
        ``earlier_job_ids``. None (default): no such look.
    :param earlier_jobs_after: only jobs created after this instant (on the service's
        clock: the last recorded run's ``activated_at``) are looked at; None: any.

    The parts it composes, each given the run's :class:`RunContext` (calls, clock, budget,
    :class:`ReadSets`, :class:`Progress` lines, poll schedule, cancel event):
    :class:`JobTracker` (jobs in flight, adopted, found), :class:`Starter` (the queue,
    attempts, the window), :class:`Confirmation` (ACTIVE confirmed by the read sets' own
    statuses, failures) and :class:`WaitLoop` (start, poll, confirm until nothing is left).
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
        self.inputs = inputs
        self.name = inputs.resource_name
        self.now_iso = now_iso
        self.earlier_read_set_ids = None if earlier_read_set_ids is None else set(earlier_read_set_ids)
        self.earlier_jobs_after = earlier_jobs_after
        self.earlier: dict[str, set[str]] = {}
        self.ctx = ctx = RunContext(api, inputs.sequence_store_id, ReadSets(inputs.read_set_ids),
                                    Progress(self.name, api.clock, report, progress), poll or PollSchedule(), cancel)
        self.jobs = JobTracker(ctx, self._on_tracked, unlisted_wait_s=unlisted_sources_wait_s(inputs.timeout_seconds))
        attempts = StartAttempts()
        self.confirmation = Confirmation(ctx, self.jobs, attempts)
        window = ConcurrencyWindow(inputs.max_concurrent_jobs, retry_after_s=ctx.poll.max_interval_s)
        self.starter = Starter(ctx, generation, self.jobs, self.confirmation, window, attempts)
        self.waiting = WaitLoop(ctx, self.jobs, self.starter, self.confirmation, total=len(inputs.read_set_ids))

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
        self.ctx.begin(self.inputs.timeout_seconds)
        try:
            self.ctx.check_cancel()
            plan = self._discover()
            self._adopt_and_plan(plan)
            if not self.waiting.run():
                self._final_look()
            sweep_for_found_jobs(self.ctx, self.jobs)
            self.earlier = credit_earlier_jobs(self.ctx, self.jobs, self.earlier_read_set_ids,
                                               self.earlier_jobs_after)
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
            if not self.jobs.in_flight and self.starter.unanswered_start() is None:
                raise
            raise err.with_jobs_left(self.name, sorted(self.jobs.in_flight), self.jobs.cancelling(),
                                     self.starter.unanswered_start()) from err
        finally:
            self.ctx.end()
        return self._finish()

    def _on_tracked(self, job_id: str, ids: list[str], origin: str) -> None:
        """A job now covers ``ids``: nothing to confirm for them until it ends, and (unless
        this run started it) nothing to start."""
        self.confirmation.covered(ids)
        if origin != "started":
            self.starter.drop(ids)

    # -- phases -----------------------------------------------------------------------
    def _discover(self) -> ReadSetPlan:
        ids, store, progress = self.inputs.read_set_ids, self.ctx.store, self.ctx.progress
        progress.say(("discover", 0), lambda: messages.discovery_started(len(ids), store), force=True)

        def on_progress(known: int, total: int) -> None:
            progress.say(("discover", known), lambda: messages.discovery_progress(known, total, progress.elapsed()))

        self.ctx.read_sets.discovered(look_up_statuses(self.ctx.api, store, ids, on_progress=on_progress))
        plan = classify(self.ctx.read_sets.statuses)
        if plan.unusable:
            raise ReadSetsUnusableError(store, plan.unusable)
        return plan

    def _adopt_and_plan(self, plan: ReadSetPlan) -> None:
        """Adopt the jobs in flight for our read sets, then cut the rest into chunks."""
        to_activate = list(plan.activate)
        waiting = set(plan.wait)
        covered = adopt_jobs_in_flight(self.ctx, self.jobs, to_activate) if (to_activate or waiting) else set()
        to_activate = [rid for rid in to_activate if rid not in covered]
        read_sets = self.ctx.read_sets
        self.confirmation.plan(busy=to_activate + sorted(covered), waiting=waiting - covered)
        self.starter.queue(order_by_listing(to_activate, read_sets.page_of))
        self.ctx.progress.say(("plan",), lambda: messages.plan_line(
            total=len(self.inputs.read_set_ids), store=self.ctx.store, active=len(plan.active),
            archived=len(plan.activate), waiting_statuses=[read_sets.statuses.get(rid) for rid in plan.wait],
            volume=read_sets.volume, in_flight=len(self.jobs.in_flight), to_start=self.starter.queued_chunks(),
            max_concurrent_jobs=self.inputs.max_concurrent_jobs), force=True)

    def _final_look(self) -> None:
        """The budget is spent: one last look (each call bounded by a few real seconds) so
        a run that just finished is not lost; otherwise the timeout error."""
        self.ctx.last_look()
        try:
            self.waiting.poll_and_confirm()
        except (BudgetExhaustedError, ListingStuckError):
            pass
        if not self.waiting.done():
            self._timeout(None)

    # -- ends -------------------------------------------------------------------------
    def _finish(self) -> ActivationResult:
        rs = self.ctx.read_sets
        final = sorted(rs.statuses)
        became = sorted(rid for rid in final if rs.initial.get(rid) != "ACTIVE" and rs.statuses[rid] == "ACTIVE")
        failures = self.confirmation.failures
        if failures:
            count = len(failures)
            self.ctx.progress.say(("failed",), lambda: messages.failed_line(count), force=True)
            raise ActivationFailedError(self.name, failures, became)
        origin = self.jobs.origin
        covered = set().union(*self.jobs.job_sources.values()) if self.jobs.job_sources else set()
        jobs_by_origin: dict[str, list[str]] = {"started": [], "adopted": [], "found": [], "earlier": []}
        for job_id, job_origin in sorted(origin.items()):
            jobs_by_origin[job_origin].append(job_id)
        self.ctx.progress.say(("done",), lambda: messages.done_line(len(final), self.ctx.progress.elapsed(),
                                                                    len(origin)), force=True)
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
            calls=Counter(self.ctx.api.calls),
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
        created (:meth:`Starter.look_for_unanswered_start`)."""
        self.ctx.last_look()
        self.starter.look_for_unanswered_start()
        if blocked is None or blocked.operation not in ("ListReadSets", "GetReadSetMetadata"):
            self._refresh_statuses()
        counts = Counter(self.ctx.read_sets.statuses.get(rid, "UNKNOWN") for rid in self.inputs.read_set_ids)
        detail = f"when it ran out: {blocked}" if blocked is not None else ""
        self.ctx.progress.say(("timeout",), lambda: messages.timed_out_line(self.waiting.counts(),
                                                                            self.ctx.progress.elapsed()), force=True)
        raise ActivationTimeoutError(self.name, self.inputs.timeout_seconds, sorted(self.jobs.in_flight),
                                     counts, detail, cancelling=self.jobs.cancelling(),
                                     unanswered_start=self.starter.unanswered_start(),
                                     quota=self.starter.quota_refusals_left(),
                                     failures=self.confirmation.known_failures(),
                                     unreachable=blocked.unreachable_advice() if blocked is not None else "")

    def _refresh_statuses(self) -> None:
        read_sets = self.ctx.read_sets
        stale = sorted(rid for rid in self.inputs.read_set_ids if read_sets.statuses.get(rid) != "ACTIVE")
        try:
            found = look_up_statuses(self.ctx.api, self.ctx.store, stale, unseen_active=True,
                                     status_counts_hint=self.waiting.status_counts_hint())
        except (AwsCallError, BudgetExhaustedError, ListingStuckError):
            return  # keep the last known statuses; the timeout is the error to report
        for rid, status in found.statuses.items():
            read_sets.set_status(rid, status)

    def _cancelled(self) -> None:
        running = sorted(self.jobs.in_flight)
        unanswered = self.starter.unanswered_start()
        self.ctx.progress.say(("cancelled",), lambda: messages.cancelled_line(len(running), unanswered is not None),
                              force=True)
        raise ActivationCancelledError(self.name, running, cancelling=self.jobs.cancelling(),
                                       unanswered_start=unanswered, failures=self.confirmation.known_failures())
