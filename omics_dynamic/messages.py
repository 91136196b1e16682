"""The text of every line printed for the person watching ``pulumi up`` or a preview.

Each function makes one line (or one part of a line) from values and returns it without
the ``<resource name>: `` prefix, which the reporter adds
(:class:`~omics_dynamic.activation.progress.Progress` during a run, the provider's
``_say`` in check, diff, read and delete). Pure: no IO, no clock; elapsed times and
durations come in already formatted (``"1m05s"``) or as seconds.

README.md quotes these lines and the real-CLI tests read them: a change of wording is a
change of behaviour for those who match them. Exceptions carry their own messages
(:mod:`omics_dynamic.errors`); what prints a line when (the cadence) is
:class:`~omics_dynamic.scheduling.ProgressThrottle`'s business, never the text's.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any, Iterable, Optional, Sequence

from .costmodel import volume_text
from .limits import WARNING_REASON_CHARS
from .planning import status_class, undocumented_statuses
from .scheduling import format_duration

if TYPE_CHECKING:
    from .activation.lookup import StatusLookup
    from .activation.progress import RunCounts

__all__ = [
    # an activation run
    "discovery_started", "discovery_progress", "adoption_started", "adoption_progress",
    "unlisted_wait_before_starting", "unlisted_still_after_wait", "unlisted_wait_holding_queue",
    "job_not_found_yet", "plan_line", "waiting_line", "confirming_read_sets", "confirming_pages",
    "token_listing_stuck", "jobs_listing_stuck", "sweep_listing_stuck", "sweep_skipped",
    "earlier_look_failed", "earlier_jobs_found", "backoff_line", "no_answer_line",
    "done_line", "failed_line", "timed_out_line", "cancelled_line",
    # check, diff, read, delete
    "diff_line", "not_active_reason", "region_unknown_warning", "live_check_failed",
    "live_check_no_answer", "check_not_looked_up", "check_no_answer", "check_lookup_failed",
    "check_lookup_stopped", "create_preview", "store_gone", "delete_changes_nothing",
    # the data sources
    "DATA_SOURCE_STILL_LISTING", "data_source_no_answer", "data_source_line",
    # parts of lines
    "undocumented_waiting", "undocumented_note", "why_stopped",
]


# -- an activation run: discovery and adoption ------------------------------------------
def discovery_started(count: int, store: str) -> str:
    """The run's first line: ``reading the statuses of 20 read sets in sequence store 123``."""
    return f"reading the statuses of {count} read sets in sequence store {store}"


def discovery_progress(known: int, total: int, elapsed: str) -> str:
    """``reading read set statuses: 300/1000 known, 12s elapsed``."""
    return f"reading read set statuses: {known}/{total} known, {elapsed} elapsed"


def adoption_started(store: str, elapsed: str) -> str:
    """Before listing the store's jobs in flight."""
    return f"looking for activation jobs already in flight in sequence store {store}, {elapsed} elapsed"


def adoption_progress(read: int, covering: int, elapsed: str) -> str:
    """While reading the store's jobs in flight: ``read`` jobs read, ``covering`` of them
    tracked as covering the resource's read sets."""
    return (f"looking for activation jobs in flight: {read} read, {covering} "
            f"cover read sets of this resource, {elapsed} elapsed")


def unlisted_wait_before_starting(budget_s: float, count: int, elapsed: str) -> str:
    """Before any start, waiting (at most ``budget_s`` seconds) for ``count`` jobs in flight
    whose sources are not listed yet."""
    return (f"waiting up to {format_duration(budget_s)} for {count} activation job(s) in flight "
            "whose sources are not listed yet (SUBMITTED), so as not to start duplicates; "
            f"{elapsed} elapsed")


def unlisted_still_after_wait(count: int) -> str:
    """That wait ended with ``count`` jobs still listing no sources."""
    return (f"{count} job(s) in flight still list no sources; starting jobs now (any that "
            "duplicate them are found and reported in job_ids)")


