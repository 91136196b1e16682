"""Seed loading: the JSON format that fills the emulator with stores and read sets.

Format (read set members use the wire names of ``GetReadSetMetadataResponse``)::

    {"sequenceStores": [
        {"id": "1234567890", "name": "cohort", "creationTime": "2024-01-01T00:00:00Z",
         "readSets": [
            {"id": "1000000001", "name": "CHRT-0001-10A_S1_L001", "sampleId": "CHRT-0001-10A",
             "subjectId": "CHRT-0001", "fileType": "FASTQ", "status": "ARCHIVED",
             "creationTime": "2024-03-01T10:00:00Z", "creationType": "IMPORT",
             "referenceArn": "arn:aws:omics:...:referenceStore/1/reference/2",
             "sequenceInformation": {"totalReadCount": 8917334, "totalBaseCount": 677717384,
                                     "generatedFrom": "Illumina NovaSeq 6000", "alignment": "UNALIGNED"},
             "files": {"source1": {"totalParts": 3, "partSize": 104857600, "contentLength": 310054739,
                                   "s3Access": {"s3Uri": "s3://..."}},
                       "source2": {...}}}]}]}

Defaults for missing fields: store ``id`` generated (10 digits), ``name``
``"store-<id>"``; read set ``id`` generated, ``name`` ``"readset-<id>"``,
``fileType`` FASTQ, ``status`` ARCHIVED, ``creationTime`` the emulator's now,
``creationType`` IMPORT, no sample/subject ID, reference, sequence information or files.
Every member is checked against its shape in the service model (IDs, names, enums,
nested ``sequenceInformation`` and ``files`` structures).

``"cohort"`` (or :data:`COHORT_PATH`) names the shipped realistic seed
``data/cohort.json`` (one store, id :data:`COHORT_STORE_ID`, ~1,000 read sets).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, List, Mapping, Union

from botocore.utils import parse_timestamp

from .exceptions import SeedError
from .model import ModelValidationError, service_model, validate

__all__ = ["COHORT_PATH", "COHORT_STORE_ID", "load_seed"]

COHORT_PATH = Path(__file__).with_name("data") / "cohort.json"
#: Store ID of the shipped cohort seed.
COHORT_STORE_ID = "1234567890"

_READ_SET_FIELDS = {
    "id": "ReadSetId",
    "name": "ReadSetName",
    "sampleId": "SampleId",
    "subjectId": "SubjectId",
    "fileType": "FileType",
    "status": "ReadSetStatus",
    "description": "ReadSetDescription",
    "referenceArn": "ReferenceArn",
    "creationType": "CreationType",
    "sequenceInformation": "SequenceInformation",
    "files": "ReadSetFiles",
}
_STORE_FIELDS = {"id": "SequenceStoreId", "name": "SequenceStoreName", "description": "SequenceStoreDescription"}


def _read(source: Union[str, os.PathLike, Mapping[str, Any]]) -> Mapping[str, Any]:
    if isinstance(source, Mapping):
        return source
    if str(source) == "cohort":
        source = COHORT_PATH
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SeedError(f"seed file {str(path)!r} cannot be read ({exc.strerror}); pass an existing JSON file or 'cohort'") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise SeedError(f"seed file {str(path)!r} is not valid JSON ({exc}); fix the file") from None
    if not isinstance(data, Mapping):
        raise SeedError(f"seed file {str(path)!r} must hold a JSON object with 'sequenceStores'")
    return data


def _check_fields(entry: Mapping[str, Any], fields: Mapping[str, str], where: str) -> None:
    model = service_model()
    for key, shape_name in fields.items():
        if key in entry and entry[key] is not None:
            try:
                validate(model.shape_for(shape_name), entry[key], f"{where}.{key}")
            except ModelValidationError as exc:
                raise SeedError(f"seed: {exc}; fix the value or remove the field for the default") from None


def _time(entry: Mapping[str, Any], key: str, where: str, default_s: float) -> float:
    value = entry.get(key)
    if value is None:
        return default_s
    try:
        return parse_timestamp(value).timestamp()
    except (ValueError, TypeError, OverflowError):
        raise SeedError(
            f"seed {where}.{key}: {value!r} is not a timestamp; use ISO 8601 like '2024-01-31T12:00:00Z' or epoch seconds"
        ) from None


def load_seed(source: Union[str, os.PathLike, Mapping[str, Any]], *, now_s: float) -> List[Dict[str, Any]]:
    """Read and check a seed; return normalised store dicts (times as epoch seconds).

    Store dicts: ``id`` (may be None: generate), ``name``, ``description``, ``creationTime``,
    ``readSets``: list of dicts with ``id`` (may be None), ``name``, ``sampleId``,
    ``subjectId``, ``fileType``, ``status``, ``description``, ``creationTime``,
    ``creationType``, ``referenceArn``, ``sequenceInformation``, ``files`` (None when absent).

    :param source: a path, ``"cohort"`` for the shipped seed, or an already parsed dict.
    :param now_s: emulated epoch seconds used for missing creation times.
    :raises SeedError: naming the entry (``sequenceStores[0].readSets[3].status``),
        the bad value and how to fix it.
    """
    data = _read(source)
    stores = data.get("sequenceStores")
    if not isinstance(stores, list):
        raise SeedError("seed must have a 'sequenceStores' list, e.g. {\"sequenceStores\": [{\"name\": \"s\", \"readSets\": []}]}")
    out = []
    seen_ids = set()
    for i, store in enumerate(stores):
        where = f"sequenceStores[{i}]"
        if not isinstance(store, Mapping):
            raise SeedError(f"seed {where} must be an object, got {type(store).__name__}")
        _check_fields(store, _STORE_FIELDS, where)
        read_sets = store.get("readSets", [])
        if not isinstance(read_sets, list):
            raise SeedError(f"seed {where}.readSets must be a list, got {type(read_sets).__name__}")
        norm_rs = []
        for j, rs in enumerate(read_sets):
            rwhere = f"{where}.readSets[{j}]"
            if not isinstance(rs, Mapping):
                raise SeedError(f"seed {rwhere} must be an object, got {type(rs).__name__}")
            _check_fields(rs, _READ_SET_FIELDS, rwhere)
            rid = rs.get("id")
            if rid is not None:
                if rid in seen_ids:
                    raise SeedError(f"seed {rwhere}.id: {rid!r} is used twice; read set IDs must be unique")
                seen_ids.add(rid)
            norm_rs.append({
                "id": rid,
                "name": rs.get("name"),
                "sampleId": rs.get("sampleId"),
                "subjectId": rs.get("subjectId"),
                "description": rs.get("description"),
                "fileType": rs.get("fileType") or "FASTQ",
                "status": rs.get("status") or "ARCHIVED",
                "creationTime": _time(rs, "creationTime", rwhere, now_s),
                "creationType": rs.get("creationType") or "IMPORT",
                "referenceArn": rs.get("referenceArn"),
                "sequenceInformation": rs.get("sequenceInformation"),
                "files": rs.get("files"),
            })
        out.append({
            "id": store.get("id"),
            "name": store.get("name"),
            "description": store.get("description"),
            "creationTime": _time(store, "creationTime", where, now_s),
            "readSets": norm_rs,
        })
    return out
