"""The exceptions omics-dynamic raises.

Every message says what happened, names the thing and the value concerned, and says what
to do next. Errors that come from AWS keep the AWS error code and request ID.

Exception tree::

    OmicsDynamicError                    base of everything raised here
    ├── InvalidInputError                an input failed validation (also ValueError)
    ├── ConfigurationError               no region, bad endpoint or time scale setting
    │   └── CredentialsTimeoutError      resolving AWS credentials did not finish in time
    ├── AwsCallError                     an AWS call failed; .code, .request_id, .operation,
    │                                    .transient
    ├── ListingStuckError                a list call repeats a nextToken: it never ends
    ├── BudgetExhaustedError             a call got no answer within its time budget
    ├── DataSourceTimeoutError           a data source (get_read_sets, read_sample_sheet)
    │                                    did not finish within omics-dynamic:dataSourceTimeout
    ├── CallCancelledError               a call or wait stopped: its cancel event was set
    ├── ReadSetsUnusableError            read sets missing, DELETED, DELETING or UPLOAD_FAILED;
    │                                    raised before any activation job starts
    ├── ActivationFailedError            activation jobs or sources FAILED
    ├── ActivationTimeoutError           the wait budget (timeout_seconds) ran out
    └── ActivationCancelledError         the engine asked the provider to stop (Cancel, SIGINT)

A failed or timed-out create leaves nothing in Pulumi state (dynamic providers have no
"created but not ready" state), but the activation jobs it started keep running in
HealthOmics: the next ``pulumi up`` finds them (and the read sets they made ACTIVE or
ACTIVATING) and only waits for them; it starts jobs only for what is still ARCHIVED.
"""

from __future__ import annotations

from typing import Mapping, NamedTuple, Optional, Sequence

from .limits import (
    FAILURES_TEXT_CHARS,
    GROUP_ID_LIMIT,
    GROUPS_PER_JOB_LIMIT,
    MESSAGE_LIST_LIMIT,
    STATUS_MESSAGE_CHARS,
)

__all__ = [
    "OmicsDynamicError",
    "InvalidInputError",
    "ConfigurationError",
    "CredentialsTimeoutError",
    "AwsCallError",
    "ListingStuckError",
    "BudgetExhaustedError",
    "DataSourceTimeoutError",
    "CallCancelledError",
    "ReadSetsUnusableError",
    "ActivationFailedError",
    "ActivationTimeoutError",
    "ActivationCancelledError",
    "SourceFailure",
    "QuotaRefusals",
    "UnansweredStart",
    "unusable_reason",
    "store_missing_reason",
]


def _cut_message(text: str, limit: int = STATUS_MESSAGE_CHARS) -> str:
    """``text`` cut to ``limit`` characters (ending "...")."""
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _listing(items: Sequence[str], limit: int = MESSAGE_LIST_LIMIT) -> str:
    """Join ``items`` with ", ", listing at most ``limit`` and counting the rest."""
    shown = list(items[:limit])
    rest = len(items) - len(shown)
    text = ", ".join(shown)
    if rest > 0:
        text += f" and {rest} more"
    return text


class OmicsDynamicError(Exception):
    """Base class of every error omics-dynamic raises."""


class InvalidInputError(OmicsDynamicError, ValueError):
    """An input of ReadSetActivation is invalid.

    ``check`` reports bad inputs as CheckFailures and never raises; this is raised when a
    lifecycle method is called with inputs that did not pass ``check`` (for example by a
    program that calls the provider directly). ``failures`` holds ``(property, reason)``.
    """

    def __init__(self, failures: Sequence[tuple[str, str]]):
        self.failures = list(failures)
        super().__init__(
            "invalid ReadSetActivation inputs: "
            + "; ".join(f"{prop}: {reason}" for prop, reason in self.failures)
        )


class ConfigurationError(OmicsDynamicError):
    """Provider configuration is missing or invalid (region, endpoint, time scale)."""


