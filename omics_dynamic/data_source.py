"""The read set data source: :func:`get_read_sets` and its Output-returning twin
:func:`get_read_sets_output` return the read sets of a sequence store that match a
selection (sample IDs, subject IDs, name, file type, reference, creation window, status),
like pulumi-aws's ``get_*`` functions: plain functions called from a Pulumi program,
during preview and up.

They run in the Pulumi program's process (not in the provider), so they find region,
credentials and endpoint as the provider does (:meth:`ProviderSettings.from_config` over
the stack config ``aws:region``, ``aws:profile``, ``omics-dynamic:endpoint``, then the
AWS environment chain; :func:`~omics_dynamic.aws.make_client`), and call HealthOmics
through :class:`~omics_dynamic.aws.OmicsApi` as the provider does: paced by
``omics-dynamic:rateLimit`` (per operation family), listed with botocore's paginator
(:meth:`~omics_dynamic.aws.OmicsApi.read_set_pages`), errors translated with AWS's code,
request ID and hint (:func:`~omics_dynamic.aws.translate_error`). Which filters go to the
service and which are matched here is :mod:`omics_dynamic.selection`'s pure logic.

Time: one data source call takes at most ``omics-dynamic:dataSourceTimeout`` seconds
(:data:`~omics_dynamic.limits.DATA_SOURCE_TIMEOUT_S`, 600, by default) in all
(:class:`~omics_dynamic.errors.DataSourceTimeoutError`), and an endpoint no attempt could
connect to fails after :data:`~omics_dynamic.limits.UNREACHABLE_AT_START_S` at most
(``EndpointUnreachable``), as in the provider. Transient answers are retried by botocore
only (``omics-dynamic:maxAttempts``), then raised: a program fails as fast as before, never
later than the budget. While a call waits or a listing goes on, a line is logged to the
Pulumi CLI (``pulumi.log.info``) every :data:`~omics_dynamic.limits.HEARTBEAT_S` seconds.

Facts used (botocore's omics model ``2022-11-28``, ``ListReadSets``):

- ``ListReadSets`` returns at most 100 read sets per page (``maxResults`` 1-100).
- ``sequenceInformation`` (with ``totalBaseCount``) is optional in ``ReadSetListItem``
  (the AWS CLI's list-read-sets example has none), so ``total_base_count`` may be None.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import functools
from dataclasses import dataclass
from typing import Any, Mapping, Optional, Sequence

import pulumi

from . import messages
from .aws import ApiListener, Clock, MonotonicClock, OmicsApi, ProviderSettings, RateBudget, make_client
from .errors import BudgetExhaustedError, DataSourceTimeoutError, OmicsDynamicError
from .limits import HEARTBEAT_S
from .selection import Instant, ListingPlan, Selection, StrOrStrs, plan_listing, target_failures, validate_selection

__all__ = [
    "ReadSet",
    "GetReadSetsResult",
    "EmptySelectionError",
    "get_read_sets",
    "get_read_sets_output",
    "program_api",
    "list_read_sets",
    "select",
]

_UTC = _dt.timezone.utc


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


# --------------------------------------------------------------------------- results

@dataclass(frozen=True)
class ReadSet:
    """One read set of a selection, from its ListReadSets item (no extra call).

    - ``id``: read set ID (10-36 digits); ``arn``: its ARN
      (``arn:aws:omics:<region>:<account>:sequenceStore/<store>/readSet/<id>``).
    - ``name``, ``sample_id``, ``subject_id``, ``reference_arn``: as imported; None when
      the listing has none.
    - ``file_type``: FASTQ, BAM, CRAM or UBAM; ``status``: one of :data:`~omics_dynamic.selection.READ_SET_STATUSES`.
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


# --------------------------------------------------------------------------- listing

def _stack_config(key: str) -> Optional[str]:
    """``"namespace:name"`` -> the stack config value (``pulumi.Config``), or None."""
    namespace, _, name = key.partition(":")
    return pulumi.Config(namespace).get(name)


