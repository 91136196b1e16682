"""Faults and admin actions through unmodified boto3: cancel_job, stuck_next_token,
hold_response_s, throttle_next, lose_start_responses. Manual clock; the only real wait
is hold_response_s's, which is defined in real seconds (kept under a second here)."""

from __future__ import annotations

import json
import threading
import time
import urllib.request

import botocore.config
import botocore.exceptions
import pytest

NO_RETRY = botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"})
IDS = [f"10000000{i:02d}" for i in range(1, 9)]
STORE = "2000000007"


@pytest.fixture
def store(emulator):
    return emulator.create_store(name="f", store_id=STORE, read_sets=[{"id": i, "status": "ARCHIVED"} for i in IDS])


@pytest.fixture
def client(omics_client):
    return omics_client(config=NO_RETRY)


def _start(client, ids, **kw):
    return client.start_read_set_activation_job(sequenceStoreId=STORE, sources=[{"readSetId": i} for i in ids], **kw)


def _job(client, job_id):
    return client.get_read_set_activation_job(sequenceStoreId=STORE, id=job_id)


# ------------------------------------------------------------------ cancel_job


def test_cancel_in_progress_job(emulator, store, client):
    emulator.set_read_set_status(store, IDS[0], "ACTIVE")  # finishes at start: stays FINISHED and ACTIVE
    job_id = _start(client, IDS[:3])["id"]
    emulator.advance(10)
    assert emulator.read_set_statuses(store)[IDS[1]] == "ACTIVATING"
    cancelled_at = emulator.now()
    assert emulator.cancel_job(job_id)["status"] == "CANCELLING"
    job = _job(client, job_id)
    assert (job["status"], job["statusMessage"]) == ("CANCELLING", "Cancellation requested")
    assert "completionTime" not in job
    assert [j["status"] for j in client.list_read_set_activation_jobs(
        sequenceStoreId=store, filter={"status": "CANCELLING"})["activationJobs"]] == ["CANCELLING"]
    emulator.advance(4.9)
    assert _job(client, job_id)["status"] == "CANCELLING"
    assert emulator.read_set_statuses(store)[IDS[1]] == "ACTIVATING"
    emulator.advance(0.1)  # cancelling_s = 5
    job = _job(client, job_id)
    assert (job["status"], job["statusMessage"]) == ("CANCELLED", "Job cancelled before all read sets were activated")
    assert job["completionTime"].timestamp() == pytest.approx(cancelled_at + 5, abs=0.01)
    assert [(s["status"], s.get("statusMessage")) for s in job["sources"]] == [
        ("FINISHED", "Read set is already ACTIVE; no activation needed"), ("IN_PROGRESS", None), ("IN_PROGRESS", None)]
    emulator.advance(200)  # the sources never finish
    assert _job(client, job_id)["status"] == "CANCELLED"
    assert [emulator.read_set_statuses(store)[i] for i in IDS[:3]] == ["ACTIVE", "ARCHIVED", "ARCHIVED"]


def test_cancel_submitted_job_never_starts_and_counts_toward_quota_until_cancelled(emulator, store, client):
    emulator.set_quota(max_concurrent_jobs=1)
    job_id = _start(client, IDS[:2])["id"]
    emulator.cancel_job(job_id, cancelling_s=30)
    emulator.advance(10)  # past queue_seconds: a cancelling job does not start
    job = _job(client, job_id)
    assert (job["status"], [s["status"] for s in job["sources"]]) == ("CANCELLING", ["NOT_STARTED", "NOT_STARTED"])
    assert emulator.read_set_statuses(store)[IDS[0]] == "ARCHIVED"
    with pytest.raises(client.exceptions.ServiceQuotaExceededException):
        _start(client, IDS[2:3])
    emulator.advance(20)
    assert _job(client, job_id)["status"] == "CANCELLED"
    assert _start(client, IDS[2:3])["status"] == "SUBMITTED"