class CredentialsTimeoutError(ConfigurationError):
    """Resolving AWS credentials through botocore's chain did not finish within its bound.

    Raised by :func:`omics_dynamic.aws.resolve_credentials` (and so by every lifecycle
    method that makes a client) when a credential source hangs: a profile's
    ``credential_process`` nobody answers (an SSO or MFA helper in CI), an MFA prompt of an
    ``assume-role`` profile, a metadata endpoint that does not answer. ``source`` names what
    was being asked (e.g. ``"profile 'ci' credential_process `sso-helper --login`"``),
    ``timeout_s`` is the bound in real seconds, ``advice`` the fix, ``stopped`` how many
    helper processes were killed. Nothing was sent to HealthOmics.
    """

    def __init__(self, source: str, timeout_s: float, advice: str, stopped: int = 0):
        self.source = source
        self.timeout_s = timeout_s
        self.advice = advice
        self.stopped = stopped
        killed = f"; the helper was stopped ({stopped} process(es) killed)" if stopped else ""
        super().__init__(
            f"AWS credentials: {source} did not answer within {timeout_s:g}s{killed}; nothing was "
            f"sent to HealthOmics. {advice}"
        )


class AwsCallError(OmicsDynamicError):
    """An AWS HealthOmics call failed after botocore's retries.

    Attributes: ``operation`` (API operation name, e.g. ``"StartReadSetActivationJob"``),
    ``code`` (AWS error code, e.g. ``"AccessDeniedException"``; botocore's stand-in, the
    HTTP status as a string such as ``"502"``, when the answer carried none), ``aws_message``
    (the answer's message, whole; the error's text cuts it to :data:`STATUS_MESSAGE_CHARS`
    characters), ``request_id`` (the AWS request ID, or ``None`` when the call never got an
    answer or the answer carried none), ``http_status`` (int, or ``None`` when no answer
    came), ``transient`` (True for answers worth retrying later: throttling, 5xx, 408,
    connection errors and read timeouts, as botocore's standard retry mode classifies them;
    :class:`~omics_dynamic.aws.OmicsApi` retries those on its clock while a budget is set).
    """

    def __init__(
        self,
        operation: str,
        code: str,
        message: str,
        request_id: Optional[str],
        http_status: Optional[int] = None,
        hint: str = "",
        transient: bool = False,
    ):
        self.operation = operation
        self.code = code
        self.request_id = request_id
        self.http_status = http_status
        self.aws_message = message
        self.transient = transient
        self.hint = hint
        #: Jobs covering the run's read sets still running when this error ended the run
        #: (:meth:`with_jobs_left`), empty otherwise.
        self.running_job_ids: list[str] = []
        if request_id:
            rid = f"request ID {request_id}"
        elif http_status is not None:
            rid = f"no AWS request ID in the answer: HTTP {http_status}"
        else:
            rid = "no AWS request ID: no answer was received"
        text = f"{operation} failed: {code}: {_cut_message(message)} ({rid})"
        if hint:
            text += f". {hint}"
        super().__init__(text)

    def with_jobs_left(self, resource_name: str, running_job_ids: Sequence[str],
                       cancelling: Optional[Mapping[str, str]] = None,
                       unanswered_start: Optional[UnansweredStart] = None) -> AwsCallError:
        """This error as it ends a run that leaves jobs behind: the same operation, code,
        AWS message, request ID and hint, then the jobs still running (count first, then
        at most :data:`MESSAGE_LIST_LIMIT` IDs), those CANCELLING, a start that got no
        answer, and that the next ``pulumi up`` resumes them (as the timeout and Ctrl-C
        errors say). :returns: a new AwsCallError with ``running_job_ids`` set."""
        jobs = _jobs_left(sorted(running_job_ids), dict(cancelling or {}), unanswered_start,
                          "They keep running in HealthOmics; the next `pulumi up` resumes them: it "
                          "waits for them and starts jobs only for read sets still ARCHIVED.")
        hint = (self.hint + ". " if self.hint else "") + f"{resource_name}: the run stopped here; {jobs}"
        err = AwsCallError(self.operation, self.code, self.aws_message, self.request_id, self.http_status,
                           hint, transient=self.transient)
        err.running_job_ids = sorted(running_job_ids)
        return err


