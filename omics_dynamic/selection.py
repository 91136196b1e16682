"""Selecting read sets: a Pulumi-style data source and a sample sheet reader.

- :func:`get_read_sets` (and its Output-returning twin :func:`get_read_sets_output`)
  returns the read sets of a sequence store that match a selection (sample IDs, subject
  IDs, name, file type, reference, creation window, status), like pulumi-aws's ``get_*``
  functions: a plain function called from a Pulumi program, during preview and up.
- :func:`read_sample_sheet` reads a CSV or TSV sample sheet holding read set IDs, or
  sample IDs that it resolves to read set IDs through the store.

Both run in the Pulumi program's process (not in the provider), so they find region,
credentials and endpoint as the provider does (:meth:`ProviderSettings.from_config` over
the stack config ``aws:region``, ``aws:profile``, ``omics-dynamic:endpoint``, then the
AWS environment chain; :func:`~omics_dynamic.aws.make_client`).

Facts used (botocore's omics model ``2022-11-28``, ``ListReadSets`` / ``ReadSetFilter``;
the HealthOmics API reference pages API_ListReadSets.html and API_ReadSetFilter.html):

- ``ListReadSets`` returns at most 100 read sets per page (``maxResults`` 1-100); botocore's
  paginator follows ``nextToken``.
- ``ReadSetFilter`` has ``name``, ``status``, ``referenceArn``, ``createdAfter``,
  ``createdBefore``, ``sampleId``, ``subjectId``, ``generatedFrom``, ``creationType``, each
  a single value (one status, one sample ID per call). It has no file type: ``file_type``
  is filtered here, on the listing.
- The documentation says only "A name to filter on", "The filter's start date"...: whether
  ``name`` is an exact, prefix or case-insensitive match, and whether the creation bounds
  are inclusive, is not documented. So every server-side filter is applied again here on
  the listing (exact match; inclusive bounds): the result is the same whichever way the
  service matches, except that a read set created exactly at a bound may be missing if
  the service treats the bounds as exclusive.
- ``sequenceInformation`` (with ``totalBaseCount``) is optional in ``ReadSetListItem``
  (the AWS CLI's list-read-sets example has none), so ``total_base_count`` may be None.
- ID rules: read set and sequence store IDs are 10-36 ASCII digits; sample and subject IDs
  and names are 1-127 characters of the pattern ``[\\p{L}\\p{M}\\p{Z}\\p{S}\\p{N}\\p{P}]+``
  (no control characters); ``referenceArn`` starts with ``arn:`` (at most 127).
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import datetime as _dt
import difflib
import functools
import os
import unicodedata
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence, Union

import botocore.exceptions
import botocore.session
import pulumi

from .aws import MonotonicClock, ProviderSettings, RateBudget, make_client
from .errors import MESSAGE_LIST_LIMIT, AwsCallError, OmicsDynamicError
from .limits import FILTER_TEXT_MAX_CHARS, PAGE_SIZE, SUGGESTION_LISTING_PAGES, SUGGESTIONS_PER_VALUE
from .planning import REGION_PATTERN, describe_value, id_problem

__all__ = [
    "ReadSet",
    "GetReadSetsResult",
    "get_read_sets",
    "get_read_sets_output",
    "SampleSheet",
    "read_sample_sheet",
    "SelectionError",
    "EmptySelectionError",
    "SampleSheetError",
    "FILE_TYPES",
    "READ_SET_STATUSES",
    "CREATION_TYPES",
    "PAGE_SIZE",
]

_MODEL = botocore.session.get_session().get_service_model("omics")
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


class EmptySelectionError(OmicsDynamicError):
    """No read set of the store matches the selection (and ``allow_empty`` was false).

    ``sequence_store_id``, ``region``, ``selection`` (a readable text of the selection) and
    ``list_calls`` (ListReadSets calls made) say what was asked.
    """

    def __init__(self, sequence_store_id: str, region: str, selection: str, list_calls: int):
        self.sequence_store_id = sequence_store_id
        self.region = region
        self.selection = selection
        self.list_calls = list_calls
        super().__init__(
            f"no read set in sequence store {sequence_store_id} ({region}) matches {selection} "
            f"({list_calls} ListReadSets call(s)). Check the values (IDs, names and ARNs are "
            "matched exactly, case included) and the store and region, or pass "
            "allow_empty=True to accept an empty selection."
        )


class SampleSheetError(OmicsDynamicError, ValueError):
    """A sample sheet cannot be used: unreadable, no usable column, or bad rows.

    ``path`` is the file; ``problems`` holds ``(line, column, reason)`` triples (``line``
    1-based, ``None`` for problems of the whole file; ``column`` the header name or None).
    Every bad row is listed (up to 20 in the message), not only the first.
    """

    def __init__(self, path: str, problems: Sequence[tuple[Optional[int], Optional[str], str]]):
        self.path = path
        self.problems = list(problems)
        items = []
        for line, column, reason in self.problems:
            where = ", ".join(([f"line {line}"] if line is not None else [])
                              + ([f"column {column!r}"] if column is not None else []))
            items.append(f"{where}: {reason}" if where else reason)
        shown = items[:MESSAGE_LIST_LIMIT]
        more = len(items) - len(shown)
        super().__init__(f"sample sheet {path}: " + "; ".join(shown)
                         + (f"; and {more} more" if more else ""))


# --------------------------------------------------------------------------- results

@dataclass(frozen=True)
class ReadSet:
    """One read set of a selection, from its ListReadSets item (no extra call).

    - ``id``: read set ID (10-36 digits); ``arn``: its ARN
      (``arn:aws:omics:<region>:<account>:sequenceStore/<store>/readSet/<id>``).
    - ``name``, ``sample_id``, ``subject_id``, ``reference_arn``: as imported; None when
      the listing has none.
    - ``file_type``: FASTQ, BAM, CRAM or UBAM; ``status``: one of :data:`READ_SET_STATUSES`.
    - ``total_base_count``: bases (an int) from ``sequenceInformation.totalBaseCount``;
      None when the listing does not report it (the field is optional).
    - ``creation_time``: when it was created (timezone-aware, UTC).
    """

    id: str
    arn: str
    name: Optional[str]
    sample_id: Optional[str]
    subject_id: Optional[str]
    file_type: str
    status: str
    total_base_count: Optional[int]
    reference_arn: Optional[str]
    creation_time: _dt.datetime

    @property
    def account_id(self) -> str:
        """The AWS account ID that owns the read set (the fifth field of its ARN)."""
        return self.arn.split(":")[4]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``creation_time`` as ISO-8601 UTC ``...Z``), e.g. for
        ``pulumi.export`` or a sample sheet; keys are the attribute names."""
        out = dict(self.__dict__)
        out["creation_time"] = self.creation_time.astimezone(_UTC).isoformat().replace("+00:00", "Z")
        return out


