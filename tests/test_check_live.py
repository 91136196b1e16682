"""Check's look at HealthOmics: bounded in time and calls whatever the
cohort and the store, and definitive mistakes fail the preview while no answer stays a
warning.

In process with the provider's clock on the emulator's manual clock at the default request
rate (pacing advances emulated time, so "seconds to the first line" is exact and no test
sleeps); through the SDK's real provider server (engine-role harness) for what the preview
does with check's answer.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config

import omics_dynamic.provider as provider_module
from omics_dynamic.provider import CHECK_LOOKUP_BUDGET_S, CHECK_LOOKUP_MAX_CALLS, ReadSetActivationProvider
from omics_dynamic_testing import CheckFailedError, EngineHarness, ResourceSpec
from omics_emulator import Emulator
from support import AdvancingClock

PROJECT_DIR = Path(__file__).resolve().parent.parent
TYPE = "pulumi-python:dynamic/omics:ReadSetActivation"


def _paced_provider(emulator, monkeypatch, **config):
    """A configured provider at the default request rate (5/s), its clock the emulator's."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_OMICS", emulator.endpoint_url)
    clock = AdvancingClock(emulator)
    monkeypatch.setattr(provider_module, "MonotonicClock", lambda time_scale: clock)
    prov = ReadSetActivationProvider()
    prov.configure(ConfigureRequest(Config({"aws:region": "us-east-1", **config}, "p")))
    return prov


def _news(store, ids):
    return {"sequence_store_id": store, "read_set_ids": list(ids), "resource_name": "cohort"}


# -- the first line within 5 s, whatever the cohort ------------------------------------------------
@pytest.mark.parametrize("archived,store_size", [(20_000, 40_000), (2_000, 4_000)])
def test_check_of_a_big_cohort_speaks_within_5_s_at_a_bounded_cost(emulator, monkeypatch, capfd,
                                                                    archived, store_size):
    """20,000 (or 2,000) ARCHIVED read sets in a store twice that size, at the default rate
    (5 requests/s): check passes within CHECK_LOOKUP_BUDGET_S plus one call (under 5 s),
    makes at most CHECK_LOOKUP_MAX_CALLS calls for either size, and prints one line
    saying the volume to activate is unknown, with the statuses it saw."""
    store = emulator.create_store(generate={"ARCHIVED": archived, "ACTIVE": store_size - archived})
    ids = sorted(r for r, s in emulator.read_set_statuses(store).items() if s == "ARCHIVED")
    prov = _paced_provider(emulator, monkeypatch)
    emulator.reset_counters()
    started_s = emulator.now()
    result = prov.check({}, _news(store, ids))
    took_s = emulator.now() - started_s
    assert result.failures == []
    assert took_s <= CHECK_LOOKUP_BUDGET_S + 1 < 5
    assert sum(emulator.calls.values()) <= CHECK_LOOKUP_MAX_CALLS
    err = capfd.readouterr().err
    [line] = [line for line in err.splitlines() if line.startswith("cohort:")]
    assert line.startswith("cohort: warning: create: the volume to activate is unknown: the live lookup "
                           "stopped with ")
    assert f"of {archived:,} statuses known" in line and "`pulumi up` reads them all" in line
    assert "ARCHIVED: at least " in line


def test_check_of_a_small_cohort_still_gives_the_exact_volume(emulator, monkeypatch, capfd):
    store = emulator.create_store(generate={"ARCHIVED": 40, "ACTIVE": 60})
    ids = sorted(emulator.read_set_statuses(store))
    prov = _paced_provider(emulator, monkeypatch)
    assert prov.check({}, _news(store, ids)).failures == []
    assert (f"cohort: create: will activate 40 read sets (3,600.0 Gbases) of 100 in sequence store "
            f"{store} (60 ACTIVE, 40 ARCHIVED)") in capfd.readouterr().err


# -- definitive answers fail check; no answer is a warning -----------------------------------------
def test_check_fails_for_a_store_that_does_not_exist(emulator, monkeypatch):
    prov = _paced_provider(emulator, monkeypatch)
    result = prov.check({}, _news("5555555555", ["2000000001"]))
    [failure] = result.failures
    assert failure.property == "sequence_store_id"
    assert failure.reason.startswith("sequence store 5555555555 does not exist in us-east-1: ListReadSets "
                                     "answered ResourceNotFoundException: ")
    assert "(request ID " in failure.reason and "aws omics list-sequence-stores --region us-east-1" in failure.reason


def test_check_fails_for_read_sets_not_in_the_store_or_deleted(emulator, monkeypatch):
    store = emulator.create_store(read_sets=["ACTIVE"] * 5 + ["DELETED"])
    statuses = emulator.read_set_statuses(store)
    deleted = next(r for r, s in statuses.items() if s == "DELETED")
    prov = _paced_provider(emulator, monkeypatch)
    result = prov.check({}, _news(store, sorted(statuses) + ["9999999999"]))
    [failure] = result.failures
    assert failure.property == "read_set_ids"
    assert failure.reason.startswith(
        f"2 read set(s) in sequence store {store} cannot be activated (1 DELETED, 1 NOT_FOUND; NOT_FOUND: "
        f"the store does not hold it): {deleted} (DELETED), 9999999999 (NOT_FOUND) (of 7 looked up); ")
    assert "Remove them from read_set_ids" in failure.reason


