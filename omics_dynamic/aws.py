"""AWS side: boto3 client factory, paced calls, and AWS errors turned into ours.

The provider object holds no clients or credentials (design.md section 2, rule 12): a
:class:`ProviderSettings` (plain data from stack config) and :func:`make_client` create
a client inside each lifecycle call. Credentials come from boto3's default chain
(environment, ``aws:profile`` / ``AWS_PROFILE``, SSO, instance roles); none of them is
ever stored by the provider.

Retries: botocore's own retry modes retry throttling (429) and transient errors (500,
408 RequestTimeoutException, connection errors) with exponential backoff and jitter. When
a run gives :class:`OmicsApi` a deadline, answers that are still transient after
botocore's retries are tried again after a backoff on the run's clock until the deadline
(a throttling burst never fails a long activation), and no call outlives the deadline by
more than a few seconds. ServiceQuotaExceededException (402) is not retried: it is the
scheduler's signal to wait for a slot.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import math
import os
import signal
import subprocess
import threading
import time
import urllib.parse
from collections import Counter, OrderedDict
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping, Optional, Protocol

import boto3
import botocore.config
import botocore.credentials
import botocore.exceptions
import botocore.session
from botocore.paginate import TokenEncoder
from botocore.retries.standard import RetryContext, ThrottledRetryableChecker, TransientRetryableChecker

from .errors import (
    AwsCallError,
    BudgetExhaustedError,
    CallCancelledError,
    ConfigurationError,
    CredentialsTimeoutError,
    ListingStuckError,
)
from .limits import (
    BURST_FRACTION,
    CALL_POLL_REAL_S,
    CALL_SLACK_REAL_S,
    COMMAND_TEXT_CHARS,
    CONNECT_TIMEOUT_REAL_S,
    CREDENTIALS_FAILURE_TTL_S,
    CREDENTIALS_TIMEOUT_S,
    DATA_SOURCE_TIMEOUT_S,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_RATE_LIMIT_PER_S,
    MAX_POOL_CONNECTIONS,
    PACE_FRACTION,
    PAGE_SIZE,
    READ_TIMEOUT_REAL_S,
    SHARED_CLIENTS_MAX,
    UNREACHABLE_AT_START_S,
)
from .planning import REGION_PATTERN
from .scheduling import TokenBucket, TransientBackoff

__all__ = [
    "Clock",
    "MonotonicClock",
    "ProviderSettings",
    "make_client",
    "shared_client",
    "forget_client",
    "resolve_credentials",
    "CREDENTIALS_TIMEOUT_S",
    "custom_endpoint",
    "effective_region",
    "required_region",
    "RateBudget",
    "shared_rate_budget",
    "OmicsApi",
    "ApiListener",
    "Page",
    "StartAnswer",
    "is_transient",
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
    """Time source of everything that waits, in seconds.

    - ``now()``: the current time.
    - ``sleep(seconds)``: wait that long.
    - ``wait(event, seconds)``: wait until ``event`` is set or ``seconds`` have passed; True
      when the event is set (the cancellation hook of
      :class:`~omics_dynamic.activation.ActivationRun`).
    - ``real_seconds(seconds)``: how many real seconds ``seconds`` of this clock last, to
      bound a blocking HTTP call (which runs on real time) by a budget on this clock.
    """

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...

    def wait(self, event: threading.Event, seconds: float) -> bool: ...

    def real_seconds(self, seconds: float) -> float: ...


class MonotonicClock:
    """The provider's clock: real monotonic time, optionally sped up. With ``time_scale``
    k, one second of this clock lasts 1/k real seconds (benchmarks and the demo run the
    emulator and the provider on the same scale); k = 1 is plain real time.

    (The emulator has clocks of its own, for emulated time; tests run the provider on the
    emulator's manual clock through ``tests/support.py``'s ``AdvancingClock``.)
    """

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

    def real_seconds(self, seconds: float) -> float:
        return max(0.0, seconds) / self.time_scale


@dataclass(frozen=True)
class ProviderSettings:
    """Provider configuration, from stack config (rule 2) and the environment.

    - ``region``: ``aws:region`` (the resource's ``region`` input wins over it; without
      either, boto3's chain decides: :func:`effective_region`).
    - ``profile``: ``aws:profile``.
    - ``endpoint_url``: ``omics-dynamic:endpoint``, an explicit endpoint that wins over
      botocore's own endpoint configuration (which :func:`make_client` lets botocore
      resolve: ``AWS_ENDPOINT_URL_OMICS``, ``AWS_ENDPOINT_URL``, the shared config file).
    - ``time_scale``: ``omics-dynamic:timeScale`` or ``OMICS_DYNAMIC_TIME_SCALE``: run the
      provider's clock k times faster (only for the emulator's time-scaled benchmarks and
      demo; never set it against AWS).
    - ``rate_limit_per_s``: ``omics-dynamic:rateLimit`` or ``OMICS_DYNAMIC_RATE_LIMIT``:
      our own request budget per operation family, requests per second (default 5, the
      HealthOmics default quota; 0 = unpaced).
    - ``max_attempts``: botocore retry attempts (``omics-dynamic:maxAttempts``, default 12).
    - ``credentials_timeout_s``: ``omics-dynamic:credentialsTimeout`` or
      ``OMICS_DYNAMIC_CREDENTIALS_TIMEOUT``: real seconds resolving AWS credentials may
      take (:func:`resolve_credentials`; default :data:`CREDENTIALS_TIMEOUT_S`).
    - ``data_source_timeout_s``: ``omics-dynamic:dataSourceTimeout`` or
      ``OMICS_DYNAMIC_DATA_SOURCE_TIMEOUT``: seconds (clock) one data source call in the
      program may take in all (:func:`omics_dynamic.data_source.program_api`; default
      :data:`DATA_SOURCE_TIMEOUT_S`); the provider does not use it.
    """

    region: Optional[str] = None
    profile: Optional[str] = None
    endpoint_url: Optional[str] = None
    time_scale: float = 1.0
    rate_limit_per_s: float = DEFAULT_RATE_LIMIT_PER_S
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    retry_mode: str = "standard"
    credentials_timeout_s: float = CREDENTIALS_TIMEOUT_S
    data_source_timeout_s: float = DATA_SOURCE_TIMEOUT_S

    @classmethod
    def from_config(cls, get, environ: Optional[dict] = None) -> ProviderSettings:
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
        rate = number("rateLimit", "OMICS_DYNAMIC_RATE_LIMIT", DEFAULT_RATE_LIMIT_PER_S, 0.0)
        attempts = int(number("maxAttempts", "OMICS_DYNAMIC_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS, 1))
        credentials_s = number("credentialsTimeout", "OMICS_DYNAMIC_CREDENTIALS_TIMEOUT",
                               CREDENTIALS_TIMEOUT_S, 0.001)
        data_source_s = number("dataSourceTimeout", "OMICS_DYNAMIC_DATA_SOURCE_TIMEOUT",
                               DATA_SOURCE_TIMEOUT_S, 0.001)
        return cls(
            region=get("aws:region") or None,
            profile=get("aws:profile") or None,
            endpoint_url=_endpoint_setting(get(f"{CONFIG_NAMESPACE}:endpoint") or None),
            time_scale=time_scale,
            rate_limit_per_s=rate,
            max_attempts=attempts,
            credentials_timeout_s=credentials_s,
            data_source_timeout_s=data_source_s,
        )


def _endpoint_setting(endpoint: Optional[str]) -> Optional[str]:
    """``omics-dynamic:endpoint`` checked: None, or an http(s) URL with a host and a valid
    port, which botocore can use.

    :raises ConfigurationError: naming the key, the value, what is wrong with it (a scheme
        other than http/https, an unclosed IPv6 bracket, no host, a port outside 1-65535)
        and the fix.
    """
    if endpoint is None:
        return None
    key = f"{CONFIG_NAMESPACE}:endpoint"
    fix = (f"set it to the HealthOmics endpoint's URL, e.g. `pulumi config set {key} "
           f"http://127.0.0.1:4566` (an IPv6 host in brackets: http://[::1]:4566), or remove it "
           f"(`pulumi config rm {key}`) to use botocore's endpoint")
    if not endpoint.startswith(("http://", "https://")):
        raise ConfigurationError(f"{key} must be an http:// or https:// URL, got {endpoint!r}; {fix}")
    try:
        parts = urllib.parse.urlsplit(endpoint)
        port = parts.port
    except ValueError as exc:  # "Invalid IPv6 URL", "Port out of range 0-65535", ...
        raise ConfigurationError(f"{key} is not a valid URL ({exc}), got {endpoint!r}; {fix}") from None
    if not parts.hostname:
        raise ConfigurationError(f"{key} has no host, got {endpoint!r}; {fix}")
    if port == 0:
        raise ConfigurationError(f"{key} has port 0 (ports are 1-65535), got {endpoint!r}; {fix}")
    return endpoint


def effective_region(settings: ProviderSettings, region: Optional[str] = None, *,
                     session: Optional[boto3.session.Session] = None) -> Optional[str]:
    """The AWS Region calls for a resource go to, resolved as create resolves it.

    :param region: the resource's ``region`` input (None when absent).
    :param session: the boto3 session to ask (default: a new one for ``settings.profile``).
    :returns: ``region``, else ``aws:region`` (``settings.region``), else boto3's chain
        (``AWS_DEFAULT_REGION``, then the profile's ``region`` in the shared config file;
        botocore does not read ``AWS_REGION``); None when none of them names one.
    :raises ConfigurationError: when ``aws:region`` or boto3's chain names something that is
        not a Region name (:data:`~omics_dynamic.planning.REGION_PATTERN`; the ``region``
        input is checked by ``check``).
    :raises botocore.exceptions.ProfileNotFound: for an ``aws:profile`` the shared files lack.
    """
    if region:
        return region
    if settings.region:
        found, source = settings.region, "aws:region"
    else:
        session = session or boto3.session.Session(profile_name=settings.profile)
        found, source = session.region_name, "boto3's chain (AWS_DEFAULT_REGION or the profile's region)"
    if found and not REGION_PATTERN.fullmatch(found):
        raise ConfigurationError(f"{source} names {found!r}, which is not an AWS Region name "
                                 "such as 'us-east-1'; set `pulumi config set aws:region us-east-1`")
    return found or None


def required_region(settings: ProviderSettings, region: Optional[str] = None) -> str:
    """:func:`effective_region`, which must name one.

    :raises ConfigurationError: when no region can be found (saying where to set one), or
        the one found is not a Region name.
    """
    found = effective_region(settings, region)
    if not found:
        raise ConfigurationError(
            "no AWS Region: set the resource's region input, or `pulumi config set aws:region "
            "us-east-1`, or AWS_DEFAULT_REGION in the environment"
        )
    return found


def make_client(settings: ProviderSettings, region: Optional[str], *,
                credentials_timeout_s: Optional[float] = None):
    """Create a boto3 HealthOmics client for ``region`` (a new one each call; the provider
    reuses clients through :func:`shared_client`).

    :param region: the Region to call (the resource's ``region`` input or its recorded
        region), or None for ``aws:region`` and then boto3's chain (:func:`effective_region`).
    :param credentials_timeout_s: real seconds credential resolution may take (default
        ``settings.credentials_timeout_s``): :func:`resolve_credentials` runs botocore's
        chain first, bounded, so that creating the client never waits on a credential
        source (botocore otherwise resolves them, unbounded, inside client creation).
    :raises ConfigurationError: when no region can be found, or one that is not a Region.
    :raises CredentialsTimeoutError: when credential resolution does not finish in time.

    Endpoint: ``omics-dynamic:endpoint`` when set; otherwise botocore resolves it through
    its whole configuration chain, as boto3 would (``AWS_ENDPOINT_URL_OMICS``,
    ``AWS_ENDPOINT_URL``, the shared config file's ``services`` section and the profile's
    ``endpoint_url``, all ignored with ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`` or the
    config file's ``ignore_configured_endpoint_urls``: ``_compute_configured_endpoint_url``
    in ``botocore/args.py``, ``_add_configured_endpoint_provider`` in
    ``botocore/session.py``). The resolved endpoint is custom when it differs from the one a
    client that ignores configured endpoints resolves (public API only). With a custom
    endpoint, host-prefix injection is off: these operations carry the host prefix
    ``control-storage-``, which botocore would put in front of any host, turning
    ``http://127.0.0.1:PORT`` into ``http://control-storage-127.0.0.1:PORT`` and a VPC
    endpoint's ``vpce-...`` DNS name into ``control-storage-vpce-...`` (design.md section
    3). Without one, botocore's own setting applies (``AWS_DISABLE_HOST_PREFIX_INJECTION``;
    default on, which gives ``control-storage-omics.<region>.amazonaws.com``).

    Every wait of the client is bounded: ``connect_timeout`` (connection set-up, through a
    proxy too) and ``read_timeout`` per attempt, ``max_attempts`` attempts; a call with a
    deadline is bounded in all by :class:`OmicsApi` (DNS lookups included).
    """
    return _new_client(settings, region, credentials_timeout_s)[0]


def _new_client(settings: ProviderSettings, region: Optional[str],
                credentials_timeout_s: Optional[float]) -> tuple[Any, Optional[str]]:
    """``(client, custom endpoint or None)``, see :func:`make_client`."""
    session = _new_session(settings)
    resolved_region = _region_or_raise(settings, region, session)
    timeout_s = settings.credentials_timeout_s if credentials_timeout_s is None else credentials_timeout_s
    resolve_credentials(session, timeout_s, settings.profile)
    options = _client_options(settings)
    endpoint = settings.endpoint_url
    if endpoint is None:
        client = session.client("omics", region_name=resolved_region, config=botocore.config.Config(**options))
        endpoint = _configured_endpoint(session, resolved_region, client, options)
        if endpoint is None:
            return client, None
    return session.client("omics", region_name=resolved_region, endpoint_url=endpoint,
                          config=botocore.config.Config(inject_host_prefix=False, **options)), endpoint


def _new_session(settings: ProviderSettings) -> boto3.session.Session:
    return boto3.session.Session(botocore_session=botocore.session.Session(profile=settings.profile))


def custom_endpoint(settings: ProviderSettings, region: Optional[str]) -> Optional[str]:
    """The custom endpoint URL a client for ``region`` uses (resolved as :func:`make_client`
    resolves it), or None for AWS's standard endpoint. The provider records it beside the
    region so that a refresh can tell "the store is gone" from "this is another endpoint".

    Answered from :func:`shared_client`'s cache (making the client if it is not there).

    :raises ConfigurationError: when no region can be found.
    :raises CredentialsTimeoutError: see :func:`make_client`.
    """
    if settings.endpoint_url:
        return settings.endpoint_url
    return _shared(settings, region, None).endpoint


# -- credentials, bounded ------------------------------------------------------------------


#: botocore credential provider METHOD -> what it asks, for the timeout's message.
_SOURCES = {
    "env": "the environment's AWS_* credential variables",
    "assume-role-with-web-identity": "the web-identity role (AWS_WEB_IDENTITY_TOKEN_FILE, STS)",
    "sso": "the SSO credentials",
    "shared-credentials-file": "the shared credentials file",
    "custom-process": "the credential_process",
    "config-file": "the shared config file",
    "container-role": "the container credentials endpoint (AWS_CONTAINER_CREDENTIALS_*)",
    "iam-role": "the EC2 instance metadata service (IMDS)",
    "assume-role": "the profile's role_arn (STS AssumeRole)",
}


def resolve_credentials(session: boto3.session.Session, timeout_s: float, profile: Optional[str] = None) -> Any:
    """Resolve ``session``'s credentials through botocore's own chain, within ``timeout_s``
    real seconds, so that a client made from the session afterwards finds them resolved.

    The chain runs in a daemon thread (a thread stuck in a helper never holds the process
    exit); the caller waits for it with a join bound. Helper processes the chain starts for
    a ``credential_process`` are tracked, and on timeout killed with their descendants, so
    the abandoned thread ends too. After a timeout the session must not be used again.

    :param session: a boto3 session of its own (sessions are not thread-safe).
    :param timeout_s: real seconds, > 0.
    :param profile: ``aws:profile`` (for the message; None: the chain's profile).
    :returns: botocore credentials, or None when the chain found none (a call then fails
        with ``NoCredentials``).
    :raises CredentialsTimeoutError: naming the source that did not answer and the fix.
    :raises botocore.exceptions.BotoCoreError: what the chain raised (e.g. ProfileNotFound,
        CredentialRetrievalError with the helper's own message).
    """
    core = session._session
    resolver = core.get_component("credential_provider")
    state: dict[str, Any] = {"method": None, "procs": []}
    procs: list[subprocess.Popen] = state["procs"]
    for provider in getattr(resolver, "providers", []):
        _track(provider, state)
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["credentials"] = core.get_credentials()
        except BaseException as exc:  # handed to the caller
            box["error"] = exc

    worker = threading.Thread(target=work, name="omics-dynamic credentials", daemon=True)
    worker.start()
    worker.join(max(0.0, timeout_s))
    if worker.is_alive():
        stopped = sum(_kill_process_tree(p) for p in list(procs))
        source, advice = _credential_source(core, state["method"], profile)
        raise CredentialsTimeoutError(source, timeout_s, advice, stopped)
    if "error" in box:
        raise box["error"]
    return box.get("credentials")


def _track(provider: Any, state: dict[str, Any]) -> None:
    """Record which provider of the chain is loading, and the helper processes it starts."""
    load = provider.load
    method = getattr(provider, "METHOD", type(provider).__name__)

    def tracked_load(*args: Any, **kwargs: Any) -> Any:
        state["method"] = method
        return load(*args, **kwargs)

    provider.load = tracked_load
    if isinstance(provider, botocore.credentials.ProcessProvider) and hasattr(provider, "_popen"):
        popen = provider._popen

        def tracked_popen(*args: Any, **kwargs: Any) -> Any:
            proc = popen(*args, **kwargs)
            state["procs"].append(proc)
            return proc

        provider._popen = tracked_popen


def _kill_process_tree(proc: subprocess.Popen) -> int:
    """SIGKILL ``proc`` and its descendants (Linux: found through ``/proc``; elsewhere only
    ``proc``), deepest first, so that a helper's own children (a ``sleep``, a browser
    login) do not keep its pipes open. :returns: how many processes were signalled."""
    if proc.poll() is not None:
        return 0
    pids = _descendants(proc.pid)
    killed = 0
    for pid in reversed(pids):
        try:
            os.kill(pid, signal.SIGKILL)
            killed += 1
        except OSError:
            pass
    try:
        proc.kill()
        killed += 1
    except OSError:
        pass
    return killed


def _descendants(pid: int) -> list[int]:
    """PIDs of ``pid``'s descendants, parents before children ([] where /proc is absent)."""
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found: list[int] = []
    todo = list(children.get(pid, []))
    while todo:
        child = todo.pop(0)
        found.append(child)
        todo.extend(children.get(child, []))
    return found


def _credential_source(core: Any, method: Optional[str], profile: Optional[str]) -> tuple[str, str]:
    """``(what did not answer, the fix)`` for a credential resolution that timed out while
    botocore's provider ``method`` was loading."""
    name = profile or core.profile or "default"
    try:
        scoped = core.get_scoped_config()
    except botocore.exceptions.BotoCoreError:
        scoped = {}
    longer = ("; or, if it only needs longer, raise the bound: `pulumi config set "
              "omics-dynamic:credentialsTimeout 60`")
    if method == "custom-process":
        command = str(scoped.get("credential_process", ""))
        if len(command) > COMMAND_TEXT_CHARS:
            command = command[:COMMAND_TEXT_CHARS] + "..."
        return (f"profile {name!r} credential_process `{command}`",
                "A credential helper that waits for a prompt (an SSO login, an MFA code) gets no answer "
                "here. Fix: make it answer without one (log in first, e.g. `aws sso login --profile "
                f"{name}`, so that it answers from its cache), or in CI use credentials that need nobody "
                "(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a web-identity or instance role), or point "
                "aws:profile at a profile without the helper" + longer)
    if method == "assume-role":
        role = scoped.get("role_arn", "?")
        mfa = scoped.get("mfa_serial")
        what = f"profile {name!r} role_arn {role}" + (f" with mfa_serial {mfa}" if mfa else "")
        return (what, ("An MFA code is asked for on a terminal nobody answers here. " if mfa else "")
                + "Fix: check the role's source_profile or credential_source, or use credentials that "
                "need no prompt (a cached session, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a role)" + longer)
    if method == "sso":
        return (f"profile {name!r} SSO credentials",
                f"Fix: run `aws sso login --profile {name}` (the cached token may have expired), or "
                "use other credentials" + longer)
    if method in ("iam-role", "container-role"):
        return (_SOURCES[method], "Fix: outside AWS, set credentials explicitly (aws:profile, "
                "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) or AWS_EC2_METADATA_DISABLED=true; inside, "
                "check the metadata endpoint's network path" + longer)
    what = _SOURCES.get(method or "", f"botocore's credential provider {method!r}" if method else
                        "botocore's credential chain")
    return (f"{what} (profile {name!r})", "Fix: check the credential configuration of that profile" + longer)


# -- clients shared within the provider process ----------------------------------------------


@dataclass
class _Shared:
    client: Any
    endpoint: Optional[str]


_SHARED: OrderedDict[tuple, _Shared] = OrderedDict()
_SHARED_FAILED: dict[tuple, tuple[float, CredentialsTimeoutError]] = {}
_SHARED_LOCK = threading.Lock()
_KEY_LOCKS: dict[tuple, threading.Lock] = {}


def _source_fingerprint(settings: ProviderSettings) -> tuple:
    """What decides a client's credentials, region and endpoint besides the settings: every
    ``AWS_*`` environment variable and the shared config and credentials files' contents
    (hashed: no credential is kept in the key)."""
    digest = hashlib.sha256()
    for key in sorted(k for k in os.environ if k.startswith("AWS_")):
        digest.update(f"{key}={os.environ[key]}\0".encode())
    for env, default in (("AWS_CONFIG_FILE", "~/.aws/config"), ("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials")):
        path = os.path.expanduser(os.environ.get(env) or default)
        try:
            with open(path, "rb") as f:
                digest.update(f.read())
        except OSError:
            digest.update(b"-")
        digest.update(b"\0")
    return (settings.profile, settings.endpoint_url, settings.region, settings.max_attempts,
            settings.retry_mode, digest.hexdigest())


def shared_client(settings: ProviderSettings, region: Optional[str], *,
                  credentials_timeout_s: Optional[float] = None):
    """A boto3 HealthOmics client for ``region``, shared within the process: one per
    (region, profile, endpoint, credential source), made by :func:`make_client` the first
    time and reused after (boto3 clients are thread-safe; each costs about 0.1-0.25 s of
    CPU to make). The credential source is every ``AWS_*`` environment variable and the
    shared config and credentials files' contents, so a changed environment gets a new
    client. A client whose credentials were refused (:func:`forget_client`) is made again.

    :param credentials_timeout_s: as :func:`make_client`. While one thread makes the client
        for a key, others wait for it no longer than that bound.
    :raises ConfigurationError: as :func:`make_client`.
    :raises CredentialsTimeoutError: as :func:`make_client`; for :data:`CREDENTIALS_FAILURE_TTL_S`
        after one, the same key fails at once with the same error.
    """
    return _shared(settings, region, credentials_timeout_s).client


def _shared(settings: ProviderSettings, region: Optional[str], credentials_timeout_s: Optional[float]) -> _Shared:
    timeout_s = settings.credentials_timeout_s if credentials_timeout_s is None else credentials_timeout_s
    key = (region,) + _source_fingerprint(settings)
    with _SHARED_LOCK:
        found = _SHARED.get(key)
        if found is not None:
            _SHARED.move_to_end(key)
            return found
        failed = _SHARED_FAILED.get(key)
        if failed is not None and time.monotonic() - failed[0] < CREDENTIALS_FAILURE_TTL_S:
            raise _again(failed)
        key_lock = _KEY_LOCKS.setdefault(key, threading.Lock())
    if not key_lock.acquire(timeout=max(0.0, timeout_s)):
        raise CredentialsTimeoutError("another thread's credential resolution for the same profile", timeout_s,
                                      "It is still running; see that thread's error for what did not answer")
    try:
        with _SHARED_LOCK:
            found = _SHARED.get(key)
            if found is not None:
                return found
            failed = _SHARED_FAILED.get(key)
            if failed is not None and time.monotonic() - failed[0] < CREDENTIALS_FAILURE_TTL_S:
                raise _again(failed)
        try:
            client, endpoint = _new_client(settings, region, timeout_s)
        except CredentialsTimeoutError as err:
            with _SHARED_LOCK:
                _SHARED_FAILED[key] = (time.monotonic(), err)
            raise
        made = _Shared(client, endpoint)
        with _SHARED_LOCK:
            _SHARED[key] = made
            _SHARED_FAILED.pop(key, None)
            while len(_SHARED) > SHARED_CLIENTS_MAX:
                old_key, _ = _SHARED.popitem(last=False)
                _KEY_LOCKS.pop(old_key, None)
        return made
    finally:
        key_lock.release()


def _again(failed: tuple[float, CredentialsTimeoutError]) -> CredentialsTimeoutError:
    """A new error for a remembered credentials timeout, saying when it happened."""
    at_s, err = failed
    ago_s = time.monotonic() - at_s
    return CredentialsTimeoutError(
        f"{err.source} (asked {ago_s:.0f}s ago in this provider process; not asked again for "
        f"{CREDENTIALS_FAILURE_TTL_S:g}s)", err.timeout_s, err.advice, err.stopped)


def forget_client(client: Any) -> None:
    """Drop ``client`` from :func:`shared_client`'s cache (its credentials were refused or
    expired: the next call resolves them again)."""
    with _SHARED_LOCK:
        for key, shared in list(_SHARED.items()):
            if shared.client is client:
                del _SHARED[key]


def _region_or_raise(settings: ProviderSettings, region: Optional[str], session: Any) -> str:
    resolved = effective_region(settings, region, session=session)
    return resolved or required_region(settings, region)  # raises, saying where to set one


def _version() -> str:
    """This distribution's version (``omics-dynamic``), or ``unknown`` when not installed."""
    try:
        return importlib.metadata.version("omics-dynamic")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _client_options(settings: ProviderSettings) -> dict[str, Any]:
    return dict(
        retries={"mode": settings.retry_mode, "max_attempts": settings.max_attempts},
        connect_timeout=CONNECT_TIMEOUT_REAL_S,
        read_timeout=READ_TIMEOUT_REAL_S,
        max_pool_connections=MAX_POOL_CONNECTIONS,
        user_agent_extra=f"omics-dynamic/{_version()}",
    )


def _configured_endpoint(session: Any, region: str, client: Any, options: dict[str, Any]) -> Optional[str]:
    """``client``'s endpoint when botocore's configuration chain set a custom one, else None:
    the endpoint differs from the one a client that ignores configured endpoints resolves."""
    standard = session.client("omics", region_name=region, config=botocore.config.Config(
        ignore_configured_endpoint_urls=True, **options))
    return None if client.meta.endpoint_url == standard.meta.endpoint_url else client.meta.endpoint_url


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
    activation one provider process runs shares one request budget."""
    with _BUDGETS_LOCK:
        budget = _BUDGETS.get((key, rate_per_s))
        if budget is None:
            budget = _BUDGETS[(key, rate_per_s)] = RateBudget(rate_per_s)
        return budget


#: Hints by AWS error code (``{operation}``, ``{store}`` and ``{region}`` are filled in),
#: for every caller: the provider's lifecycle calls and the program's data sources alike.
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
        "Throttled beyond botocore's retries: lower omics-dynamic:rateLimit or "
        "max_concurrent_jobs, run fewer stacks at once against this account, or ask for a "
        "higher request-rate quota"
    ),
    "ValidationException": "HealthOmics rejected the request; check the inputs it names",
    "InternalServerException": (
        "HealthOmics failed internally (HTTP 5xx) on every one of botocore's attempts; this is "
        "not caused by the request: run again later, and if it persists report the request ID "
        "to AWS Support (the AWS Health Dashboard shows known HealthOmics issues in {region})"
    ),
    "UnrecognizedClientException": "The AWS access key is not valid for this endpoint",
    "InvalidSignatureException": "The AWS secret key does not match the access key",
    "ExpiredTokenException": "The AWS session token has expired: refresh the credentials",
    # Codes of our own, for botocore errors that carry none (translate_error).
    "NoCredentials": ("Configure AWS credentials (environment, aws:profile or AWS_PROFILE, SSO, "
                      "or an instance role)"),
    "NoAnswer": ("The request never got an answer after botocore's retries; check the network "
                 "and the endpoint"),
}

#: Hints for one operation's error, where the code's general hint would mislead.
_OPERATION_HINTS = {
    ("GetReadSetActivationJob", "ResourceNotFoundException"): (
        "HealthOmics does not know this activation job in sequence store {store} ({region}); a job "
        "created moments ago may not be known yet (the activation run waits that out)"
    ),
}


#: The hint for an error answer that carries no AWS error code (botocore's stand-in code is
#: the HTTP status): HealthOmics always sends one (``x-amzn-ErrorType``), so something else
#: answered (``{status}`` and ``{endpoint}`` are filled in).
_NOT_HEALTHOMICS_HINT = (
    "{endpoint} answered HTTP {status} without an AWS error code: a proxy, load balancer or "
    "firewall answered, not HealthOmics. Check the endpoint (omics-dynamic:endpoint, "
    "AWS_ENDPOINT_URL_OMICS, AWS_ENDPOINT_URL, the AWS config file's services section; none "
    "set means AWS's own) and the proxy settings (HTTPS_PROXY, HTTP_PROXY, NO_PROXY)"
)


def _without_aws_code(code: str) -> bool:
    """True for botocore's stand-in code of an error answer that carried none (the HTTP
    status as a string, or nothing)."""
    return not code or code == "Unknown" or code.isdigit()


def hint_for(operation: str, code: str, store: str, region: str) -> str:
    """The advice for AWS error ``code`` of ``operation`` on sequence store ``store`` in
    ``region`` (:data:`_OPERATION_HINTS`, then :data:`_HINTS`), or "" when there is none."""
    text = _OPERATION_HINTS.get((operation, code), _HINTS.get(code, ""))
    return text.format(operation=operation, store=store, region=region)


def translate_error(operation: str, exc: BaseException, store: str, region: str,
                    endpoint: Optional[str] = None) -> AwsCallError:
    """The :class:`~omics_dynamic.errors.AwsCallError` for a botocore error of
    ``operation`` on sequence store ``store`` in ``region`` (``endpoint``: the URL the call
    went to, for the messages; None: "the endpoint").

    - ``ClientError`` (HealthOmics answered): its AWS code, message, request ID and HTTP
      status, and the hint of :func:`hint_for`; an answer without an AWS error code (a
      proxy's HTML 403 or 502) gets :data:`_NOT_HEALTHOMICS_HINT` instead.
    - ``NoCredentialsError``: code ``NoCredentials``; ``PaginationError`` (botocore's
      paginator saw one nextToken twice in a row): code ``PaginationError``, no request ID.
    - any other ``BotoCoreError`` (no answer: connection errors, timeouts): code = the
      exception's class name, no request ID, the ``NoAnswer`` hint.

    ``transient`` is :func:`is_transient` of ``exc``. :raises TypeError: for an exception
    that is not botocore's.
    """
    if isinstance(exc, botocore.exceptions.ClientError):
        err = exc.response.get("Error", {})
        meta = exc.response.get("ResponseMetadata", {})
        code = err.get("Code", "Unknown")
        status = meta.get("HTTPStatusCode")
        hint = hint_for(operation, code, store, region)
        if _without_aws_code(code) and status is not None:
            hint = _NOT_HEALTHOMICS_HINT.format(endpoint=endpoint or "the endpoint", status=status)
        return AwsCallError(operation, code, err.get("Message", str(exc)), meta.get("RequestId"),
                            status, hint, transient=is_transient(exc))
    if isinstance(exc, botocore.exceptions.NoCredentialsError):
        return AwsCallError(operation, "NoCredentials", str(exc), None, None,
                            hint_for(operation, "NoCredentials", store, region))
    if isinstance(exc, botocore.exceptions.PaginationError):
        return AwsCallError(operation, "PaginationError", str(exc), None, None)
    if isinstance(exc, botocore.exceptions.BotoCoreError):
        return AwsCallError(operation, type(exc).__name__, str(exc), None, None,
                            hint_for(operation, "NoAnswer", store, region), transient=is_transient(exc))
    raise TypeError(f"not a botocore error: {type(exc).__name__}")


#: botocore's own classification (standard retry mode, ``botocore/retries/standard.py``):
#: throttling codes, transient codes, HTTP 500/502/503/504 and connection/HTTP client
#: errors (connection refused or closed, connect and read timeouts); plus HTTP 408 and 429.
_TRANSIENT_CHECKERS = (
    TransientRetryableChecker(transient_status_codes=[408, 429, 500, 502, 503, 504]),
    ThrottledRetryableChecker(),
)


class _HttpStatus:
    """The one attribute of an HTTP response botocore's retry checkers read."""

    def __init__(self, status_code: int):
        self.status_code = status_code


def is_transient(exc: BaseException) -> bool:
    """True for a botocore error worth retrying later (throttling, 5xx, 408, connection
    errors, read timeouts), classified by botocore's standard retry checkers."""
    if isinstance(exc, botocore.exceptions.ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        context = RetryContext(attempt_number=1, parsed_response=exc.response,
                               http_response=_HttpStatus(status) if status else None)
    else:
        context = RetryContext(attempt_number=1, caught_exception=exc)
    return any(checker.is_retryable(context) for checker in _TRANSIENT_CHECKERS)


@dataclass
class Page:
    """One page of a list call: ``items`` (dicts as boto3 returns them), ``next_token``,
    and the page's AWS ``request_id``."""

    items: list[dict]
    next_token: Optional[str]
    request_id: Optional[str] = None


@dataclass
class StartAnswer:
    """What StartReadSetActivationJob answered: ``job_id``, ``status`` (a new job is
    SUBMITTED; an answer with an already ended job means the clientToken was used before),
    ``creation_time`` (datetime), ``request_id``, and ``retried``: botocore or
    :class:`OmicsApi` sent the request more than once, so an earlier try may have created a
    job whose answer was lost (where HealthOmics ignores clientTokens, that is a second job)."""

    job_id: str
    status: str
    creation_time: Any
    request_id: Optional[str]
    retried: bool


class ApiListener:
    """Receives what :class:`OmicsApi` does while a call takes long (for progress lines).
    The default does nothing."""

    def on_backoff(self, operation: str, error: AwsCallError, delay_s: float, in_a_row: int) -> None:
        """``operation`` got its ``in_a_row``-th transient answer (``error``) in a row; the
        next try comes after ``delay_s`` seconds on the clock."""

    def on_waiting(self, operation: str, waited_real_s: float, last_failure: str = "") -> None:
        """``operation`` has had no answer for ``waited_real_s`` real seconds (about once a
        second while it lasts); ``last_failure``: botocore's last failed attempt, if any
        (:meth:`OmicsApi.last_failure`)."""


#: botocore errors that mean the endpoint could not be reached at all (no connection).
_UNREACHABLE = (botocore.exceptions.EndpointConnectionError, botocore.exceptions.ConnectTimeoutError)


_TOKEN_ENCODER = TokenEncoder()

#: AWS error codes that refuse the credentials themselves (a shared client holding them is
#: dropped: :func:`forget_client`).
_CREDENTIAL_CODES = ("ExpiredTokenException", "ExpiredToken", "UnrecognizedClientException",
                     "InvalidSignatureException", "InvalidClientTokenId")

#: The OmicsApi whose call runs in the current thread (set by ``OmicsApi._translated``).
_CURRENT = threading.local()


def _dispatch_before_call(model: Any, **kwargs: Any) -> None:
    api = getattr(_CURRENT, "api", None)
    if api is not None:
        api._before_call(model, **kwargs)


def _dispatch_after_attempt(**kwargs: Any) -> None:
    api = getattr(_CURRENT, "api", None)
    if api is not None:
        api._after_attempt(**kwargs)


def _attempt_failure(response: Any, caught_exception: Optional[BaseException]) -> Optional[tuple[str, bool]]:
    """What one botocore attempt met (the arguments of botocore's ``needs-retry`` event):
    ``(text, unreachable)``, ``text`` e.g. ``"HTTP 503 ServiceUnavailableException"`` or
    ``"EndpointConnectionError: Could not connect ..."``, ``unreachable`` True for the
    errors of :data:`_UNREACHABLE`; None for an answer below HTTP 400."""
    if caught_exception is not None:
        return (f"{type(caught_exception).__name__}: {caught_exception}",
                isinstance(caught_exception, _UNREACHABLE))
    http, parsed = response if response is not None else (None, {})
    status = getattr(http, "status_code", 200)
    code = str((parsed or {}).get("Error", {}).get("Code") or "")
    if _without_aws_code(code):
        code = "(no AWS error code)"
    return (f"HTTP {status} {code}", False) if status >= 400 else None


def _in_daemon_thread(name: str, work: Callable[[], Any]) -> tuple[threading.Event, dict[str, Any]]:
    """Start ``work`` in a daemon thread (one that never holds the process's exit):
    ``(done, box)``; once ``done`` is set, ``box`` holds ``"value"`` (what ``work``
    returned) or ``"error"`` (what it raised)."""
    box: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            box["value"] = work()
        except BaseException as exc:  # handed to the waiting caller
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name=name, daemon=True).start()
    return done, box


def _unreachable_error(operation: str, endpoint: str, failure: Optional[tuple[str, bool]]) -> AwsCallError:
    """The permanent AwsCallError ``EndpointUnreachable`` of :meth:`OmicsApi._check_reachable`:
    what the first attempts met (``failure``, see :func:`_attempt_failure`) and what to check."""
    return AwsCallError(
        operation, "EndpointUnreachable",
        f"no connection to {endpoint} could be made for {UNREACHABLE_AT_START_S:g}s, since the first "
        f"attempt ({failure[0] if failure else 'connection failed'})", None, None,
        BudgetExhaustedError(operation, 0.0, unreachable=True, endpoint_url=endpoint).unreachable_advice()
        + "; nothing was started")


class _AttemptLog:
    """What the attempts of one :class:`OmicsApi`'s calls met (thread-safe): the last failed
    attempt, cleared by an answered one, and, while no attempt was ever answered, the clock
    time of the first that could not connect (see :data:`UNREACHABLE_AT_START_S`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_failure: Optional[tuple[str, bool]] = None
        self._answered = False
        self._unreachable_since_s: Optional[float] = None
        self.attempts = 0

    def record(self, response: Any, caught_exception: Optional[BaseException], now_s: float) -> None:
        """One attempt's outcome (``needs-retry``'s ``response`` and ``caught_exception``),
        at ``now_s`` seconds on the api's clock."""
        failure = _attempt_failure(response, caught_exception)
        with self._lock:
            self.attempts += 1
            self._last_failure = failure
            if response is not None:
                self._answered = True
            elif not self._answered and failure is not None and failure[1] and self._unreachable_since_s is None:
                self._unreachable_since_s = now_s

    def last_failure(self) -> Optional[tuple[str, bool]]:
        """The last failed attempt, ``(text, unreachable)``, or None (see :func:`_attempt_failure`)."""
        with self._lock:
            return self._last_failure

    def unreachable_since_s(self) -> tuple[Optional[float], Optional[tuple[str, bool]]]:
        """``(since_s, last failure)``: ``since_s`` the clock time of the first attempt that
        could not connect while no attempt was ever answered, else None."""
        with self._lock:
            return (None if self._answered else self._unreachable_since_s), self._last_failure


