"""The emulator's state and business rules (no HTTP here).

Plain objects (stores, read sets, activation jobs) plus :class:`Backend`, which
implements the operations on parsed, model-validated parameters, raising the typed
errors of :mod:`.exceptions`. Time comes from an injected :class:`~.clock.Clock`,
randomness from seeded :class:`random.Random` sources.

State is advanced lazily: every operation, admin call and ``advance`` first applies all
events due up to the clock's now (job starts, source completions, 30-day archiving), in
time order, under one lock; so a scaled clock makes jobs progress with real time with no
request needed, and one request always sees one consistent state.

Job lifecycle (emulated seconds)::

    creation --queue_seconds(+fault delay)--> IN_PROGRESS --activation_seconds*(1+-jitter) per source-->
    COMPLETED | COMPLETED_WITH_FAILURES | FAILED

Where the public documentation is silent the active behaviour profile decides
(:mod:`.profiles`); below, the "default" profile. Source outcome when the job starts, by
the read set's status:

* ARCHIVED: IN_PROGRESS, the read set becomes ACTIVATING; FINISHED and ACTIVE after its
  jittered duration. If meanwhile the read set left ACTIVATING (deleted, archived by
  the test), the source FAILS with "Read set is <status>; activation was interrupted".
* ACTIVE or ACTIVATING: FINISHED at once, "Read set is already ACTIVE; no activation needed"
  (profile choice ``non_archived_source``).
* DELETING, DELETED, PROCESSING_UPLOAD, UPLOAD_FAILED: FAILED at once,
  "Read set is DELETED; only ARCHIVED read sets can be activated".
* ID not in the store: the start call is accepted (IDs are only checked against the
  model's pattern); the source FAILS at once, "Read set 1234567890 was not found in
  sequence store ...".

The job ends COMPLETED if every source FINISHED, FAILED if every source FAILED, and
COMPLETED_WITH_FAILURES otherwise (statusMessage says how many failed). A job
cancelled with :meth:`Backend.cancel_job` is CANCELLING, then CANCELLED.

clientToken (profile choice ``reused_token``): the same token with the same set of read
set IDs in the same store within 24 emulated hours returns the existing job (whatever
its status); the same token with other sources is a ValidationException; after 24 hours
the token starts a new job.

Quotas: at most ``max_concurrent_jobs`` jobs SUBMITTED, IN_PROGRESS or CANCELLING in
the account (ServiceQuotaExceededException). Rate limits and injected faults:
:mod:`.faults`.

Automatic archiving: an ACTIVE read set whose last access (GetReadSetMetadata or an
activation) is 30 emulated days old becomes ARCHIVED.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import heapq
import itertools
import json
import math
import random
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

from . import exceptions as exc
from .clock import Clock
from .faults import FAMILIES, Faults, RateLimits, TokenBucket
from .model import service_model
from .profiles import Behaviour, resolve_profile
from .seed import load_seed

__all__ = ["Backend", "Faults", "TokenBucket", "ReadSet", "SequenceStore", "Job", "Source", "FAMILIES", "ARCHIVE_AFTER_S"]

ACCOUNT_ID = "123456789012"
ARCHIVE_AFTER_S = 30 * 86400.0
CLIENT_TOKEN_TTL_S = 86400.0

READ_SET_STATUSES: Tuple[str, ...] = tuple(service_model().shape_for("ReadSetStatus").enum)
ACTIVE_JOB_STATUSES = frozenset({"SUBMITTED", "IN_PROGRESS"})


@dataclass
class ReadSet:
    id: str
    store_id: str
    name: Optional[str]
    sample_id: Optional[str]
    subject_id: Optional[str]
    file_type: str
    status: str
    creation_time_s: float
    last_access_s: float
    description: Optional[str] = None
    activating_job: Optional[str] = None


@dataclass
class SequenceStore:
    id: str
    name: Optional[str]
    description: Optional[str]
    creation_time_s: float
    read_sets: Dict[str, ReadSet] = field(default_factory=dict)


@dataclass
class Source:
    read_set_id: str
    status: str = "NOT_STARTED"
    status_message: Optional[str] = None
    fail_message: Optional[str] = None  # fault: fail with this message at finish


@dataclass
class Job:
    id: str
    store_id: str
    client_token: Optional[str]
    creation_time_s: float
    start_time_s: float
    sources: List[Source]
    status: str = "SUBMITTED"
    status_message: Optional[str] = None
    completion_time_s: Optional[float] = None
    forced_failure: Optional[str] = None
    started: bool = False  # has left SUBMITTED for IN_PROGRESS

    def as_dict(self) -> Dict[str, Any]:
        """Plain-data view (times in epoch seconds)."""
        return {
            "id": self.id,
            "sequenceStoreId": self.store_id,
            "status": self.status,
            "statusMessage": self.status_message,
            "clientToken": self.client_token,
            "creationTime": self.creation_time_s,
            "startTime": self.start_time_s,
            "completionTime": self.completion_time_s,
            "sources": [
                {"readSetId": s.read_set_id, "status": s.status, "statusMessage": s.status_message}
                for s in self.sources
            ],
        }


def _json_default(value: Any) -> Any:
    if isinstance(value, _dt.datetime):
        return value.timestamp()
    return str(value)


def _epoch(value: Any) -> float:
    if isinstance(value, _dt.datetime):
        return value.timestamp()
    return float(value)


class Backend:
    """HealthOmics sequence-store control plane state and rules.

    :param clock: the emulated clock.
    :param activation_seconds: mean emulated seconds a source takes once IN_PROGRESS.
    :param queue_seconds: emulated seconds a job stays SUBMITTED.
    :param max_concurrent_jobs: quota of SUBMITTED + IN_PROGRESS jobs in the account.
    :param rate_limit: requests per emulated second per operation family; 0 = unlimited.
    :param jitter: fraction (0..1) of +- random variation of each source's duration.
    :param random_seed: seed of the ID, jitter and fault random sources.
    :param region: region used in ARNs.
    :param profile: behaviour profile: a name of :data:`~.profiles.PROFILES`, a
        :class:`~.profiles.Behaviour` or a dict of its fields.
    :raises ValueError: on negative durations or quotas, jitter outside 0..1, or an
        unknown profile.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        activation_seconds: float = 60.0,
        queue_seconds: float = 5.0,
        max_concurrent_jobs: int = 20,
        rate_limit: float = 5.0,
        jitter: float = 0.1,
        random_seed: int = 0,
        region: str = "us-east-1",
        profile: Any = "default",
    ) -> None:
        for name, value in (("activation_seconds", activation_seconds), ("queue_seconds", queue_seconds)):
            if not (isinstance(value, (int, float)) and value >= 0):
                raise ValueError(f"{name} must be a number of emulated seconds >= 0, got {value!r}")
        if not (isinstance(jitter, (int, float)) and 0 <= jitter <= 1):
            raise ValueError(f"jitter must be a fraction between 0 and 1 (0.1 = +-10%), got {jitter!r}")
        self.profile_name, self.behaviour = resolve_profile(profile)
        self.clock = clock
        self.lock = threading.RLock()
        self.activation_seconds = float(activation_seconds)
        self.queue_seconds = float(queue_seconds)
        self.jitter = float(jitter)
        self.region = region
        self._id_rng = random.Random(random_seed)
        self._jitter_rng = random.Random(random_seed + 1)
        self._fault_rng = random.Random(random_seed + 2)
        self.faults = Faults()
        self.stores: Dict[str, SequenceStore] = {}
        self.jobs: Dict[str, Job] = {}
        self._active_jobs: Set[str] = set()
        self._tokens: Dict[Tuple[str, str], str] = {}
        self._events: List[Tuple[float, int, Callable[..., None], tuple]] = []
        self._seq = itertools.count()
        self._used_ids: Set[str] = set()
        self._next_archive_due_s = math.inf
        self.max_concurrent_jobs = 0
        self._limits = RateLimits()
        self.set_quota(max_concurrent_jobs=max_concurrent_jobs, rate_limit=rate_limit)

    # ------------------------------------------------------------ plumbing

    def _new_id(self) -> str:
        while True:
            candidate = str(self._id_rng.randrange(10**9, 10**10))
            if candidate not in self._used_ids:
                self._used_ids.add(candidate)
                return candidate

    def _push(self, at_s: float, fn: Callable[..., None], *args: Any) -> None:
        heapq.heappush(self._events, (at_s, next(self._seq), fn, args))

    def tick(self) -> float:
        """Apply every event due up to now (in time order) and automatic archiving.

        :returns: the emulated now (epoch seconds) the state now reflects.
        """
        with self.lock:
            now_s = self.clock.now()
            events = self._events
            while events and events[0][0] <= now_s:
                at_s, _, fn, args = heapq.heappop(events)
                fn(at_s, *args)
            if now_s >= self._next_archive_due_s:
                self._archive_scan(now_s)
            return now_s

    def advance(self, seconds: float) -> float:
        """Move the clock forward and apply every state change due; returns the new now."""
        with self.lock:
            self.clock.advance(seconds)
            return self.tick()

    def _touch(self, rs: ReadSet, at_s: float) -> None:
        rs.last_access_s = max(rs.last_access_s, at_s)
        due = rs.last_access_s + ARCHIVE_AFTER_S
        if due < self._next_archive_due_s:
            self._next_archive_due_s = due

    def _archive_scan(self, now_s: float) -> None:
        next_due = math.inf
        for store in self.stores.values():
            for rs in store.read_sets.values():
                if rs.status != "ACTIVE":
                    continue
                due = rs.last_access_s + ARCHIVE_AFTER_S
                if due <= now_s:
                    rs.status = "ARCHIVED"
                elif due < next_due:
                    next_due = due
        self._next_archive_due_s = next_due

    # ------------------------------------------------------------ admin

    def set_quota(self, *, max_concurrent_jobs: Optional[int] = None, rate_limit: Any = None) -> None:
        """Change quotas while running.

        :param max_concurrent_jobs: jobs SUBMITTED or IN_PROGRESS allowed at once (>= 0).
        :param rate_limit: requests per emulated second for every family (float, 0 =
            unlimited), or a dict ``{family: rate}`` for families ``start``, ``jobs``,
            ``readsets``, ``stores``. Buckets start full.
        :raises ValueError: on a negative or non-numeric value or an unknown family.
        """
        with self.lock:
            if max_concurrent_jobs is not None:
                if isinstance(max_concurrent_jobs, bool) or not isinstance(max_concurrent_jobs, int) or max_concurrent_jobs < 0:
                    raise ValueError(f"max_concurrent_jobs must be an integer >= 0, got {max_concurrent_jobs!r}")
                self.max_concurrent_jobs = max_concurrent_jobs
            if rate_limit is not None:
                self._limits.set(rate_limit, self.clock.now())

    @property
    def rate_limits(self) -> Dict[str, float]:
        """Current requests-per-emulated-second limit of each family (0 = unlimited)."""
        return self._limits.rates

    def set_profile(self, profile: Any) -> str:
        """Switch the behaviour profile (a name, a Behaviour or a dict of its fields);
        applies from the next request or event on. Returns the profile's name.

        :raises ValueError, TypeError: unknown profile name or bad field (see
            :func:`~.profiles.resolve_profile`).
        """
        name, behaviour = resolve_profile(profile)
        with self.lock:
            self.profile_name, self.behaviour = name, behaviour
        return name

    def cancel_job(self, job_id: str, cancelling_s: float = 5.0) -> Dict[str, Any]:
        """Cancel an activation job as a console user would (there is no cancel API).

        The job is CANCELLING at once (its sources stop progressing and it still counts
        toward the concurrent-job quota), then CANCELLED ``cancelling_s`` emulated
        seconds later, with ``completionTime``; sources not FINISHED or FAILED keep their
        status (NOT_STARTED or IN_PROGRESS) with no message, and their read sets that
        this job was activating become ARCHIVED again.

        :returns: the job as a plain dict (see :meth:`job_dicts`).
        :raises KeyError: unknown job ID. :raises ValueError: the job already ended or is
            cancelling, or ``cancelling_s`` is negative.
        """
        try:
            delay_s = float(cancelling_s)
        except (TypeError, ValueError):
            delay_s = -1.0
        if isinstance(cancelling_s, bool) or not 0 <= delay_s < math.inf:
            raise ValueError(f"cancelling_s must be a finite number of emulated seconds >= 0, got {cancelling_s!r}")
        with self.lock:
            now_s = self.tick()
            job = self.jobs.get(job_id)
            if job is None:
                raise KeyError(f"activation job {job_id!r} does not exist; Emulator.jobs() lists the jobs")
            if job.status not in ACTIVE_JOB_STATUSES:
                raise ValueError(f"activation job {job_id} is {job.status}; only SUBMITTED or IN_PROGRESS jobs can be cancelled")
            job.status, job.status_message = "CANCELLING", "Cancellation requested"
            self._push(now_s + delay_s, self._job_cancelled, job.id)
            self.tick()
            return job.as_dict()

    def seed(self, source: Any) -> List[str]:
        """Load stores and read sets from a seed (see :mod:`.seed`); returns the store IDs.

        Existing stores with the same ID get the read sets added (or replaced).

        :raises SeedError: on a malformed seed (names the entry).
        """
        with self.lock:
            now_s = self.tick()
            data = load_seed(source, now_s=now_s)
            ids = []
            for st in data:
                store_id = st["id"] or self._new_id()
                self._used_ids.add(store_id)
                store = self.stores.get(store_id)
                if store is None:
                    store = SequenceStore(store_id, st["name"] or f"store-{store_id}", st["description"], st["creationTime"])
                    self.stores[store_id] = store
                for r in st["readSets"]:
                    self._add_read_set(store, r, now_s)
                ids.append(store_id)
            return ids

    def _add_read_set(self, store: SequenceStore, r: Mapping[str, Any], now_s: float) -> ReadSet:
        rid = r.get("id") or self._new_id()
        self._used_ids.add(rid)
        rs = ReadSet(
            id=rid,
            store_id=store.id,
            name=r.get("name") or f"readset-{rid}",
            sample_id=r.get("sampleId"),
            subject_id=r.get("subjectId"),
            description=r.get("description"),
            file_type=r.get("fileType") or "FASTQ",
            status=r.get("status") or "ARCHIVED",
            creation_time_s=float(r.get("creationTime", now_s)),
            last_access_s=now_s,
        )
        store.read_sets[rid] = rs
        if rs.status == "ACTIVE":
            self._touch(rs, now_s)
        elif rs.status == "ACTIVATING":
            self._push(now_s + self._duration_s(), self._seeded_activation_done, store.id, rid)
        return rs

    def create_store(self, name: str = "emulated-store", read_sets: Iterable[Any] = (), store_id: Optional[str] = None) -> str:
        """Create a store holding ``read_sets`` (dicts in seed format, or plain status strings
        such as ``"ARCHIVED"``); returns the store ID.

        :raises SeedError: on a malformed read set entry.
        """
        entries = [{"status": r} if isinstance(r, str) else dict(r) for r in read_sets]
        store: Dict[str, Any] = {"name": name, "readSets": entries}
        if store_id is not None:
            store["id"] = store_id
        return self.seed({"sequenceStores": [store]})[0]

    def _store_or_value_error(self, store_id: str) -> SequenceStore:
        store = self.stores.get(store_id)
        if store is None:
            raise KeyError(f"sequence store {store_id!r} does not exist; known stores: {sorted(self.stores)[:10]}")
        return store

    def _read_set_or_key_error(self, store: SequenceStore, read_set_id: str) -> ReadSet:
        rs = store.read_sets.get(read_set_id)
        if rs is None:
            raise KeyError(f"read set {read_set_id!r} is not in sequence store {store.id!r}; check the ID")
        return rs

    def archive(self, store_id: str, read_set_ids: Iterable[str]) -> None:
        """Make read sets ARCHIVED now (there is no such API in AWS; tests and demos use it).

        :raises KeyError: naming an unknown store or read set.
        """
        with self.lock:
            self.tick()
            store = self._store_or_value_error(store_id)
            targets = [self._read_set_or_key_error(store, rid) for rid in read_set_ids]
            for rs in targets:
                rs.status = "ARCHIVED"

    def set_read_set_status(self, store_id: str, read_set_id: str, status: str) -> None:
        """Force a read set's status (e.g. DELETED during an activation).

        :raises KeyError: unknown store or read set. :raises ValueError: unknown status.
        """
        if status not in READ_SET_STATUSES:
            raise ValueError(f"status {status!r} is not a read set status; use one of {', '.join(READ_SET_STATUSES)}")
        with self.lock:
            now_s = self.tick()
            rs = self._read_set_or_key_error(self._store_or_value_error(store_id), read_set_id)
            rs.status = status
            if status == "ACTIVE":
                self._touch(rs, now_s)

    def read_set_statuses(self, store_id: str) -> Dict[str, str]:
        """Read set ID -> status for a store (after applying due events)."""
        with self.lock:
            self.tick()
            return {rid: rs.status for rid, rs in self._store_or_value_error(store_id).read_sets.items()}

    def job_dicts(self) -> List[Dict[str, Any]]:
        """Every activation job ever created, oldest first, as plain dicts."""
        with self.lock:
            self.tick()
            return [job.as_dict() for job in self.jobs.values()]

    # ------------------------------------------------------------ job progress

    def _duration_s(self) -> float:
        j = self.jitter
        return self.activation_seconds * (1.0 + (self._jitter_rng.uniform(-j, j) if j else 0.0))

    def _seeded_activation_done(self, at_s: float, store_id: str, rid: str) -> None:
        store = self.stores.get(store_id)
        rs = store.read_sets.get(rid) if store else None
        if rs is not None and rs.status == "ACTIVATING" and rs.activating_job is None:
            rs.status = "ACTIVE"
            self._touch(rs, at_s)

    def _job_start(self, at_s: float, job_id: str) -> None:
        job = self.jobs[job_id]
        if job.status != "SUBMITTED":  # cancelled while queued
            return
        store = self.stores.get(job.store_id)
        job.status = "IN_PROGRESS"
        job.started = True
        for idx, src in enumerate(job.sources):
            rs = store.read_sets.get(src.read_set_id) if store else None
            if rs is None:
                src.status, src.status_message = "FAILED", f"Read set {src.read_set_id} was not found in sequence store {job.store_id}"
            elif rs.status in ("ACTIVE", "ACTIVATING"):
                src.status, src.status_message = self.behaviour.source_outcome_not_archived(rs.status)
                self._touch(rs, at_s)
            elif rs.status != "ARCHIVED":
                src.status, src.status_message = "FAILED", f"Read set is {rs.status}; only ARCHIVED read sets can be activated"
            else:
                src.status = "IN_PROGRESS"
                rs.status = "ACTIVATING"
                rs.activating_job = job.id
                self._touch(rs, at_s)
                if job.forced_failure is None:
                    self._push(at_s + self._duration_s(), self._source_finish, job.id, idx)
        if job.forced_failure is not None:
            self._push(at_s + self.activation_seconds, self._job_fail, job.id)
        self._maybe_complete(job, at_s)

    def _release(self, job: Job, rs: Optional[ReadSet]) -> None:
        if rs is not None and rs.status == "ACTIVATING" and rs.activating_job == job.id:
            rs.status = "ARCHIVED"
            rs.activating_job = None

    def _source_finish(self, at_s: float, job_id: str, idx: int) -> None:
        job = self.jobs[job_id]
        src = job.sources[idx]
        if src.status != "IN_PROGRESS" or job.status != "IN_PROGRESS":
            return
        store = self.stores.get(job.store_id)
        rs = store.read_sets.get(src.read_set_id) if store else None
        if src.fail_message is not None:
            src.status, src.status_message = "FAILED", src.fail_message
            self._release(job, rs)
        elif rs is None or rs.status != "ACTIVATING":
            state = rs.status if rs is not None else "gone"
            src.status, src.status_message = "FAILED", f"Read set is {state}; activation was interrupted"
        else:
            src.status, src.status_message = "FINISHED", "Read set activated"
            lag_s = self.behaviour.activating_lag_s
            if lag_s > 0:
                self._push(at_s + lag_s, self._lag_done, job.id, job.store_id, rs.id)
            else:
                self._lag_done(at_s, job.id, job.store_id, rs.id)
        self._maybe_complete(job, at_s)

    def _lag_done(self, at_s: float, job_id: str, store_id: str, rid: str) -> None:
        store = self.stores.get(store_id)
        rs = store.read_sets.get(rid) if store else None
        if rs is not None and rs.status == "ACTIVATING" and rs.activating_job == job_id:
            rs.status = "ACTIVE"
            rs.activating_job = None
            self._touch(rs, at_s)

    def _job_cancelled(self, at_s: float, job_id: str) -> None:
        job = self.jobs[job_id]
        store = self.stores.get(job.store_id)
        for src in job.sources:
            if src.status in ("NOT_STARTED", "IN_PROGRESS"):
                self._release(job, store.read_sets.get(src.read_set_id) if store else None)
        job.status, job.status_message = "CANCELLED", "Job cancelled before all read sets were activated"
        job.completion_time_s = at_s
        self._active_jobs.discard(job.id)

    def _job_fail(self, at_s: float, job_id: str) -> None:
        job = self.jobs[job_id]
        if job.status not in ACTIVE_JOB_STATUSES:
            return
        store = self.stores.get(job.store_id)
        for src in job.sources:
            if src.status in ("NOT_STARTED", "IN_PROGRESS"):
                src.status, src.status_message = "FAILED", job.forced_failure
                self._release(job, store.read_sets.get(src.read_set_id) if store else None)
        job.status, job.status_message = "FAILED", job.forced_failure
        job.completion_time_s = at_s
        self._active_jobs.discard(job.id)

    def _maybe_complete(self, job: Job, at_s: float) -> None:
        if any(s.status in ("NOT_STARTED", "IN_PROGRESS") for s in job.sources):
            return
        failed = sum(1 for s in job.sources if s.status == "FAILED")
        if failed == 0:
            job.status = "COMPLETED"
        elif failed == len(job.sources):
            job.status, job.status_message = "FAILED", f"All {failed} read sets failed to activate"
        else:
            job.status = "COMPLETED_WITH_FAILURES"
            job.status_message = f"{failed} of {len(job.sources)} read sets failed to activate"
        job.completion_time_s = at_s
        self._active_jobs.discard(job.id)

    # ------------------------------------------------------------ request admission

    def admit(self, operation: str, store_id: Optional[str]) -> float:
        """Apply due events, then rate limits and injected faults for one request.

        :returns: the emulated now.
        :raises ThrottlingException, InternalServerException, RequestTimeoutException,
            AccessDeniedException: as configured.
        """
        now_s = self.tick()
        self.faults.admit_first(operation)
        self._limits.admit(operation, now_s)
        self.faults.admit(operation, store_id, self._fault_rng)
        return now_s

    def call(self, operation: str, params: Dict[str, Any]) -> Dict[str, Any]:
        """Run one operation on validated ``params``; returns the output (times as epoch s).

        :raises EmulatorServiceError: the operation's typed errors.
        """
        handler = getattr(self, "op_" + operation)
        with self.lock:
            now_s = self.admit(operation, params.get("sequenceStoreId") or (params.get("id") if operation == "GetSequenceStore" else None))
            result = handler(params, now_s)
            if operation == "StartReadSetActivationJob" and self.faults.take_lost_start():
                raise exc.InternalServerException(
                    "An internal error occurred (injected fault lose_start_responses); retry the request")
            return result

    # ------------------------------------------------------------ helpers

    def _store(self, store_id: str) -> SequenceStore:
        store = self.stores.get(store_id)
        if store is None:
            raise exc.ResourceNotFoundException(
                f"Sequence store {store_id} not found; check the ID (ListSequenceStores lists the stores)")
        return store

    def _arn(self, store_id: str, read_set_id: Optional[str] = None) -> str:
        arn = f"arn:aws:omics:{self.region}:{ACCOUNT_ID}:sequenceStore/{store_id}"
        return arn + (f"/readSet/{read_set_id}" if read_set_id else "")

    def _paginate(self, items: Sequence[Any], params: Mapping[str, Any], scope: str, operation: str) -> Tuple[List[Any], Optional[str]]:
        """One page of ``items`` per the request's maxResults/nextToken and the behaviour
        profile (order, page size, empty pages) and the ``stuck_next_token`` fault.

        nextToken is base64 JSON ``{"after": sort key of the last item served (None:
        the start), "f": fingerprint of scope, filter and order, "e": empty pages
        served at this position}``.

        :raises ValidationException: a malformed token, or one issued for another
            filter, resource or order.
        """
        behaviour = self.behaviour
        key = behaviour.order_key(scope)
        limit = behaviour.page_limit(params.get("maxResults"))
        fingerprint = hashlib.sha256(
            json.dumps([scope, params.get("filter"), behaviour.list_order], sort_keys=True, default=_json_default).encode()
        ).hexdigest()[:16]
        token = params.get("nextToken")
        after: Optional[tuple] = None
        served = 0
        if token:
            try:
                data = json.loads(base64.urlsafe_b64decode(token.encode()).decode())
                after = tuple(data["after"]) if data["after"] is not None else None
                token_fp, served = data["f"], int(data.get("e", 0))
            except (ValueError, KeyError, TypeError):
                raise exc.ValidationException(
                    f"Invalid nextToken {token[:40]!r}; pass the nextToken of the previous response unchanged") from None
            if token_fp != fingerprint:
                raise exc.ValidationException(
                    "nextToken was issued for a different filter or resource; repeat the first request without nextToken")

        def encode(position: Optional[tuple], empties: int) -> str:
            payload = json.dumps({"after": list(position) if position is not None else None, "f": fingerprint, "e": empties})
            return base64.urlsafe_b64encode(payload.encode()).decode()

        stuck = self.faults.stuck(operation)
        if served < behaviour.empty_pages:
            return [], (token if stuck and token else encode(after, served + 1))
        ordered = sorted(items, key=key)
        if after is not None:
            ordered = [it for it in ordered if key(it) > after]
        page = ordered[:limit]
        next_token = encode(key(page[-1]), 0) if len(ordered) > limit else None
        if stuck:
            next_token = token or next_token or encode(key(page[-1]) if page else after, 0)
        return page, next_token

    @staticmethod
    def _in_window(t_s: float, flt: Mapping[str, Any]) -> bool:
        after = flt.get("createdAfter")
        before = flt.get("createdBefore")
        if after is not None and t_s < _epoch(after):
            return False
        if before is not None and t_s > _epoch(before):
            return False
        return True

    def _store_out(self, store: SequenceStore) -> Dict[str, Any]:
        return {
            "id": store.id, "arn": self._arn(store.id), "name": store.name, "description": store.description,
            "creationTime": store.creation_time_s, "status": "ACTIVE", "eTagAlgorithmFamily": "MD5up",
        }

    def _read_set_out(self, rs: ReadSet) -> Dict[str, Any]:
        return {
            "id": rs.id, "arn": self._arn(rs.store_id, rs.id), "sequenceStoreId": rs.store_id,
            "subjectId": rs.subject_id, "sampleId": rs.sample_id, "status": rs.status, "name": rs.name,
            "description": rs.description, "fileType": rs.file_type, "creationTime": rs.creation_time_s,
            "creationType": "IMPORT",
        }

    # ------------------------------------------------------------ operations

    def op_CreateSequenceStore(self, p: Dict[str, Any], now_s: float) -> Dict[str, Any]:
        store = SequenceStore(self._new_id(), p["name"], p.get("description"), now_s)
        self.stores[store.id] = store
        return self._store_out(store)

    def op_GetSequenceStore(self, p: Dict[str, Any], now_s: float) -> Dict[str, Any]:
        return self._store_out(self._store(p["id"]))

    def op_ListSequenceStores(self, p: Dict[str, Any], now_s: float) -> Dict[str, Any]:
        flt = p.get("filter") or {}
        items = [
            s for s in self.stores.values()
            if self._in_window(s.creation_time_s, flt)
            and (flt.get("name") is None or s.name == flt["name"])
            and (flt.get("status") in (None, "ACTIVE"))
        ]
        page, token = self._paginate(items, p, "stores", "ListSequenceStores")
        return {"sequenceStores": [self._store_out(s) for s in page], "nextToken": token}

    def op_GetReadSetMetadata(self, p: Dict[str, Any], now_s: float) -> Dict[str, Any]:
        store = self._store(p["sequenceStoreId"])
        rs = store.read_sets.get(p["id"])
        if rs is None:
            raise exc.ResourceNotFoundException(
                f"Read set {p['id']} not found in sequence store {store.id}; check the ID (ListReadSets lists them)")
        self._touch(rs, now_s)
        return self._read_set_out(rs)

    def op_ListReadSets(self, p: Dict[str, Any], now_s: float) -> Dict[str, Any]:
        store = self._store(p["sequenceStoreId"])
        flt = p.get("filter") or {}
        checks = [(attr, flt[key]) for key, attr in (("status", "status"), ("name", "name"), ("sampleId", "sample_id"), ("subjectId", "subject_id")) if flt.get(key) is not None]
        items = [
            rs for rs in store.read_sets.values()
            if all(getattr(rs, attr) == want for attr, want in checks) and self._in_window(rs.creation_time_s, flt)
        ]
        page, token = self._paginate(items, p, "readsets:" + store.id, "ListReadSets")
        return {"readSets": [self._read_set_out(r) for r in page], "nextToken": token}

    def op_StartReadSetActivationJob(self, p: Dict[str, Any], now_s: float) -> Dict[str, Any]:
        store = self._store(p["sequenceStoreId"])
        ids = [s["readSetId"] for s in p["sources"]]
        token = p.get("clientToken")
        reuse = self.behaviour.reused_token
        if token is not None and reuse != "ignored":
            existing_id = self._tokens.get((store.id, token))
            existing = self.jobs.get(existing_id) if existing_id else None
            if existing is not None and now_s - existing.creation_time_s < CLIENT_TOKEN_TTL_S:
                if reuse == "conflict":
                    raise exc.ConflictException(
                        f"clientToken {token!r} was already used: token already used; use a new clientToken")
                if reuse == "mismatch":
                    raise exc.ValidationException(
                        f"clientToken {token!r} was already used for another request; use a new clientToken")
                if sorted(s.read_set_id for s in existing.sources) == sorted(ids):
                    return self._job_start_out(existing)
                raise exc.ValidationException(
                    f"clientToken {token!r} was already used for job {existing.id} with other sources; "
                    "use a new clientToken for a different set of read sets")
        if len(self._active_jobs) >= self.max_concurrent_jobs:
            raise exc.ServiceQuotaExceededException(
                f"Too many concurrent read set activation jobs: {len(self._active_jobs)} of {self.max_concurrent_jobs} "
                "are SUBMITTED or IN_PROGRESS; wait for one to finish")
        f = self.faults
        delay_s = 0.0
        if f.delay_next_jobs > 0:
            f.delay_next_jobs -= 1
            delay_s = f.delay_seconds
        elif f.delay_jobs_containing.intersection(ids):
            delay_s = f.delay_seconds
        forced = next((f.fail_jobs_containing[i] for i in ids if i in f.fail_jobs_containing), None)
        if forced is None and f.fail_next_jobs > 0:
            f.fail_next_jobs -= 1
            forced = f.job_failure_message
        job = Job(
            id=self._new_id(), store_id=store.id, client_token=token, creation_time_s=now_s,
            start_time_s=now_s + self.queue_seconds + delay_s,
            sources=[Source(i, fail_message=f.failing_read_sets.get(i)) for i in ids],
            forced_failure=forced,
        )
        self.jobs[job.id] = job
        self._active_jobs.add(job.id)
        if token is not None:
            self._tokens[(store.id, token)] = job.id
        self._push(job.start_time_s, self._job_start, job.id)
        if job.start_time_s <= now_s:
            self.tick()
        return self._job_start_out(job)

    def _job_start_out(self, job: Job) -> Dict[str, Any]:
        return {"id": job.id, "sequenceStoreId": job.store_id, "status": job.status, "creationTime": job.creation_time_s}

    def _job(self, store: SequenceStore, job_id: str) -> Job:
        job = self.jobs.get(job_id)
        if job is None or job.store_id != store.id:
            raise exc.ResourceNotFoundException(
                f"Read set activation job {job_id} not found in sequence store {store.id}; check the job ID")
        return job

    def op_GetReadSetActivationJob(self, p: Dict[str, Any], now_s: float) -> Dict[str, Any]:
        job = self._job(self._store(p["sequenceStoreId"]), p["id"])
        d = job.as_dict()
        out = {k: d[k] for k in ("id", "sequenceStoreId", "status", "statusMessage", "creationTime", "completionTime", "sources")}
        if not self.behaviour.lists_sources(job.status, job.started):
            out["sources"] = []
        return out

    def op_ListReadSetActivationJobs(self, p: Dict[str, Any], now_s: float) -> Dict[str, Any]:
        store = self._store(p["sequenceStoreId"])
        flt = p.get("filter") or {}
        items = [
            j for j in self.jobs.values()
            if j.store_id == store.id and (flt.get("status") is None or j.status == flt["status"])
            and self._in_window(j.creation_time_s, flt)
        ]
        page, token = self._paginate(items, p, "jobs:" + store.id, "ListReadSetActivationJobs")
        return {
            "activationJobs": [
                {"id": j.id, "sequenceStoreId": j.store_id, "status": j.status, "creationTime": j.creation_time_s,
                 "completionTime": j.completion_time_s}
                for j in page
            ],
            "nextToken": token,
        }

    def op_BatchDeleteReadSet(self, p: Dict[str, Any], now_s: float) -> Dict[str, Any]:
        store = self._store(p["sequenceStoreId"])
        errors = []
        for rid in p["ids"]:
            rs = store.read_sets.get(rid)
            if rs is None:
                errors.append({"id": rid, "code": "NotFound", "message": f"Read set {rid} not found in sequence store {store.id}"})
            else:
                rs.status = "DELETED"
                rs.activating_job = None
        return {"errors": errors}