class ListingStuckError(OmicsDynamicError):
    """A list call answered a nextToken it had already given in the same listing.

    Such a listing never ends (botocore's paginators catch a token repeated at once,
    :class:`~omics_dynamic.aws.OmicsApi` any token seen before). Callers fall back where
    they can (status discovery reads the rest with GetReadSetMetadata; polling reads each
    job; a start answered "token used" waits, bounded, then re-checks the read sets'
    statuses) and raise this where they cannot (finding the jobs already in flight before
    starting any). ``operation``, ``pages`` (pages read), ``request_ids`` (of the pages
    that repeated the token), ``running_job_ids`` (jobs covering the run's read sets known
    to be running when it was raised, named in the message).
    """

    def __init__(self, operation: str, pages: int, request_ids: Sequence[Optional[str]],
                 running_job_ids: Sequence[str] = ()):
        self.operation = operation
        self.pages = pages
        self.request_ids = [r for r in request_ids if r]
        self.running_job_ids = sorted(running_job_ids)
        running = ""
        if self.running_job_ids:
            running = (f" {len(self.running_job_ids)} activation job(s) covering these read sets "
                       f"are running: {_listing(self.running_job_ids)}; they keep running in "
                       "HealthOmics and the next `pulumi up` waits for them.")
        super().__init__(
            f"{operation} answered a nextToken it had already given (after {pages} page(s); "
            f"request IDs {', '.join(self.request_ids) or 'none'}): the listing does not "
            "advance. This is a HealthOmics fault; run `pulumi up` again later, and report "
            "the request IDs to AWS Support if it persists." + running
        )


#: AwsCallError codes (botocore exception names) that mean no connection could be made.
_UNREACHABLE_CODES = ("EndpointConnectionError", "ConnectTimeoutError")


class BudgetExhaustedError(OmicsDynamicError):
    """A call could not get an answer within the time budget it was given.

    Raised by :class:`~omics_dynamic.aws.OmicsApi` when a call (with botocore's retries
    and ours) would outlive its deadline: the answer is held, connections hang or drop, or
    transient errors go on. :class:`~omics_dynamic.activation.ActivationRun` turns it into
    :class:`ActivationTimeoutError`; diff's live check into a warning. ``operation``,
    ``waited_s`` (real seconds spent on the last call), ``last_error`` (the last transient
    :class:`AwsCallError`, or None when the call simply got no answer in time), ``sent``
    (False only when no request of the call was sent: the budget was spent before it; else
    the service may have acted on it, e.g. created a job), ``last_attempt`` (botocore's last
    failed attempt while no answer came, e.g. ``"EndpointConnectionError: Could not connect
    to the endpoint URL: ..."``), ``unreachable`` (True when that attempt could not connect
    at all) and ``endpoint_url`` (where the calls went).
    """

    def __init__(self, operation: str, waited_s: float, last_error: Optional[AwsCallError] = None,
                 *, sent: bool = True, last_attempt: Optional[str] = None, unreachable: bool = False,
                 endpoint_url: Optional[str] = None):
        self.operation = operation
        self.waited_s = waited_s
        self.last_error = last_error
        self.sent = sent
        self.last_attempt = last_attempt
        self.unreachable = unreachable or bool(last_error is not None and last_error.code in _UNREACHABLE_CODES)
        self.endpoint_url = endpoint_url
        if not sent:
            super().__init__(f"{operation} not sent: the time budget was already spent")
            return
        if last_error is not None:
            request = f"request ID {last_error.request_id}" if last_error.request_id else "no request ID"
            detail = f"the last answer was {last_error.code} ({request})"
        else:
            detail = f"no answer after {waited_s:.1f}s" + (
                f"; botocore's last attempt failed: {last_attempt}" if last_attempt else "")
        super().__init__(f"{operation} could not complete within the time budget: {detail}")

    def unreachable_advice(self) -> str:
        """What to check when the endpoint could not be reached ("" when it could)."""
        if not self.unreachable:
            return ""
        return (f"HealthOmics could not be reached at {self.endpoint_url or 'its endpoint'}: check the "
                "endpoint settings (omics-dynamic:endpoint, AWS_ENDPOINT_URL_OMICS, the AWS config "
                "file's services section), the region, and the network path (proxy, VPC endpoint); "
                "more time does not help")