def _missing_key(resp: Mapping[str, Any], key: str, operation: str, endpoint: str) -> Optional[AwsCallError]:
    """The permanent AwsCallError ``MalformedAnswer`` when an answer of ``operation`` lacks
    ``key``, a member the service model requires (``readSets``, ``activationJobs``):
    HealthOmics always sends it, so an answer without it came from something else (a proxy
    or another service at ``endpoint``) and must not be read as an empty listing. None when
    ``key`` is there."""
    if key in resp:
        return None
    meta = resp.get("ResponseMetadata", {})
    status = meta.get("HTTPStatusCode")
    return AwsCallError(
        operation, "MalformedAnswer",
        f"the endpoint answered{f' HTTP {status}' if status else ''} without {key}, which HealthOmics "
        f"always sends: is {endpoint} a HealthOmics endpoint?", meta.get("RequestId"), status,
        "Check the endpoint (omics-dynamic:endpoint, AWS_ENDPOINT_URL_OMICS, AWS_ENDPOINT_URL, the AWS "
        "config file's services section) and the proxy settings (HTTPS_PROXY, HTTP_PROXY, NO_PROXY); "
        "nothing was read from this answer")


def _listing_pages(call: Callable[[Callable[[], Any]], Any], paginator: Any, operation: str,
                   params: dict[str, Any], result_key: str,
                   starting_token: Optional[str] = None, endpoint: str = "") -> Iterator[Page]:
    """Every page of a listing, lazily, through botocore's ``paginator`` (pages of
    :data:`PAGE_SIZE`): the one pager of every HealthOmics listing.

    :param call: runs one page's fetch (:meth:`OmicsApi._call`: paced, counted, bounded,
        errors translated, transient ones retried while a deadline is set).
    :param params: the list call's parameters (``sequenceStoreId``, ``filter``).
    :param result_key: the response's list of items (``readSets``, ``activationJobs``).
    :param starting_token: a nextToken to resume from (None: the first page).
    :param endpoint: where the calls go (for the message of an answer without ``result_key``).
    :returns: :class:`Page` s; a page is requested when the caller asks for the next one.
    :raises ListingStuckError: a nextToken came back that the listing already gave (botocore
        catches one repeated at once, this any one seen before).
    :raises AwsCallError: what ``call`` raises; ``MalformedAnswer`` (permanent) for an answer
        without ``result_key`` (:func:`_missing_key`), never read as an empty page.

    After a transient error the paginator is made again from the last nextToken
    (botocore's ``StartingToken``), so retries resume where the listing was.
    """
    token = starting_token
    seen: dict[str, Optional[str]] = {}  # nextToken -> request ID of the page that gave it
    live: dict[str, Any] = {}
    pages = 0

    def fetch() -> Optional[dict]:
        if "pages" not in live:
            config: dict[str, Any] = {"PageSize": PAGE_SIZE}
            if token:
                config["StartingToken"] = _TOKEN_ENCODER.encode({"nextToken": token})
            live["pages"] = iter(paginator.paginate(**params, PaginationConfig=config))
        try:
            return next(live["pages"], None)
        except BaseException:
            live.pop("pages", None)
            raise

    while True:
        try:
            resp = call(fetch)
        except AwsCallError as err:
            if err.code == "PaginationError":  # botocore saw one token twice in a row
                raise ListingStuckError(operation, pages, list(seen.values())[-1:]) from err
            raise
        if resp is None:
            return
        malformed = _missing_key(resp, result_key, operation, endpoint)
        if malformed is not None:
            raise malformed
        pages += 1
        request_id = resp.get("ResponseMetadata", {}).get("RequestId")
        next_token = resp.get("nextToken") or None
        if next_token is not None:
            if next_token in seen or next_token == starting_token:
                raise ListingStuckError(operation, pages, [seen.get(next_token), request_id])
            seen[next_token] = request_id
        token = next_token
        yield Page(resp[result_key], next_token, request_id)
        if next_token is None:
            return


