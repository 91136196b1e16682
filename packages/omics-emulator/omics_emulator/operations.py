"""The HealthOmics API operations, one method each, on parsed, model-validated parameters.

A mixin of :class:`~.backend.Backend`: ``op_<Operation>(params, now_s)`` takes the
operation's input as a dict (``params``) and the emulated now (epoch seconds), works on
the backend's state under its lock (:meth:`.backend.Backend.call` holds it, applies due
events and the per-request faults first), and returns the output as a dict (times as
epoch seconds), or raises the operation's typed errors of :mod:`.exceptions`. The rules
are described in :mod:`.backend`'s docstring.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Set, Tuple

from . import exceptions as exc
from .listing import creation_window, in_window, paginate, read_set_matcher, sorted_after
from .records import Job, SequenceStore, Source, store_arn

if TYPE_CHECKING:
    from .faults import Faults
    from .ids import IdAllocator
    from .profiles import Behaviour
    from .schedule import ArchiveSchedule, EventQueue

__all__ = ["Operations", "CLIENT_TOKEN_TTL_S"]

#: Emulated seconds a clientToken keeps naming the job it started (24 hours).
CLIENT_TOKEN_TTL_S = 86400.0


class Operations:
    """``op_<Operation>`` for each emulated operation (mixin of Backend)."""

    if TYPE_CHECKING:  # provided by Backend and JobLifecycle
        stores: Dict[str, SequenceStore]
        jobs: Dict[str, Job]
        behaviour: Behaviour
        faults: Faults
        region: str
        queue_seconds: float
        max_concurrent_jobs: int
        ids: IdAllocator
        events: EventQueue
        archiving: ArchiveSchedule
        _active_jobs: Set[str]
        _tokens: Dict[Tuple[str, str], str]

        def tick(self) -> float: ...

        def _job_start(self, at_s: float, job_id: str) -> None: ...

    # ------------------------------------------------------------ lookups and pages

    def _store(self, store_id: str) -> SequenceStore:
        store = self.stores.get(store_id)
        if store is None:
            raise exc.ResourceNotFoundException(
                f"Sequence store {store_id} not found; check the ID (ListSequenceStores lists the stores)")
        return store

    def _job(self, store: SequenceStore, job_id: str) -> Job:
        job = self.jobs.get(job_id)
        if job is None or job.store_id != store.id:
            raise exc.ResourceNotFoundException(
                f"Read set activation job {job_id} not found in sequence store {store.id}; check the job ID")
        return job

    def _page(self, items: Iterable[Any], p: Mapping[str, Any], scope: str, operation: str) -> Tuple[List[Any], Optional[str]]:
        items_after = sorted_after(items, self.behaviour.order_key(scope))
        return paginate(items_after, p, scope, self.behaviour, stuck=self.faults.stuck(operation))

    def _indexed_page(self, store: SequenceStore, kind: str, items: Mapping[str, Any], matches: Callable[[Any], bool],
                      p: Mapping[str, Any], operation: str) -> Tuple[List[Any], Optional[str]]:
        """One page of the store's read sets or jobs from its index: the filter's status
        picks the status index, a creation window (in creation order) bounds the keys,
        ``matches`` checks the rest item by item."""
        flt = p.get("filter") or {}
        index = store.index(kind, self.behaviour)
        start, stop = creation_window(index.order, flt)

        def items_after(after: Optional[tuple]) -> Iterator[Tuple[tuple, Any]]:
            for k in index.keys(after, flt.get("status"), start, stop):
                item = items[k[-1]]
                if matches(item):
                    yield k, item

        return paginate(items_after, p, f"{kind}:{store.id}", self.behaviour, stuck=self.faults.stuck(operation))

    # ------------------------------------------------------------ sequence stores

    def op_CreateSequenceStore(self, p: Dict[str, Any], now_s: float) -> Dict[str, Any]:
        store_id = self.ids.new()
        store = SequenceStore(store_id, p["name"], p.get("description"), now_s, store_arn(self.region, store_id))
        self.stores[store.id] = store
        return store.describe()

    def op_GetSequenceStore(self, p: Dict[str, Any], now_s: float) -> Dict[str, Any]:
        return self._store(p["id"]).describe()

    def op_ListSequenceStores(self, p: Dict[str, Any], now_s: float) -> Dict[str, Any]:
        flt = p.get("filter") or {}
        items = [
            s for s in self.stores.values()
            if in_window(s.creation_time_s, flt)
            and (flt.get("name") is None or s.name == flt["name"])
            and (flt.get("status") in (None, "ACTIVE"))
        ]
        page, token = self._page(items, p, "stores", "ListSequenceStores")
        return {"sequenceStores": [s.describe() for s in page], "nextToken": token}

    # ------------------------------------------------------------ read sets

    def op_GetReadSetMetadata(self, p: Dict[str, Any], now_s: float) -> Dict[str, Any]:
        store = self._store(p["sequenceStoreId"])
        rs = store.read_sets.get(p["id"])
        if rs is None:
            raise exc.ResourceNotFoundException(
                f"Read set {p['id']} not found in sequence store {store.id}; check the ID (ListReadSets lists them)")
        self.archiving.touch(rs, now_s)
        return rs.describe_metadata(store.arn)

    def op_ListReadSets(self, p: Dict[str, Any], now_s: float) -> Dict[str, Any]:
        store = self._store(p["sequenceStoreId"])
        flt = p.get("filter") or {}
        page, token = self._indexed_page(store, "readsets", store.read_sets, read_set_matcher(flt, skip=("status",)), p,
                                         "ListReadSets")
        return {"readSets": [r.describe(store.arn) for r in page], "nextToken": token}

    def op_BatchDeleteReadSet(self, p: Dict[str, Any], now_s: float) -> Dict[str, Any]:
        store = self._store(p["sequenceStoreId"])
        errors = []
        for rid in p["ids"]:
            rs = store.read_sets.get(rid)
            if rs is None:
                errors.append({"id": rid, "code": "NotFound", "message": f"Read set {rid} not found in sequence store {store.id}"})
            else:
                store.set_status(rs, "DELETED")
                rs.activating_job = None
        return {"errors": errors}

    # ------------------------------------------------------------ activation jobs

    def op_StartReadSetActivationJob(self, p: Dict[str, Any], now_s: float) -> Dict[str, Any]:
        store = self._store(p["sequenceStoreId"])
        ids = [s["readSetId"] for s in p["sources"]]
        token = p.get("clientToken")
        if token is not None and self.behaviour.checks_tokens:
            existing = self.jobs.get(self._tokens.get((store.id, token), ""))
            if existing is not None and now_s - existing.creation_time_s < CLIENT_TOKEN_TTL_S:
                same = sorted(s.read_set_id for s in existing.sources) == sorted(ids)
                self.behaviour.reused_token_answer(token, existing.id, same)
                return existing.start_answer()
        if len(self._active_jobs) >= self.max_concurrent_jobs:
            raise exc.ServiceQuotaExceededException(
                f"Too many concurrent read set activation jobs: {len(self._active_jobs)} of {self.max_concurrent_jobs} "
                "are SUBMITTED or IN_PROGRESS; wait for one to finish")
        delay_s, forced = self.faults.take_job_faults(ids)
        job = Job(
            id=self.ids.new(), store_id=store.id, client_token=token, creation_time_s=now_s,
            start_time_s=now_s + self.queue_seconds + delay_s,
            sources=[Source(i, fail_message=self.faults.failing_read_sets.get(i)) for i in ids],
            forced_failure=forced,
        )
        self.jobs[job.id] = job
        store.add_job(job)
        self._active_jobs.add(job.id)
        if token is not None:
            self._tokens[(store.id, token)] = job.id
        self.events.push(job.start_time_s, self._job_start, job.id)
        if job.start_time_s <= now_s:
            self.tick()
        return job.start_answer()

    def op_GetReadSetActivationJob(self, p: Dict[str, Any], now_s: float) -> Dict[str, Any]:
        store = self._store(p["sequenceStoreId"])
        job = self._job(store, p["id"])
        if not self.behaviour.job_visible(now_s - job.creation_time_s):  # read-after-create lag
            raise exc.ResourceNotFoundException(
                f"Read set activation job {job.id} not found in sequence store {store.id}; check the job ID")
        return job.describe(list_sources=self.behaviour.lists_sources(job.status, job.started))

    def op_ListReadSetActivationJobs(self, p: Dict[str, Any], now_s: float) -> Dict[str, Any]:
        store = self._store(p["sequenceStoreId"])
        flt = p.get("filter") or {}
        page, token = self._indexed_page(store, "jobs", store.jobs, lambda j: in_window(j.creation_time_s, flt), p,
                                         "ListReadSetActivationJobs")
        return {"activationJobs": [j.summary() for j in page], "nextToken": token}
