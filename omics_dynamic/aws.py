"""AWS side: boto3 client factory, paced calls, and AWS errors turned into ours.

The provider object holds no clients or credentials (design.md section 2, rule 12): a
:class:`ProviderSettings` (plain data from stack config) and :func:`make_client` create
a client inside each lifecycle call. Credentials come from boto3's default chain
(environment, ``aws:profile`` / ``AWS_PROFILE``, SSO, instance roles); none of them is
ever stored by the provider.

Retries: botocore's own retry modes retry throttling (429) and transient errors (500,
408 RequestTimeoutException, connection errors) with exponential backoff and jitter.
omics-dynamic adds no second retry layer; ServiceQuotaExceededException (402) is not
retried by botocore and is handled by the scheduler (wait for a slot).
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterator, Optional, Protocol

import boto3
import botocore.config
import botocore.exceptions

from .errors import AwsCallError, ConfigurationError
from .scheduling import TokenBucket

__all__ = [
    "Clock",
    "ScaledClock",
    "ProviderSettings",
    "make_client",
    "RateBudget",
    "shared_rate_budget",
    "OmicsApi",
    "FAMILIES",
    "CONFIG_NAMESPACE",
]

#: Stack config namespace of omics-dynamic's own settings (``omics-dynamic:endpoint``).
CONFIG_NAMESPACE = "omics-dynamic"

#: Operation -> request-rate family (design.md section 3: a quota per family).
FAMILIES = {
    "StartReadSetActivationJob": "start",
    "GetReadSetActivationJob": "jobs",
    "ListReadSetActivationJobs": "jobs",
    "GetReadSetMetadata": "readsets",
    "ListReadSets": "readsets",
}


class Clock(Protocol):
    """Time source of everything that waits, in seconds: ``now()``, ``sleep(seconds)`` and
    ``wait(event, seconds)`` (sleep until ``event`` is set or ``seconds`` have passed;
    True when the event is set: the cancellation hook of
    :class:`~omics_dynamic.activation.ActivationRun`)."""

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...

    def wait(self, event: threading.Event, seconds: float) -> bool: ...


class ScaledClock:
    """Real monotonic time, optionally sped up: with ``time_scale`` k, one second of this
    clock lasts 1/k real seconds (benchmarks and the demo run the emulator and the
    provider on the same scale). k = 1 is plain real time."""

    def __init__(self, time_scale: float = 1.0):
        if not time_scale > 0:
            raise ValueError(f"time_scale must be > 0, got {time_scale!r}")
        self.time_scale = float(time_scale)

    def now(self) -> float:
        return time.monotonic() * self.time_scale

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds / self.time_scale)

    def wait(self, event: threading.Event, seconds: float) -> bool:
        """Wait on ``event`` (not ``time.sleep``) for ``seconds`` of this clock; True if set."""
        return event.wait(max(0.0, seconds) / self.time_scale)


@dataclass(frozen=True)
class ProviderSettings:
    """Provider configuration, from stack config (rule 2) and the environment.

    - ``region``: ``aws:region`` (the resource's ``region`` input wins over it).
    - ``profile``: ``aws:profile``.
    - ``endpoint_url``: ``omics-dynamic:endpoint``, else botocore's
      ``AWS_ENDPOINT_URL_OMICS`` / ``AWS_ENDPOINT_URL`` from the environment.
    - ``time_scale``: ``omics-dynamic:timeScale`` or ``OMICS_DYNAMIC_TIME_SCALE``: run the
      provider's clock k times faster (only for the emulator's time-scaled benchmarks and
      demo; never set it against AWS).
    - ``rate_limit_per_s``: ``omics-dynamic:rateLimit`` or ``OMICS_DYNAMIC_RATE_LIMIT``:
      our own request budget per operation family, requests per second (default 5, the
      HealthOmics default quota; 0 = unpaced).
    - ``max_attempts``: botocore retry attempts (``omics-dynamic:maxAttempts``, default 12).
    """

    region: Optional[str] = None
    profile: Optional[str] = None
    endpoint_url: Optional[str] = None
    time_scale: float = 1.0
    rate_limit_per_s: float = 5.0
    max_attempts: int = 12
    retry_mode: str = "standard"

    @classmethod
    def from_config(cls, get, environ: Optional[dict] = None) -> "ProviderSettings":
        """Build from a config getter (``key -> str | None``, namespaced keys) and the env.

        Raises :class:`ConfigurationError` naming the key for unparsable numbers.
        """
        env = os.environ if environ is None else environ

        def number(key: str, env_key: str, default: float, minimum: float) -> float:
            raw = get(f"{CONFIG_NAMESPACE}:{key}")
            source = f"{CONFIG_NAMESPACE}:{key}"
            if raw in (None, ""):
                raw, source = env.get(env_key), env_key
            if raw in (None, ""):
                return default
            try:
                value = float(raw)
            except (TypeError, ValueError):
                raise ConfigurationError(f"{source} must be a number, got {raw!r}") from None
            if not value >= minimum or value != value or value == float("inf"):
                raise ConfigurationError(f"{source} must be a finite number >= {minimum}, got {raw!r}")
            return value

        time_scale = number("timeScale", "OMICS_DYNAMIC_TIME_SCALE", 1.0, 1e-9)
        rate = number("rateLimit", "OMICS_DYNAMIC_RATE_LIMIT", 5.0, 0.0)
        attempts = int(number("maxAttempts", "OMICS_DYNAMIC_MAX_ATTEMPTS", 12, 1))
        endpoint = get(f"{CONFIG_NAMESPACE}:endpoint") or None
        if endpoint and not endpoint.startswith(("http://", "https://")):
            raise ConfigurationError(
                f"{CONFIG_NAMESPACE}:endpoint must be an http:// or https:// URL, got {endpoint!r}"
            )
        return cls(
            region=get("aws:region") or None,
            profile=get("aws:profile") or None,
            endpoint_url=endpoint,
            time_scale=time_scale,
            rate_limit_per_s=rate,
            max_attempts=attempts,
        )

    def effective_endpoint(self, environ: Optional[dict] = None) -> Optional[str]:
        """The custom endpoint in use, if any: config first, then botocore's env variables."""
        env = os.environ if environ is None else environ
        return self.endpoint_url or env.get("AWS_ENDPOINT_URL_OMICS") or env.get("AWS_ENDPOINT_URL") or None


