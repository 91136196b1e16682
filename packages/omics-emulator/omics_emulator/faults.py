"""Injected faults and rate limits: what the emulator does to a request before and after
the business rules run.

* :class:`Faults` - the injected faults (``Emulator.set_faults``, admin ``POST
  /_emulator/faults``), each documented on the class; :meth:`Faults.admit` raises the
  per-request faults, :meth:`Faults.take_lost_start` and :meth:`Faults.hold_s` answer
  the faults applied after an operation ran, :meth:`Faults.take_job_faults` those a new
  job gets.
* :class:`RateLimits` - one :class:`TokenBucket` per operation family (``start``,
  ``jobs``, ``readsets``, ``stores``) on the emulated clock; ``rate_limit`` requests per
  emulated second, burst ``max(1, rate_limit)``, 0 = unlimited (ThrottlingException).

Nothing here holds a lock: the backend calls these under its own lock (except
:meth:`Faults.hold_s`, a plain read the server makes outside it).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, Mapping, Optional, Set, Tuple

from . import exceptions as exc

__all__ = ["FAMILIES", "LIST_OPERATIONS", "Faults", "TokenBucket", "RateLimits"]

#: Rate-limit family of each operation.
FAMILIES: Dict[str, str] = {
    "StartReadSetActivationJob": "start",
    "GetReadSetActivationJob": "jobs",
    "ListReadSetActivationJobs": "jobs",
    "GetReadSetMetadata": "readsets",
    "ListReadSets": "readsets",
    "BatchDeleteReadSet": "readsets",
    "CreateSequenceStore": "stores",
    "GetSequenceStore": "stores",
    "ListSequenceStores": "stores",
}

#: The list operations (paginated with nextToken).
LIST_OPERATIONS = ("ListReadSets", "ListReadSetActivationJobs", "ListSequenceStores")

_DEFAULT_READ_SET_FAILURE = "Activation failed: read set could not be restored from archive (injected fault)"


def _operation_map(value: Any, name: str, convert: Any, allowed: Any = None, wildcard: bool = True) -> Dict[str, Any]:
    """``{operation: value}`` from a mapping (or one value for ``"*"`` when ``wildcard``)."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        items = dict(value)
    elif wildcard and not isinstance(value, (list, tuple, set, frozenset)):
        items = {"*": value}
    else:
        raise ValueError(f"{name} must be a dict {{operation: value}}, got {value!r}")
    known = tuple(allowed if allowed is not None else FAMILIES)
    out = {}
    for op, v in items.items():
        if not ((wildcard and op == "*") or op in known):
            choices = sorted(known) + (["'*'"] if wildcard else [])
            raise ValueError(f"{name}: unknown operation {op!r}; use one of {', '.join(choices)}")
        out[op] = convert(op, v)
    return out


def _probability(name: str) -> Any:
    def convert(op: str, p: Any) -> float:
        try:
            prob = float(p)
        except (TypeError, ValueError):
            raise ValueError(f"{name}[{op!r}] must be a probability between 0 and 1, got {p!r}") from None
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f"{name}[{op!r}] must be a probability between 0 and 1, got {p!r}")
        return prob
    return convert


def _count(name: str, op: Optional[str], value: Any) -> int:
    where = f"{name}[{op!r}]" if op is not None else name
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{where} must be an integer >= 0, got {value!r}")
    return value


def _seconds(name: str) -> Any:
    def convert(op: str, s: Any) -> float:
        try:
            value = float(s)
        except (TypeError, ValueError):
            value = -1.0
        if isinstance(s, bool) or not 0 <= value < float("inf"):
            raise ValueError(f"{name}[{op!r}] must be a finite number of real seconds >= 0, got {s!r}")
        return value
    return convert


def _flag(name: str) -> Any:
    def convert(op: str, v: Any) -> bool:
        if not isinstance(v, bool):
            raise ValueError(f"{name}[{op!r}] must be true or false, got {v!r}")
        return v
    return convert


