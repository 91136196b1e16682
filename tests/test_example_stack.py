"""The example stack (``__main__.py``) as a user's story, on a time-scaled emulator.

Program mode of the engine-role harness (``omics_dynamic.testing.run_program``): the
ReadSetActivation goes to the SDK's real provider server, which talks HTTP to the
emulator; pulumi-aws resources are recorded, not created. These are engine-role harness
results, not results of the real Pulumi engine. The last test runs the real ``pulumi``
CLI when it is on PATH.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from pathlib import Path

import pytest

from omics_dynamic.emulator import Emulator
from omics_dynamic.testing import run_program

REPO = Path(__file__).resolve().parent.parent
PROGRAM = str(REPO / "__main__.py")
PROJECT = "omics-dynamic-example"
TIME_SCALE = 200.0
ACTIVATION_URN = f"urn:pulumi:dev::{PROJECT}::pulumi-python:dynamic/omics:ReadSetActivation::cohort"
ENV = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture
def scaled_emulator(aws_test_env):
    """60-second activations on a clock 200 times faster than real time, no rate limit."""
    with Emulator(time_scale=TIME_SCALE, activation_seconds=60, queue_seconds=5, rate_limit=0) as emu:
        yield emu


@pytest.fixture
def cohort(scaled_emulator):
    """A store with 5 ARCHIVED read sets and 1 ACTIVE one; returns (store_id, ids)."""
    store = scaled_emulator.create_store("example", ["ARCHIVED"] * 5 + ["ACTIVE"])
    return store, sorted(scaled_emulator.read_set_statuses(store))


def stack_config(emu, store, ids, deploy_compute=True, **extra):
    config = {
        "aws:region": "us-east-1",
        "omics-dynamic:endpoint": emu.endpoint_url,
        "omics-dynamic:timeScale": str(TIME_SCALE),
        "omics-dynamic:rateLimit": "0",
        f"{PROJECT}:sequenceStoreId": store,
        f"{PROJECT}:readSetIds": ids,
        f"{PROJECT}:deployCompute": "true" if deploy_compute else "false",
        f"{PROJECT}:timeoutSeconds": "3600",
    }
    if deploy_compute:
        config[f"{PROJECT}:workflowId"] = "1234567"
        config[f"{PROJECT}:outputUri"] = "s3://outputs/cohort/"
    config.update({f"{PROJECT}:{k}": v for k, v in extra.items()})
    return config


def run(operation, tmp_path, config):
    return run_program(PROGRAM, state_path=str(tmp_path / "state.json"), operation=operation,
                       config=config, env=ENV, timeout_s=120, program_timeout_s=300)


def aws_resources(result):
    return [r for r in result.resources if r.type.startswith("aws:")]


def assert_compute_gated(result):
    """Every pulumi-aws resource was registered after the activation's Create/Update returned,
    and depends on it."""
    activation = result.resource("cohort")
    compute = aws_resources(result)
    assert {r.type for r in compute} == {"aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy",
                                        "aws:sfn/stateMachine:StateMachine"}
    for r in compute:
        assert r.order > activation.order, r.name
        assert r.registered_t_s >= activation.completed_t_s, (r.name, r.registered_t_s, activation.completed_t_s)
        assert ACTIVATION_URN in r.dependencies, (r.name, r.dependencies)


def test_lifecycle_activation_gates_compute(tmp_path, scaled_emulator, cohort):
    emu = scaled_emulator
    store, ids = cohort
    config = stack_config(emu, store, ids)

    # up: create activates the 5 ARCHIVED read sets, then the compute is declared.
    first = run("up", tmp_path, config)
    assert first.engine.ops == {"cohort": "create"}
    assert set(emu.read_set_statuses(store).values()) == {"ACTIVE"}
    assert_compute_gated(first)
    job_ids = sorted(j["id"] for j in emu.jobs())
    assert job_ids and sorted(first.exports["jobIds"]) == job_ids
    assert first.exports["statusSummary"] == {"ACTIVE": 6}
    assert first.exports["activationCount"] == 1
    assert first.exports["readSetCount"] == 6
    assert first.exports["activatedAt"].endswith("Z")
    assert any("cohort: all 6 read sets ACTIVE" in line for line in first.stderr_lines)

    # The state machine consumes the activation's outputs.
    machine = first.resource("start-run")
    definition = json.loads(machine.inputs["definition"])
    task = definition["States"]["StartRun"]
    assert task["Resource"] == "arn:aws:states:::aws-sdk:omics:startRun"
    assert task["Parameters"]["Parameters"] == {"sequence_store_id": store, "read_set_ids": ids}
    assert task["Parameters"]["Tags"] == {"omics-dynamic:activation-count": "1"}
    assert all(job in definition["Comment"] for job in job_ids)
    assert "activation #1" in definition["Comment"]
    assert machine.inputs["tags"]["omics-dynamic:activation-count"] == "1"
    assert set(machine.property_dependencies["definition"]) >= {ACTIVATION_URN}
    # The role's (placeholder) ARN reaches the state machine, with its dependency.
    assert machine.inputs["roleArn"] == "arn:aws:mock:::Role/start-run-role"
    assert any(u.endswith("::start-run-role") for u in machine.property_dependencies["roleArn"])

    # up again: same, no new job, same exports.
    second = run("up", tmp_path, config)
    assert second.engine.ops == {"cohort": "same"}
    assert sorted(j["id"] for j in emu.jobs()) == job_ids
    assert second.exports["activationCount"] == 1
    assert sorted(second.exports["jobIds"]) == job_ids
    assert_compute_gated(second)

    # HealthOmics archives two read sets again: preview shows an update, starts nothing.
    emu.archive(store, ids[:2])
    preview = run("preview", tmp_path, config)
    assert preview.engine.ops == {"cohort": "update"}
    assert any("update:" in line and "not ACTIVE" in line for line in preview.stderr_lines)
    assert len(emu.jobs()) == len(job_ids)

    # up re-activates them; activation_count 2 reaches the state machine (re-run trigger).
    third = run("up", tmp_path, config)
    assert third.engine.ops == {"cohort": "update"}
    assert set(emu.read_set_statuses(store).values()) == {"ACTIVE"}
    new_jobs = sorted({j["id"] for j in emu.jobs()} - set(job_ids))
    assert new_jobs and sorted(third.exports["jobIds"]) == new_jobs
    assert third.exports["activationCount"] == 2
    assert_compute_gated(third)
    definition = json.loads(third.resource("start-run").inputs["definition"])
    assert "activation #2" in definition["Comment"]
    assert third.resource("start-run").inputs["tags"]["omics-dynamic:activation-count"] == "2"

    # destroy deletes the activation (changing nothing in AWS).
    gone = run("destroy", tmp_path, config)
    assert gone.engine.ops == {"cohort": "delete"}
    assert set(emu.read_set_statuses(store).values()) == {"ACTIVE"}


def test_deploy_compute_false_registers_no_aws_resource(tmp_path, scaled_emulator, cohort):
    store, ids = cohort
    result = run("up", tmp_path, stack_config(scaled_emulator, store, ids, deploy_compute=False))
    assert result.order == ["cohort"]
    assert aws_resources(result) == []
    assert result.exports["activationCount"] == 1
    assert "stateMachineArn" not in result.exports


def test_compute_needs_workflow_config(tmp_path, scaled_emulator, cohort):
    store, ids = cohort
    config = stack_config(scaled_emulator, store, ids)
    del config[f"{PROJECT}:workflowId"]
    with pytest.raises(Exception, match="workflowId"):
        run("preview", tmp_path, config)


def test_read_set_ids_must_be_a_list(tmp_path, scaled_emulator, cohort):
    store, _ = cohort
    config = stack_config(scaled_emulator, store, [], deploy_compute=False)
    config[f"{PROJECT}:readSetIds"] = json.dumps({"not": "a list"})
    with pytest.raises(ValueError, match="readSetIds must be a list"):
        run("preview", tmp_path, config)


def _load_demo():
    spec = importlib.util.spec_from_file_location("omics_demo", REPO / "scripts" / "demo.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.pulumi_cli
@pytest.mark.skipif(shutil.which("pulumi") is None,
                    reason="the pulumi CLI is not on PATH (it cannot be installed from PyPI/npm/Debian); "
                           "install it from https://www.pulumi.com/docs/install/ to run this test")
def test_real_cli_up_same_destroy(tmp_path, scaled_emulator, cohort):
    """The real Pulumi engine, local file backend under tmp_path, deployCompute false."""
    emu = scaled_emulator
    store, ids = cohort
    demo = _load_demo()
    runner = demo.CliRunner(tmp_path, ENV)
    config = stack_config(emu, store, ids, deploy_compute=False)
    lines: list[str] = []
    try:
        first = runner.run("up", "test", config, echo=lines.append)
        assert set(emu.read_set_statuses(store).values()) == {"ACTIVE"}
        job_ids = sorted(j["id"] for j in emu.jobs())
        assert sorted(first.exports["jobIds"]) == job_ids
        assert first.exports["activationCount"] == 1
        assert any("cohort:" in line and "ACTIVE" in line for line in lines), lines[-40:]

        again = runner.run("up", "test", config, echo=lines.append)
        assert sorted(j["id"] for j in emu.jobs()) == job_ids
        assert again.exports["activationCount"] == 1

        emu.archive(store, ids[:1])
        preview = runner.run("preview", "test", config, echo=lines.append)
        assert preview.ops.get("cohort") == "update"
        third = runner.run("up", "test", config, echo=lines.append)
        assert third.exports["activationCount"] == 2

        runner.run("destroy", "test", config, echo=lines.append)
    finally:
        runner.cleanup("test")
