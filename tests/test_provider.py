"""ReadSetActivationProvider lifecycle against the emulator, in process.

The provider's clock is swapped for the emulator's manual clock (sleeping advances
emulated time), so minute-long activations run in milliseconds and nothing sleeps.
The same lifecycle through the SDK's real provider server is in test_engine_lifecycle.py.
"""

from __future__ import annotations

import base64
import pickle

import pytest
from pulumi.dynamic.dynamic import serialize_provider

import omics_dynamic.provider as provider_module
from omics_dynamic import (
    ActivationFailedError,
    ActivationTimeoutError,
    AwsCallError,
    ReadSetsUnusableError,
    outputs,
)
from omics_dynamic.provider import ReadSetActivationProvider


def _store(emulator, statuses):
    store = emulator.create_store(read_sets=statuses)
    return store, sorted(emulator.read_set_statuses(store))


def _inputs(store, ids, **extra):
    news = {"sequence_store_id": store, "read_set_ids": list(ids), "resource_name": "cohort", **extra}
    checked = ReadSetActivationProvider().check({}, news)
    assert checked.failures == []
    return checked.inputs


def test_create_with_mixed_statuses_activates_only_archived(provider, emulator, capfd):
    store, ids = _store(emulator, ["ARCHIVED"] * 25 + ["ACTIVE"] * 3 + ["ACTIVATING"] * 2)
    before = emulator.read_set_statuses(store)
    result = provider.create(_inputs(store, ids + ids[:5]))  # duplicates are dropped
    outs = result.outs
    archived = sorted(r for r, s in before.items() if s == "ARCHIVED")
    assert outs["read_set_ids"] == ids
    assert outs["not_active_read_set_statuses"] == {}
    assert outputs.statuses(outs["read_set_ids"], outs["not_active_read_set_statuses"]) == {r: "ACTIVE" for r in ids}
    assert set(emulator.read_set_statuses(store).values()) == {"ACTIVE"}
    assert outputs.already_active_ids(outs["read_set_ids"], outs["activated_read_set_ids"],
                                      outs["activated_without_job_read_set_ids"]) == \
        sorted(r for r, s in before.items() if s == "ACTIVE")
    # Jobs only for the ARCHIVED read sets: 25 -> 2 jobs of 20 + 5.
    jobs = emulator.jobs()
    assert sorted(len(j["sources"]) for j in jobs) == [5, 20]
    assert sorted(s["readSetId"] for j in jobs for s in j["sources"]) == archived
    assert outs["job_ids"] == sorted(j["id"] for j in jobs)
    # What the jobs activated, and what became ACTIVE under somebody else's activation.
    assert outs["activated_read_set_ids"] == archived
    assert outs["activated_without_job_read_set_ids"] == sorted(r for r, s in before.items() if s == "ACTIVATING")
    assert outs["activation_count"] == 1
    assert outs["activated_at"].endswith("Z")
    assert outs["region"] == "us-east-1"  # the effective region (aws:region), recorded
    assert result.id == provider_module.resource_id("cohort", store, "us-east-1")
    err = capfd.readouterr().err
    assert "cohort: 30 read sets in sequence store" in err
    assert "cohort: all 30 read sets ACTIVE" in err


def test_processing_upload_is_waited_for_without_a_job(provider, emulator):
    store, ids = _store(emulator, ["PROCESSING_UPLOAD", "ACTIVE"])
    original_advance = emulator.advance

    def advance(seconds):  # the upload finishes 2 emulated minutes in
        now = original_advance(seconds)
        if emulator.calls["ListReadSets"] + emulator.calls["GetReadSetMetadata"] >= 3:
            emulator.set_read_set_status(store, ids[0], "ACTIVE")
        return now

    emulator.advance = advance
    outs = provider.create(_inputs(store, ids)).outs
    assert emulator.jobs() == []
    assert outs["not_active_read_set_statuses"] == {}
    # No job activated it: it became ACTIVE when its upload ended; still a re-run trigger.
    assert outs["activated_read_set_ids"] == []
    assert outs["activated_without_job_read_set_ids"] == [ids[0]]
    assert outs["activation_count"] == 1


