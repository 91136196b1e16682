"""Job tracking: which activation jobs cover the run's read sets, which are in flight, and
which have ended.

A job is tracked with an origin (docs/design.md section 3.1): ``started`` (a start of this
run answered with it), ``adopted`` (in flight when the run began) or ``found`` (created
during the run by someone else, or by a start whose answer was lost). Jobs whose sources
are not listed yet (SUBMITTED, ``sources: []``) are remembered as *unlisted* and looked at
again. Which of them ended is :mod:`.polling`'s business; the jobs that did the work of
a run that succeeded, :mod:`.attribution`'s.
"""

from __future__ import annotations

import datetime as _dt
import functools
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Optional

from .. import messages
from ..errors import AwsCallError, ListingStuckError
from ..limits import FOUND_MARGIN_S, JOB_NOT_FOUND_GRACE_S
from ..scheduling import format_duration
from .context import RunContext

__all__ = ["JOB_STATUS_CLASS", "OPEN_SOURCE_STATUSES", "FOUND_MARGIN_S", "JOB_NOT_FOUND_GRACE_S", "is_running",
           "TrackedJob", "UnlistedJob", "JobTracker"]

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


def is_running(status: str) -> bool:
    """True for a job status that has not ended (unknown statuses count as running)."""
    return JOB_STATUS_CLASS.get(status, "running") == "running"


@dataclass
class TrackedJob:
    """A job in flight that covers read sets of the run."""

    job_id: str
    #: The run's read sets this job may still activate (its open sources among them).
    read_set_ids: list[str]
    #: When the run started tracking it (clock seconds).
    tracked_s: float
    creation_time: Optional[_dt.datetime]
    #: "started", "adopted" or "found": only started jobs teach the poll schedule a
    #: duration (the others' start time is unknown).
    origin: str
    #: Its status and statusMessage as last read (a running status: SUBMITTED,
    #: IN_PROGRESS or CANCELLING).
    status: str = ""
    message: str = ""
    #: Its sources among ``read_set_ids`` FINISHED as last read by GetReadSetActivationJob
    #: (None until a read since it was tracked showed its sources).
    sources_finished: Optional[int] = None


@dataclass(frozen=True)
class UnlistedJob:
    """A job in flight seen with no sources listed (SUBMITTED, ``sources: []``).

    ``first_seen_s``: clock seconds when the run first saw it; ``origin``: what it is once
    its sources show ours: "adopted" when it was seen before the run started any job (in
    flight at its start), else "found".
    """

    first_seen_s: float
    origin: str


