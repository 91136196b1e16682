"""Pure planning: validate and normalise inputs, decide diff, classify read sets, chunk,
derive tokens.

Nothing here does IO or waits; every function is a function of its arguments.

Facts used (design.md section 3, botocore's omics model ``2022-11-28``):

- Sequence store and read set IDs are 10 to 36 ASCII digits (shapes ``SequenceStoreId``
  and ``ReadSetId``: length 10-36, pattern ``[0-9]+``).
- ``StartReadSetActivationJob`` takes 1 to 20 sources; botocore does not enforce the 20,
  so :data:`MAX_SOURCES_PER_JOB` is enforced here.
- ``clientToken`` is 1 to 127 characters and boto3 does not fill it in.
"""

from __future__ import annotations

import difflib
import hashlib
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

from .errors import InvalidInputError
from .limits import (
    DEFAULT_MAX_CONCURRENT_JOBS,
    DEFAULT_TIMEOUT_SECONDS,
    MAX_CONCURRENT_JOBS_LIMIT,
    MAX_READ_SETS,
    MAX_RESOURCE_NAME_CHARS,
    MAX_SOURCES_PER_JOB,
    MAX_TIMEOUT_SECONDS,
)

__all__ = [
    "MAX_SOURCES_PER_JOB",
    "MAX_READ_SETS",
    "DEFAULT_TIMEOUT_SECONDS",
    "MAX_TIMEOUT_SECONDS",
    "DEFAULT_MAX_CONCURRENT_JOBS",
    "MAX_CONCURRENT_JOBS_LIMIT",
    "MAX_RESOURCE_NAME_CHARS",
    "DEFAULT_RESOURCE_NAME",
    "ID_PATTERN",
    "REGION_PATTERN",
    "INPUT_SPECS",
    "InputSpec",
    "INPUT_KEYS",
    "REPLACE_KEYS",
    "TUNING_KEYS",
    "ActivationInputs",
    "validate_inputs",
    "describe_value",
    "id_problem",
    "DiffPlan",
    "plan_diff",
    "not_active_in_state",
    "ReadSetPlan",
    "classify",
    "chunk",
    "client_token",
    "resource_id",
    "STATUS_CLASS",
    "status_class",
    "undocumented_statuses",
]

DEFAULT_RESOURCE_NAME = "read-set-activation"

#: A sequence store or read set ID: 10 to 36 ASCII digits (botocore's omics model).
#: Use with ``fullmatch``.
ID_PATTERN = re.compile(r"[0-9]{10,36}")
#: An AWS Region name such as us-east-1, eu-central-2, us-gov-west-1, ap-southeast-5,
#: cn-north-1, eusc-de-east-1 (the European Sovereign Cloud's four-letter prefix). Use with
#: ``fullmatch``. Checked for the ``region`` input and for ``aws:region``, so a recorded
#: region always passes it again.
REGION_PATTERN = re.compile(r"[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}")
_ASCII_DIGITS = re.compile(r"[0-9]+")

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


def status_class(status: Optional[str]) -> str:
    """What ``status`` means to the activation: :data:`STATUS_CLASS`'s class, and
    ``"wait"`` for a status it does not know (a status HealthOmics did not document, or
    added since: e.g. a transitional ``FINALIZING`` after a job): not there yet, neither
    activated by a job nor refused, waited for until the deadline like ACTIVATING. A read
    set the store does not hold (``None``, ``"NOT_FOUND"``) is unusable. The one
    classification every place uses (discovery, confirmation, diff, refresh, check).
    """
    if status is None or status == "NOT_FOUND":
        return "unusable"
    return STATUS_CLASS.get(status, "wait")


def undocumented_statuses(statuses: Iterable[Optional[str]]) -> list[str]:
    """The statuses among ``statuses`` that :data:`STATUS_CLASS` does not know, sorted,
    each once (for messages: such a status is waited for, :func:`status_class`)."""
    return sorted({s for s in statuses if s is not None and s not in STATUS_CLASS})