@pytest.mark.parametrize("n,jobs", [(1, 1), (20, 1), (21, 2), (1001, 51)])
def test_chunking_at_1_20_21_and_1001(provider, emulator, n, jobs):
    store, ids = _store(emulator, ["ARCHIVED"] * n)
    outs = provider.create(_inputs(store, ids)).outs
    assert len(emulator.jobs()) == jobs
    assert max(len(j["sources"]) for j in emulator.jobs()) <= 20
    assert len(outs["activated_read_set_ids"]) == n
    assert set(emulator.read_set_statuses(store).values()) == {"ACTIVE"}


def test_all_active_starts_no_job(provider, emulator):
    store, ids = _store(emulator, ["ACTIVE"] * 30)
    outs = provider.create(_inputs(store, ids)).outs
    assert emulator.jobs() == []
    assert outs["job_ids"] == [] and outs["activation_count"] == 0
    assert emulator.calls["StartReadSetActivationJob"] == 0


def test_unusable_read_sets_fail_before_any_job(provider, emulator):
    store, ids = _store(emulator, ["ARCHIVED"] * 5 + ["DELETED", "UPLOAD_FAILED"])
    with pytest.raises(ReadSetsUnusableError) as info:
        provider.create(_inputs(store, ids + ["9999999999"]))
    assert info.value.statuses["9999999999"] == "NOT_FOUND"
    assert sorted(info.value.statuses.values()) == ["DELETED", "NOT_FOUND", "UPLOAD_FAILED"]
    assert "No activation job was started" in str(info.value)
    assert emulator.jobs() == []


def test_missing_store_is_named_with_request_id(provider, emulator):
    with pytest.raises(AwsCallError) as info:
        provider.create(_inputs("5555555555", ["2000000001"]))
    assert info.value.code == "ResourceNotFoundException"
    assert info.value.request_id and info.value.request_id in str(info.value)
    assert "5555555555" in str(info.value)


def test_throttling_30_percent_is_retried_by_botocore(provider, emulator):
    store, ids = _store(emulator, ["ARCHIVED"] * 60)
    emulator.set_faults(throttle_rate=0.3)
    outs = provider.create(_inputs(store, ids)).outs
    assert outs["not_active_read_set_statuses"] == {}
    throttled = sum(n for (op, outcome), n in emulator.outcomes.items() if outcome == "ThrottlingException")
    assert throttled > 0
    assert len(emulator.jobs()) == 3  # botocore's retries did not start duplicates


def test_concurrency_quota_of_3_waits_for_slots(provider, emulator):
    emulator.set_quota(max_concurrent_jobs=3)
    store, ids = _store(emulator, ["ARCHIVED"] * 200)
    outs = provider.create(_inputs(store, ids)).outs
    assert outs["not_active_read_set_statuses"] == {}
    assert len(emulator.jobs()) == 10
    quota = emulator.outcomes[("StartReadSetActivationJob", "ServiceQuotaExceededException")]
    assert 1 <= quota <= 6  # the window drops to 3 and probes rarely


def test_failed_sources_name_read_set_job_and_message(provider, emulator):
    store, ids = _store(emulator, ["ARCHIVED"] * 30)
    emulator.set_faults(failing_read_sets={ids[3]: "Read set file is corrupt"})
    with pytest.raises(ActivationFailedError) as info:
        provider.create(_inputs(store, ids))
    failure = info.value.failures[0]
    assert [f.read_set_id for f in info.value.failures] == [ids[3]]
    job_of = {s["readSetId"]: j["id"] for j in emulator.jobs() for s in j["sources"]}
    assert failure.job_id == job_of[ids[3]]
    assert "Read set file is corrupt" in str(info.value)
    assert len(info.value.activated) == 29
    # Fault cleared: the next up starts a job only for the failed read set.
    emulator.clear_faults()
    outs = provider.create(_inputs(store, ids)).outs
    assert outs["not_active_read_set_statuses"] == {}
    assert [s["readSetId"] for s in emulator.jobs()[-1]["sources"]] == [ids[3]]
    assert len(emulator.jobs()) == 3


def test_read_set_deleted_during_the_wait_fails_clearly(provider, emulator):
    store, ids = _store(emulator, ["ARCHIVED"] * 5)
    original_advance = emulator.advance
    deleted = {}

    def advance(seconds):
        if not deleted and emulator.jobs():
            emulator.set_read_set_status(store, ids[0], "DELETED")
            deleted["done"] = True
        return original_advance(seconds)

    emulator.advance = advance
    with pytest.raises(ActivationFailedError) as info:
        provider.create(_inputs(store, ids))
    assert [f.read_set_id for f in info.value.failures] == [ids[0]]
    assert "DELETED" in str(info.value)


