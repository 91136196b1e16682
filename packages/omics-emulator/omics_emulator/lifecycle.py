"""The activation job lifecycle: what happens to jobs, sources and read sets as emulated
time passes (events on the backend's clock), and the console-style cancel.

A mixin of :class:`~.backend.Backend` (it works on the backend's state under its lock;
the lifecycle is described in :mod:`.backend`'s docstring). Events are scheduled with
``Backend.events.push(at_s, method, *args)`` (:class:`~.schedule.EventQueue`) and applied in time
order by ``Backend.tick``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Dict, Optional, Set

from .records import ACTIVE_JOB_STATUSES, Job, ReadSet, SequenceStore

if TYPE_CHECKING:
    import random
    import threading

    from .profiles import Behaviour
    from .schedule import ArchiveSchedule, EventQueue

__all__ = ["JobLifecycle"]

_UNFINISHED = ("NOT_STARTED", "IN_PROGRESS")


class JobLifecycle:
    """Job starts, source completions, failures, cancellation (mixin of Backend)."""

    if TYPE_CHECKING:  # provided by Backend
        jobs: Dict[str, Job]
        stores: Dict[str, SequenceStore]
        behaviour: Behaviour
        lock: threading.RLock
        jitter: float
        activation_seconds: float
        _jitter_rng: random.Random
        _active_jobs: Set[str]
        events: EventQueue
        archiving: ArchiveSchedule

        def tick(self) -> float: ...

        def _set_status(self, item: Any, status: str) -> None: ...

    def cancel_job(self, job_id: str, cancelling_s: float = 5.0) -> Dict[str, Any]:
        """Cancel an activation job as a console user would (there is no cancel API).

        The job is CANCELLING at once, with statusMessage "Cancellation requested" (its
        sources stop progressing; it still counts toward the concurrent-job quota), then
        CANCELLED ``cancelling_s`` emulated seconds later, with ``completionTime`` and
        statusMessage "Job cancelled before all read sets were activated"; sources not
        FINISHED or FAILED keep their status (NOT_STARTED or IN_PROGRESS) with no
        message, and their read sets that this job was activating become ARCHIVED again.

        :returns: the job as a plain dict (see :meth:`job_dicts`).
        :raises KeyError: unknown job ID. :raises ValueError: the job already ended or is
            cancelling, or ``cancelling_s`` is negative.
        """
        try:
            delay_s = float(cancelling_s)
        except (TypeError, ValueError):
            delay_s = -1.0
        if isinstance(cancelling_s, bool) or not 0 <= delay_s < math.inf:
            raise ValueError(f"cancelling_s must be a finite number of emulated seconds >= 0, got {cancelling_s!r}")
        with self.lock:
            now_s = self.tick()
            job = self.jobs.get(job_id)
            if job is None:
                raise KeyError(f"activation job {job_id!r} does not exist; Emulator.jobs() lists the jobs")
            if job.status not in ACTIVE_JOB_STATUSES:
                raise ValueError(f"activation job {job_id} is {job.status}; only SUBMITTED or IN_PROGRESS jobs can be cancelled")
            self._set_status(job, "CANCELLING")
            job.status_message = "Cancellation requested"
            self.events.push(now_s + delay_s, self._job_cancelled, job.id)
            self.tick()
            return job.as_dict()

    # ------------------------------------------------------------ job lifecycle (events)

    def _duration_s(self) -> float:
        j = self.jitter
        return self.activation_seconds * (1.0 + (self._jitter_rng.uniform(-j, j) if j else 0.0))

    def _read_set(self, store_id: str, rid: str) -> Optional[ReadSet]:
        store = self.stores.get(store_id)
        return store.read_sets.get(rid) if store else None

    def _seeded_activation_done(self, at_s: float, store_id: str, rid: str) -> None:
        rs = self._read_set(store_id, rid)
        if rs is not None and rs.status == "ACTIVATING" and rs.activating_job is None:
            self._set_status(rs, "ACTIVE")
            self.archiving.touch(rs, at_s)

    def _job_start(self, at_s: float, job_id: str) -> None:
        job = self.jobs[job_id]
        if job.status != "SUBMITTED":  # cancelled while queued
            return
        self._set_status(job, "IN_PROGRESS")
        job.started = True
        for idx, src in enumerate(job.sources):
            rs = self._read_set(job.store_id, src.read_set_id)
            if rs is None:
                src.status, src.status_message = "FAILED", f"Read set {src.read_set_id} was not found in sequence store {job.store_id}"
            elif rs.status in ("ACTIVE", "ACTIVATING"):
                src.status, src.status_message = self.behaviour.source_outcome_not_archived(rs.status)
                self.archiving.touch(rs, at_s)
            elif rs.status != "ARCHIVED":
                src.status, src.status_message = "FAILED", f"Read set is {rs.status}; only ARCHIVED read sets can be activated"
            else:
                src.status = "IN_PROGRESS"
                self._set_status(rs, "ACTIVATING")
                rs.activating_job = job.id
                self.archiving.touch(rs, at_s)
                if job.forced_failure is None:
                    self.events.push(at_s + self._duration_s(), self._source_finish, job.id, idx)
        if job.forced_failure is not None:
            self.events.push(at_s + self.activation_seconds, self._job_fail, job.id)
        self._maybe_complete(job, at_s)

    def _release(self, job: Job, rs: Optional[ReadSet]) -> None:
        """A source of ``job`` ended without activating: its read set is ARCHIVED again."""
        if rs is not None and rs.status == "ACTIVATING" and rs.activating_job == job.id:
            self._set_status(rs, "ARCHIVED")
            rs.activating_job = None

    def _source_finish(self, at_s: float, job_id: str, idx: int) -> None:
        job = self.jobs[job_id]
        src = job.sources[idx]
        if src.status != "IN_PROGRESS" or job.status != "IN_PROGRESS":
            return
        rs = self._read_set(job.store_id, src.read_set_id)
        if src.fail_message is not None:
            src.status, src.status_message = "FAILED", src.fail_message
            self._release(job, rs)
        elif rs is None or rs.status != "ACTIVATING":
            state = rs.status if rs is not None else "gone"
            src.status, src.status_message = "FAILED", f"Read set is {state}; activation was interrupted"
        else:
            src.status, src.status_message = "FINISHED", "Read set activated"
            lag_s = self.behaviour.activating_lag_s
            if lag_s > 0:
                self.events.push(at_s + lag_s, self._activated_after_lag, job.id, job.store_id, rs.id)
            else:
                self._activation_ended(at_s, job.id, rs)
        self._maybe_complete(job, at_s)

    def _activation_ended(self, at_s: float, job_id: str, rs: ReadSet) -> None:
        """The read set's activation ended: ACTIVE, or first the profile's undocumented
        transitional status for ``transitional_s`` seconds."""
        held_s = self.behaviour.transitional_s
        if held_s > 0:
            self._set_status(rs, self.behaviour.transitional_status)
            self.archiving.touch(rs, at_s)
            self.events.push(at_s + held_s, self._active_after_transition, job_id, rs.store_id, rs.id)
            return
        self._set_status(rs, "ACTIVE")
        rs.activating_job = None
        self.archiving.touch(rs, at_s)

    def _active_after_transition(self, at_s: float, job_id: str, store_id: str, rid: str) -> None:
        """A read set in the transitional status becomes ACTIVE, unless it changed meanwhile."""
        rs = self._read_set(store_id, rid)
        if rs is not None and rs.status == self.behaviour.transitional_status and rs.activating_job == job_id:
            self._set_status(rs, "ACTIVE")
            rs.activating_job = None
            self.archiving.touch(rs, at_s)

    def _activated_after_lag(self, at_s: float, job_id: str, store_id: str, rid: str) -> None:
        """A read set whose source FINISHED ``activating_lag_s`` ago becomes ACTIVE, unless
        it changed meanwhile (archived, deleted, or taken over by another job)."""
        rs = self._read_set(store_id, rid)
        if rs is not None and rs.status == "ACTIVATING" and rs.activating_job == job_id:
            self._activation_ended(at_s, job_id, rs)

    def _job_cancelled(self, at_s: float, job_id: str) -> None:
        job = self.jobs[job_id]
        for src in job.sources:
            if src.status in _UNFINISHED:
                self._release(job, self._read_set(job.store_id, src.read_set_id))
        self._set_status(job, "CANCELLED")
        job.status_message = "Job cancelled before all read sets were activated"
        self._end(job, at_s)

    def _job_fail(self, at_s: float, job_id: str) -> None:
        job = self.jobs[job_id]
        if job.status not in ACTIVE_JOB_STATUSES:
            return
        for src in job.sources:
            if src.status in _UNFINISHED:
                src.status, src.status_message = "FAILED", job.forced_failure
                self._release(job, self._read_set(job.store_id, src.read_set_id))
        self._set_status(job, "FAILED")
        job.status_message = job.forced_failure
        self._end(job, at_s)

    def _maybe_complete(self, job: Job, at_s: float) -> None:
        if any(s.status in _UNFINISHED for s in job.sources):
            return
        failed = sum(1 for s in job.sources if s.status == "FAILED")
        if failed == 0:
            self._set_status(job, "COMPLETED")
        elif failed == len(job.sources):
            self._set_status(job, "FAILED")
            job.status_message = f"All {failed} read sets failed to activate"
        else:
            self._set_status(job, "COMPLETED_WITH_FAILURES")
            job.status_message = f"{failed} of {len(job.sources)} read sets failed to activate"
        self._end(job, at_s)

    def _end(self, job: Job, at_s: float) -> None:
        job.completion_time_s = at_s
        self._active_jobs.discard(job.id)
