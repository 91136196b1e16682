"""One activation run: learn statuses, adopt jobs in flight, start jobs under quotas, wait,
confirm, report.

This is the IO side of ReadSetActivation's create and update. Its decisions come from the
pure modules (:mod:`omics_dynamic.planning`, :mod:`omics_dynamic.scheduling`,
:mod:`omics_dynamic.costmodel`); its calls go through :class:`~omics_dynamic.aws.OmicsApi`
(paced, bounded by the run's budget, transient answers retried on the clock); its time
through an injected :class:`~omics_dynamic.aws.Clock`, so tests run it on the emulator's
manual clock without sleeping.

The package is split by concern (docs/design.md section 3.1 gives the reasons for each
rule):

- :mod:`.context`: :class:`~.context.RunContext`, what the parts of one run share (calls,
  clock, budget, read sets, progress, poll schedule, cancel event).
- :mod:`.lookup`: status lookups (:func:`look_up_statuses`, :func:`read_statuses`), the
  calls the cost model chooses.
- :mod:`.readsets`: what the run knows of its read sets (statuses at the start and now).
- :mod:`.jobs`: job tracking: jobs in flight, adopted and found, unlisted sources
  (:data:`JOB_STATUS_CLASS`).
- :mod:`.adoption`: the jobs in flight at the start, and the bounded wait for those whose
  sources are not listed yet.
- :mod:`.starting`: the queue of chunks, clientToken attempts, what each start answer
  means, the concurrency window.
- :mod:`.polling`: which jobs in flight ended, and what each end means.
- :mod:`.confirmation`: ACTIVE confirmed by the read sets' own statuses; failures
  re-checked before they are reported.
- :mod:`.waiting`: the loop from the first start until nothing is left (start, sleep
  until the next wake, poll, confirm).
- :mod:`.attribution`: before success, the jobs the run did not start that did its work
  (found, earlier).
- :mod:`.progress`: the cadence of progress lines and the counts they are made of (their
  words: :mod:`omics_dynamic.messages`).
- :mod:`.run`: :class:`ActivationRun`, which composes them through the phases and turns
  how a run ends into its result or error, and :class:`ActivationResult`.

What a run does:

1. Discovery: learns every read set's status choosing between the unfiltered listing, the
   listings by status and GetReadSetMetadata per ID by expected cost, within a proven
   bound of the cheapest in hindsight; a listing that does not advance is left to the
   others.
2. Fails before starting any job if read sets are missing, DELETED, DELETING or
   UPLOAD_FAILED (:class:`~omics_dynamic.errors.ReadSetsUnusableError`).
3. Adoption: tracks the store's jobs in flight whose sources include its read sets
   (``adopted``). Jobs still SUBMITTED whose sources are not listed yet are waited for,
   bounded (:func:`~omics_dynamic.scheduling.unlisted_sources_wait_s`), before any start.
4. Starts jobs of at most 20 sources for the ARCHIVED rest, in the store's listing order,
   at most ``max_concurrent_jobs`` at a time (fewer, and blocked, after
   ServiceQuotaExceededException). clientTokens come from the inputs and an attempt number
   (:func:`~omics_dynamic.planning.client_token`); whatever the service answers for a used
   token, the run converges (:mod:`.starting`).
5. Waits on a :class:`~omics_dynamic.scheduling.PollSchedule`; records each ended job with
   its own final status and message and each source's; confirms ACTIVE with the read sets'
   own statuses (a FINISHED source does not prove it), and re-checks every failure the
   same way before reporting it (a failed source whose read set ends ACTIVE is no failure).
6. Finds jobs it did not start that cover its read sets (a start whose answer was lost
   where tokens are ignored, a concurrent create of the same inputs) and reports them
   (``found``).
7. Raises :class:`~omics_dynamic.errors.ActivationFailedError` once every job has ended,
   :class:`~omics_dynamic.errors.ActivationTimeoutError` when ``timeout_seconds`` is spent
   (no call outlives it by more than a few seconds), or
   :class:`~omics_dynamic.errors.ActivationCancelledError` when asked to stop.
8. Prints progress lines prefixed with the resource name (design.md section 2, rule 13):
   the first at once, then on change and at least every 30 s in every phase, each formatted
   from counts when it is printed; while waiting, with the jobs ended, SUBMITTED and the
   sources FINISHED as the polls read them, and the time left estimated from the jobs
   that ended.
"""

from .jobs import JOB_STATUS_CLASS
from .lookup import StatusLookup, look_up_statuses, read_statuses
from .progress import stderr_reporter
from .run import ActivationResult, ActivationRun

__all__ = [
    "JOB_STATUS_CLASS",
    "read_statuses",
    "look_up_statuses",
    "StatusLookup",
    "ActivationResult",
    "ActivationRun",
    "stderr_reporter",
]
