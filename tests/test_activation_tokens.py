"""A start answered "token used" means a job exists for that token.

The run must not start the next attempt blind: it looks for the store's jobs in flight
(adopting those covering the chunk), waits, bounded, for jobs whose sources are not listed
yet, and re-checks the chunk's read sets' own statuses (ACTIVE or ACTIVATING need no new
job). A job listing that does not advance at that moment holds the chunk back as long,
then the re-check decides. Each case runs under every reused-token answer of the emulator
(old job, 409, 400, ignored) and, where it matters, with sources listed or not while a job
is SUBMITTED. In process, on the emulator's manual clock; nothing sleeps.
"""

from __future__ import annotations

from collections import Counter

import pytest

from omics_dynamic.activation import ActivationRun
from omics_dynamic.errors import ListingStuckError
from omics_dynamic.planning import ActivationInputs
from omics_emulator.profiles import REUSED_TOKEN_CHOICES, SOURCES_WHILE_SUBMITTED_CHOICES, Behaviour
from support import make_api, run_activation


@pytest.fixture(autouse=True)
def _no_backoff(no_botocore_backoff):
    """No real botocore backoff in any test here."""


def _store(emulator, n):
    store = emulator.create_store(read_sets=["ARCHIVED"] * n)
    return store, sorted(emulator.read_set_statuses(store))


def _jobs_per_read_set(emulator, store) -> Counter:
    return Counter(s["readSetId"] for j in emulator.jobs() if j["sequenceStoreId"] == store for s in j["sources"])


@pytest.mark.parametrize("sources_while_submitted", SOURCES_WHILE_SUBMITTED_CHOICES)
@pytest.mark.parametrize("reused_token", REUSED_TOKEN_CHOICES)
def test_a_lost_start_answer_whose_job_lists_no_sources_yet_is_not_duplicated(emulator, reused_token,
                                                                              sources_while_submitted):
    """The start creates its job but the answer is lost (500); botocore's retry with the
    same token gets the profile's reused-token answer (409/400, the old job, or a new job)
    while the job is SUBMITTED, with ``sources: []`` or not. The run holds the chunk until
    the job lists its sources and finds it, starting no second job for the same 20 read
    sets: one job where tokens are honoured (two, both reported, where they are ignored)."""
    emulator.set_profile(Behaviour(reused_token=reused_token, sources_while_submitted=sources_while_submitted))
    store, ids = _store(emulator, 20)
    emulator.set_faults(lose_start_responses=1)
    lines: list = []
    result = run_activation(emulator, store, ids, lines=lines)
    jobs = [j["id"] for j in emulator.jobs()]
    assert set(emulator.read_set_statuses(store).values()) == {"ACTIVE"}
    assert result.job_ids == sorted(jobs)
    if reused_token == "ignored":  # the lost job and the retry's job: found and started
        assert len(jobs) == 2 and result.found_job_ids == [jobs[0]] and result.started_job_ids == [jobs[1]]
        return
    assert len(jobs) == 1 and set(_jobs_per_read_set(emulator, store).values()) == {1}
    if reused_token == "old-job":  # the retry is answered with the lost start's job
        assert result.started_job_ids == jobs
    else:
        assert result.found_job_ids == jobs and result.started_job_ids == []
    assert result.activated_by_jobs_read_set_ids == ids


@pytest.mark.parametrize("reused_token", REUSED_TOKEN_CHOICES)
def test_a_used_token_whose_job_already_activated_the_read_sets_starts_no_job(emulator, reused_token):
    """Two creates of the same inputs; run B has read the statuses (all ARCHIVED) when run
    A, start to finish, activates them with the same token. B's start is answered with A's
    ended job, 409 or 400: B re-checks the 20 read sets, finds them ACTIVE and starts no job
    (its job_ids empty, every read set activated without a job of B's). Where tokens are
    ignored, B's start is a new job and A's is found."""
    emulator.set_profile(Behaviour(reused_token=reused_token))
    store, ids = _store(emulator, 20)
    inputs = ActivationInputs(store, tuple(ids), resource_name="cohort", timeout_seconds=3600)
    api_b = make_api(emulator)
    ran_a: list = []

    def before_start(model, **_):
        if model.name == "StartReadSetActivationJob" and not ran_a:
            ran_a.append(ActivationRun(make_api(emulator), inputs, generation="cohort/create",
                                       report=lambda line: None).run())

    api_b.client.meta.events.register_first("before-call.omics", before_start)
    lines: list = []
    result_b = ActivationRun(api_b, inputs, generation="cohort/create", report=lines.append).run()
    jobs = [j["id"] for j in emulator.jobs()]
    [result_a] = ran_a
    assert result_a.started_job_ids == [jobs[0]]
    assert set(emulator.read_set_statuses(store).values()) == {"ACTIVE"}
    assert result_b.read_set_statuses == {rid: "ACTIVE" for rid in ids}
    if reused_token == "ignored":
        assert len(jobs) == 2 and result_b.started_job_ids == [jobs[1]] and result_b.found_job_ids == [jobs[0]]
        return
    assert len(jobs) == 1
    # B heard of A's job only as a used token after it ended: no job of B covered them.
    assert result_b.job_ids == [] and result_b.activated_by_jobs_read_set_ids == []
    assert result_b.activated_without_job_read_set_ids == ids
    assert lines[-1].startswith("cohort: all 20 read sets ACTIVE after") and "(0 activation job(s))" in lines[-1]


