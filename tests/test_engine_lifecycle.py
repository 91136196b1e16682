"""ReadSetActivation's lifecycle through the SDK's real provider server (``python -m
pulumi.dynamic``), driven by the engine-role harness, against a time-scaled emulator.

These are engine-role harness results (design.md section 2), not results of the real
Pulumi engine; the engine's own rules (unknown inputs in a preview, `pulumi up` with its
preview) are tested through the real CLI in tests/test_real_cli.py.
"""

from __future__ import annotations

import base64
import json
import os
import re
from pathlib import Path

import pytest

from omics_dynamic.provider import ReadSetActivationProvider
from omics_dynamic_testing import CheckFailedError, EngineHarness, ProviderCallError, ResourceSpec
from omics_emulator import Emulator

PROJECT_DIR = Path(__file__).resolve().parent.parent
TYPE = "pulumi-python:dynamic/omics:ReadSetActivation"
#: Emulated seconds per real second, for the emulator and the provider alike.
TIME_SCALE = 200.0


@pytest.fixture
def scaled_emulator(aws_test_env):
    with Emulator(time_scale=TIME_SCALE, activation_seconds=60, queue_seconds=5,
                  rate_limit=5, max_concurrent_jobs=20) as emu:
        yield emu


@pytest.fixture
def harness(scaled_emulator, tmp_path):
    env = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
    return EngineHarness(
        str(PROJECT_DIR),
        str(tmp_path / "state.json"),
        stack="dev",
        project="omics-dynamic-test",
        config={
            "aws:region": "us-east-1",
            "omics-dynamic:endpoint": scaled_emulator.endpoint_url,
            "omics-dynamic:timeScale": str(TIME_SCALE),
        },
        env=env,
        timeout_s=120,
    )


def activation(store, ids, **extra):
    inputs = {"sequence_store_id": store, "read_set_ids": list(ids), "resource_name": "cohort", **extra}
    return ResourceSpec("cohort", TYPE, ReadSetActivationProvider(), inputs)


def test_story_create_same_rearchive_preview_update_refresh_destroy(harness, scaled_emulator):
    emu = scaled_emulator
    store = emu.create_store(read_sets=["ARCHIVED"] * 45 + ["ACTIVE"] * 5)
    ids = sorted(emu.read_set_statuses(store))

    # up #1: Check then Create; returns only when every read set is ACTIVE.
    first = harness.up([activation(store, ids)])
    assert first.ops == {"cohort": "create"}
    outs = first.outputs("cohort")
    assert set(emu.read_set_statuses(store).values()) == {"ACTIVE"}
    assert outs["not_active_read_set_statuses"] == {}
    assert len(outs["job_ids"]) == 3 == len(emu.jobs())
    assert outs["activation_count"] == 1
    assert any(line.startswith("cohort: all 50 read sets ACTIVE") for line in first.stderr_lines)

    # up #2 with the same inputs: no change, no Create/Update, no new job.
    second = harness.up([activation(store, ids)])
    assert second.ops == {"cohort": "same"}
    assert "Create" not in second.methods and "Update" not in second.methods
    assert len(emu.jobs()) == 3

    # HealthOmics archives 7 again: preview (live check in Diff) shows an update.
    emu.archive(store, ids[:7])
    preview = harness.preview([activation(store, ids)])
    assert preview.ops == {"cohort": "update"}
    assert not {"Create", "Update", "Delete"} & set(preview.methods)
    assert any("7 of 50 read sets are not ACTIVE in HealthOmics" in line for line in preview.stderr_lines)

    # up #3 re-activates exactly those 7, the ID stays, activation_count grows.
    third = harness.up([activation(store, ids)])
    assert third.ops == {"cohort": "update"}
    updated = third.outputs("cohort")
    assert updated["activated_read_set_ids"] == ids[:7]
    assert updated["activation_count"] == 2
    assert third.step("cohort").id == first.step("cohort").id
    assert [len(j["sources"]) for j in emu.jobs()[3:]] == [7]

    # Refresh after another archive shows drift and starts no job.
    emu.archive(store, ids[10:12])
    refreshed = harness.refresh()
    assert refreshed.step("cohort").outputs["not_active_read_set_statuses"] == {ids[10]: "ARCHIVED", ids[11]: "ARCHIVED"}
    assert refreshed.step("cohort").drift
    assert len(emu.jobs()) == 4

    # destroy: Delete makes no AWS change.
    calls_before = sum(emu.calls.values())
    gone = harness.destroy()
    assert gone.ops == {"cohort": "delete"}
    assert sum(emu.calls.values()) == calls_before
    assert any("delete changes nothing in AWS" in line for line in gone.stderr_lines)


def test_unknown_predicate_sees_through_the_sdk_secret_wrapper():
    """The engine sends no secrets to this provider (the SDK's Configure answers
    acceptSecrets=False), so a secret-wrapped value cannot come through the server; the
    predicate still treats a wrapped unknown as unknown and a wrapped value as known."""
    from pulumi.output import Unknown
    from pulumi.runtime import rpc

    from omics_dynamic.provider import _has_unknown, _is_unknown

    assert _is_unknown(rpc.wrap_rpc_secret(Unknown())) and _is_unknown(rpc.UNKNOWN)
    assert not _is_unknown(rpc.wrap_rpc_secret("1234567890")) and not _is_unknown("1234567890")
    assert _has_unknown(["1234567890", rpc.wrap_rpc_secret(Unknown())])
    assert _has_unknown({"k": [Unknown()]}) and not _has_unknown({"k": ["x"]})


