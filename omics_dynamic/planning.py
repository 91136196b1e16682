"""Pure planning: validate and normalise inputs, classify read sets, chunk, derive tokens.

Nothing here does IO or waits; every function is a function of its arguments.

Facts used (design.md section 3, botocore's omics model ``2022-11-28``):

- Sequence store and read set IDs are 10 to 36 ASCII digits (shape pattern ``[0-9]+``).
- ``StartReadSetActivationJob`` takes 1 to 20 sources; botocore does not enforce the 20,
  so :data:`MAX_SOURCES_PER_JOB` is enforced here.
- ``clientToken`` is 1 to 127 characters and boto3 does not fill it in.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

from .errors import InvalidInputError

__all__ = [
    "MAX_SOURCES_PER_JOB",
    "MAX_READ_SETS",
    "DEFAULT_TIMEOUT_SECONDS",
    "MAX_TIMEOUT_SECONDS",
    "DEFAULT_MAX_CONCURRENT_JOBS",
    "MAX_CONCURRENT_JOBS_LIMIT",
    "INPUT_KEYS",
    "REPLACE_KEYS",
    "TUNING_KEYS",
    "ActivationInputs",
    "validate_inputs",
    "ReadSetPlan",
    "classify",
    "chunk",
    "client_token",
    "resource_id",
    "STATUS_CLASS",
]

MAX_SOURCES_PER_JOB = 20
MAX_READ_SETS = 100_000
DEFAULT_TIMEOUT_SECONDS = 21_600
#: Seven days: a longer budget is almost certainly a unit mistake (milliseconds?).
MAX_TIMEOUT_SECONDS = 604_800
DEFAULT_MAX_CONCURRENT_JOBS = 20
MAX_CONCURRENT_JOBS_LIMIT = 1_000
MAX_RESOURCE_NAME_CHARS = 200

_ID_RE = re.compile(r"[0-9]{10,36}")
_ASCII_DIGITS = re.compile(r"[0-9]+")
# Region names such as us-east-1, eu-central-2, us-gov-west-1, ap-southeast-5, cn-north-1.
_REGION_RE = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]{1,2}")

#: Inputs of ReadSetActivation, as property names in state.
INPUT_KEYS = (
    "sequence_store_id",
    "read_set_ids",
    "region",
    "timeout_seconds",
    "max_concurrent_jobs",
    "check_live_status",
    "resource_name",
)
#: A change of these replaces the resource.
REPLACE_KEYS = ("sequence_store_id", "region")
#: A change of only these is an update that makes no AWS call.
TUNING_KEYS = ("timeout_seconds", "max_concurrent_jobs", "check_live_status")

#: What each read set status means to the activation (one table, design.md section 3).
#: ``activate``: start a job; ``wait``: no job, wait for ACTIVE; ``active``: done;
#: ``unusable``: fail before any job starts.
STATUS_CLASS: Mapping[str, str] = {
    "ARCHIVED": "activate",
    "ACTIVATING": "wait",
    "PROCESSING_UPLOAD": "wait",
    "ACTIVE": "active",
    "DELETING": "unusable",
    "DELETED": "unusable",
    "UPLOAD_FAILED": "unusable",
    "NOT_FOUND": "unusable",
}


@dataclass(frozen=True)
class ActivationInputs:
    """Validated, normalised inputs.

    ``read_set_ids`` is sorted and free of duplicates; ``timeout_seconds`` is seconds
    (float); ``region`` is ``None`` when the provider configuration decides.
    """

    sequence_store_id: str
    read_set_ids: tuple[str, ...]
    region: Optional[str] = None
    timeout_seconds: float = float(DEFAULT_TIMEOUT_SECONDS)
    max_concurrent_jobs: int = DEFAULT_MAX_CONCURRENT_JOBS
    check_live_status: bool = True
    resource_name: str = "read-set-activation"

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> "ActivationInputs":
        """Build from already-checked property values (state inputs or outputs; output-only
        keys are ignored).

        Raises :class:`~omics_dynamic.errors.InvalidInputError` when they do not validate.
        """
        normalised, failures = validate_inputs({k: v for k, v in props.items() if k in INPUT_KEYS})
        if failures:
            raise InvalidInputError(failures)
        return cls(
            sequence_store_id=normalised["sequence_store_id"],
            read_set_ids=tuple(normalised["read_set_ids"]),
            region=normalised.get("region"),
            timeout_seconds=float(normalised["timeout_seconds"]),
            max_concurrent_jobs=int(normalised["max_concurrent_jobs"]),
            check_live_status=bool(normalised["check_live_status"]),
            resource_name=normalised["resource_name"],
        )


def _describe(value: Any) -> str:
    """Short repr of a bad value for an error message (long values are cut)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _finite(value: Any) -> bool:
    """True for a finite number; False for NaN, infinities and ints too large for a float
    (``math.isfinite(10**400)`` raises OverflowError: check must never raise)."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def _id_problem(value: Any) -> Optional[str]:
    """Why ``value`` is not a HealthOmics ID (10-36 ASCII digits), or None if it is one."""
    if not isinstance(value, str):
        return f"must be a string of 10 to 36 digits, got {type(value).__name__} {_describe(value)}"
    if _ID_RE.fullmatch(value):
        return None
    if not value:
        return "must be 10 to 36 digits, got an empty string"
    if _ASCII_DIGITS.fullmatch(value):
        return f"must be 10 to 36 digits, got {len(value)} digits ({_describe(value)})"
    return f"must contain only the ASCII digits 0-9, got {_describe(value)}"


def validate_inputs(
    news: Mapping[str, Any], is_unknown: Callable[[Any], bool] = lambda v: False
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Validate and normalise ReadSetActivation inputs.

    :param news: input property dict (keys of :data:`INPUT_KEYS`; ``__provider`` and
        other keys starting with ``__`` are passed through untouched).
    :param is_unknown: predicate for preview-time unknown values (the provider passes
        ``provider._is_unknown``: the SDK's ``Unknown`` objects and sentinel string); an
        unknown value, or a list with an unknown element, is passed through untouched and
        not validated.
    :returns: ``(normalised, failures)``: the inputs with defaults filled in, IDs
        deduplicated and sorted; ``failures`` a list of ``(property, reason)`` pairs, each
        reason naming the bad value, the rule and the fix. Never raises for bad input.
    """
    out: dict[str, Any] = {k: v for k, v in news.items() if k.startswith("__")}
    failures: list[tuple[str, str]] = []

    for key in sorted(set(news) - set(INPUT_KEYS)):
        if not key.startswith("__"):
            failures.append(
                (key, f"unknown input {key!r}; ReadSetActivation takes {', '.join(INPUT_KEYS[:-1])}")
            )

    # sequence_store_id: required, 10-36 digits.
    store = news.get("sequence_store_id")
    if is_unknown(store):
        out["sequence_store_id"] = store
    elif store is None:
        failures.append(("sequence_store_id", "is required: the numeric ID of the sequence store, "
                                              "e.g. from `aws omics list-sequence-stores`"))
    else:
        problem = _id_problem(store)
        if problem:
            failures.append(("sequence_store_id", f"{problem}; use the numeric sequence store ID "
                                                  "(e.g. from `aws omics list-sequence-stores`)"))
        else:
            out["sequence_store_id"] = store

    # read_set_ids: required list of 1..100,000 IDs; duplicates removed, sorted.
    ids = news.get("read_set_ids")
    if is_unknown(ids):
        out["read_set_ids"] = ids
    elif ids is None:
        failures.append(("read_set_ids", "is required: a list of 1 to 100,000 read set IDs"))
    elif isinstance(ids, (str, bytes)) or not isinstance(ids, (list, tuple)):
        failures.append(("read_set_ids", f"must be a list of read set ID strings, got "
                                         f"{type(ids).__name__} {_describe(ids)}; wrap a single "
                                         "ID in a list"))
    elif any(is_unknown(v) for v in ids):
        out["read_set_ids"] = list(ids)
    else:
        bad = [(i, _id_problem(v)) for i, v in enumerate(ids)]
        bad = [(i, p) for i, p in bad if p]
        unique = sorted(set(ids)) if not bad else []
        if bad:
            shown = "; ".join(f"[{i}] {p}" for i, p in bad[:5])
            more = f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""
            failures.append(("read_set_ids", f"{len(bad)} invalid read set ID(s): {shown}{more}; "
                                             "read set IDs are 10 to 36 ASCII digits"))
        elif not unique:
            failures.append(("read_set_ids", "must hold at least 1 read set ID, got an empty list"))
        elif len(unique) > MAX_READ_SETS:
            failures.append(("read_set_ids", f"holds {len(unique)} distinct IDs, more than the "
                                             f"limit of {MAX_READ_SETS:,}; split the cohort over "
                                             "several ReadSetActivation resources"))
        else:
            out["read_set_ids"] = unique

    # region: optional AWS Region name.
    region = news.get("region")
    if is_unknown(region):
        out["region"] = region
    elif region is None or region == "":
        out["region"] = None
    elif not isinstance(region, str) or not _REGION_RE.fullmatch(region):
        failures.append(("region", f"must be an AWS Region name such as 'us-east-1', got "
                                   f"{_describe(region)}; or leave it out to use aws:region"))
    else:
        out["region"] = region

    # timeout_seconds: finite number of seconds, 0 < t <= 7 days.
    timeout = news.get("timeout_seconds")
    if is_unknown(timeout):
        out["timeout_seconds"] = timeout
    elif timeout is None:
        out["timeout_seconds"] = DEFAULT_TIMEOUT_SECONDS
    elif not _is_number(timeout):
        failures.append(("timeout_seconds", f"must be a number of seconds, got "
                                            f"{type(timeout).__name__} {_describe(timeout)}; e.g. "
                                            "21600 (read config with config.get_int)"))
    elif not _finite(timeout) or timeout <= 0 or timeout > MAX_TIMEOUT_SECONDS:
        failures.append(("timeout_seconds", f"must be more than 0 and at most {MAX_TIMEOUT_SECONDS} "
                                            f"seconds (7 days), got {_describe(timeout)}"))
    else:
        out["timeout_seconds"] = int(timeout) if float(timeout).is_integer() else float(timeout)

    # max_concurrent_jobs: whole number 1..1000.
    conc = news.get("max_concurrent_jobs")
    if is_unknown(conc):
        out["max_concurrent_jobs"] = conc
    elif conc is None:
        out["max_concurrent_jobs"] = DEFAULT_MAX_CONCURRENT_JOBS
    elif not _is_number(conc) or not _finite(conc) or not float(conc).is_integer():
        failures.append(("max_concurrent_jobs", f"must be a whole number of jobs, got "
                                                f"{type(conc).__name__} {_describe(conc)}; e.g. 20"))
    elif not 1 <= conc <= MAX_CONCURRENT_JOBS_LIMIT:
        failures.append(("max_concurrent_jobs", f"must be from 1 to {MAX_CONCURRENT_JOBS_LIMIT}, "
                                                f"got {_describe(conc)}; the HealthOmics default "
                                                "quota is about 20 concurrent jobs"))
    else:
        out["max_concurrent_jobs"] = int(conc)

    # check_live_status: a real boolean.
    live = news.get("check_live_status")
    if is_unknown(live):
        out["check_live_status"] = live
    elif live is None:
        out["check_live_status"] = True
    elif not isinstance(live, bool):
        failures.append(("check_live_status", f"must be true or false (a boolean), got "
                                              f"{type(live).__name__} {_describe(live)}; read "
                                              "config with config.get_bool"))
    else:
        out["check_live_status"] = live

    name = news.get("resource_name")
    if is_unknown(name):
        out["resource_name"] = name
    elif name is None:
        out["resource_name"] = "read-set-activation"
    elif not isinstance(name, str) or not name or len(name) > MAX_RESOURCE_NAME_CHARS:
        failures.append(("resource_name", f"must be a non-empty string of at most "
                                          f"{MAX_RESOURCE_NAME_CHARS} characters, got "
                                          f"{type(name).__name__} {_describe(name)}"
                                          + (f" ({len(name)} characters)" if isinstance(name, str) else "")
                                          + "; the ReadSetActivation class sets it from the "
                                          "resource's name"))
    else:
        out["resource_name"] = name

    return out, failures


