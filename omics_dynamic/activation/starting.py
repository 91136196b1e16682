"""Starting jobs: the queue of chunks, the concurrency window, and what each answer to
StartReadSetActivationJob means (docs/design.md section 3.1, "clientTokens", "Quota").

The service's handling of a used clientToken is not documented; every answer converges:

- a running job: ours (new, or the token's job from an earlier run);
- an ended job, ConflictException (409), or a ValidationException about the token: the
  token was used, so a job exists for it; the chunk goes to the next attempt only after
  the checks of :meth:`Starter.token_used` (jobs in flight found, jobs with unlisted
  sources waited for, the read sets' own statuses re-checked), or fails once its attempts
  are spent;
- ServiceQuotaExceededException: wait for a slot
  (:class:`~omics_dynamic.scheduling.ConcurrencyWindow`);
- anything else is permanent and raised.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional

from .. import messages
from ..aws import StartAnswer
from ..errors import (
    AwsCallError,
    BudgetExhaustedError,
    CallCancelledError,
    ListingStuckError,
    QuotaRefusals,
    UnansweredStart,
)
from ..planning import chunk, client_token
from ..scheduling import ConcurrencyWindow, StartAttempts
from .confirmation import Confirmation
from .context import RunContext
from .jobs import JobTracker, is_running
from .lookup import look_up_statuses

__all__ = ["Chunk", "Starter"]

#: A ValidationException from StartReadSetActivationJob whose message matches this is
#: about the clientToken (used before, for other sources): the next attempt gets a new one.
#: Any other ValidationException is the permanent error it says it is.
_TOKEN_WORDS = re.compile(r"token|idempot", re.IGNORECASE)


@dataclass(eq=False)
class Chunk:
    """Read sets to start in one job (at most 20), in the order to start them.

    ``recheck``: a start of this chunk was answered "token used" (a job exists for that
    token): before the next attempt the read sets' own statuses are looked up again
    (:meth:`Starter.token_used`). ``hold_until_s``: no next attempt before this clock time
    (the store's job listing does not advance, so the token's job cannot be found).
    """

    ids: list[str]
    recheck: bool = False
    hold_until_s: Optional[float] = None


class Starter:
    """Starts the queued chunks (at most 20 read sets each) under the concurrency window.

    :param ctx: the run's shared context (calls, store, clock, read sets: statuses a
        re-check learns are recorded there; progress: lines about held chunks; the poll
        schedule: a start makes the next poll come soon; the deadline: no start from then on).
    :param generation: salt of the clientTokens (:func:`~omics_dynamic.planning.client_token`).
    :param jobs: the job tracker (started jobs are tracked there).
    :param confirmation: where read sets that leave the queue are confirmed (or reported).
    :param window: the concurrency window (``max_concurrent_jobs``, quota blocking).
    :param attempts: clientToken attempts per chunk.

    State: ``pending`` (:class:`Chunk` s not yet started, in listing order),
    ``quota_refusals`` and ``last_quota_error`` (starts refused with
    ServiceQuotaExceededException), ``unanswered`` (a start that got no answer before the
    run stopped: it may have created a job).
    """

    def __init__(self, ctx: RunContext, generation: str, jobs: JobTracker, confirmation: Confirmation,
                 window: ConcurrencyWindow, attempts: StartAttempts):
        self.ctx = ctx
        self.api = ctx.api
        self.store = ctx.store
        self.generation = generation
        self.clock = ctx.clock
        self.jobs = jobs
        self.confirmation = confirmation
        self.read_sets = ctx.read_sets
        self.progress = ctx.progress
        self.window = window
        self.attempts = attempts
        self.pending: list[Chunk] = []
        self._retried_start = False
        self.quota_refusals = 0
        self.last_quota_error: Optional[AwsCallError] = None
        self.unanswered: Optional[tuple[Chunk, UnansweredStart]] = None

    # -- the queue -------------------------------------------------------------------
    def queue(self, ids: list[str]) -> None:
        """Queue ``ids`` (in the order to start them) as chunks of at most 20."""
        self.pending.extend(Chunk(ids_) for ids_ in chunk(ids))

    def drop(self, ids: list[str]) -> None:
        """Another job covers ``ids``: take them out of the queue."""
        if self.pending:
            covering = set(ids)
            for queued in self.pending:
                queued.ids = [rid for rid in queued.ids if rid not in covering]
            self.pending = [queued for queued in self.pending if queued.ids]

    def queued_read_sets(self) -> int:
        """Read sets in the queue."""
        return sum(len(queued.ids) for queued in self.pending)

    def queued_chunks(self) -> int:
        """Chunks in the queue (each one job to start)."""
        return len(self.pending)

    def held_chunks(self) -> int:
        """Chunks in the queue that may not be started now (:meth:`held`)."""
        return sum(1 for queued in self.pending if self.held(queued))

    def held(self, queued: Chunk) -> bool:
        """True while ``queued`` may not be started (again): a job in flight whose sources
        are not listed yet (or that is not found yet) may cover its read sets, whoever
        started it and whatever the read sets' statuses say (waited for, bounded by
        ``unlisted_wait_s`` from when the run first saw that job); or its token's job
        cannot be listed (``hold_until_s``)."""
        if queued.recheck and queued.hold_until_s is not None and self.clock.now() < queued.hold_until_s:
            return True
        return self.jobs.unlisted_wait_until_s() is not None

    def held_until_s(self) -> Optional[float]:
        """The earliest clock time a held chunk may go again (None: none is held)."""
        ends = []
        for queued in self.pending:
            if self.held(queued):
                ends.append(max(queued.hold_until_s or 0.0, self.jobs.unlisted_wait_until_s() or 0.0))
        return min(ends, default=None)

    # -- the concurrency window and the quota --------------------------------------------
    def slots(self) -> int:
        """Jobs the concurrency window lets run at once now."""
        return self.window.limit

    def job_ended(self) -> None:
        """A job of the run ended: its slot in the concurrency window is free."""
        self.window.on_job_finished()

    def quota_retry_at_s(self) -> Optional[float]:
        """When a start refused for the quota (none of the run's jobs in flight) may be tried
        again, while chunks are queued (clock seconds; None otherwise)."""
        return self.window.retry_at_s() if self.pending else None

    def quota_refusals_left(self) -> Optional[QuotaRefusals]:
        """The quota's refusals for an error that stops the run with chunks still queued:
        how many starts were refused, the last refusal's request ID, the chunks queued and
        the jobs in flight; None when no start was refused or nothing is queued."""
        if not (self.quota_refusals and self.pending):
            return None
        error = self.last_quota_error
        return QuotaRefusals(self.quota_refusals, error.request_id if error else None,
                             len(self.pending), len(self.jobs.in_flight))

    def counts(self) -> dict[str, Any]:
        """The waiting line's queue counts (:class:`~omics_dynamic.activation.progress.RunCounts`
        fields): ``queued`` and ``held`` chunks, ``unanswered`` (1 when a start got no
        answer), and while the quota holds the queue back (starts were refused, chunks
        wait, the window is blocked) ``quota_refusals`` and ``quota_request_id`` (the last
        refusal's, "" if none)."""
        counts: dict[str, Any] = {"queued": len(self.pending), "held": self.held_chunks(),
                                  "unanswered": int(self.unanswered is not None)}
        quota = self.quota_refusals_left() if self.window.blocked() else None
        if quota is not None:
            counts.update(quota_refusals=quota.refusals, quota_request_id=quota.last_request_id or "")
        return counts

    # -- starting --------------------------------------------------------------------
    def _may_start(self) -> bool:
        now_s = self.clock.now()
        return now_s < self.ctx.deadline_s and self.window.can_start(len(self.jobs.in_flight), now_s)

    def take_retried_start(self) -> bool:
        """True once after a start whose answer came after botocore retried (an earlier try
        may have created a job the run never heard of: the caller looks for it)."""
        retried, self._retried_start = self._retried_start, False
        return retried

    def start_ready(self) -> None:
        """Start queued chunks while the window allows and the budget lasts: first those
        that need no re-check, then, in one status lookup, the re-checked ones that are not
        held."""
        while self.pending:
            for queued in list(self.pending):
                if not self._may_start():
                    return
                if queued.recheck or queued not in self.pending or self.held(queued):
                    continue
                if not self._start_one(queued):
                    return
            due = [queued for queued in self.pending if queued.recheck and not self.held(queued)]
            if not due or not self._may_start():
                return
            self._recheck(due)

    def _start_one(self, queued: Chunk) -> bool:
        """Start one chunk; False when the quota blocks further starts."""
        ids = queued.ids
        attempt = self.attempts.attempt(ids)
        token = client_token(self.store, ids, self.generation, attempt)
        try:
            answer = self.api.start_job(self.store, ids, token)
        except (BudgetExhaustedError, CallCancelledError) as err:
            if err.sent:  # the run stops here; the job may exist
                self.unanswered = (queued, UnansweredStart(token, len(ids)))
            raise
        except AwsCallError as err:
            if err.code == "ServiceQuotaExceededException":
                self.quota_refusals += 1
                self.last_quota_error = err
                self.window.on_quota_exceeded(len(self.jobs.in_flight), self.clock.now())
                return False
            if err.code == "ConflictException" or (
                    err.code == "ValidationException" and _TOKEN_WORDS.search(err.aws_message or "")):
                self.token_used(queued, attempt, f"{err.code} (request ID {err.request_id or 'none'})",
                                look_again=True)
                return True
            raise
        if not is_running(answer.status):
            self.token_used(queued, attempt, f"job {answer.job_id} already {answer.status} "
                                             f"(request ID {answer.request_id or 'none'})", look_again=False)
            return True
        self._started(queued, answer)
        return True

    def _started(self, queued: Chunk, answer: StartAnswer) -> None:
        self.pending.remove(queued)
        self.attempts.started(queued.ids)
        self.jobs.started(answer.job_id, queued.ids, answer.creation_time, answer.status)
        self.ctx.poll.reset_backoff()
        if answer.retried:
            self._retried_start = True  # an earlier try may have started a job we never heard of

    def token_used(self, queued: Chunk, attempt: int, answer: str, look_again: bool) -> None:
        """The attempt's clientToken was used before: a job exists (or existed) for it.

        The chunk is not attempted again at once (design.md section 3.1, "clientTokens"):

        1. with ``look_again`` (the answer does not name the job: 409, 400), the store's
           jobs in flight are listed again and those covering the chunk are tracked (found);
           a job with no sources listed yet holds the chunk back (bounded, as at the start,
           :meth:`held`); a listing that does not advance holds it back for as long, then
           the re-check decides;
        2. before the next attempt the read sets' own statuses are looked up
           (:meth:`_recheck`): ACTIVE, ACTIVATING or PROCESSING_UPLOAD ones need no new job
           (the token's job, or somebody's, activated or is activating them); only the
           ARCHIVED ones are started, with the next attempt number.

        Once the chunk's attempts are spent, its read sets fail naming every answer.
        """
        ids = list(queued.ids)
        allowed = self.attempts.burn(ids, f"attempt {attempt}: {answer}")
        if look_again:
            try:
                self.jobs.look_for_in_flight("found")
            except ListingStuckError as err:
                self._listing_stuck(queued, err)
        if queued not in self.pending:  # every read set is covered by a job found just now
            return
        if allowed:
            queued.recheck = True
            return
        self.pending.remove(queued)
        answers = self.attempts.answers(ids)
        for rid in queued.ids:
            self.confirmation.not_started(rid, (
                f"StartReadSetActivationJob answered {len(answers)} clientTokens of this chunk as "
                f"used before ({'; '.join(answers)}); run `pulumi up` again later"))

    def _listing_stuck(self, queued: Chunk, err: ListingStuckError) -> None:
        """The token's job cannot be looked for: poll by reading each job from now on, and
        hold the chunk back as long as a job with unlisted sources would be."""
        self.jobs.listing_stuck = True
        queued.hold_until_s = self.clock.now() + self.jobs.unlisted_wait_s
        wait_s = self.jobs.unlisted_wait_s
        reason = str(err)
        self.progress.say(("token-listing-stuck", tuple(queued.ids)),
                          lambda: messages.token_listing_stuck(reason, wait_s, len(queued.ids)), force=True)

    def _recheck(self, due: list[Chunk]) -> None:
        """Look up the statuses of the re-checked chunks' read sets in one lookup; what is
        not ARCHIVED leaves the queue (to confirmation); the rest goes to its next attempt."""
        ids = [rid for queued in due for rid in queued.ids]
        found = look_up_statuses(self.api, self.store, ids, unseen_active=True)
        for queued in due:
            queued.recheck = False
            queued.hold_until_s = None
            keep = []
            for rid in queued.ids:
                status = found.statuses.get(rid, "ARCHIVED")
                if status == "ARCHIVED":
                    self.read_sets.set_status(rid, status)
                    keep.append(rid)
                else:
                    self.confirmation.leave_queue(rid, status)
            queued.ids = keep
        self.pending = [queued for queued in self.pending if queued.ids]

    # -- a start that got no answer -------------------------------------------------------
    def unanswered_start(self) -> Optional[UnansweredStart]:
        """The start that got no answer before the run stopped (it may have created a job),
        or None."""
        return self.unanswered[1] if self.unanswered is not None else None

    def look_for_unanswered_start(self) -> None:
        """A start got no answer: list the store's jobs in flight (found ones are tracked,
        and named by the error that ends the run); when they now cover every read set of
        that start, it is answered (its job is one of them). A listing that fails leaves
        it unanswered."""
        if self.unanswered is None:
            return
        try:
            self.jobs.look_for_in_flight("found")
        except (AwsCallError, BudgetExhaustedError, ListingStuckError):
            return
        queued, _ = self.unanswered
        if not queued.ids or queued not in self.pending:
            self.unanswered = None  # a job in flight covers every read set of that start