def test_cancel_errors_and_admin_api(emulator, store, client):
    job_id = _start(client, IDS[:1])["id"]
    with pytest.raises(KeyError, match="activation job '9999999999' does not exist"):
        emulator.cancel_job("9999999999")
    with pytest.raises(ValueError, match="cancelling_s must be"):
        emulator.cancel_job(job_id, cancelling_s=-1)
    req = urllib.request.Request(f"{emulator.endpoint_url}/_emulator/cancel-job", method="POST",
                                 data=json.dumps({"job_id": job_id, "cancelling_s": 0}).encode())
    with urllib.request.urlopen(req, timeout=10) as resp:
        assert json.loads(resp.read())["status"] == "CANCELLED"  # cancelling_s 0: CANCELLED at once
    with pytest.raises(ValueError, match=f"activation job {job_id} is CANCELLED; only SUBMITTED or IN_PROGRESS"):
        emulator.cancel_job(job_id)


# ------------------------------------------------------------------ stuck_next_token


def test_stuck_next_token_repeats_forever(emulator, store, client):
    job_id = _start(client, IDS[:1])["id"]
    emulator.set_faults(stuck_next_token={"ListReadSetActivationJobs": True})
    first = client.list_read_set_activation_jobs(sequenceStoreId=store)
    token = first["nextToken"]  # a token although one job fits one page
    assert [j["id"] for j in first["activationJobs"]] == [job_id]
    for _ in range(5):
        page = client.list_read_set_activation_jobs(sequenceStoreId=store, nextToken=token)
        assert page["nextToken"] == token
    with pytest.raises(botocore.exceptions.PaginationError, match="same next token"):
        list(client.get_paginator("list_read_set_activation_jobs").paginate(sequenceStoreId=store))
    # Other list operations are not affected.
    assert "nextToken" not in client.list_read_sets(sequenceStoreId=store)


def test_stuck_next_token_on_read_sets_repeats_the_page(emulator, store, client):
    emulator.set_faults(stuck_next_token=["ListReadSets"])
    first = client.list_read_sets(sequenceStoreId=store, maxResults=3)
    second = client.list_read_sets(sequenceStoreId=store, maxResults=3, nextToken=first["nextToken"])
    third = client.list_read_sets(sequenceStoreId=store, maxResults=3, nextToken=second["nextToken"])
    assert [r["id"] for r in first["readSets"]] == IDS[:3]
    assert [r["id"] for r in second["readSets"]] == [r["id"] for r in third["readSets"]] == IDS[3:6]
    assert second["nextToken"] == third["nextToken"] == first["nextToken"]
    with pytest.raises(ValueError, match="stuck_next_token: unknown operation 'GetReadSetMetadata'"):
        emulator.set_faults(stuck_next_token={"GetReadSetMetadata": True})


# ------------------------------------------------------------------ hold_response_s


def test_hold_response_holds_only_that_operation_without_the_lock(emulator, store, omics_client):
    client = omics_client(config=botocore.config.Config(retries={"total_max_attempts": 1}, read_timeout=30))
    job_id = _start(client, IDS[:1])["id"]
    emulator.set_faults(hold_response_s={"GetReadSetActivationJob": 30.0})
    held = {}

    def held_call():
        held["job"] = _job(client, job_id)

    thread = threading.Thread(target=held_call)
    thread.start()
    deadline = time.monotonic() + 10
    while emulator.calls["GetReadSetActivationJob"] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    # The held request has run; others are served meanwhile (the backend lock is free).
    other = omics_client(config=NO_RETRY)
    assert other.get_read_set_metadata(sequenceStoreId=store, id=IDS[1])["status"] == "ARCHIVED"
    emulator.advance(100)
    assert thread.is_alive() and "job" not in held
    emulator.app.release_held()  # what Emulator.stop does
    thread.join(timeout=10)
    assert held["job"]["status"] == "SUBMITTED"  # computed before the hold, answered after it


def test_held_start_response_times_out_but_the_job_exists(emulator, store, omics_client):
    client = omics_client(config=botocore.config.Config(retries={"total_max_attempts": 1}, read_timeout=0.3))
    emulator.set_faults(hold_response_s={"StartReadSetActivationJob": 30.0})
    with pytest.raises(botocore.exceptions.ReadTimeoutError):
        _start(client, IDS[:1], clientToken="t-1")
    assert [j["clientToken"] for j in emulator.jobs()] == ["t-1"]
    emulator.app.release_held()
    with pytest.raises(ValueError, match=r"hold_response_s\['\*'\] must be a finite number of real seconds"):
        emulator.set_faults(hold_response_s=-1)


