"""The provider converges whatever HealthOmics answers where its public
documentation is silent (the emulator's behaviour profiles) and whatever faults it meets.

Each failing input found against other plausible service answers is a test with the right
value. Tests where a profile's choice matters run under every profile of
:data:`omics_emulator.profiles.PROFILES` (parametrized); the others name the profile
whose choice they exercise. In process, on the emulator's manual clock, with botocore's
real-time backoff set to 0, so nothing sleeps (except the held-response test, which measures
real seconds). """

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from omics_dynamic import ActivationFailedError, ActivationTimeoutError
from omics_dynamic.activation import ActivationRun
from omics_dynamic.errors import AwsCallError, ListingStuckError
from omics_dynamic.planning import ActivationInputs
from omics_dynamic.provider import ReadSetActivationProvider
from omics_emulator.profiles import PROFILES, Behaviour
from support import make_api

ALL_PROFILES = sorted(PROFILES)


@pytest.fixture(autouse=True)
def _no_backoff(no_botocore_backoff):
    """Every test here, with or without the provider fixture: no real botocore backoff."""


def _inputs(store, ids, **extra):
    news = {"sequence_store_id": store, "read_set_ids": list(ids), "resource_name": "cohort", **extra}
    checked = ReadSetActivationProvider().check({}, news)
    assert checked.failures == []
    return checked.inputs


def _store(emulator, statuses):
    store = emulator.create_store(read_sets=statuses)
    return store, sorted(emulator.read_set_statuses(store))


def _sources_per_read_set(emulator, store, since=0) -> Counter:
    return Counter(s["readSetId"] for j in emulator.jobs()[since:] if j["sequenceStoreId"] == store
                   for s in j["sources"])


def _jobs_covering(emulator, ids) -> set:
    wanted = set(ids)
    return {j["id"] for j in emulator.jobs() if wanted & {s["readSetId"] for s in j["sources"]}}


# -- reused clientTokens -----------------------------------------------------------------
@pytest.mark.parametrize("profile", ALL_PROFILES)
def test_reruns_after_failed_jobs_of_the_same_chunk_converge_with_one_new_job_each(provider, emulator, profile):
    """A chunk's job ends FAILED twice in a row; each rerun sends the same tokens
    first. Whatever the service does with a used token (old job, 409, 400, ignored), the
    third up starts exactly one new job, under a token of its own, and ends ACTIVE; where
    reuse is refused (409, 400) the three runs are refused 3 starts in all."""
    emulator.set_profile(profile)
    store, ids = _store(emulator, ["ARCHIVED"] * 20)
    for run in range(2):
        emulator.set_faults(fail_next_jobs=1, job_failure_message="Activation capacity exhausted")
        with pytest.raises(ActivationFailedError) as info:
            provider.create(_inputs(store, ids))
        failed = emulator.jobs()[-1]
        assert len(emulator.jobs()) == run + 1  # one new job per run
        assert f'job {failed["id"]} FAILED "Activation capacity exhausted"' in str(info.value)
    emulator.clear_faults()
    outs = provider.create(_inputs(store, ids)).outs
    jobs = emulator.jobs()
    assert len(jobs) == 3
    assert len({j["clientToken"] for j in jobs}) == 3 or PROFILES[profile].reused_token == "ignored"
    assert outs["job_ids"] == [jobs[-1]["id"]]
    assert outs["not_active_read_set_statuses"] == {}
    assert set(emulator.read_set_statuses(store).values()) == {"ACTIVE"}
    refusals = sum(n for (op, outcome), n in emulator.outcomes.items()
                   if op == "StartReadSetActivationJob" and outcome in ("ConflictException", "ValidationException"))
    expected = {"conflict": 3, "mismatch": 3}.get(PROFILES[profile].reused_token, 0)
    assert refusals == expected  # run 2 burns attempt 1; run 3 burns attempts 1 and 2