class DataSourceTimeoutError(OmicsDynamicError):
    """A data source of the program (``get_read_sets``, ``get_read_sets_output``,
    ``read_sample_sheet``) did not finish within its budget: ``omics-dynamic:dataSourceTimeout``
    or ``OMICS_DYNAMIC_DATA_SOURCE_TIMEOUT`` seconds, default
    :data:`~omics_dynamic.limits.DATA_SOURCE_TIMEOUT_S`.

    ``operation`` (the call under way, e.g. ``"ListReadSets"``), ``sequence_store_id``,
    ``region``, ``endpoint_url`` (where the calls went), ``timeout_s``, ``calls`` (calls of
    ``operation`` sent: pages asked for), ``attempts`` (HTTP attempts, botocore's retries
    included), ``still_listing`` (True: every call was answered and the budget ran out
    between pages, the listing is just long; False: the last call got no answer in time),
    ``last_attempt`` (botocore's last failed attempt then, e.g. ``"ReadTimeoutError: Read
    timeout on endpoint URL: ..."``, or None). The message says what was tried and the fix.
    """

    def __init__(self, operation: str, sequence_store_id: str, region: str, endpoint_url: str,
                 timeout_s: float, calls: int, attempts: int, *, still_listing: bool,
                 waited_s: float = 0.0, last_attempt: Optional[str] = None):
        self.operation = operation
        self.sequence_store_id = sequence_store_id
        self.region = region
        self.endpoint_url = endpoint_url
        self.timeout_s = timeout_s
        self.calls = calls
        self.attempts = attempts
        self.still_listing = still_listing
        self.last_attempt = last_attempt
        raise_it = (f"`pulumi config set omics-dynamic:dataSourceTimeout {2 * timeout_s:g}` (seconds; or "
                    "OMICS_DYNAMIC_DATA_SOURCE_TIMEOUT)")
        if still_listing:
            what = (f"every call was answered, and {calls} page(s) had been read with more to come: the "
                    "listing is longer than the budget")
            fix = ("Select fewer read sets with a filter HealthOmics applies (one sample_ids or "
                   "subject_ids value, name, status, created_after...), or raise the budget: " + raise_it)
        else:
            what = f"the last {operation} call got no answer in {waited_s:.0f}s" + (
                f" (botocore's last attempt failed: {_cut_message(last_attempt)})" if last_attempt else
                " (no attempt failed: the answer was still awaited)")
            fix = (f"Check that {endpoint_url} is a HealthOmics endpoint that answers: the endpoint "
                   "settings (omics-dynamic:endpoint, AWS_ENDPOINT_URL_OMICS, AWS_ENDPOINT_URL, the AWS "
                   "config file's services section), the proxy settings (HTTPS_PROXY, NO_PROXY), the "
                   "region and the network path; if HealthOmics is only slow, raise the budget: " + raise_it)
        super().__init__(
            f"{operation} of sequence store {sequence_store_id} ({region}) at {endpoint_url} did not "
            f"finish within the data source's budget of {timeout_s:g}s: {what}. Tried: {calls} {operation} "
            f"call(s), {attempts} HTTP attempt(s) (botocore's retries included). {fix}"
        )


class CallCancelledError(OmicsDynamicError):
    """A call or wait of :class:`~omics_dynamic.aws.OmicsApi`, or a wait of the activation
    run (:class:`~omics_dynamic.activation.context.RunContext`), stopped because the cancel
    event was set; :class:`~omics_dynamic.activation.ActivationRun` turns it into
    :class:`ActivationCancelledError`. ``sent``: False only when no request of the call was
    sent (as :class:`BudgetExhaustedError`)."""

    def __init__(self, message: str, *, sent: bool = True):
        self.sent = sent
        super().__init__(message)


