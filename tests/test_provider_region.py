"""The region a ReadSetActivation really uses: recorded by create, compared by diff, used by
refresh and update.

Through the engine-role harness (the SDK's real provider server; design.md section 2) where
the engine's behaviour matters, in process otherwise. The emulator serves every region; the
region a request was meant for is the one in its SigV4 credential scope, which a spy on the
emulator's signature check records. Harness results, not results of the real Pulumi engine.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import omics_emulator.server as emulator_server
from omics_dynamic.planning import resource_id
from omics_dynamic.provider import ReadSetActivationProvider
from omics_dynamic_testing import EngineHarness, ProviderCallError, ResourceSpec
from omics_emulator import Emulator

PROJECT_DIR = Path(__file__).resolve().parent.parent
TYPE = "pulumi-python:dynamic/omics:ReadSetActivation"
TIME_SCALE = 200.0


@pytest.fixture
def signed_regions(monkeypatch):
    """Regions of the SigV4 credential scopes of the requests the emulator accepted, in order."""
    seen: list[str] = []
    verify = emulator_server.verify_sigv4

    def spy(*args, **kwargs):
        key, region = verify(*args, **kwargs)
        seen.append(region)
        return key, region

    monkeypatch.setattr(emulator_server, "verify_sigv4", spy)
    return seen


@pytest.fixture
def scaled_emulator(aws_test_env, signed_regions):
    with Emulator(time_scale=TIME_SCALE, activation_seconds=60, queue_seconds=5, rate_limit=0) as emu:
        yield emu


def _harness(emu, tmp_path, config=None, env=None):
    return EngineHarness(
        str(PROJECT_DIR), str(tmp_path / "state.json"), project="omics-dynamic-test",
        config={"omics-dynamic:endpoint": emu.endpoint_url, "omics-dynamic:timeScale": str(TIME_SCALE),
                "omics-dynamic:rateLimit": "0", **(config or {})},
        env={"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", **(env or {})},
        timeout_s=120,
    )


def _spec(store, ids, **extra):
    return ResourceSpec("cohort", TYPE, ReadSetActivationProvider(),
                        {"sequence_store_id": store, "read_set_ids": list(ids), "resource_name": "cohort", **extra})


def test_aws_region_change_replaces_in_preview_and_up(scaled_emulator, signed_regions, tmp_path):
    """With no region input, `pulumi config set aws:region us-west-2` after a create in
    us-east-1 is a replace (not `same`) in preview and up, and the new resource is created
    in us-west-2."""
    emu = scaled_emulator
    store = emu.create_store(read_sets=["ARCHIVED"] * 3)
    ids = sorted(emu.read_set_statuses(store))
    harness = _harness(emu, tmp_path, {"aws:region": "us-east-1"})

    first = harness.up([_spec(store, ids)])
    assert first.ops == {"cohort": "create"}
    assert first.outputs("cohort")["region"] == "us-east-1"
    assert first.step("cohort").id == resource_id("cohort", store, "us-east-1")
    assert set(signed_regions) == {"us-east-1"}

    # Nothing changed: the recorded region equals the effective one.
    assert harness.up([_spec(store, ids)]).ops == {"cohort": "same"}
    refreshed = harness.refresh()
    assert refreshed.step("cohort").drift is False
    def plain(outs):
        return {k: v for k, v in outs.items() if k != "__provider"}

    assert plain(refreshed.step("cohort").outputs) == plain(first.outputs("cohort"))

    harness.config["aws:region"] = "us-west-2"
    del signed_regions[:]
    preview = harness.preview([_spec(store, ids)])
    assert preview.ops == {"cohort": "replace"}
    assert preview.step("cohort").replaces == ["region"]
    assert ("cohort: replace: region changed (us-east-1 -> us-west-2, from the provider configuration)"
            in preview.stderr_lines)
    # Diff makes no live check for a replace; the replacement's Check (without olds) may
    # look up the volume to activate, in the new region only.
    assert set(signed_regions) <= {"us-west-2"}

    up = harness.up([_spec(store, ids)])
    assert up.ops == {"cohort": "replace"}
    assert up.outputs("cohort")["region"] == "us-west-2"
    assert up.step("cohort").id == resource_id("cohort", store, "us-west-2") != first.step("cohort").id
    assert signed_regions and set(signed_regions) == {"us-west-2"}  # the new one lives there
    assert [s.op for s in up.steps if s.op == "delete-replaced"] == ["delete-replaced"]
    assert harness.up([_spec(store, ids)]).ops == {"cohort": "same"}


def test_refresh_reads_the_recorded_region_and_its_diff_shows_the_move(scaled_emulator, signed_regions,
                                                                        tmp_path):
    emu = scaled_emulator
    store = emu.create_store(read_sets=["ARCHIVED"] * 3)
    ids = sorted(emu.read_set_statuses(store))
    harness = _harness(emu, tmp_path, {"aws:region": "eu-west-1"})
    harness.up([_spec(store, ids)])
    emu.archive(store, ids[:1])
    harness.config["aws:region"] = "ap-southeast-2"
    del signed_regions[:]

    refreshed = harness.refresh().step("cohort")
    assert signed_regions and set(signed_regions) == {"eu-west-1"}  # where the resource lives
    assert refreshed.outputs["region"] == "eu-west-1"
    assert refreshed.outputs["not_active_read_set_statuses"] == {ids[0]: "ARCHIVED"}
    # The refresh's Diff (refreshed outputs against the inputs) shows what the next up does.
    assert refreshed.drift is True and refreshed.replaces == ["region"]


def test_region_from_boto3s_chain_is_recorded_and_stays_same(scaled_emulator, signed_regions, tmp_path):
    """No region input and no aws:region: boto3's chain (AWS_DEFAULT_REGION) decides, and that
    region is what create records; an up with nothing changed stays `same`, a refresh shows no
    drift; a new AWS_DEFAULT_REGION replaces."""
    emu = scaled_emulator
    store = emu.create_store(read_sets=["ACTIVE"] * 2)
    ids = sorted(emu.read_set_statuses(store))
    harness = _harness(emu, tmp_path, env={"AWS_DEFAULT_REGION": "eu-central-1"})
    first = harness.up([_spec(store, ids)])
    assert first.outputs("cohort")["region"] == "eu-central-1"
    assert set(signed_regions) == {"eu-central-1"}
    assert harness.up([_spec(store, ids)]).ops == {"cohort": "same"}
    assert harness.refresh().step("cohort").drift is False
    harness.env["AWS_DEFAULT_REGION"] = "eu-north-1"
    assert harness.preview([_spec(store, ids)]).ops == {"cohort": "replace"}


def test_region_input_equal_to_the_recorded_region_changes_nothing(scaled_emulator, tmp_path):
    """Writing down the region aws:region gave is no change (the input keeps its meaning:
    absent = provider configuration; present = that region)."""
    emu = scaled_emulator
    store = emu.create_store(read_sets=["ACTIVE"] * 2)
    ids = sorted(emu.read_set_statuses(store))
    harness = _harness(emu, tmp_path, {"aws:region": "us-east-1"})
    harness.up([_spec(store, ids, check_live_status=False)])
    assert harness.preview([_spec(store, ids, check_live_status=False, region="us-east-1")]).ops == {"cohort": "same"}
    assert harness.preview([_spec(store, ids, check_live_status=False, region="us-west-2")]).ops == {"cohort": "replace"}


def test_update_talks_to_the_recorded_region(provider, emulator, signed_regions):
    """An update (here: a state whose read sets a refresh recorded ARCHIVED) goes to the region
    the resource lives in, whatever the provider's aws:region says now."""
    from pulumi.dynamic import ConfigureRequest
    from pulumi.dynamic.config import Config

    store = emulator.create_store(read_sets=["ARCHIVED"] * 2)
    ids = sorted(emulator.read_set_statuses(store))
    news = provider.check({}, {"sequence_store_id": store, "read_set_ids": ids, "resource_name": "cohort",
                               "check_live_status": False}).inputs
    olds = provider.create(news).outs
    assert olds["region"] == "us-east-1"
    emulator.archive(store, ids)
    moved = ReadSetActivationProvider()
    moved.configure(ConfigureRequest(Config({"aws:region": "sa-east-1", "omics-dynamic:rateLimit": "0"}, "proj")))
    del signed_regions[:]
    updated = moved.update("rsa", {**olds, "not_active_read_set_statuses": {rid: "ARCHIVED" for rid in ids}},
                           news).outs
    assert set(signed_regions) == {"us-east-1"}
    assert updated["region"] == "us-east-1"
    assert updated["activated_read_set_ids"] == ids