@dataclass
class Faults:
    """Injected faults. Rates map an operation name (or ``"*"``) to a probability.

    Per request (checked in this order, after due events are applied; rate limits
    come between ``throttle_next`` and the rest):

    :ivar throttle_next: ``{operation or "*": n}``: the next n requests of that
        operation (of any operation for ``"*"``; a per-operation count is used first)
        answer 429 ThrottlingException; each throttled request counts one down. Rate
        limits are not charged for them.
    :ivar throttle_rate: probability of ThrottlingException (429), on top of rate limits.
    :ivar internal_error_rate: probability of InternalServerException (500).
    :ivar timeout_rate: probability of RequestTimeoutException (408).
    :ivar access_denied_stores: store IDs whose every request is AccessDeniedException.
    :ivar expire_credentials_at_s: emulated clock time (seconds, as ``Emulator.now()``)
        from which every request answers 403 ExpiredTokenException ("The security token
        included in the request is expired"), as AWS does once temporary credentials
        expire; None (default): never. Checked first, before rate limits.

    After the operation ran:

    :ivar lose_start_responses: the next n StartReadSetActivationJob calls that succeed
        (a new job, or an old one returned for its clientToken) keep their effect but
        answer 500 InternalServerException; calls that fail anyway (quota, validation,
        throttling) do not count.
    :ivar stuck_next_token: ``{list operation: True}``: that list operation's nextToken
        never advances: a request with a nextToken gets the page at that token and the
        very same nextToken back; a first request gets its first page and a nextToken
        (even when nothing follows) that then repeats forever.
    :ivar hold_response_s: ``{operation or "*": seconds}``: the server holds each answer
        of that operation (errors too) this many REAL seconds after the operation ran,
        without holding the backend's lock (other requests are served meanwhile).

    Jobs:

    :ivar failing_read_sets: read set ID -> message: its activation source FAILS with it.
    :ivar fail_jobs_containing: read set ID -> message: jobs holding it end FAILED.
    :ivar fail_next_jobs: the next N started jobs end FAILED with ``job_failure_message``.
    :ivar delay_next_jobs: the next N started jobs stay SUBMITTED ``delay_seconds`` longer.
    :ivar delay_jobs_containing: jobs holding one of these read sets are delayed the same way.
    """

    internal_error_rate: Dict[str, float] = field(default_factory=dict)
    timeout_rate: Dict[str, float] = field(default_factory=dict)
    throttle_rate: Dict[str, float] = field(default_factory=dict)
    failing_read_sets: Dict[str, str] = field(default_factory=dict)
    fail_jobs_containing: Dict[str, str] = field(default_factory=dict)
    fail_next_jobs: int = 0
    job_failure_message: str = "Activation job failed: internal error (injected fault)"
    delay_next_jobs: int = 0
    delay_jobs_containing: Set[str] = field(default_factory=set)
    delay_seconds: float = 3600.0
    access_denied_stores: Set[str] = field(default_factory=set)
    throttle_next: Dict[str, int] = field(default_factory=dict)
    lose_start_responses: int = 0
    stuck_next_token: Dict[str, bool] = field(default_factory=dict)
    hold_response_s: Dict[str, float] = field(default_factory=dict)
    expire_credentials_at_s: Optional[float] = None

    def update(self, **changes: Any) -> None:
        """Replace the named fault settings (others keep their value).

        :raises TypeError: on an unknown setting name.
        :raises ValueError: on a bad value (probability outside 0..1, negative count,
            unknown operation), naming the setting.
        """
        for key in changes:
            if key not in self.__dataclass_fields__:
                raise TypeError(f"unknown fault {key!r}; known faults: {sorted(self.__dataclass_fields__)}")
        converted = {key: self._convert(key, value) for key, value in changes.items()}
        for key, value in converted.items():
            setattr(self, key, value)

    @staticmethod
    def _convert(key: str, value: Any) -> Any:
        if key in ("internal_error_rate", "timeout_rate", "throttle_rate"):
            return _operation_map(value if value is not None else 0.0, key, _probability(key))
        if key in ("failing_read_sets", "fail_jobs_containing"):
            if isinstance(value, Mapping):
                return {str(k): str(v) for k, v in value.items()}
            return {str(k): _DEFAULT_READ_SET_FAILURE for k in (value or [])}
        if key in ("delay_jobs_containing", "access_denied_stores"):
            return {str(v) for v in (value or [])}
        if key in ("fail_next_jobs", "delay_next_jobs", "lose_start_responses"):
            return _count(key, None, value)
        if key == "delay_seconds":
            value = float(value)
            if not value >= 0:
                raise ValueError(f"delay_seconds must be >= 0, got {value!r}")
            return value
        if key == "job_failure_message":
            return str(value)
        if key == "throttle_next":
            return _operation_map(value, key, lambda op, v: _count(key, op, v))
        if key == "stuck_next_token":
            if isinstance(value, (list, tuple, set, frozenset)):
                value = {op: True for op in value}
            return {op: on for op, on in _operation_map(value, key, _flag(key), LIST_OPERATIONS, wildcard=False).items() if on}
        if key == "hold_response_s":
            return _operation_map(value, key, _seconds(key))
        if key == "expire_credentials_at_s":
            if value is None:
                return None
            try:
                at_s = float(value)
            except (TypeError, ValueError):
                at_s = float("nan")
            if isinstance(value, bool) or not -float("inf") < at_s < float("inf"):
                raise ValueError(f"expire_credentials_at_s must be an emulated time in seconds or None, got {value!r}")
            return at_s
        raise TypeError(f"unknown fault {key!r}")  # unreachable: update checks the names first

    def as_dict(self) -> Dict[str, Any]:
        """The settings as JSON-ready data (sets as sorted lists)."""
        return {k: sorted(v) if isinstance(v, set) else dict(v) if isinstance(v, dict) else v
                for k, v in self.__dict__.items()}

    # ------------------------------------------------------------ per request

    def admit_credentials(self, now_s: float) -> None:
        """The credential check of the front door: :attr:`expire_credentials_at_s`.

        :raises ExpiredTokenException: once the emulated time ``now_s`` reaches it.
        """
        if self.expire_credentials_at_s is not None and now_s >= self.expire_credentials_at_s:
            raise exc.ExpiredTokenException("The security token included in the request is expired")

    def admit_first(self, operation: str) -> None:
        """The faults checked before rate limits: :attr:`throttle_next`.

        :raises ThrottlingException: when ``throttle_next`` has a count left for it.
        """
        if self.throttle_next:
            key = operation if self.throttle_next.get(operation) else "*" if self.throttle_next.get("*") else None
            if key is not None:
                self.throttle_next[key] -= 1
                raise exc.ThrottlingException(
                    f"Rate exceeded: {operation} throttled (injected fault throttle_next); retry with backoff")

    def admit(self, operation: str, store_id: Optional[str], rng: random.Random) -> None:
        """The faults checked after rate limits: the random rates, then denied stores.

        :raises ThrottlingException, InternalServerException, RequestTimeoutException,
            AccessDeniedException: as configured.
        """
        for rates, error, text in (
            (self.throttle_rate, exc.ThrottlingException, "Rate exceeded (injected fault); retry with backoff"),
            (self.internal_error_rate, exc.InternalServerException, "An internal error occurred (injected fault); retry the request"),
            (self.timeout_rate, exc.RequestTimeoutException, "The request timed out (injected fault); retry the request"),
        ):
            if rates:
                p = rates.get(operation, rates.get("*", 0.0))
                if p and rng.random() < p:
                    raise error(text)
        if store_id is not None and store_id in self.access_denied_stores:
            raise exc.AccessDeniedException(
                f"User is not authorized to perform omics:{operation} on sequence store {store_id} (injected fault); check the IAM policy")

    def take_lost_start(self) -> bool:
        """Count one lost StartReadSetActivationJob answer down; True if this one is lost."""
        if self.lose_start_responses > 0:
            self.lose_start_responses -= 1
            return True
        return False

    def take_job_faults(self, read_set_ids: Iterable[str]) -> Tuple[float, Optional[str]]:
        """The job faults a new job of ``read_set_ids`` gets, counting ``delay_next_jobs``
        and ``fail_next_jobs`` down when they apply.

        :returns: ``(extra emulated seconds SUBMITTED, forced failure message or None)``.
        """
        ids = list(read_set_ids)
        delay_s = 0.0
        if self.delay_next_jobs > 0:
            self.delay_next_jobs -= 1
            delay_s = self.delay_seconds
        elif self.delay_jobs_containing.intersection(ids):
            delay_s = self.delay_seconds
        forced = next((self.fail_jobs_containing[i] for i in ids if i in self.fail_jobs_containing), None)
        if forced is None and self.fail_next_jobs > 0:
            self.fail_next_jobs -= 1
            forced = self.job_failure_message
        return delay_s, forced

    def stuck(self, operation: str) -> bool:
        """Whether ``operation``'s nextToken is stuck."""
        return bool(self.stuck_next_token.get(operation))

    def hold_s(self, operation: str) -> float:
        """Real seconds to hold the answer of ``operation`` (0: none)."""
        h = self.hold_response_s
        return h.get(operation, h.get("*", 0.0)) if h else 0.0