def unlisted_wait_holding_queue(budget_s: float, count: int, queued_read_sets: int, elapsed: str) -> str:
    """While jobs run, ``count`` jobs in flight with unlisted sources hold back the queue of
    ``queued_read_sets`` read sets (each for at most ``budget_s`` seconds)."""
    return (f"waiting up to {format_duration(budget_s)} for {count} activation "
            "job(s) in flight whose sources are not listed yet (SUBMITTED) before starting the "
            f"{queued_read_sets} queued read sets, so as not to start duplicates; "
            f"{elapsed} elapsed")


def job_not_found_yet(job_id: str, how: str, request_id: Optional[str], grace_s: float) -> str:
    """GetReadSetActivationJob answered ResourceNotFoundException within the grace of
    ``grace_s`` seconds; ``how`` says how the run knows the job (``"this run started"``)."""
    request = f"request ID {request_id}" if request_id else "no request ID"
    return (f"activation job {job_id} ({how}) is not found yet ({request}); "
            f"HealthOmics may not know a job just created: looking again for up to "
            f"{format_duration(grace_s)}")


def undocumented_waiting(statuses: Sequence[Optional[str]]) -> str:
    """``" (2 in FINALIZING, a status HealthOmics does not document: waited for like
    ACTIVATING until timeout_seconds)"`` for the statuses of the read sets waited for
    (one entry per read set); "" when every one is documented."""
    names = undocumented_statuses(statuses)
    if not names:
        return ""
    count = sum(1 for s in statuses if s in names)
    return (f" ({count} in {', '.join(names)}, a status HealthOmics does not document: waited "
            "for like ACTIVATING until timeout_seconds)")


def plan_line(*, total: int, store: str, active: int, archived: int, waiting_statuses: Sequence[Optional[str]],
              volume: tuple[int, int, int], in_flight: int, to_start: int, max_concurrent_jobs: int) -> str:
    """What the run will do: ``total`` read sets (``active``, ``archived``, and those waited
    for with their statuses), the ``volume`` to activate ((read sets, bases, read sets
    without a base count)), jobs already ``in_flight`` (adopted) and jobs ``to_start``."""
    return (f"{total} read sets in sequence store {store}: "
            f"{active} ACTIVE, {archived} ARCHIVED, {len(waiting_statuses)} "
            f"activating or uploading{undocumented_waiting(waiting_statuses)}; will activate {volume_text(*volume)}; "
            f"{in_flight} job(s) already in flight, "
            f"{to_start} to start (at most {max_concurrent_jobs} at a time)")


# -- an activation run: waiting ----------------------------------------------------------
def waiting_line(counts: RunCounts, elapsed: str, time_left: str = "") -> str:
    """``340/1000 read sets active, about 40m left (from 31 ended jobs, 1h02m00s on
    average), 3h12m00s elapsed, 17 jobs running (3 SUBMITTED), 2 queued, 31 ended``: the
    active count, ``time_left`` (a :class:`~omics_dynamic.scheduling.TimeLeft` text; omitted
    when empty) and ``elapsed`` first, since the CLI's interactive display shows only the
    start of the latest line (cut to the terminal's width; design.md section 2, rule 13),
    then the counts, and what is left to confirm when there is. Every part is a count or a
    bounded phrase (at most about 600 characters in all)."""
    c = counts
    detail = [f"{c.cancelling} CANCELLING" if c.cancelling else "", f"{c.submitted} SUBMITTED" if c.submitted else "",
              f"{c.sources_finished}/{c.sources_read} of their sources finished" if c.sources_read else ""]
    detail = [part for part in detail if part]
    text = (f"{c.active}/{c.total} read sets active, " + (f"{time_left}, " if time_left else "")
            + f"{elapsed} elapsed, {c.running} "
            f"job{'' if c.running == 1 else 's'} running" + (f" ({', '.join(detail)})" if detail else "")
            + (" (and a start that got no answer may have created one)" if c.unanswered else "")
            + f", {c.queued} queued")
    if c.quota_refusals:
        text += (f" (held back by the account's quota of concurrent activation jobs: {c.quota_refusals} "
                 f"start(s) refused with ServiceQuotaExceededException, the last with request ID "
                 f"{c.quota_request_id or 'none'})")
    if c.held:
        text += f" ({c.held} held back: a job in flight may cover them)"
    if c.ended:
        text += f", {c.ended} ended"
    if c.finished:
        text += f", {c.finished} more finished by their jobs (confirmed ACTIVE at the end)"
    if c.failed:
        text += f", {c.failed} failed so far (named when the run ends unless ACTIVE by then)"
    if c.waiting:
        text += f", {c.waiting} waiting to be confirmed ACTIVE"
    return text


