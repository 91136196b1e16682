"""Every timing and limit of the provider, in one place, each named with its unit.

Suffixes: ``_S`` seconds on the provider's clock (scaled by ``omics-dynamic:timeScale``),
``_REAL_S`` real (wall-clock) seconds whatever the scale, ``_CHARS`` characters, ``_CALLS``
API calls, ``_PAGES`` list pages; a bare count counts what its name says. The modules that
use a value import it from here (``from .limits import PAGE_SIZE``), so a test that
patches ``module.NAME`` patches that module's use.
"""

from __future__ import annotations

# -- HealthOmics API limits (botocore's omics model, AWS's documentation) -----------------

#: Items a ListReadSets or ListReadSetActivationJobs page holds at most (``maxResults``
#: 1-100 in the API); the provider always asks for full pages.
PAGE_SIZE = 100
#: Read sets (sources) one StartReadSetActivationJob takes at most (``sources`` 1-20).
MAX_SOURCES_PER_JOB = 20
#: Characters a ListReadSets filter string (``name``, ``sampleId``, ``subjectId``...)
#: may have (the model's ``pattern``/``max``: 127).
FILTER_TEXT_MAX_CHARS = 127

# -- Inputs (planning.INPUT_SPECS) ----------------------------------------------------------

#: Read sets one ReadSetActivation takes at most (``read_set_ids``).
MAX_READ_SETS = 100_000
#: ``timeout_seconds`` when not set: six hours.
DEFAULT_TIMEOUT_SECONDS = 21_600
#: ``timeout_seconds`` at most. Seven days: a longer budget is almost certainly a unit
#: mistake (milliseconds?).
MAX_TIMEOUT_SECONDS = 604_800
#: ``max_concurrent_jobs`` when not set: HealthOmics' default quota of concurrent
#: activation jobs per account and Region.
DEFAULT_MAX_CONCURRENT_JOBS = 20
#: ``max_concurrent_jobs`` at most.
MAX_CONCURRENT_JOBS_LIMIT = 1_000
#: Characters of the resource name used in client tokens at most.
MAX_RESOURCE_NAME_CHARS = 200

# -- Calls to HealthOmics (aws.ProviderSettings, aws.OmicsApi) ------------------------------

#: Requests per second per operation family when ``omics-dynamic:rateLimit`` is not set.
DEFAULT_RATE_LIMIT_PER_S = 5.0
#: botocore retry attempts when ``omics-dynamic:maxAttempts`` is not set.
DEFAULT_MAX_ATTEMPTS = 12
#: Real seconds resolving AWS credentials may take by default (``omics-dynamic:credentialsTimeout``):
#: enough for botocore's chain to run a credential_process that answers from its cache, an
#: STS AssumeRole or an SSO role lookup, a metadata endpoint; short enough that diff's and
#: check's live lookup (:data:`LIVE_CHECK_TIMEOUT_S`, 20 s in all) still ends in time
#: when a helper waits for a prompt nobody answers.
CREDENTIALS_TIMEOUT_S = 10.0
#: Real seconds a credential resolution that timed out is remembered for its key
#: (:func:`omics_dynamic.aws.shared_client`): later calls of the same provider process fail
#: at once with the same error instead of each waiting out the bound again (a stack of many
#: resources would otherwise wait once per check and diff).
CREDENTIALS_FAILURE_TTL_S = 300.0
#: Clients (one per region, profile, endpoint and credential source) a provider process
#: keeps at most (least recently used dropped first).
SHARED_CLIENTS_MAX = 32
#: Fraction of the configured rate the buckets pace at, and of a second's worth of requests
#: they let through at once. The service's own bucket (about ``rate`` tokens) then keeps
#: headroom for requests that reach it closer together than they left (network and
#: scheduling jitter), so a run alone in an account is not throttled: a throttled request
#: costs botocore's backoff (up to seconds), far more than the pacing it would have saved.
PACE_FRACTION = 0.9
BURST_FRACTION = 0.5
#: Seconds after which an endpoint that no attempt ever connected to fails the call
#: (:meth:`omics_dynamic.aws.OmicsApi._check_reachable`) instead of being retried until
#: the deadline.
UNREACHABLE_AT_START_S = 120.0
#: botocore's connect and read timeouts for one attempt (real seconds), and the HTTP
#: connections a client keeps (up to ``max_concurrent_jobs`` polls and starts share them).
CONNECT_TIMEOUT_REAL_S = 10
READ_TIMEOUT_REAL_S = 60
MAX_POOL_CONNECTIONS = 10
#: Real seconds a call may outlive its budget (its answer may be on the way).
CALL_SLACK_REAL_S = 2.0
#: Real seconds between looks at the cancel event and the clock while a call is outstanding.
CALL_POLL_REAL_S = 0.1
#: Transient failures beyond botocore's retries (throttling, 5xx, connection errors) are
#: retried after an exponential delay with equal jitter: from this first ceiling ...
BACKOFF_BASE_S = 1.0
#: ... doubling up to this one.
BACKOFF_CAP_S = 20.0

# -- Check and diff (provider) ----------------------------------------------------------------

#: Seconds check's lookup of the store and the read sets may take in all; the first line
#: reaches the person within about this plus one call's slack.
CHECK_LOOKUP_BUDGET_S = 2.5
#: Calls check's lookup makes at most, whatever the store's or the cohort's size.
CHECK_LOOKUP_MAX_CALLS = 20
#: Real seconds diff's live status check may take in all before it falls back to state.
LIVE_CHECK_TIMEOUT_S = 20.0
#: How long diff's live observation "all ACTIVE" lets a following update skip AWS calls
#: (the engine calls Diff then Update in one provider process, design.md rule 1).
LIVE_OBSERVATION_TTL_S = 600.0
#: ListReadSets pages read at most to suggest sample IDs close to a mistyped one: a bounded
#: cost whatever the store's size.
SUGGESTION_LISTING_PAGES = 10
#: Suggestions per mistyped sample ID at most.
SUGGESTIONS_PER_VALUE = 3