class ReadSetsUnusableError(OmicsDynamicError):
    """Some read sets cannot be activated: not in the store, DELETED, DELETING or UPLOAD_FAILED.

    Raised before any activation job starts. ``statuses`` maps each unusable read set ID
    to its status (``"NOT_FOUND"`` when the store does not hold it).
    """

    def __init__(self, sequence_store_id: str, statuses: Mapping[str, str]):
        self.sequence_store_id = sequence_store_id
        self.statuses = dict(statuses)
        super().__init__(
            f"{_unusable_text(sequence_store_id, self.statuses)}. No activation job was started. "
            "Remove these IDs from read_set_ids, or from the selection or sample sheet that gave "
            "them (or re-import the data), and run `pulumi up` again."
        )


def _unusable_text(sequence_store_id: str, statuses: Mapping[str, str]) -> str:
    """``N read set(s) in sequence store S cannot be activated (2 NOT_FOUND, 1 DELETED):
    id (status), ... and K more``: counts per status first, then the first
    :data:`MESSAGE_LIST_LIMIT` IDs (bounded whatever the number)."""
    by_status: dict[str, int] = {}
    for status in statuses.values():
        by_status[status] = by_status.get(status, 0) + 1
    counts = ", ".join(f"{n:,} {status}" for status, n in sorted(by_status.items(), key=lambda kv: (-kv[1], kv[0])))
    items = [f"{rid} ({status})" for rid, status in sorted(statuses.items())]
    gloss = "; NOT_FOUND: the store does not hold it" if "NOT_FOUND" in by_status else ""
    return (f"{len(items):,} read set(s) in sequence store {sequence_store_id} cannot be activated "
            f"({counts}{gloss}): {_listing(items)}")


def unusable_reason(sequence_store_id: str, statuses: Mapping[str, str], looked_up: int) -> str:
    """Check's reason for read sets HealthOmics says cannot be activated (not in the store,
    DELETED, DELETING, UPLOAD_FAILED): counts, the first IDs, the fix. Bounded (a few
    hundred characters plus :data:`MESSAGE_LIST_LIMIT` IDs) whatever the number.

    :param statuses: read set ID -> status (``"NOT_FOUND"``) of the unusable ones.
    :param looked_up: how many read sets check looked up (the others are not named).
    """
    return (f"{_unusable_text(sequence_store_id, statuses)} (of {looked_up:,} looked up); `pulumi up` "
            "would refuse them before starting any job. Remove them from read_set_ids, or from the "
            "selection or sample sheet that gave them (`aws omics list-read-sets --sequence-store-id "
            f"{sequence_store_id}` lists the store's read sets)")


def store_missing_reason(sequence_store_id: str, region: str, err: AwsCallError) -> str:
    """Check's reason for a sequence store HealthOmics does not know
    (ResourceNotFoundException: its code and request ID kept, its message cut to 300
    characters)."""
    message = err.aws_message if len(err.aws_message) <= 300 else err.aws_message[:297] + "..."
    rid = f"request ID {err.request_id}" if err.request_id else "no request ID"
    return (f"sequence store {sequence_store_id} does not exist in {region}: {err.operation} answered "
            f"{err.code}: {message} ({rid}). Check the ID (`aws omics list-sequence-stores --region "
            f"{region}` lists them) and the region (the region input, aws:region)")


class SourceFailure(NamedTuple):
    """One read set that did not become ACTIVE, and why.

    ``read_set_id``; ``job_id`` (``"-"`` when no job was involved, e.g. every start was
    refused); ``status`` and ``message``: the source's own status and statusMessage in that
    job (or the read set's status, e.g. ``DELETED``); ``job_status`` and ``job_message``: the
    job's final status and statusMessage (CANCELLED, FAILED, COMPLETED_WITH_FAILURES), or
    None when the failure is not a job's outcome.
    """

    read_set_id: str
    job_id: str
    status: str
    message: str
    job_status: Optional[str] = None
    job_message: Optional[str] = None


