"""Confirmation: a read set is done when its own status is ACTIVE, whatever its job said.

A FINISHED source does not prove the read set is ACTIVE, and a failed source is a failure
only if its read set does not end ACTIVE (docs/design.md section 3.1, "A failure is
re-checked", "Cost of confirmation"). Each read set no job of ours covers any more is
*unconfirmed* until its status settles it, and is confirmed one of three ways:

- by the listing cursor (:class:`~omics_dynamic.scheduling.ListingCursor`): page by page
  through the store's listing while jobs end, when discovery predicted its page;
- *deferred* (its job finished it): in one lookup once nothing is in flight or queued;
- *prompt* (failures to re-check, read sets waiting for somebody else's activation, pages
  the cursor passed without them): looked up after each poll that ended a job.
"""

from __future__ import annotations

import itertools
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional

from .. import messages
from ..aws import Page
from ..costmodel import cursor_pays
from ..errors import AwsCallError, ListingStuckError, SourceFailure
from ..planning import STATUS_CLASS, status_class
from ..scheduling import ListingCursor, StartAttempts, order_by_listing
from .context import RunContext
from .jobs import JOB_STATUS_CLASS, JobTracker, TrackedJob
from .lookup import look_up_statuses

__all__ = ["Confirmation"]


class Confirmation:
    """The run's unconfirmed read sets and the failures found so far.

    :param ctx: the run's shared context (calls, store, read sets: statuses are recorded
        there; progress: confirmation lines).
    :param jobs: the job tracker (which jobs of ours still cover a read set).
    :param attempts: the rounds a read set still ARCHIVED after its job may get.

    State: ``unconfirmed`` (no job of ours running for it, not seen ACTIVE yet),
    ``suspects`` (failed in a job; re-checked before reported), ``failures`` (to report),
    ``due`` (a poll ended a job: look at the prompt ones).
    """

    def __init__(self, ctx: RunContext, jobs: JobTracker, attempts: StartAttempts):
        self.api = ctx.api
        self.store = ctx.store
        self.read_sets = ctx.read_sets
        self.jobs = jobs
        self.attempts = attempts
        self.progress = ctx.progress
        self.unconfirmed: set[str] = set()
        self.deferred: set[str] = set()
        self.prompt: set[str] = set()
        self.suspects: dict[str, SourceFailure] = {}
        self.failures: list[SourceFailure] = []
        self.due = False
        self.cursor = ListingCursor({})
        self._cursor_pages: Optional[Iterator[Page]] = None
        self._ids_on_page: dict[int, list[str]] = {}
        self._requeue: list[str] = []

    # -- setting up ------------------------------------------------------------------
    def plan(self, busy: list[str], waiting: set[str]) -> None:
        """Set up before any start: ``busy`` read sets have a job (queued or in flight),
        ``waiting`` ones wait for somebody else's activation. The cursor covers them unless
        one round of status listings at the end is predicted cheaper
        (:func:`~omics_dynamic.costmodel.cursor_pays`)."""
        page_of = self.read_sets.page_of
        self.unconfirmed = set(waiting)
        self.cursor = ListingCursor(page_of, busy=busy, ready=self.unconfirmed)
        if not self.cursor.exhausted:
            pages = 1 + max(page_of[rid] for rid in itertools.chain(busy, self.unconfirmed) if rid in page_of)
            if cursor_pays(pages, self.read_sets.others_non_active):
                for rid in itertools.chain(busy, self.unconfirmed):
                    if rid in page_of:
                        self._ids_on_page.setdefault(page_of[rid], []).append(rid)
            else:
                self.cursor = ListingCursor({})  # one round of status listings at the end is cheaper
        for rid in self.unconfirmed:
            self._place(rid)

    def covered(self, ids: Iterable[str]) -> None:
        """A job of ours now covers ``ids``: nothing to confirm for them until it ends."""
        for rid in ids:
            self._unconfirm(rid)

    def job_ended(self, job: TrackedJob, status: str, detail: Mapping[str, Any], freed: list[str]) -> None:
        """Record one ended job: each of its read sets whose source did not finish becomes a
        suspect failure with the job's own final status and message and the source's
        (reported only if the read set does not end ACTIVE, :meth:`settle`); the ``freed``
        ones (no other job of ours covers them) go to confirmation, and the prompt ones are
        looked up at the next :meth:`confirm`. ``status`` is the job's final status;
        ``detail`` its GetReadSetActivationJob answer (or listing item when it COMPLETED)."""
        self.due = True
        kind = JOB_STATUS_CLASS.get(status, "failed")
        sources = {s["readSetId"]: s for s in detail.get("sources") or []}
        for rid in job.read_set_ids:
            src = sources.get(rid) or {}
            if kind == "done" or src.get("status") == "FINISHED":
                self.suspects.pop(rid, None)
            else:
                self.suspects[rid] = SourceFailure(
                    rid, job.job_id, src.get("status") or "not listed", src.get("statusMessage") or "",
                    status, detail.get("statusMessage") or "")
        for rid in freed:
            self.cursor.mark_ready(rid, was_busy=True)
            self.unconfirmed.add(rid)
            self._place(rid)

    def leave_queue(self, rid: str, status: str) -> None:
        """A queued read set turned out not ARCHIVED (a re-check before a new attempt): it
        needs no job of ours. ACTIVE: done; ACTIVATING or PROCESSING_UPLOAD: confirmed
        later like any read set waiting for somebody else's activation; unusable: a
        failure (:meth:`settle`)."""
        waits = status_class(status) == "wait"
        self.cursor.mark_ready(rid, was_busy=True, to_confirm=waits)
        if waits:
            self.unconfirmed.add(rid)
        self.settle(rid, status)
        if rid in self.unconfirmed:
            self._place(rid)

    def not_started(self, rid: str, message: str) -> None:
        """``rid``'s chunk could not be started: a failure naming why."""
        self.cursor.mark_ready(rid, was_busy=True, to_confirm=False)
        self.failures.append(SourceFailure(rid, "-", "NOT_STARTED", message))

    # -- confirming ------------------------------------------------------------------
    def confirm(self, final: bool, in_flight: bool,
                status_counts_hint: Callable[[], dict[str, int]]) -> list[str]:
        """Confirm ACTIVE with the read sets' own statuses, with as few calls as possible.

        Read sets still covered by the listing cursor are confirmed when it reads their
        page (once every job with read sets on that page has ended). The prompt ones are
        looked up when a poll ended some job or nothing of ours is ``in_flight``; the
        deferred ones once nothing is in flight or queued (``final``), in one lookup
        (:func:`look_up_statuses`, taking a read set that no status listing shows as ACTIVE:
        these read sets exist). A lookup of the prompt ones that ends every status listing
        settles the deferred ones too, for no extra call.

        :returns: read sets to start again (still ARCHIVED after their job reported
            success), in the listing's order; the cursor counts them busy again.
        """
        if not self.unconfirmed:
            return []
        self._read_cursor_pages()
        ids: set[str] = set()
        if self.prompt and (self.due or not in_flight):
            ids |= self.prompt
        if final:
            ids |= self.deferred
        if ids:
            self.due = False
            self.look_up(ids, status_counts_hint())
        requeue = order_by_listing(self._requeue, self.read_sets.page_of)
        self._requeue = []
        for rid in requeue:
            self.cursor.mark_busy(rid)
        return requeue

    def look_up(self, ids: set[str], status_counts_hint: dict[str, int]) -> None:
        """One status lookup of unconfirmed ``ids`` (and, for free, the deferred ones)."""
        def on_progress(known: int, total: int) -> None:
            self.progress.say(("confirm", known, total),
                              lambda: messages.confirming_read_sets(known, total, self.progress.elapsed()))

        # A read set last seen in a status nobody documented is shown by no status listing
        # (they list the documented ones): the lookup must see it, not infer ACTIVE.
        statuses = self.read_sets.statuses
        inferable = not any(STATUS_CLASS.get(statuses.get(rid) or "ACTIVE") is None
                            for rid in itertools.chain(ids, self.deferred))
        found = look_up_statuses(self.api, self.store, sorted(ids), unseen_active=inferable,
                                 on_progress=on_progress, also=self.deferred - ids,
                                 all_pages_hint=self._pages_hint(ids),
                                 status_counts_hint=status_counts_hint)
        for rid, status in itertools.chain(found.statuses.items(), found.also.items()):
            if rid in self.unconfirmed:
                self.settle(rid, status)

    def counts(self, busy: bool) -> dict[str, int]:
        """The waiting line's confirmation counts (:class:`~omics_dynamic.activation.progress.RunCounts`
        fields). While jobs of ours run or chunks are queued (``busy``), among the
        unconfirmed read sets that no job of ours covers any more and whose last status read
        is not ACTIVE (those count as active): ``finished``, those their last job of ours (or
        adopted) finished (the ``deferred`` ones and those the listing cursor covers), and
        the suspects (their source failed; re-checked before reported) in ``failed``, with
        the failures found; ``waiting`` 0. Else ``waiting``: every unconfirmed read set,
        ``failed``: the failures found. O(unconfirmed) per call."""
        finished = suspects = 0
        statuses, last_job = self.read_sets.statuses, self.jobs.last_job
        for rid in self.unconfirmed if busy else ():
            if statuses.get(rid) == "ACTIVE" or self.jobs.covering(rid):
                continue
            if rid in self.suspects:
                suspects += 1
            elif rid in last_job:
                finished += 1
        return {"finished": finished, "waiting": 0 if busy else len(self.unconfirmed),
                "failed": len(self.failures) + suspects}

    def known_failures(self) -> list[SourceFailure]:
        """The failures a run that stops early (timeout, cancellation) already knows: those
        found, and each suspect whose read set's last status read would make :meth:`settle`
        report it (not ACTIVE, ACTIVATING or PROCESSING_UPLOAD, no job of ours covering
        it), in read set order after the found ones. The caller re-reads the statuses first
        when it can (a timeout does; a cancelled run calls nothing more). Found failures
        pass the same test: a read set recorded as failed that somebody has activated
        since (or is activating) is not named."""
        def still_failed(rid: str) -> bool:
            status = self.read_sets.statuses.get(rid)
            return not (status == "ACTIVE" or status_class(status) == "wait" or self.jobs.covering(rid))

        known = [failure for failure in self.failures if still_failed(failure.read_set_id)]
        return known + [suspect for rid, suspect in sorted(self.suspects.items()) if still_failed(rid)]

    def _place(self, rid: str) -> None:
        """File an unconfirmed read set the cursor does not cover: deferred when its last
        job of ours (or adopted) finished it, else prompt."""
        if self.cursor.covers(rid) or rid not in self.unconfirmed:
            return
        if rid in self.jobs.last_job and rid not in self.suspects:
            self.deferred.add(rid)
        else:
            self.prompt.add(rid)

    def _pages_hint(self, ids: Iterable[str]) -> Optional[int]:
        """Unfiltered pages up to the last of ``ids`` in the discovery listing (all must
        have been seen there), for the lookup's expected cost."""
        page_of = self.read_sets.page_of
        pages = [page_of.get(rid) for rid in ids]
        if not pages or any(p is None for p in pages):
            return None
        return 1 + max(p for p in pages if p is not None)

    def _read_cursor_pages(self) -> None:
        while self.cursor.wants_page():
            if self._cursor_pages is None:
                self._cursor_pages = self.api.read_set_pages(self.store)
            try:
                page = next(self._cursor_pages, None)
            except ListingStuckError:
                page = None
            except AwsCallError as err:
                if err.code != "ValidationException":
                    raise
                page = None  # the nextToken was refused (expired?): confirm otherwise
            if page is None:
                self._cursor_gone()
                return
            self._cursor_page(page)

    def _cursor_gone(self) -> None:
        """The cursor's listing ended early or failed: confirm its read sets otherwise."""
        self.cursor.reset()
        self._cursor_pages = None
        self._ids_on_page.clear()
        for rid in list(self.unconfirmed):
            if rid not in self.deferred:
                self._place(rid)

    def _cursor_page(self, page: Page) -> None:
        for item in page.items:
            if item.get("id") in self.unconfirmed:
                self.settle(item["id"], item["status"])
        passed = self.cursor.next_page
        self.cursor.page_read(last=page.next_token is None)
        for rid in self._ids_on_page.pop(passed, ()):
            self._place(rid)  # predicted on that page but not confirmed there
        if self.cursor.exhausted:
            for rid in list(self.unconfirmed):
                self._place(rid)
            self._ids_on_page.clear()
        pages = self.cursor.next_page
        left = len(self.unconfirmed)
        self.progress.say(("confirm-pages", pages),
                          lambda: messages.confirming_pages(pages, left, self.progress.elapsed()))

    def settle(self, rid: str, status: str) -> None:
        """Record one unconfirmed read set's current status and decide what it means.

        ACTIVE: done (a suspect failure is dropped). ACTIVATING, PROCESSING_UPLOAD or a
        status :data:`~omics_dynamic.planning.STATUS_CLASS` does not know (e.g. a
        transitional FINALIZING after the job, :func:`~omics_dynamic.planning.status_class`):
        keep waiting, until the deadline (somebody is activating it, or a job COMPLETED while
        it still activates).
        DELETED and other unusable statuses: a failure. ARCHIVED with no job of ours running
        for it: the suspect failure if there is one (the source's message), else another
        round (its job reported success, or somebody else's activation fell back).
        """
        self.read_sets.set_status(rid, status)
        if status == "ACTIVE":
            self._unconfirm(rid)
            self.suspects.pop(rid, None)
            return
        kind = status_class(status)
        if kind == "wait" or self.jobs.covering(rid):
            return
        self._unconfirm(rid)
        suspect = self.suspects.pop(rid, None)
        if kind == "unusable":
            self.failures.append(SourceFailure(
                rid, suspect.job_id if suspect else self.jobs.last_job.get(rid, "-"), status,
                f"read set became {status} while waiting for it to become ACTIVE"))
        elif suspect is not None:
            self.failures.append(suspect)
        elif self.attempts.requeue(rid):
            self._requeue.append(rid)
        else:
            self.failures.append(SourceFailure(
                rid, self.jobs.last_job.get(rid, "-"), "ARCHIVED",
                f"still ARCHIVED after {self.attempts.max_rounds} rounds of activation"))

    def _unconfirm(self, rid: str) -> None:
        self.unconfirmed.discard(rid)
        self.deferred.discard(rid)
        self.prompt.discard(rid)
