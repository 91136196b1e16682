"""Selecting read sets, the pure part: checking selection arguments, matching ListReadSets
items, and planning the listings with the fewest calls. No IO: the data source that lists
a store is :mod:`omics_dynamic.data_source`, the sample sheet reader
:mod:`omics_dynamic.sample_sheet`.

Facts used (botocore's omics model ``2022-11-28``, ``ListReadSets`` / ``ReadSetFilter``;
the HealthOmics API reference pages API_ListReadSets.html and API_ReadSetFilter.html):

- ``ReadSetFilter`` has ``name``, ``status``, ``referenceArn``, ``createdAfter``,
  ``createdBefore``, ``sampleId``, ``subjectId``, ``generatedFrom``, ``creationType``, each
  a single value (one status, one sample ID per call). It has no file type: ``file_type``
  is matched on the listing (:meth:`Selection.matches`).
- The documentation says only "A name to filter on", "The filter's start date"...: whether
  ``name`` is an exact, prefix or case-insensitive match, and whether the creation bounds
  are inclusive, is not documented. So every server-side filter is applied again on the
  listing (exact match; inclusive bounds): the result is the same whichever way the
  service matches, except that a read set created exactly at a bound may be missing if
  the service treats the bounds as exclusive.
- ID rules: read set and sequence store IDs are 10-36 ASCII digits; sample and subject IDs
  and names are 1-127 characters of the pattern ``[\\p{L}\\p{M}\\p{Z}\\p{S}\\p{N}\\p{P}]+``
  (no control characters); ``referenceArn`` starts with ``arn:`` (at most 127).
"""

from __future__ import annotations

import datetime as _dt
import unicodedata
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence, Union

import botocore.loaders
import botocore.model

from .errors import OmicsDynamicError
from .limits import FILTER_TEXT_MAX_CHARS
from .planning import REGION_PATTERN, describe_value, id_problem

__all__ = [
    "Selection",
    "SelectionError",
    "validate_selection",
    "target_failures",
    "text_problem",
    "ListingPlan",
    "plan_listing",
    "FILE_TYPES",
    "READ_SET_STATUSES",
    "CREATION_TYPES",
    "StrOrStrs",
    "Instant",
]

# botocore's omics model from its data files: a loader reads no AWS profile or config file, so
# importing this module works whatever AWS_PROFILE or AWS_CONFIG_FILE names.
_MODEL = botocore.model.ServiceModel(botocore.loaders.create_loader().load_service_model("omics", "service-2"), "omics")
#: Read set file types (botocore's ``FileType`` enum).
FILE_TYPES: tuple[str, ...] = tuple(_MODEL.shape_for("FileType").enum)
#: Read set statuses (botocore's ``ReadSetStatus`` enum).
READ_SET_STATUSES: tuple[str, ...] = tuple(_MODEL.shape_for("ReadSetStatus").enum)
#: How read sets were created (botocore's ``CreationType`` enum).
CREATION_TYPES: tuple[str, ...] = tuple(_MODEL.shape_for("CreationType").enum)
_UTC = _dt.timezone.utc


# --------------------------------------------------------------------------- errors

class SelectionError(OmicsDynamicError, ValueError):
    """A selection argument is invalid; raised before any AWS call.

    ``failures`` holds ``(field, reason)`` pairs, each reason naming the value and the fix.
    """

    def __init__(self, failures: Sequence[tuple[str, str]]):
        self.failures = list(failures)
        super().__init__("invalid read set selection: "
                         + "; ".join(f"{field}: {reason}" for field, reason in self.failures))


# --------------------------------------------------------------------------- validation