class ActivationFailedError(OmicsDynamicError):
    """Activation jobs or sources failed and their read sets did not become ACTIVE.

    ``failures`` lists :class:`SourceFailure`; ``activated`` the read set IDs that did
    become ACTIVE in this run.

    The message gives each job's own outcome first (``job 123 CANCELLED: <its message>``),
    then its read sets grouped by the source's status and message, so every distinct
    message and every job appears even when hundreds of read sets failed the same way (a
    FAILED job repeats its message for each of its 20 sources).
    """

    def __init__(self, resource_name: str, failures: Sequence[SourceFailure], activated: Sequence[str]):
        self.failures = list(failures)
        self.activated = sorted(activated)
        super().__init__(
            f"{resource_name}: activation failed for {_failures_text(self.failures)}"
            + f". {len(self.activated)} read set(s) did activate"
            + (f": {_listing(self.activated)}" if self.activated else "")
            + ". Fix the cause (see the messages), then run `pulumi up` again: it starts "
            "jobs only for the read sets that are still not ACTIVE."
        )


def _failures_text(failures: Sequence[SourceFailure]) -> str:
    """``N read set(s) in M job(s): job J STATUS "message": K read set(s) with source FAILED
    "message": id, ... | ...``: each job's own outcome first, then its read sets grouped by
    the source's status and message (at most :data:`MESSAGE_LIST_LIMIT` jobs), so every
    distinct message and every job appears even when hundreds of read sets failed the same
    way. Shared by :class:`ActivationFailedError` and the errors of a run that stopped early
    (:class:`ActivationTimeoutError`, :class:`ActivationCancelledError`)."""
    by_job: dict[tuple[str, str, str], dict[tuple[str, str], list[str]]] = {}
    cut = _cut_message
    for f in failures:
        job_key = (f.job_id, f.job_status or "", f.job_message or "")
        by_job.setdefault(job_key, {}).setdefault((f.status, f.message or ""), []).append(f.read_set_id)
    items = []
    for (job_id, job_status, job_message), groups in sorted(
            by_job.items(), key=lambda kv: (-sum(map(len, kv[1].values())), kv[0])):
        head = "no job" if job_id == "-" else f"job {job_id}"
        if job_status:
            head += f" {job_status}" + (f' "{cut(job_message)}"' if job_message else " (no statusMessage)")
        ordered = sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        parts = [
            f"{len(rids)} read set(s) {'with source ' if job_status else ''}{status}"
            + (f' "{cut(message)}"' if message else "") + f": {_listing(sorted(rids), GROUP_ID_LIMIT)}"
            for (status, message), rids in ordered[:GROUPS_PER_JOB_LIMIT]
        ]
        rest = ordered[GROUPS_PER_JOB_LIMIT:]
        if rest:
            parts.append(f"and {sum(len(r) for _, r in rest)} more read set(s) with {len(rest)} other "
                         "distinct source message(s)")
        items.append(f"{head}: " + "; ".join(parts))
    jobs = {f.job_id for f in failures if f.job_id != "-"}
    shown: list[str] = []
    used = 0
    for item in items[:MESSAGE_LIST_LIMIT]:
        if shown and used + len(item) > FAILURES_TEXT_CHARS:
            break
        shown.append(item)
        used += len(item)
    more = len(items) - len(shown)
    where = ("the error's `failures`; each job's sources and messages: `aws omics "
             "get-read-set-activation-job --sequence-store-id <store> --id <job>`")
    return (f"{len(failures)} read set(s) in {len(jobs)} job(s): " + " | ".join(shown)
            + (f" | and {more} more job(s)" if more else "")
            + (f" (the rest: {where})" if more or any(len(g) > GROUPS_PER_JOB_LIMIT for g in by_job.values())
               else ""))


def _failures_known(failures: Sequence[SourceFailure]) -> str:
    """The sentence of a stopped run's error about the failures it already knew (empty
    when none): the listing of :func:`_failures_text` and what to do about them."""
    if not failures:
        return ""
    return (f"activation already failed for {_failures_text(failures)}. Fix the cause (see the "
            "messages): more time does not help these read sets; the next `pulumi up` starts new "
            "jobs for those still ARCHIVED.")