# -- describing bad values ------------------------------------------------------------
def describe_value(value: Any) -> str:
    """Short repr of a bad value for an error message (longer than 60 characters: cut)."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _typed(value: Any) -> str:
    """``<type> <repr>`` of a bad value, e.g. ``str '3600'``."""
    return f"{type(value).__name__} {describe_value(value)}"


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _finite(value: Any) -> bool:
    """True for a finite number; False for NaN, infinities and ints too large for a float
    (``math.isfinite(10**400)`` raises OverflowError: check must never raise)."""
    try:
        return math.isfinite(value)
    except OverflowError:
        return False


def id_problem(value: Any) -> Optional[str]:
    """Why ``value`` is not a HealthOmics ID (:data:`ID_PATTERN`), or None if it is one."""
    if not isinstance(value, str):
        return f"must be a string of 10 to 36 digits, got {_typed(value)}"
    if ID_PATTERN.fullmatch(value):
        return None
    if not value:
        return "must be 10 to 36 digits, got an empty string"
    if _ASCII_DIGITS.fullmatch(value):
        return f"must be 10 to 36 digits, got {len(value)} digits ({describe_value(value)})"
    return f"must contain only the ASCII digits 0-9, got {describe_value(value)}"


# -- the inputs, one spec each ------------------------------------------------------------
#: ``InputSpec.default`` of a required input.
REQUIRED: Any = object()

#: ``check(spec, value, is_unknown) -> (normalised, problem)``: ``problem`` is None for a
#: good value, else the reason (naming the value and the fix).
Checker = Callable[["InputSpec", Any, Callable[[Any], bool]], "tuple[Any, Optional[str]]"]


@dataclass(frozen=True)
class InputSpec:
    """How :func:`validate_inputs` checks one input.

    - ``name``: the property name.
    - ``check``: the checker of the input's type (:data:`Checker`).
    - ``rule``: what a good value is (``must be <rule>, got <type> <value>``).
    - ``hint``: the fix, ending every reason.
    - ``default``: the value of an absent (``None``) input, or :data:`REQUIRED`; a required
      input's absence is reported as ``is required: <hint>``.
    - ``low``/``high``: bounds of numbers and counts (``low`` exclusive for seconds,
      inclusive for counts), ``bounds`` the same in words.
    """

    name: str
    check: Checker
    rule: str
    hint: str
    default: Any = REQUIRED
    low: float = 0
    high: float = math.inf
    bounds: str = ""


def _check_id(spec: InputSpec, value: Any, _is_unknown: Callable[[Any], bool]) -> tuple[Any, Optional[str]]:
    problem = id_problem(value)
    return value, (f"{problem}; {spec.hint}" if problem else None)


def _check_id_list(spec: InputSpec, value: Any, is_unknown: Callable[[Any], bool]) -> tuple[Any, Optional[str]]:
    """A list of IDs: deduplicated and sorted; elements that are unknown pass it through."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        return None, f"must be {spec.rule}, got {_typed(value)}; wrap a single ID in a list"
    if any(is_unknown(v) for v in value):
        return list(value), None
    bad = [(i, p) for i, p in ((i, id_problem(v)) for i, v in enumerate(value)) if p]
    if bad:
        shown = "; ".join(f"[{i}] {p}" for i, p in bad[:5])
        more = f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""
        return None, f"{len(bad)} invalid read set ID(s): {shown}{more}; {spec.hint}"
    unique = sorted(set(value))
    if len(unique) < spec.low:
        return None, f"must hold at least {spec.low:g} read set ID, got an empty list"
    if len(unique) > spec.high:
        return None, (f"holds {len(unique)} distinct IDs, more than the limit of {spec.high:,.0f}; "
                      "split the cohort over several ReadSetActivation resources")
    return unique, None


def _check_region(spec: InputSpec, value: Any, _is_unknown: Callable[[Any], bool]) -> tuple[Any, Optional[str]]:
    if value == "":
        return None, None  # an empty string means absent, as in stack config
    if isinstance(value, str) and REGION_PATTERN.fullmatch(value):
        return value, None
    return None, f"must be {spec.rule}, got {_typed(value)}; {spec.hint}"


