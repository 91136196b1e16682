"""Emulator behaviour: job lifecycle on the clock, sources by status, clientToken,
automatic archiving, faults, clocks and seeds. Manual clock only: nothing sleeps."""

from __future__ import annotations

import json

import pytest

from omics_emulator import COHORT_STORE_ID, Emulator, SeedError
from omics_emulator.backend import Backend
from omics_emulator.clock import ManualEmulatedClock, ScaledEmulatedClock

IDS = [f"10000000{i:02d}" for i in range(1, 9)]


@pytest.fixture
def store(emulator):
    return emulator.create_store(name="b", read_sets=[{"id": i, "status": "ARCHIVED"} for i in IDS], store_id="2000000002")


@pytest.fixture
def client(omics_client):
    return omics_client()


def _start(client, store, ids, **kw):
    return client.start_read_set_activation_job(sequenceStoreId=store, sources=[{"readSetId": i} for i in ids], **kw)["id"]


def _job(client, store, job_id):
    return client.get_read_set_activation_job(sequenceStoreId=store, id=job_id)


def test_job_lifecycle_follows_the_clock(emulator, client, store):
    job_id = _start(client, store, IDS[:2])
    assert _job(client, store, job_id)["status"] == "SUBMITTED"
    emulator.advance(4.9)
    assert _job(client, store, job_id)["status"] == "SUBMITTED"
    assert emulator.read_set_statuses(store)[IDS[0]] == "ARCHIVED"
    emulator.advance(0.2)  # queue_seconds (5) passed
    job = _job(client, store, job_id)
    assert job["status"] == "IN_PROGRESS"
    assert [s["status"] for s in job["sources"]] == ["IN_PROGRESS", "IN_PROGRESS"]
    assert emulator.read_set_statuses(store)[IDS[0]] == "ACTIVATING"
    emulator.advance(53)  # 53.1 s in progress: below the 60*(1-0.1) = 54 s jitter floor
    assert _job(client, store, job_id)["status"] == "IN_PROGRESS"
    emulator.advance(15)  # 68.1 s: past 60*(1+0.1) = 66 s
    job = _job(client, store, job_id)
    assert job["status"] == "COMPLETED"
    assert [(s["status"], s["statusMessage"]) for s in job["sources"]] == [("FINISHED", "Read set activated")] * 2
    done = job["completionTime"].timestamp() - job["creationTime"].timestamp()
    assert 5 + 54 <= done <= 5 + 66
    assert [emulator.read_set_statuses(store)[i] for i in IDS[:2]] == ["ACTIVE", "ACTIVE"]


def test_jitter_is_seeded_and_bounded(emulator, client, store):
    _start(client, store, IDS)
    emulator.advance(5 + 53)
    finish = []
    for _ in range(140):
        emulator.advance(0.1)
        statuses = emulator.read_set_statuses(store)
        finish.extend(i for i in IDS if statuses[i] == "ACTIVE" and i not in finish)
    assert sorted(finish) == sorted(IDS)
    assert finish != IDS  # jitter reorders completions
    assert emulator.jobs()[0]["status"] == "COMPLETED"


def test_already_active_or_activating_sources_finish_at_once(emulator, client, store):
    emulator.set_read_set_status(store, IDS[0], "ACTIVE")
    emulator.set_read_set_status(store, IDS[1], "ACTIVATING")
    job_id = _start(client, store, IDS[:2])
    emulator.advance(5)
    job = _job(client, store, job_id)
    assert job["status"] == "COMPLETED"
    assert [s["statusMessage"] for s in job["sources"]] == [
        "Read set is already ACTIVE; no activation needed",
        "Read set is already ACTIVATING; no activation needed",
    ]


@pytest.mark.parametrize("status", ["DELETING", "DELETED", "PROCESSING_UPLOAD", "UPLOAD_FAILED"])
def test_unusable_sources_fail_and_job_completes_with_failures(emulator, client, store, status):
    emulator.set_read_set_status(store, IDS[0], status)
    job_id = _start(client, store, [IDS[0], IDS[1]])
    emulator.advance(5)
    job = _job(client, store, job_id)
    assert job["sources"][0] == {"readSetId": IDS[0], "status": "FAILED",
                                 "statusMessage": f"Read set is {status}; only ARCHIVED read sets can be activated"}
    emulator.advance(70)
    job = _job(client, store, job_id)
    assert (job["status"], job["statusMessage"]) == ("COMPLETED_WITH_FAILURES", "1 of 2 read sets failed to activate")
    assert emulator.read_set_statuses(store)[IDS[0]] == status


def test_unknown_read_set_fails_its_source_and_a_lone_one_fails_the_job(emulator, client, store):
    job_id = _start(client, store, ["9999999999"])
    emulator.advance(5)
    job = _job(client, store, job_id)
    assert job["status"] == "FAILED"
    assert job["sources"][0]["statusMessage"] == f"Read set 9999999999 was not found in sequence store {store}"