@dataclass(frozen=True)
class Selection:
    """A validated selection. Each ``*s`` field is None (no filter) or a non-empty frozenset
    of accepted values; datetimes are timezone-aware UTC."""

    sample_ids: Optional[frozenset] = None
    subject_ids: Optional[frozenset] = None
    name: Optional[str] = None
    file_types: Optional[frozenset] = None
    reference_arn: Optional[str] = None
    created_after: Optional[_dt.datetime] = None
    created_before: Optional[_dt.datetime] = None
    statuses: Optional[frozenset] = None
    creation_type: Optional[str] = None
    generated_from: Optional[str] = None

    def matches(self, item: Mapping[str, Any]) -> bool:
        """Whether a ListReadSets item (boto3 dict) satisfies every criterion, exactly."""
        for values, key in ((self.sample_ids, "sampleId"), (self.subject_ids, "subjectId"),
                            (self.file_types, "fileType"), (self.statuses, "status")):
            if values is not None and item.get(key) not in values:
                return False
        if self.name is not None and item.get("name") != self.name:
            return False
        if self.reference_arn is not None and item.get("referenceArn") != self.reference_arn:
            return False
        if self.creation_type is not None and item.get("creationType") != self.creation_type:
            return False
        # The filter's generatedFrom is "Where the source originated"; the listing shows
        # sequenceInformation.generatedFrom, presumably the same value: checked when present.
        shown = (item.get("sequenceInformation") or {}).get("generatedFrom")
        if self.generated_from is not None and shown is not None and shown != self.generated_from:
            return False
        if self.created_after is not None or self.created_before is not None:
            created = item.get("creationTime")
            if not isinstance(created, _dt.datetime):
                return False
            if self.created_after is not None and created < self.created_after:
                return False
            if self.created_before is not None and created > self.created_before:
                return False
        return True

    def describe(self) -> str:
        """Readable text of the selection for messages, e.g. ``sample_ids=['S1', 'S2'], status='ARCHIVED'``."""
        parts = []
        for field, value in (("sample_ids", self.sample_ids), ("subject_ids", self.subject_ids),
                             ("name", self.name), ("file_type", self.file_types),
                             ("reference_arn", self.reference_arn),
                             ("created_after", self.created_after),
                             ("created_before", self.created_before), ("status", self.statuses),
                             ("creation_type", self.creation_type),
                             ("generated_from", self.generated_from)):
            if value is None:
                continue
            if isinstance(value, frozenset):
                shown = sorted(value)
                text = repr(shown) if len(shown) <= 5 else f"{shown[:5]!r} and {len(shown) - 5} more"
            elif isinstance(value, _dt.datetime):
                text = value.isoformat().replace("+00:00", "Z")
            else:
                text = repr(value)
            parts.append(f"{field}={text}")
        return ", ".join(parts) if parts else "the whole store (no filter)"


def text_problem(value: Any, what: str) -> Optional[str]:
    """Why ``value`` is not a valid sample ID / subject ID / name (a string of 1-127
    characters with no control character, the model's pattern), or None; ``what`` names
    the value in the reason (``"a sample ID"``)."""
    if not isinstance(value, str):
        return f"{what} must be a string, got {type(value).__name__} {describe_value(value)}"
    if not value:
        return f"{what} must not be empty"
    if len(value) > FILTER_TEXT_MAX_CHARS:
        return f"{what} must be at most {FILTER_TEXT_MAX_CHARS} characters, got {len(value)} ({describe_value(value)})"
    bad = next((c for c in value if unicodedata.category(c)[0] not in "LMZSNP"), None)
    if bad is not None:
        return f"{what} {describe_value(value)} holds the control character {bad!r}, which HealthOmics does not allow"
    return None


def _values(field: str, value: Any, what: str, problem, failures: list, single: str) -> Optional[frozenset]:
    """Validate a list-valued selection argument. A single string is one value when
    ``single`` is "ok", else refused with ``single`` as the fix (a string is a sequence of
    characters: ``sample_ids="S1"`` would otherwise mean samples 'S' and '1')."""
    if value is None:
        return None
    if isinstance(value, str):
        if single != "ok":
            failures.append((field, f"must be a list of {what}s, got the string {describe_value(value)}; {single}"))
            return None
        reason = problem(value)
        if reason:
            failures.append((field, reason))
            return None
        return frozenset([value])
    if isinstance(value, bytes) or not isinstance(value, (list, tuple, set, frozenset)):
        failures.append((field, f"must be a list of {what}s, got {type(value).__name__} {describe_value(value)}"))
        return None
    if not value:
        failures.append((field, f"is an empty list, which would select nothing; pass None to not filter by {what}"))
        return None
    indexed = isinstance(value, (list, tuple))
    bad = [(i, p) for i, p in ((i, problem(v)) for i, v in enumerate(value)) if p]
    if bad:
        shown = "; ".join((f"[{i}] " if indexed else "") + p for i, p in bad[:5])
        more = f" (and {len(bad) - 5} more)" if len(bad) > 5 else ""
        failures.append((field, f"{len(bad)} invalid value(s): {shown}{more}"))
        return None
    return frozenset(value)