def test_provider_errors_reach_the_engine_with_aws_code_and_request_id(harness, scaled_emulator):
    # Check's look (check_live_status, the default) fails the preview: a check failure.
    with pytest.raises(CheckFailedError) as failed:
        harness.up([activation("5555555555", ["2000000001"])])
    [(field, reason)] = failed.value.result.check_failures["cohort"]
    assert field == "sequence_store_id" and "ResourceNotFoundException" in reason and "request ID " in reason
    # Without it, create meets the same answer.
    with pytest.raises(ProviderCallError) as info:
        harness.up([activation("5555555555", ["2000000001"], check_live_status=False)])
    message = info.value.provider_message
    assert "ResourceNotFoundException" in message and "request ID " in message
    assert "5555555555" in message
    state = json.loads(Path(harness.state_path).read_text())
    assert "ReadSetActivation::cohort" not in json.dumps(state.get("resources", []))


_FRAME = re.compile(r'^  File "(?P<file>[^"]+)", line \d+, in (?P<name>\S+)$', re.M)


def _assert_plain_failure(details: str, method: str, error_type: str) -> str:
    """What `pulumi up` prints for an expected failure (the gRPC details the SDK's server
    sends, `_abort_with_traceback`): the server's own frames, the provider method's frame,
    nothing of our internals, no chained exceptions, the whole message last."""
    assert details.startswith("Traceback (most recent call last):\n"), details
    frames = [(m["file"], m["name"]) for m in _FRAME.finditer(details)]
    ours = [(f, n) for f, n in frames if "omics_dynamic" in f]
    assert ours and ours == [(ours[0][0], method)], frames
    assert ours[0][0].endswith("omics_dynamic/provider.py")
    assert all(f.endswith("pulumi/dynamic/__main__.py") for f, _ in frames[:-1]), frames
    assert "During handling of the above exception" not in details
    assert "The above exception was the direct cause" not in details
    last = details.rstrip("\n").split("\n")[-1]
    assert last.startswith(f"omics_dynamic.errors.{error_type}: "), last
    return last.split(": ", 1)[1]


def test_expected_failures_reach_the_engine_as_one_frame_and_the_whole_message(harness, scaled_emulator):
    emu = scaled_emulator
    # Unusable read sets: failed before any job.
    store = emu.create_store(read_sets=["ARCHIVED", "DELETED"])
    ids = sorted(emu.read_set_statuses(store))
    deleted = next(r for r, st in emu.read_set_statuses(store).items() if st == "DELETED")
    with pytest.raises(ProviderCallError) as info:
        harness.up([activation(store, ids, check_live_status=False)])  # else check fails first
    message = _assert_plain_failure(info.value.details, "create", "ReadSetsUnusableError")
    assert message == (f"1 read set(s) in sequence store {store} cannot be activated (1 DELETED): {deleted} (DELETED). "
                       "No activation job was started. Remove these IDs from read_set_ids, or from the "
                       "selection or sample sheet that gave them (or re-import the data), and run "
                       "`pulumi up` again.")
    assert info.value.provider_message == f"omics_dynamic.errors.ReadSetsUnusableError: {message}"

    # An AWS error: the store does not exist (its code and request ID stay in the message).
    with pytest.raises(ProviderCallError) as info:
        harness.up([activation("5555555555", ["2000000001"], check_live_status=False)])
    message = _assert_plain_failure(info.value.details, "create", "AwsCallError")
    assert "ResourceNotFoundException" in message and "(request ID " in message

    # A failed job.
    store = emu.create_store(read_sets=["ARCHIVED"] * 3)
    ids = sorted(emu.read_set_statuses(store))
    emu.set_faults(fail_next_jobs=1, job_failure_message="Activation capacity exhausted")
    with pytest.raises(ProviderCallError) as info:
        harness.up([activation(store, ids)])
    message = _assert_plain_failure(info.value.details, "create", "ActivationFailedError")
    assert "Activation capacity exhausted" in message and message.endswith("that are still not ACTIVE.")
    emu.clear_faults()

    # The wait budget runs out (60 s activations, a 20 s budget), here in an update.
    store = emu.create_store(read_sets=["ACTIVE"] * 3)
    ids = sorted(emu.read_set_statuses(store))
    harness.up([activation(store, ids)])
    emu.archive(store, ids)
    with pytest.raises(ProviderCallError) as info:
        harness.up([activation(store, ids, timeout_seconds=20)])
    message = _assert_plain_failure(info.value.details, "update", "ActivationTimeoutError")
    assert message.startswith("cohort: timed out after 20s (timeout_seconds) with ")
    assert "the next `pulumi up` resumes" in message


def test_state_provider_is_a_small_by_reference_pickle(harness, scaled_emulator):
    store = scaled_emulator.create_store(read_sets=["ACTIVE"] * 2)
    harness.up([activation(store, sorted(scaled_emulator.read_set_statuses(store)))])
    text = Path(harness.state_path).read_text()
    provider_b64 = json.loads(text)  # decode every __provider value in the state
    blobs = []

    def walk(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "__provider":
                    blobs.append(value)
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(provider_b64)
    assert blobs
    for blob in blobs:
        raw = blob if isinstance(blob, str) else json.dumps(blob)
        if isinstance(blob, dict):  # secret marker: {"<sig>": ..., "plaintext"/"value": ...}
            raw = next(v for v in blob.values() if isinstance(v, str) and len(v) > 40)
        decoded = base64.b64decode(raw)
        assert len(decoded) < 200
        assert b"omics_dynamic.provider" in decoded
        assert os.fsencode(str(PROJECT_DIR)) not in decoded