def test_timeout_then_rerun_starts_no_duplicate(provider, emulator):
    store, ids = _store(emulator, ["ARCHIVED"] * 50)
    emulator.set_faults(delay_next_jobs=3, delay_seconds=600)
    with pytest.raises(ActivationTimeoutError) as info:
        provider.create(_inputs(store, ids, timeout_seconds=120))
    assert len(info.value.running_job_ids) == 3
    assert "next `pulumi up` resumes" in str(info.value)
    jobs_before = len(emulator.jobs())
    outs = provider.create(_inputs(store, ids, timeout_seconds=3600)).outs
    assert len(emulator.jobs()) == jobs_before == 3
    assert sorted(outs["job_ids"]) == sorted(info.value.running_job_ids)
    assert outs["not_active_read_set_statuses"] == {}


def test_diff_of_a_read_set_deleted_since_says_up_will_fail_not_wait(provider, emulator, capfd):
    """A read set DELETED since the last up (with another ARCHIVED): diff's reason says the up
    will fail and how to fix it (create and update refuse unusable read sets before any job),
    not that it will activate or wait."""
    store, ids = _store(emulator, ["ARCHIVED"] * 4)
    news = _inputs(store, ids)
    outs = provider.create(news).outs
    capfd.readouterr()
    emulator.set_read_set_status(store, ids[0], "DELETED")
    emulator.archive(store, ids[1:2])
    assert provider.diff("rsa-id", outs, news).changes is True
    assert ("cohort: update: 2 of 4 read sets are not ACTIVE in HealthOmics (1 ARCHIVED, 1 DELETED; e.g. "
            f"{min(ids[:2])}); `pulumi up` will fail: 1 of them cannot be activated; remove them from "
            "read_set_ids (or the selection that gave them), then it will activate 1 read set (") in capfd.readouterr().err


def test_rearchive_live_diff_update_reactivates(provider, emulator, capfd):
    store, ids = _store(emulator, ["ARCHIVED"] * 10)
    news = _inputs(store, ids)
    outs = provider.create(news).outs
    rid = "rsa-id"
    assert provider.diff(rid, outs, news).changes is False
    emulator.archive(store, ids[:4])
    diff = provider.diff(rid, outs, news)
    assert diff.changes is True and diff.replaces == []
    assert "4 of 10 read sets are not ACTIVE in HealthOmics (4 ARCHIVED" in capfd.readouterr().err
    updated = provider.update(rid, outs, news).outs
    assert updated["activation_count"] == 2
    assert updated["activated_read_set_ids"] == ids[:4]
    assert len(updated["job_ids"]) == 1 and updated["job_ids"][0] not in outs["job_ids"]
    assert set(emulator.read_set_statuses(store).values()) == {"ACTIVE"}
    # Without the live check the same re-archive is invisible to diff.
    emulator.archive(store, ids[:2])
    quiet = _inputs(store, ids, check_live_status=False)
    calls = sum(emulator.calls.values())
    assert provider.diff(rid, {**updated, "check_live_status": False}, quiet).changes is False
    assert sum(emulator.calls.values()) == calls


def test_refresh_shows_drift_and_diff_sees_it(provider, emulator):
    store, ids = _store(emulator, ["ARCHIVED"] * 6)
    news = _inputs(store, ids, check_live_status=False)
    outs = provider.create(news).outs
    emulator.archive(store, ids[:2])
    jobs = len(emulator.jobs())
    refreshed = provider.read("rsa-id", outs)
    assert refreshed.id == "rsa-id"
    assert refreshed.outs["not_active_read_set_statuses"] == {ids[0]: "ARCHIVED", ids[1]: "ARCHIVED"}
    assert refreshed.outs["region"] == "us-east-1"
    assert len(emulator.jobs()) == jobs  # refresh starts no job
    assert provider.diff("rsa-id", refreshed.outs, news).changes is True


def test_tuning_change_alone_is_an_update_without_aws_calls(provider, emulator):
    store, ids = _store(emulator, ["ARCHIVED"] * 3)
    news = _inputs(store, ids, check_live_status=False)
    outs = provider.create(news).outs
    calls = sum(emulator.calls.values())
    tuned = _inputs(store, ids, check_live_status=False, timeout_seconds=60, max_concurrent_jobs=2)
    assert provider.diff("rsa-id", outs, tuned).changes is True
    updated = provider.update("rsa-id", outs, tuned).outs
    assert sum(emulator.calls.values()) == calls
    assert updated["timeout_seconds"] == 60 and updated["max_concurrent_jobs"] == 2
    assert updated["job_ids"] == outs["job_ids"] and updated["activation_count"] == 1


