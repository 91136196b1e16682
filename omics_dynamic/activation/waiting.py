"""The waiting phase of a run: start what the concurrency window allows, sleep until the
next wake (:func:`~omics_dynamic.scheduling.next_wake_s`), poll the jobs in flight, read
the jobs whose sources are not listed yet, confirm, and say where things stand, until
nothing is left or the budget is spent."""

from __future__ import annotations

from collections import Counter
from typing import Any, Optional

from .. import messages
from ..scheduling import next_wake_s, poll_basis_s, unlisted_read_due_s
from .confirmation import Confirmation
from .context import RunContext
from .jobs import JobTracker
from .polling import JobPoller
from .progress import RunCounts
from .starting import Starter

__all__ = ["WaitLoop"]


class WaitLoop:
    """Drives the parts of a run from its first start until nothing is left.

    :param ctx: the run's shared context (clock, deadline, poll schedule, progress lines).
    :param jobs: the jobs in flight; ``starter``: the queue; ``confirmation``: the read
        sets to confirm.
    :param total: the run's read sets (the waiting line's denominator).
    """

    def __init__(self, ctx: RunContext, jobs: JobTracker, starter: Starter, confirmation: Confirmation,
                 total: int):
        self.ctx = ctx
        self.jobs = jobs
        self.starter = starter
        self.confirmation = confirmation
        self.poller = JobPoller(ctx, jobs, starter, confirmation)
        self.total = total
        self._unlisted_read_at_s = 0.0

    def run(self) -> bool:
        """Start, poll, confirm, until nothing is left or the deadline comes.

        :returns: True when nothing is left (:meth:`done`); False at the deadline (the
            caller takes its last look, :meth:`poll_and_confirm`).
        :raises CallCancelledError: when the run's cancel event is set.
        :raises AwsCallError: for permanent AWS errors of the calls.
        :raises BudgetExhaustedError: when a call gets no answer before the deadline.
        """
        ctx = self.ctx
        while True:
            ctx.check_cancel()
            self.starter.start_ready()
            if self.starter.take_retried_start():
                self.jobs.sweep(track=True)
            if self.done():
                return True
            now_s = ctx.clock.now()
            if now_s < ctx.deadline_s:
                wake_s = self._next_wake(now_s)
                if wake_s > now_s:
                    ctx.sleep(wake_s - now_s)
                ctx.check_cancel()
            if ctx.clock.now() >= ctx.deadline_s:
                return False
            self.say_summary()  # a heartbeat due now is not held back by the calls below
            self.poller.poll()
            self._reread_unlisted()
            self.starter.start_ready()  # refill freed slots before spending time on confirmation
            self.confirm()
            self.say_summary()

    def done(self) -> bool:
        """True when no job of the run is in flight, nothing is queued, nothing left to confirm."""
        return not self.jobs.in_flight and not self.starter.queued_chunks() and not self.confirmation.unconfirmed

    def poll_and_confirm(self) -> None:
        """One poll of the jobs in flight, then one confirmation (the last look at the deadline)."""
        self.poller.poll()
        self.confirm()

    def _next_wake(self, now_s: float) -> float:
        """When to wake next (:func:`~omics_dynamic.scheduling.next_wake_s`)."""
        ctx, starter = self.ctx, self.starter
        starts = poll_basis_s([j.tracked_s for j in self.jobs.in_flight.values()], ctx.started_at_s,
                              waiting=bool(self.confirmation.unconfirmed or starter.queued_chunks()))
        return next_wake_s(now_s, deadline_s=ctx.deadline_s, poll_at_s=ctx.poll.next_poll_at(now_s, starts),
                           idle_s=ctx.poll.max_interval_s, quota_retry_at_s=starter.quota_retry_at_s(),
                           held_until_s=starter.held_until_s(), unlisted_read_at_s=self._unlisted_read_due_s(),
                           progress_due_s=ctx.progress.next_due_s())

    def _unlisted_read_due_s(self) -> Optional[float]:
        """When jobs with unlisted sources are next read again: every
        :data:`~omics_dynamic.limits.UNLISTED_POLL_S` while a chunk is held back for them
        (None otherwise)."""
        if not self.jobs.unlisted or self.jobs.unlisted_wait_until_s() is None:
            return None
        if not self.starter.held_chunks():
            return None
        return unlisted_read_due_s(self._unlisted_read_at_s, [u.first_seen_s for u in self.jobs.unlisted.values()])

    def _reread_unlisted(self) -> None:
        due_s = self._unlisted_read_due_s()
        if due_s is None or self.ctx.clock.now() < due_s:
            return
        count = len(self.jobs.unlisted)
        progress = self.ctx.progress
        progress.say(("unlisted", count), lambda: messages.unlisted_wait_holding_queue(
            self.jobs.unlisted_wait_s, count, self.starter.queued_read_sets(), progress.elapsed()))
        self._unlisted_read_at_s = self.ctx.clock.now()
        self.jobs.reread_unlisted()

    def confirm(self) -> None:
        """Confirm what can be confirmed now (:meth:`Confirmation.confirm`); read sets still
        ARCHIVED after their job go back to the queue."""
        busy = bool(self.jobs.in_flight)
        requeue = self.confirmation.confirm(final=not busy and not self.starter.queued_chunks(),
                                            in_flight=busy, status_counts_hint=self.status_counts_hint)
        if requeue:
            self.starter.queue(requeue)

    def status_counts_hint(self) -> dict[str, int]:
        """Read sets expected per status now: the store's others as discovery saw them, our
        queued read sets ARCHIVED, those of jobs in flight ACTIVATING."""
        counts = Counter(self.ctx.read_sets.others_non_active or {})
        counts["ARCHIVED"] += self.starter.queued_read_sets()
        counts["ACTIVATING"] += sum(len(j.read_set_ids) for j in self.jobs.in_flight.values())
        return dict(counts)

    # -- progress ---------------------------------------------------------------------
    def counts(self) -> RunCounts:
        """Where the run stands, for the waiting line (and the timeout's)."""
        busy = bool(self.jobs.in_flight or self.starter.queued_chunks())
        parts: dict[str, Any] = {**self.jobs.counts(), **self.starter.counts(), **self.confirmation.counts(busy)}
        return RunCounts(active=self.ctx.read_sets.active_count, total=self.total, ended=self.ctx.time_left.ended,
                         **parts)

    def say_summary(self) -> None:
        """The waiting line; its cadence key is :meth:`RunCounts.cadence_key` (the time
        left, which moves with the clock, is computed only when the line is printed)."""
        counts = self.counts()
        progress = self.ctx.progress
        progress.say(("wait",) + counts.cadence_key(),
                     lambda: messages.waiting_line(counts, progress.elapsed(), self._time_left_text()))

    def _time_left_text(self) -> str:
        in_flight = self.jobs.in_flight.values()
        return self.ctx.time_left.estimate(self.ctx.clock.now(), [job.tracked_s for job in in_flight],
                                           queued=self.starter.queued_chunks(), slots=self.starter.slots()).text
