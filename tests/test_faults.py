"""Faults: ReadSetActivation under throttling, server errors, timeouts, a small quota and
a stuck job; failed jobs and sources; AccessDenied and an unknown store.

In process, on the emulator's manual clock (the provider's sleeps advance emulated time)
and with botocore's retry backoff set to 0 (the test mode in conftest.py), so nothing here sleeps.
Each scenario prints one figure line (emulated seconds, jobs, calls, faults) to stderr.
"""

from __future__ import annotations

import math
import sys
import time
from collections import Counter

import pytest

from omics_dynamic import ActivationFailedError, AwsCallError
from omics_dynamic.provider import ReadSetActivationProvider


def _inputs(store, ids, **extra):
    news = {"sequence_store_id": store, "read_set_ids": list(ids), "resource_name": "cohort", **extra}
    checked = ReadSetActivationProvider().check({}, news)
    assert checked.failures == []
    return checked.inputs


def _store(emulator, n, status="ARCHIVED"):
    store = emulator.create_store(read_sets=[status] * n)
    return store, sorted(emulator.read_set_statuses(store))


def _per_read_set(emulator, since=0) -> Counter:
    return Counter(s["readSetId"] for j in emulator.jobs()[since:] for s in j["sources"])


def _faults_seen(emulator) -> dict:
    seen: Counter = Counter()
    for (_op, outcome), n in emulator.outcomes.items():
        if outcome != "OK":
            seen[outcome] += n
    return dict(seen)


def _figure(name: str, emulator, t0_emulated: float, t0_real: float) -> None:
    print(f"\nfault scenario {name}: {emulator.now() - t0_emulated:.0f} emulated s, "
          f"{time.monotonic() - t0_real:.2f} real s, {len(emulator.jobs())} jobs, "
          f"{sum(emulator.calls.values())} calls, faults {_faults_seen(emulator)}", file=sys.stderr)


def test_throttling_server_errors_timeouts_quota_and_a_stuck_job_together(provider, emulator):
    store, ids = _store(emulator, 100)
    emulator.set_quota(max_concurrent_jobs=2)
    emulator.set_faults(throttle_rate=0.3, internal_error_rate=0.1, timeout_rate=0.05,
                        delay_next_jobs=1, delay_seconds=1800)
    t0, r0 = emulator.now(), time.monotonic()
    outs = provider.create(_inputs(store, ids)).outs
    _figure("mixed", emulator, t0, r0)
    assert outs["not_active_read_set_statuses"] == {}
    assert set(emulator.read_set_statuses(store).values()) == {"ACTIVE"}
    seen = _faults_seen(emulator)
    for code in ("ThrottlingException", "InternalServerException", "RequestTimeoutException",
                 "ServiceQuotaExceededException"):
        assert seen.get(code, 0) > 0, (code, seen)
    # Every retried start was answered once: each read set is in exactly one job.
    assert set(_per_read_set(emulator).values()) == {1}
    assert len(emulator.jobs()) == math.ceil(100 / 20)
    assert sorted(outs["job_ids"]) == sorted(j["id"] for j in emulator.jobs())
    # The stuck job held a quota slot for 1800 s: the run outlasted it, it did not time out.
    assert emulator.now() - t0 >= 1800


def test_a_job_stuck_in_submitted_is_waited_for_with_sparse_polls(provider, emulator):
    store, ids = _store(emulator, 40)
    emulator.set_faults(delay_next_jobs=1, delay_seconds=4 * 3600)
    t0, r0 = emulator.now(), time.monotonic()
    outs = provider.create(_inputs(store, ids)).outs
    _figure("stuck-submitted-4h", emulator, t0, r0)
    assert outs["not_active_read_set_statuses"] == {}
    assert len(emulator.jobs()) == 2
    waited_s = emulator.now() - t0
    assert waited_s >= 4 * 3600
    # Polls back off while the job is late: far fewer than one per second of waiting.
    polls = emulator.calls["GetReadSetActivationJob"] + emulator.calls["ListReadSetActivationJobs"]
    assert polls < waited_s / 10, (polls, waited_s)


