"""The cost model through the real code paths against the emulator (manual clock): diff's
live check, create's discovery and confirmation, check's preview of a new resource, the
volume lines and the result's base count and store ARN. Call counts, not times."""

from __future__ import annotations

import random

import pytest
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config

import omics_dynamic.provider as provider_module
from omics_dynamic.activation import look_up_statuses
from omics_dynamic.errors import ReadSetsUnusableError
from omics_dynamic.provider import ReadSetActivationProvider
from omics_emulator import COHORT_STORE_ID
from support import make_api, run_activation


def _inputs(store, ids, **extra):
    news = {"sequence_store_id": store, "read_set_ids": sorted(ids), "resource_name": "cohort", **extra}
    checked = ReadSetActivationProvider().check({}, news)  # a bare provider: no lookup
    assert checked.failures == []
    return checked.inputs


def _all_active_state(inputs):
    return {**inputs, "read_set_statuses": {rid: "ACTIVE" for rid in inputs["read_set_ids"]}}


def _generated(emulator, **counts):
    store = emulator.create_store(generate=counts)
    statuses = emulator.read_set_statuses(store)
    return store, statuses


def test_live_check_of_an_all_active_cohort_costs_the_six_status_listings(provider, emulator, capfd):
    """bench/cost.py's target 1, scaled down (1,000 for 100,000): an all-ACTIVE cohort fills
    its store. The live check costs the six status listings, not the unfiltered listing's
    10 pages (1,000 at 100,000), and plans no update."""
    store, statuses = _generated(emulator, ACTIVE=1000)
    inputs = _inputs(store, statuses)
    emulator.reset_counters()
    assert provider.diff("rsa", _all_active_state(inputs), inputs).changes is False
    assert dict(emulator.calls) == {"ListReadSets": 6}
    assert "update" not in capfd.readouterr().err


def test_live_check_of_a_cohort_in_a_larger_store_costs_what_is_not_active(provider, emulator):
    """bench/cost.py's target 2, scaled down: 1,000 ACTIVE requested in a store of 10,000 holding 500
    ARCHIVED elsewhere: the ARCHIVED listing's 5 pages and 5 empty listings. (Scaled
    faithfully: the status listings cost no more than the unfiltered listing's lower bound,
    1,000 / 100 pages, as 15 calls against 100,000 / 100 at full size. With 1,000 ARCHIVED
    here, 15 calls against a bound of 10, the guard would share the calls with the
    unfiltered listing: 20 calls, within 2 x.)"""
    store, statuses = _generated(emulator, ACTIVE=9500, ARCHIVED=500)
    active = sorted(rid for rid, s in statuses.items() if s == "ACTIVE")
    inputs = _inputs(store, random.Random(3).sample(active, 1000))
    emulator.reset_counters()
    assert provider.diff("rsa", _all_active_state(inputs), inputs).changes is False
    assert dict(emulator.calls) == {"ListReadSets": 10}


def test_live_check_of_a_small_store_costs_one_page(provider, emulator):
    store, statuses = _generated(emulator, ACTIVE=100)
    inputs = _inputs(store, statuses)
    emulator.reset_counters()
    assert provider.diff("rsa", _all_active_state(inputs), inputs).changes is False
    assert dict(emulator.calls) == {"ListReadSets": 1}


def test_live_check_line_gives_the_volume_to_activate(provider, emulator, capfd):
    """The diff line says how many read sets and gigabases `pulumi up` will
    activate, from the listings' sequenceInformation (no extra call); the shipped cohort's
    read sets carry totalBaseCount."""
    emulator.seed("cohort")
    statuses = emulator.read_set_statuses(COHORT_STORE_ID)
    cohort = sorted(statuses)
    ids = cohort[:300]
    inputs = _inputs(COHORT_STORE_ID, ids)
    client = emulator.client()
    expected = [client.get_read_set_metadata(sequenceStoreId=COHORT_STORE_ID, id=rid) for rid in ids
                if statuses[rid] == "ARCHIVED"]
    bases = sum(m["sequenceInformation"]["totalBaseCount"] for m in expected)
    emulator.reset_counters()
    assert provider.diff("rsa", _all_active_state(inputs), inputs).changes is True
    err = capfd.readouterr().err
    gigabases = f"{bases / 1e9:,.1f} Gbases"
    # The cohort holds DELETED and UPLOAD_FAILED read sets: the up fails until they are removed.
    assert (f"`pulumi up` will fail: 13 of them cannot be activated; remove them from read_set_ids (or the "
            f"selection that gave them), then it will activate {len(expected)} read sets ({gigabases})") in err
    assert "GetReadSetMetadata" not in emulator.calls


