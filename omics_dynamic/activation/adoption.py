"""Adoption: before its first start, a run tracks the store's jobs in flight that cover its
read sets (origin "adopted"), and waits, bounded, for those whose sources are not listed
yet (design.md section 3.1, "Sources not listed yet": starting before could duplicate
them)."""

from __future__ import annotations

import functools
from collections.abc import Collection

from .. import messages
from ..limits import UNLISTED_POLL_S
from .context import RunContext
from .jobs import JobTracker

__all__ = ["UNLISTED_POLL_S", "adopt_jobs_in_flight"]


def adopt_jobs_in_flight(ctx: RunContext, jobs: JobTracker, to_activate: Collection[str]) -> set[str]:
    """Track the store's SUBMITTED and IN_PROGRESS jobs covering the run's read sets as
    adopted (:meth:`JobTracker.look_for_in_flight`); when some list no sources yet and read
    sets of ``to_activate`` are not covered, wait for them (:func:`await_unlisted_sources`).

    :returns: the read sets the adopted jobs cover.
    :raises ListingStuckError: when the store's jobs cannot be listed.
    :raises CallCancelledError: when the run's cancel event is set during the wait.
    """
    ctx.progress.say(("adopt",), lambda: messages.adoption_started(ctx.store, ctx.progress.elapsed()))
    covered = jobs.look_for_in_flight("adopted")
    if jobs.unlisted and set(to_activate) - covered:
        covered |= await_unlisted_sources(ctx, jobs)
    return covered


def await_unlisted_sources(ctx: RunContext, jobs: JobTracker) -> set[str]:
    """Read the jobs in flight whose sources are not listed yet every
    :data:`UNLISTED_POLL_S` seconds until none is left, for at most
    :attr:`JobTracker.unlisted_wait_s` and never past the run's deadline, with a line
    while waiting and one if some still list none.

    :returns: the read sets those jobs cover once their sources show.
    :raises CallCancelledError: when the run's cancel event is set.
    """
    budget_s = jobs.unlisted_wait_s
    clock = ctx.clock
    until_s = min(clock.now() + budget_s, ctx.deadline_s)
    covered: set[str] = set()
    while jobs.unlisted and clock.now() < until_s:
        count = len(jobs.unlisted)
        ctx.progress.say(("unlisted", count), functools.partial(_waiting_line, ctx, budget_s, count))
        ctx.sleep(min(UNLISTED_POLL_S, until_s - clock.now()))
        ctx.check_cancel()
        covered |= jobs.reread_unlisted()
    if jobs.unlisted:
        count = len(jobs.unlisted)
        ctx.progress.say(("unlisted-left", count), lambda: messages.unlisted_still_after_wait(count), force=True)
    return covered


def _waiting_line(ctx: RunContext, budget_s: float, count: int) -> str:
    return messages.unlisted_wait_before_starting(budget_s, count, ctx.progress.elapsed())