class OmicsApi:
    """The HealthOmics calls the provider makes: paced, counted, bounded in time, with
    transient answers retried and errors translated.

    Wraps one boto3 client. botocore's ``before-call`` event counts each call in ``calls``
    (by operation) and waits for the operation family's token in ``budget`` (on ``clock``),
    so botocore's paginators go through the same pacing. Errors become
    :class:`~omics_dynamic.errors.AwsCallError` with the AWS code, request ID, a hint and
    ``transient``.

    Bounds (:meth:`bound`): with a deadline (seconds on ``clock``) each call runs in a
    worker thread and is waited for on the clock's real-time equivalent of the remaining
    budget plus :data:`CALL_SLACK_REAL_S`, so a held answer, a hanging connection or
    botocore's retry sleeps cannot outlive the budget
    (:class:`~omics_dynamic.errors.BudgetExhaustedError`); transient answers that outlast
    botocore's retries are tried again after a :class:`~omics_dynamic.scheduling.TransientBackoff`
    delay on the clock, until the deadline (unless ``retry_transient`` is off: then they are
    raised as without a deadline); with a cancel event, waiting stops when it is
    set (:class:`~omics_dynamic.errors.CallCancelledError`). A call abandoned this way
    keeps running in its daemon thread until botocore gives up. Without a deadline a
    transient error is raised after botocore's retries, as any other.

    Listings (:meth:`read_set_pages`, :meth:`job_pages`) use botocore's paginators and
    raise :class:`~omics_dynamic.errors.ListingStuckError` when a nextToken comes back
    that the same listing already gave.
    """

    def __init__(self, client, clock: Clock, budget: Optional[RateBudget] = None, region: str = "",
                 *, backoff: Callable[[], TransientBackoff] = TransientBackoff):
        self.client = client
        self.clock = clock
        self.budget = budget
        self.region = region or client.meta.region_name
        self.calls: Counter = Counter()
        self.deadline_s: Optional[float] = None
        self.cancel: Optional[threading.Event] = None
        self.retry_transient = True
        self.listener = ApiListener()
        self._backoff = backoff
        self._lock = threading.Lock()
        self._attempts = _AttemptLog()
        # One handler per client whatever number of OmicsApi share it (shared_client): it
        # hands the event to the OmicsApi whose call runs in this thread (_translated).
        client.meta.events.register("before-call.omics", _dispatch_before_call,
                                    unique_id="omics-dynamic-before-call")
        client.meta.events.register("needs-retry.omics", _dispatch_after_attempt,
                                    unique_id="omics-dynamic-needs-retry")

    def bound(self, deadline_s: Optional[float], cancel: Optional[threading.Event] = None, *,
              retry_transient: bool = True) -> None:
        """Bound every later call by ``deadline_s`` (on the clock; None: no bound) and stop
        waiting when ``cancel`` is set. ``retry_transient``: try transient answers again
        (after a backoff) until the deadline once botocore's retries are spent (the run's
        way: a throttling burst never fails a long activation); off, they are raised then
        (the program's data sources: fail as fast as botocore does, only never later than
        the deadline)."""
        self.deadline_s = deadline_s
        self.cancel = cancel
        self.retry_transient = retry_transient

    # Call machinery -----------------------------------------------------------------
    def _before_call(self, model, **_kwargs) -> None:
        """botocore ``before-call`` hook: pace, then count (returns None: the call proceeds).

        A StartReadSetActivationJob is not sent (nor counted) once the deadline has passed,
        pacing included: a job started after the budget was spent would run unwatched
        (:class:`~omics_dynamic.errors.BudgetExhaustedError` with ``sent`` False).
        """
        if self.budget is not None:
            self.budget.wait(model.name, self.clock)
        if (model.name == "StartReadSetActivationJob" and self.deadline_s is not None
                and self.clock.now() >= self.deadline_s):
            raise BudgetExhaustedError(model.name, 0.0, sent=False)
        with self._lock:
            self.calls[model.name] += 1

    def _after_attempt(self, response=None, caught_exception=None, **_kwargs) -> None:
        """botocore ``needs-retry`` hook, after every attempt (returns None: botocore's own
        retry handler decides). Keeps what the last failed attempt was, so a call that gets
        no answer in time can say why (connection refused, timeouts, 5xx)."""
        self._attempts.record(response, caught_exception, self.clock.now())

    def last_failure(self) -> Optional[tuple[str, bool]]:
        """The last failed attempt of any call when no attempt was answered since:
        ``(text, unreachable)``, ``text`` e.g. ``"EndpointConnectionError: Could not connect
        to the endpoint URL: ..."``, ``unreachable`` True for connection errors and connect
        timeouts (the endpoint could not be reached at all); None otherwise."""
        return self._attempts.last_failure()

    @property
    def attempts(self) -> int:
        """HTTP attempts this api's calls made so far, botocore's retries included (one
        ``needs-retry`` event each)."""
        return self._attempts.attempts

    def _check_reachable(self, operation: str) -> None:
        """Raise AwsCallError ``EndpointUnreachable`` (permanent) once no attempt of this
        api has ever connected and the first one that could not connect is at least
        :data:`UNREACHABLE_AT_START_S` seconds (clock) old: an endpoint that was never
        reached is a wrong endpoint, region or network path far more often than an outage,
        and nothing has been started yet, so waiting out ``timeout_seconds`` (6 hours by
        default) helps nobody. After any answer, connection errors stay transient."""
        since_s, failure = self._attempts.unreachable_since_s()
        if since_s is not None and self.clock.now() - since_s >= UNREACHABLE_AT_START_S:
            raise _unreachable_error(operation, self.client.meta.endpoint_url, failure)

    def _budget_exhausted(self, operation: str, waited_s: float) -> BudgetExhaustedError:
        failure = self.last_failure()
        return BudgetExhaustedError(operation, waited_s, last_attempt=failure[0] if failure else None,
                                    unreachable=bool(failure and failure[1]),
                                    endpoint_url=self.client.meta.endpoint_url)

    def _call(self, operation: str, store: str, attempt: Callable[[], Any]) -> Any:
        """Run ``attempt`` (one botocore call) with the bounds; retry transient answers."""
        backoff = self._backoff()
        while True:
            try:
                return self._bounded(operation, store, attempt)
            except (BudgetExhaustedError, CallCancelledError) as err:
                if backoff.in_a_row and not err.sent:
                    err.sent = True  # an earlier try was sent (and answered transiently)
                raise
            except AwsCallError as err:
                if not err.transient or self.deadline_s is None:
                    raise
                self._check_reachable(operation)
                if not self.retry_transient:
                    raise
                delay_s = backoff.next_delay_s()
                if self.clock.now() + delay_s >= self.deadline_s:
                    raise BudgetExhaustedError(operation, 0.0, err, endpoint_url=self.client.meta.endpoint_url) from err
                self.listener.on_backoff(operation, err, delay_s, backoff.in_a_row)
                self._sleep(delay_s)

    def _sleep(self, seconds: float) -> None:
        if self.cancel is None:
            self.clock.sleep(seconds)
        elif self.clock.wait(self.cancel, seconds):
            raise CallCancelledError("stopped while backing off: the run was cancelled")

    def _bounded(self, operation: str, store: str, attempt: Callable[[], Any]) -> Any:
        if self.cancel is not None and self.cancel.is_set():
            raise CallCancelledError(f"{operation} not sent: the run was cancelled", sent=False)
        if self.deadline_s is None and self.cancel is None:
            return self._translated(operation, store, attempt)
        limit_real_s = math.inf
        if self.deadline_s is not None:
            limit_real_s = self.clock.real_seconds(self.deadline_s - self.clock.now()) + CALL_SLACK_REAL_S
        done, box = _in_daemon_thread(f"omics-dynamic {operation}",
                                      lambda: self._translated(operation, store, attempt))
        t0 = time.monotonic()
        reported = 0
        while not done.wait(CALL_POLL_REAL_S):
            waited = time.monotonic() - t0
            if self.cancel is not None and self.cancel.is_set():
                raise CallCancelledError(f"stopped waiting for {operation}: the run was cancelled")
            if waited >= limit_real_s:
                raise self._budget_exhausted(operation, waited)
            self._check_reachable(operation)
            if int(waited) > reported:
                reported = int(waited)
                failure = self.last_failure()
                self.listener.on_waiting(operation, waited, failure[0] if failure else "")
        if "error" in box:
            raise box["error"]
        return box["value"]

    def _translated(self, operation: str, store: str, attempt: Callable[[], Any]) -> Any:
        outer = getattr(_CURRENT, "api", None)
        _CURRENT.api = self
        try:
            return attempt()
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            err = translate_error(operation, exc, store, self.region, self.client.meta.endpoint_url)
            if err.code in _CREDENTIAL_CODES:
                forget_client(self.client)  # the next lifecycle call resolves credentials again
            raise err from exc
        finally:
            _CURRENT.api = outer

    def _pages(self, operation: str, method: str, store: str, params: dict[str, Any],
               result_key: str, starting_token: Optional[str] = None) -> Iterator[Page]:
        """Every page of listing ``method`` (:func:`_listing_pages`), each one bounded call."""
        return _listing_pages(lambda fetch: self._call(operation, store, fetch),
                              self.client.get_paginator(method), operation, params, result_key,
                              starting_token, self.client.meta.endpoint_url)

    # Read sets ----------------------------------------------------------------------
    def get_read_set(self, store: str, read_set_id: str) -> Optional[dict]:
        """GetReadSetMetadata of one read set (``status``, ``arn``, ``sequenceInformation``,
        ...), or None when HealthOmics answers ResourceNotFoundException (the read set, or
        the whole store, is missing: callers tell the two apart with
        :meth:`assert_store_exists`)."""
        try:
            return self._call("GetReadSetMetadata", store, lambda: self.client.get_read_set_metadata(
                sequenceStoreId=store, id=read_set_id))
        except AwsCallError as err:
            if err.code == "ResourceNotFoundException":
                return None
            raise

    def get_read_set_status(self, store: str, read_set_id: str) -> str:
        """Status of one read set, or ``"NOT_FOUND"`` (see :meth:`get_read_set`)."""
        found = self.get_read_set(store, read_set_id)
        return "NOT_FOUND" if found is None else found["status"]

    def assert_store_exists(self, store: str) -> None:
        """Raise AwsCallError (ResourceNotFoundException, naming the store) if the sequence
        store does not exist. Uses one ListReadSets call (of one item) so that the IAM
        policy needs no omics:GetSequenceStore. An answer without ``readSets`` is not taken
        for an existing store (AwsCallError ``MalformedAnswer``, :func:`_missing_key`)."""
        resp = self._call("ListReadSets", store, lambda: self.client.list_read_sets(sequenceStoreId=store, maxResults=1))
        malformed = _missing_key(resp, "readSets", "ListReadSets", self.client.meta.endpoint_url)
        if malformed is not None:
            raise malformed

    def read_set_pages(self, store: str, starting_token: Optional[str] = None,
                       status: Optional[str] = None,
                       read_set_filter: Optional[Mapping[str, Any]] = None) -> Iterator[Page]:
        """Every page of ListReadSets (100 read sets each), lazily: a page is requested when
        the caller asks for it (stop asking and no more calls are made).

        :param status: only read sets in that status (the API's ``filter.status``, one
            status per listing).
        :param read_set_filter: a ``ReadSetFilter`` (``name``, ``sampleId``, ``subjectId``,
            ``referenceArn``, ``createdAfter``...; botocore's names), sent as it is;
            ``status`` is added to it.
        :raises ListingStuckError: see :func:`_listing_pages`. :raises AwsCallError: the call
            failed (AWS code and request ID kept).
        """
        params: dict[str, Any] = {"sequenceStoreId": store}
        flt = {**(read_set_filter or {}), **({"status": status} if status else {})}
        if flt:
            params["filter"] = flt
        return self._pages("ListReadSets", "list_read_sets", store, params, "readSets", starting_token)

    # Activation jobs ----------------------------------------------------------------
    def start_job(self, store: str, read_set_ids: list[str], token: str) -> StartAnswer:
        """StartReadSetActivationJob with ``token`` as clientToken."""
        tries: list[int] = []

        def attempt() -> dict:
            tries.append(1)
            return self.client.start_read_set_activation_job(
                sequenceStoreId=store, clientToken=token,
                sources=[{"readSetId": rid} for rid in read_set_ids])

        resp = self._call("StartReadSetActivationJob", store, attempt)
        meta = resp.get("ResponseMetadata", {})
        return StartAnswer(resp["id"], resp.get("status", ""), resp.get("creationTime"),
                           meta.get("RequestId"), len(tries) > 1 or meta.get("RetryAttempts", 0) > 0)

    def get_job(self, store: str, job_id: str) -> dict:
        """GetReadSetActivationJob: status, statusMessage, creationTime and per-source statuses."""
        return self._call("GetReadSetActivationJob", store, lambda: self.client.get_read_set_activation_job(
            sequenceStoreId=store, id=job_id))

    def job_pages(self, store: str, created_after=None, status: Optional[str] = None) -> Iterator[Page]:
        """Every page of ListReadSetActivationJobs matching the filters (``created_after``: a
        datetime; ``status``: one job status). :raises ListingStuckError: see :func:`_listing_pages`."""
        flt: dict[str, Any] = {}
        if created_after is not None:
            flt["createdAfter"] = created_after
        if status:
            flt["status"] = status
        params: dict[str, Any] = {"sequenceStoreId": store}
        if flt:
            params["filter"] = flt
        return self._pages("ListReadSetActivationJobs", "list_read_set_activation_jobs", store,
                           params, "activationJobs")

    def list_jobs(self, store: str, created_after=None, status: Optional[str] = None) -> Iterator[dict]:
        """Every activation job of the store matching the filters (all pages of :meth:`job_pages`)."""
        for page in self.job_pages(store, created_after=created_after, status=status):
            yield from page.items
