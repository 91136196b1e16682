"""Starting jobs: the queue of chunks, the concurrency window, and what each answer to
StartReadSetActivationJob means (docs/design.md section 3.1, "clientTokens", "Quota").

The service's handling of a used clientToken is not documented; every answer converges:

- a running job: ours (new, or the token's job from an earlier run);
- an ended job, ConflictException (409), or a ValidationException about the token: the
  token was used; the chunk goes to the next attempt (after the checks of
  :meth:`Starter.token_used`), or fails once its attempts are spent;
- ServiceQuotaExceededException: wait for a slot
  (:class:`~omics_dynamic.scheduling.ConcurrencyWindow`);
- anything else is permanent and raised.
"""

from __future__ import annotations

import re

from ..aws import Clock, OmicsApi, StartAnswer
from ..errors import AwsCallError
from ..planning import chunk, client_token
from ..scheduling import ConcurrencyWindow, PollSchedule, StartAttempts
from .confirmation import Confirmation
from .jobs import JobTracker, is_running

__all__ = ["Starter"]

#: A ValidationException from StartReadSetActivationJob whose message matches this is
#: about the clientToken (used before, for other sources): the next attempt gets a new one.
#: Any other ValidationException is the permanent error it says it is.
_TOKEN_WORDS = re.compile(r"token|idempot", re.IGNORECASE)


class Starter:
    """Starts the queued chunks (at most 20 read sets each) under the concurrency window.

    :param api: the run's HealthOmics calls; ``store``: the sequence store ID.
    :param generation: salt of the clientTokens (:func:`~omics_dynamic.planning.client_token`).
    :param clock: the run's clock.
    :param jobs: the job tracker (started jobs are tracked there).
    :param confirmation: where chunks that cannot be started are reported.
    :param poll: the poll schedule (a start makes the next poll come soon).
    :param window: the concurrency window (``max_concurrent_jobs``, quota blocking).
    :param attempts: clientToken attempts per chunk.

    State: ``pending`` (chunks not yet started, in listing order), ``retried_start`` (a
    start's answer came after botocore retried: an earlier try may have created a job).
    """

    def __init__(self, api: OmicsApi, store: str, generation: str, clock: Clock, jobs: JobTracker,
                 confirmation: Confirmation, poll: PollSchedule, window: ConcurrencyWindow,
                 attempts: StartAttempts):
        self.api = api
        self.store = store
        self.generation = generation
        self.clock = clock
        self.jobs = jobs
        self.confirmation = confirmation
        self.poll = poll
        self.window = window
        self.attempts = attempts
        self.pending: list[list[str]] = []
        self.retried_start = False
        self.started_at_s = 0.0

    # -- the queue -------------------------------------------------------------------
    def queue(self, ids: list[str]) -> None:
        """Queue ``ids`` (in the order to start them) as chunks of at most 20."""
        self.pending.extend(chunk(ids))

    def drop(self, ids: list[str]) -> None:
        """Another job covers ``ids``: take them out of the queue."""
        if self.pending:
            covering = set(ids)
            self.pending = [rest for rest in ([rid for rid in c if rid not in covering] for c in self.pending)
                            if rest]

    # -- starting --------------------------------------------------------------------
    def start_ready(self) -> None:
        """Start queued chunks while the window allows."""
        while self.pending and self.window.can_start(len(self.jobs.in_flight), self.clock.now()):
            if not self._start_one(self.pending[0]):
                return

    def _start_one(self, ids: list[str]) -> bool:
        """Start the first pending chunk; False when the quota blocks further starts."""
        attempt = self.attempts.attempt(ids)
        token = client_token(self.store, ids, self.generation, attempt)
        try:
            answer = self.api.start_job(self.store, ids, token)
        except AwsCallError as err:
            if err.code == "ServiceQuotaExceededException":
                self.window.on_quota_exceeded(len(self.jobs.in_flight), self.clock.now())
                return False
            if err.code == "ConflictException" or (
                    err.code == "ValidationException" and _TOKEN_WORDS.search(err.aws_message or "")):
                self.token_used(ids, attempt, f"{err.code} (request ID {err.request_id or 'none'})",
                                look_again=True)
                return True
            raise
        if not is_running(answer.status):
            self.token_used(ids, attempt, f"job {answer.job_id} already {answer.status} "
                                          f"(request ID {answer.request_id or 'none'})", look_again=False)
            return True
        self._started(ids, answer)
        return True

    def _started(self, ids: list[str], answer: StartAnswer) -> None:
        self.pending.pop(0)
        self.attempts.started(ids)
        self.jobs.started(answer.job_id, ids, answer.creation_time, self.started_at_s)
        self.poll.reset_backoff()
        if answer.retried:
            self.retried_start = True  # an earlier try may have started a job we never heard of

    def token_used(self, ids: list[str], attempt: int, answer: str, look_again: bool) -> None:
        """The attempt's clientToken was used before: adopt what covers the chunk, then let
        the rest go to the next attempt, or fail it once the attempts are spent."""
        allowed = self.attempts.burn(ids, f"attempt {attempt}: {answer}")
        covered = self.jobs.look_for_in_flight("found") if look_again else set()
        remaining = [rid for rid in ids if rid not in covered]
        if allowed or not remaining:
            return
        if remaining in self.pending:  # the chunk, less what was adopted, is still first
            self.pending.remove(remaining)
        answers = self.attempts.answers(ids)
        for rid in remaining:
            self.confirmation.not_started(rid, (
                f"StartReadSetActivationJob answered {len(answers)} clientTokens of this chunk as "
                f"used before ({'; '.join(answers)}); run `pulumi up` again later"))
