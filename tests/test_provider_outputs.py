"""ReadSetActivation's outputs mean what they say (omics_dynamic/outputs.py defines each).

In process against the emulator (manual clock) for what the provider stores; in the
harness's program mode (the SDK's real provider server, design.md section 2) for what the
resource class derives and hands to a dependent by data flow.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from omics_dynamic import outputs
from omics_dynamic.errors import ActivationTimeoutError
from omics_dynamic.outputs import read_set_arns, read_set_uris
from omics_dynamic.provider import OUTPUT_KEYS

ACCOUNT_ARN = "arn:aws:omics:us-west-2:123456789012:sequenceStore/1234567890"


def _inputs(provider, store, ids, **extra):
    checked = provider.check({}, {"sequence_store_id": store, "read_set_ids": list(ids),
                                  "resource_name": "cohort", **extra})
    assert checked.failures == []
    return checked.inputs


def _by_status(emulator, store, *statuses):
    return sorted(r for r, s in emulator.read_set_statuses(store).items() if s in statuses)


# -- what the provider stores --------------------------------------------------------------
def test_one_archived_and_one_uploading_read_set_one_job_of_one_source(provider, emulator):
    """One ARCHIVED read set and one PROCESSING_UPLOAD that becomes ACTIVE a minute in: one
    job of one source; activated_read_set_ids holds only the ARCHIVED one, the other is
    activated_without_job_read_set_ids, and activation_count is 1."""
    store = emulator.create_store(read_sets=["ARCHIVED", "PROCESSING_UPLOAD"])
    archived, = _by_status(emulator, store, "ARCHIVED")
    uploading, = _by_status(emulator, store, "PROCESSING_UPLOAD")
    original_advance = emulator.advance

    def advance(seconds):  # the upload ends a minute in
        now = original_advance(seconds)
        if now >= 60:
            emulator.set_read_set_status(store, uploading, "ACTIVE")
        return now

    emulator.advance = advance
    outs = provider.create(_inputs(provider, store, [archived, uploading])).outs
    [job] = emulator.jobs()
    assert [s["readSetId"] for s in job["sources"]] == [archived]
    assert outs["job_ids"] == [job["id"]]
    assert outs["activated_read_set_ids"] == [archived]
    assert outs["activated_without_job_read_set_ids"] == [uploading]
    assert outs["activation_count"] == 1
    assert outs["not_active_read_set_statuses"] == {}


def test_shipped_cohort_activated_read_sets_are_exactly_the_jobs_sources(provider, emulator):
    """The shipped cohort's 954 read sets (798 ARCHIVED, 41 ACTIVATING, 115 ACTIVE): 40 jobs
    whose sources are exactly the 798 ARCHIVED, which are activated_read_set_ids; the 41
    ACTIVATING (in no job of ours) are activated_without_job_read_set_ids and the 115 ACTIVE
    already active; activation_count 1."""
    [store] = emulator.seed("cohort")
    ids = _by_status(emulator, store, "ARCHIVED", "ACTIVE", "ACTIVATING")
    archived = _by_status(emulator, store, "ARCHIVED")
    activating = _by_status(emulator, store, "ACTIVATING")
    active = _by_status(emulator, store, "ACTIVE")
    assert (len(ids), len(archived), len(activating), len(active)) == (954, 798, 41, 115)
    outs = provider.create(_inputs(provider, store, ids)).outs
    jobs = emulator.jobs()
    sources = sorted(s["readSetId"] for j in jobs for s in j["sources"])
    assert len(jobs) == 40 and sorted(outs["job_ids"]) == sorted(j["id"] for j in jobs)
    assert outs["activated_read_set_ids"] == sources == archived
    assert outs["activated_without_job_read_set_ids"] == activating
    assert outputs.already_active_ids(ids, outs["activated_read_set_ids"],
                                      outs["activated_without_job_read_set_ids"]) == active
    assert outs["activation_count"] == 1


def test_activation_count_grows_exactly_when_unusable_data_became_usable(provider, emulator):
    store = emulator.create_store(read_sets=["ACTIVE"] * 4)
    ids = sorted(emulator.read_set_statuses(store))
    news = _inputs(provider, store, ids[:3], check_live_status=False)
    outs = provider.create(news).outs
    assert outs["activation_count"] == 0  # nothing needed activation

    # Re-archived, seen by the run: +1.
    emulator.archive(store, ids[:1])
    outs = provider.update("rsa", {**outs, "not_active_read_set_statuses": {ids[0]: "ARCHIVED"}}, news).outs
    assert (outs["activation_count"], outs["activated_read_set_ids"]) == (1, ids[:1])

    # A refresh recorded a read set ARCHIVED; somebody else re-activated it before the up: the
    # run finds nothing to do, but dependents that saw it ARCHIVED must re-run: +1.
    emulator.archive(store, ids[1:2])
    refreshed = provider.read("rsa", outs).outs
    assert refreshed["not_active_read_set_statuses"] == {ids[1]: "ARCHIVED"}
    emulator.set_read_set_status(store, ids[1], "ACTIVE")
    outs = provider.update("rsa", refreshed, news).outs
    assert outs["activation_count"] == 2 and outs["job_ids"] == [] and outs["activated_read_set_ids"] == []

    # One more read set, already ACTIVE: an update, no new data made usable: unchanged.
    more = _inputs(provider, store, ids, check_live_status=False)
    outs = provider.update("rsa", outs, more).outs
    assert outs["activation_count"] == 2 and outs["read_set_ids"] == ids


def test_interrupted_update_counts_once_when_its_rerun_adopts_the_jobs(provider, emulator):
    """A killed or timed-out update stores nothing; its rerun adopts the jobs still in flight
    (their read sets ACTIVATING) and counts the re-activation once."""
    store = emulator.create_store(read_sets=["ACTIVE"] * 20)
    ids = sorted(emulator.read_set_statuses(store))
    olds = provider.create(_inputs(provider, store, ids, check_live_status=False)).outs
    emulator.archive(store, ids)
    stale = {**olds, "not_active_read_set_statuses": {rid: "ARCHIVED" for rid in ids}}
    with pytest.raises(ActivationTimeoutError) as info:
        provider.update("rsa", stale, _inputs(provider, store, ids, check_live_status=False, timeout_seconds=20))
    [job_id] = info.value.running_job_ids
    outs = provider.update("rsa", stale, _inputs(provider, store, ids, check_live_status=False)).outs
    assert outs["job_ids"] == [job_id] and len(emulator.jobs()) == 1
    assert outs["activated_read_set_ids"] == ids  # adopted job's sources
    assert outs["activation_count"] == olds["activation_count"] + 1 == 1


def test_every_stored_output_is_in_state_and_nothing_else(provider, emulator):
    store = emulator.create_store(read_sets=["ARCHIVED"] * 2)
    ids = sorted(emulator.read_set_statuses(store))
    outs = provider.create(_inputs(provider, store, ids)).outs
    inputs = {"sequence_store_id", "read_set_ids", "region", "timeout_seconds", "max_concurrent_jobs",
              "check_live_status", "resource_name"}
    assert set(outs) == inputs | set(OUTPUT_KEYS)
    assert not set(outputs.DERIVED_OUTPUT_KEYS) & set(outs)
    assert outs["activated_base_count"] == "0" and outs["activated_gigabases"] == 0.0  # no sequenceInformation


def test_state_of_an_earlier_version_is_read_and_rewritten_in_this_shape(provider, emulator):
    """State in the shape written before commit 30ac1ee (0.1.0), without region, store_arn
    and not_active_read_set_statuses: full read_set_statuses, already_active_read_set_ids,
    region None. Diff reads it without a
    replace; a tuning update and a refresh rewrite it in this version's shape."""
    store = emulator.create_store(read_sets=["ACTIVE"] * 3)
    ids = sorted(emulator.read_set_statuses(store))
    news = _inputs(provider, store, ids, check_live_status=False)
    legacy = {**{k: news[k] for k in news if not k.startswith("__")}, "region": None,
              "job_ids": [], "activated_read_set_ids": [], "already_active_read_set_ids": ids,
              "read_set_statuses": {rid: "ACTIVE" for rid in ids}, "activated_at": "2024-01-01T00:00:00Z",
              "activation_count": 1}
    assert provider.diff("rsa", legacy, news).changes is False
    assert provider.diff("rsa", {**legacy, "read_set_statuses": {ids[0]: "ARCHIVED"}}, news).changes is True
    tuned = provider.update("rsa", legacy, {**news, "timeout_seconds": 60}).outs
    assert sum(emulator.calls.values()) == 0
    refreshed = provider.read("rsa", legacy).outs
    for outs in (tuned, refreshed):
        assert not set(outputs.LEGACY_OUTPUT_KEYS) & set(outs)
        assert outs["region"] == "us-east-1" and outs["not_active_read_set_statuses"] == {}
        assert outs["activation_count"] == 1 and outs["activated_base_count"] == "0"
    assert tuned["timeout_seconds"] == 60