def confirming_read_sets(known: int, total: int, elapsed: str) -> str:
    """A status lookup confirming ACTIVE: ``known`` of ``total`` read sets read."""
    return f"confirming ACTIVE: {known}/{total} read sets read, {elapsed} elapsed"


def confirming_pages(pages: int, left: int, elapsed: str) -> str:
    """The listing cursor confirming ACTIVE: ``pages`` pages read, ``left`` read sets left."""
    return (f"confirming ACTIVE: {pages} page(s) of the store's listing read, {left} read sets "
            f"left to confirm, {elapsed} elapsed")


def token_listing_stuck(reason: str, wait_s: float, count: int) -> str:
    """A start's clientToken was answered as used but the jobs cannot be listed: the chunk
    of ``count`` read sets waits ``wait_s`` seconds before its statuses are read again."""
    return (f"warning: a clientToken was answered as used but the store's jobs cannot be listed "
            f"({reason}); waiting {format_duration(wait_s)} before looking at those {count} read sets' "
            "statuses again (a job may be activating them)")


def jobs_listing_stuck() -> str:
    """Polling falls back from listing the jobs to reading each one."""
    return "ListReadSetActivationJobs repeats a nextToken; reading each job instead"


def sweep_listing_stuck(reason: str) -> str:
    """The look for duplicate jobs cannot list the store's jobs."""
    return f"warning: cannot look for duplicate jobs: {reason}"


def sweep_skipped() -> str:
    """No time left for the look for duplicate jobs before success."""
    return ("warning: no time left to look for duplicate jobs; job_ids lists only the jobs "
            "this run knows")


def earlier_look_failed(active: int, reason: str) -> str:
    """The look for the jobs that activated the ``active`` read sets ACTIVE at the start
    failed (``reason``: the error's text, cut to :data:`~omics_dynamic.limits.WARNING_REASON_CHARS`)."""
    return (f"warning: could not look for the jobs that activated the {active} read sets ACTIVE at the "
            f"start ({reason[:WARNING_REASON_CHARS]}); job_ids lists only the jobs of this run")


def earlier_jobs_found(credited: int, active: int, jobs: int, example_job_id: str) -> str:
    """``credited`` of the ``active`` read sets ACTIVE at the start were activated by
    ``jobs`` jobs that ended before the run began."""
    return (f"{credited} of the {active} read sets ACTIVE at the start were activated by {jobs} job(s) "
            f"that ended before this run began (e.g. {example_job_id}); recorded in job_ids")


def backoff_line(elapsed: str, operation: str, code: str, in_a_row: int, delay_s: float) -> str:
    """Transient answers beyond botocore's retries: backing off ``delay_s`` seconds."""
    return (f"at {elapsed} elapsed: HealthOmics answered {operation} with {code} {in_a_row} "
            f"time(s) in a row after botocore's retries; backing off {format_duration(delay_s)} and "
            "going on (transient)")


def no_answer_line(operation: str, waited_real_s: float, last_failure: str, elapsed: str) -> str:
    """A call has had no answer for ``waited_real_s`` real seconds (``last_failure``:
    botocore's last failed attempt, or "")."""
    return (f"waiting for HealthOmics to answer {operation} "
            f"({waited_real_s:.0f}s so far; timeout_seconds bounds the wait"
            + (f"; botocore's last attempt failed: {last_failure}" if last_failure else "")
            + f"), {elapsed} elapsed")