def test_refresh_through_another_endpoint_keeps_the_resource_and_says_why(scaled_emulator, tmp_path):
    """The endpoint is recorded beside the region (``endpoint_url``). A refresh that reaches
    another endpoint, where the store does not exist, fails naming both endpoints and keeps
    the resource in state (no "no longer exists"). Through the endpoint it was created
    through, a store that is really gone removes it."""
    emu = scaled_emulator
    store = emu.create_store(read_sets=["ACTIVE"] * 2)
    ids = sorted(emu.read_set_statuses(store))
    harness = _harness(emu, tmp_path, {"aws:region": "us-east-1"})
    created = harness.up([_spec(store, ids)])
    assert created.outputs("cohort")["endpoint_url"] == emu.endpoint_url

    with Emulator(rate_limit=0) as other:
        elsewhere = _harness(other, tmp_path, {"aws:region": "us-east-1"})
        with pytest.raises(ProviderCallError) as info:
            elsewhere.refresh()
    text = info.value.provider_message
    assert (f"sequence store {store} was not found in us-east-1 through the endpoint {other.endpoint_url}, "
            f"but this resource was created through the endpoint {emu.endpoint_url}; refresh keeps it in state"
            in text), text
    assert [r.name for r in harness.state().resources] == ["cohort"]

    with emu.backend.lock:  # the emulator has no DeleteSequenceStore: drop the store as AWS would
        emu.backend.stores.pop(store)
    gone = harness.refresh()
    assert gone.step("cohort").gone and harness.state().resources == []


