"""Behaviour profiles: each open choice's wire behaviour through unmodified boto3.

The "default" profile is the rest of the emulator suite (unchanged); here each other
choice is shown on the wire. Manual clock: nothing sleeps.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import urllib.request

import boto3
import botocore.config
import pytest

from omics_emulator import PROFILES, Behaviour, Emulator

NO_RETRY = botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"})
IDS = [f"10000000{i:02d}" for i in range(1, 51)]
STORE = "2000000005"


def _emulator(**kw) -> Emulator:
    return Emulator(manual_clock=True, rate_limit=0, **kw)


@pytest.fixture
def store(emulator):
    return emulator.create_store(
        name="p", store_id=STORE,
        read_sets=[{"id": rid, "status": "ARCHIVED", "creationTime": f"2024-01-01T00:{i // 60:02d}:{i % 60:02d}Z"}
                   for i, rid in enumerate(IDS)])


@pytest.fixture
def client(omics_client):
    return omics_client(config=NO_RETRY)


def _start(client, ids, **kw):
    return client.start_read_set_activation_job(sequenceStoreId=STORE, sources=[{"readSetId": i} for i in ids], **kw)


def _job(client, job_id):
    return client.get_read_set_activation_job(sequenceStoreId=STORE, id=job_id)


# ------------------------------------------------------------------ the profiles themselves


def test_named_profiles_are_the_contract():
    assert list(PROFILES) == ["default", "token-conflict", "token-mismatch", "token-ignored", "paging", "lagging",
                              "finalizing", "eventual"]
    # `python -m omics_emulator --help` lists every one.
    import omics_emulator.__main__ as cli
    assert [name for name in PROFILES if f"``{name}``" not in (cli.__doc__ or "")] == []
    assert PROFILES["default"] == Behaviour(
        page_size=None, list_order="creation", empty_pages=0, reused_token="old-job",
        sources_while_submitted="listed", non_archived_source="finished", activating_lag_s=0.0,
        transitional_status="FINALIZING", transitional_s=0.0, job_visible_after_s=0.0)
    assert PROFILES["token-conflict"] == Behaviour(reused_token="conflict")
    assert PROFILES["token-mismatch"] == Behaviour(reused_token="mismatch")
    assert PROFILES["token-ignored"] == Behaviour(reused_token="ignored")
    assert PROFILES["paging"] == Behaviour(page_size=7, list_order="shuffled", empty_pages=2)
    assert PROFILES["lagging"] == Behaviour(sources_while_submitted="empty", non_archived_source="failed", activating_lag_s=30.0)
    assert PROFILES["finalizing"] == Behaviour(transitional_s=30.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        PROFILES["default"].page_size = 3  # frozen


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"page_size": 0}, "page_size must be an integer >= 1"),
        ({"list_order": "random"}, "list_order must be one of 'creation', 'id-desc', 'shuffled', got 'random'"),
        ({"empty_pages": -1}, "empty_pages must be an integer >= 0"),
        ({"reused_token": "old"}, "reused_token must be one of 'old-job', 'conflict', 'mismatch', 'ignored'"),
        ({"sources_while_submitted": "none"}, "sources_while_submitted must be one of"),
        ({"non_archived_source": "ok"}, "non_archived_source must be one of"),
        ({"activating_lag_s": -5}, "activating_lag_s must be a finite number"),
        ({"transitional_s": -1}, "transitional_s must be a finite number"),
        ({"transitional_status": ""}, "transitional_status must be a non-empty string"),
    ],
)
def test_bad_behaviour_names_the_field(fields, message):
    with pytest.raises(ValueError) as ei:
        Behaviour(**fields)
    assert message in str(ei.value)


def test_profile_argument_and_set_profile(aws_test_env):
    emu = _emulator()
    assert (emu.profile, emu.behaviour) == ("default", PROFILES["default"])
    assert _emulator(profile="paging").behaviour == PROFILES["paging"]
    assert _emulator(profile=Behaviour(list_order="id-desc")).profile == "custom"
    assert _emulator(profile={"reused_token": "conflict"}).profile == "token-conflict"
    assert emu.set_profile("lagging") == "lagging" and emu.behaviour.activating_lag_s == 30.0
    with pytest.raises(ValueError, match="unknown emulator profile 'fast'; use one of default, token-conflict"):
        _emulator(profile="fast")
    with pytest.raises(TypeError, match=r"unknown behaviour field\(s\) \['pagesize'\]"):
        emu.set_profile({"pagesize": 3})


# ------------------------------------------------------------------ listings


def _walk(client, operation, key, **params):
    pages = list(client.get_paginator(operation).paginate(**params))
    return pages, [item["id"] for page in pages for item in page[key]]


def test_paging_profile_paginator_gets_every_read_set_once(emulator, store, client):
    emulator.set_profile("paging")
    pages, ids = _walk(client, "list_read_sets", "readSets", sequenceStoreId=store)
    assert sorted(ids) == IDS and len(ids) == len(set(ids))
    # 50 read sets in pages of at most 7 (8 pages), each after two empty pages.
    assert [len(p["readSets"]) for p in pages] == [0, 0, 7] * 7 + [0, 0, 1]
    assert ids != IDS and ids != sorted(IDS, reverse=True)  # neither creation nor ID order
    assert _walk(client, "list_read_sets", "readSets", sequenceStoreId=store)[1] == ids  # a stable permutation
    # maxResults below page_size wins; a filter keeps the same order.
    pages, small = _walk(client, "list_read_sets", "readSets", sequenceStoreId=store, PaginationConfig={"PageSize": 3})
    assert max(len(p["readSets"]) for p in pages) == 3 and small == ids
    emulator.set_read_set_status(store, IDS[7], "ACTIVE")
    assert _walk(client, "list_read_sets", "readSets", sequenceStoreId=store, filter={"status": "ARCHIVED"})[1] == [
        i for i in ids if i != IDS[7]]


def test_paging_profile_empty_listing_answers_its_empty_pages(emulator, client):
    emulator.set_profile("paging")
    empty = emulator.create_store(name="empty", store_id="2000000006")
    first = client.list_read_sets(sequenceStoreId=empty)
    assert first["readSets"] == [] and first["nextToken"]
    second = client.list_read_sets(sequenceStoreId=empty, nextToken=first["nextToken"])
    assert second["readSets"] == [] and second["nextToken"] not in (None, first["nextToken"])
    third = client.list_read_sets(sequenceStoreId=empty, nextToken=second["nextToken"])
    assert third["readSets"] == [] and "nextToken" not in third


def test_paging_profile_applies_to_activation_jobs_and_stores(emulator, store, client):
    emulator.set_profile("paging")
    started = []
    for i in range(10):
        started.append(_start(client, IDS[i:i + 1])["id"])
        emulator.advance(1)
    pages, ids = _walk(client, "list_read_set_activation_jobs", "activationJobs", sequenceStoreId=store)
    assert sorted(ids) == sorted(started) and ids != started
    assert [len(p["activationJobs"]) for p in pages] == [0, 0, 7, 0, 0, 3]
    for n in range(8):
        emulator.create_store(name=f"s{n}")
    pages, stores = _walk(client, "list_sequence_stores", "sequenceStores")
    assert len(stores) == len(set(stores)) == 9 and max(len(p["sequenceStores"]) for p in pages) == 7


def test_id_desc_order(emulator, store, client):
    emulator.set_profile(Behaviour(list_order="id-desc"))
    assert _walk(client, "list_read_sets", "readSets", sequenceStoreId=store)[1] == sorted(IDS, reverse=True)


def test_next_token_from_another_order_is_refused(emulator, store, client):
    first = client.list_read_sets(sequenceStoreId=store, maxResults=5)
    emulator.set_profile("paging")
    with pytest.raises(client.exceptions.ValidationException, match="different filter or resource"):
        client.list_read_sets(sequenceStoreId=store, maxResults=5, nextToken=first["nextToken"])


# ------------------------------------------------------------------ reused clientToken


def test_token_conflict_answers_409(emulator, store, client):
    emulator.set_profile("token-conflict")
    job_id = _start(client, IDS[:2], clientToken="run-1")["id"]
    emulator.advance(100)
    assert _job(client, job_id)["status"] == "COMPLETED"
    for sources in (IDS[:2], IDS[2:4]):  # same or other sources: 409 either way
        with pytest.raises(client.exceptions.ConflictException) as ei:
            _start(client, sources, clientToken="run-1")
        err = ei.value.response
        assert (err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]) == ("ConflictException", 409)
        assert "token already used" in err["Error"]["Message"] and job_id not in err["Error"]["Message"]
    assert [j["id"] for j in emulator.jobs()] == [job_id]
    emulator.advance(86400)  # the token is forgotten after 24 emulated hours
    assert _start(client, IDS[:2], clientToken="run-1")["id"] != job_id


def test_token_mismatch_answers_400(emulator, store, client):
    emulator.set_profile("token-mismatch")
    job_id = _start(client, IDS[:2], clientToken="run-1")["id"]
    with pytest.raises(client.exceptions.ValidationException) as ei:
        _start(client, IDS[:2], clientToken="run-1")
    err = ei.value.response
    assert (err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]) == ("ValidationException", 400)
    assert "clientToken 'run-1' was already used for another request" in err["Error"]["Message"]
    assert job_id not in err["Error"]["Message"]
    assert len(emulator.jobs()) == 1


def test_token_ignored_starts_a_new_job_per_call(emulator, store, client):
    emulator.set_profile("token-ignored")
    ids = {_start(client, IDS[:2], clientToken="run-1")["id"] for _ in range(3)}
    assert len(ids) == 3
    assert [j["clientToken"] for j in emulator.jobs()] == ["run-1"] * 3


def test_default_token_returns_the_old_job_whatever_its_status(emulator, store, client):
    job_id = _start(client, IDS[:2], clientToken="run-1")["id"]
    emulator.advance(100)
    again = _start(client, IDS[1::-1], clientToken="run-1")
    assert (again["id"], again["status"]) == (job_id, "COMPLETED")


# ------------------------------------------------------------------ lagging


@pytest.fixture
def lagging(aws_test_env):
    with Emulator(manual_clock=True, rate_limit=0, jitter=0, profile="lagging") as emu:
        emu.create_store(name="lag", store_id=STORE, read_sets=[{"id": i, "status": "ARCHIVED"} for i in IDS[:6]])
        yield emu


def test_lagging_sources_empty_while_submitted(lagging):
    client = lagging.client(config=NO_RETRY)
    job_id = _start(client, IDS[:2])["id"]
    job = _job(client, job_id)
    assert (job["status"], job["sources"]) == ("SUBMITTED", [])
    assert lagging.jobs()[0]["sources"] != []  # the emulator knows them; the wire does not say
    lagging.advance(5)
    job = _job(client, job_id)
    assert job["status"] == "IN_PROGRESS"
    assert [(s["readSetId"], s["status"]) for s in job["sources"]] == [(IDS[0], "IN_PROGRESS"), (IDS[1], "IN_PROGRESS")]


def test_lagging_fails_sources_of_active_or_activating_read_sets(lagging):
    client = lagging.client(config=NO_RETRY)
    lagging.set_read_set_status(STORE, IDS[0], "ACTIVE")
    first = _start(client, IDS[1:2])["id"]
    lagging.advance(5)  # IDS[1] is ACTIVATING by the first job
    second = _start(client, IDS[:3])["id"]
    lagging.advance(5)
    job = _job(client, second)
    assert [(s["status"], s.get("statusMessage")) for s in job["sources"]] == [
        ("FAILED", "read set is ACTIVE; only ARCHIVED read sets can be activated"),
        ("FAILED", "read set is ACTIVATING; only ARCHIVED read sets can be activated"),
        ("IN_PROGRESS", None),
    ]
    lagging.advance(200)
    assert (_job(client, second)["status"], _job(client, first)["status"]) == ("COMPLETED_WITH_FAILURES", "COMPLETED")
    assert [lagging.read_set_statuses(STORE)[i] for i in IDS[:3]] == ["ACTIVE"] * 3


def test_lagging_read_set_stays_activating_after_its_source_finished(lagging):
    client = lagging.client(config=NO_RETRY)
    job_id = _start(client, IDS[:1])["id"]
    lagging.advance(5 + 60)  # queue 5 s, activation 60 s (no jitter): the source finishes now
    job = _job(client, job_id)
    assert (job["status"], job["sources"][0]["status"]) == ("COMPLETED", "FINISHED")
    assert client.get_read_set_metadata(sequenceStoreId=STORE, id=IDS[0])["status"] == "ACTIVATING"
    listed = client.list_read_sets(sequenceStoreId=STORE, filter={"status": "ACTIVATING"})["readSets"]
    assert [r["id"] for r in listed] == [IDS[0]]
    lagging.advance(29.9)
    assert lagging.read_set_statuses(STORE)[IDS[0]] == "ACTIVATING"
    lagging.advance(0.1)  # activating_lag_s = 30
    assert client.get_read_set_metadata(sequenceStoreId=STORE, id=IDS[0])["status"] == "ACTIVE"


def test_default_lists_sources_while_submitted_and_finishes_non_archived(emulator, store, client):
    emulator.set_read_set_status(store, IDS[0], "ACTIVE")
    job_id = _start(client, IDS[:2])["id"]
    assert [s["status"] for s in _job(client, job_id)["sources"]] == ["NOT_STARTED", "NOT_STARTED"]
    emulator.advance(5)
    assert _job(client, job_id)["sources"][0]["status"] == "FINISHED"


# ------------------------------------------------------------------ admin API and CLI


def _admin(emu, action, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"{emu.endpoint_url}/_emulator/{action}", data=data, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def test_admin_api_profile(emulator):
    assert _admin(emulator, "profile") == (200, {"profile": "default", "behaviour": PROFILES["default"].as_dict()})
    status, body = _admin(emulator, "profile", {"profile": "paging"})
    assert status == 200 and body["profile"] == "paging" and body["behaviour"]["page_size"] == 7
    assert emulator.behaviour == PROFILES["paging"]
    status, body = _admin(emulator, "profile", {"profile": {"activating_lag_s": 12}})
    assert (status, body["profile"], emulator.behaviour.activating_lag_s) == (200, "custom", 12)
    status, body = _admin(emulator, "profile", {"profile": "nope"})
    assert status == 400 and "unknown emulator profile 'nope'" in body["message"]
    assert _admin(emulator, "state")[1]["profile"] == "custom"
    _admin(emulator, "reset", {})
    assert emulator.profile == "custom"  # reset clears counters and faults, not the profile


def test_cli_profile(aws_test_env):
    proc = subprocess.Popen(
        [sys.executable, "-m", "omics_emulator", "--port", "0", "--rate-limit", "0", "--profile", "paging", "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        url = proc.stdout.readline().strip()
        client = boto3.client("omics", endpoint_url=url, region_name="us-east-1",
                              config=botocore.config.Config(inject_host_prefix=False, retries={"total_max_attempts": 1}))
        first = client.list_read_sets(sequenceStoreId="1234567890")
        assert first["readSets"] == [] and first["nextToken"]  # the paging profile's empty pages
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    done = subprocess.run([sys.executable, "-m", "omics_emulator", "--profile", "nope"],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "invalid choice: 'nope'" in done.stderr


def test_finalizing_profile_reports_an_undocumented_status_through_boto3(emulator, client):
    """After its job, a read set reads FINALIZING (not in botocore's ReadSetStatus enum)
    for 30 emulated seconds, then ACTIVE; boto3 hands the value through unchanged; no
    status listing can ask for it (the filter is validated against the enum)."""
    emulator.set_profile("finalizing")
    store = emulator.create_store(read_sets=["ARCHIVED"])
    [rid] = emulator.read_set_statuses(store)
    client.start_read_set_activation_job(sequenceStoreId=store, clientToken="t1", sources=[{"readSetId": rid}])
    for _ in range(1000):  # until the source finishes (activation_seconds, with jitter)
        if emulator.read_set_statuses(store)[rid] not in ("ARCHIVED", "ACTIVATING"):
            break
        emulator.advance(0.5)
    assert client.get_read_set_metadata(sequenceStoreId=store, id=rid)["status"] == "FINALIZING"
    emulator.advance(29)
    assert emulator.read_set_statuses(store)[rid] == "FINALIZING"
    assert [r["status"] for r in client.list_read_sets(sequenceStoreId=store)["readSets"]] == ["FINALIZING"]
    with pytest.raises(client.exceptions.ValidationException):
        client.list_read_sets(sequenceStoreId=store, filter={"status": "FINALIZING"})
    emulator.advance(1)
    assert client.get_read_set_metadata(sequenceStoreId=store, id=rid)["status"] == "ACTIVE"