@dataclass(frozen=True)
class GetReadSetsResult:
    """What :func:`get_read_sets` returns.

    - ``sequence_store_id``; ``region``: the Region the listing ran in (resolved).
    - ``read_sets``: the matching :class:`ReadSet` s, sorted by ID (the listing's order is
      not documented; sorting keeps Pulumi diffs stable).
    - ``list_calls``: ListReadSets calls made (pages read; botocore's retries not counted).
    """

    sequence_store_id: str
    region: str
    read_sets: tuple[ReadSet, ...]
    list_calls: int

    @property
    def ids(self) -> list[str]:
        """The read set IDs, sorted: pass them to ``ReadSetActivationArgs(read_set_ids=...)``."""
        return [rs.id for rs in self.read_sets]

    @property
    def total_base_count(self) -> int:
        """Sum of ``total_base_count`` (bases) over the read sets that report it; see
        :attr:`ids_without_base_count` for those that do not."""
        return sum(rs.total_base_count or 0 for rs in self.read_sets)

    @property
    def ids_without_base_count(self) -> list[str]:
        """IDs of the read sets whose listing has no ``sequenceInformation.totalBaseCount``."""
        return [rs.id for rs in self.read_sets if rs.total_base_count is None]


# --------------------------------------------------------------------------- validation (pure)

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