# -- The program's data sources (data_source.get_read_sets, sample_sheet.read_sample_sheet) --

#: Seconds one data source call (``get_read_sets``, ``get_read_sets_output``,
#: ``read_sample_sheet``) may take in all when ``omics-dynamic:dataSourceTimeout`` is not
#: set: its listings, their pacing and botocore's retries. Ten minutes: an unfiltered
#: listing of a store of 100,000 read sets is 1,000 ListReadSets pages, about 220 s at the
#: default pace (5 requests/s x PACE_FRACTION), so this leaves room for about 2,700 pages
#: (270,000 read sets) or a slow stretch, while an endpoint that accepts connections and
#: never answers no longer holds the program for botocore's 12 attempts x 60 s read timeout
#: (14 minutes measured). An endpoint that never connects fails sooner, after
#: UNREACHABLE_AT_START_S at most.
DATA_SOURCE_TIMEOUT_S = 600.0

# -- An activation run (activation/, scheduling) ----------------------------------------------

#: Polling of in-flight jobs (:class:`omics_dynamic.scheduling.PollSchedule`): the
#: shortest interval ...
POLL_MIN_INTERVAL_S = 0.5
#: ... and the longest; also how long a start refused by the concurrency quota waits when
#: none of the run's own jobs is in flight to free a slot.
POLL_MAX_INTERVAL_S = 15.0
#: Before any job has finished, the interval is this fraction of the oldest job's age: a
#: job is noticed within about a thirtieth of its own duration, short or long.
POLL_AGE_FRACTION = 1 / 30
#: Once a job has finished, polls stay sparse until this fraction of the shortest observed
#: duration ...
POLL_EARLY_FRACTION = 0.9
#: ... and back off by this many seconds per second of lateness beyond the longest.
POLL_LATE_GROWTH_PER_S = 0.1
#: Seconds between looks at in-flight jobs whose sources are not listed yet.
UNLISTED_POLL_S = 5.0
#: Before starting any job, the run waits for in-flight jobs of the store whose sources are
#: not listed yet (SUBMITTED, ``sources: []``) at most this long ...
UNLISTED_SOURCES_WAIT_CAP_S = 120.0
#: ... or this fraction of ``timeout_seconds``, whichever is shorter.
UNLISTED_SOURCES_WAIT_FRACTION = 0.1
#: With at most this many jobs in flight, polling reads each one (GetReadSetActivationJob);
#: with more, one ListReadSetActivationJobs page (100 jobs) is cheaper.
GET_EACH_JOB_UP_TO = 2
#: Seconds of slack when placing the run's start on the service's clock
#: (:meth:`omics_dynamic.activation.jobs.JobTracker.found_after`).
FOUND_MARGIN_S = 2.0
#: Seconds during which GetReadSetActivationJob may answer ResourceNotFoundException for a
#: job the run knows (started, adopted, found, or listed), counted from when the run learned
#: of it: HealthOmics may not know a job just created yet (read-after-create lag, as other
#: AWS services show). Within the grace the job counts as in flight with its sources
#: unknown; after it, the run fails with advice about a lost job.
JOB_NOT_FOUND_GRACE_S = 60.0
#: Looking for the ended jobs that activated read sets ACTIVE at the start
#: (:func:`omics_dynamic.activation.attribution.find_earlier_jobs`): at most this many
#: ListReadSetActivationJobs pages ...
EARLIER_JOB_PAGES = 5
#: ... and at most this many GetReadSetActivationJob calls beyond one per 20 of those read
#: sets (the most one job activates).
EARLIER_SPARE_READS = 5
#: A create credits read sets it finds ACTIVE to ended jobs created at most this long
#: before it (one day: the rerun of an interrupted create; an older job's activation is
#: not this resource's work).
EARLIER_RUN_LOOKBACK_S = 86_400.0
#: Unfiltered ListReadSets pages whose yield (requested read sets shown) estimates the
#: next ones' (:mod:`omics_dynamic.costmodel`).
RECENT_PAGES = 8
#: Real seconds the main thread gets to react to a SIGINT before the watch wakes it.
SIGINT_GRACE_S = 0.5

# -- What the person watching sees (progress lines, messages) -------------------------------

#: Seconds between progress lines at the most often, when the counts change.
PROGRESS_MIN_INTERVAL_S = 5.0
#: Seconds between progress lines without news: 25, so that with a call in between (paced,
#: or retried) the person watching still gets a line at least every 30 s.
HEARTBEAT_S = 25.0
#: Items an error message lists before it says "and N more".
MESSAGE_LIST_LIMIT = 20
#: Distinct source messages listed per job in a failure listing ...
GROUPS_PER_JOB_LIMIT = 3
#: ... and read set IDs per message.
GROUP_ID_LIMIT = 5
#: Characters one AWS status message may take in a message (cut with "...").
STATUS_MESSAGE_CHARS = 200
#: Characters the per-job part of a failure listing may take (whole jobs; at least one).
FAILURES_TEXT_CHARS = 2_500
#: A failing input whose value is longer than this (as JSON) is reported without the
#: property, so the engine does not print the whole value before the reason.
CHECK_FAILURE_VALUE_CHARS = 300
#: Characters of a credential_process command line a message quotes at most.
COMMAND_TEXT_CHARS = 160
#: Characters of an error's text a warning line quotes at most.
WARNING_REASON_CHARS = 200
