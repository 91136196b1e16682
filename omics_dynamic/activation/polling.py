"""Polling: which jobs in flight ended, and what each end means for the run.

Few jobs in flight (:data:`~omics_dynamic.limits.GET_EACH_JOB_UP_TO`): one
GetReadSetActivationJob each. More: one listing of the store's jobs created since the oldest
in flight (which also shows recent jobs the run does not know: they are looked at as found
jobs); a listing that does not advance falls back to reading each job for the rest of the
run (``listing_stuck`` of :class:`~omics_dynamic.activation.jobs.JobTracker`).
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Mapping

from .. import messages
from ..errors import ListingStuckError
from ..limits import GET_EACH_JOB_UP_TO
from .confirmation import Confirmation
from .context import RunContext
from .jobs import JOB_STATUS_CLASS, JobTracker, TrackedJob, is_running
from .starting import Starter

__all__ = ["GET_EACH_JOB_UP_TO", "JobPoller"]


class JobPoller:
    """Polls the run's jobs in flight and records each one that ended.

    :param ctx: the run's shared context (calls, clock, poll schedule, time-left estimate).
    :param jobs: the jobs in flight.
    :param starter: told of each end (a slot of the concurrency window is free).
    :param confirmation: told of each end (its read sets are confirmed, its failures
        re-checked).
    """

    def __init__(self, ctx: RunContext, jobs: JobTracker, starter: Starter, confirmation: Confirmation):
        self.ctx = ctx
        self.jobs = jobs
        self.starter = starter
        self.confirmation = confirmation

    def poll(self) -> None:
        """Learn which jobs in flight ended and record each end (none in flight: no call).

        :raises AwsCallError: for permanent AWS errors of the calls.
        :raises BudgetExhaustedError: when the run's budget ends during them.
        """
        if not self.jobs.in_flight:
            return
        for job_id, item in self._ended_jobs().items():
            self._record_end(job_id, item)

    def _record_end(self, job_id: str, item: Mapping[str, Any]) -> None:
        """Record one ended job (its sources read if the poll did not show them): the poll
        schedule learns the duration of a job this run started, the time left counts it."""
        status = item["status"]
        kind = JOB_STATUS_CLASS.get(status, "failed")
        detail = item if (kind == "done" or "sources" in item) else (self.jobs.get_job(job_id) or item)
        job, freed = self.jobs.end(job_id)
        self.starter.job_ended()
        duration_s = self.ctx.clock.now() - job.tracked_s if job.origin == "started" else None
        if duration_s is not None:
            self.ctx.poll.observe_duration(duration_s)
        self.ctx.time_left.job_ended(duration_s)
        self.ctx.poll.reset_backoff()
        self.confirmation.job_ended(job, status, detail, freed)

    def _ended_jobs(self) -> dict[str, Mapping[str, Any]]:
        """Which jobs in flight have ended: job ID -> what was read about it."""
        if len(self.jobs.in_flight) <= GET_EACH_JOB_UP_TO or self.jobs.listing_stuck:
            return self._ended_by_get()
        try:
            ended, changed, unknown = self._read_listing()
        except ListingStuckError:
            self.jobs.listing_stuck = True
            self.ctx.progress.say(("jobs-listing-stuck",), messages.jobs_listing_stuck, force=True)
            return self._ended_by_get()
        for job_id, status in changed:
            job = self.jobs.in_flight[job_id]
            job.status = status
            if status == "CANCELLING":  # the listing gives no statusMessage: read it once
                detail = self.jobs.get_job(job_id)
                if detail is not None:
                    _note(job, detail)
        for job_id in unknown:
            self.jobs.consider(job_id, self.jobs.get_job(job_id), "found")
        return ended

    def _read_listing(self) -> tuple[dict[str, Mapping[str, Any]], list[tuple[str, str]], list[str]]:
        """One listing of the jobs created since the oldest in flight (all the store's when a
        creation time is unknown): the jobs in flight that ended (job ID -> listing item),
        those still running whose status changed ((job ID, status)), and the jobs the run
        does not know created since it began (found_after).

        :raises ListingStuckError: when the listing does not advance.
        """
        in_flight = self.jobs.in_flight
        created = [j.creation_time for j in in_flight.values() if j.creation_time is not None]
        after = (min(created) - _dt.timedelta(seconds=1)) if len(created) == len(in_flight) else None
        ended: dict[str, Mapping[str, Any]] = {}
        unknown: list[str] = []
        changed: list[tuple[str, str]] = []
        found_after = self.jobs.found_after()
        for item in self.ctx.api.list_jobs(self.ctx.store, created_after=after):
            job_id = item["id"]
            if job_id in in_flight:
                if not is_running(item["status"]):
                    ended[job_id] = item
                elif item["status"] != in_flight[job_id].status:
                    changed.append((job_id, item["status"]))
            elif (not self.jobs.known(job_id) and found_after is not None
                  and item.get("creationTime") is not None and item["creationTime"] >= found_after):
                unknown.append(job_id)
        return ended, changed, unknown

    def _ended_by_get(self) -> dict[str, Mapping[str, Any]]:
        ended: dict[str, Mapping[str, Any]] = {}
        for job_id in list(self.jobs.in_flight):
            detail = self.jobs.get_job(job_id)
            if detail is None:  # not known yet (read-after-create lag): still in flight
                continue
            if not is_running(detail["status"]):
                ended[job_id] = detail
            else:
                _note(self.jobs.in_flight[job_id], detail)
        return ended


def _note(job: TrackedJob, detail: Mapping[str, Any]) -> None:
    """Keep what a read of a running job showed: its status and message, and how many of
    its sources among the run's read sets FINISHED."""
    job.status = detail.get("status", job.status)
    job.message = detail.get("statusMessage") or ""
    sources = detail.get("sources")
    if sources:
        ours = set(job.read_set_ids)
        job.sources_finished = sum(1 for s in sources if s.get("readSetId") in ours and s.get("status") == "FINISHED")