def test_failed_job_and_failed_sources_give_one_error_then_rerun_starts_only_what_is_left(provider, emulator):
    store, ids = _store(emulator, 60)
    # Job 2 (ids[20:40]) ends FAILED; ids[3] and ids[45] fail as sources of their jobs.
    emulator.set_faults(fail_jobs_containing={ids[25]: "Storage backend unavailable"},
                        failing_read_sets={ids[3]: "Read set file is corrupt",
                                           ids[45]: "Checksum mismatch"})
    with pytest.raises(ActivationFailedError) as info:
        provider.create(_inputs(store, ids))
    err = info.value
    message = str(err)
    job_of = {s["readSetId"]: j["id"] for j in emulator.jobs() for s in j["sources"]}
    failed_ids = sorted([ids[3], ids[45]] + ids[20:40])
    assert sorted(f.read_set_id for f in err.failures) == failed_ids
    for failure in err.failures:
        assert failure.job_id == job_of[failure.read_set_id]
    statuses = {j["id"]: j["status"] for j in emulator.jobs()}
    assert statuses[job_of[ids[25]]] == "FAILED"
    assert statuses[job_of[ids[3]]] == "COMPLETED_WITH_FAILURES"
    for text in ("Read set file is corrupt", "Checksum mismatch", "Storage backend unavailable",
                 ids[3], ids[45], job_of[ids[3]], job_of[ids[45]], job_of[ids[25]],
                 "22 read set(s)", "38 read set(s) did activate", "run `pulumi up` again"):
        assert text in message, text
    assert message.count("activation failed") == 1  # one error, not one per job
    assert len(err.activated) == 38

    # Fault cleared: the next up starts jobs only for what is still not ACTIVE.
    emulator.clear_faults()
    not_active = sorted(r for r, s in emulator.read_set_statuses(store).items() if s != "ACTIVE")
    assert not_active == failed_ids
    since = len(emulator.jobs())
    outs = provider.create(_inputs(store, ids)).outs
    assert outs["not_active_read_set_statuses"] == {}
    assert sorted(_per_read_set(emulator, since)) == not_active
    assert len(emulator.jobs()) - since == math.ceil(len(not_active) / 20)
    # The rerun records the failed run's jobs too: they activated the other 38 read sets.
    assert sorted(outs["activated_read_set_ids"]) == ids


def test_access_denied_names_the_permission_the_store_and_the_request_id(provider, emulator):
    store, ids = _store(emulator, 5)
    emulator.set_faults(access_denied_stores=[store])
    with pytest.raises(AwsCallError) as info:
        provider.create(_inputs(store, ids))
    err = info.value
    assert err.code == "AccessDeniedException" and err.http_status == 403
    assert err.request_id and err.request_id in str(err)
    assert f"omics:{err.operation}" in str(err) and err.operation in ("ListReadSets", "GetReadSetMetadata")
    assert store in str(err) and "iam_policy" in str(err)
    assert emulator.calls["StartReadSetActivationJob"] == 0


def test_unknown_store_is_named_with_the_request_id(provider, emulator):
    missing = "5555555555"
    with pytest.raises(AwsCallError) as info:
        provider.create(_inputs(missing, [f"{2000000000 + i}" for i in range(10)]))
    err = info.value
    assert err.code == "ResourceNotFoundException"
    assert err.request_id and err.request_id in str(err)
    assert f"sequence_store_id ({missing})" in str(err)
    assert emulator.calls["StartReadSetActivationJob"] == 0


@pytest.mark.slow
def test_errors_reach_the_user_through_the_provider_server_and_the_next_up_recovers(aws_test_env, tmp_path):
    """Through the engine-role harness: what `pulumi up` would print, then a clean rerun."""
    from pathlib import Path

    from omics_dynamic_testing import EngineHarness, ProviderCallError, ResourceSpec
    from omics_emulator import Emulator

    scale = 200.0
    with Emulator(time_scale=scale, rate_limit=0, random_seed=3) as emu:
        harness = EngineHarness(
            str(Path(__file__).resolve().parent.parent), str(tmp_path / "state.json"), project="omics",
            config={"aws:region": "us-east-1", "omics-dynamic:endpoint": emu.endpoint_url,
                    "omics-dynamic:timeScale": str(scale), "omics-dynamic:rateLimit": "0"},
            timeout_s=60)
        store = emu.create_store(read_sets=["ARCHIVED"] * 30)
        ids = sorted(emu.read_set_statuses(store))
        spec = ResourceSpec("cohort", "pulumi-python:dynamic/omics:ReadSetActivation",
                            ReadSetActivationProvider(),
                            {"resource_name": "cohort", "sequence_store_id": store, "read_set_ids": ids})

        emu.set_faults(access_denied_stores=[store])
        with pytest.raises(ProviderCallError) as info:
            harness.up([spec])
        text = info.value.provider_message
        assert "AccessDeniedException" in text and store in text and "omics:ListReadSets" in text
        request_ids = [line for line in text.split("(request ID ")[1:]]
        assert request_ids and not request_ids[0].startswith("none")

        emu.clear_faults()
        emu.set_faults(fail_next_jobs=1, job_failure_message="Activation capacity exhausted")
        with pytest.raises(ProviderCallError) as info:
            harness.up([spec])
        failed_job = emu.jobs()[0]
        assert failed_job["status"] == "FAILED"
        text = info.value.provider_message
        assert f"job {failed_job['id']}" in text and "Activation capacity exhausted" in text
        assert "20 read set(s)" in text and ids[0] in text
        assert harness.state().resources == []

        emu.clear_faults()
        since = len(emu.jobs())
        r = harness.up([spec])
        assert r.ops == {"cohort": "create"} and harness.state().pending_operations == []
        assert r.outputs("cohort")["not_active_read_set_statuses"] == {}
        assert sorted(s["readSetId"] for j in emu.jobs()[since:] for s in j["sources"]) == ids[:20]


