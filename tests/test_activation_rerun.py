"""A rerun after a timed-out create or update whose jobs finished before it began finds
every read set ACTIVE. It looks, bounded in calls, for the ended jobs
(ListReadSetActivationJobs, createdAfter the last recorded run) whose FINISHED sources name
those read sets, and records them: in ``job_ids``, ``activation_count`` and the base count,
not ``job_ids=[]``, ``activation_count`` 0 and 0 bases."""

from __future__ import annotations

import datetime as _dt
import re

import pytest

from omics_dynamic.activation import ActivationRun
from omics_dynamic.errors import ActivationTimeoutError
from omics_dynamic.limits import EARLIER_SPARE_READS
from omics_dynamic.planning import ActivationInputs
from omics_dynamic.provider import ReadSetActivationProvider
from support import make_api

GBASES_27 = 27_000_000_000


def _store(emulator, n: int, *, first_bases: int = GBASES_27) -> tuple[str, list[str], dict[str, int]]:
    """A store of ``n`` ARCHIVED read sets, the i-th (in ID order) with ``first_bases + i`` bases."""
    store = emulator.create_store(read_sets=[
        {"status": "ARCHIVED", "sequenceInformation": {"totalReadCount": 1_000, "totalBaseCount": first_bases + i}}
        for i in range(n)])
    statuses = emulator.read_set_statuses(store)
    client = emulator.client()
    bases = {rid: client.get_read_set_metadata(sequenceStoreId=store, id=rid)["sequenceInformation"]["totalBaseCount"]
             for rid in statuses}
    return store, sorted(statuses), bases


def _run(emulator, store, ids, lines, **kwargs):
    timeout_s = kwargs.pop("timeout_seconds", 3600)
    inputs = ActivationInputs(store, tuple(ids), resource_name="cohort", timeout_seconds=timeout_s)
    return ActivationRun(make_api(emulator), inputs, generation="cohort/create", report=lines.append, **kwargs).run()


def test_a_rerun_after_a_timed_out_run_records_the_jobs_that_finished_meanwhile(emulator):
    store, ids, bases = _store(emulator, 40)
    with pytest.raises(ActivationTimeoutError) as info:
        _run(emulator, store, ids, [], timeout_seconds=30)
    jobs = sorted(info.value.running_job_ids)
    assert len(jobs) == 2
    emulator.advance(3600)  # both jobs end before the rerun
    assert set(emulator.read_set_statuses(store).values()) == {"ACTIVE"}
    emulator.reset_counters()
    lines: list = []
    result = _run(emulator, store, ids, lines, earlier_read_set_ids=ids)
    assert result.job_ids == result.earlier_job_ids == jobs
    assert result.started_job_ids == result.adopted_job_ids == result.found_job_ids == []
    assert result.activated_by_jobs_read_set_ids == ids and result.already_active_read_set_ids == []
    assert result.activated_base_count == sum(bases.values()) == 40 * GBASES_27 + 780 == 1_080_000_000_780
    assert result.became_active_read_set_ids == ids
    # One listing page, one read per job: the lookup is bounded.
    assert dict(emulator.calls) == {"ListReadSets": 1, "ListReadSetActivationJobs": 1, "GetReadSetActivationJob": 2}
    assert lines[2] == ("cohort: 40 of the 40 read sets ACTIVE at the start were activated by 2 job(s) that "
                        f"ended before this run began (e.g. {jobs[0]}); recorded in job_ids")


def test_without_earlier_read_set_ids_the_run_records_only_its_own(emulator):
    store, ids, _ = _store(emulator, 20)
    with pytest.raises(ActivationTimeoutError):
        _run(emulator, store, ids, [], timeout_seconds=30)
    emulator.advance(3600)
    emulator.reset_counters()
    result = _run(emulator, store, ids, [])
    assert result.job_ids == [] and result.activated_base_count == 0 and result.already_active_read_set_ids == ids
    assert "ListReadSetActivationJobs" not in emulator.calls


def test_jobs_before_the_last_recorded_run_and_other_read_sets_jobs_are_not_credited(emulator):
    """The last recorded run activated 20 read sets; 10 were archived again and a timed-out
    run's job activated them; three newer jobs activated read sets of another resource.
    The rerun credits the timed-out run's job with its 10; the last recorded run's job, created
    before ``earlier_jobs_after``, is not listed, so the other 10 stay "already active"
    (with no bound, any job: it is credited too). Ended jobs are read newest first, at most
    one per 20 read sets plus EARLIER_SPARE_READS; a job of other read sets costs one read."""
    store, ids, bases = _store(emulator, 20)
    emulator.create_store(store_id=store, read_sets=["ARCHIVED"] * 60)
    others = sorted(set(emulator.read_set_statuses(store)) - set(ids))
    [recorded_job] = _run(emulator, store, ids, []).started_job_ids  # the last recorded run
    recorded_at = _dt.datetime.fromtimestamp(emulator.jobs()[0]["completionTime"], _dt.timezone.utc)
    emulator.advance(60)
    emulator.archive(store, ids[:10])
    with pytest.raises(ActivationTimeoutError) as info:
        _run(emulator, store, ids, [], timeout_seconds=30)
    [job_id] = info.value.running_job_ids
    emulator.advance(60)
    client = emulator.client()
    for i in range(3):  # three newer jobs for read sets of another resource
        client.start_read_set_activation_job(sequenceStoreId=store, clientToken=f"other-{i}",
                                             sources=[{"readSetId": rid} for rid in others[20 * i:20 * i + 20]])
        emulator.advance(1)
    emulator.advance(3600)
    emulator.reset_counters()
    result = _run(emulator, store, ids, [], earlier_read_set_ids=ids, earlier_jobs_after=recorded_at)
    assert result.job_ids == result.earlier_job_ids == [job_id]
    assert result.activated_by_jobs_read_set_ids == ids[:10] and result.already_active_read_set_ids == ids[10:]
    assert result.activated_base_count == sum(bases[rid] for rid in ids[:10])
    assert emulator.calls["GetReadSetActivationJob"] == 4 <= 1 + EARLIER_SPARE_READS  # 3 others, then ours

    result = _run(emulator, store, ids, [], earlier_read_set_ids=ids)
    assert result.job_ids == sorted([job_id, recorded_job]) and result.already_active_read_set_ids == []
    assert result.activated_base_count == sum(bases.values())