def test_a_read_set_without_a_base_count_is_named_in_the_volume(provider, emulator, capfd):
    store = emulator.create_store(read_sets=["ARCHIVED"] * 2)  # plain entries: no sequenceInformation
    emulator.create_store(store_id=store, generate={"ARCHIVED": 3})
    ids = sorted(emulator.read_set_statuses(store))
    inputs = _inputs(store, ids)
    assert provider.diff("rsa", _all_active_state(inputs), inputs).changes is True
    assert "will activate 5 read sets (270.0 Gbases; 2 read sets without a base count)" in capfd.readouterr().err


def test_create_still_fails_for_a_read_set_that_does_not_exist(provider, emulator):
    """The status listings cannot tell ACTIVE from missing; create's discovery settles what
    they did not show (here by a read), so a missing read set fails before any job starts."""
    store, statuses = _generated(emulator, ACTIVE=9500, ARCHIVED=500)
    archived = sorted(rid for rid, s in statuses.items() if s == "ARCHIVED")
    inputs = _inputs(store, archived + ["9999999999"])
    emulator.reset_counters()
    with pytest.raises(ReadSetsUnusableError) as info:
        provider.create(inputs)
    assert "9999999999" in str(info.value)
    assert emulator.calls["StartReadSetActivationJob"] == 0
    assert emulator.calls["ListReadSets"] <= 2 * (5 + 5)  # not the 100 unfiltered pages
    # The live check may count it as ACTIVE: the status listings answered for it.
    found = look_up_statuses(make_api(emulator), store, ["9999999999"] + archived[:10], unseen_active=True)
    assert found.statuses["9999999999"] in ("ACTIVE", "NOT_FOUND")


@pytest.mark.parametrize("profile", ["default", "paging", "lagging"])
def test_lookups_are_right_under_every_listing_profile(emulator, profile):
    """Page size 7, shuffled order and empty pages (paging), or the default: every mode of
    the lookup reports the store's own statuses (create's mode exactly; the live check's
    mode all that are not ACTIVE)."""
    emulator.set_profile(profile)
    store = emulator.create_store(read_sets=["ARCHIVED"] * 40 + ["ACTIVE"] * 150 + ["ACTIVATING"] * 5
                                  + ["UPLOAD_FAILED"] * 3 + ["DELETED"] * 2)
    truth = emulator.read_set_statuses(store)
    rng = random.Random(5)
    for k in (1, 3, 30, 200):
        ids = rng.sample(sorted(truth), k)
        exact = look_up_statuses(make_api(emulator), store, ids + ["9999999999"])
        assert exact.statuses == {**{rid: truth[rid] for rid in ids}, "9999999999": "NOT_FOUND"}
        live = look_up_statuses(make_api(emulator), store, ids, unseen_active=True)
        assert {r: s for r, s in live.statuses.items() if s != "ACTIVE"} == {
            r: truth[r] for r in ids if truth[r] != "ACTIVE"}
        assert exact.unguarded_steps == live.unguarded_steps == 0


def test_result_carries_the_activated_base_count_and_the_store_arn(emulator):
    """What the outputs need (omics_dynamic/outputs.py): the bases of the read sets the
    run's jobs activated, 0 for one without a count; the store's ARN from a read set's ARN."""
    store = emulator.create_store(generate={"ARCHIVED": 30, "ACTIVE": 10})
    emulator.create_store(store_id=store, read_sets=["ARCHIVED"])  # no sequenceInformation
    ids = sorted(emulator.read_set_statuses(store))
    result = run_activation(emulator, store, ids)
    assert len(result.activated_by_jobs_read_set_ids) == 31
    assert result.activated_base_count == 30 * 90_000_000_000
    assert result.store_arn == f"arn:aws:omics:us-east-1:123456789012:sequenceStore/{store}"


def test_create_plan_line_gives_the_volume(emulator):
    store = emulator.create_store(generate={"ARCHIVED": 25, "ACTIVE": 5})
    lines: list = []
    run_activation(emulator, store, emulator.read_set_statuses(store), lines=lines)
    plan = next(line for line in lines if "will activate" in line)
    assert plan.startswith(f"cohort: 30 read sets in sequence store {store}: 5 ACTIVE, 25 ARCHIVED")
    assert "will activate 25 read sets (2,250.0 Gbases)" in plan