@dataclass
class ReadSetPlan:
    """Read sets grouped by what the activation does with them (:data:`STATUS_CLASS`).

    Each field is a sorted list of read set IDs; ``unusable`` maps ID to status.
    """

    activate: list[str] = field(default_factory=list)
    wait: list[str] = field(default_factory=list)
    active: list[str] = field(default_factory=list)
    unusable: dict[str, str] = field(default_factory=dict)


def classify(statuses: Mapping[str, Optional[str]]) -> ReadSetPlan:
    """Group read sets by :data:`STATUS_CLASS`.

    :param statuses: read set ID -> status; ``None`` or ``"NOT_FOUND"`` means the store
        does not hold it. An unknown status string is treated as unusable (it is named in
        the error, never silently activated).
    """
    plan = ReadSetPlan()
    for rid in sorted(statuses):
        status = statuses[rid] or "NOT_FOUND"
        kind = STATUS_CLASS.get(status, "unusable")
        if kind == "unusable":
            plan.unusable[rid] = status
        else:
            getattr(plan, kind).append(rid)
    return plan


def chunk(ids: Iterable[str], size: int = MAX_SOURCES_PER_JOB) -> list[list[str]]:
    """Split IDs into consecutive chunks of at most ``size`` (<= 20), keeping the given
    order and dropping repeats. The one chunker: callers order the IDs first (sorted, or
    :func:`~omics_dynamic.scheduling.order_by_listing`).

    Raises ValueError for a size outside 1..20 (``StartReadSetActivationJob`` takes 1 to 20
    sources, :data:`MAX_SOURCES_PER_JOB`).
    """
    if not 1 <= size <= MAX_SOURCES_PER_JOB:
        raise ValueError(f"chunk size must be 1 to {MAX_SOURCES_PER_JOB}, got {size}")
    ordered = list(dict.fromkeys(ids))
    return [ordered[i:i + size] for i in range(0, len(ordered), size)]