# -- derived outputs -------------------------------------------------------------------------
def test_read_set_arns_and_uris_follow_the_documented_forms():
    ids = ["1000000001", "1000000002"]
    assert read_set_arns(ACCOUNT_ARN, ids) == {
        "1000000001": "arn:aws:omics:us-west-2:123456789012:sequenceStore/1234567890/readSet/1000000001",
        "1000000002": "arn:aws:omics:us-west-2:123456789012:sequenceStore/1234567890/readSet/1000000002"}
    # https://docs.aws.amazon.com/omics/latest/dev/create-ref-files.html (short form: source1)
    assert read_set_uris(ACCOUNT_ARN, ids) == {
        "1000000001": "omics://123456789012.storage.us-west-2.amazonaws.com/1234567890/readSet/1000000001",
        "1000000002": "omics://123456789012.storage.us-west-2.amazonaws.com/1234567890/readSet/1000000002"}
    assert read_set_uris(None, ids) == {} == read_set_arns(None, ids)
    with pytest.raises(ValueError, match="not a sequence store ARN: 'arn:aws:s3:::bucket'"):
        read_set_uris("arn:aws:s3:::bucket", ids)


def test_derived_statuses_and_already_active():
    ids = ["1000000001", "1000000002", "1000000003"]
    assert outputs.statuses(ids, {"1000000002": "ARCHIVED"}) == {
        "1000000001": "ACTIVE", "1000000002": "ARCHIVED", "1000000003": "ACTIVE"}
    assert outputs.already_active_ids(ids, ["1000000002"], ["1000000003"]) == ["1000000001"]


