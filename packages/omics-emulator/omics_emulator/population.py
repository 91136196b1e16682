"""Filling the backend with stores and read sets: seeds, ``create_store`` (plain status
lists and ``generate=`` synthetic read sets) and the IDs they take.

A mixin of :class:`~.backend.Backend` (it works on the backend's state under its lock).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, Iterable, List, Mapping, Optional, Set

from .exceptions import SeedError
from .model import ModelValidationError, service_model, validate
from .records import ReadSet, SequenceStore, store_arn
from .seed import load_seed
from .synthetic import SEQUENCE_INFORMATION, check_counts, status_layout

if TYPE_CHECKING:
    import threading

    from .ids import IdAllocator
    from .schedule import ArchiveSchedule, EventQueue

__all__ = ["StorePopulation", "READ_SET_STATUSES"]

READ_SET_STATUSES = tuple(service_model().shape_for("ReadSetStatus").enum)


class StorePopulation:
    """Seeds and ``create_store`` (mixin of Backend); IDs come from ``Backend.ids``
    (:class:`~.ids.IdAllocator`)."""

    if TYPE_CHECKING:  # provided by Backend and JobLifecycle
        lock: threading.RLock
        stores: Dict[str, SequenceStore]
        region: str
        ids: IdAllocator
        events: EventQueue
        archiving: ArchiveSchedule

        def tick(self) -> float: ...

        def _duration_s(self) -> float: ...

        def _seeded_activation_done(self, at_s: float, store_id: str, rid: str) -> None: ...

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
                store_id = st["id"] or self.ids.new()
                self.ids.claim(store_id)
                store = self.stores.get(store_id)
                if store is None:
                    store = SequenceStore(store_id, st["name"] or f"store-{store_id}", st["description"],
                                          st["creationTime"], store_arn(self.region, store_id))
                    self.stores[store_id] = store
                for r in st["readSets"]:
                    self._add_read_set(store, r, now_s)
                ids.append(store_id)
            return ids

    def _add_read_set(self, store: SequenceStore, r: Mapping[str, Any], now_s: float) -> ReadSet:
        rid = r.get("id") or self.ids.new()
        self.ids.claim(rid)
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
            activating_job=None,
            reference_arn=r.get("referenceArn"),
            creation_type=r.get("creationType") or "IMPORT",
            sequence_information=r.get("sequenceInformation"),
            files=r.get("files"),
        )
        store.add_read_set(rs)
        if rs.status == "ACTIVE":
            self.archiving.touch(rs, now_s)
        elif rs.status == "ACTIVATING":
            self.events.push(now_s + self._duration_s(), self._seeded_activation_done, store.id, rid)
        return rs

    def create_store(self, name: str = "emulated-store", read_sets: Iterable[Any] = (), store_id: Optional[str] = None,
                     generate: Optional[Mapping[str, int]] = None) -> str:
        """Create a store (or add to the store with ``store_id``); returns its ID.

        :param read_sets: dicts in seed format, or plain status strings such as
            ``"ARCHIVED"`` (each gets a random ID, the default name and now as creation
            time; checked once per distinct status, not through the seed loader).
        :param generate: ``{status: count}``: that many synthetic read sets per status
            on top of ``read_sets``, made fast (see :mod:`.synthetic`): a store of
            1,000,000 takes seconds.
        :raises SeedError: a malformed read set entry or store field.
        :raises ValueError: a bad ``generate`` (unknown status, negative count).
        """
        entries = list(read_sets)
        plain = all(isinstance(r, str) for r in entries)
        counts = check_counts(generate, READ_SET_STATUSES) if generate is not None else {}
        store_entry: Dict[str, Any] = {"name": name, "readSets": [] if plain else [dict(r) for r in entries]}
        if store_id is not None:
            store_entry["id"] = store_id
        if plain:
            self._check_plain_statuses(entries)
        with self.lock:
            sid = self.seed({"sequenceStores": [store_entry]})[0]
            now_s = self.tick()
            store = self.stores[sid]
            for status in entries if plain else ():
                self._add_read_set(store, {"status": status}, now_s)
            if counts:
                self._generate(store, counts, now_s)
            return sid

    @staticmethod
    def _check_plain_statuses(statuses: List[str]) -> None:
        seen: Set[str] = set()
        for i, status in enumerate(statuses):
            if status not in seen:
                try:
                    validate(service_model().shape_for("ReadSetStatus"), status, f"sequenceStores[0].readSets[{i}].status")
                except ModelValidationError as err:
                    raise SeedError(f"seed: {err}; fix the value or remove the field for the default") from None
                seen.add(status)

    def _generate(self, store: SequenceStore, counts: Mapping[str, int], now_s: float) -> None:
        layout = status_layout(counts, store.id)
        n = len(layout)
        base = self.ids.reserve_range(n)
        first_s = now_s - n
        for i, status in enumerate(layout):
            rs = ReadSet(str(base + i), store.id, None, None, None, "FASTQ", status, first_s + i, now_s, None, None,
                         None, "IMPORT", SEQUENCE_INFORMATION, None)
            store.add_read_set(rs)
            if status == "ACTIVATING":
                self.events.push(now_s + self._duration_s(), self._seeded_activation_done, store.id, rs.id)
        if counts.get("ACTIVE"):
            self.archiving.note_access(now_s)