def make_client(settings: ProviderSettings, region: Optional[str]):
    """Create a boto3 HealthOmics client.

    :param region: the resource's ``region`` input, or None for ``aws:region`` and then
        boto3's own chain (``AWS_REGION``, ``AWS_DEFAULT_REGION``, profile).
    :raises ConfigurationError: when no region can be found.

    Whenever a custom endpoint is in use (``omics-dynamic:endpoint``,
    ``AWS_ENDPOINT_URL_OMICS`` or ``AWS_ENDPOINT_URL``), host-prefix injection is off:
    botocore would otherwise turn ``http://127.0.0.1:PORT`` into
    ``http://control-storage-127.0.0.1:PORT`` (design.md section 3).
    """
    session = boto3.session.Session(profile_name=settings.profile)
    resolved_region = region or settings.region or session.region_name
    if not resolved_region:
        raise ConfigurationError(
            "no AWS Region: set the resource's region input, or `pulumi config set aws:region "
            "us-east-1`, or AWS_REGION in the environment"
        )
    endpoint = settings.effective_endpoint()
    config = botocore.config.Config(
        retries={"mode": settings.retry_mode, "max_attempts": settings.max_attempts},
        inject_host_prefix=not endpoint,
        connect_timeout=10,
        read_timeout=60,
        max_pool_connections=10,
        user_agent_extra="omics-dynamic/0.1",
    )
    return session.client(
        "omics", region_name=resolved_region, endpoint_url=endpoint, config=config
    )