def client_token(sequence_store_id: str, read_set_ids: Sequence[str], generation: str,
                 attempt: int = 1) -> str:
    """Derive the clientToken of one activation job (64 hex characters plus a prefix, within
    the API's 127).

    A pure function of the store, the job's sources (order ignored), ``generation`` and
    ``attempt``. ``generation`` names the lifecycle call (``<resource_name>/create``,
    ``<resource_name>/update-<n>``, ``provider.create``/``update``), so a rerun of an
    interrupted create or update sends the same tokens for the same chunks: where
    HealthOmics honours tokens, a start the killed run already made returns that job
    instead of a duplicate. ``attempt`` is 1 for a chunk's first start; the activation run
    moves to the next attempt when an answer shows the token was used before (an already
    ended job, ConflictException, a ValidationException about the token:
    :class:`~omics_dynamic.scheduling.StartAttempts`). What HealthOmics does with a reused
    token is not documented (design.md section 3); the run does not depend on it.
    """
    digest = hashlib.sha256()
    for part in (sequence_store_id, generation, f"attempt-{attempt}", *sorted(read_set_ids)):
        digest.update(part.encode())
        digest.update(b"\0")
    return "omics-dynamic-" + digest.hexdigest()


def resource_id(resource_name: str, sequence_store_id: str, region: Optional[str]) -> str:
    """Deterministic resource ID, stable across updates (the read sets do not enter it)."""
    digest = hashlib.sha256(f"{resource_name}\0{sequence_store_id}\0{region or ''}".encode())
    return f"rsa-{sequence_store_id}-{digest.hexdigest()[:12]}"
