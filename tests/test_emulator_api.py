"""Contract tests of the emulator through unmodified boto3: operations, errors, validation, pagination."""

from __future__ import annotations

import datetime as dt

import botocore.config
import pytest

from omics_emulator import COHORT_STORE_ID

NO_RETRY = botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"})


def _error(excinfo) -> tuple:
    err = excinfo.value.response
    return err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"], err["ResponseMetadata"]["RequestId"]


@pytest.fixture
def store(emulator):
    return emulator.create_store(
        name="contract",
        read_sets=[
            {"id": "1000000001", "name": "A_R1", "sampleId": "S1", "subjectId": "P1", "status": "ARCHIVED", "creationTime": "2024-01-01T00:00:00Z"},
            {"id": "1000000002", "name": "A_R2", "sampleId": "S1", "subjectId": "P1", "status": "ARCHIVED", "creationTime": "2024-01-02T00:00:00Z"},
            {"id": "1000000003", "name": "B.bam", "sampleId": "S2", "subjectId": "P2", "fileType": "BAM", "status": "ACTIVE", "creationTime": "2024-06-01T00:00:00Z"},
            {"id": "1000000004", "name": "C.cram", "sampleId": "S3", "subjectId": "P2", "fileType": "CRAM", "status": "DELETED", "creationTime": "2025-01-01T00:00:00Z"},
        ],
        store_id="2000000001",
    )


def test_create_get_list_sequence_stores(emulator, omics_client):
    client = omics_client()
    created = client.create_sequence_store(name="my-store", description="d")
    assert created["id"].isdigit() and len(created["id"]) == 10
    assert created["arn"] == f"arn:aws:omics:us-east-1:123456789012:sequenceStore/{created['id']}"
    assert isinstance(created["creationTime"], dt.datetime)
    assert created["creationTime"].timestamp() == pytest.approx(emulator.now(), abs=0.01)
    got = client.get_sequence_store(id=created["id"])
    assert (got["name"], got["description"], got["status"]) == ("my-store", "d", "ACTIVE")
    listed = client.list_sequence_stores(filter={"name": "my-store"})["sequenceStores"]
    assert [s["id"] for s in listed] == [created["id"]]


def test_get_read_set_metadata(emulator, omics_client, store):
    meta = omics_client().get_read_set_metadata(sequenceStoreId=store, id="1000000003")
    assert meta["status"] == "ACTIVE"
    assert (meta["name"], meta["sampleId"], meta["subjectId"], meta["fileType"]) == ("B.bam", "S2", "P2", "BAM")
    assert meta["creationTime"] == dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc)
    assert meta["arn"].endswith(f"sequenceStore/{store}/readSet/1000000003")


@pytest.mark.parametrize(
    "flt, expected",
    [
        ({"status": "ARCHIVED"}, ["1000000001", "1000000002"]),
        ({"name": "B.bam"}, ["1000000003"]),
        ({"sampleId": "S1"}, ["1000000001", "1000000002"]),
        ({"subjectId": "P2"}, ["1000000003", "1000000004"]),
        ({"createdAfter": dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc), "createdBefore": dt.datetime(2024, 12, 31, tzinfo=dt.timezone.utc)},
         ["1000000002", "1000000003"]),
        ({}, ["1000000001", "1000000002", "1000000003", "1000000004"]),
    ],
)
def test_list_read_sets_filters(omics_client, store, flt, expected):
    got = omics_client().list_read_sets(sequenceStoreId=store, filter=flt)["readSets"]
    assert [r["id"] for r in got] == expected


def test_list_read_sets_paginator_walks_the_cohort(emulator, omics_client):
    emulator.seed("cohort")
    client = omics_client()
    pages = list(client.get_paginator("list_read_sets").paginate(
        sequenceStoreId=COHORT_STORE_ID, PaginationConfig={"PageSize": 100}))
    assert len(pages) == 10
    ids = [r["id"] for page in pages for r in page["readSets"]]
    assert len(ids) == len(set(ids)) == 1000
    archived = [r for page in client.get_paginator("list_read_sets").paginate(
        sequenceStoreId=COHORT_STORE_ID, filter={"status": "ARCHIVED"}) for r in page["readSets"]]
    statuses = emulator.read_set_statuses(COHORT_STORE_ID)
    assert len(archived) == sum(1 for s in statuses.values() if s == "ARCHIVED")


def test_next_token_reused_with_other_filter_is_validation_error(omics_client, store):
    client = omics_client(config=NO_RETRY)
    first = client.list_read_sets(sequenceStoreId=store, maxResults=1, filter={"subjectId": "P1"})
    assert [r["id"] for r in first["readSets"]] == ["1000000001"]
    second = client.list_read_sets(sequenceStoreId=store, maxResults=1, filter={"subjectId": "P1"}, nextToken=first["nextToken"])
    assert [r["id"] for r in second["readSets"]] == ["1000000002"]
    assert "nextToken" not in second
    with pytest.raises(client.exceptions.ValidationException) as ei:
        client.list_read_sets(sequenceStoreId=store, maxResults=1, filter={"subjectId": "P2"}, nextToken=first["nextToken"])
    assert "different filter" in str(ei.value)
    with pytest.raises(client.exceptions.ValidationException):
        client.list_read_sets(sequenceStoreId=store, nextToken="garbage")