@pytest.mark.parametrize("sources_while_submitted", SOURCES_WHILE_SUBMITTED_CHOICES)
@pytest.mark.parametrize("reused_token", ["conflict", "mismatch"])
def test_a_stuck_job_listing_after_a_used_token_holds_the_chunk_then_rechecks(emulator, reused_token,
                                                                             sources_while_submitted):
    """The third start's answer is lost (botocore's retry: 409/400) and from then on
    ListReadSetActivationJobs repeats its nextToken (two empty pages first, so the lost job
    is not seen). The run does not stop with ListingStuckError: it warns, holds the chunk for
    the unlisted-sources bound (2 min), keeps polling its jobs by reading each one, then
    re-checks the chunk's read sets: the lost job activated them, so no duplicate is
    started (3 jobs, each read set in one)."""
    emulator.set_profile(Behaviour(reused_token=reused_token, empty_pages=2,
                                   sources_while_submitted=sources_while_submitted))
    store, ids = _store(emulator, 60)
    api = make_api(emulator)
    starts: list = []

    def on_call(model, **_):
        if model.name == "StartReadSetActivationJob":
            starts.append(1)
            if len(starts) == 3:
                emulator.set_faults(lose_start_responses=1, stuck_next_token={"ListReadSetActivationJobs": True})

    api.client.meta.events.register_first("before-call.omics", on_call)
    lines: list = []
    t0 = emulator.now()
    result = ActivationRun(api, ActivationInputs(store, tuple(ids), resource_name="cohort"),
                           generation="cohort/create", report=lines.append).run()
    jobs = [j["id"] for j in emulator.jobs()]
    assert len(jobs) == 3 and set(_jobs_per_read_set(emulator, store).values()) == {1}
    assert set(emulator.read_set_statuses(store).values()) == {"ACTIVE"}
    assert result.started_job_ids == sorted(jobs[:2])
    lost = sorted(s["readSetId"] for s in emulator.jobs()[2]["sources"])
    assert result.activated_without_job_read_set_ids == lost  # its job could not be listed
    assert emulator.now() - t0 >= 120  # held for the bound, then re-checked
    assert any("a clientToken was answered as used but the store's jobs cannot be listed" in line
               and "waiting 2m00s" in line for line in lines)
    assert any("(1 held back: a job in flight may cover them)" in line for line in lines)


def test_a_job_listing_stuck_before_any_start_names_the_jobs_already_adopted(emulator):
    """The look for jobs in flight before starting cannot fall back (starting blind could
    duplicate jobs): it fails with ListingStuckError naming the job it had already found
    running for these read sets (first page of the listing), and starts none."""
    store, ids = _store(emulator, 30)
    other = emulator.client().start_read_set_activation_job(
        sequenceStoreId=store, clientToken="someone-else", sources=[{"readSetId": rid} for rid in ids[:10]])
    emulator.set_faults(stuck_next_token={"ListReadSetActivationJobs": True})
    with pytest.raises(ListingStuckError) as info:
        run_activation(emulator, store, ids)
    assert info.value.running_job_ids == [other["id"]]
    assert (f"1 activation job(s) covering these read sets are running: {other['id']}; they keep running "
            "in HealthOmics and the next `pulumi up` waits for them.") in str(info.value)
    assert [j["id"] for j in emulator.jobs()] == [other["id"]]  # the run started none