# -- an activation run: its ends -----------------------------------------------------------
def done_line(total: int, elapsed: str, jobs: int) -> str:
    """Success: every one of ``total`` read sets ACTIVE, with ``jobs`` activation jobs."""
    return f"all {total} read sets ACTIVE after {elapsed} ({jobs} activation job(s))"


def failed_line(count: int) -> str:
    """Before ActivationFailedError: ``count`` read sets failed."""
    return f"{count} read set(s) failed to activate"


def timed_out_line(counts: RunCounts, elapsed: str) -> str:
    """Before ActivationTimeoutError: the waiting line's counts, without the time left."""
    return f"timed out: {waiting_line(counts, elapsed)}"


def cancelled_line(running: int, unanswered_start: bool) -> str:
    """Before ActivationCancelledError: ``running`` jobs keep running; ``unanswered_start``
    when a start got no answer."""
    return "cancelled; " + (
        f"{running} activation job(s) keep running in HealthOmics (the next `pulumi up` resumes them)"
        if running else "no activation job of this run is running") + (
        "; a start got no answer and may have created a job" if unanswered_start else "")


# -- check, diff, read, delete --------------------------------------------------------------
def diff_line(kind: str, reasons: Iterable[str]) -> str:
    """``replace: <reason>; <reason>`` or ``update: ...`` (``kind``)."""
    return f"{kind}: " + "; ".join(reasons)


def undocumented_note(statuses: Iterable[Optional[str]]) -> str:
    """``" (FINALIZING: a status HealthOmics does not document, waited for like ACTIVATING
    until timeout_seconds)"`` for the statuses among ``statuses`` that
    :data:`~omics_dynamic.planning.STATUS_CLASS` does not know; "" when there is none."""
    names = undocumented_statuses(statuses)
    if not names:
        return ""
    return (f" ({', '.join(names)}: a status HealthOmics does not document, waited for like "
            "ACTIVATING until timeout_seconds)")


def why_stopped(found: StatusLookup) -> str:
    """``": <why>"`` for a status lookup its time budget stopped (the call that got no answer
    and botocore's last failed attempt; what to check when the endpoint was unreachable);
    "" for one that was not stopped."""
    err = getattr(found, "stopped_by", None)
    if err is None:
        return ""
    advice = err.unreachable_advice()
    return f": {err}" + (f". {advice}" if advice else "")


def not_active_reason(found: StatusLookup, timeout_s: float) -> str:
    """Diff's reason for an update when the live lookup ``found`` read sets not ACTIVE (at
    least one status it learned is not; ``timeout_s``: the lookup's bound in seconds, named
    when it stopped early)."""
    current = found.statuses
    not_active = {rid: s for rid, s in current.items() if s != "ACTIVE"}
    counts = ", ".join(f"{n:,} {s}" for s, n in sorted(Counter(not_active.values()).items()))
    read_sets, bases, without = found.volume("ARCHIVED")
    unusable = sum(1 for status in not_active.values() if status_class(status) == "unusable")
    if unusable:  # create and update refuse them before starting any job
        then = (f"`pulumi up` will fail: {unusable:,} of them cannot be activated; remove them from "
                "read_set_ids (or the selection that gave them)"
                + (f", then it will activate {volume_text(read_sets, bases, without)}" if read_sets else ""))
    elif read_sets:
        then = f"`pulumi up` will activate {volume_text(read_sets, bases, without)}"
    else:
        then = "`pulumi up` waits until they are ACTIVE"
    total = f"{len(current):,}" if found.complete else f"the {len(current):,} looked up within {timeout_s:g}s"
    return (f"{len(not_active):,} of {total} read sets are not ACTIVE in HealthOmics "
            f"({counts}; e.g. {min(not_active)}); {then}{undocumented_note(not_active.values())}")


def region_unknown_warning(err: Any, recorded_region: Any) -> str:
    """Diff cannot resolve the configured region; it keeps ``recorded_region``."""
    return (f"warning: cannot tell which AWS Region the configuration names ({err}); "
            f"keeping the recorded region {recorded_region}")