def test_start_get_list_activation_jobs(emulator, omics_client, store):
    client = omics_client()
    started = client.start_read_set_activation_job(sequenceStoreId=store, sources=[{"readSetId": "1000000001"}], clientToken="t1")
    assert (started["status"], started["sequenceStoreId"]) == ("SUBMITTED", store)
    job = client.get_read_set_activation_job(sequenceStoreId=store, id=started["id"])
    assert job["sources"] == [{"readSetId": "1000000001", "status": "NOT_STARTED"}]
    listed = client.list_read_set_activation_jobs(sequenceStoreId=store)["activationJobs"]
    assert [(j["id"], j["status"]) for j in listed] == [(started["id"], "SUBMITTED")]
    assert client.list_read_set_activation_jobs(sequenceStoreId=store, filter={"status": "COMPLETED"})["activationJobs"] == []


def test_list_activation_jobs_paginator(emulator, omics_client, store):
    client = omics_client()
    ids = []
    for _ in range(5):
        ids.append(client.start_read_set_activation_job(sequenceStoreId=store, sources=[{"readSetId": "1000000001"}])["id"])
        emulator.advance(1)
    pages = list(client.get_paginator("list_read_set_activation_jobs").paginate(
        sequenceStoreId=store, PaginationConfig={"PageSize": 2}))
    assert [len(p["activationJobs"]) for p in pages] == [2, 2, 1]
    assert [j["id"] for p in pages for j in p["activationJobs"]] == ids
    window = client.list_read_set_activation_jobs(sequenceStoreId=store, filter={
        "createdAfter": dt.datetime.fromtimestamp(emulator.now() - 3.5, dt.timezone.utc)})["activationJobs"]
    assert [j["id"] for j in window] == ids[2:]


def test_batch_delete_read_set(emulator, omics_client, store):
    out = omics_client().batch_delete_read_set(sequenceStoreId=store, ids=["1000000001", "9999999999"])
    assert out["errors"] == [{"id": "9999999999", "code": "NotFound", "message": f"Read set 9999999999 not found in sequence store {store}"}]
    assert emulator.read_set_statuses(store)["1000000001"] == "DELETED"


# ------------------------------------------------------------------ errors and validation


@pytest.mark.parametrize(
    "call, message_part",
    [
        (lambda c, s: c.get_read_set_metadata(sequenceStoreId="123", id="1000000001"), "greater than or equal to 10"),
        (lambda c, s: c.get_read_set_metadata(sequenceStoreId="1" * 37, id="1000000001"), "less than or equal to 36"),
        (lambda c, s: c.get_read_set_metadata(sequenceStoreId=s, id="10000000ab"), "regular expression pattern: [0-9]+"),
        (lambda c, s: c.start_read_set_activation_job(sequenceStoreId=s, sources=[]), "greater than or equal to 1"),
        (lambda c, s: c.start_read_set_activation_job(sequenceStoreId=s, sources=[{"readSetId": str(1000000000 + i)} for i in range(21)]),
         "less than or equal to 20"),
        (lambda c, s: c.start_read_set_activation_job(sequenceStoreId=s, sources=[{"readSetId": "1000000001"}], clientToken="x" * 128),
         "less than or equal to 127"),
        (lambda c, s: c.list_read_sets(sequenceStoreId=s, filter={"status": "FROZEN"}), "enum value set"),
        (lambda c, s: c.list_read_set_activation_jobs(sequenceStoreId=s, filter={"status": "DONE"}), "enum value set"),
        (lambda c, s: c.list_read_sets(sequenceStoreId=s, maxResults=101), "less than or equal to 100"),
    ],
)
def test_validation_from_the_model(omics_client, store, call, message_part):
    client = omics_client(config=botocore.config.Config(parameter_validation=False, retries={"total_max_attempts": 1}))
    with pytest.raises(client.exceptions.ValidationException) as ei:
        call(client, store)
    code, status, request_id = _error(ei)
    assert (code, status) == ("ValidationException", 400)
    assert request_id
    assert message_part in ei.value.response["Error"]["Message"]


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.get_sequence_store(id="9999999999"),
        lambda c: c.get_read_set_metadata(sequenceStoreId="9999999999", id="1000000001"),
        lambda c: c.get_read_set_metadata(sequenceStoreId="2000000001", id="9999999999"),
        lambda c: c.get_read_set_activation_job(sequenceStoreId="2000000001", id="9999999999"),
        lambda c: c.list_read_sets(sequenceStoreId="9999999999"),
    ],
)
def test_resource_not_found(omics_client, store, call):
    client = omics_client(config=NO_RETRY)
    with pytest.raises(client.exceptions.ResourceNotFoundException) as ei:
        call(client)
    code, status, request_id = _error(ei)
    assert (code, status) == ("ResourceNotFoundException", 404) and request_id
    assert "not found" in str(ei.value)


