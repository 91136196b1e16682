"""What a run says when it stops before every read set is ACTIVE (timeout, Ctrl-C), and
when starts are held back: each sentence means what HealthOmics has.

- a start whose answer is held when the budget runs out or Ctrl-C comes may have created a
  job: the error says so (and, on a timeout, looks for it) instead of "0 jobs running";
- a job CANCELLING in the console is named with its status and message, not "still
  running ... the next up resumes";
- starts refused with ServiceQuotaExceededException show in progress lines and in the
  timeout error, with the right fix;
- no job is started once the budget is spent;
- with no job running, no sentence says "they keep running";
- source failures the run already knows (re-checked against the read set's own status)
  are named in the timeout and cancellation errors, with the advice to fix their cause.

In process on the emulator's manual clock (nothing sleeps) except the held-answer tests,
which wait a few real seconds for the call's bound.
"""

from __future__ import annotations

import re
import threading
import time

import pytest

from omics_dynamic.activation import ActivationRun
from omics_dynamic.errors import (
    ActivationCancelledError,
    ActivationTimeoutError,
    BudgetExhaustedError,
    SourceFailure,
)
from omics_dynamic.planning import ActivationInputs, client_token
from support import make_api


@pytest.fixture(autouse=True)
def _no_backoff(no_botocore_backoff):
    """No real botocore backoff in any test here."""


def _store(emulator, n):
    store = emulator.create_store(read_sets=["ARCHIVED"] * n)
    return store, sorted(emulator.read_set_statuses(store))


def _run(api, store, ids, lines, cancel=None, **inputs):
    args = ActivationInputs(store, tuple(ids), resource_name="cohort", **inputs)
    return ActivationRun(api, args, generation="cohort/create", report=lines.append, cancel=cancel).run()


# -- a start whose answer never came -----------------------------------------------------
@pytest.mark.parametrize("profile", ["default", "lagging"])
def test_a_timeout_while_a_start_answer_is_held_names_the_job_it_created(emulator, profile):
    """HealthOmics creates the job but holds the answer (30 real s); the 0.5 s budget runs
    out inside the call. The run lists the store's jobs in flight (each call bounded by a
    few seconds) and never says "0 activation job(s)": with sources listed it names the job
    as still running; where a SUBMITTED job lists no sources (lagging) it says the
    unanswered start may have created a job, with its clientToken, and so does the last
    progress line ("0 jobs running (and a start that got no answer may have created one)")."""
    emulator.set_profile(profile)
    store, ids = _store(emulator, 20)
    emulator.set_faults(hold_response_s={"StartReadSetActivationJob": 30})
    lines: list = []
    t0 = time.monotonic()
    with pytest.raises(ActivationTimeoutError) as info:
        _run(make_api(emulator), store, ids, lines, timeout_seconds=0.5)
    assert time.monotonic() - t0 < 15.0  # not the held answer (30 s); loaded machines take seconds
    [job] = emulator.jobs()
    err, text = info.value, str(info.value)
    assert "StartReadSetActivationJob could not complete within the time budget: no answer after" in text
    assert "no activation job of this run is running" not in text and "0 activation job(s)" not in text
    if profile == "default":
        assert err.running_job_ids == [job["id"]] and err.unanswered_start is None
        assert f"1 activation job(s) still running: {job['id']}. The jobs keep running in HealthOmics" in text
        assert re.fullmatch(r"cohort: timed out: 0/20 read sets active, \S+ elapsed, 1 job running \(1 SUBMITTED\), "
                            r"0 queued", lines[-1]), lines[-1]
    else:
        assert re.fullmatch(r"cohort: timed out: 0/20 read sets active, \S+ elapsed, 0 jobs running \(and a start "
                            r"that got no answer may have created one\), 1 queued \(1 held back: a job in flight "
                            r"may cover them\)", lines[-1]), lines[-1]
        assert err.running_job_ids == []
        assert err.unanswered_start.client_token == job["clientToken"] == client_token(store, ids, "cohort/create", 1)
        assert (f"; a StartReadSetActivationJob call for 20 read set(s) (clientToken {job['clientToken']}) got "
                "no answer before the run stopped: it may have created a job, which then keeps running in "
                "HealthOmics; the next `pulumi up` looks for it and adopts it") in text