class _ProgramWatch(ApiListener):
    """A data source call's budget and its progress lines: while a call has no answer or a
    listing goes on, one line every :data:`HEARTBEAT_S` seconds (clock) at most, logged to
    the Pulumi CLI with ``pulumi.log.info`` (stderr outside an engine); a call answered in
    less says nothing. Set as the api's listener by :func:`program_api`."""

    def __init__(self, clock: Clock, timeout_s: float, region: str):
        self.clock = clock
        self.timeout_s = timeout_s
        self.region = region
        self.started_s = clock.now()
        self.store = ""
        self.pages = 0
        self._last_line_s = self.started_s

    def _say(self, news: str) -> None:
        now_s = self.clock.now()
        if now_s - self._last_line_s < HEARTBEAT_S:
            return
        self._last_line_s = now_s
        pulumi.log.info(messages.data_source_line(self.store, self.region, news, self.pages,
                                                  now_s - self.started_s, self.timeout_s))

    def on_waiting(self, operation: str, waited_real_s: float, last_failure: str = "") -> None:
        self._say(messages.data_source_no_answer(operation, waited_real_s, last_failure))

    def page_read(self) -> None:
        """One more ListReadSets page was answered."""
        self.pages += 1
        self._say(messages.DATA_SOURCE_STILL_LISTING)

    def timed_out(self, err: BudgetExhaustedError, api: OmicsApi) -> DataSourceTimeoutError:
        """The error for ``err``, the budget running out in ``api``'s call or between pages."""
        return DataSourceTimeoutError(
            err.operation, self.store, api.region, api.client.meta.endpoint_url, self.timeout_s,
            api.calls[err.operation], api.attempts, still_listing=not err.sent, waited_s=err.waited_s,
            last_attempt=err.last_attempt)


def program_api(region: Optional[str]) -> OmicsApi:
    """An :class:`~omics_dynamic.aws.OmicsApi` for the program's process: a new client for
    ``region`` (None: ``aws:region``, then boto3's chain) made as the provider makes it,
    on the real-time clock (sped up by ``omics-dynamic:timeScale``), paced at
    ``omics-dynamic:rateLimit`` requests per second per operation family (0: unpaced),
    bounded by ``omics-dynamic:dataSourceTimeout`` seconds from now
    (:data:`~omics_dynamic.limits.DATA_SOURCE_TIMEOUT_S` by default) for every call made
    through it, with transient answers retried by botocore only
    (:meth:`~omics_dynamic.aws.OmicsApi.bound`), and progress lines while it waits
    (:class:`_ProgramWatch`).

    :raises ConfigurationError: no Region, or a bad ``omics-dynamic:*`` setting.
    :raises CredentialsTimeoutError: credential resolution took longer than
        ``omics-dynamic:credentialsTimeout``.
    """
    settings = ProviderSettings.from_config(_stack_config)
    clock = MonotonicClock(settings.time_scale)
    api = OmicsApi(make_client(settings, region), clock, RateBudget(settings.rate_limit_per_s))
    watch = _ProgramWatch(clock, settings.data_source_timeout_s, api.region)
    api.listener = watch
    api.bound(watch.started_s + settings.data_source_timeout_s, retry_transient=False)
    return api


def _watch(api: OmicsApi) -> Optional[_ProgramWatch]:
    """``api``'s :class:`_ProgramWatch` (None for an api not made by :func:`program_api`)."""
    return api.listener if isinstance(api.listener, _ProgramWatch) else None


def list_read_sets(api: OmicsApi, store: str, read_set_filter: Mapping[str, Any],
                   max_pages: Optional[int] = None) -> tuple[list[dict], int, bool]:
    """The ListReadSets items of ``store`` under ``read_set_filter`` (a ``ReadSetFilter``,
    botocore's names): ``(items, pages, complete)``. With ``max_pages``, stops after that
    many pages when more remain (``complete`` False; no further call is made).

    :raises AwsCallError, ListingStuckError: as :meth:`~omics_dynamic.aws.OmicsApi.read_set_pages`.
    :raises BudgetExhaustedError: ``api``'s deadline passed: during a call, or before the
        next page was asked for (``sent`` False).
    """
    items: list[dict] = []
    pages = 0
    watch = _watch(api)
    for page in api.read_set_pages(store, read_set_filter=read_set_filter):
        pages += 1
        items.extend(page.items)
        if watch is not None:
            watch.page_read()
        if max_pages is not None and pages >= max_pages and page.next_token:
            return items, pages, False
        if page.next_token and api.deadline_s is not None and api.clock.now() >= api.deadline_s:
            raise BudgetExhaustedError("ListReadSets", 0.0, sent=False, endpoint_url=api.client.meta.endpoint_url)
    return items, pages, True