def _configured(region):
    from pulumi.dynamic import ConfigureRequest
    from pulumi.dynamic.config import Config

    prov = ReadSetActivationProvider()
    prov.configure(ConfigureRequest(Config({"aws:region": region, "omics-dynamic:rateLimit": "0"}, "proj")))
    return prov


def test_store_or_effective_region_change_is_a_replace(provider, emulator, capfd):
    store, ids = _store(emulator, ["ACTIVE"] * 2)
    news = _inputs(store, ids, check_live_status=False)
    olds = provider.create(news).outs
    assert olds["region"] == "us-east-1"  # aws:region, recorded
    other = _inputs("1234567899", ids, check_live_status=False)
    assert provider.diff("x", olds, other).replaces == ["sequence_store_id"]
    # The region input names another region than the recorded one: replace.
    assert provider.diff("x", olds, _inputs(store, ids, region="eu-west-1", check_live_status=False)).replaces == ["region"]
    # The input now names the region aws:region gave: nothing changes.
    assert provider.diff("x", olds, _inputs(store, ids, region="us-east-1", check_live_status=False)).changes is False
    # No input, and aws:region moved to us-west-2: the effective region changed.
    moved = _configured("us-west-2").diff("x", olds, news)
    assert moved.replaces == ["region"]
    assert "cohort: replace: region changed (us-east-1 -> us-west-2, from the provider configuration)" in \
        capfd.readouterr().err
    # State written before the region was recorded (region None) never replaces.
    legacy = {**olds, "region": None}
    assert _configured("us-west-2").diff("x", legacy, news).changes is False


def test_delete_changes_nothing(provider, emulator, capfd):
    provider.delete("x", {"resource_name": "cohort"})
    assert sum(emulator.calls.values()) == 0
    assert "cohort: delete changes nothing in AWS" in capfd.readouterr().err


def test_provider_pickles_by_reference_small_and_stable():
    first = serialize_provider(ReadSetActivationProvider())
    raw = base64.b64decode(first)
    assert len(raw) < 200
    assert raw == base64.b64decode(serialize_provider(ReadSetActivationProvider()))
    assert b"omics_dynamic.provider" in raw and b"/" not in raw  # no checkout path
    assert isinstance(pickle.loads(raw), ReadSetActivationProvider)


def test_outputs_hold_no_credentials(provider, emulator):
    store, ids = _store(emulator, ["ARCHIVED"] * 2)
    outs = provider.create(_inputs(store, ids)).outs
    assert "test" not in repr({k: v for k, v in outs.items() if k != "resource_name"}).replace("'", " ").split()
    assert "aws_secret_access_key" not in repr(vars(provider)).lower()


#: The SDK's serialisation of the provider, byte for byte: protocol 4, module and class
#: name only. Python 3.9 to 3.13 all produce exactly this (see the next test); 3.14 moves
#: pickle's default protocol to 5 and would change the header.
GOLDEN_PROVIDER = ("gASVOwAAAAAAAACMFm9taWNzX2R5bmFtaWMucHJvdmlkZXKUjBlSZWFkU2V0QWN0aXZhdGlvblByb3ZpZGVy"
                   "lJOUKYGULg==")


def test_provider_serialisation_is_the_golden_string():
    assert serialize_provider(ReadSetActivationProvider()) == GOLDEN_PROVIDER


