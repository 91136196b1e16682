"""With the real Pulumi CLI: unknown inputs in a preview, a killed ``pulumi up`` and the
documented recovery, and Ctrl-C during a create.

These need ``pulumi`` on PATH (it cannot be installed from PyPI, npm or Debian): here they
skip with that reason; .github/workflows/ci.yml installs the CLI on GitHub's runners and
sets OMICS_DYNAMIC_REQUIRE_PULUMI_CLI=1, so there they run (or fail, never skip). Every
stack lives on a file backend under tmp_path and talks to the local emulator. The example
stack's up/same/preview/up/destroy with the CLI is tests/test_example_stack.py.
"""

from __future__ import annotations

import signal
import time
from collections import Counter
from pathlib import Path

import pytest

from harness_support.cli import PulumiProject, errors, ops, pulumi_or_skip, recovery_script
from omics_dynamic.emulator import Emulator

REPO = Path(__file__).resolve().parent.parent
UNKNOWN_PROGRAM = REPO / "tests" / "harness_support" / "unknown_program"
ENV = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}
EXAMPLE = "omics-dynamic-example"

pytestmark = pytest.mark.pulumi_cli


def _emulator_config(emu: Emulator, time_scale: float) -> dict:
    return {"aws:region": "us-east-1", "omics-dynamic:endpoint": emu.endpoint_url,
            "omics-dynamic:timeScale": str(time_scale), "omics-dynamic:rateLimit": "0"}


def test_preview_with_an_unknown_read_set_list_passes_and_plans(tmp_path, aws_test_env):
    """read_set_ids come from another resource's output, unknown while that resource is to
    be created or updated: `pulumi preview` must succeed."""
    pulumi = pulumi_or_skip()
    with Emulator(time_scale=200, activation_seconds=60, queue_seconds=5, rate_limit=0) as emu:
        store = emu.create_store(read_sets=["ARCHIVED"] * 3)
        ids = sorted(emu.read_set_statuses(store))
        project = PulumiProject(tmp_path, UNKNOWN_PROGRAM, "omics-unknown", ENV, pulumi)
        config = {**_emulator_config(emu, 200), "omics-unknown:sequenceStoreId": store,
                  "omics-unknown:readSetIds": ids[:2]}
        project.new_stack("test", config)

        first = project.preview_json("test")
        assert first["_exit"] == 0 and errors(first) == [], first["_text"][-3000:]
        assert ops(first) == {"ids": "create", "cohort": "create"}
        assert sum(emu.calls.values()) == 0

        project.run("up", "--yes", "--skip-preview", "--stack", "test")
        assert project.outputs("test")["readSetStatuses"] == {rid: "ACTIVE" for rid in ids[:2]}

        project.set_config("test", {**config, "omics-unknown:readSetIds": ids})
        second = project.preview_json("test")
        assert second["_exit"] == 0 and errors(second) == [], second["_text"][-3000:]
        assert ops(second) == {"ids": "update", "cohort": "update"}
        project.run("destroy", "--yes", "--skip-preview", "--stack", "test")