def _text_problem(value: Any, what: str) -> Optional[str]:
    """Why ``value`` is not a valid sample ID / subject ID / name (model pattern), or None."""
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
    return parsed.astimezone(_UTC)


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
    samples = _values("sample_ids", sample_ids, "sample ID", lambda v: _text_problem(v, "a sample ID"),
                      failures, "wrap a single sample ID in a list: sample_ids=['S1']")
    subjects = _values("subject_ids", subject_ids, "subject ID", lambda v: _text_problem(v, "a subject ID"),
                       failures, "wrap a single subject ID in a list: subject_ids=['P1']")
    if name is not None:
        problem = _text_problem(name, "the read set name")
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
        problem = _text_problem(generated_from, "generated_from")
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


# --------------------------------------------------------------------------- listing plan (pure)

@dataclass(frozen=True)
class ListingPlan:
    """How to list a selection with the fewest ListReadSets calls.

    ``base_filter``: the ``ReadSetFilter`` sent with every listing (every single-valued
    criterion the API can filter). ``fan_out_key`` / ``fan_out_values``: when sample or
    subject IDs have several values (the filter takes one), the criterion listed one value
    per listing if that turns out cheaper than one listing of the store (see
    :func:`_run_plan`); None / () otherwise.
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


# --------------------------------------------------------------------------- AWS side

_HINTS = {
    "AccessDeniedException": ("the credentials in use are not allowed omics:ListReadSets on sequence "
                              "store {store} in {region}; the IAM policy from "
                              "omics_dynamic.iam_policy() allows it"),
    "ResourceNotFoundException": "check sequence_store_id ({store}) and the region ({region})",
    "ThrottlingException": "throttled beyond botocore's retries: lower omics-dynamic:rateLimit or retry later",
}


def _aws_error(exc: Exception, store: str, region: str) -> AwsCallError:
    """An AwsCallError for a failed listing, keeping the AWS code and request ID."""
    if isinstance(exc, botocore.exceptions.ClientError):
        err = exc.response.get("Error", {})
        meta = exc.response.get("ResponseMetadata", {})
        code = err.get("Code", "Unknown")
        hint = _HINTS.get(code, "").format(store=store, region=region)
        return AwsCallError("ListReadSets", code, err.get("Message", str(exc)), meta.get("RequestId"),
                            meta.get("HTTPStatusCode"), hint)
    if isinstance(exc, botocore.exceptions.NoCredentialsError):
        return AwsCallError("ListReadSets", "NoCredentials", str(exc), None, None,
                            "Configure AWS credentials (environment, aws:profile or AWS_PROFILE, SSO, "
                            "or an instance role) for the process that runs the Pulumi program")
    if isinstance(exc, botocore.exceptions.PaginationError):
        return AwsCallError("ListReadSets", "PaginationError", str(exc), None, None,
                            "the service repeated a nextToken; retry later")
    return AwsCallError("ListReadSets", type(exc).__name__, str(exc), None, None,
                        "The request never got an answer after botocore's retries; check the "
                        "network and the endpoint")


def _pages(client, store: str, flt: Mapping[str, Any], max_calls: Optional[int] = None) -> tuple[list[dict], int, bool]:
    """List with botocore's paginator: ``(items, calls, complete)``; stops after
    ``max_calls`` pages when more remain (``complete`` False)."""
    kwargs: dict[str, Any] = {"sequenceStoreId": store, "PaginationConfig": {"PageSize": PAGE_SIZE}}
    if flt:
        kwargs["filter"] = dict(flt)
    items: list[dict] = []
    calls = 0
    for page in client.get_paginator("list_read_sets").paginate(**kwargs):
        calls += 1
        items.extend(page.get("readSets", []))
        if max_calls is not None and calls >= max_calls and page.get("nextToken"):
            return items, calls, False
    return items, calls, True


def _run_plan(client, store: str, plan: ListingPlan) -> tuple[list[dict], int]:
    """Run a :class:`ListingPlan`: ``(items, calls)``. Items may hold more than the
    selection (filter them with :meth:`Selection.matches`) and repeat a read set.

    Fan-out over N values (N >= 2) costs either one listing of the store under the base
    filter (P pages) or N listings (one per value, usually one page each); P is not known
    in advance. So the store listing runs first for at most N pages: if it ends by then,
    it cost P <= N calls; otherwise it is dropped and the N per-value listings run, N + N
    calls in all. At most twice the cheaper of the two, whatever the store's size.
    """
    if plan.fan_out_key is None:
        items, calls, _ = _pages(client, store, plan.base_filter)
        return items, calls
    items, calls, complete = _pages(client, store, plan.base_filter, max_calls=len(plan.fan_out_values))
    if complete:
        return items, calls
    items = []
    for value in plan.fan_out_values:
        more, n, _ = _pages(client, store, {**plan.base_filter, plan.fan_out_key: value})
        items.extend(more)
        calls += n
    return items, calls


def _close_samples(store: str, region: str, missing: Sequence[str]) -> dict[str, str]:
    """Sample ID -> ``"; did you mean 'S0001', 'S0010'?"`` for sheet samples the store has
    no read set for, from the sample IDs of the store's first
    :data:`SUGGESTION_LISTING_PAGES` listing pages (difflib's close matches, at most
    :data:`SUGGESTIONS_PER_VALUE` each, each value cut to 60 characters). Best effort: {}
    when the listing fails, and no entry for a sample with no close match. The read sets
    whose sample matched were listed already; this costs at most 10 more calls."""
    try:
        items, _calls, complete = _pages(_client(region), store, {}, max_calls=SUGGESTION_LISTING_PAGES)
    except Exception:  # a suggestion never replaces the error it decorates
        return {}
    known = sorted({str(it["sampleId"]) for it in items if it.get("sampleId")})
    scope = "" if complete else f" (among the sample IDs of the store's first {len(items):,} read sets)"
    out = {}
    for sample in missing:
        folded: dict[str, str] = {}
        for k in known:
            if k != sample:
                folded.setdefault(k.casefold(), k)  # case-insensitive: 'chrt-0007' finds 'CHRT-0007'
        close = [folded[c] for c in difflib.get_close_matches(sample.casefold(), list(folded),
                                                               n=SUGGESTIONS_PER_VALUE, cutoff=0.6)]
        if close:
            out[sample] = f"; did you mean {', '.join(describe_value(c) for c in close)}?{scope}"
    return out


def _stack_config(key: str) -> Optional[str]:
    """``"namespace:name"`` -> the stack config value (``pulumi.Config``), or None."""
    namespace, _, name = key.partition(":")
    return pulumi.Config(namespace).get(name)


def _client(region: Optional[str]):
    """A boto3 omics client as the provider makes it, paced by ``omics-dynamic:rateLimit``."""
    settings = ProviderSettings.from_config(_stack_config)
    client = make_client(settings, region)
    if settings.rate_limit_per_s > 0:
        budget, clock = RateBudget(settings.rate_limit_per_s), MonotonicClock(settings.time_scale)
        client.meta.events.register("before-call.omics.ListReadSets",
                                    lambda **_: budget.wait("ListReadSets", clock))
    return client


def _to_read_set(item: Mapping[str, Any]) -> ReadSet:
    total = (item.get("sequenceInformation") or {}).get("totalBaseCount")
    created = item["creationTime"]
    return ReadSet(
        id=item["id"], arn=item["arn"], name=item.get("name"), sample_id=item.get("sampleId"),
        subject_id=item.get("subjectId"), file_type=item["fileType"], status=item["status"],
        total_base_count=int(total) if total is not None else None,
        reference_arn=item.get("referenceArn"),
        creation_time=created.astimezone(_UTC) if isinstance(created, _dt.datetime) else created,
    )


def _target_failures(sequence_store_id: Any, region: Any, allow_empty: Any,
                     store_required: bool = True) -> list[tuple[str, str]]:
    """Problems of the arguments that say where to list (store, region) and ``allow_empty``."""
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


def _select(sequence_store_id: str, sel: Selection, region: Optional[str], allow_empty: bool) -> GetReadSetsResult:
    """List and filter (arguments already validated)."""
    client = _client(region)
    resolved_region = client.meta.region_name
    try:
        items, calls = _run_plan(client, sequence_store_id, plan_listing(sel))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
        raise _aws_error(exc, sequence_store_id, resolved_region) from exc
    chosen = {item["id"]: item for item in items if sel.matches(item)}
    read_sets = tuple(_to_read_set(chosen[rid]) for rid in sorted(chosen))
    if not read_sets and not allow_empty:
        raise EmptySelectionError(sequence_store_id, resolved_region, sel.describe(), calls)
    return GetReadSetsResult(sequence_store_id, resolved_region, read_sets, calls)


StrOrStrs = Union[str, Sequence[str]]
Instant = Union[_dt.datetime, _dt.date, str]


def get_read_sets(
    sequence_store_id: str,
    *,
    sample_ids: Optional[Sequence[str]] = None,
    subject_ids: Optional[Sequence[str]] = None,
    name: Optional[str] = None,
    file_type: Optional[StrOrStrs] = None,
    reference_arn: Optional[str] = None,
    created_after: Optional[Instant] = None,
    created_before: Optional[Instant] = None,
    status: Optional[StrOrStrs] = None,
    region: Optional[str] = None,
    allow_empty: bool = False,
    creation_type: Optional[str] = None,
    generated_from: Optional[str] = None,
) -> GetReadSetsResult:
    """The read sets of a sequence store that match every given criterion.

    A data source in pulumi-aws's ``get_*`` style: call it in a Pulumi program (it runs
    during preview and up, in the program's process) and pass ``result.ids`` to
    ``ReadSetActivationArgs(read_set_ids=...)``. Criteria left at None do not filter;
    list-valued ones accept any of their values.

    :param sequence_store_id: the store's ID, 10-36 digits.
    :param sample_ids: list of sample IDs (exact match; 1-127 characters each).
    :param subject_ids: list of subject IDs (exact match).
    :param name: read set name (exact match, case included).
    :param file_type: ``"FASTQ"``, ``"BAM"``, ``"CRAM"``, ``"UBAM"``, or a list of them.
    :param reference_arn: genome reference ARN (exact match).
    :param created_after, created_before: creation window, inclusive: a ``datetime``
        (naive means UTC), a ``date`` (midnight UTC at its start) or an ISO-8601 string.
    :param status: a read set status (:data:`READ_SET_STATUSES`) or a list of them, e.g.
        ``["ARCHIVED", "ACTIVE", "ACTIVATING"]`` for the read sets an activation can use.
    :param region: AWS Region; default ``aws:region``, then the AWS environment chain.
    :param allow_empty: return an empty result instead of raising EmptySelectionError.
    :param creation_type: ``"IMPORT"`` or ``"UPLOAD"`` (exact match).
    :param generated_from: "where the source originated", as given at import (sent to
        HealthOmics; checked again against ``sequenceInformation.generatedFrom`` when the
        listing shows one).
    :returns: :class:`GetReadSetsResult`: ``read_sets`` (tuple of :class:`ReadSet`,
        sorted by ID), ``ids``, ``total_base_count`` (bases), ``region``, ``list_calls``.
    :raises SelectionError: a bad argument (before any AWS call), naming it, its value
        and the fix.
    :raises EmptySelectionError: nothing matches and ``allow_empty`` is false.
    :raises AwsCallError: ListReadSets failed (AWS code and request ID kept).
    :raises ConfigurationError: no Region, or a bad ``omics-dynamic:*`` setting.

    Cost, in ListReadSets calls of up to 100 read sets each (``list_calls``):

    - name, reference_arn, created_after/before, creation_type, generated_from, one
      status, one sample ID and one subject ID are filtered by HealthOmics: one listing, ceil(matches / 100) calls (at least 1).
    - file_type, and several statuses, are filtered here on that listing: its cost is
      that of the listing without them.
    - N >= 2 sample IDs (or subject IDs; with both, the shorter list): the store listing
      (P pages) if P <= N, else N probe calls plus one listing per ID: at most
      min(P, 2N) + (pages beyond the first of any ID with over 100 read sets).
    """
    sel = validate_selection(sample_ids=sample_ids, subject_ids=subject_ids, name=name,
                             file_type=file_type, reference_arn=reference_arn,
                             created_after=created_after, created_before=created_before,
                             status=status, creation_type=creation_type,
                             generated_from=generated_from,
                             prior_failures=_target_failures(sequence_store_id, region, allow_empty))
    return _select(sequence_store_id, sel, region, allow_empty)


def get_read_sets_output(
    sequence_store_id: pulumi.Input[str],
    *,
    sample_ids: Optional[pulumi.Input[Sequence[pulumi.Input[str]]]] = None,
    subject_ids: Optional[pulumi.Input[Sequence[pulumi.Input[str]]]] = None,
    name: Optional[pulumi.Input[str]] = None,
    file_type: Optional[pulumi.Input[Any]] = None,
    reference_arn: Optional[pulumi.Input[str]] = None,
    created_after: Optional[pulumi.Input[Any]] = None,
    created_before: Optional[pulumi.Input[Any]] = None,
    status: Optional[pulumi.Input[Any]] = None,
    region: Optional[pulumi.Input[str]] = None,
    allow_empty: pulumi.Input[bool] = False,
    creation_type: Optional[pulumi.Input[str]] = None,
    generated_from: Optional[pulumi.Input[str]] = None,
) -> pulumi.Output[GetReadSetsResult]:
    """:func:`get_read_sets` over ``pulumi.Input`` arguments: an ``Output[GetReadSetsResult]``.

    The listing runs once every argument is known (during preview too, when they are;
    an unknown argument makes the result unknown in preview), in a worker thread so the
    program's event loop keeps going. Attribute access lifts: ``result.ids`` is an
    ``Output[list[str]]``. Errors are those of :func:`get_read_sets`, raised when the
    Output resolves (the program fails).
    """
    args = pulumi.Output.all(
        sequence_store_id=sequence_store_id, sample_ids=sample_ids, subject_ids=subject_ids,
        name=name, file_type=file_type, reference_arn=reference_arn, created_after=created_after,
        created_before=created_before, status=status, region=region, allow_empty=allow_empty,
        creation_type=creation_type, generated_from=generated_from,
    )

    def run(values: dict) -> Any:
        # asyncio.to_thread copies the context: the stack config lives in a ContextVar.
        store = values.pop("sequence_store_id")
        return asyncio.to_thread(functools.partial(get_read_sets, store, **values))

    return args.apply(run)


# --------------------------------------------------------------------------- sample sheets

#: Header names recognised without being named (compared lowercased, without ``_ -`` and spaces).
READ_SET_ID_HEADERS = ("readsetid", "readset")
SAMPLE_ID_HEADERS = ("sampleid", "sample")
_DELIMITERS = {".csv": ",", ".tsv": "\t", ".tab": "\t"}


@dataclass(frozen=True)
class SampleSheet:
    """What :func:`read_sample_sheet` returns.

    - ``path``; ``column``: the header of the column used; ``kind``: ``"read_set_id"`` or
      ``"sample_id"``; ``delimiter``: ``","`` or ``"\\t"`` (or the one given).
    - ``read_set_ids``: the read set IDs, deduplicated, in sheet order (for sample sheets:
      sample by sample in sheet order, each sample's read sets by ID).
    - ``samples``: sample ID -> tuple of its read set IDs (sorted), in sheet order; empty
      for a sheet of read set IDs.
    - ``read_sets``: the :class:`ReadSet` s the samples resolved to (same order as
      ``read_set_ids``); empty for a sheet of read set IDs (no AWS call is made).
    - ``list_calls``: ListReadSets calls made (0 for a sheet of read set IDs).
    """

    path: str
    column: str
    kind: str
    delimiter: str
    read_set_ids: tuple[str, ...]
    samples: Mapping[str, tuple[str, ...]]
    read_sets: tuple[ReadSet, ...] = ()
    list_calls: int = 0


def _norm_header(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum())


def _find_column(path: str, header: list[str], read_set_id_column: Optional[str],
                 sample_id_column: Optional[str]) -> tuple[int, str]:
    """``(index, kind)`` of the column to read, or SampleSheetError naming the header."""
    shown = ", ".join(repr(h) for h in header)
    named = read_set_id_column if read_set_id_column is not None else sample_id_column
    if named is not None:
        kind = "read_set_id" if read_set_id_column is not None else "sample_id"
        if named not in header:
            raise SampleSheetError(path, [(1, None, f"no column {named!r} "
                                                    f"({kind}_column); the header has {shown}")])
        return header.index(named), kind
    for kind, aliases in (("read_set_id", READ_SET_ID_HEADERS), ("sample_id", SAMPLE_ID_HEADERS)):
        found = [i for i, h in enumerate(header) if _norm_header(h) in aliases]
        if len(found) > 1:
            raise SampleSheetError(path, [(1, None, f"columns {', '.join(repr(header[i]) for i in found)} "
                                                    f"all look like {kind.replace('_', ' ')} columns; "
                                                    f"name one with {kind}_column=...")])
        if found:
            return found[0], kind
    raise SampleSheetError(path, [(1, None, f"no read set ID or sample ID column: the header has "
                                            f"{shown}; name a column `read_set_id` or `sample_id` "
                                            "(or readSetId, sampleId, sample), or pass "
                                            "read_set_id_column=... or sample_id_column=..."
                                            + ("; if the file separates fields with ';', pass "
                                               "delimiter=';'" if len(header) == 1 and ";" in header[0] else ""))])


def _read_rows(path: str, delimiter: Optional[str]) -> tuple[str, list[tuple[int, list[str]]]]:
    """``(delimiter, [(line, cells), ...])`` of the non-blank rows, header first."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            text = handle.read()
    except OSError as exc:
        raise SampleSheetError(path, [(None, None, f"cannot be read ({exc.strerror or exc}); check the path")]) from None
    except UnicodeDecodeError as exc:
        raise SampleSheetError(path, [(None, None, f"is not UTF-8 text ({exc.reason} at byte "
                                                   f"{exc.start}); save it as UTF-8 CSV or TSV")]) from None
    if delimiter is None:
        delimiter = _DELIMITERS.get(os.path.splitext(path)[1].lower())
    if delimiter is None:
        first = next((line for line in text.splitlines() if line.strip()), "")
        delimiter = "\t" if "\t" in first else ","
    rows = []
    reader = csv.reader(text.splitlines(keepends=True), delimiter=delimiter, strict=True)
    try:
        for cells in reader:
            if any(c.strip() for c in cells):
                rows.append((reader.line_num, [c.strip() for c in cells]))
    except csv.Error as exc:
        raise SampleSheetError(path, [(reader.line_num, None, f"not valid CSV/TSV ({exc}); check the quotes")]) from None
    return delimiter, rows


def read_sample_sheet(
    path: Union[str, os.PathLike[str]],
    *,
    sequence_store_id: Optional[str] = None,
    read_set_id_column: Optional[str] = None,
    sample_id_column: Optional[str] = None,
    status: Optional[StrOrStrs] = None,
    file_type: Optional[StrOrStrs] = None,
    region: Optional[str] = None,
    delimiter: Optional[str] = None,
    allow_empty: bool = False,
) -> SampleSheet:
    """Read the read set IDs of a cohort from a CSV or TSV sample sheet.

    The file: UTF-8 (a byte-order mark is fine), a header row, one row per read set or
    sample; other columns are ignored; blank rows are skipped; cells are stripped of
    spaces; duplicate IDs are fine (deduplicated). Fields are separated by ``,`` for
    ``.csv``, by a tab for ``.tsv`` / ``.tab``, otherwise by a tab if the header line has
    one, else ``,``; ``delimiter`` overrides.

    The column: ``read_set_id_column`` or ``sample_id_column`` names it; otherwise the
    header is searched (case, ``_``, ``-`` and spaces ignored) for a read set ID column
    (``read_set_id``, ``readSetId``, ``read_set``) and then a sample ID column
    (``sample_id``, ``sampleId``, ``sample``). A read set ID column wins over a sample one.

    - Read set IDs (10-36 digits): returned as they are; no AWS call (ReadSetActivation
      checks them against the store itself). ``status`` / ``file_type`` are refused here.
    - Sample IDs: resolved through the store (``sequence_store_id`` required) with
      :func:`get_read_sets` (``sample_ids`` = the sheet's samples, plus ``status`` and
      ``file_type``): one listing of the store or one per sample, whichever is cheaper,
      at most twice the cheaper (see get_read_sets). Each sample must resolve to at least
      one read set.

    :returns: :class:`SampleSheet` (``read_set_ids``, ``samples``, ``read_sets``...).
    :raises SampleSheetError: unreadable file, no usable column, or bad rows: every bad
        row named by line and column (an empty ID, a read set ID that is not 10-36 digits,
        a sample ID HealthOmics cannot hold, a sample with no read set in the store), or a
        sheet with no row (unless ``allow_empty``).
    :raises SelectionError: bad arguments (e.g. sample IDs without ``sequence_store_id``).
    :raises AwsCallError, ConfigurationError: as :func:`get_read_sets`.
    """
    path = os.fspath(path)
    prior = _target_failures(sequence_store_id, region, allow_empty, store_required=False)
    if read_set_id_column is not None and sample_id_column is not None:
        prior.append(("read_set_id_column", "give read_set_id_column or sample_id_column, not both"))
    base = validate_selection(status=status, file_type=file_type, prior_failures=prior)
    used, rows = _read_rows(path, delimiter)
    if not rows:
        raise SampleSheetError(path, [(None, None, "is empty: it needs a header row and one row per read set or sample")])
    header_line, header = rows[0]
    index, kind = _find_column(path, header, read_set_id_column, sample_id_column)
    column = header[index]
    first_line: dict[str, int] = {}
    problems: list[tuple[Optional[int], Optional[str], str]] = []
    for line, cells in rows[1:]:
        value = cells[index] if index < len(cells) else ""
        if not value:
            problems.append((line, column, f"empty {kind.replace('_', ' ')}"))
            continue
        problem = id_problem(value) if kind == "read_set_id" else _text_problem(value, "a sample ID")
        if problem:
            what = "read set ID " if kind == "read_set_id" else ""
            problems.append((line, column, f"{what}{problem}"))
            continue
        first_line.setdefault(value, line)
    if problems:
        raise SampleSheetError(path, problems)
    if not first_line and not allow_empty:
        raise SampleSheetError(path, [(header_line, column, "the sheet has a header but no rows; "
                                                            "pass allow_empty=True to accept that")])
    values = tuple(first_line)
    if kind == "read_set_id":
        given = [f for f, v in (("status", status), ("file_type", file_type)) if v is not None]
        if given:
            raise SelectionError([(given[0], f"applies only to sheets of sample IDs; {path} lists read "
                                             f"set IDs (column {column!r}), which are used as they are")])
        return SampleSheet(path, column, kind, used, values, {})
    if sequence_store_id is None:
        raise SelectionError([("sequence_store_id", f"is required to resolve the sample IDs of {path} "
                                                    f"(column {column!r}) to read sets")])
    if not values:
        return SampleSheet(path, column, kind, used, (), {})
    sel = dataclasses.replace(base, sample_ids=frozenset(values))
    result = _select(sequence_store_id, sel, region, allow_empty=True)
    by_sample: dict[str, list[ReadSet]] = {}
    for rs in result.read_sets:
        if rs.sample_id is not None:  # the listing filtered on sampleId; only values are looked up
            by_sample.setdefault(rs.sample_id, []).append(rs)
    missing = [s for s in values if s not in by_sample]
    if missing:
        conditions = [f"{what} {' or '.join(sorted(accepted))}" for what, accepted in
                      (("status", sel.statuses), ("file type", sel.file_types)) if accepted]
        cond = " with " + " and ".join(conditions) if conditions else ""
        close = _close_samples(sequence_store_id, result.region, missing[:MESSAGE_LIST_LIMIT])
        raise SampleSheetError(path, [
            (first_line[s], column, f"sample {s!r} has no read set{cond} in sequence store "
                                    f"{sequence_store_id} ({result.region})" + close.get(s, ""))
            for s in missing
        ])
    ordered = tuple(rs for s in values for rs in by_sample[s])
    return SampleSheet(path, column, kind, used, tuple(rs.id for rs in ordered),
                       {s: tuple(rs.id for rs in by_sample[s]) for s in values}, ordered, result.list_calls)