def test_ctrl_c_while_a_start_answer_is_held_says_a_job_may_exist(emulator):
    """Ctrl-C (the cancel event) while the start's answer is held: the run stops at once and
    looks for nothing (every call is refused once cancelled), but says the start may have
    created a job instead of "0 activation job(s) still running"."""
    store, ids = _store(emulator, 20)
    emulator.set_faults(hold_response_s={"StartReadSetActivationJob": 30})
    cancel = threading.Event()
    lines: list = []
    api = make_api(emulator)
    pressed_at: list = []

    def press():
        pressed_at.append(time.monotonic())
        cancel.set()

    def ctrl_c_soon(**_):  # 0.3 s after the start is sent, while its answer is held
        threading.Timer(0.3, press).start()

    api.client.meta.events.register("before-call.omics.StartReadSetActivationJob", ctrl_c_soon)
    with pytest.raises(ActivationCancelledError) as info:
        _run(api, store, ids, lines, cancel=cancel)
    # Stops without waiting for the held answer (30 s more); loaded machines take seconds.
    assert len(pressed_at) == 1 and time.monotonic() - pressed_at[0] < 15.0
    [job] = emulator.jobs()
    assert info.value.running_job_ids == [] and info.value.unanswered_start.client_token == job["clientToken"]
    assert str(info.value) == (
        "cohort: cancelled before every read set was ACTIVE; a StartReadSetActivationJob call for 20 read "
        f"set(s) (clientToken {job['clientToken']}) got no answer before the run stopped: it may have "
        "created a job, which then keeps running in HealthOmics; the next `pulumi up` looks for it and "
        "adopts it (or, sending the same clientToken, is answered with it).")
    assert lines[-1] == ("cohort: cancelled; no activation job of this run is running; a start got no answer "
                         "and may have created a job")


# -- a job cancelled in the console ------------------------------------------------------
@pytest.mark.parametrize("read_sets", [40, 100])  # polled by reading each job / by the listing
def test_a_job_stuck_cancelling_is_named_with_its_status_not_as_resumable(emulator, read_sets):
    """A job is cancelled in the console 20 s after it started and stays CANCELLING for a
    day. The timeout error names it CANCELLING with its statusMessage and says a cancelled
    job does not activate its read sets (neither "still running" nor "Raise
    timeout_seconds"); progress lines count it as CANCELLING."""
    store, ids = _store(emulator, read_sets)
    original_advance = emulator.advance
    cancelled: list = []

    def advance(seconds):
        running = [j for j in emulator.jobs() if j["status"] == "IN_PROGRESS"]
        if not cancelled and running and emulator.now() - running[0]["creationTime"] > 20:
            cancelled.append(emulator.cancel_job(running[0]["id"], cancelling_s=86400)["id"])
        return original_advance(seconds)

    emulator.advance = advance
    lines: list = []
    with pytest.raises(ActivationTimeoutError) as info:
        _run(make_api(emulator), store, ids, lines, timeout_seconds=600)
    [job_id] = cancelled
    err, text = info.value, str(info.value)
    assert err.running_job_ids == [job_id] and err.cancelling == {job_id: "Cancellation requested"}
    assert (f"; 1 activation job(s) CANCELLING in HealthOmics (a cancellation was requested): {job_id} "
            '("Cancellation requested"); a cancelled job does not activate its read sets: the next `pulumi up` '
            "waits until it is CANCELLED and starts new jobs for the read sets still ARCHIVED.") in text
    assert "still running" not in text and "Raise timeout_seconds" not in text
    assert err.counts == {"ACTIVE": read_sets - 20, "ACTIVATING": 20}
    assert any("1 job running (1 CANCELLING, " in line for line in lines)