# ------------------------------------------------------------------ throttle_next


def test_throttle_next_counts_down_per_operation(emulator, store, client):
    emulator.set_faults(throttle_next={"GetReadSetMetadata": 2})
    for _ in range(2):
        with pytest.raises(client.exceptions.ThrottlingException) as ei:
            client.get_read_set_metadata(sequenceStoreId=store, id=IDS[0])
        assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert client.list_read_sets(sequenceStoreId=store)["readSets"]  # another operation: not throttled
    assert client.get_read_set_metadata(sequenceStoreId=store, id=IDS[0])["id"] == IDS[0]
    assert emulator.outcomes[("GetReadSetMetadata", "ThrottlingException")] == 2
    emulator.set_faults(throttle_next={"*": 1})
    with pytest.raises(client.exceptions.ThrottlingException):
        client.list_read_set_activation_jobs(sequenceStoreId=store)
    assert client.list_read_set_activation_jobs(sequenceStoreId=store)["activationJobs"] == []


def test_throttle_next_is_retried_by_botocore_and_not_charged_to_the_rate_limit(emulator, store, omics_client):
    emulator.set_quota(rate_limit={"readsets": 1})  # one request per emulated second, burst 1
    emulator.set_faults(throttle_next={"GetReadSetMetadata": 3})
    client = omics_client(config=botocore.config.Config(retries={"max_attempts": 5, "mode": "standard"}))
    meta = client.get_read_set_metadata(sequenceStoreId=store, id=IDS[0])
    assert meta["ResponseMetadata"]["RetryAttempts"] == 3
    assert emulator.outcomes[("GetReadSetMetadata", "OK")] == 1


# ------------------------------------------------------------------ lose_start_responses


def test_lost_start_response_creates_the_job_and_answers_500(emulator, store, client):
    emulator.set_faults(lose_start_responses=1)
    with pytest.raises(client.exceptions.InternalServerException) as ei:
        _start(client, IDS[:2])
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    [lost] = emulator.jobs()
    assert [s["readSetId"] for s in lost["sources"]] == IDS[:2]
    second = _start(client, IDS[2:4])["id"]
    assert [j["id"] for j in emulator.jobs()] == [lost["id"], second]
    with pytest.raises(ValueError, match="lose_start_responses must be an integer >= 0"):
        emulator.set_faults(lose_start_responses=-1)


@pytest.mark.parametrize("profile, jobs", [("default", 1), ("token-ignored", 2)])
def test_lost_start_response_retried_with_a_token(emulator, store, omics_client, profile, jobs):
    """botocore retries the 500 with the same clientToken: the old job comes back under
    "default"; under "token-ignored" the retry starts a duplicate job."""
    emulator.set_profile(profile)
    emulator.set_faults(lose_start_responses=1)
    client = omics_client(config=botocore.config.Config(retries={"max_attempts": 3, "mode": "standard"}))
    started = _start(client, IDS[:2], clientToken="run-1")
    assert started["ResponseMetadata"]["RetryAttempts"] == 1
    assert len(emulator.jobs()) == jobs
    assert started["id"] == emulator.jobs()[-1]["id"]


def test_faults_in_state_and_cleared_by_reset(emulator):
    emulator.set_faults(throttle_next={"ListReadSets": 2}, lose_start_responses=1,
                        stuck_next_token={"ListReadSets": True}, hold_response_s={"*": 0.5})
    faults = emulator.state()["faults"]
    assert (faults["throttle_next"], faults["lose_start_responses"], faults["stuck_next_token"], faults["hold_response_s"]) == (
        {"ListReadSets": 2}, 1, {"ListReadSets": True}, {"*": 0.5})
    emulator.clear_faults()
    assert emulator.state()["faults"]["hold_response_s"] == {}