def _enum_problem(allowed: Sequence[str], what: str):
    def problem(v: Any) -> Optional[str]:
        if isinstance(v, str) and v in allowed:
            return None
        hint = f" (did you mean {v.upper()!r}?)" if isinstance(v, str) and v.upper() in allowed else ""
        return f"{describe_value(v)} is not a {what}{hint}; use one of {', '.join(allowed)}"
    return problem


def _parse_instant(field: str, value: Any, failures: list) -> Optional[_dt.datetime]:
    """A datetime (naive = UTC), a date (midnight UTC) or an ISO-8601 string -> aware UTC."""
    if value is None:
        return None
    fix = ("pass a datetime, a date or an ISO-8601 string such as '2024-03-01' or "
           "'2024-03-01T12:00:00Z' (no offset means UTC)")
    parsed: Optional[_dt.datetime] = None
    if isinstance(value, _dt.datetime):
        parsed = value
    elif isinstance(value, _dt.date):
        parsed = _dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        text = value.strip()
        if text[-1:] in ("Z", "z"):
            text = text[:-1] + "+00:00"
        try:
            parsed = _dt.datetime.fromisoformat(text)
        except ValueError:
            failures.append((field, f"{describe_value(value)} is not an ISO-8601 date or time; {fix}"))
            return None
    else:
        failures.append((field, f"must be a date or time, got {type(value).__name__} {describe_value(value)}; {fix}"))
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_UTC)
    try:
        return parsed.astimezone(_UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+05:00 is in year 0 in UTC
        failures.append((field, f"{describe_value(value)} is outside the years 1-9999 once converted "
                                f"to UTC; {fix}"))
        return None


def validate_selection(
    *,
    sample_ids: Any = None,
    subject_ids: Any = None,
    name: Any = None,
    file_type: Any = None,
    reference_arn: Any = None,
    created_after: Any = None,
    created_before: Any = None,
    status: Any = None,
    creation_type: Any = None,
    generated_from: Any = None,
    prior_failures: Sequence[tuple[str, str]] = (),
) -> Selection:
    """Check and normalise selection arguments (pure; see :func:`get_read_sets`).

    :param prior_failures: ``(field, reason)`` pairs found by the caller (store, region),
        reported in the same error.
    :raises SelectionError: listing every bad argument with its value and the fix.
    """
    failures: list[tuple[str, str]] = list(prior_failures)
    samples = _values("sample_ids", sample_ids, "sample ID", lambda v: text_problem(v, "a sample ID"),
                      failures, "wrap a single sample ID in a list: sample_ids=['S1']")
    subjects = _values("subject_ids", subject_ids, "subject ID", lambda v: text_problem(v, "a subject ID"),
                       failures, "wrap a single subject ID in a list: subject_ids=['P1']")
    if name is not None:
        problem = text_problem(name, "the read set name")
        if problem:
            failures.append(("name", f"{problem}; pass the exact read set name, or None"))
    file_types = _values("file_type", file_type, "file type", _enum_problem(FILE_TYPES, "read set file type"),
                         failures, "ok")
    statuses = _values("status", status, "status", _enum_problem(READ_SET_STATUSES, "read set status"),
                       failures, "ok")
    if reference_arn is not None and (
        not isinstance(reference_arn, str) or not reference_arn.startswith("arn:")
        or len(reference_arn) > FILTER_TEXT_MAX_CHARS or len(reference_arn) < 5
    ):
        failures.append(("reference_arn", f"must be a genome reference ARN of at most {FILTER_TEXT_MAX_CHARS} "
                                          "characters, such as 'arn:aws:omics:us-east-1:111122223333:"
                                          f"referenceStore/1234567890/reference/1234567890', got "
                                          f"{describe_value(reference_arn)}"))
    if creation_type is not None:
        problem = _enum_problem(CREATION_TYPES, "read set creation type")(creation_type)
        if problem:
            failures.append(("creation_type", problem))
    if generated_from is not None:
        problem = text_problem(generated_from, "generated_from")
        if problem:
            failures.append(("generated_from", problem))
    after = _parse_instant("created_after", created_after, failures)
    before = _parse_instant("created_before", created_before, failures)
    if after is not None and before is not None and after > before:
        failures.append(("created_before", f"{before.isoformat()} is earlier than created_after "
                                           f"{after.isoformat()}; swap them"))
    if failures:
        raise SelectionError(failures)
    return Selection(sample_ids=samples, subject_ids=subjects, name=name, file_types=file_types,
                     reference_arn=reference_arn, created_after=after, created_before=before,
                     statuses=statuses, creation_type=creation_type, generated_from=generated_from)


# --------------------------------------------------------------------------- listing plan

@dataclass(frozen=True)
class ListingPlan:
    """How to list a selection with the fewest ListReadSets calls.

    ``base_filter``: the ``ReadSetFilter`` sent with every listing (every single-valued
    criterion the API can filter). ``fan_out_key`` / ``fan_out_values``: when sample or
    subject IDs have several values (the filter takes one), the criterion listed one value
    per listing if that turns out cheaper than one listing of the store (see
    :func:`omics_dynamic.data_source._run_plan`); None / () otherwise.
    """

    base_filter: Mapping[str, Any]
    fan_out_key: Optional[str] = None
    fan_out_values: tuple[str, ...] = ()


def plan_listing(sel: Selection) -> ListingPlan:
    """Split a selection into server-side filters and a fan-out (pure).

    - name, referenceArn, createdAfter/Before, creationType, generatedFrom, and status,
      sampleId, subjectId when they have one value, go into the filter.
    - Several statuses or file types: filtered on the listing (several statuses are at most
      7 listings; one listing costs the same when few read sets are excluded, and never
      lists a read set twice).
    - Several sample IDs, or several subject IDs: fan-out candidates; with both, the one
      with fewer values fans out and the other is filtered on the listing.
    """
    base: dict[str, Any] = {}
    if sel.name is not None:
        base["name"] = sel.name
    if sel.reference_arn is not None:
        base["referenceArn"] = sel.reference_arn
    if sel.created_after is not None:
        base["createdAfter"] = sel.created_after
    if sel.created_before is not None:
        base["createdBefore"] = sel.created_before
    if sel.statuses is not None and len(sel.statuses) == 1:
        base["status"] = next(iter(sel.statuses))
    if sel.creation_type is not None:
        base["creationType"] = sel.creation_type
    if sel.generated_from is not None:
        base["generatedFrom"] = sel.generated_from
    multi: list[tuple[int, str, tuple[str, ...]]] = []  # (number of values, filter key, values)
    for key, values in (("sampleId", sel.sample_ids), ("subjectId", sel.subject_ids)):
        if values is None:
            continue
        if len(values) == 1:
            base[key] = next(iter(values))
        else:
            multi.append((len(values), key, tuple(sorted(values))))
    if not multi:
        return ListingPlan(base)
    _, fan_out_key, fan_out_values = min(multi)
    return ListingPlan(base, fan_out_key, fan_out_values)


def target_failures(sequence_store_id: Any, region: Any, allow_empty: Any,
                     store_required: bool = True) -> list[tuple[str, str]]:
    """Problems of the arguments that say where to list and ``allow_empty``, as
    ``(field, reason)`` pairs (for :func:`validate_selection`'s ``prior_failures``).

    :param sequence_store_id: must be 10-36 digits; None is a problem only with
        ``store_required``.
    :param region: None, or a Region name (:data:`~omics_dynamic.planning.REGION_PATTERN`).
    :param allow_empty: must be a bool.
    """
    failures = []
    if sequence_store_id is not None or store_required:
        problem = id_problem(sequence_store_id)
        if problem:
            failures.append(("sequence_store_id", f"{problem}; use the numeric sequence store ID "
                                                  "(e.g. from `aws omics list-sequence-stores`)"))
    if region is not None and (not isinstance(region, str) or not REGION_PATTERN.fullmatch(region)):
        failures.append(("region", f"must be an AWS Region name such as 'us-east-1', got "
                                   f"{describe_value(region)}; or leave it out to use aws:region"))
    if not isinstance(allow_empty, bool):
        failures.append(("allow_empty", f"must be True or False, got {type(allow_empty).__name__} "
                                        f"{describe_value(allow_empty)}"))
    return failures


StrOrStrs = Union[str, Sequence[str]]
Instant = Union[_dt.datetime, _dt.date, str]