def _check_seconds(spec: InputSpec, value: Any, _is_unknown: Callable[[Any], bool]) -> tuple[Any, Optional[str]]:
    """A number in (low, high]; whole numbers normalised to int."""
    if not _is_number(value):
        return None, f"must be {spec.rule}, got {_typed(value)}; {spec.hint}"
    if not _finite(value) or not spec.low < value <= spec.high:
        return None, f"must be {spec.bounds}, got {describe_value(value)}; {spec.hint}"
    return (int(value) if float(value).is_integer() else float(value)), None


def _check_count(spec: InputSpec, value: Any, _is_unknown: Callable[[Any], bool]) -> tuple[Any, Optional[str]]:
    """A whole number in [low, high] (a float such as 5.0 from the wire is accepted)."""
    if not _is_number(value) or not _finite(value) or not float(value).is_integer():
        return None, f"must be {spec.rule}, got {_typed(value)}; {spec.hint}"
    if not spec.low <= value <= spec.high:
        return None, f"must be {spec.bounds}, got {describe_value(value)}; {spec.hint}"
    return int(value), None


def _check_bool(spec: InputSpec, value: Any, _is_unknown: Callable[[Any], bool]) -> tuple[Any, Optional[str]]:
    if isinstance(value, bool):
        return value, None
    return None, f"must be {spec.rule}, got {_typed(value)}; {spec.hint}"


def _check_name(spec: InputSpec, value: Any, _is_unknown: Callable[[Any], bool]) -> tuple[Any, Optional[str]]:
    if isinstance(value, str) and 0 < len(value) <= spec.high:
        return value, None
    length = f" ({len(value)} characters)" if isinstance(value, str) else ""
    return None, f"must be {spec.rule}, got {_typed(value)}{length}; {spec.hint}"


#: The inputs of ReadSetActivation, in order, one spec each (README "Inputs").
INPUT_SPECS: tuple[InputSpec, ...] = (
    InputSpec("sequence_store_id", _check_id, rule="a sequence store ID",
              hint="use the numeric sequence store ID (e.g. from `aws omics list-sequence-stores`)"),
    InputSpec("read_set_ids", _check_id_list, rule="a list of read set ID strings",
              hint=("read set IDs are 10 to 36 ASCII digits: correct or remove these "
                    "(`aws omics list-read-sets` lists a store's read sets)"), low=1, high=MAX_READ_SETS),
    InputSpec("region", _check_region, rule="an AWS Region name such as 'us-east-1'",
              hint="or leave it out to use aws:region", default=None),
    InputSpec("timeout_seconds", _check_seconds, rule="a number of seconds",
              hint="e.g. 21600 for 6 hours (read config with config.get_float or config.get_int)",
              default=DEFAULT_TIMEOUT_SECONDS, low=0, high=MAX_TIMEOUT_SECONDS,
              bounds=f"more than 0 and at most {MAX_TIMEOUT_SECONDS} seconds (7 days)"),
    InputSpec("max_concurrent_jobs", _check_count, rule="a whole number of jobs",
              hint="e.g. 20, the usual HealthOmics quota of concurrent activation jobs",
              default=DEFAULT_MAX_CONCURRENT_JOBS, low=1, high=MAX_CONCURRENT_JOBS_LIMIT,
              bounds=f"from 1 to {MAX_CONCURRENT_JOBS_LIMIT}"),
    InputSpec("check_live_status", _check_bool, rule="true or false (a boolean)",
              hint="read config with config.get_bool", default=True),
    InputSpec("resource_name", _check_name,
              rule=f"a non-empty string of at most {MAX_RESOURCE_NAME_CHARS} characters",
              hint="the ReadSetActivation class sets it from the resource's name",
              default=DEFAULT_RESOURCE_NAME, high=MAX_RESOURCE_NAME_CHARS),
)
#: What a required input's absence says (the fix).
_REQUIRED_HINTS = {
    "sequence_store_id": "the numeric ID of the sequence store, e.g. from `aws omics list-sequence-stores`",
    "read_set_ids": f"a list of 1 to {MAX_READ_SETS:,} read set IDs",
}