@pytest.mark.parametrize("profile", ALL_PROFILES)
def test_a_lost_start_answer_leaves_no_silent_duplicate(provider, emulator, profile):
    """A start creates its job but its answer is lost (500); botocore retries
    with the same token. Where tokens are honoured there is one job per chunk; where they
    are ignored the extra job is found and reported in job_ids."""
    emulator.set_profile(profile)
    store, ids = _store(emulator, ["ARCHIVED"] * 40)
    emulator.set_faults(lose_start_responses=1)
    outs = provider.create(_inputs(store, ids)).outs
    jobs = emulator.jobs()
    assert set(emulator.read_set_statuses(store).values()) == {"ACTIVE"}
    assert outs["not_active_read_set_statuses"] == {}
    assert sorted(outs["job_ids"]) == sorted(j["id"] for j in jobs)  # every job reported
    if PROFILES[profile].reused_token == "ignored":
        assert len(jobs) == 3  # the lost one and its retry
    else:
        assert len(jobs) == 2 and set(_sources_per_read_set(emulator, store).values()) == {1}


@pytest.mark.parametrize("profile", ALL_PROFILES)
def test_two_concurrent_creates_of_the_same_inputs_report_every_job(emulator, profile):
    """Two creates of the same inputs at once (two provider processes). Where
    tokens are honoured they share the jobs (no duplicate); where they are ignored each
    run's job_ids holds the other's jobs too."""
    emulator.set_profile(profile)
    store, ids = _store(emulator, ["ARCHIVED"] * 40)
    started = threading.Barrier(2, timeout=30)
    results, errors = {}, []

    def create(tag):
        api = make_api(emulator)
        first_sleep = api.clock.sleep

        def sleep(seconds):  # neither run lets time pass before both have started jobs
            api.clock.sleep = first_sleep
            started.wait()
            first_sleep(seconds)

        api.clock.sleep = sleep
        run = ActivationRun(api, ActivationInputs(store, tuple(ids), resource_name="cohort"),
                            generation="cohort/create", report=lambda line: None)
        try:
            results[tag] = run.run()
        except Exception as err:
            errors.append(err)

    threads = [threading.Thread(target=create, args=(tag,)) for tag in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    jobs = {j["id"] for j in emulator.jobs()}
    assert set(emulator.read_set_statuses(store).values()) == {"ACTIVE"}
    assert set(results["a"].job_ids) == set(results["b"].job_ids) == jobs
    if PROFILES[profile].reused_token != "ignored":
        assert len(jobs) == 2 and set(_sources_per_read_set(emulator, store).values()) == {1}


# -- jobs in flight whose sources are not listed yet -------------------------------------
@pytest.mark.parametrize("profile", ALL_PROFILES)
def test_a_job_in_flight_with_unlisted_sources_is_adopted_not_duplicated(provider, emulator, profile, capfd):
    """Another party's job for our read sets is SUBMITTED (for 60 s) and, under
    some profiles, lists no sources until it starts. The create waits for it (bounded,
    saying so) and adopts it: one job in all."""
    emulator.set_profile(profile)
    store, ids = _store(emulator, ["ARCHIVED"] * 20)
    emulator.set_faults(delay_next_jobs=1, delay_seconds=60)
    other = emulator.client().start_read_set_activation_job(
        sequenceStoreId=store, clientToken="someone-else", sources=[{"readSetId": rid} for rid in ids])
    outs = provider.create(_inputs(store, ids)).outs
    assert [j["id"] for j in emulator.jobs()] == [other["id"]]
    assert outs["job_ids"] == [other["id"]]
    assert set(emulator.read_set_statuses(store).values()) == {"ACTIVE"}
    err = capfd.readouterr().err
    waited = "waiting up to 2m00s for 1 activation job(s) in flight whose sources are not listed yet" in err
    assert waited == (PROFILES[profile].sources_while_submitted == "empty")


def test_unlisted_sources_wait_is_bounded_then_the_run_starts_its_own_job(provider, emulator, capfd):
    """Under the lagging profile, the other job stays SUBMITTED with no sources for 10
    minutes; after the 2-minute bound the create says so and starts its own job."""
    emulator.set_profile("lagging")
    store, ids = _store(emulator, ["ARCHIVED"] * 20)
    emulator.set_faults(delay_next_jobs=1, delay_seconds=600)
    emulator.client().start_read_set_activation_job(
        sequenceStoreId=store, clientToken="someone-else", sources=[{"readSetId": rid} for rid in ids])
    t0 = emulator.now()
    outs = provider.create(_inputs(store, ids)).outs
    ours = emulator.jobs()[-1]
    assert outs["job_ids"] == [ours["id"]]
    assert 120 <= ours["creationTime"] - t0 < 130
    assert set(emulator.read_set_statuses(store).values()) == {"ACTIVE"}
    assert "1 job(s) in flight still list no sources; starting jobs now" in capfd.readouterr().err


# -- a failed source whose read set ends ACTIVE ------------------------------------------
@pytest.mark.parametrize("non_archived", ["failed", "finished"])
def test_a_source_that_fails_because_another_job_activates_it_is_no_failure(provider, emulator, non_archived):
    """Another job, SUBMITTED with unlisted sources past the wait bound, starts
    just before ours; our sources meet read sets already ACTIVATING (FAILED under
    non_archived_source "failed"), and a minute later the read sets are ACTIVE: the create
    succeeds with no read set left not ACTIVE, whether our job ends FAILED or COMPLETED,
    and job_ids holds both jobs."""
    emulator.set_profile(Behaviour(sources_while_submitted="empty", non_archived_source=non_archived,
                                   activating_lag_s=30))
    store, ids = _store(emulator, ["ARCHIVED"] * 20)
    emulator.set_faults(delay_next_jobs=1, delay_seconds=117)  # starts at 122 s; we start at ~125 s
    other = emulator.client().start_read_set_activation_job(
        sequenceStoreId=store, clientToken="someone-else", sources=[{"readSetId": rid} for rid in ids])
    outs = provider.create(_inputs(store, ids)).outs
    jobs = {j["id"]: j for j in emulator.jobs()}
    [ours] = [j for j in jobs if j != other["id"]]
    expected = {"failed": "FAILED", "finished": "COMPLETED"}[non_archived]
    assert jobs[ours]["status"] == expected
    assert outs["not_active_read_set_statuses"] == {}
    assert sorted(outs["job_ids"]) == sorted(jobs)


def test_a_job_completed_while_its_read_sets_still_activate_is_waited_for(provider, emulator):
    """Under the lagging profile, the job is COMPLETED 30 s before its read sets are
    ACTIVE; create returns only once they are."""
    emulator.set_profile("lagging")
    store, ids = _store(emulator, ["ARCHIVED"] * 25)
    outs = provider.create(_inputs(store, ids)).outs
    assert set(emulator.read_set_statuses(store).values()) == {"ACTIVE"}
    assert outs["not_active_read_set_statuses"] == {}
    last_done = max(j["completionTime"] for j in emulator.jobs())
    assert emulator.now() - last_done >= 30


# -- cancelled jobs ----------------------------------------------------------------------
@pytest.mark.parametrize("profile,when", [("default", "IN_PROGRESS"), ("lagging", "SUBMITTED")])
def test_a_job_cancelled_in_the_console_is_reported_with_its_own_status(provider, emulator, profile, when):
    """The job is cancelled (CANCELLING, then CANCELLED) while IN_PROGRESS or SUBMITTED; the
    error gives the job's final status and message, then its sources' status (IN_PROGRESS,
    or NOT_STARTED for a job cancelled while SUBMITTED), never `NOT_STARTED: no message`;
    the read sets stay ARCHIVED."""
    emulator.set_profile(profile)
    store, ids = _store(emulator, ["ARCHIVED"] * 20)
    original_advance = emulator.advance
    cancelled = []

    def advance(seconds):
        jobs = emulator.jobs()
        if jobs and not cancelled and jobs[0]["status"] == when:
            cancelled.append(emulator.cancel_job(jobs[0]["id"], cancelling_s=5.0)["id"])
        return original_advance(seconds)

    emulator.advance = advance
    with pytest.raises(ActivationFailedError) as info:
        provider.create(_inputs(store, ids))
    [job_id] = cancelled
    text = str(info.value)
    assert f'job {job_id} CANCELLED "Job cancelled before all read sets were activated": 20 read set(s) with source {when.replace("SUBMITTED", "NOT_STARTED")}' in text
    assert "NOT_STARTED: no message" not in text
    assert {f.job_status for f in info.value.failures} == {"CANCELLED"}
    assert set(emulator.read_set_statuses(store).values()) == {"ARCHIVED"}


# -- listings that do not advance, calls that do not answer ------------------------------
def test_a_jobs_listing_that_repeats_its_next_token_fails_clearly_before_any_start(provider, emulator):
    """ListReadSetActivationJobs answers the same nextToken forever. The create cannot know
    the jobs in flight, so it fails with ListingStuckError after at most 3 listing calls,
    naming the operation and its request IDs, and starts no job."""
    emulator.set_profile("paging")  # page size 7, empty pages first: tokens before any item
    store, ids = _store(emulator, ["ARCHIVED"] * 30)
    emulator.set_faults(stuck_next_token={"ListReadSetActivationJobs": True})
    with pytest.raises(ListingStuckError) as info:
        provider.create(_inputs(store, ids))
    assert "ListReadSetActivationJobs answered a nextToken it had already given" in str(info.value)
    assert info.value.request_ids and all(r in str(info.value) for r in info.value.request_ids)
    assert emulator.calls["ListReadSetActivationJobs"] <= 3
    assert emulator.calls["StartReadSetActivationJob"] == 0


@pytest.mark.parametrize("profile", ["default", "paging"])
def test_a_read_set_listing_that_repeats_its_next_token_falls_back_to_metadata(provider, emulator, profile):
    """ListReadSets repeats its nextToken; discovery reads the rest with
    GetReadSetMetadata and the run ends ACTIVE with bounded calls."""
    emulator.set_profile(profile)
    store, ids = _store(emulator, ["ARCHIVED"] * 30)
    emulator.set_faults(stuck_next_token={"ListReadSets": True})
    outs = provider.create(_inputs(store, ids)).outs
    assert outs["not_active_read_set_statuses"] == {}
    # Each lookup (discovery, then confirmation) tries the unfiltered listing and the
    # status listings; each costs two calls before it repeats its nextToken and is left.
    assert emulator.calls["ListReadSets"] <= 8
    assert emulator.calls["GetReadSetMetadata"] <= 2 * len(ids)


def test_a_held_answer_gives_the_timeout_error_within_seconds(provider, emulator):
    """HealthOmics holds every ListReadSets answer for 30 real seconds; with
    timeout_seconds=3 the timeout error (every read set UNKNOWN, no job started) arrives
    within 15 real seconds, neither after the held answer nor at botocore's read timeout."""
    store, ids = _store(emulator, ["ARCHIVED"] * 30)
    emulator.set_faults(hold_response_s={"ListReadSets": 30})
    t0 = time.monotonic()
    with pytest.raises(ActivationTimeoutError) as info:
        provider.create(_inputs(store, ids, timeout_seconds=3))
    assert time.monotonic() - t0 < 15.0  # not the held answer (30 s); loaded machines take seconds
    assert "ListReadSets could not complete within the time budget: no answer after" in str(info.value)
    assert info.value.counts == {"UNKNOWN": 30}
    assert emulator.calls["StartReadSetActivationJob"] == 0


# -- transient answers while waiting -----------------------------------------------------
def test_a_throttling_burst_while_waiting_does_not_fail_the_activation(provider, emulator, capfd):
    """13 throttled status requests in a row (more than botocore's 12 attempts)
    while the jobs are IN_PROGRESS: the run backs off on its clock, says so in a progress
    line, and ends ACTIVE with its one job (botocore giving up on a poll fails nothing)."""
    store, ids = _store(emulator, ["ARCHIVED"] * 20)
    original_advance = emulator.advance
    armed = []

    def advance(seconds):
        if not armed and emulator.jobs() and emulator.jobs()[0]["status"] == "IN_PROGRESS":
            emulator.set_faults(throttle_next={"GetReadSetActivationJob": 13})
            armed.append(True)
        return original_advance(seconds)

    emulator.advance = advance
    outs = provider.create(_inputs(store, ids)).outs
    assert armed and outs["not_active_read_set_statuses"] == {}
    assert emulator.outcomes[("GetReadSetActivationJob", "ThrottlingException")] == 13
    assert "HealthOmics answered GetReadSetActivationJob with ThrottlingException 1 time(s) in a row" in capfd.readouterr().err
    assert len(emulator.jobs()) == 1


def test_server_errors_for_ten_minutes_while_waiting_do_not_fail_the_activation(provider, emulator):
    """Every status request answers 500 for 10 emulated minutes of a long job."""
    store, ids = _store(emulator, ["ARCHIVED"] * 20)
    emulator.set_faults(delay_next_jobs=1, delay_seconds=1200)
    original_advance = emulator.advance
    window = {}

    def advance(seconds):
        now = original_advance(seconds)
        if emulator.jobs() and "start" not in window:
            window["start"] = now
            emulator.set_faults(internal_error_rate={"GetReadSetActivationJob": 1.0})
        elif "start" in window and "end" not in window and now - window["start"] >= 600:
            window["end"] = now
            emulator.set_faults(internal_error_rate=0.0)
        return now

    emulator.advance = advance
    outs = provider.create(_inputs(store, ids)).outs
    assert "end" in window and outs["not_active_read_set_statuses"] == {}
    assert emulator.outcomes[("GetReadSetActivationJob", "InternalServerException")] >= 12
    assert len(emulator.jobs()) == 1


# -- result sets -------------------------------------------------------------------------
def test_result_sets_say_which_read_sets_the_jobs_activated(emulator):
    """1 ARCHIVED, 1 PROCESSING_UPLOAD (it becomes ACTIVE without a job), 1
    ACTIVE: one job of one source activated one read set, not two."""
    from support import run_activation

    store, ids = _store(emulator, ["ARCHIVED", "PROCESSING_UPLOAD", "ACTIVE"])
    before = emulator.read_set_statuses(store)
    original_advance = emulator.advance

    def advance(seconds):
        now = original_advance(seconds)
        uploading = [r for r, s in before.items() if s == "PROCESSING_UPLOAD"][0]
        if emulator.jobs():
            emulator.set_read_set_status(store, uploading, "ACTIVE")
        return now

    emulator.advance = advance
    result = run_activation(emulator, store, ids)
    by_status = {s: r for r, s in before.items()}
    [job] = emulator.jobs()
    assert result.started_job_ids == result.job_ids == [job["id"]]
    assert result.adopted_job_ids == result.found_job_ids == []
    assert result.activated_by_jobs_read_set_ids == [by_status["ARCHIVED"]]
    assert result.activated_without_job_read_set_ids == [by_status["PROCESSING_UPLOAD"]]
    assert result.already_active_read_set_ids == [by_status["ACTIVE"]]
    assert result.became_active_read_set_ids == sorted([by_status["ARCHIVED"], by_status["PROCESSING_UPLOAD"]])


def _client_error(code, message, request_id, status):
    import botocore.exceptions

    return botocore.exceptions.ClientError(
        {"Error": {"Code": code, "Message": message},
         "ResponseMetadata": {"RequestId": request_id, "HTTPStatusCode": status}},
        "StartReadSetActivationJob")


def test_a_chunk_whose_every_token_is_refused_fails_naming_each_answer(emulator):
    """Bounded attempts per chunk, then a clear failure naming the codes and
    request IDs; before each new attempt the run looked again for jobs in flight."""
    store, ids = _store(emulator, ["ARCHIVED"] * 5)
    api = make_api(emulator)
    refusals = []

    def start(**kwargs):
        refusals.append(kwargs["clientToken"])
        raise _client_error("ConflictException", "token already used", f"req-{len(refusals)}", 409)

    api.client.start_read_set_activation_job = start
    listings_before = emulator.calls["ListReadSetActivationJobs"]
    run = ActivationRun(api, ActivationInputs(store, tuple(ids), resource_name="cohort"),
                        generation="g", report=lambda line: None)
    with pytest.raises(ActivationFailedError) as info:
        run.run()
    assert len(refusals) == len(set(refusals)) == 10  # ten different tokens
    text = str(info.value)
    assert "StartReadSetActivationJob answered 10 clientTokens of this chunk as used before" in text
    assert "attempt 1: ConflictException (request ID req-1)" in text
    # The error's text cuts each message to STATUS_MESSAGE_CHARS; the failures keep it whole.
    assert "attempt 10: ConflictException (request ID req-10)" not in text
    assert all("attempt 10: ConflictException (request ID req-10)" in f.message for f in info.value.failures)
    assert sorted(f.read_set_id for f in info.value.failures) == ids
    # Two listings (SUBMITTED, IN_PROGRESS) at the start and after each refusal.
    assert emulator.calls["ListReadSetActivationJobs"] - listings_before == 2 * 11
    assert emulator.jobs() == []


def test_a_validation_error_not_about_the_token_is_permanent(emulator):
    """A ValidationException that does not name the token is the error it says it is: no
    second attempt."""
    from omics_dynamic.errors import AwsCallError

    store, ids = _store(emulator, ["ARCHIVED"] * 5)
    api = make_api(emulator)
    calls = []

    def start(**kwargs):
        calls.append(kwargs)
        raise _client_error("ValidationException", "sources: member must have length <= 20", "req-v", 400)

    api.client.start_read_set_activation_job = start
    run = ActivationRun(api, ActivationInputs(store, tuple(ids), resource_name="cohort"),
                        generation="g", report=lambda line: None)
    with pytest.raises(AwsCallError) as info:
        run.run()
    assert info.value.code == "ValidationException" and info.value.request_id == "req-v"
    assert len(calls) == 1


@pytest.mark.parametrize("profile", ["token-ignored", "token-conflict"])
def test_the_job_of_a_lost_start_answer_is_reported_as_found(emulator, profile):
    """The result says which jobs the run started and which it found: the job whose start
    answer was lost is in found_job_ids (ignored tokens: the retry's new job is started
    beside it; 409: no job is started)."""
    from support import run_activation

    emulator.set_profile(profile)
    store, ids = _store(emulator, ["ARCHIVED"] * 20)
    emulator.set_faults(lose_start_responses=1)
    result = run_activation(emulator, store, ids)
    jobs = [j["id"] for j in emulator.jobs()]
    lost = jobs[0]
    assert result.found_job_ids == [lost]
    assert result.started_job_ids == jobs[1:]  # ignored: the retry's new job; 409: none
    assert result.activated_by_jobs_read_set_ids == ids


# -- a read set status nobody documented -------------------------------------------------
def test_undocumented_transitional_status_is_waited_for_not_refused(provider, emulator, capfd):
    """Profile "finalizing": after its job, each read set reads FINALIZING (not in the
    model's enum) for 30 s, then ACTIVE. It counts as "not there yet" everywhere: the
    create waits for ACTIVE (all 40 activated); a create that finds 3 of them FINALIZING
    waits too (no job, no refusal; they are activated without a job); refresh records them
    as not ACTIVE and diff's and create's lines name the status."""
    emulator.set_profile("finalizing")
    store, ids = _store(emulator, ["ARCHIVED"] * 40)
    outs = provider.create(_inputs(store, ids)).outs
    assert set(emulator.read_set_statuses(store).values()) == {"ACTIVE"}
    assert outs["activated_read_set_ids"] == ids and outs["not_active_read_set_statuses"] == {}
    assert len(emulator.jobs()) == 2

    # Somebody else's activation leaves them FINALIZING: a create waits, starts nothing.
    for rid in ids[:3]:
        emulator.set_read_set_status(store, rid, "FINALIZING")
    released = {"done": False}
    original_advance = emulator.advance

    def advance(seconds):
        now = original_advance(seconds)
        if not released["done"] and emulator.calls["ListReadSets"] + emulator.calls["GetReadSetMetadata"] >= 4:
            released["done"] = True
            for rid in ids[:3]:
                emulator.set_read_set_status(store, rid, "ACTIVE")
        return now

    # refresh and diff record and name it (before it clears)
    refreshed = provider.read("rsa", outs).outs
    assert refreshed["not_active_read_set_statuses"] == {rid: "FINALIZING" for rid in ids[:3]}
    diff = provider.diff("rsa", outs, _inputs(store, ids))
    assert diff.changes is True
    err = capfd.readouterr().err
    assert f"3 of 40 read sets are not ACTIVE in HealthOmics (3 FINALIZING; e.g. {ids[0]})" in err
    assert "(FINALIZING: a status HealthOmics does not document, waited for like ACTIVATING" in err

    emulator.reset_counters()
    emulator.advance = advance
    again = provider.create(_inputs(store, ids[:5])).outs
    assert emulator.calls["StartReadSetActivationJob"] == 0
    assert again["activated_without_job_read_set_ids"] == ids[:3]
    assert again["not_active_read_set_statuses"] == {}
    err = capfd.readouterr().err
    assert ("5 read sets in sequence store " + store + ": 2 ACTIVE, 0 ARCHIVED, 3 activating or uploading "
            "(3 in FINALIZING, a status HealthOmics does not document: waited for like ACTIVATING until "
            "timeout_seconds)") in err


def test_undocumented_status_until_the_deadline_is_a_timeout_naming_it(provider, emulator):
    store, ids = _store(emulator, ["ACTIVE"] * 4)
    emulator.set_read_set_status(store, ids[0], "FINALIZING")
    with pytest.raises(ActivationTimeoutError) as info:
        provider.create(_inputs(store, ids, timeout_seconds=120))
    assert info.value.counts == {"ACTIVE": 3, "FINALIZING": 1}
    assert "timed out after 120s (timeout_seconds) with 3 ACTIVE, 1 FINALIZING" in str(info.value)


# -- a job the run started is not found yet (read-after-create lag) ------------------------
def test_a_job_not_found_just_after_its_start_is_waited_for_not_blamed_on_the_store(provider, emulator, capfd):
    """Under the "eventual" profile GetReadSetActivationJob answers 404 for 10 s after a job
    is created. The job counts as in flight through the grace (a line says it is "not found
    yet") and the create succeeds with that one job: the 404 is not taken as a wrong
    sequence_store_id or region."""
    emulator.set_profile("eventual")
    store, ids = _store(emulator, ["ARCHIVED"] * 4)
    emulator.set_quota(max_concurrent_jobs=20)
    outs = provider.create(_inputs(store, ids)).outs
    [job] = emulator.jobs()
    assert outs["job_ids"] == [job["id"]]
    assert outs["not_active_read_set_statuses"] == {}
    assert emulator.outcomes[("GetReadSetActivationJob", "ResourceNotFoundException")] >= 1
    assert f"activation job {job['id']} (this run started) is not found yet" in capfd.readouterr().err


def test_a_job_still_not_found_after_the_grace_fails_with_advice_about_that_job(provider, emulator):
    """A job HealthOmics never knows again: after the 60 s grace the run fails naming the
    job and what to do, keeping the AWS code and request ID, and says it keeps running."""
    from omics_dynamic.activation.jobs import JOB_NOT_FOUND_GRACE_S

    emulator.set_profile(Behaviour(job_visible_after_s=3600))
    store, ids = _store(emulator, ["ARCHIVED"] * 4)
    with pytest.raises(AwsCallError) as info:
        provider.create(_inputs(store, ids))
    [job] = emulator.jobs()
    err, text = info.value, str(info.value)
    assert (err.operation, err.code) == ("GetReadSetActivationJob", "ResourceNotFoundException")
    assert err.request_id and f"(request ID {err.request_id})" in text
    assert f"Activation job {job['id']} (this run started) is still not found 1m" in text
    assert "HealthOmics lost track of it, or sequence store" in text
    assert "Check sequence_store_id" not in text
    assert f"1 activation job(s) still running: {job['id']}. They keep running in HealthOmics" in text
    assert JOB_NOT_FOUND_GRACE_S == 60.0


def test_a_job_in_flight_listed_but_not_found_yet_is_waited_for_and_adopted(provider, emulator):
    """Another party's job, created a moment ago, is listed by ListReadSetActivationJobs but
    GetReadSetActivationJob does not know it yet: its sources are unknown, so the run waits
    for it as for unlisted sources (bounded) and adopts it instead of starting a duplicate."""
    emulator.set_profile("eventual")
    store, ids = _store(emulator, ["ARCHIVED"] * 4)
    other = emulator.client().start_read_set_activation_job(
        sequenceStoreId=store, clientToken="someone-else", sources=[{"readSetId": rid} for rid in ids])
    outs = provider.create(_inputs(store, ids)).outs
    assert [j["id"] for j in emulator.jobs()] == [other["id"]]
    assert outs["job_ids"] == [other["id"]]
    assert emulator.outcomes[("GetReadSetActivationJob", "ResourceNotFoundException")] >= 1


def test_a_job_with_unlisted_sources_seen_mid_run_holds_every_queued_start(emulator):
    """Another party starts a job for the read sets still queued (SUBMITTED for 90 s, no
    sources listed, read sets still ARCHIVED) after the run's first 3 starts. Every queued
    chunk waits for it (bounded; the progress line says "1 held back"), not only a chunk
    answered "token used": no read set is in two jobs, and the other party's job is
    reported as found beside the run's 3."""
    emulator.set_profile(Behaviour(sources_while_submitted="empty"))
    store, ids = _store(emulator, ["ARCHIVED"] * 80)
    api = make_api(emulator)
    other: dict = {}

    def after_start(http_response, parsed, model, **_kwargs):
        starts = sum(1 for j in emulator.jobs() if j["clientToken"] != "someone-else")
        if starts == 3 and not other:
            emulator.set_faults(delay_next_jobs=1, delay_seconds=90)
            other.update(emulator.client().start_read_set_activation_job(
                sequenceStoreId=store, clientToken="someone-else",
                sources=[{"readSetId": rid} for rid in ids[60:]]))

    api.client.meta.events.register("after-call.omics.StartReadSetActivationJob", after_start)
    lines: list = []
    result = ActivationRun(api, ActivationInputs(store, tuple(ids), resource_name="cohort", max_concurrent_jobs=3),
                           generation="test/create", report=lines.append).run()
    per_read_set = Counter(s["readSetId"] for j in emulator.jobs() for s in j["sources"])
    assert set(per_read_set.values()) == {1}, "a read set got two jobs"
    assert len(emulator.jobs()) == 4
    assert result.found_job_ids == [other["id"]]
    assert len(result.started_job_ids) == 3
    assert set(result.read_set_statuses.values()) == {"ACTIVE"}
    assert any("1 queued (1 held back: a job in flight may cover them)" in line
               for line in lines), lines