def test_read_set_deleted_during_activation_fails_the_source(emulator, client, store):
    job_id = _start(client, store, IDS[:2])
    emulator.advance(30)
    emulator.set_read_set_status(store, IDS[0], "DELETED")
    emulator.advance(60)
    job = _job(client, store, job_id)
    assert job["status"] == "COMPLETED_WITH_FAILURES"
    assert job["sources"][0]["statusMessage"] == "Read set is DELETED; activation was interrupted"
    assert emulator.read_set_statuses(store)[IDS[0]] == "DELETED"


def test_client_token_idempotency_window(emulator, client, omics_client, store):
    first = _start(client, store, IDS[:2], clientToken="tok-1")
    assert _start(client, store, list(reversed(IDS[:2])), clientToken="tok-1") == first
    with pytest.raises(client.exceptions.ValidationException) as ei:
        _start(client, store, IDS[:3], clientToken="tok-1")
    assert f"already used for job {first}" in str(ei.value)
    emulator.advance(86400)
    second = _start(client, store, IDS[:2], clientToken="tok-1")
    assert second != first
    assert [j["clientToken"] for j in emulator.jobs()] == ["tok-1", "tok-1"]


def test_automatic_archiving_after_30_days_without_access(emulator, client, store):
    _start(client, store, IDS[:2])
    emulator.advance(100)
    assert emulator.read_set_statuses(store)[IDS[0]] == "ACTIVE"
    emulator.advance(20 * 86400)
    client.get_read_set_metadata(sequenceStoreId=store, id=IDS[0])  # access resets IDS[0]'s timer
    emulator.advance(10 * 86400)
    statuses = emulator.read_set_statuses(store)
    assert (statuses[IDS[0]], statuses[IDS[1]]) == ("ACTIVE", "ARCHIVED")
    emulator.advance(20 * 86400)
    assert emulator.read_set_statuses(store)[IDS[0]] == "ARCHIVED"


def test_archive_helper_and_errors(emulator, store):
    emulator.set_read_set_status(store, IDS[0], "ACTIVE")
    emulator.archive(store, [IDS[0]])
    assert emulator.read_set_statuses(store)[IDS[0]] == "ARCHIVED"
    with pytest.raises(KeyError, match="9999999999"):
        emulator.archive(store, ["9999999999"])
    with pytest.raises(ValueError, match="ARCHIVED, ACTIVATING"):
        emulator.set_read_set_status(store, IDS[0], "FROZEN")


def test_fault_failing_read_set_and_failed_jobs(emulator, client, store):
    emulator.set_faults(failing_read_sets={IDS[0]: "Restore from archive failed"},
                        fail_jobs_containing={IDS[2]: "Job failed: storage unavailable"}, fail_next_jobs=0)
    a = _start(client, store, IDS[:2])
    b = _start(client, store, IDS[2:4])
    emulator.set_faults(fail_next_jobs=1)
    c = _start(client, store, IDS[4:5])
    d = _start(client, store, IDS[5:6])
    emulator.advance(100)
    ja, jb, jc, jd = (_job(client, store, j) for j in (a, b, c, d))
    assert ja["status"] == "COMPLETED_WITH_FAILURES"
    assert ja["sources"][0]["statusMessage"] == "Restore from archive failed"
    assert (jb["status"], jb["statusMessage"]) == ("FAILED", "Job failed: storage unavailable")
    assert {s["status"] for s in jb["sources"]} == {"FAILED"}
    assert jc["status"] == "FAILED" and jd["status"] == "COMPLETED"
    statuses = emulator.read_set_statuses(store)
    assert [statuses[i] for i in IDS[:6]] == ["ARCHIVED", "ACTIVE", "ARCHIVED", "ARCHIVED", "ARCHIVED", "ACTIVE"]


def test_fault_job_stays_submitted_longer(emulator, client, store):
    emulator.set_faults(delay_next_jobs=1, delay_seconds=600)
    slow = _start(client, store, IDS[:1])
    fast = _start(client, store, IDS[1:2])
    emulator.advance(100)
    assert (_job(client, store, slow)["status"], _job(client, store, fast)["status"]) == ("SUBMITTED", "COMPLETED")
    emulator.advance(600)
    assert _job(client, store, slow)["status"] == "COMPLETED"


def test_fault_settings_are_checked(emulator):
    with pytest.raises(TypeError, match="unknown fault 'explode'"):
        emulator.set_faults(explode=1)
    with pytest.raises(ValueError, match="between 0 and 1"):
        emulator.set_faults(throttle_rate=1.5)
    with pytest.raises(ValueError, match="unknown operation 'GetThing'"):
        emulator.set_faults(internal_error_rate={"GetThing": 0.5})
    with pytest.raises(ValueError, match="rate_limit"):
        emulator.set_quota(rate_limit=-1)