PROGRAM = '''
import json

import pulumi
from omics_dynamic import ReadSetActivation

config = pulumi.Config()
activation = ReadSetActivation("cohort", sequence_store_id=config.require("store"),
                               read_set_ids=config.require_object("ids"))
# A dependent that takes the data by data flow: a sample sheet of workflow-run inputs.
sheet = pulumi.CustomResource("test:index:SampleSheet", "sheet", {
    "content": activation.read_set_uris.apply(lambda uris: json.dumps(uris, sort_keys=True)),
    "policyResources": activation.read_set_arns.apply(lambda arns: sorted(arns.values())),
})
for key in ("store_arn", "region", "read_set_uris", "read_set_arns", "read_set_statuses",
            "already_active_read_set_ids", "activated_read_set_ids", "activated_base_count"):
    pulumi.export(key, getattr(activation, key))
'''


def test_derived_outputs_reach_a_dependent_by_data_flow(tmp_path, aws_test_env):
    """Program mode: read_set_uris and read_set_arns, computed in the program from store_arn
    and read_set_ids, carry the activation's dependency to the dependent (registered after
    the create returned) and hold the values HealthOmics' own ARNs give."""
    from omics_dynamic_testing import UNKNOWN, run_program
    from omics_emulator import Emulator

    (tmp_path / "__main__.py").write_text(PROGRAM)
    with Emulator(time_scale=200.0, activation_seconds=60, queue_seconds=5, rate_limit=0) as emu:
        store = emu.create_store(read_sets=["ARCHIVED", "ARCHIVED", "ACTIVE"])
        listed = {rs["id"]: rs["arn"] for rs in emu.client().list_read_sets(sequenceStoreId=store)["readSets"]}
        ids = sorted(listed)
        config = {"aws:region": "us-east-1", "omics-dynamic:endpoint": emu.endpoint_url,
                  "omics-dynamic:rateLimit": "0", "omics-dynamic:timeScale": "200",
                  "project:store": store, "project:ids": ids}

        def run(operation):
            return run_program(str(tmp_path), state_path=str(tmp_path / "state.json"), operation=operation,
                               config=config, env={"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"},
                               timeout_s=120, program_timeout_s=300)

        preview = run("preview")
        assert preview.exports["read_set_uris"] == UNKNOWN  # known once the create has run

        up = run("up")
        assert up.engine.ops == {"cohort": "create"}
        ex = up.exports
        account = ex["store_arn"].split(":")[4]
        assert ex["store_arn"] == f"arn:aws:omics:us-east-1:{account}:sequenceStore/{store}"
        assert ex["read_set_arns"] == listed  # the ARNs HealthOmics itself reports
        assert ex["read_set_uris"] == {
            rid: f"omics://{account}.storage.us-east-1.amazonaws.com/{store}/readSet/{rid}" for rid in ids}
        assert ex["read_set_statuses"] == {rid: "ACTIVE" for rid in ids}
        active = [rid for rid in ids if rid not in ex["activated_read_set_ids"]]
        assert len(active) == 1 and ex["already_active_read_set_ids"] == active

        activation, sheet = up.resource("cohort"), up.resource("sheet")
        assert json.loads(sheet.inputs["content"]) == ex["read_set_uris"]
        assert sheet.inputs["policyResources"] == sorted(listed.values())
        assert activation.urn in sheet.property_dependencies["content"]
        assert activation.urn in sheet.property_dependencies["policyResources"]
        assert sheet.registered_t_s >= activation.completed_t_s  # after every read set was ACTIVE

        state = json.loads(Path(tmp_path / "state.json").read_text())
        stored = json.dumps(state)
        assert "read_set_uris" not in stored and "omics://" not in stored  # derived, not stored


# -- counts past 2**53 ---------------------------------------------------------------------
BIG = 2**52