class TokenBucket:
    """A token bucket on the emulated clock: ``rate_per_s`` tokens per emulated second,
    capacity ``max(1, rate_per_s)``; rate 0 means unlimited."""

    def __init__(self, rate_per_s: float, now_s: float) -> None:
        if rate_per_s < 0:
            raise ValueError(f"rate_limit must be >= 0 requests per second (0 = unlimited), got {rate_per_s!r}")
        self.rate_per_s = float(rate_per_s)
        self.capacity = max(1.0, self.rate_per_s)
        self.tokens = self.capacity
        self.last_s = now_s

    def take(self, now_s: float) -> bool:
        """Take one token; False when empty (the caller throttles)."""
        if self.rate_per_s <= 0:
            return True
        if now_s > self.last_s:
            self.tokens = min(self.capacity, self.tokens + (now_s - self.last_s) * self.rate_per_s)
            self.last_s = now_s
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class RateLimits:
    """One :class:`TokenBucket` per operation family (see :data:`FAMILIES`)."""

    def __init__(self) -> None:
        self.buckets: Dict[str, TokenBucket] = {}

    def set(self, rate_limit: Any, now_s: float) -> None:
        """Set the limit of every family (a number) or of some (``{family: rate}``);
        the buckets set start full.

        :raises ValueError: on a negative or non-numeric rate or an unknown family.
        """
        families = sorted(set(FAMILIES.values()))
        rates = dict(rate_limit) if isinstance(rate_limit, Mapping) else {f: rate_limit for f in families}
        new = {}
        for fam, rate in rates.items():
            if fam not in families:
                raise ValueError(f"rate_limit: unknown family {fam!r}; use one of {families}")
            try:
                value = float(rate)
            except (TypeError, ValueError):
                raise ValueError(f"rate_limit[{fam!r}] must be requests per second >= 0, got {rate!r}") from None
            new[fam] = TokenBucket(value, now_s)
        self.buckets.update(new)

    def admit(self, operation: str, now_s: float) -> None:
        """Charge one request of ``operation``.

        :raises ThrottlingException: when its family's bucket is empty.
        """
        bucket = self.buckets[FAMILIES[operation]]
        if not bucket.take(now_s):
            raise exc.ThrottlingException(
                f"Rate exceeded: {operation} is limited to {bucket.rate_per_s:g} requests per second; retry with backoff")

    @property
    def rates(self) -> Dict[str, float]:
        """Current requests-per-emulated-second limit of each family (0 = unlimited)."""
        return {fam: b.rate_per_s for fam, b in self.buckets.items()}