#: Fraction of the configured rate the buckets pace at, and of a second's worth of requests
#: they let through at once. The service's own bucket (about ``rate`` tokens) then keeps
#: headroom for requests that reach it closer together than they left (network and
#: scheduling jitter), so a run alone in an account is not throttled: a throttled request
#: costs botocore's backoff (up to seconds), far more than the pacing it would have saved.
PACE_FRACTION = 0.9
BURST_FRACTION = 0.5


class RateBudget:
    """Per-family token buckets (requests per second on the given clock).

    ``rate_per_s`` applies to each family of :data:`FAMILIES`; ``0`` disables pacing. The
    buckets pace at ``PACE_FRACTION * rate_per_s`` with a burst of ``BURST_FRACTION *
    rate_per_s`` (at least 1) requests.
    """

    def __init__(self, rate_per_s: float):
        self.rate_per_s = rate_per_s
        pace = rate_per_s * PACE_FRACTION
        burst = max(1.0, rate_per_s * BURST_FRACTION)
        self._buckets = {family: TokenBucket(pace, burst=burst) for family in set(FAMILIES.values())}

    def wait(self, operation: str, clock: Clock) -> None:
        """Block (on ``clock``) until ``operation``'s family may make one more request."""
        bucket = self._buckets.get(FAMILIES.get(operation, ""))
        if bucket is None:
            return
        delay_s = bucket.reserve(clock.now())
        if delay_s > 0:
            clock.sleep(delay_s)


_BUDGETS: dict[tuple, RateBudget] = {}
_BUDGETS_LOCK = threading.Lock()


def shared_rate_budget(key: tuple, rate_per_s: float) -> RateBudget:
    """The process-wide budget for ``key`` (e.g. (region, endpoint, time scale)), so every
    activation one provider process runs shares one request budget (issue 5)."""
    with _BUDGETS_LOCK:
        budget = _BUDGETS.get((key, rate_per_s))
        if budget is None:
            budget = _BUDGETS[(key, rate_per_s)] = RateBudget(rate_per_s)
        return budget


_HINTS = {
    "AccessDeniedException": (
        "The credentials in use are not allowed omics:{operation} on sequence store "
        "{store} in {region}; attach the policy from omics_dynamic.iam_policy() (README, "
        "'IAM policy') to the role that runs `pulumi up`"
    ),
    "ResourceNotFoundException": (
        "Check sequence_store_id ({store}) and region ({region}): HealthOmics does not "
        "know the resource this call named"
    ),
    "ThrottlingException": (
        "Throttled beyond botocore's retries: lower max_concurrent_jobs, run fewer stacks "
        "at once against this account, or ask for a higher request-rate quota"
    ),
    "ValidationException": "HealthOmics rejected the request; check the inputs it names",
    "UnrecognizedClientException": "The AWS access key is not valid for this endpoint",
    "InvalidSignatureException": "The AWS secret key does not match the access key",
    "ExpiredTokenException": "The AWS session token has expired: refresh the credentials",
}


@dataclass
class Page:
    """One page of a list call: ``items`` (dicts as boto3 returns them) and ``next_token``."""

    items: list[dict]
    next_token: Optional[str]