def _big_store(emu):
    return emu.create_store(read_sets=[
        {"status": "ARCHIVED", "sequenceInformation": {"totalReadCount": 1, "totalBaseCount": BIG}},
        {"status": "ARCHIVED", "sequenceInformation": {"totalReadCount": 1, "totalBaseCount": BIG + 1}}])


def test_base_count_past_2_53_is_exact_through_the_provider_server(tmp_path, aws_test_env):
    """2**52 + (2**52 + 1) = 9007199254740993 bases, past float64's exact integers:
    activated_base_count is that decimal string through the SDK's provider server (Create's
    outputs serialised, stored, deserialised), not 9007199254740992.0, in state too, and
    activated_gigabases a number (9007199.255)."""
    from omics_dynamic_testing import EngineHarness, ResourceSpec
    from omics_emulator import Emulator

    with Emulator(time_scale=200.0, activation_seconds=60, queue_seconds=5, rate_limit=0) as emu:
        store = _big_store(emu)
        ids = sorted(emu.read_set_statuses(store))
        harness = EngineHarness(
            str(Path(__file__).resolve().parent.parent), str(tmp_path / "state.json"), project="omics",
            config={"aws:region": "us-east-1", "omics-dynamic:endpoint": emu.endpoint_url,
                    "omics-dynamic:rateLimit": "0", "omics-dynamic:timeScale": "200"},
            env={"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}, timeout_s=120)
        from omics_dynamic.provider import ReadSetActivationProvider
        spec = ResourceSpec("cohort", "pulumi-python:dynamic/omics:ReadSetActivation", ReadSetActivationProvider(),
                            {"sequence_store_id": store, "read_set_ids": ids, "resource_name": "cohort"})
        outs = harness.up([spec]).outputs("cohort")
        assert outs["activated_base_count"] == "9007199254740993" == str(2 * BIG + 1)
        assert outs["activated_gigabases"] == 9007199.255
        state = json.loads((tmp_path / "state.json").read_text())
        assert '"9007199254740993"' in json.dumps(state)


def test_state_of_the_current_release_with_a_numeric_base_count_is_read_and_rewritten(provider, emulator):
    """State as release 0.1.0 (commit 30ac1ee) wrote it stores activated_base_count as a
    number (the engine hands it back as a float: 9007199254740992.0). Diff reads it, a tuning update
    and a refresh rewrite it as the decimal string, through the wire's round trip too; a
    real update recounts exactly."""
    from omics_dynamic_testing._wire import from_struct, to_struct

    store = _big_store(emulator)
    ids = sorted(emulator.read_set_statuses(store))
    news = _inputs(provider, store, ids, check_live_status=False)
    emulator.set_read_set_status(store, ids[0], "ACTIVE")
    emulator.set_read_set_status(store, ids[1], "ACTIVE")
    old = {**{k: news[k] for k in news if not k.startswith("__")}, "region": "us-east-1", "store_arn": None,
           "endpoint_url": None, "job_ids": ["1234567"], "activated_read_set_ids": ids,
           "activated_without_job_read_set_ids": [], "activated_base_count": 2 * BIG + 1,
           "not_active_read_set_statuses": {}, "activated_at": "2024-01-01T00:00:00Z", "activation_count": 1}
    olds, _ = from_struct(to_struct(old, set(), send_secrets=False))  # as the engine sends it back
    assert olds["activated_base_count"] == 9007199254740992.0
    assert provider.diff("rsa", olds, news).changes is False
    tuned = provider.update("rsa", olds, {**news, "timeout_seconds": 60}).outs
    refreshed = provider.read("rsa", olds).outs
    for outs in (tuned, refreshed):
        back, _ = from_struct(to_struct(outs, set(), send_secrets=False))
        assert back["activated_base_count"] == "9007199254740992"  # what the old state held
        assert back["activated_gigabases"] == 9007199.255
    emulator.archive(store, ids)
    updated = provider.update("rsa", {**olds, "not_active_read_set_statuses": {rid: "ARCHIVED" for rid in ids}},
                              news).outs
    back, _ = from_struct(to_struct(updated, set(), send_secrets=False))
    assert back["activated_base_count"] == "9007199254740993"


def test_base_count_text_reads_every_stored_form():
    assert outputs.base_count_text(None) == "0"
    assert outputs.base_count_text(12) == "12" == outputs.base_count_text(12.0) == outputs.base_count_text("12")
    assert outputs.base_count_text(10**17 + 1) == "100000000000000001"
    for bad in (-1, 1.5, float("nan"), "1e9", "-3", True):
        with pytest.raises(ValueError, match="activated_base_count"):
            outputs.base_count_text(bad)
    assert outputs.gigabases("100000000000000001") == 100_000_000.0
    assert outputs.gigabases(1_499_999) == 0.001 and outputs.gigabases(499_999) == 0.0