def _inputs(store, ids, **extra):
    news = {"sequence_store_id": store, "read_set_ids": list(ids), "resource_name": "cohort", **extra}
    checked = ReadSetActivationProvider().check({}, news)
    assert checked.failures == []
    return checked.inputs


def test_the_provider_records_a_timed_out_create_s_jobs_at_its_rerun(provider, emulator):
    """A timed-out create, then a timed-out update, each rerun after its jobs ended, through
    the provider: the outputs name those jobs, count the activation and its bases; an
    update in between credits only its own new job, not the read sets state records."""
    store, ids, bases = _store(emulator, 40)
    with pytest.raises(ActivationTimeoutError) as info:
        provider.create(_inputs(store, ids, timeout_seconds=30))
    jobs = sorted(info.value.running_job_ids)
    emulator.advance(3600)
    outs = provider.create(_inputs(store, ids)).outs
    assert (outs["job_ids"], outs["activation_count"], outs["activated_base_count"]) == (jobs, 1, "1080000000780")
    assert outs["activated_read_set_ids"] == ids and outs["activated_without_job_read_set_ids"] == []

    # An update that adds a read set: the read sets the state records as activated are not
    # credited again (their jobs are the recorded run's).
    emulator.advance(60)
    emulator.create_store(store_id=store, read_sets=[
        {"status": "ARCHIVED", "sequenceInformation": {"totalReadCount": 10, "totalBaseCount": 5_000}}])
    [new] = sorted(set(emulator.read_set_statuses(store)) - set(ids))
    ids = sorted(ids + [new])
    outs = provider.update("rsa", outs, _inputs(store, ids, check_live_status=False)).outs
    [new_job] = [j["id"] for j in emulator.jobs() if j["id"] not in jobs]
    assert (outs["job_ids"], outs["activation_count"], outs["activated_base_count"]) == ([new_job], 2, "5000")

    # An update that timed out after re-archiving 20 of them; its job ends before the rerun.
    emulator.advance(60)
    emulator.archive(store, ids[:20])
    stale = {**outs, "not_active_read_set_statuses": {rid: "ARCHIVED" for rid in ids[:20]}}
    news = _inputs(store, ids, check_live_status=False)
    with pytest.raises(ActivationTimeoutError) as info:
        provider.update("rsa", stale, {**news, "timeout_seconds": 30})
    [update_job] = info.value.running_job_ids
    emulator.advance(3600)
    outs = provider.update("rsa", stale, news).outs
    bases[new] = 5_000
    assert (outs["job_ids"], outs["activation_count"], outs["activated_base_count"]) == (
        [update_job], 3, str(sum(bases[rid] for rid in ids[:20])))
    assert outs["activated_read_set_ids"] == ids[:20]


def test_a_rerun_that_cannot_list_the_jobs_still_succeeds_and_says_so(emulator):
    """Every ListReadSetActivationJobs answer is a 500 until timeout_seconds is spent: the
    read sets are ACTIVE, so the run succeeds, recording no earlier job, with a warning."""
    store, ids, _ = _store(emulator, 20)
    with pytest.raises(ActivationTimeoutError):
        _run(emulator, store, ids, [], timeout_seconds=30)
    emulator.advance(3600)
    emulator.set_faults(internal_error_rate={"ListReadSetActivationJobs": 1.0})
    lines: list = []
    result = _run(emulator, store, ids, lines, timeout_seconds=120, earlier_read_set_ids=ids)
    assert result.job_ids == [] and result.already_active_read_set_ids == ids
    assert lines[-2].startswith("cohort: warning: could not look for the jobs that activated the 20 read sets "
                                "ACTIVE at the start (ListReadSetActivationJobs could not complete within the time "
                                "budget"), lines[-2]
    assert lines[-2].endswith("); job_ids lists only the jobs of this run")
    # The budget was spent listing (backoffs with random jitter: the second varies).
    assert re.fullmatch(r"cohort: all 20 read sets ACTIVE after (1m[45]\d|2m0\d)s \(0 activation job\(s\)\)", lines[-1])