def _run_plan(api: OmicsApi, store: str, plan: ListingPlan) -> tuple[list[dict], int]:
    """Run a :class:`~omics_dynamic.selection.ListingPlan`: ``(items, calls)``. Items may
    hold more than the selection (filter them with :meth:`Selection.matches`) and repeat a
    read set.

    Fan-out over N values (N >= 2) costs either one listing of the store under the base
    filter (P pages) or N listings (one per value, usually one page each); P is not known
    in advance. So the store listing runs first for at most N pages: if it ends by then,
    it cost P <= N calls; otherwise it is dropped and the N per-value listings run, N + N
    calls in all. At most twice the cheaper of the two, whatever the store's size.
    """
    if plan.fan_out_key is None:
        items, calls, _ = list_read_sets(api, store, plan.base_filter)
        return items, calls
    items, calls, complete = list_read_sets(api, store, plan.base_filter, max_pages=len(plan.fan_out_values))
    if complete:
        return items, calls
    items = []
    for value in plan.fan_out_values:
        more, n, _ = list_read_sets(api, store, {**plan.base_filter, plan.fan_out_key: value})
        items.extend(more)
        calls += n
    return items, calls


def _to_read_set(item: Mapping[str, Any]) -> ReadSet:
    """A ListReadSets item (boto3 dict) as a :class:`ReadSet`."""
    total = (item.get("sequenceInformation") or {}).get("totalBaseCount")
    created = item["creationTime"]
    return ReadSet(
        id=item["id"], arn=item["arn"], name=item.get("name"), sample_id=item.get("sampleId"),
        subject_id=item.get("subjectId"), file_type=item["fileType"], status=item["status"],
        total_base_count=int(total) if total is not None else None,
        reference_arn=item.get("referenceArn"),
        creation_time=created.astimezone(_UTC) if isinstance(created, _dt.datetime) else created,
    )



def select(api: OmicsApi, sequence_store_id: str, sel: Selection, allow_empty: bool) -> GetReadSetsResult:
    """List ``sequence_store_id`` through ``api`` for a validated selection and keep the
    read sets it matches exactly (:func:`~omics_dynamic.selection.plan_listing`,
    :meth:`Selection.matches`), sorted by ID.

    :raises EmptySelectionError: nothing matches and ``allow_empty`` is false.
    :raises AwsCallError, ListingStuckError: a listing failed (:func:`list_read_sets`).
    :raises DataSourceTimeoutError: an api of :func:`program_api` ran out of its budget
        (another api's deadline raises BudgetExhaustedError).
    """
    watch = _watch(api)
    if watch is not None:
        watch.store = sequence_store_id
    try:
        items, calls = _run_plan(api, sequence_store_id, plan_listing(sel))
    except BudgetExhaustedError as err:
        if watch is None:
            raise
        raise watch.timed_out(err, api) from err
    chosen = {item["id"]: item for item in items if sel.matches(item)}
    read_sets = tuple(_to_read_set(chosen[rid]) for rid in sorted(chosen))
    if not read_sets and not allow_empty:
        raise EmptySelectionError(sequence_store_id, api.region, sel.describe(), calls)
    return GetReadSetsResult(sequence_store_id, api.region, read_sets, calls)


# --------------------------------------------------------------------------- the data source

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
    :param status: a read set status (:data:`~omics_dynamic.selection.READ_SET_STATUSES`)
        or a list of them, e.g. ``["ARCHIVED", "ACTIVE", "ACTIVATING"]`` for the read sets
        an activation can use.
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
    :raises AwsCallError: ListReadSets failed: AWS's code, message and request ID and a
        hint (:func:`~omics_dynamic.aws.translate_error`, as in the provider); code
        ``EndpointUnreachable`` when no attempt could connect for
        :data:`~omics_dynamic.limits.UNREACHABLE_AT_START_S` seconds.
    :raises DataSourceTimeoutError: the call took longer than ``omics-dynamic:dataSourceTimeout``
        seconds (default 600) in all, naming the endpoint, what was tried and the fix.
    :raises ListingStuckError: HealthOmics answered a nextToken the listing already gave.
    :raises ConfigurationError: no Region, or a bad ``omics-dynamic:*`` setting.
    :raises CredentialsTimeoutError: credentials were not resolved within
        ``omics-dynamic:credentialsTimeout`` seconds.

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
                             prior_failures=target_failures(sequence_store_id, region, allow_empty))
    return select(program_api(region), sequence_store_id, sel, allow_empty)


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