# -- the concurrent-job quota ------------------------------------------------------------
def _request_ids_of_refusals(api) -> list:
    ids: list = []

    def after_call(model, parsed, **_):
        if model.name == "StartReadSetActivationJob" and parsed.get("Error", {}).get("Code") == \
                "ServiceQuotaExceededException":
            ids.append(parsed["ResponseMetadata"]["RequestId"])

    api.client.meta.events.register("after-call.omics", after_call)
    return ids


def test_starts_refused_for_the_quota_show_in_progress_and_the_timeout_names_the_fix(emulator):
    """Other jobs hold the account's whole quota (0 left): every start is refused with
    ServiceQuotaExceededException until timeout_seconds. Progress lines say the quota holds
    the starts back, with the last refusal's request ID, and the timeout error names the 20
    refusals and the fix (wait for the other jobs, or a higher quota), not "Raise
    timeout_seconds"."""
    emulator.set_quota(max_concurrent_jobs=0)
    store, ids = _store(emulator, 30)
    api = make_api(emulator)
    refusals = _request_ids_of_refusals(api)
    lines: list = []
    with pytest.raises(ActivationTimeoutError) as info:
        _run(api, store, ids, lines, timeout_seconds=300)
    text = str(info.value)
    assert len(refusals) == emulator.outcomes[("StartReadSetActivationJob", "ServiceQuotaExceededException")] == 20
    assert info.value.quota.refusals == 20 and info.value.quota.last_request_id == refusals[-1]
    assert (f"; no activation job of this run is running. HealthOmics refused 20 start(s) with "
            f"ServiceQuotaExceededException (request ID of the last: {refusals[-1]}), so 2 chunk(s) of at most "
            "20 read sets were never started: the account's quota of concurrent activation jobs in this Region "
            "was in use by its other jobs. Wait for them to end or ask AWS for a higher quota") in text
    assert "Raise timeout_seconds if" not in text
    quota_lines = [line for line in lines if "held back by the account's quota of concurrent activation jobs" in line]
    assert quota_lines and f"the last with request ID {refusals[-1]}" in quota_lines[-1]
    assert any(f"1 start(s) refused with ServiceQuotaExceededException, the last with request ID {refusals[0]}" in line
               for line in lines)


def test_a_quota_held_by_the_runs_own_jobs_still_advises_more_time(emulator):
    """Quota 1: the run's own job holds it, the next starts are refused; at the timeout the
    error names the refusals and advises more time or a higher quota."""
    emulator.set_quota(max_concurrent_jobs=1)
    store, ids = _store(emulator, 60)
    api = make_api(emulator)
    refusals = _request_ids_of_refusals(api)
    with pytest.raises(ActivationTimeoutError) as info:
        _run(api, store, ids, [], timeout_seconds=100)
    text = str(info.value)
    assert refusals and info.value.quota.refusals == len(refusals) and info.value.quota.jobs_of_the_run == 1
    assert f"; 1 activation job(s) still running: {info.value.running_job_ids[0]}." in text
    assert text.endswith("in use. Raise timeout_seconds, or ask AWS for a higher quota of concurrent read set "
                         "activation jobs (Service Quotas, AWS HealthOmics).")


# -- the budget --------------------------------------------------------------------------
def test_no_job_is_started_once_the_budget_is_spent(emulator):
    """Paced at 0.5 requests/s, the look for jobs in flight (two listings) ends 2.2 s into
    a 1 s budget: the run starts no job, and the timeout error says no job of the run is
    running, with all 30 read sets ARCHIVED."""
    store, ids = _store(emulator, 30)
    with pytest.raises(ActivationTimeoutError) as info:
        _run(make_api(emulator, rate_per_s=0.5), store, ids, [], timeout_seconds=1)
    assert emulator.jobs() == [] and emulator.calls["StartReadSetActivationJob"] == 0
    assert info.value.running_job_ids == [] and info.value.counts == {"ARCHIVED": 30}
    assert "; no activation job of this run is running." in str(info.value)


