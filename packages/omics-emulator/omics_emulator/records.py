"""The emulator's records: sequence stores, read sets, activation jobs and their sources.

Plain mutable objects; the rules that change them live in :mod:`.backend`. Each record
renders its own wire shape (as moto's models do with ``describe()``): a dict with the
member names of botocore's output shape and times as epoch seconds (the server's
serialiser writes them in the model's timestamp format and drops None values).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from .listing import OrderedIndex

__all__ = ["ACCOUNT_ID", "store_arn", "ReadSet", "SequenceStore", "Source", "Job", "ACTIVE_JOB_STATUSES"]

#: The account ID in every ARN the emulator makes.
ACCOUNT_ID = "123456789012"

#: Job statuses that count toward the concurrent-job quota and may still change sources.
ACTIVE_JOB_STATUSES = frozenset({"SUBMITTED", "IN_PROGRESS"})


def store_arn(region: str, store_id: str) -> str:
    """``arn:aws:omics:<region>:<account>:sequenceStore/<id>`` (Service Authorization Reference format)."""
    return f"arn:aws:omics:{region}:{ACCOUNT_ID}:sequenceStore/{store_id}"


@dataclass(eq=False)
class ReadSet:
    """One read set. ``activating_job``: the job whose source is activating it (None when
    none, e.g. a read set seeded as ACTIVATING). ``sequence_information`` and ``files``
    hold the model's ``SequenceInformation`` and ``ReadSetFiles`` shapes as given by the
    seed (None when absent). Slotted and compared by identity: a store may hold a
    million of them."""

    __slots__ = ("id", "store_id", "name", "sample_id", "subject_id", "file_type", "status", "creation_time_s",
                 "last_access_s", "description", "activating_job", "reference_arn", "creation_type",
                 "sequence_information", "files")

    id: str
    store_id: str
    name: Optional[str]
    sample_id: Optional[str]
    subject_id: Optional[str]
    file_type: str
    status: str
    creation_time_s: float
    last_access_s: float
    description: Optional[str]
    activating_job: Optional[str]
    reference_arn: Optional[str]
    creation_type: str
    sequence_information: Optional[Dict[str, Any]]
    files: Optional[Dict[str, Any]]

    @property
    def generated_from(self) -> Optional[str]:
        """``sequenceInformation.generatedFrom`` (None when absent)."""
        info = self.sequence_information
        return info.get("generatedFrom") if info else None

    def describe(self, store_arn: str) -> Dict[str, Any]:
        """The ``ReadSetListItem`` shape (ListReadSets)."""
        return {
            "id": self.id, "arn": f"{store_arn}/readSet/{self.id}", "sequenceStoreId": self.store_id,
            "subjectId": self.subject_id, "sampleId": self.sample_id, "status": self.status, "name": self.name,
            "description": self.description, "referenceArn": self.reference_arn, "fileType": self.file_type,
            "sequenceInformation": self.sequence_information, "creationTime": self.creation_time_s,
            "creationType": self.creation_type,
        }

    def describe_metadata(self, store_arn: str) -> Dict[str, Any]:
        """The ``GetReadSetMetadataResponse`` shape: the list item plus ``files``."""
        out = self.describe(store_arn)
        out["files"] = self.files
        return out


@dataclass
class SequenceStore:
    """A sequence store: its read sets and activation jobs (by ID), and their listing
    indexes (:class:`~.listing.OrderedIndex`, built on first use for the profile's
    order and kept up to date from then on).

    Every status change of a read set or job of the store goes through
    :meth:`set_status` (so the indexes follow); new ones through :meth:`add_read_set`
    and :meth:`add_job`.
    """

    id: str
    name: Optional[str]
    description: Optional[str]
    creation_time_s: float
    arn: str
    read_sets: Dict[str, ReadSet] = field(default_factory=dict)
    jobs: Dict[str, Job] = field(default_factory=dict)
    _indexes: Dict[str, OrderedIndex] = field(default_factory=dict, repr=False)

    def describe(self) -> Dict[str, Any]:
        """The ``SequenceStoreDetail`` / ``GetSequenceStoreResponse`` shape."""
        return {
            "id": self.id, "arn": self.arn, "name": self.name, "description": self.description,
            "creationTime": self.creation_time_s, "status": "ACTIVE", "eTagAlgorithmFamily": "MD5up",
        }

    def add_read_set(self, rs: ReadSet) -> None:
        """Add (or replace, same ID) a read set."""
        index = self._indexes.get("readsets")
        old = self.read_sets.get(rs.id)
        if index is not None and old is not None:
            index.remove(old)
        self.read_sets[rs.id] = rs
        if index is not None:
            index.add(rs)

    def add_job(self, job: Job) -> None:
        """Add a new activation job of this store."""
        self.jobs[job.id] = job
        index = self._indexes.get("jobs")
        if index is not None:
            index.add(job)

    def set_status(self, item: Any, status: str) -> None:
        """Set a read set's or job's ``status``, keeping the indexes in step."""
        old = item.status
        item.status = status
        index = self._indexes.get("readsets" if isinstance(item, ReadSet) else "jobs")
        if index is not None:
            index.move(item, old, status)

    def index(self, kind: str, behaviour: Any) -> OrderedIndex:
        """The ``"readsets"`` or ``"jobs"`` index in ``behaviour``'s order (built or
        rebuilt when the order differs)."""
        index = self._indexes.get(kind)
        if index is None or index.order != behaviour.list_order:
            items = self.read_sets.values() if kind == "readsets" else self.jobs.values()
            index = self._indexes[kind] = OrderedIndex(behaviour.list_order, behaviour.order_key(f"{kind}:{self.id}"), items)
        return index


@dataclass
class Source:
    """One source of an activation job. ``fail_message``: an injected fault (the source
    FAILS with it when it would finish)."""

    read_set_id: str
    status: str = "NOT_STARTED"
    status_message: Optional[str] = None
    fail_message: Optional[str] = None

    def describe(self) -> Dict[str, Any]:
        """The ``ActivateReadSetSourceItem`` shape."""
        return {"readSetId": self.read_set_id, "status": self.status, "statusMessage": self.status_message}


@dataclass
class Job:
    """A read set activation job. ``forced_failure``: an injected fault (the job ends
    FAILED with this message); ``started``: the job has left SUBMITTED for IN_PROGRESS."""

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
    started: bool = False

    def describe(self, list_sources: bool = True) -> Dict[str, Any]:
        """The ``GetReadSetActivationJobResponse`` shape; ``sources: []`` unless
        ``list_sources`` (the profile decides, :meth:`.profiles.Behaviour.lists_sources`)."""
        return {
            "id": self.id, "sequenceStoreId": self.store_id, "status": self.status,
            "statusMessage": self.status_message, "creationTime": self.creation_time_s,
            "completionTime": self.completion_time_s,
            "sources": [s.describe() for s in self.sources] if list_sources else [],
        }

    def summary(self) -> Dict[str, Any]:
        """The ``ActivateReadSetJobItem`` shape (ListReadSetActivationJobs)."""
        return {"id": self.id, "sequenceStoreId": self.store_id, "status": self.status,
                "creationTime": self.creation_time_s, "completionTime": self.completion_time_s}

    def start_answer(self) -> Dict[str, Any]:
        """The ``StartReadSetActivationJobResponse`` shape."""
        return {"id": self.id, "sequenceStoreId": self.store_id, "status": self.status, "creationTime": self.creation_time_s}

    def as_dict(self) -> Dict[str, Any]:
        """Plain-data view for tests and the admin API (times in epoch seconds): the wire
        shape plus ``clientToken`` and ``startTime`` (when it leaves or left SUBMITTED)."""
        out = self.describe()
        out.update(clientToken=self.client_token, startTime=self.start_time_s)
        return {k: out[k] for k in ("id", "sequenceStoreId", "status", "statusMessage", "clientToken",
                                    "creationTime", "startTime", "completionTime", "sources")}