def live_check_failed(err: Any) -> str:
    """Diff's live status check raised ``err``."""
    return f"warning: live status check failed, using state only: {err}"


def live_check_no_answer(timeout_s: float, found: StatusLookup, total: int) -> str:
    """Diff's live status check stopped within ``timeout_s`` seconds with only ACTIVE
    statuses known (of ``total``)."""
    return (f"warning: live status check got no usable answer within "
            f"{timeout_s:g}s ({len(found.statuses)} of {total} "
            f"statuses known, all ACTIVE){why_stopped(found)}; using state only")


def _check_what(create: bool) -> str:
    return "create: the volume to activate is unknown" if create else "the new read sets were not checked"


def check_not_looked_up(create: bool, err: Any) -> str:
    """Check could not make a client (no region, bad settings, no credentials): ``err``."""
    return f"warning: {_check_what(create)}: {err}"


def check_no_answer(create: bool, err: Any) -> str:
    """Check's lookup got an AWS error other than a missing store."""
    return f"warning: {_check_what(create)}: HealthOmics gave no answer ({err})"


def check_lookup_failed(create: bool, err: Any) -> str:
    """Check's lookup failed otherwise."""
    return f"warning: {_check_what(create)}: the live lookup failed: {err}"


def check_lookup_stopped(create: bool, found: StatusLookup, total: int) -> str:
    """Check's lookup stopped (budget or call bound) with some of ``total`` statuses known."""
    return (f"warning: {_check_what(create)}: the live lookup stopped after {len(found.statuses)} of "
            f"{total} statuses known{why_stopped(found)}")


def create_preview(store: str, total: int, found: StatusLookup) -> str:
    """The preview line of a new resource of ``total`` read sets: what create will activate,
    or that the volume is unknown (with what the lookup saw before it stopped)."""
    read_sets, bases, without = found.volume("ARCHIVED")
    counts = ", ".join(f"{n:,} {s}" for s, n in sorted(Counter(found.statuses.values()).items()))
    if found.complete:
        return (f"create: will activate {volume_text(read_sets, bases, without)} of {total:,} "
                f"in sequence store {store} ({counts}){undocumented_note(found.statuses.values())}")
    return (f"warning: create: the volume to activate is unknown: the live lookup stopped "
            f"with {len(found.statuses):,} of {total:,} statuses known"
            + (f" ({counts}: at least {volume_text(read_sets, bases, without)} to activate)"
               if counts else "")
            + f"{why_stopped(found)}; `pulumi up` reads them all")


def store_gone(store: str, region: str) -> str:
    """Read found the sequence store gone: the resource leaves the state."""
    return f"sequence store {store} no longer exists in {region}; removing the resource from state"


def delete_changes_nothing() -> str:
    """Delete's line: no AWS change."""
    return ("delete changes nothing in AWS: HealthOmics has no API to archive read "
            "sets; they stay ACTIVE until HealthOmics archives them after 30 days unused")


# -- the data sources (get_read_sets, read_sample_sheet), in the program -------------------
#: What a data source's line says while its listing goes on with answers.
DATA_SOURCE_STILL_LISTING = "still listing"


def data_source_no_answer(operation: str, waited_real_s: float, last_failure: str = "") -> str:
    """``operation`` has had no answer for ``waited_real_s`` real seconds (``last_failure``:
    botocore's last failed attempt, or "")."""
    return (f"no answer to {operation} for {waited_real_s:.0f}s"
            + (f" (botocore's last attempt failed: {last_failure})" if last_failure else ""))


def data_source_line(store: str, region: str, news: str, pages: int, spent_s: float, timeout_s: float) -> str:
    """A data source's progress line (``pulumi.log.info`` in the program): ``news``, the
    ListReadSets ``pages`` read, and ``spent_s`` of its ``timeout_s`` seconds' budget."""
    return (f"omics-dynamic: listing sequence store {store} ({region}): {news}; {pages} page(s) read, "
            f"{spent_s:.0f}s of the data source's {timeout_s:g}s budget spent (omics-dynamic:dataSourceTimeout)")