def test_finished_read_sets_are_confirmed_by_one_status_round_in_a_large_store(emulator):
    """300 ARCHIVED requested in a store of 20,000 otherwise ACTIVE: no listing cursor (the
    unfiltered listing would be 200 pages); the read sets of finished jobs are confirmed
    once nothing is left in flight, by one round of the six status listings (the ARCHIVED
    one then empty), not one read each."""
    store, statuses = _generated(emulator, ACTIVE=19_700, ARCHIVED=300)
    ids = sorted(rid for rid, s in statuses.items() if s == "ARCHIVED")
    lines: list = []
    result = run_activation(emulator, store, ids, lines=lines)
    assert len(result.activated_by_jobs_read_set_ids) == 300
    assert set(emulator.read_set_statuses(store).values()) == {"ACTIVE"}
    assert emulator.calls["GetReadSetMetadata"] <= 2 * 6  # the discovery race's share, if any
    assert emulator.calls["ListReadSets"] <= 3 * (5 + 3) + 6
    assert any("more finished by their jobs (confirmed ACTIVE at the end)" in line for line in lines)


def test_a_failed_source_is_still_rechecked_and_reported(emulator):
    """Deferring the finished read sets keeps the failure path: a failed source is looked at
    after the poll that ended its job (its read set's own status decides) and reported with
    the job's and the source's messages."""
    from omics_dynamic.errors import ActivationFailedError

    store = emulator.create_store(read_sets=["ARCHIVED"] * 25)
    ids = sorted(emulator.read_set_statuses(store))
    emulator.set_faults(failing_read_sets={ids[3]: "storage error"})
    with pytest.raises(ActivationFailedError) as info:
        run_activation(emulator, store, ids)
    assert [f.read_set_id for f in info.value.failures] == [ids[3]]
    assert "storage error" in str(info.value)
    statuses = emulator.read_set_statuses(store)
    assert statuses[ids[3]] == "ARCHIVED" and sum(s == "ACTIVE" for s in statuses.values()) == 24


# -- check's preview of a new resource -----------------------------------------------------
def _configured(emulator, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_OMICS", emulator.endpoint_url)
    prov = ReadSetActivationProvider()
    prov.configure(ConfigureRequest(Config({"aws:region": "us-east-1", "omics-dynamic:rateLimit": "0"}, "p")))
    return prov


def test_check_of_a_new_resource_prints_the_volume_once_configured(emulator, monkeypatch, capfd):
    store = emulator.create_store(generate={"ARCHIVED": 40, "ACTIVE": 60})
    ids = sorted(emulator.read_set_statuses(store))
    news = {"sequence_store_id": store, "read_set_ids": ids, "resource_name": "cohort"}
    emulator.reset_counters()
    ReadSetActivationProvider().check({}, news)  # never configured (a program, a test): no call
    assert not emulator.calls
    prov = _configured(emulator, monkeypatch)
    result = prov.check({}, news)
    assert result.failures == []
    err = capfd.readouterr().err
    assert (f"cohort: create: will activate 40 read sets (3,600.0 Gbases) of 100 in sequence store "
            f"{store} (60 ACTIVE, 40 ARCHIVED)") in err
    assert dict(emulator.calls) == {"ListReadSets": 1}
    # Not for an existing resource (olds given), not without check_live_status, not with an unknown.
    emulator.reset_counters()
    prov.check(news, news)
    prov.check({}, {**news, "check_live_status": False})
    from pulumi.output import Unknown
    prov.check({}, {**news, "read_set_ids": [ids[0], Unknown()]})
    assert not emulator.calls


def test_check_preview_fails_when_the_create_would_fail(emulator, monkeypatch, capfd):
    """A DELETED read set is a definitive answer: check of a new resource fails (not a
    warning and a passing preview), on read_set_ids, naming the read set and its status."""
    store = emulator.create_store(read_sets=["ACTIVE"] * 5 + ["DELETED"])
    ids = sorted(emulator.read_set_statuses(store))
    deleted = next(r for r, s in emulator.read_set_statuses(store).items() if s == "DELETED")
    prov = _configured(emulator, monkeypatch)
    [failure] = prov.check({}, {"sequence_store_id": store, "read_set_ids": ids, "resource_name": "cohort"}).failures
    assert failure.property == "read_set_ids"
    assert f"1 read set(s) in sequence store {store} cannot be activated (1 DELETED): {deleted} (DELETED)" in failure.reason
    assert f"{deleted} (DELETED) (of 6 looked up)" in failure.reason


def test_check_preview_never_fails_check(emulator, monkeypatch, capfd):
    prov = _configured(emulator, monkeypatch)
    monkeypatch.setattr(provider_module, "LIVE_CHECK_TIMEOUT_S", 1.0)
    monkeypatch.setenv("AWS_ENDPOINT_URL_OMICS", "http://127.0.0.1:9")  # nothing listens
    news = {"sequence_store_id": "1234567890", "read_set_ids": ["1000000001"], "resource_name": "cohort"}
    result = prov.check({}, news)
    assert result.failures == []
    assert "cohort: warning: create:" in capfd.readouterr().err
