"""The exceptions omics-dynamic raises.

Every message says what happened, names the thing and the value concerned, and says what
to do next. Errors that come from AWS keep the AWS error code and request ID.

Exception tree::

    OmicsDynamicError                    base of everything raised here
    ├── InvalidInputError                an input failed validation (also ValueError)
    ├── ConfigurationError               no region, bad endpoint or time scale setting
    ├── AwsCallError                     an AWS call failed; .code, .request_id, .operation
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

from typing import Mapping, Optional, Sequence

__all__ = [
    "OmicsDynamicError",
    "InvalidInputError",
    "ConfigurationError",
    "AwsCallError",
    "ReadSetsUnusableError",
    "ActivationFailedError",
    "ActivationTimeoutError",
    "ActivationCancelledError",
    "SourceFailure",
]

#: How many items an error message lists before it says "and N more".
MESSAGE_LIST_LIMIT = 20


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


class AwsCallError(OmicsDynamicError):
    """An AWS HealthOmics call failed after botocore's retries.

    Attributes: ``operation`` (API operation name, e.g. ``"StartReadSetActivationJob"``),
    ``code`` (AWS error code, e.g. ``"AccessDeniedException"``), ``request_id`` (the AWS
    request ID, or ``None`` when the call never got an answer), ``http_status`` (int or
    ``None``).
    """

    def __init__(
        self,
        operation: str,
        code: str,
        message: str,
        request_id: Optional[str],
        http_status: Optional[int] = None,
        hint: str = "",
    ):
        self.operation = operation
        self.code = code
        self.request_id = request_id
        self.http_status = http_status
        self.aws_message = message
        rid = f"request ID {request_id}" if request_id else "no AWS request ID: no answer was received"
        text = f"{operation} failed: {code}: {message} ({rid})"
        if hint:
            text += f". {hint}"
        super().__init__(text)


class ReadSetsUnusableError(OmicsDynamicError):
    """Some read sets cannot be activated: not in the store, DELETED, DELETING or UPLOAD_FAILED.

    Raised before any activation job starts. ``statuses`` maps each unusable read set ID
    to its status (``"NOT_FOUND"`` when the store does not hold it).
    """

    def __init__(self, sequence_store_id: str, statuses: Mapping[str, str]):
        self.sequence_store_id = sequence_store_id
        self.statuses = dict(statuses)
        items = [f"{rid} ({status})" for rid, status in sorted(self.statuses.items())]
        super().__init__(
            f"{len(items)} read set(s) in sequence store {sequence_store_id} cannot be "
            f"activated: {_listing(items)}. No activation job was started. Remove these "
            "IDs from read_set_ids (or re-import the data) and run `pulumi up` again."
        )


class SourceFailure(tuple):
    """One failed read set: ``(read_set_id, job_id, status, message)``."""

    __slots__ = ()

    def __new__(cls, read_set_id: str, job_id: str, status: str, message: str):
        return super().__new__(cls, (read_set_id, job_id, status, message))

    read_set_id = property(lambda self: self[0])
    job_id = property(lambda self: self[1])
    status = property(lambda self: self[2])
    message = property(lambda self: self[3])


class ActivationFailedError(OmicsDynamicError):
    """Activation jobs or sources failed.

    ``failures`` lists :class:`SourceFailure` (read set, job, status, message);
    ``activated`` the read set IDs that did become ACTIVE in this run.

    The message groups failures by (job, status, message), so every distinct message
    and every job appears even when hundreds of read sets failed the same way (a FAILED
    job repeats its message for each of its 20 sources).
    """

    def __init__(self, resource_name: str, failures: Sequence[SourceFailure], activated: Sequence[str]):
        self.failures = list(failures)
        self.activated = sorted(activated)
        groups: dict[tuple[str, str, str], list[str]] = {}
        for f in self.failures:
            groups.setdefault((f.job_id, f.status, f.message or "no message"), []).append(f.read_set_id)
        items = [
            f"job {job_id} {status}: {message}: {len(rids)} read set(s): {_listing(sorted(rids))}"
            for (job_id, status, message), rids in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        ]
        jobs = {f.job_id for f in self.failures}
        super().__init__(
            f"{resource_name}: activation failed for {len(self.failures)} read set(s) in "
            f"{len(jobs)} job(s): " + "; ".join(items[:MESSAGE_LIST_LIMIT])
            + (f"; and {len(items) - MESSAGE_LIST_LIMIT} more group(s)" if len(items) > MESSAGE_LIST_LIMIT else "")
            + f". {len(self.activated)} read set(s) did activate"
            + (f": {_listing(self.activated)}" if self.activated else "")
            + ". Fix the cause (see the messages), then run `pulumi up` again: it starts "
            "jobs only for the read sets that are still not ACTIVE."
        )


class ActivationTimeoutError(OmicsDynamicError):
    """The wait budget (input ``timeout_seconds``) ran out before every read set was ACTIVE.

    ``running_job_ids`` are the jobs still running (they keep running in HealthOmics);
    ``counts`` maps read set status to how many of the resource's read sets have it.
    """

    def __init__(
        self,
        resource_name: str,
        timeout_s: float,
        running_job_ids: Sequence[str],
        counts: Mapping[str, int],
    ):
        self.timeout_s = timeout_s
        self.running_job_ids = list(running_job_ids)
        self.counts = dict(counts)
        count_text = ", ".join(f"{n} {status}" for status, n in sorted(self.counts.items()))
        super().__init__(
            f"{resource_name}: timed out after {timeout_s:g}s (timeout_seconds) with "
            f"{count_text}; {len(self.running_job_ids)} activation job(s) still running"
            + (f": {_listing(self.running_job_ids)}" if self.running_job_ids else "")
            + ". The jobs keep running in HealthOmics; the next `pulumi up` resumes: it "
            "waits for them and starts jobs only for read sets still ARCHIVED. Raise "
            "timeout_seconds if activations in this account take longer."
        )


class ActivationCancelledError(OmicsDynamicError):
    """The run was asked to stop (its ``cancel`` event was set) before every read set was ACTIVE.

    ``engine``'s cancellation glue sets the event when the Pulumi engine sends the Cancel
    RPC or the provider process gets SIGINT; the run then stops within seconds (its waits
    wait on the event) instead of holding ``pulumi up`` for up to ``timeout_seconds``.
    ``running_job_ids`` are the activation jobs still running: they keep running in
    HealthOmics (there is no API to cancel them, design.md section 3) and the next
    ``pulumi up`` adopts them instead of starting duplicates.
    """

    def __init__(self, resource_name: str, running_job_ids: Sequence[str]):
        self.resource_name = resource_name
        self.running_job_ids = sorted(running_job_ids)
        super().__init__(
            f"{resource_name}: cancelled before every read set was ACTIVE; "
            f"{len(self.running_job_ids)} activation job(s) still running"
            + (f": {_listing(self.running_job_ids)}" if self.running_job_ids else "")
            + ". They keep running in HealthOmics; the next `pulumi up` resumes them: it "
            "waits for them and starts jobs only for read sets still ARCHIVED."
        )