class QuotaRefusals(NamedTuple):
    """Starts HealthOmics refused with ServiceQuotaExceededException (the account's quota of
    concurrent activation jobs, per Region) during a run: ``refusals`` (how many),
    ``last_request_id`` (of the last one), ``queued_chunks`` (chunks of read sets still not
    started when the run ended), ``jobs_of_the_run`` (jobs of the run still running then:
    with none, other jobs of the account hold the quota)."""

    refusals: int
    last_request_id: Optional[str]
    queued_chunks: int
    jobs_of_the_run: int


class UnansweredStart(NamedTuple):
    """A StartReadSetActivationJob call that got no answer before the run stopped (the
    budget ran out while the answer was held, or the run was cancelled): it may have created
    a job. ``client_token``; ``read_sets`` (how many sources it named)."""

    client_token: str
    read_sets: int


def _jobs_left(running_job_ids: Sequence[str], cancelling: Mapping[str, str],
               unanswered: Optional[UnansweredStart], resumes: str) -> str:
    """The sentences about the jobs a stopped run leaves behind (running, CANCELLING, a start
    with no answer), ending with what the next `pulumi up` does; ``resumes`` is that
    sentence for running jobs."""
    active = [job for job in running_job_ids if job not in cancelling]
    parts = []
    if active:
        parts.append(f"{len(active)} activation job(s) still running: {_listing(active)}. {resumes}")
    elif not cancelling and unanswered is None:
        parts.append("no activation job of this run is running.")
    if cancelling:
        shown = [f'{job} ("{message}")' if message else job for job, message in sorted(cancelling.items())]
        parts.append(
            f"{len(cancelling)} activation job(s) CANCELLING in HealthOmics (a cancellation was "
            f"requested): {_listing(shown)}; a cancelled job does not activate its read sets: the "
            "next `pulumi up` waits until it is CANCELLED and starts new jobs for the read sets "
            "still ARCHIVED.")
    if unanswered is not None:
        text = (f"a StartReadSetActivationJob call for {unanswered.read_sets} read set(s) (clientToken "
                f"{unanswered.client_token}) got no answer before the run stopped: it may have created a "
                "job, which then keeps running in HealthOmics; the next `pulumi up` looks for it and "
                "adopts it (or, sending the same clientToken, is answered with it).")
        parts.append(text[0].upper() + text[1:] if parts else text)
    return " ".join(parts)


def _after(first: str, then: str) -> str:
    """``first`` (a whole sentence, or empty) followed by ``then`` (a sentence begun in
    lower case after "; "), capitalised when it follows."""
    if not first:
        return then
    return f"{first} {then[:1].upper()}{then[1:]}" if then else first