class OmicsApi:
    """The HealthOmics calls the provider makes, paced and with errors translated.

    Wraps one boto3 client; every call first waits for its family's token in ``budget``
    (on ``clock``), then calls, and turns ``botocore`` errors into
    :class:`~omics_dynamic.errors.AwsCallError` with the AWS code, request ID and a hint.
    ``calls`` counts calls made by operation name.
    """

    def __init__(self, client, clock: Clock, budget: Optional[RateBudget] = None, region: str = ""):
        self.client = client
        self.clock = clock
        self.budget = budget
        self.region = region or client.meta.region_name
        self.calls: Counter = Counter()

    def _call(self, operation: str, method: str, store: str, **kwargs) -> dict:
        if self.budget is not None:
            self.budget.wait(operation, self.clock)
        self.calls[operation] += 1
        try:
            return getattr(self.client, method)(**kwargs)
        except botocore.exceptions.ClientError as exc:
            raise self.translate(operation, exc, store) from exc
        except botocore.exceptions.NoCredentialsError as exc:
            raise AwsCallError(operation, "NoCredentials", str(exc), None, None,
                               "Configure AWS credentials (environment, aws:profile or "
                               "AWS_PROFILE, SSO, or an instance role)") from exc
        except botocore.exceptions.BotoCoreError as exc:
            raise AwsCallError(operation, type(exc).__name__, str(exc), None, None,
                               "The request never got an answer after botocore's retries; "
                               "check the network and the endpoint") from exc

    def translate(self, operation: str, exc: botocore.exceptions.ClientError, store: str) -> AwsCallError:
        """Turn a botocore ClientError into an AwsCallError keeping code and request ID."""
        err = exc.response.get("Error", {})
        meta = exc.response.get("ResponseMetadata", {})
        code = err.get("Code", "Unknown")
        hint = _HINTS.get(code, "").format(operation=operation, store=store, region=self.region)
        return AwsCallError(operation, code, err.get("Message", str(exc)), meta.get("RequestId"),
                            meta.get("HTTPStatusCode"), hint)

    # Read sets ----------------------------------------------------------------------
    def get_read_set_status(self, store: str, read_set_id: str) -> str:
        """Status of one read set, or ``"NOT_FOUND"`` when HealthOmics answers
        ResourceNotFoundException (the read set, or the whole store, is missing: callers
        tell the two apart with :meth:`assert_store_exists`)."""
        try:
            return self._call("GetReadSetMetadata", "get_read_set_metadata", store,
                              sequenceStoreId=store, id=read_set_id)["status"]
        except AwsCallError as err:
            if err.code == "ResourceNotFoundException":
                return "NOT_FOUND"
            raise

    def assert_store_exists(self, store: str) -> None:
        """Raise AwsCallError (ResourceNotFoundException, naming the store) if the sequence
        store does not exist. Uses one ListReadSets call so that the IAM policy needs no
        omics:GetSequenceStore."""
        self.list_read_sets(store, max_results=1)

    def list_read_sets(self, store: str, next_token: Optional[str] = None,
                       status: Optional[str] = None, max_results: int = 100) -> Page:
        """One page (up to ``max_results`` <= 100) of ListReadSets, optionally by status."""
        kwargs: dict[str, Any] = {"sequenceStoreId": store, "maxResults": max_results}
        if next_token:
            kwargs["nextToken"] = next_token
        if status:
            kwargs["filter"] = {"status": status}
        resp = self._call("ListReadSets", "list_read_sets", store, **kwargs)
        return Page(resp.get("readSets", []), resp.get("nextToken"))

    # Activation jobs ----------------------------------------------------------------
    def start_job(self, store: str, read_set_ids: list[str], token: str) -> dict:
        """StartReadSetActivationJob; returns ``{id, status, creationTime, ...}``."""
        return self._call("StartReadSetActivationJob", "start_read_set_activation_job", store,
                          sequenceStoreId=store, clientToken=token,
                          sources=[{"readSetId": rid} for rid in read_set_ids])

    def get_job(self, store: str, job_id: str) -> dict:
        """GetReadSetActivationJob: status, statusMessage and per-source statuses."""
        return self._call("GetReadSetActivationJob", "get_read_set_activation_job", store,
                          sequenceStoreId=store, id=job_id)

    def list_jobs(self, store: str, created_after=None, status: Optional[str] = None) -> Iterator[dict]:
        """Every activation job of the store matching the filters (all pages)."""
        flt: dict[str, Any] = {}
        if created_after is not None:
            flt["createdAfter"] = created_after
        if status:
            flt["status"] = status
        token = None
        while True:
            kwargs: dict[str, Any] = {"sequenceStoreId": store, "maxResults": 100}
            if flt:
                kwargs["filter"] = flt
            if token:
                kwargs["nextToken"] = token
            resp = self._call("ListReadSetActivationJobs", "list_read_set_activation_jobs",
                              store, **kwargs)
            yield from resp.get("activationJobs", [])
            token = resp.get("nextToken")
            if not token:
                return