#: Inputs of ReadSetActivation, as property names in state.
INPUT_KEYS = tuple(spec.name for spec in INPUT_SPECS)
#: A change of these replaces the resource (``region``: the effective region, plan_diff).
REPLACE_KEYS = ("sequence_store_id", "region")
#: A change of only these is an update that makes no AWS call.
TUNING_KEYS = ("timeout_seconds", "max_concurrent_jobs", "check_live_status")


def validate_inputs(
    news: Mapping[str, Any], is_unknown: Callable[[Any], bool] = lambda v: False
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Validate and normalise ReadSetActivation inputs, one :class:`InputSpec` each.

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
            close = difflib.get_close_matches(key, INPUT_KEYS[:-1], n=1)
            guess = f"did you mean {close[0]!r}? " if close else ""
            failures.append((key, f"unknown input {key!r}; {guess}ReadSetActivation takes "
                                  f"{', '.join(INPUT_KEYS[:-1])}"))
    for spec in INPUT_SPECS:
        value = news.get(spec.name)
        if is_unknown(value):
            out[spec.name] = value
        elif value is None and spec.default is REQUIRED:
            failures.append((spec.name, f"is required: {_REQUIRED_HINTS[spec.name]}"))
        elif value is None:
            out[spec.name] = spec.default
        else:
            normalised, problem = spec.check(spec, value, is_unknown)
            if problem:
                failures.append((spec.name, problem))
            else:
                out[spec.name] = normalised
    return out, failures


@dataclass(frozen=True)
class ActivationInputs:
    """Validated, normalised inputs.

    ``read_set_ids`` is sorted and free of duplicates; ``timeout_seconds`` is seconds
    (float); ``region`` is ``None`` when the provider configuration decides (the provider
    replaces it by the effective region before any AWS call).
    """

    sequence_store_id: str
    read_set_ids: tuple[str, ...]
    region: Optional[str] = None
    timeout_seconds: float = float(DEFAULT_TIMEOUT_SECONDS)
    max_concurrent_jobs: int = DEFAULT_MAX_CONCURRENT_JOBS
    check_live_status: bool = True
    resource_name: str = DEFAULT_RESOURCE_NAME

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> ActivationInputs:
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


# -- diff -------------------------------------------------------------------------------
@dataclass(frozen=True)
class DiffPlan:
    """What diff decides from state and inputs, before any live status check.

    - ``replaces``: inputs whose change replaces the resource (keys of :data:`REPLACE_KEYS`).
    - ``reasons``: why, one phrase each (the provider prints ``replace: ...`` or
      ``update: ...``; the SDK's DiffResult has no field for it).
    - ``live_check``: whether diff should still ask HealthOmics (``check_live_status`` on,
      the read set list unchanged and known, and state records every read set ACTIVE); a
      live answer can only add an update reason.
    - ``region``: where the resource lives (its recorded region, else the new effective
      one): the live check's region.
    """

    replaces: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()
    live_check: bool = False
    region: Optional[str] = None


#: Status recorded for a read set that a state written before
#: ``not_active_read_set_statuses`` existed did not list.
NOT_RECORDED = "NOT_RECORDED"


def not_active_in_state(olds: Mapping[str, Any]) -> dict[str, str]:
    """Read sets whose last recorded status was not ACTIVE, ID -> status, from outputs.

    Outputs hold ``not_active_read_set_statuses``; state written by earlier versions holds
    the full ``read_set_statuses`` map instead, which is read the same way (an ID it lacks
    counts as not ACTIVE, :data:`NOT_RECORDED`).
    """
    stored = olds.get("not_active_read_set_statuses")
    if isinstance(stored, Mapping):
        return {str(k): str(v) for k, v in stored.items()}
    legacy = olds.get("read_set_statuses")
    if isinstance(legacy, Mapping):
        ids = olds.get("read_set_ids") or []
        return {rid: str(legacy.get(rid, NOT_RECORDED)) for rid in ids if legacy.get(rid) != "ACTIVE"}
    return {}


def plan_diff(olds: Mapping[str, Any], news: Mapping[str, Any], *, new_region: Optional[str],
              has_unknown: Callable[[Any], bool]) -> DiffPlan:
    """Decide diff from the old outputs and the new checked inputs (design.md section 2,
    rules 3, 5 and 7).

    :param olds: the previous outputs (the engine sends outputs as Diff's olds): the
        normalised inputs, ``region`` the region the resource lives in (recorded by create,
        update or refresh; None in state written before it was recorded), and the read sets
        not ACTIVE at the last look (:func:`not_active_in_state`).
    :param news: the checked inputs; values may be unknown in a preview.
    :param new_region: the effective region of ``news``, resolved by the caller as create
        would resolve it: the ``region`` input, else ``aws:region``, else boto3's chain; None
        when nothing names one.
    :param has_unknown: predicate for a value that is or holds a preview-time unknown.
    :returns: the :class:`DiffPlan`. A store change, or an effective region other than the
        recorded one, replaces (an unknown store or region may change: replace, as the
        engine previews what Diff answers); ``__provider`` and ``resource_name`` are ignored
        (rule 5); a changed or unknown other input, or a read set recorded as not ACTIVE,
        is an update. The live check is asked for only when every input is known (a
        preview with an unknown input makes no AWS call). A recorded region of None (older state) or a new region of None
        (nothing configured) never replaces: the resource stays where it was recorded.
    """
    recorded = olds.get("region") or None
    replaces: list[str] = []
    reasons: list[str] = []
    store = news.get("sequence_store_id")
    if has_unknown(store):
        replaces.append("sequence_store_id")
        reasons.append("sequence_store_id may change (not known yet)")
    elif store != olds.get("sequence_store_id"):
        replaces.append("sequence_store_id")
        reasons.append(f"sequence_store_id changed ({olds.get('sequence_store_id')} -> {store})")
    if has_unknown(news.get("region")):
        replaces.append("region")
        reasons.append("region may change (not known yet)")
    elif recorded and new_region and new_region != recorded:
        replaces.append("region")
        source = "region input" if news.get("region") else "provider configuration"
        reasons.append(f"region changed ({recorded} -> {new_region}, from the {source})")
    if replaces:
        return DiffPlan(tuple(replaces), tuple(reasons))
    candidates = [k for k in INPUT_KEYS if k not in REPLACE_KEYS and k != "resource_name"]
    unknown = [k for k in candidates if has_unknown(news.get(k))]
    changed = [k for k in candidates if k not in unknown and news.get(k) != olds.get(k)]
    if changed:
        reasons.append(f"{', '.join(changed)} changed")
    if unknown:
        reasons.append(f"{', '.join(unknown)} may change (not known yet)")
    live_check = False
    if "read_set_ids" not in changed and "read_set_ids" not in unknown:
        not_active = sorted(not_active_in_state(olds))
        ids = news.get("read_set_ids")
        if not_active:
            reasons.append(f"{len(not_active)} read set(s) not ACTIVE in state (e.g. {not_active[0]})")
        else:
            # A preview with an unknown input makes no AWS call (the engine previews
            # what Diff answers; the update itself re-reads every status anyway).
            live_check = not unknown and news.get("check_live_status") is True and bool(ids)
    return DiffPlan((), tuple(reasons), live_check, recorded or new_region)


# -- read sets, jobs, tokens --------------------------------------------------------------
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
        does not hold it. A status string :data:`STATUS_CLASS` does not know is waited for
        (:func:`status_class`): never activated by a job, never refused.
    """
    plan = ReadSetPlan()
    for rid in sorted(statuses):
        status = statuses[rid] or "NOT_FOUND"
        kind = status_class(status)
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
    """Deterministic resource ID ``rsa-<store>-<12 hex>`` of the resource's name, store and
    effective region; stable across updates (the read sets do not enter it)."""
    digest = hashlib.sha256(f"{resource_name}\0{sequence_store_id}\0{region or ''}".encode())
    return f"rsa-{sequence_store_id}-{digest.hexdigest()[:12]}"

