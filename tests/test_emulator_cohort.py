"""The shipped cohort seed (realistic metadata) and ListReadSets' filters, through boto3.

Expected values come from the seed file itself (data/cohort.json), so each filter is
checked against an independent reading of the data, not against the emulator's code.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter

import pytest

from omics_emulator import COHORT_PATH, COHORT_STORE_ID, Emulator, SeedError
from omics_emulator.make_seed import build

SEED = json.loads(COHORT_PATH.read_text())["sequenceStores"][0]["readSets"]
BY_ID = {r["id"]: r for r in SEED}


def _created(r):
    return dt.datetime.strptime(r["creationTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)


def _order(rs):
    """The default listing order: creationTime, then ID."""
    return [r["id"] for r in sorted(rs, key=lambda r: (_created(r), r["id"]))]


@pytest.fixture
def client(emulator, omics_client):
    emulator.seed("cohort")
    return omics_client()


def _list(client, **flt):
    pages = client.get_paginator("list_read_sets").paginate(sequenceStoreId=COHORT_STORE_ID, filter=flt)
    return [r for page in pages for r in page["readSets"]]


# ------------------------------------------------------------------ the seed file


def test_seed_file_is_the_generator_output():
    assert COHORT_PATH.read_text(encoding="utf-8") == json.dumps(build(), indent=1) + "\n"


def test_cohort_keeps_its_ids_status_mix_and_shape():
    assert len(SEED) == len(BY_ID) == 1000
    assert Counter(r["status"] for r in SEED) == {
        "ARCHIVED": 798, "ACTIVE": 115, "ACTIVATING": 41, "UPLOAD_FAILED": 24, "DELETED": 22}
    assert Counter(r["fileType"] for r in SEED) == {"FASTQ": 718, "BAM": 180, "CRAM": 102}
    # The seed's first read sets have the IDs and statuses tests and the demo rely on.
    assert [(r["id"], r["status"]) for r in SEED[:3]] == [
        ("4663788828", "ARCHIVED"), ("5624596743", "ARCHIVED"), ("9129548985", "DELETED")]
    per_sample = Counter(r["sampleId"] for r in SEED)
    per_subject = Counter(r["subjectId"] for r in SEED)
    assert (len(per_sample), len(per_subject)) == (359, 296)
    assert min(per_sample.values()) >= 2 and max(per_subject.values()) >= 5
    assert all(r["sampleId"].startswith(r["subjectId"] + "-") for r in SEED)


def test_cohort_metadata_is_consistent():
    for r in SEED:
        info, files = r.get("sequenceInformation"), r.get("files")
        if r["status"] == "UPLOAD_FAILED":
            assert info is None and files is None and r["creationType"] == "UPLOAD"
            continue
        assert info["totalBaseCount"] == info["totalReadCount"] * 150
        assert info["alignment"] == ("UNALIGNED" if r["fileType"] == "FASTQ" else "ALIGNED")
        expected_files = {"source1", "source2"} if r["fileType"] == "FASTQ" else {"source1", "index"}
        assert set(files) == expected_files
        for f in files.values():
            assert f["totalParts"] == -(-f["contentLength"] // f["partSize"])
            assert f["s3Access"]["s3Uri"].split("/", 3)[3].startswith(
                f"123456789012/sequenceStore/{COHORT_STORE_ID}/readSet/{r['id']}/")
        assert ("referenceArn" in r) == (r["fileType"] != "FASTQ")
    # An aligned read set holds all of its sample's reads (both FASTQ lanes).
    checked = 0
    for r in SEED:
        lanes = [x for x in SEED if x["sampleId"] == r["sampleId"] and x["fileType"] == "FASTQ"]
        if r["fileType"] != "FASTQ" and all("sequenceInformation" in x for x in lanes + [r]):
            assert sum(x["sequenceInformation"]["totalReadCount"] for x in lanes) == r["sequenceInformation"]["totalReadCount"]
            checked += 1
    assert checked > 250


# ------------------------------------------------------------------ on the wire


def test_metadata_of_a_paired_fastq_and_an_aligned_read_set(client):
    fastq = client.get_read_set_metadata(sequenceStoreId=COHORT_STORE_ID, id="4663788828")
    seed = BY_ID["4663788828"]
    assert (fastq["name"], fastq["sampleId"], fastq["subjectId"], fastq["creationType"]) == (
        "CHRT-0001-10A_S1_L004", "CHRT-0001-10A", "CHRT-0001", "UPLOAD")
    assert fastq["sequenceInformation"] == seed["sequenceInformation"]
    assert fastq["files"] == seed["files"]
    assert fastq["files"]["source2"]["s3Access"]["s3Uri"].endswith("/readSet/4663788828/CHRT-0001-10A_S1_L004_R2_001.fastq.gz")
    assert "referenceArn" not in fastq
    cram = client.get_read_set_metadata(sequenceStoreId=COHORT_STORE_ID, id="9129548985")
    assert cram["referenceArn"] == "arn:aws:omics:us-east-1:123456789012:referenceStore/4032960817/reference/2881303957"
    assert set(cram["files"]) == {"source1", "index"}
    assert cram["files"]["index"]["s3Access"]["s3Uri"].endswith(".GRCh38.cram.crai")


def test_listing_carries_sequence_information_not_files(client):
    items = {r["id"]: r for r in _list(client)}
    assert len(items) == 1000
    for rid, r in items.items():
        assert r.get("sequenceInformation") == BY_ID[rid].get("sequenceInformation")
        assert r.get("referenceArn") == BY_ID[rid].get("referenceArn")
        assert r["creationType"] == BY_ID[rid]["creationType"]
        assert "files" not in r


REFERENCE_38 = "arn:aws:omics:us-east-1:123456789012:referenceStore/4032960817/reference/2881303957"


@pytest.mark.parametrize(
    "flt, predicate",
    [
        ({"name": "CHRT-0001-10A_S1_L004"}, lambda r: r["name"] == "CHRT-0001-10A_S1_L004"),
        ({"name": "CHRT-0001-10A"}, lambda r: False),  # exact match, not prefix
        ({"status": "ACTIVATING"}, lambda r: r["status"] == "ACTIVATING"),
        ({"sampleId": "CHRT-0001-01A"}, lambda r: r["sampleId"] == "CHRT-0001-01A"),
        ({"subjectId": "CHRT-0001"}, lambda r: r["subjectId"] == "CHRT-0001"),
        ({"referenceArn": REFERENCE_38}, lambda r: r.get("referenceArn") == REFERENCE_38),
        ({"referenceArn": ""}, lambda r: "referenceArn" not in r),
        ({"generatedFrom": "Illumina NovaSeq X Plus"},
         lambda r: r.get("sequenceInformation", {}).get("generatedFrom") == "Illumina NovaSeq X Plus"),
        ({"creationType": "UPLOAD"}, lambda r: r["creationType"] == "UPLOAD"),
        ({"createdAfter": dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc),
          "createdBefore": dt.datetime(2025, 3, 1, tzinfo=dt.timezone.utc)},
         lambda r: dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc) <= _created(r) <= dt.datetime(2025, 3, 1, tzinfo=dt.timezone.utc)),
        ({"status": "ARCHIVED", "subjectId": "CHRT-0002", "creationType": "IMPORT"},
         lambda r: (r["status"], r["subjectId"], r["creationType"]) == ("ARCHIVED", "CHRT-0002", "IMPORT")),
    ],
)
def test_list_read_sets_filters(client, flt, predicate):
    expected = _order([r for r in SEED if predicate(r)])
    assert [r["id"] for r in _list(client, **flt)] == expected
    assert expected or flt == {"name": "CHRT-0001-10A"}


def test_every_filter_member_of_the_model_is_supported():
    from omics_emulator.listing import READ_SET_FILTERS
    from omics_emulator.model import service_model

    members = set(service_model().shape_for("ReadSetFilter").members)
    assert members == set(READ_SET_FILTERS) | {"createdAfter", "createdBefore"}


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"sequenceInformation": {"totalBaseCount": "many"}}, "readSets[0].sequenceInformation.totalBaseCount"),
        ({"files": {"source1": {"totalParts": 0}}}, "readSets[0].files.source1.totalParts"),
        ({"referenceArn": "GRCh38"}, "readSets[0].referenceArn"),
        ({"creationType": "COPY"}, "enum value set: [IMPORT, UPLOAD]"),
    ],
)
def test_seed_metadata_is_checked_against_the_model(entry, message):
    with pytest.raises(SeedError) as ei:
        Emulator(seed={"sequenceStores": [{"readSets": [entry]}]})
    assert message in str(ei.value)