def test_other_python_versions_pickle_the_provider_identically(tmp_path):
    import glob
    import subprocess

    interpreters = sorted(set(glob.glob("/root/.pyenv/versions/3.*/bin/python3")) |
                          set(glob.glob("/usr/bin/python3.[0-9]*")))
    interpreters = [p for p in interpreters if not p.endswith("-config")]
    if not interpreters:
        pytest.skip("no other Python interpreters on this machine")
    pkg = tmp_path / "omics_dynamic"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "provider.py").write_text("class ReadSetActivationProvider:\n    pass\n")
    code = ("import base64, pickle, sys; sys.path.insert(0, sys.argv[1]);"
            "from omics_dynamic.provider import ReadSetActivationProvider as P;"
            "print(sys.version_info[0], sys.version_info[1], pickle.DEFAULT_PROTOCOL,"
            " base64.b64encode(pickle.dumps(P(), protocol=pickle.DEFAULT_PROTOCOL)).decode())")
    checked = 0
    for python in interpreters:
        out = subprocess.run([python, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=60)
        if out.returncode != 0:
            continue
        major, minor, protocol, blob = out.stdout.split()
        if (int(major), int(minor)) >= (3, 9) and int(protocol) == 4:
            assert blob == GOLDEN_PROVIDER, python
            checked += 1
    assert checked >= 1


def test_client_tokens_are_derived_from_the_inputs(provider, emulator):
    """A rerun of the same create sends the same tokens (design.md section 2, rule 9); a token that
    HealthOmics answers with an already ended job is resubmitted under another token
    (see test_faults.py::test_rerun_after_a_failed_job_of_one_whole_chunk_starts_a_new_job)."""
    from omics_dynamic.planning import client_token

    store, ids = _store(emulator, ["ARCHIVED"] * 25)
    provider.create(_inputs(store, ids))
    tokens = sorted(j["clientToken"] for j in emulator.jobs())
    assert tokens == sorted([client_token(store, ids[:20], "cohort/create", attempt=1),
                             client_token(store, ids[20:], "cohort/create", attempt=1)])


def test_rerun_adopts_jobs_whose_read_sets_are_already_activating(provider, emulator, capfd):
    """After an interrupted or timed-out up, the rerun watches the jobs still running even
    when their read sets are ACTIVATING (not only ARCHIVED): they are its job_ids and its
    progress counts them."""
    store, ids = _store(emulator, ["ARCHIVED"] * 20)
    with pytest.raises(ActivationTimeoutError) as info:
        provider.create(_inputs(store, ids, timeout_seconds=20))  # job starts at 5 s, runs 60 s
    [job_id] = info.value.running_job_ids
    assert set(emulator.read_set_statuses(store).values()) == {"ACTIVATING"}
    assert info.value.counts == {"ACTIVATING": 20}  # counted when the budget ran out
    assert "cohort: timed out: 0/20 read sets active" in capfd.readouterr().err
    outs = provider.create(_inputs(store, ids)).outs
    assert outs["job_ids"] == [job_id]
    assert len(emulator.jobs()) == 1
    assert "1 job(s) already in flight, 0 to start" in capfd.readouterr().err


def test_failing_source_of_an_adopted_job_is_reported_not_waited_out(provider, emulator):
    store, ids = _store(emulator, ["ARCHIVED"] * 20)
    emulator.set_faults(failing_read_sets={ids[3]: "Read set file is corrupt"})
    with pytest.raises(ActivationTimeoutError) as info:
        provider.create(_inputs(store, ids, timeout_seconds=20))
    [job_id] = info.value.running_job_ids
    started = emulator.now()
    with pytest.raises(ActivationFailedError) as failed:
        provider.create(_inputs(store, ids, timeout_seconds=3600))
    assert emulator.now() - started < 200  # reported when the job ends, not at the timeout
    assert [(f.read_set_id, f.job_id) for f in failed.value.failures] == [(ids[3], job_id)]
    assert "Read set file is corrupt" in str(failed.value)
    assert len(emulator.jobs()) == 1


def test_read_set_falling_back_to_archived_without_a_job_gets_one(provider, emulator):
    store, ids = _store(emulator, ["ACTIVATING", "ACTIVE"])
    original_advance = emulator.advance
    fell_back = {}

    def advance(seconds):  # somebody else's activation of ids[0] fails: ARCHIVED again
        now = original_advance(seconds)
        if not fell_back:
            emulator.set_read_set_status(store, ids[0], "ARCHIVED")
            fell_back["done"] = True
        return now

    emulator.advance = advance
    outs = provider.create(_inputs(store, ids)).outs
    assert [[s["readSetId"] for s in j["sources"]] for j in emulator.jobs()] == [[ids[0]]]
    assert outs["not_active_read_set_statuses"] == {}
    assert outs["activated_read_set_ids"] == [ids[0]]


class _Listener:
    """A local TCP listener that accepts connections and then either never answers
    (``mode="silent"``) or closes them at once (``mode="close"``)."""

    def __init__(self, mode: str):
        import socket
        import threading

        self.mode = mode
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.held = []
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            if self.mode == "close":
                conn.close()
            else:
                self.held.append(conn)

    def close(self):
        self.sock.close()
        for conn in self.held:
            conn.close()


@pytest.mark.parametrize("mode", ["silent", "close"])
def test_live_check_against_a_dead_endpoint_falls_back_to_state_within_its_bound(provider, emulator, monkeypatch, capfd, mode):
    """A preview against an endpoint that never answers, or drops every
    connection, falls back to state within LIVE_CHECK_TIMEOUT_S (here 2 s) plus a call's
    slack, and the warning says so, naming the call that got no answer. The assertion
    allows 30 s, half botocore's read timeout, so a loaded machine passes."""
    import time as _time

    store, ids = _store(emulator, ["ACTIVE"] * 3)
    news = _inputs(store, ids)
    olds = {**news, "region": "us-east-1", "not_active_read_set_statuses": {}}
    listener = _Listener(mode)
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL_OMICS", listener.url)
        monkeypatch.setattr(provider_module, "LIVE_CHECK_TIMEOUT_S", 2.0)
        t0 = _time.monotonic()
        diff = provider.diff("rsa-id", olds, news)
        elapsed = _time.monotonic() - t0
    finally:
        listener.close()
    assert diff.changes is False  # state says all ACTIVE
    assert elapsed < 30.0, elapsed  # not botocore's 60 s read timeout; loaded machines take seconds
    err = capfd.readouterr().err
    assert "cohort: warning: live status check got no usable answer within 2s" in err
    assert "using state only" in err
    # ... and says why: the call that got no answer, and what botocore's attempts met.
    assert "statuses known, all ACTIVE): ListReadSets could not complete within the time budget: " in err, err
    if mode == "close":
        assert "the last answer was ConnectionClosedError (no request ID)" in err, err


def _refused_url() -> str:
    """An endpoint on a local port nobody listens on (connection refused)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_create_against_an_endpoint_never_reached_fails_within_two_minutes_naming_it(provider, emulator,
                                                                                      monkeypatch):
    """A mistyped endpoint (connection refused): once no attempt has connected for
    UNREACHABLE_AT_START_S (120 s on the run's clock) since the first one, the create fails
    for good (EndpointUnreachable, not transient) well before timeout_seconds, naming the
    endpoint, the last failure and what to check, saying more time does not help; no job
    was started anywhere."""
    from omics_dynamic.aws import UNREACHABLE_AT_START_S
    from omics_dynamic.errors import AwsCallError

    store, ids = _store(emulator, ["ARCHIVED"] * 3)
    url = _refused_url()
    monkeypatch.setenv("AWS_ENDPOINT_URL_OMICS", url)
    t0 = emulator.now()
    with pytest.raises(AwsCallError) as info:
        provider.create(_inputs(store, ids))
    waited_s = emulator.now() - t0
    assert UNREACHABLE_AT_START_S <= waited_s < UNREACHABLE_AT_START_S + 60, waited_s
    err = info.value
    assert (err.code, err.transient) == ("EndpointUnreachable", False)
    text = str(err)
    assert f"no connection to {url} could be made for 120s, since the first attempt (EndpointConnectionError: " in text
    assert (f"HealthOmics could not be reached at {url}: check the endpoint settings (omics-dynamic:endpoint, "
            "AWS_ENDPOINT_URL_OMICS, the AWS config file's services section), the region, and the network "
            "path (proxy, VPC endpoint); more time does not help; nothing was started") in text
    assert emulator.jobs() == []


def test_connection_errors_after_an_answer_stay_transient(aws_test_env):
    """Once an attempt has been answered, a connection error is an outage to wait out (the
    run's budget bounds it, BudgetExhaustedError), never EndpointUnreachable."""
    from omics_dynamic.errors import BudgetExhaustedError
    from omics_emulator import Emulator
    from support import make_api

    with Emulator(rate_limit=0) as emu:
        store, ids = _store(emu, ["ACTIVE"])
        api = make_api(emu)
        assert api.get_read_set(store, ids[0])["status"] == "ACTIVE"
        clock = api.clock
    # The emulator has stopped: its port refuses connections from now on.
    api.bound(clock.now() + 600)
    with pytest.raises(BudgetExhaustedError) as info:
        api.get_read_set(store, ids[0])
    err = info.value
    assert err.unreachable and err.last_error is not None and err.last_error.code == "EndpointConnectionError"