def test_an_update_checks_only_the_read_set_ids_it_adds(emulator, monkeypatch):
    store = emulator.create_store(read_sets=["ACTIVE"] * 5)
    ids = sorted(emulator.read_set_statuses(store))
    prov = _paced_provider(emulator, monkeypatch)
    olds = {**_news(store, ids), "region": "us-east-1", "check_live_status": True}
    emulator.reset_counters()
    assert prov.check(olds, _news(store, ids)).failures == []
    assert sum(emulator.calls.values()) == 0  # nothing new: no call
    [failure] = prov.check(olds, _news(store, ids + ["9999999999"])).failures
    assert failure.property == "read_set_ids" and "9999999999 (NOT_FOUND) (of 1 looked up)" in failure.reason


def test_no_answer_is_a_warning_and_check_passes(emulator, monkeypatch, capfd):
    prov = _paced_provider(emulator, monkeypatch)
    emulator.set_faults(throttle_rate={"*": 1.0})
    store = emulator.create_store(read_sets=["ARCHIVED"] * 3)
    result = prov.check({}, _news(store, sorted(emulator.read_set_statuses(store))))
    assert result.failures == []
    err = capfd.readouterr().err
    assert "cohort: warning: create: the volume to activate is unknown" in err


def test_a_thousand_missing_read_sets_give_a_bounded_reason(emulator, monkeypatch):
    """1,000 IDs not in the store: check gives one reason under 1,500 characters, counts
    first, then the first 20 IDs and how many more ("and 980 more"), with the property named
    in the reason."""
    store = emulator.create_store(read_sets=["ACTIVE"] * 2)
    missing = [f"{9_000_000_000 + i}" for i in range(1000)]
    prov = _paced_provider(emulator, monkeypatch, **{"omics-dynamic:rateLimit": "0"})
    [failure] = prov.check({}, _news(store, missing)).failures
    assert len(failure.reason) < 1500
    # A 1,000-ID list is too long for the engine to print before the reason: the failure
    # names its property in the reason (provider.check_failure).
    assert failure.property == ""
    assert failure.reason.startswith(f"property read_set_ids: 1,000 read set(s) in sequence store {store} "
                                     "cannot be activated (1,000 NOT_FOUND")
    assert "9000000000 (NOT_FOUND), 9000000001 (NOT_FOUND)" in failure.reason and "and 980 more" in failure.reason


# -- through the SDK's provider server -------------------------------------------------------------
def _harness(tmp_path, endpoint):
    return EngineHarness(
        str(PROJECT_DIR), str(tmp_path / "state.json"), project="omics",
        config={"aws:region": "us-east-1", "omics-dynamic:endpoint": endpoint},
        env={"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}, timeout_s=60)


def test_preview_fails_for_a_missing_store_and_missing_read_sets_through_the_provider_server(tmp_path):
    with Emulator(manual_clock=True, rate_limit=0) as emu:
        store = emu.create_store(read_sets=["ACTIVE"] * 3)
        ids = sorted(emu.read_set_statuses(store))
        harness = _harness(tmp_path, emu.endpoint_url)
        specs = [ResourceSpec("no-store", TYPE, ReadSetActivationProvider(), _news("5555555555", ids)),
                 ResourceSpec("no-read-set", TYPE, ReadSetActivationProvider(), _news(store, ids + ["9999999999"])),
                 ResourceSpec("good", TYPE, ReadSetActivationProvider(), _news(store, ids))]
        with pytest.raises(CheckFailedError) as err:
            harness.preview(specs, check_all=True)
        failures = err.value.result.check_failures
        assert set(failures) == {"no-store", "no-read-set"}
        [(field, reason)] = failures["no-store"]
        assert field == "sequence_store_id" and "ResourceNotFoundException" in reason and "request ID " in reason
        [(field, reason)] = failures["no-read-set"]
        assert field == "read_set_ids" and "9999999999 (NOT_FOUND)" in reason
        assert emu.calls["StartReadSetActivationJob"] == 0


def test_preview_with_no_answer_passes_with_a_warning_through_the_provider_server(tmp_path):
    harness = _harness(tmp_path, "http://127.0.0.1:9")  # nothing listens
    result = harness.preview([ResourceSpec("cohort", TYPE, ReadSetActivationProvider(),
                                           _news("5555555555", ["2000000001"]))])
    assert result.ops == {"cohort": "create"}
    assert any(line.startswith("cohort: warning: create: the volume to activate is unknown")
               for line in result.stderr_lines), result.stderr_lines