def test_the_api_sends_no_start_after_its_deadline(emulator):
    """OmicsApi refuses a StartReadSetActivationJob once its deadline has passed (pacing
    included), marked as not sent, so the run does not report it as a start that may have
    created a job."""
    store, ids = _store(emulator, 5)
    api = make_api(emulator)
    api.bound(emulator.now() - 1.0)
    with pytest.raises(BudgetExhaustedError) as info:
        api.start_job(store, ids, "token-1")
    assert info.value.sent is False and str(info.value) == (
        "StartReadSetActivationJob not sent: the time budget was already spent")
    assert emulator.jobs() == [] and api.calls["StartReadSetActivationJob"] == 0


# -- failures already known when the run stops -------------------------------------------
KMS = "KMS key disabled: cannot restore"


def _one_job_fails_while_another_runs(emulator, failing):
    """40 read sets, two jobs of 20: the first ends COMPLETED_WITH_FAILURES (``failing``:
    its sources that FAIL with :data:`KMS`), the second stays SUBMITTED for two hours."""
    store, ids = _store(emulator, 40)
    emulator.set_faults(failing_read_sets={rid: KMS for rid in failing(ids)},
                        delay_jobs_containing=[ids[39]], delay_seconds=7200)
    return store, ids


def _ended_and_running(emulator):
    [ended] = [j for j in emulator.jobs() if j["status"] == "COMPLETED_WITH_FAILURES"]
    [running] = [j for j in emulator.jobs() if j["status"] == "SUBMITTED"]
    return ended, running


def test_a_timeout_names_the_source_failures_it_already_knows(emulator):
    """The first job ends COMPLETED_WITH_FAILURES after about a minute (two sources FAILED
    "KMS key disabled"), the other job runs past timeout_seconds; somebody activates one of
    the two failed read sets meanwhile. The timeout error names the read set whose source
    failed and that is not ACTIVE when re-read (the other one is ACTIVE: not named), with
    its job ID, the job's status and message and the source's message, and the advice
    covers both: fix the cause, the next `pulumi up` resumes the running job."""
    store, ids = _one_job_fails_while_another_runs(emulator, lambda ids: ids[:2])
    original_advance = emulator.advance

    def advance(seconds):
        if (any(j["status"] == "COMPLETED_WITH_FAILURES" for j in emulator.jobs())
                and emulator.read_set_statuses(store)[ids[1]] == "ARCHIVED"):
            emulator.set_read_set_status(store, ids[1], "ACTIVE")  # activated by somebody else
        return original_advance(seconds)

    emulator.advance = advance
    lines: list = []
    with pytest.raises(ActivationTimeoutError) as info:
        _run(make_api(emulator), store, ids, lines, timeout_seconds=600)
    ended, running = _ended_and_running(emulator)
    assert {s["readSetId"] for s in ended["sources"]} >= {ids[0], ids[1]}
    err = info.value
    assert err.failures == [SourceFailure(ids[0], ended["id"], "FAILED", KMS, "COMPLETED_WITH_FAILURES",
                                          ended["statusMessage"])]
    assert err.counts == {"ACTIVE": 19, "ARCHIVED": 21} and err.running_job_ids == [running["id"]]
    assert str(err) == (
        "cohort: timed out after 600s (timeout_seconds) with 19 ACTIVE, 21 ARCHIVED; activation already "
        f'failed for 1 read set(s) in 1 job(s): job {ended["id"]} COMPLETED_WITH_FAILURES '
        f'"{ended["statusMessage"]}": 1 read set(s) with source FAILED "{KMS}": {ids[0]}. Fix the cause (see '
        "the messages): more time does not help these read sets; the next `pulumi up` starts new jobs for "
        f"those still ARCHIVED. 1 activation job(s) still running: {running['id']}. The jobs keep running in HealthOmics; the "
        "next `pulumi up` resumes: it waits for them and starts jobs only for read sets still ARCHIVED. For "
        "the rest, raise timeout_seconds if activations in this account take longer.")