@pytest.mark.parametrize(
    "fault, exception, status",
    [
        ({"internal_error_rate": 1.0}, "InternalServerException", 500),
        ({"timeout_rate": 1.0}, "RequestTimeoutException", 408),
        ({"throttle_rate": 1.0}, "ThrottlingException", 429),
        ({"access_denied_stores": ["2000000001"]}, "AccessDeniedException", 403),
    ],
)
def test_fault_error_mapping(emulator, omics_client, store, fault, exception, status):
    client = omics_client(config=NO_RETRY)
    emulator.set_faults(**fault)
    with pytest.raises(getattr(client.exceptions, exception)) as ei:
        client.get_read_set_metadata(sequenceStoreId=store, id="1000000001")
    code, got_status, request_id = _error(ei)
    assert (code, got_status) == (exception, status) and request_id
    assert emulator.outcomes[("GetReadSetMetadata", exception)] == 1
    emulator.clear_faults()
    assert client.get_read_set_metadata(sequenceStoreId=store, id="1000000001")["status"] == "ARCHIVED"


def test_service_quota_exceeded(emulator, omics_client, store):
    client = omics_client(config=NO_RETRY)
    emulator.set_quota(max_concurrent_jobs=2)
    for rid in ("1000000001", "1000000002"):
        client.start_read_set_activation_job(sequenceStoreId=store, sources=[{"readSetId": rid}])
    with pytest.raises(client.exceptions.ServiceQuotaExceededException) as ei:
        client.start_read_set_activation_job(sequenceStoreId=store, sources=[{"readSetId": "1000000003"}])
    code, status, request_id = _error(ei)
    assert (code, status) == ("ServiceQuotaExceededException", 402) and request_id
    assert "2 of 2" in str(ei.value)
    emulator.advance(5)  # both jobs IN_PROGRESS; sources take ~60 s
    with pytest.raises(client.exceptions.ServiceQuotaExceededException):
        client.start_read_set_activation_job(sequenceStoreId=store, sources=[{"readSetId": "1000000003"}])
    emulator.advance(120)  # both finished: room again
    assert [j["status"] for j in emulator.jobs()] == ["COMPLETED", "COMPLETED"]
    assert client.start_read_set_activation_job(sequenceStoreId=store, sources=[{"readSetId": "1000000003"}])["status"] == "SUBMITTED"


def test_rate_limit_token_bucket_on_emulated_clock(emulator, omics_client, store):
    client = omics_client(config=NO_RETRY)
    emulator.set_quota(rate_limit=2)
    for _ in range(2):
        client.get_read_set_metadata(sequenceStoreId=store, id="1000000001")
    with pytest.raises(client.exceptions.ThrottlingException) as ei:
        client.get_read_set_metadata(sequenceStoreId=store, id="1000000001")
    assert _error(ei)[:2] == ("ThrottlingException", 429)
    # Other families have their own buckets.
    assert client.list_read_set_activation_jobs(sequenceStoreId=store)["activationJobs"] == []
    emulator.advance(0.5)  # one token back
    client.get_read_set_metadata(sequenceStoreId=store, id="1000000001")
    with pytest.raises(client.exceptions.ThrottlingException):
        client.get_read_set_metadata(sequenceStoreId=store, id="1000000001")
    assert emulator.outcomes[("GetReadSetMetadata", "OK")] == 3
    assert emulator.outcomes[("GetReadSetMetadata", "ThrottlingException")] == 2
    assert emulator.calls["GetReadSetMetadata"] == 5


def test_botocore_retries_recover_from_30_percent_throttling(emulator, omics_client, store):
    # botocore's own standard retry mode (without its backoff wait: the suite's test mode, conftest.py).
    client = omics_client(config=botocore.config.Config(retries={"max_attempts": 10, "mode": "standard"}))
    emulator.set_faults(throttle_rate=0.3)
    retried = 0
    for _ in range(40):
        meta = client.get_read_set_metadata(sequenceStoreId=store, id="1000000001")
        assert meta["id"] == "1000000001"
        retried += meta["ResponseMetadata"]["RetryAttempts"]
    throttled = emulator.outcomes[("GetReadSetMetadata", "ThrottlingException")]
    assert emulator.outcomes[("GetReadSetMetadata", "OK")] == 40
    assert throttled == retried > 0
    assert 0.15 < throttled / emulator.calls["GetReadSetMetadata"] < 0.45