class JobTracker:
    """The jobs that cover the run's read sets.

    :param ctx: the run's shared context (calls, store, clock, read sets: candidates and
        last statuses; progress: lines while looking for jobs).
    :param on_tracked: called with ``(job_id, read set IDs, origin)`` each time a job starts
        being tracked as in flight (the run takes those read sets out of its queue and its
        confirmation).
    :param unlisted_wait_s: how long (clock seconds) a job whose sources are not listed is
        waited for from when it was first seen
        (:func:`~omics_dynamic.scheduling.unlisted_sources_wait_s`).

    State: ``in_flight`` (job ID -> :class:`TrackedJob`), ``origin`` (job ID -> origin of
    every job that covered the run's read sets), ``job_sources`` (job ID -> its sources
    among the run's read sets), ``unlisted`` (job ID -> :class:`UnlistedJob`: SUBMITTED
    with no sources listed yet), ``listing_stuck`` (the store's job listing repeated a
    nextToken: jobs are read one by one for the rest of the run), ``last_job`` (read set ->
    the last job of ours or adopted that covered it).
    """

    def __init__(self, ctx: RunContext, on_tracked: Callable[[str, list[str], str], None], unlisted_wait_s: float):
        self.ctx = ctx
        self.api = ctx.api
        self.store = ctx.store
        self.clock = ctx.clock
        self.read_sets = ctx.read_sets
        self.progress = ctx.progress
        self.on_tracked = on_tracked
        self.in_flight: dict[str, TrackedJob] = {}
        self.origin: dict[str, str] = {}
        self.job_sources: dict[str, set[str]] = {}
        self.unlisted_wait_s = unlisted_wait_s
        self.foreign: set[str] = set()  # jobs seen that cover none of our read sets
        self.unlisted: dict[str, UnlistedJob] = {}
        self.jobs_of: dict[str, set[str]] = {}  # read set -> running jobs of ours covering it
        self.last_job: dict[str, str] = {}  # read set -> last job of ours covering it
        self.run_start_service_time: Optional[_dt.datetime] = None
        self.listing_stuck = False
        #: Job ID -> clock seconds when the run learned of it (its start's answer, or the
        #: first time it read it): the start of its not-found grace.
        self.first_known_s: dict[str, float] = {}
        self._said_not_found: set[str] = set()

    # -- reading one job -------------------------------------------------------------
    def get_job(self, job_id: str) -> Optional[Mapping[str, Any]]:
        """GetReadSetActivationJob of a job the run knows, or None while HealthOmics answers
        ResourceNotFoundException within :data:`JOB_NOT_FOUND_GRACE_S` of when the run
        learned of it (a job just created may not be known yet).

        :raises AwsCallError: ResourceNotFoundException after the grace, with advice about
            that job (it was started, adopted or listed: the store and region are right);
            any other error of the call as it is.
        """
        known_s = self.first_known_s.setdefault(job_id, self.clock.now())
        try:
            return self.api.get_job(self.store, job_id)
        except AwsCallError as err:
            if err.code != "ResourceNotFoundException":
                raise
            age_s = self.clock.now() - known_s
            how = {"started": "this run started", "adopted": "was in flight when this run began",
                   "found": "this run found in flight"}.get(self.origin.get(job_id, ""), "this run saw listed")
            if age_s < JOB_NOT_FOUND_GRACE_S:
                request_id = err.request_id
                self.progress.say(("job-not-found", job_id),
                                  lambda: messages.job_not_found_yet(job_id, how, request_id, JOB_NOT_FOUND_GRACE_S),
                                  force=job_id not in self._said_not_found)
                self._said_not_found.add(job_id)
                return None
            raise AwsCallError(
                err.operation, err.code, err.aws_message, err.request_id, err.http_status,
                f"Activation job {job_id} ({how}) is still not found {format_duration(age_s)} after this "
                f"run learned of it (a read-after-create lag of up to {format_duration(JOB_NOT_FOUND_GRACE_S)} "
                f"is waited out): HealthOmics lost track of it, or sequence store {self.store} was deleted "
                "meanwhile. Run `pulumi up` again (it lists the store's jobs in flight and adopts them); "
                "report the request ID to AWS Support if this repeats", transient=err.transient) from err

    # -- what the service answered ---------------------------------------------------
    def known(self, job_id: str) -> bool:
        """True for a job already classified (covering our read sets or not)."""
        return job_id in self.origin or job_id in self.foreign

    def started(self, job_id: str, ids: list[str], creation_time: Any, status: str = "") -> None:
        """A start of this run was answered with running job ``job_id`` for ``ids``.

        A new job was created at most as long after the run began as the clock says (clock
        seconds are service seconds: real time against AWS, the same scale against the
        emulator): its creationTime minus that, minus :data:`FOUND_MARGIN_S`, is a lower
        bound of the run's start on the service's clock. The latest bound wins (a token
        answered with an older running job gives a bound too early).
        """
        self.first_known_s.setdefault(job_id, self.clock.now())
        if isinstance(creation_time, _dt.datetime):
            before_s = self.clock.now() - self.ctx.started_at_s + FOUND_MARGIN_S
            bound = creation_time - _dt.timedelta(seconds=before_s)
            if self.run_start_service_time is None or bound > self.run_start_service_time:
                self.run_start_service_time = bound
        if job_id not in self.in_flight:
            self.origin[job_id] = "started"
            self.job_sources[job_id] = set(ids)
            self.track(job_id, ids, creation_time, "started", status)

    def found_after(self) -> Optional[_dt.datetime]:
        """createdAfter of the listings that look for found jobs: the run's start on the
        service's clock (None until this run has started a job).

        A job created during the run that covers its read sets was started by a try whose
        answer was lost, or by a concurrent create; a job created before the run began was
        either in flight at its start (adopted) or had ended (its read sets' statuses at the
        start show its outcome). See :meth:`started` for the bound.
        """
        return self.run_start_service_time

    # -- looking for jobs ------------------------------------------------------------
    def look_for_in_flight(self, origin: str) -> set[str]:
        """Track the store's SUBMITTED and IN_PROGRESS jobs covering our read sets, as
        ``origin``: "adopted" at the start; "found" later (created during the run), except
        jobs in flight at the start whose sources were not listed then ("adopted").

        :returns: the read sets those jobs cover (now tracked as in flight).
        :raises ListingStuckError: when the jobs cannot be listed.
        """
        covered: set[str] = set()
        read = 0
        for status in ("SUBMITTED", "IN_PROGRESS"):
            for item in self.api.list_jobs(self.store, status=status):
                job_id = item["id"]
                if self.known(job_id):
                    continue
                covered |= self.consider(job_id, self.get_job(job_id), origin)
                read += 1
                self.progress.say(("adopt", read), functools.partial(self._looking_line, read))
        return covered

    def _looking_line(self, read: int) -> str:
        return messages.adoption_progress(read, len(self.in_flight), self.progress.elapsed())

    def reread_unlisted(self) -> set[str]:
        """Read each unlisted job again; :returns: the read sets they now cover."""
        covered: set[str] = set()
        for job_id in sorted(self.unlisted):
            covered |= self.consider(job_id, self.get_job(job_id), "found")
        return covered

    def unlisted_wait_until_s(self) -> Optional[float]:
        """Until when (clock seconds) jobs whose sources are not listed yet are worth
        waiting for (each one for ``unlisted_wait_s`` from when it was first seen); None
        when no such wait is still open."""
        end = max((u.first_seen_s + self.unlisted_wait_s for u in self.unlisted.values()), default=None)
        return end if end is not None and end > self.clock.now() else None

    def consider(self, job_id: str, detail: Optional[Mapping[str, Any]], origin: str, track: bool = True) -> set[str]:
        """Decide whether a job we did not start covers our read sets; track it if it may
        still activate some (``track``). A job first seen with no sources listed keeps the
        origin it had then (:class:`UnlistedJob`); so does a job not found yet (``detail``
        None, :meth:`get_job`): its sources are unknown. :returns: the read sets it now
        covers for us."""
        if detail is None:
            self.unlisted.setdefault(job_id, UnlistedJob(self.clock.now(), origin))
            return set()
        sources = detail.get("sources") or []
        status = detail.get("status", "")
        if not sources:
            if status == "SUBMITTED":  # sources not listed yet: look again later
                self.unlisted.setdefault(job_id, UnlistedJob(self.clock.now(), origin))
            else:
                self.unlisted.pop(job_id, None)
                self.foreign.add(job_id)
            return set()
        seen = self.unlisted.pop(job_id, None)
        if seen is not None:
            origin = seen.origin
        ours = {s["readSetId"] for s in sources} & self.read_sets.candidates()
        if not ours:
            self.foreign.add(job_id)
            return set()
        self.origin[job_id] = origin
        self.job_sources[job_id] = ours
        if not (track and is_running(status)):
            return set()
        statuses = self.read_sets.statuses
        covering = [s["readSetId"] for s in sources
                    if s["readSetId"] in ours and s.get("status") in OPEN_SOURCE_STATUSES
                    and statuses.get(s["readSetId"]) != "ACTIVE"]
        if covering:
            self.track(job_id, covering, detail.get("creationTime"), origin, status, detail.get("statusMessage") or "")
        return set(covering)

    def track(self, job_id: str, read_set_ids: Iterable[str], creation_time: Any, origin: str,
              status: str = "", message: str = "") -> None:
        """Track ``job_id`` as in flight for ``read_set_ids``."""
        ids = sorted(set(read_set_ids))
        self.in_flight[job_id] = TrackedJob(job_id, ids, self.clock.now(), creation_time, origin, status, message)
        for rid in ids:
            self.jobs_of.setdefault(rid, set()).add(job_id)
            self.last_job[rid] = job_id
        self.on_tracked(job_id, ids, origin)

    def sweep(self, track: bool) -> None:
        """Look for jobs we did not start that cover our read sets (and jobs in flight
        whose sources were not listed); record them as found (or adopted)."""
        candidates = set(self.unlisted)
        after = self.found_after()
        if after is not None:
            try:
                for item in self.api.list_jobs(self.store, created_after=after):
                    if not self.known(item["id"]):
                        candidates.add(item["id"])
            except ListingStuckError as err:
                reason = str(err)
                self.progress.say(("sweep-stuck",), lambda: messages.sweep_listing_stuck(reason), force=True)
        for job_id in sorted(candidates):
            self.consider(job_id, self.get_job(job_id), "found", track=track)

    def credit_earlier(self, job_id: str, activated: set[str]) -> None:
        """Record an ended job that activated ``activated`` (read sets ACTIVE at the run's
        start) before the run began: origin "earlier"."""
        self.origin[job_id] = "earlier"
        self.job_sources[job_id] = activated

    def ignore(self, job_id: str) -> None:
        """Record a job that covers none of the run's read sets (or activated none of them)."""
        self.foreign.add(job_id)

    # -- what is tracked ---------------------------------------------------------------
    def cancelling(self) -> dict[str, str]:
        """Jobs in flight last seen CANCELLING: job ID -> statusMessage (they will not
        activate their read sets)."""
        return {job_id: job.message for job_id, job in self.in_flight.items() if job.status == "CANCELLING"}

    def end(self, job_id: str) -> tuple[TrackedJob, list[str]]:
        """Stop tracking an ended job. :returns: the job and those of its read sets that no
        other job of ours still covers."""
        job = self.in_flight.pop(job_id)
        freed = []
        for rid in job.read_set_ids:
            running_for_it = self.jobs_of.get(rid, set())
            running_for_it.discard(job_id)
            if not running_for_it:
                freed.append(rid)
        return job, freed

    def covering(self, rid: str) -> bool:
        """True while a job of ours in flight covers ``rid``."""
        return bool(self.jobs_of.get(rid))

    def counts(self) -> dict[str, int]:
        """The waiting line's job counts (:class:`~omics_dynamic.activation.progress.RunCounts`
        fields): ``running``, ``cancelling``, ``submitted`` jobs in flight; of the jobs in
        flight whose sources a poll read, their ``sources_read`` and ``sources_finished``."""
        jobs = self.in_flight.values()
        return {"running": len(self.in_flight),
                "cancelling": sum(1 for job in jobs if job.status == "CANCELLING"),
                "submitted": sum(1 for job in jobs if job.status == "SUBMITTED"),
                "sources_finished": sum(job.sources_finished or 0 for job in jobs),
                "sources_read": sum(len(job.read_set_ids) for job in jobs if job.sources_finished is not None)}