class ActivationTimeoutError(OmicsDynamicError):
    """The wait budget (input ``timeout_seconds``) ran out before every read set was ACTIVE.

    ``running_job_ids`` are the jobs still running (they keep running in HealthOmics);
    ``counts`` maps read set status to how many of the resource's read sets have it
    (``UNKNOWN`` for those whose status was not read before the budget ran out);
    ``detail`` says what was going on when it ran out (e.g. a call that got no answer);
    ``cancelling`` maps the running jobs that are CANCELLING to their statusMessage (they
    will not activate their read sets); ``unanswered_start`` is a start that got no answer
    (it may have created a job); ``quota`` the starts refused for the concurrent-job quota
    while chunks stayed queued (then the advice is about the quota, not the budget);
    ``failures`` the :class:`SourceFailure` the run already knew (sources failed in jobs
    that ended, their read sets not ACTIVE when last read), named as
    :class:`ActivationFailedError` names them, with the advice to fix their cause (more
    time does not help them); ``unreachable`` the advice when the budget ran out because
    the endpoint could not be reached (:meth:`BudgetExhaustedError.unreachable_advice`), in
    place of "raise timeout_seconds".
    """

    def __init__(
        self,
        resource_name: str,
        timeout_s: float,
        running_job_ids: Sequence[str],
        counts: Mapping[str, int],
        detail: str = "",
        *,
        cancelling: Optional[Mapping[str, str]] = None,
        unanswered_start: Optional[UnansweredStart] = None,
        quota: Optional[QuotaRefusals] = None,
        failures: Sequence[SourceFailure] = (),
        unreachable: str = "",
    ):
        self.timeout_s = timeout_s
        self.running_job_ids = list(running_job_ids)
        self.counts = dict(counts)
        self.detail = detail
        self.cancelling = dict(cancelling or {})
        self.unanswered_start = unanswered_start
        self.quota = quota
        self.failures = list(failures)
        count_text = ", ".join(f"{n} {status}" for status, n in sorted(self.counts.items()))
        jobs = _jobs_left(self.running_job_ids, self.cancelling, unanswered_start,
                          "The jobs keep running in HealthOmics; the next `pulumi up` resumes: it "
                          "waits for them and starts jobs only for read sets still ARCHIVED.")
        advice = "Raise timeout_seconds if activations in this account take longer."
        if unreachable:
            advice = unreachable + "."
        elif quota is not None and quota.refusals and quota.queued_chunks:
            advice = (
                f"HealthOmics refused {quota.refusals} start(s) with ServiceQuotaExceededException "
                f"(request ID of the last: {quota.last_request_id or 'none'}), so {quota.queued_chunks} "
                "chunk(s) of at most 20 read sets were never started: the account's quota of "
                "concurrent activation jobs in this Region was in use"
                + (" by its other jobs. Wait for them to end or ask AWS for a higher quota of concurrent "
                   "read set activation jobs (Service Quotas, AWS HealthOmics), then run `pulumi up` "
                   "again; raising timeout_seconds only helps if they end within it."
                   if not quota.jobs_of_the_run else
                   ". Raise timeout_seconds, or ask AWS for a higher quota of concurrent read set "
                   "activation jobs (Service Quotas, AWS HealthOmics).")
            )
        elif self.cancelling and len(self.cancelling) == len(self.running_job_ids) and unanswered_start is None:
            advice = ""  # only cancelled jobs are left: more time does not help them
        elif self.failures:
            advice = "For the rest, raise timeout_seconds if activations in this account take longer."
        super().__init__(
            f"{resource_name}: timed out after {timeout_s:g}s (timeout_seconds) with "
            f"{count_text}" + (f" ({detail})" if detail else "") + f"; {_after(_failures_known(self.failures), jobs)}"
            + (f" {advice}" if advice else "")
        )


class ActivationCancelledError(OmicsDynamicError):
    """The run was asked to stop (its ``cancel`` event was set) before every read set was ACTIVE.

    ``engine``'s cancellation glue sets the event when the Pulumi engine sends the Cancel
    RPC or the provider process gets SIGINT; the run then stops within seconds (its waits
    wait on the event) instead of holding ``pulumi up`` for up to ``timeout_seconds``.
    ``running_job_ids`` are the activation jobs still running: they keep running in
    HealthOmics (there is no API to cancel them, design.md section 3) and the next
    ``pulumi up`` adopts them instead of starting duplicates. ``cancelling``,
    ``unanswered_start`` and ``failures`` as in :class:`ActivationTimeoutError` (a cancelled
    run reads no status again: ``failures`` are those its last reads left standing).
    """

    def __init__(self, resource_name: str, running_job_ids: Sequence[str], *,
                 cancelling: Optional[Mapping[str, str]] = None,
                 unanswered_start: Optional[UnansweredStart] = None,
                 failures: Sequence[SourceFailure] = ()):
        self.resource_name = resource_name
        self.running_job_ids = sorted(running_job_ids)
        self.cancelling = dict(cancelling or {})
        self.unanswered_start = unanswered_start
        self.failures = list(failures)
        jobs = _jobs_left(self.running_job_ids, self.cancelling, unanswered_start,
                          "They keep running in HealthOmics; the next `pulumi up` resumes them: it "
                          "waits for them and starts jobs only for read sets still ARCHIVED.")
        super().__init__(f"{resource_name}: cancelled before every read set was ACTIVE; "
                         f"{_after(_failures_known(self.failures), jobs)}")
