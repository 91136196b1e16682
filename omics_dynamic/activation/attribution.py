"""Before a run reports success, which jobs did its work besides those it started and
adopted: jobs it did not start that cover its read sets (*found*: a start whose answer was
lost, a concurrent create), and ended jobs that activated read sets ACTIVE at its start
(*earlier*: an earlier run that timed out or was stopped). Neither is waited for: every read
set is ACTIVE by then; they are reported in ``job_ids``."""

from __future__ import annotations

import datetime as _dt
from typing import Any, Collection, Iterable, Mapping, Optional

from .. import messages
from ..errors import AwsCallError, BudgetExhaustedError, ListingStuckError
from ..limits import EARLIER_JOB_PAGES, EARLIER_SPARE_READS, MAX_SOURCES_PER_JOB
from .context import RunContext
from .jobs import JOB_STATUS_CLASS, JobTracker

__all__ = ["EARLIER_JOB_PAGES", "EARLIER_SPARE_READS", "sweep_for_found_jobs", "credit_earlier_jobs",
           "find_earlier_jobs"]


def sweep_for_found_jobs(ctx: RunContext, jobs: JobTracker) -> None:
    """Find the jobs covering the run's read sets that it did not start and record them as
    found (or adopted) without tracking them (:meth:`JobTracker.sweep`): only when the run
    started a job or saw jobs with unlisted sources. No time left: a warning line.

    :raises AwsCallError: for permanent AWS errors of the calls.
    """
    if jobs.found_after() is None and not jobs.unlisted:
        return
    try:
        jobs.sweep(track=False)
    except BudgetExhaustedError:
        ctx.progress.say(("sweep-skipped",), messages.sweep_skipped, force=True)


def credit_earlier_jobs(ctx: RunContext, jobs: JobTracker, wanted: Optional[Collection[str]],
                        created_after: Optional[_dt.datetime]) -> dict[str, set[str]]:
    """The read sets of ``wanted`` ACTIVE at the run's start that ended jobs created after
    ``created_after`` activated (:func:`find_earlier_jobs`), recorded as the work of those
    jobs (origin "earlier") with a line saying so. A look that fails (AWS error, no time
    left, a listing that does not advance) is a warning line: every read set is ACTIVE.

    :returns: job ID -> the read sets it activated ({} for None or no such read set).
    """
    if not wanted:
        return {}
    active = sorted(rid for rid, status in ctx.read_sets.initial.items() if status == "ACTIVE" and rid in wanted)
    if not active:
        return {}
    try:
        earlier = find_earlier_jobs(ctx, jobs, active, created_after)
    except (AwsCallError, BudgetExhaustedError, ListingStuckError) as err:
        reason = str(err)
        ctx.progress.say(("earlier-skipped",), lambda: messages.earlier_look_failed(len(active), reason), force=True)
        return {}
    if earlier:
        count = sum(len(ids) for ids in earlier.values())
        ctx.progress.say(("earlier",), lambda: messages.earlier_jobs_found(count, len(active), len(earlier),
                                                                           min(earlier)), force=True)
    return earlier


def find_earlier_jobs(ctx: RunContext, jobs: JobTracker, active_ids: Iterable[str],
                      created_after: Optional[_dt.datetime]) -> dict[str, set[str]]:
    """Find the ended jobs that activated read sets of the run that were ACTIVE at its
    start: the store's COMPLETED and COMPLETED_WITH_FAILURES jobs created after
    ``created_after`` (None: any) that ``jobs`` does not know, newest first, each read
    (GetReadSetActivationJob) until every read set is accounted for; a read set is credited
    to the newest job whose source for it FINISHED. Bounded: :data:`EARLIER_JOB_PAGES`
    pages, and one read per :data:`~omics_dynamic.limits.MAX_SOURCES_PER_JOB` read sets
    plus :data:`EARLIER_SPARE_READS`. Each job read is recorded in ``jobs`` as it is read
    (:meth:`JobTracker.credit_earlier`, or :meth:`JobTracker.ignore` when it activated none
    of them).

    :returns: job ID -> the read sets it activated.
    :raises ListingStuckError: when the jobs cannot be listed.
    :raises AwsCallError: for permanent AWS errors of those calls.
    :raises BudgetExhaustedError: when the run's budget ends during them.
    """
    left = set(active_ids)
    if not left:
        return {}
    ended: list[Mapping[str, Any]] = []
    for pages, page in enumerate(ctx.api.job_pages(ctx.store, created_after=created_after), start=1):
        ended += [item for item in page.items
                  if JOB_STATUS_CLASS.get(item.get("status", "")) in ("done", "partial") and not jobs.known(item["id"])]
        if pages >= EARLIER_JOB_PAGES:
            break
    oldest = _dt.datetime.min.replace(tzinfo=_dt.timezone.utc)
    ended.sort(key=lambda item: (_aware(item.get("creationTime")) or oldest, item["id"]), reverse=True)
    credited: dict[str, set[str]] = {}
    for item in ended[:-(-len(left) // MAX_SOURCES_PER_JOB) + EARLIER_SPARE_READS]:
        if not left:
            break
        job_id = item["id"]
        detail = ctx.api.get_job(ctx.store, job_id)
        activated = {src["readSetId"] for src in detail.get("sources") or []
                     if src.get("status") == "FINISHED" and src.get("readSetId") in left}
        if not activated:
            jobs.ignore(job_id)
            continue
        left -= activated
        credited[job_id] = activated
        jobs.credit_earlier(job_id, activated)
    return credited


def _aware(value: Any) -> Optional[_dt.datetime]:
    """A datetime as an aware one (naive ones taken as UTC); None for anything else."""
    if not isinstance(value, _dt.datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=_dt.timezone.utc)