def test_state_without_endpoint_is_the_standard_endpoint_and_a_refresh_elsewhere_keeps_it(scaled_emulator):
    """A resource created through AWS's standard endpoint records ``endpoint_url`` None, which
    the SDK's provider server drops from what it sends the engine (``serialize_properties``:
    None is "as if [it doesn't] exist"), so state has no such key. A refresh through a custom
    endpoint (an emulator, a wrong VPC endpoint) that does not find the store reads the absent
    key as the standard endpoint, not as state without the record: it fails naming both and
    refresh keeps the resource."""
    from omics_dynamic.aws import ProviderSettings, custom_endpoint
    from omics_dynamic.errors import ConfigurationError
    from omics_dynamic_testing._wire import from_struct, to_struct

    emu = scaled_emulator
    store = emu.create_store(read_sets=["ACTIVE"] * 2)
    ids = sorted(emu.read_set_statuses(store))
    props = {"sequence_store_id": store, "read_set_ids": ids, "region": "us-east-1",
             "resource_name": "cohort", "check_live_status": False}
    creator = ReadSetActivationProvider()
    creator._settings = ProviderSettings(endpoint_url=emu.endpoint_url, rate_limit_per_s=0, time_scale=TIME_SCALE)
    created = creator.create(props)
    assert custom_endpoint(ProviderSettings(), "us-east-1") is None  # what create records there
    state, _ = from_struct(to_struct({**created.outs, "endpoint_url": None}, send_secrets=False))
    assert "endpoint_url" not in state and state["store_arn"] == created.outs["store_arn"]

    with Emulator(rate_limit=0) as other:
        reader = ReadSetActivationProvider()
        reader._settings = ProviderSettings(endpoint_url=other.endpoint_url, rate_limit_per_s=0)
        with pytest.raises(ConfigurationError) as info:
            reader.read(created.id, state)
    assert str(info.value).startswith(
        f"cohort: sequence store {store} was not found in us-east-1 through the endpoint {other.endpoint_url}, "
        "but this resource was created through AWS's standard endpoint (state records no custom endpoint); "
        "refresh keeps it in state."), str(info.value)