def test_killed_up_then_the_documented_recovery(tmp_path, aws_test_env):
    """A `pulumi up` killed mid-create (CLI, language host and provider SIGKILLed, as when a
    runner dies) leaves the DIY lock and a pending create; the next `up` fails on the lock;
    the recovery the README and the GitOps workflow document (pulumi_run.py: cancel, up,
    clear the stale pending create) finishes the activation without a duplicate job."""
    pulumi = pulumi_or_skip()
    scale = 20.0  # a 60 s activation lasts 3 s: time to kill the run mid-create
    with Emulator(time_scale=scale, activation_seconds=60, queue_seconds=5, rate_limit=0) as emu:
        store = emu.create_store(read_sets=["ARCHIVED"] * 40)
        ids = sorted(emu.read_set_statuses(store))
        project = PulumiProject(tmp_path, REPO, EXAMPLE, ENV, pulumi)
        project.new_stack("test", {**_emulator_config(emu, scale), f"{EXAMPLE}:sequenceStoreId": store,
                                   f"{EXAMPLE}:readSetIds": ids, f"{EXAMPLE}:deployCompute": "false",
                                   f"{EXAMPLE}:timeoutSeconds": "3600"})
        proc = project.start("up", "--yes", "--skip-preview", "--stack", "test")
        deadline = time.monotonic() + 180
        while not emu.jobs() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert emu.jobs(), (project.dir.parent / "background.log").read_text()[-3000:]
        project.kill_tree(proc)

        urn = f"urn:pulumi:test::{EXAMPLE}::pulumi-python:dynamic/omics:ReadSetActivation::cohort"
        assert len(project.lock_files("test")) == 1
        pending = project.export("test")["deployment"].get("pending_operations") or []
        assert [(p["type"], p["resource"]["urn"]) for p in pending] == [("creating", urn)]
        blocked = project.run("up", "--yes", "--skip-preview", "--stack", "test", check=False)
        assert blocked.returncode != 0
        assert "the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end " \
               "or delete the lock file with `pulumi cancel`." in blocked.stdout

        recovered = recovery_script(project, "up", "test")
        text = recovered.stdout
        assert recovered.returncode == 0, text[-4000:]
        assert "was held at the start of this run" in text
        assert "Attempting to deploy or update resources with 1 pending operations" in text
        assert f"clearing stale pending CREATE operations (the resources were created by this run): {urn}" in text
        assert not project.export("test")["deployment"].get("pending_operations")
        assert project.lock_files("test") == []
        assert set(emu.read_set_statuses(store).values()) == {"ACTIVE"}
        per_read_set = Counter(s["readSetId"] for j in emu.jobs() for s in j["sources"])
        assert sorted(per_read_set) == ids and set(per_read_set.values()) == {1}

        again = project.run("up", "--yes", "--skip-preview", "--stack", "test")
        assert "pending operations" not in again.stdout
        project.run("destroy", "--yes", "--skip-preview", "--stack", "test")


def test_ctrl_c_during_create_stops_within_seconds_and_leaves_nothing_to_clear(tmp_path, aws_test_env):
    """One SIGINT to the CLI mid-create: the engine sends Cancel to the provider
    (SignalCancellation); create stops waiting, fails naming the running jobs, the update
    ends, the lock is released and no pending create is left; the next up adopts the jobs."""
    pulumi = pulumi_or_skip()
    scale = 2.0  # a 60 s activation lasts 30 s: a stop within seconds is visible
    with Emulator(time_scale=scale, activation_seconds=60, queue_seconds=5, rate_limit=0) as emu:
        store = emu.create_store(read_sets=["ARCHIVED"] * 20)
        ids = sorted(emu.read_set_statuses(store))
        project = PulumiProject(tmp_path, REPO, EXAMPLE, ENV, pulumi)
        project.new_stack("test", {**_emulator_config(emu, scale), f"{EXAMPLE}:sequenceStoreId": store,
                                   f"{EXAMPLE}:readSetIds": ids, f"{EXAMPLE}:deployCompute": "false",
                                   f"{EXAMPLE}:timeoutSeconds": "3600"})
        proc = project.start("up", "--yes", "--skip-preview", "--stack", "test")
        deadline = time.monotonic() + 180
        while not emu.jobs() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert emu.jobs(), (project.dir.parent / "background.log").read_text()[-3000:]
        [job] = emu.jobs()
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=60)
        took_s = time.monotonic() - sent
        log = (project.dir.parent / "background.log").read_text()
        assert code != 0 and took_s < 20, (took_s, log[-3000:])
        assert job["id"] in log and "the next `pulumi up` resumes" in log, log[-3000:]
        assert project.lock_files("test") == []
        assert not project.export("test")["deployment"].get("pending_operations")
        project.run("up", "--yes", "--skip-preview", "--stack", "test")
        assert [j["id"] for j in emu.jobs()] == [job["id"]]  # adopted, not started again
        assert set(emu.read_set_statuses(store).values()) == {"ACTIVE"}
        project.run("destroy", "--yes", "--skip-preview", "--stack", "test")