def test_per_operation_fault_rate_only_hits_that_operation(emulator, client, store):
    emulator.set_faults(internal_error_rate={"StartReadSetActivationJob": 1.0})
    client.get_read_set_metadata(sequenceStoreId=store, id=IDS[0])
    with pytest.raises(client.exceptions.InternalServerException):
        _start(client, store, IDS[:1])
    assert emulator.jobs() == []


def test_calls_outcomes_and_reset(emulator, client, store):
    client.get_read_set_metadata(sequenceStoreId=store, id=IDS[0])
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_read_set_metadata(sequenceStoreId=store, id="9999999999")
    assert emulator.calls["GetReadSetMetadata"] == 2
    assert emulator.outcomes[("GetReadSetMetadata", "ResourceNotFoundException")] == 1
    emulator.reset_counters()
    assert sum(emulator.calls.values()) == 0


# ------------------------------------------------------------------ clocks


def test_scaled_clock_progresses_jobs_without_requests():
    real = [1000.0]
    clock = ScaledEmulatedClock(time_scale=60, start_s=0.0, monotonic=lambda: real[0])
    backend = Backend(clock, activation_seconds=60, queue_seconds=5, jitter=0, rate_limit=0)
    store = backend.create_store(read_sets=[{"id": "1000000001"}])
    backend.call("StartReadSetActivationJob", {"sequenceStoreId": store, "sources": [{"readSetId": "1000000001"}]})
    real[0] += 1.0  # one real second = 60 emulated seconds
    assert clock.now() == 60.0
    assert backend.job_dicts()[0]["status"] == "IN_PROGRESS"
    real[0] += 0.1
    assert backend.job_dicts()[0]["status"] == "COMPLETED"
    assert backend.job_dicts()[0]["completionTime"] == pytest.approx(65.0)


def test_clock_argument_errors():
    with pytest.raises(ValueError, match="time_scale must be a positive number"):
        ScaledEmulatedClock(time_scale=0)
    with pytest.raises(ValueError, match=">= 0"):
        ManualEmulatedClock(0).advance(-1)
    with pytest.raises(ValueError, match="activation_seconds"):
        Emulator(activation_seconds=-5)


# ------------------------------------------------------------------ seeds


def test_shipped_cohort_seed(emulator):
    assert emulator.seed("cohort") == [COHORT_STORE_ID]
    statuses = list(emulator.read_set_statuses(COHORT_STORE_ID).values())
    assert len(statuses) == 1000
    assert statuses.count("ARCHIVED") > 700
    assert {"ACTIVE", "ACTIVATING", "DELETED", "UPLOAD_FAILED"} <= set(statuses)


def test_seeded_activating_read_sets_become_active(emulator):
    sid = emulator.create_store(read_sets=[{"id": "1000000009", "status": "ACTIVATING"}])
    emulator.advance(70)
    assert emulator.read_set_statuses(sid) == {"1000000009": "ACTIVE"}


def test_seed_defaults(emulator):
    sid = emulator.seed({"sequenceStores": [{"readSets": [{}]}]})[0]
    [(rid, status)] = emulator.read_set_statuses(sid).items()
    assert status == "ARCHIVED" and rid.isdigit() and len(rid) == 10


@pytest.mark.parametrize(
    "seed, message",
    [
        ({"stores": []}, "'sequenceStores' list"),
        ({"sequenceStores": [{"readSets": [{"id": "12ab567890"}]}]}, "sequenceStores[0].readSets[0].id"),
        ({"sequenceStores": [{"readSets": [{"status": "ARHIVED"}]}]}, "sequenceStores[0].readSets[0].status"),
        ({"sequenceStores": [{"readSets": [{"fileType": "VCF"}]}]}, "enum value set: [FASTQ, BAM, CRAM, UBAM]"),
        ({"sequenceStores": [{"readSets": [{"creationTime": "yesterday"}]}]}, "readSets[0].creationTime: 'yesterday' is not a timestamp"),
        ({"sequenceStores": [{"id": "1"}]}, "sequenceStores[0].id"),
        ({"sequenceStores": [{"readSets": [{"id": "1000000001"}, {"id": "1000000001"}]}]}, "used twice"),
        ({"sequenceStores": ["x"]}, "sequenceStores[0] must be an object"),
    ],
)
def test_seed_errors_name_the_entry(seed, message):
    with pytest.raises(SeedError) as ei:
        Emulator(seed=seed)
    assert message in str(ei.value)


def test_seed_file_errors(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(SeedError, match="is not valid JSON"):
        Emulator(seed=str(bad))
    with pytest.raises(SeedError, match="cannot be read"):
        Emulator(seed=str(tmp_path / "missing.json"))
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"sequenceStores": [{"id": "3000000000", "readSets": [{"id": "3000000001", "status": "ACTIVE"}]}]}))
    assert Emulator(seed=str(good)).read_set_statuses("3000000000") == {"3000000001": "ACTIVE"}