def test_ctrl_c_names_the_source_failures_it_already_knows(emulator):
    """As above, with Ctrl-C (the cancel event) a minute after the first job ended: the
    cancellation error names the failed read set with its job and messages besides the job
    still running."""
    store, ids = _one_job_fails_while_another_runs(emulator, lambda ids: ids[:1])
    cancel = threading.Event()
    original_advance = emulator.advance

    def advance(seconds):
        ended = [j for j in emulator.jobs() if j["status"] == "COMPLETED_WITH_FAILURES"]
        if ended and emulator.now() - ended[0]["completionTime"] > 60:
            cancel.set()
        return original_advance(seconds)

    emulator.advance = advance
    lines: list = []
    with pytest.raises(ActivationCancelledError) as info:
        _run(make_api(emulator), store, ids, lines, cancel=cancel, timeout_seconds=600)
    ended, running = _ended_and_running(emulator)
    assert info.value.failures == [SourceFailure(ids[0], ended["id"], "FAILED", KMS, "COMPLETED_WITH_FAILURES",
                                                 ended["statusMessage"])]
    assert str(info.value) == (
        "cohort: cancelled before every read set was ACTIVE; activation already failed for 1 read set(s) in 1 "
        f'job(s): job {ended["id"]} COMPLETED_WITH_FAILURES "{ended["statusMessage"]}": 1 read set(s) with '
        f'source FAILED "{KMS}": {ids[0]}. Fix the cause (see the messages): more time does not help these read '
        f"sets; the next `pulumi up` starts new jobs for those still ARCHIVED. 1 activation job(s) still running: {running['id']}. "
        "They keep running in HealthOmics; the next `pulumi up` resumes them: it waits for them and starts jobs "
        "only for read sets still ARCHIVED.")


def test_a_failure_already_recorded_is_not_named_once_its_read_set_is_active(emulator):
    """250 read sets (the failed one on the listing's first page, so its failure is re-checked
    and recorded while the delayed job, holding the last page's read sets, still runs); five
    emulated minutes in, somebody else makes the failed read set ACTIVE; then the budget runs
    out. A recorded failure is re-checked like a suspect: the read set, ACTIVE when re-read,
    is not named as "activation already failed", and the error is the plain timeout's
    (counts, the job still running, "Raise timeout_seconds")."""
    store, ids = _store(emulator, 250)
    emulator.set_faults(failing_read_sets={ids[0]: KMS}, delay_jobs_containing=[ids[249]], delay_seconds=7200)
    t0 = emulator.now()
    original_advance = emulator.advance

    def advance(seconds):
        if emulator.now() - t0 > 300 and emulator.read_set_statuses(store)[ids[0]] == "ARCHIVED":
            emulator.set_read_set_status(store, ids[0], "ACTIVE")  # activated by somebody else
        return original_advance(seconds)

    emulator.advance = advance
    with pytest.raises(ActivationTimeoutError) as info:
        _run(make_api(emulator), store, ids, [], timeout_seconds=900)
    err = info.value
    [running] = [j for j in emulator.jobs() if j["status"] == "SUBMITTED"]
    assert err.failures == [] and err.counts == {"ACTIVE": 240, "ARCHIVED": 10}
    assert str(err) == (
        f"cohort: timed out after 900s (timeout_seconds) with 240 ACTIVE, 10 ARCHIVED; 1 activation job(s) still "
        f"running: {running['id']}. The jobs keep running in HealthOmics; the next `pulumi up` resumes: it waits "
        "for them and starts jobs only for read sets still ARCHIVED. Raise timeout_seconds if activations in "
        "this account take longer.")