def test_rerun_after_a_failed_job_of_one_whole_chunk_starts_a_new_job(provider, emulator):
    """A create whose one job (20 read sets) FAILED, rerun: its first start reuses the
    clientToken and gets the FAILED job back; the rerun then starts a new job under another
    token (the attempt is part of the token), reports only that job and ends ACTIVE."""
    store, ids = _store(emulator, 20)
    emulator.set_faults(fail_next_jobs=1, job_failure_message="Activation capacity exhausted")
    with pytest.raises(ActivationFailedError):
        provider.create(_inputs(store, ids))
    [failed] = emulator.jobs()
    assert failed["status"] == "FAILED"
    emulator.clear_faults()
    outs = provider.create(_inputs(store, ids)).outs
    assert outs["not_active_read_set_statuses"] == {}
    [_, retried] = emulator.jobs()
    assert retried["clientToken"] != failed["clientToken"]
    assert outs["job_ids"] == [retried["id"]]


def test_two_thousand_distinct_source_failures_give_a_bounded_message():
    """2,000 read sets whose sources all fail, each with its own message (100 jobs of 20):
    the error is under 4,000 bytes: counts first, then whole jobs with at most 3 messages
    (each cut to 200 characters) and 5 IDs each, then where to find the rest."""
    from omics_dynamic.errors import ActivationFailedError, SourceFailure

    failures = [SourceFailure(f"{1000000000 + i}", f"{5000000 + i // 20}", "FAILED",
                              f"storage error {i}: " + "x" * 300, "FAILED", f"job {i // 20} failed")
                for i in range(2000)]
    text = str(ActivationFailedError("cohort", failures, []))
    assert len(text.encode()) < 4_000
    assert text.startswith("cohort: activation failed for 2000 read set(s) in 100 job(s): job ")
    assert "and 17 more read set(s) with 17 other distinct source message(s)" in text
    assert " more job(s) (the rest: the error's `failures`; each job's sources and messages: `aws omics " \
           "get-read-set-activation-job --sequence-store-id <store> --id <job>`)" in text
    assert text.endswith("jobs only for the read sets that are still not ACTIVE.")


def test_credentials_that_expire_mid_wait_end_the_run_naming_the_jobs_that_keep_running(provider, emulator):
    """From +30 s every call answers ExpiredTokenException while 3 jobs run. The run fails at
    once (no retry helps), keeping the AWS code and request ID, and says the 3 jobs keep
    running and the next `pulumi up` resumes them; with fresh credentials it adopts them
    and starts none."""
    store, ids = _store(emulator, 60)
    emulator.set_faults(expire_credentials_at_s=emulator.now() + 30)
    t0 = emulator.now()
    with pytest.raises(AwsCallError) as info:
        provider.create(_inputs(store, ids))
    err, text = info.value, str(info.value)
    jobs = sorted(j["id"] for j in emulator.jobs())
    assert len(jobs) == 3 and {j["status"] for j in emulator.jobs()} <= {"SUBMITTED", "IN_PROGRESS"}
    assert err.code == "ExpiredTokenException" and err.request_id
    assert err.running_job_ids == jobs
    assert emulator.now() - t0 < 90  # at once: the first poll after +30 s
    assert text.startswith(f"{err.operation} failed: ExpiredTokenException: The security token included in "
                           f"the request is expired (request ID {err.request_id}). The AWS session token has "
                           "expired: refresh the credentials. cohort: the run stopped here; 3 activation job(s) "
                           f"still running: {', '.join(jobs)}. They keep running in HealthOmics; the next "
                           "`pulumi up` resumes them: it waits for them and starts jobs only for read sets still "
                           "ARCHIVED."), text

    # Fresh credentials: the next up adopts the 3 jobs and starts none.
    emulator.set_faults(expire_credentials_at_s=None)
    outs = provider.create(_inputs(store, ids)).outs
    assert outs["not_active_read_set_statuses"] == {}
    assert sorted(outs["job_ids"]) == jobs == sorted(j["id"] for j in emulator.jobs())


def test_an_aws_error_with_many_jobs_in_flight_counts_them_first_then_names_a_few(provider, emulator):
    store, ids = _store(emulator, 500)
    emulator.set_quota(max_concurrent_jobs=30)
    emulator.set_faults(expire_credentials_at_s=emulator.now() + 20)
    with pytest.raises(AwsCallError) as info:
        provider.create(_inputs(store, ids, max_concurrent_jobs=25))
    text = str(info.value)
    running = sorted(j["id"] for j in emulator.jobs())
    assert len(running) == 25 and info.value.running_job_ids == running
    assert f"25 activation job(s) still running: {', '.join(running[:20])} and 5 more. They keep running" in text
    assert running[20] not in text
