"""Behaviour profiles: the emulator's answers where AWS's public documentation is silent.

A :class:`Behaviour` is a frozen set of choices; :data:`PROFILES` names the variants
the provider must converge under. ``Emulator(profile="paging")``,
``emulator.set_profile("lagging")``, CLI ``--profile NAME``, admin API ``POST
/_emulator/profile``. The backend asks the active behaviour at the moment a decision is
made (a listing page, a start call, a job starting, a source finishing), so a profile
set while jobs run applies from the next request or event on.

For each choice: what AWS documents, and what it leaves open. Sources (collected and
checked in ``/work/shared/healthomics-facts.md``): botocore's service model
``omics/2022-11-28`` (shapes, enums, errors, paginators), the HealthOmics developer
guide (``dev/activating-read-sets.html``, ``dev/sequence-stores.html``) and API
reference (``api/API_ListReadSets.html``, ``API_StartReadSetActivationJob.html``), and
the AWS CLI's examples (``awscli/examples/omics/*.rst``).

``page_size`` / ``list_order`` / ``empty_pages`` (every list operation)
    Documented: ``maxResults`` is 1-100 and is "the maximum number of read sets to
    return in one page"; ``nextToken`` is opaque (up to 6,144 characters) and is passed
    back unchanged (model; API_ListReadSets). botocore's paginators
    (``paginators-1.json``) follow ``nextToken`` until it is absent. Open: the sort
    order, how long a token lives, and whether a page may hold fewer items than
    ``maxResults`` (or none) while a ``nextToken`` says more follow (facts 7: "Sort
    order and nextToken lifetime: not documented"). ``page_size`` caps every page at
    that many items whatever ``maxResults`` says; ``list_order`` is ``"creation"``
    (creationTime then ID, ascending), ``"id-desc"`` (ID, descending as a number) or
    ``"shuffled"`` (a stable permutation seeded by the store: a hash of store ID and
    item ID, so items added later interleave and a walk stays consistent);
    ``empty_pages`` answers that many empty pages, each with a new ``nextToken``,
    before every page of items (so before the first item and between pages; an empty
    listing answers them too, then a last empty page without token).

``reused_token`` (StartReadSetActivationJob ``clientToken``)
    Documented: 1-127 characters, "To ensure that jobs don't run multiple times,
    specify a unique token for each job" (model). It is not marked
    ``idempotencyToken``, so SDKs do not fill it in. Open: what a reused token does
    (facts 4). ``ConflictException`` (409) is a shape of the model ("The request
    cannot be applied to the target resource in its current state") but the model
    does not list it among StartReadSetActivationJob's errors; boto3 still raises
    ``client.exceptions.ConflictException`` for it. The choices, applied while the
    token is remembered (24 emulated hours after the job it started was created;
    afterwards every choice starts a new job and remembers the token for it):

    * ``"old-job"``: the same set of read set IDs (any order) answers the existing
      job, whatever its status; other sources answer 400 ValidationException naming
      that job.
    * ``"conflict"``: any reuse answers 409 ConflictException "clientToken '<t>' was
      already used: token already used; use a new clientToken" (no job ID).
    * ``"mismatch"``: any reuse answers 400 ValidationException "clientToken '<t>'
      was already used for another request; use a new clientToken" (no job ID).
    * ``"ignored"``: tokens are not checked; every call starts a new job.

``sources_while_submitted`` (GetReadSetActivationJob)
    Documented: ``sources`` is an optional member of the response (model); the CLI
    example shows a finished job's sources. Open: whether a SUBMITTED job lists its
    sources. ``"listed"``: every source, ``NOT_STARTED``; ``"empty"``: ``sources: []``
    until the job leaves SUBMITTED (also while a cancelled job is still queued:
    CANCELLING/CANCELLED jobs that never started list their sources again).

``non_archived_source`` (a source whose read set is ACTIVE or ACTIVATING when the job starts)
    Documented by example only: the CLI example ``get-read-set-activation-job.rst``
    shows such a source ``FINISHED`` with "No activation needed as read set is already
    in ACTIVATING or ACTIVE state." and the job COMPLETED. Not in the API reference.
    ``"finished"``: FINISHED, "Read set is already <STATUS>; no activation needed"
    (the emulator's own wording, not the example's); ``"failed"``: FAILED, "read set is <STATUS>;
    only ARCHIVED read sets can be activated". Read sets in other statuses (DELETED,
    UPLOAD_FAILED, ...) fail under both choices.

``activating_lag_s`` (emulated seconds)
    Documented: read set statuses ARCHIVED, ACTIVATING, ACTIVE (model; dev guide
    activating-read-sets.html) and source statuses. Open: whether a read set is ACTIVE
    the moment its source is FINISHED. With a lag L > 0 the source is FINISHED ("Read
    set activated") and the job may end COMPLETED while the read set stays ACTIVATING
    for L more seconds, then becomes ACTIVE (unless something else changed it
    meanwhile).

``transitional_status`` / ``transitional_s`` (a read set status nobody documented)
    Documented: ``ReadSetStatus`` is ARCHIVED, ACTIVATING, ACTIVE, DELETING, DELETED,
    PROCESSING_UPLOAD, UPLOAD_FAILED (model). Open: whether the service ever answers
    another value (an enum grows; botocore does not check enums in answers). With
    ``transitional_s`` T > 0 a read set whose activation ended (after ``activating_lag_s``)
    reads ``transitional_status`` (default ``"FINALIZING"``) for T more emulated seconds,
    then ACTIVE (unless something else changed it meanwhile). ListReadSets' ``filter.status``
    is validated against the model's enum, so no status listing can ask for it.

``job_visible_after_s`` (emulated seconds; GetReadSetActivationJob)
    Documented: GetReadSetActivationJob answers ResourceNotFoundException (404) for a job
    it does not know (model). Open: whether a job just created is known at once. Other
    AWS services answer "not found" for a short while after a create (read-after-create
    lag). With V > 0, GetReadSetActivationJob answers 404 "Read set activation job J not
    found" for a job younger than V emulated seconds (ListReadSetActivationJobs and
    StartReadSetActivationJob's answers show it at once).

Named profiles (:data:`PROFILES`): ``"default"`` (every choice at its default value,
``Behaviour()``), ``"token-conflict"``, ``"token-mismatch"``, ``"token-ignored"``,
``"paging"`` (page_size 7, list_order shuffled, empty_pages 2), ``"lagging"``
(sources_while_submitted empty, non_archived_source failed, activating_lag_s 30),
``"finalizing"`` (transitional_s 30: FINALIZING for 30 s after each activation) and
``"eventual"`` (job_visible_after_s 10).
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from typing import Any, Callable, Dict, Mapping, Optional, Tuple, Union

from . import exceptions as exc

__all__ = ["Behaviour", "PROFILES", "resolve_profile", "LIST_ORDERS", "REUSED_TOKEN_CHOICES"]

LIST_ORDERS: Tuple[str, ...] = ("creation", "id-desc", "shuffled")
REUSED_TOKEN_CHOICES: Tuple[str, ...] = ("old-job", "conflict", "mismatch", "ignored")
SOURCES_WHILE_SUBMITTED_CHOICES: Tuple[str, ...] = ("listed", "empty")
NON_ARCHIVED_SOURCE_CHOICES: Tuple[str, ...] = ("finished", "failed")


def _shuffle_rank(scope: str, item_id: str) -> int:
    digest = hashlib.blake2b(f"{scope}/{item_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


@dataclass(frozen=True)
class Behaviour:
    """The emulator's choice for each behaviour the public docs leave open.

    See the module docstring for each field's meaning and sources.

    :ivar page_size: at most this many items per page of every list call (None: up to
        ``maxResults``, default 100).
    :ivar list_order: ``"creation"``, ``"id-desc"`` or ``"shuffled"``.
    :ivar empty_pages: empty pages (with a nextToken) answered before every page of items.
    :ivar reused_token: ``"old-job"``, ``"conflict"``, ``"mismatch"`` or ``"ignored"``.
    :ivar sources_while_submitted: ``"listed"`` or ``"empty"``.
    :ivar non_archived_source: ``"finished"`` or ``"failed"``.
    :ivar activating_lag_s: emulated seconds a read set stays ACTIVATING after its
        source FINISHED.
    :ivar transitional_status: the undocumented status a read set reads for
        ``transitional_s`` emulated seconds after its activation ended, before ACTIVE.
    :ivar transitional_s: emulated seconds in ``transitional_status`` (0: none).
    :ivar job_visible_after_s: emulated seconds after its creation during which
        GetReadSetActivationJob answers ResourceNotFoundException for a job.
    :raises ValueError: on an unknown choice or an out-of-range number, naming the field.
    """

    page_size: Optional[int] = None
    list_order: str = "creation"
    empty_pages: int = 0
    reused_token: str = "old-job"
    sources_while_submitted: str = "listed"
    non_archived_source: str = "finished"
    activating_lag_s: float = 0.0
    transitional_status: str = "FINALIZING"
    transitional_s: float = 0.0
    job_visible_after_s: float = 0.0

    def __post_init__(self) -> None:
        ps = self.page_size
        if ps is not None and (isinstance(ps, bool) or not isinstance(ps, int) or ps < 1):
            raise ValueError(f"page_size must be an integer >= 1 or None (maxResults decides), got {ps!r}")
        if isinstance(self.empty_pages, bool) or not isinstance(self.empty_pages, int) or self.empty_pages < 0:
            raise ValueError(f"empty_pages must be an integer >= 0, got {self.empty_pages!r}")
        for name, choices in (
            ("list_order", LIST_ORDERS),
            ("reused_token", REUSED_TOKEN_CHOICES),
            ("sources_while_submitted", SOURCES_WHILE_SUBMITTED_CHOICES),
            ("non_archived_source", NON_ARCHIVED_SOURCE_CHOICES),
        ):
            value = getattr(self, name)
            if value not in choices:
                raise ValueError(f"{name} must be one of {', '.join(repr(c) for c in choices)}, got {value!r}")
        for name in ("activating_lag_s", "job_visible_after_s", "transitional_s"):
            lag = getattr(self, name)
            if isinstance(lag, bool) or not isinstance(lag, (int, float)) or not 0 <= lag < float("inf"):
                raise ValueError(f"{name} must be a finite number of emulated seconds >= 0, got {lag!r}")
        if not isinstance(self.transitional_status, str) or not self.transitional_status:
            raise ValueError(f"transitional_status must be a non-empty string, got {self.transitional_status!r}")

    # ------------------------------------------------------------ listings

    def page_limit(self, max_results: Optional[int]) -> int:
        """Items on one page: ``maxResults`` (default 100) capped by :attr:`page_size`."""
        limit = max_results or 100
        return min(limit, self.page_size) if self.page_size is not None else limit

    def order_key(self, scope: str) -> Callable[[Any], tuple]:
        """The sort key of a listing's items (records with ``creation_time_s`` and ``id``).

        :param scope: the listing's scope (e.g. the store ID): seeds ``"shuffled"``.
        :returns: a function item -> tuple of JSON-encodable values (it goes into
            nextToken), ascending in listing order.
        """
        if self.list_order == "id-desc":
            return lambda it: (-int(it.id), it.id)
        if self.list_order == "shuffled":
            return lambda it: (_shuffle_rank(scope, it.id), it.id)
        return lambda it: (it.creation_time_s, it.id)

    # ------------------------------------------------------------ jobs

    @property
    def checks_tokens(self) -> bool:
        """Whether StartReadSetActivationJob looks its clientToken up at all."""
        return self.reused_token != "ignored"

    def reused_token_answer(self, token: str, job_id: str, same_sources: bool) -> None:
        """Decide a start call whose ``token`` is remembered for job ``job_id``; returns
        (None) when the old job is the answer (``"old-job"`` with the same sources).

        :param same_sources: the call names the same set of read set IDs as that job.
        :raises ConflictException: ``"conflict"``.
        :raises ValidationException: ``"mismatch"``, or ``"old-job"`` with other sources.
        """
        if self.reused_token == "conflict":
            raise exc.ConflictException(f"clientToken {token!r} was already used: token already used; use a new clientToken")
        if self.reused_token == "mismatch":
            raise exc.ValidationException(f"clientToken {token!r} was already used for another request; use a new clientToken")
        if not same_sources:
            raise exc.ValidationException(
                f"clientToken {token!r} was already used for job {job_id} with other sources; "
                "use a new clientToken for a different set of read sets")

    def source_outcome_not_archived(self, read_set_status: str) -> Tuple[str, str]:
        """``(source status, message)`` of a source whose read set is ACTIVE or ACTIVATING
        when its job starts."""
        if self.non_archived_source == "failed":
            return "FAILED", f"read set is {read_set_status}; only ARCHIVED read sets can be activated"
        return "FINISHED", f"Read set is already {read_set_status}; no activation needed"

    def lists_sources(self, job_status: str, started: bool) -> bool:
        """Whether GetReadSetActivationJob lists the sources of a job in ``job_status``
        (``started``: the job has left SUBMITTED at some point)."""
        return self.sources_while_submitted == "listed" or started or job_status != "SUBMITTED"

    def job_visible(self, age_s: float) -> bool:
        """Whether GetReadSetActivationJob knows a job ``age_s`` emulated seconds old."""
        return age_s >= self.job_visible_after_s

    def as_dict(self) -> Dict[str, Any]:
        """The fields as a plain dict (for the admin API)."""
        return dataclasses.asdict(self)


#: The named profiles. "default" is ``Behaviour()``: every choice at its default.
PROFILES: Dict[str, Behaviour] = {
    "default": Behaviour(),
    "token-conflict": Behaviour(reused_token="conflict"),
    "token-mismatch": Behaviour(reused_token="mismatch"),
    "token-ignored": Behaviour(reused_token="ignored"),
    "paging": Behaviour(page_size=7, list_order="shuffled", empty_pages=2),
    "lagging": Behaviour(sources_while_submitted="empty", non_archived_source="failed", activating_lag_s=30.0),
    "finalizing": Behaviour(transitional_s=30.0),
    "eventual": Behaviour(job_visible_after_s=10.0),
}


def resolve_profile(profile: Union[str, Behaviour, Mapping[str, Any]]) -> Tuple[str, Behaviour]:
    """Turn a profile name, a :class:`Behaviour` or a dict of Behaviour fields (on top of
    "default") into ``(name, behaviour)``; the name of an unnamed behaviour is
    ``"custom"`` unless it equals a named profile.

    :raises ValueError: unknown profile name (lists the names) or bad field value.
    :raises TypeError: unknown field name in a dict, or another type.
    """
    if isinstance(profile, Behaviour):
        behaviour = profile
    elif isinstance(profile, str):
        if profile not in PROFILES:
            raise ValueError(f"unknown emulator profile {profile!r}; use one of {', '.join(PROFILES)}")
        return profile, PROFILES[profile]
    elif isinstance(profile, Mapping):
        fields = {f.name for f in dataclasses.fields(Behaviour)}
        unknown = sorted(set(profile) - fields)
        if unknown:
            raise TypeError(f"unknown behaviour field(s) {unknown}; known fields: {sorted(fields)}")
        behaviour = Behaviour(**dict(profile))
    else:
        raise TypeError(f"profile must be a name ({', '.join(PROFILES)}), a Behaviour or a dict of its fields, got {type(profile).__name__}")
    name = next((n for n, b in PROFILES.items() if b == behaviour), "custom")
    return name, behaviour
