"""The emulator's state and business rules (no HTTP here).

:class:`Backend` implements the operations on parsed, model-validated parameters over
the records of :mod:`.records`, raising the typed errors of :mod:`.exceptions`. Where
the public documentation is silent the behaviour profile decides (:mod:`.profiles`);
rate limits and injected faults are :mod:`.faults`; pages and indexes are
:mod:`.listing`; the operations are :mod:`.operations`; the job lifecycle below is
:mod:`.lifecycle`; seeds and ``create_store`` are :mod:`.population`; timed events and
automatic archiving are :mod:`.schedule`; IDs are :mod:`.ids`. Time comes from an
injected :class:`~.clock.EmulatedClock`, randomness from seeded :class:`random.Random`
sources.

State is advanced lazily: every operation, admin call and ``advance`` first applies all
events due up to the clock's now (job starts, source completions, 30-day archiving), in
time order, under one lock; so a scaled clock makes jobs progress with real time with no
request needed, and one request always sees one consistent state.

Job lifecycle (emulated seconds)::

    creation --queue_seconds(+fault delay)--> IN_PROGRESS --activation_seconds*(1+-jitter) per source-->
    COMPLETED | COMPLETED_WITH_FAILURES | FAILED

Below, the "default" profile. Source outcome when the job starts, by the read set's
status:

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

import random
import threading
from typing import Any, Dict, Iterable, List, Optional, Set, Tuple

from . import exceptions as exc
from .clock import EmulatedClock
from .faults import FAMILIES, Faults, RateLimits, TokenBucket
from .ids import IdAllocator
from .lifecycle import JobLifecycle
from .operations import Operations
from .population import READ_SET_STATUSES, StorePopulation
from .profiles import resolve_profile
from .records import ACCOUNT_ID, Job, ReadSet, SequenceStore, Source
from .schedule import ARCHIVE_AFTER_S, ArchiveSchedule, EventQueue

__all__ = ["Backend", "Faults", "TokenBucket", "ReadSet", "SequenceStore", "Job", "Source", "FAMILIES",
           "ARCHIVE_AFTER_S", "ACCOUNT_ID"]


class Backend(JobLifecycle, StorePopulation, Operations):
    """HealthOmics sequence-store control plane state and rules.

    :param clock: the emulated clock.
    :param activation_seconds: mean emulated seconds a source takes once IN_PROGRESS.
    :param queue_seconds: emulated seconds a job stays SUBMITTED.
    :param max_concurrent_jobs: quota of SUBMITTED + IN_PROGRESS (+ CANCELLING) jobs in the account.
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
        clock: EmulatedClock,
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
        self.ids = IdAllocator(random_seed)
        self._jitter_rng = random.Random(random_seed + 1)
        self._fault_rng = random.Random(random_seed + 2)
        self.faults = Faults()
        self.stores: Dict[str, SequenceStore] = {}
        self.jobs: Dict[str, Job] = {}
        self._active_jobs: Set[str] = set()
        self._tokens: Dict[Tuple[str, str], str] = {}
        self.events = EventQueue()
        self.archiving = ArchiveSchedule()
        self.max_concurrent_jobs = 0
        self._limits = RateLimits()
        self.set_quota(max_concurrent_jobs=max_concurrent_jobs, rate_limit=rate_limit)

    # ------------------------------------------------------------ clock

    def tick(self) -> float:
        """Apply every event due up to now (in time order) and automatic archiving.

        :returns: the emulated now (epoch seconds) the state now reflects.
        """
        with self.lock:
            now_s = self.clock.now()
            self.events.run_due(now_s)
            self.archiving.run_due(self.stores.values(), self.behaviour, now_s)
            return now_s

    def advance(self, seconds: float) -> float:
        """Move the clock forward and apply every state change due; returns the new now."""
        with self.lock:
            self.clock.advance(seconds)
            return self.tick()

    def _set_status(self, item: Any, status: str) -> None:
        """Set a read set's or job's status through its store (keeps the indexes in step)."""
        self.stores[item.store_id].set_status(item, status)

    # ------------------------------------------------------------ settings

    def set_quota(self, *, max_concurrent_jobs: Optional[int] = None, rate_limit: Any = None) -> None:
        """Change quotas while running.

        :param max_concurrent_jobs: jobs SUBMITTED, IN_PROGRESS or CANCELLING allowed at once (>= 0).
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

    # ------------------------------------------------------------ admin

    def _admin_store(self, store_id: str) -> SequenceStore:
        store = self.stores.get(store_id)
        if store is None:
            raise KeyError(f"sequence store {store_id!r} does not exist; known stores: {sorted(self.stores)[:10]}")
        return store

    @staticmethod
    def _admin_read_set(store: SequenceStore, read_set_id: str) -> ReadSet:
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
            store = self._admin_store(store_id)
            targets = [self._admin_read_set(store, rid) for rid in read_set_ids]
            for rs in targets:
                store.set_status(rs, "ARCHIVED")

    def set_read_set_status(self, store_id: str, read_set_id: str, status: str) -> None:
        """Force a read set's status (e.g. DELETED during an activation): one of the
        model's, or the profile's undocumented ``transitional_status``.

        :raises KeyError: unknown store or read set. :raises ValueError: unknown status.
        """
        if status not in READ_SET_STATUSES and status != self.behaviour.transitional_status:
            raise ValueError(f"status {status!r} is not a read set status; use one of {', '.join(READ_SET_STATUSES)} "
                             f"(or the profile's transitional_status, {self.behaviour.transitional_status})")
        with self.lock:
            now_s = self.tick()
            store = self._admin_store(store_id)
            rs = self._admin_read_set(store, read_set_id)
            store.set_status(rs, status)
            if status == "ACTIVE":
                self.archiving.touch(rs, now_s)

    def read_set_statuses(self, store_id: str) -> Dict[str, str]:
        """Read set ID -> status for a store (after applying due events).

        :raises KeyError: unknown store.
        """
        with self.lock:
            self.tick()
            return {rid: rs.status for rid, rs in self._admin_store(store_id).read_sets.items()}

    def job_dicts(self) -> List[Dict[str, Any]]:
        """Every activation job ever created, oldest first, as plain dicts (:meth:`.records.Job.as_dict`)."""
        with self.lock:
            self.tick()
            return [job.as_dict() for job in self.jobs.values()]

    # ------------------------------------------------------------ requests

    def admit(self, operation: str, store_id: Optional[str]) -> float:
        """Apply due events, then the ``throttle_next`` fault, rate limits and the other
        per-request faults (:meth:`.faults.Faults.admit`) for one request.

        :returns: the emulated now.
        :raises ExpiredTokenException, ThrottlingException, InternalServerException,
            RequestTimeoutException, AccessDeniedException: as configured.
        """
        now_s = self.tick()
        self.faults.admit_credentials(now_s)
        self.faults.admit_first(operation)
        self._limits.admit(operation, now_s)
        self.faults.admit(operation, store_id, self._fault_rng)
        return now_s

    def call(self, operation: str, params: Dict[str, Any]) -> Dict[str, Any]:
        """Run one operation on validated ``params``; returns the output (times as epoch s).

        :raises EmulatorServiceError: the operation's typed errors, and the faults.
        """
        handler = getattr(self, "op_" + operation)
        with self.lock:
            now_s = self.admit(operation, params.get("sequenceStoreId") or (params.get("id") if operation == "GetSequenceStore" else None))
            result = handler(params, now_s)
            if operation == "StartReadSetActivationJob" and self.faults.take_lost_start():
                raise exc.InternalServerException(
                    "An internal error occurred (injected fault lose_start_responses); retry the request")
            return result
