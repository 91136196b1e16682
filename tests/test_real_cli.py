"""Every engine rule of docs/design.md section 2 through the real Pulumi CLI: the engine
plans, checkpoints to a file backend, locks the stack and runs the SDK's dynamic provider
server, which talks to the local emulator. Programs run as Automation API inline programs
(``omics_dynamic_testing.automation``; no Python language host is needed).

The example stack runs with ``deployCompute`` false (pulumi-aws's plugin cannot be built
here); ``tests/programs/activations`` is a program whose inputs can be unknown at preview
time and whose options come from config.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from pathlib import Path

import pytest

from omics_dynamic_testing.automation import StackOperationError
from omics_emulator import Emulator
from real_cli import (
    EXAMPLE,
    EXAMPLE_PROGRAM,
    PROGRAMS,
    Background,
    emulator_config,
    make_stack,
    recovery_script,
)

pytestmark = pytest.mark.pulumi_cli

ACTIVATIONS = PROGRAMS / "activations" / "__main__.py"
PROJECT = "omics-activations"
TYPE = "pulumi-python:dynamic/omics:ReadSetActivation"
PREVIOUS_RELEASE = Path(__file__).parent / "data" / "previous-release"


def _config(emu: Emulator, scale: float, store: str, ids: list[str], **extra) -> dict:
    config = {**emulator_config(emu.endpoint_url, scale), f"{PROJECT}:sequenceStoreId": store,
              f"{PROJECT}:readSetIds": list(ids)}
    config.update({f"{PROJECT}:{k}": v for k, v in extra.items()})
    return config


def _urn(name: str, project: str = PROJECT, stack: str = "test") -> str:
    return f"urn:pulumi:{stack}::{project}::{TYPE}::{name}"


def _resource(state: dict, name: str) -> dict:
    [found] = [r for r in state["deployment"].get("resources") or [] if r["urn"].endswith(f"::{name}")]
    return found


@pytest.mark.parametrize("unknown", ["list", "element", "store"])
def test_preview_with_unknown_inputs_plans_without_aws_calls(tmp_path, aws_test_env, unknown):
    """An input that another resource's create computes reaches Check and Diff unknown: the
    whole ID list, one element, or the store. The preview succeeds, plans both creates and
    makes no HealthOmics call; the up then activates."""
    with Emulator(time_scale=200, activation_seconds=60, queue_seconds=5, rate_limit=0) as emu:
        store = emu.create_store(read_sets=["ARCHIVED"] * 3)
        ids = sorted(emu.read_set_statuses(store))
        stack = make_stack(tmp_path, ACTIVATIONS, PROJECT, _config(emu, 200, store, ids, unknown=unknown))

        preview = stack.preview()
        assert preview.ops == {"ids": "create", "cohort": "create"}, preview.output[-40:]
        assert preview.messages("error") == []
        assert sum(emu.calls.values()) == 0, dict(emu.calls)

        stack.up()
        assert stack.outputs()["readSetStatuses"] == {rid: "ACTIVE" for rid in ids}

        if unknown == "list":  # an update of the source: unknown again, an update planned
            stack.set_config(_config(emu, 200, store, ids[:2], unknown=unknown))
            again = stack.preview()
            assert again.ops == {"ids": "update", "cohort": "update"}, again.output[-40:]
        stack.destroy()


def test_a_check_failure_fails_preview_and_up_in_the_engines_words(tmp_path, aws_test_env):
    """Check's failures are the engine's check failures: `pulumi preview` fails as well as
    `up`, naming the property and the value; no job starts."""
    with Emulator(time_scale=200, rate_limit=0) as emu:
        store = emu.create_store(read_sets=["ARCHIVED"] * 2)
        ids = sorted(emu.read_set_statuses(store))
        stack = make_stack(tmp_path, ACTIVATIONS, PROJECT, _config(emu, 200, store, [*ids, "not-an-id"]))
        for run in (stack.preview, stack.up):
            with pytest.raises(StackOperationError) as failed:
                run()
            errors = failed.value.operation.messages("error")
            assert any(f"{TYPE} resource 'cohort': property read_set_ids value" in m and "not-an-id" in m
                       and "has a problem" in m for m in errors), errors
        assert emu.jobs() == []
        assert [r["urn"] for r in stack.export()["deployment"].get("resources") or []
                if r["type"] == TYPE] == []


def test_up_with_its_preview_runs_check_and_diff_twice(tmp_path, aws_test_env):
    """`pulumi up` without --skip-preview is a preview and an update, two engine runs: the
    diff's live check (and its line) runs in both; --skip-preview runs it once."""
    with Emulator(time_scale=200, activation_seconds=60, queue_seconds=5, rate_limit=0) as emu:
        store = emu.create_store(read_sets=["ARCHIVED"] * 4)
        ids = sorted(emu.read_set_statuses(store))
        stack = make_stack(tmp_path, ACTIVATIONS, PROJECT, _config(emu, 200, store, ids))
        stack.up()
        emu.archive(store, ids[:1])

        with_preview = stack.up(with_preview=True)
        reasons = [m for m in with_preview.messages() if "update: 1 of 4 read sets are not ACTIVE" in m]
        assert len(reasons) == 2, with_preview.messages()
        assert with_preview.ops["cohort"] == "update"
        assert stack.outputs()["activationCount"] == 2

        emu.archive(store, ids[:1])
        skipped = stack.up()
        assert len([m for m in skipped.messages() if "update: 1 of 4 read sets are not ACTIVE" in m]) == 1
        stack.destroy()


def test_refresh_and_preview_see_a_rearchived_read_set_and_up_reactivates_it(tmp_path, aws_test_env):
    """HealthOmics archives read sets again: refresh records their live status in state,
    preview plans an update, up re-activates them (activation_count 2, one new job)."""
    with Emulator(time_scale=200, activation_seconds=60, queue_seconds=5, rate_limit=0) as emu:
        store = emu.create_store(read_sets=["ARCHIVED"] * 5)
        ids = sorted(emu.read_set_statuses(store))
        stack = make_stack(tmp_path, ACTIVATIONS, PROJECT, _config(emu, 200, store, ids))
        stack.up()
        assert len(emu.jobs()) == 1
        emu.archive(store, ids[:2])

        refresh = stack.refresh()
        assert refresh.ops["cohort"] == "refresh"
        outputs = _resource(stack.export(), "cohort")["outputs"]
        assert outputs["not_active_read_set_statuses"] == {rid: "ARCHIVED" for rid in ids[:2]}

        preview = stack.preview()
        assert preview.ops["cohort"] == "update"
        assert len(emu.jobs()) == 1

        up = stack.up()
        assert up.ops["cohort"] == "update"
        assert up.outputs["activationCount"] == 2
        assert len(emu.jobs()) == 2 and sorted(s["readSetId"] for s in emu.jobs()[-1]["sources"]) == ids[:2]
        assert set(emu.read_set_statuses(store).values()) == {"ACTIVE"}
        stack.destroy()


def test_target_steps_only_the_targeted_activation(tmp_path, aws_test_env):
    """`pulumi up --target URN` creates the targeted activation only; the engine reports
    the untargeted new one as a `same` step but does not create it: it is not in state and
    starts no job until an untargeted up."""
    with Emulator(time_scale=200, activation_seconds=60, queue_seconds=5, rate_limit=0) as emu:
        store = emu.create_store(read_sets=["ARCHIVED"] * 4)
        ids = sorted(emu.read_set_statuses(store))
        stack = make_stack(tmp_path, ACTIVATIONS, PROJECT,
                           _config(emu, 200, store, ids[:2], secondReadSetIds=ids[2:]))
        up = stack.up(target=[_urn("extra")])
        assert up.ops == {"extra": "create", "cohort": "same"}
        assert [s["readSetId"] for j in emu.jobs() for s in j["sources"]] == ids[2:]
        assert [r["urn"] for r in stack.export()["deployment"]["resources"] if r["type"] == TYPE] == [_urn("extra")]

        stack.up()
        assert sorted(s["readSetId"] for j in emu.jobs() for s in j["sources"]) == ids
        stack.destroy()


def test_a_store_change_replaces_and_deletes_the_old_activation_at_the_end(tmp_path, aws_test_env):
    """A new sequence_store_id replaces the activation, create-before-delete: the new one is
    created first, the old one deleted last."""
    with Emulator(time_scale=200, activation_seconds=60, queue_seconds=5, rate_limit=0) as emu:
        first = emu.create_store(read_sets=["ARCHIVED"] * 2)
        second = emu.create_store(read_sets=["ARCHIVED"] * 2)
        stack = make_stack(tmp_path, ACTIVATIONS, PROJECT,
                           _config(emu, 200, first, sorted(emu.read_set_statuses(first))))
        stack.up()
        stack.set_config(_config(emu, 200, second, sorted(emu.read_set_statuses(second))))

        preview = stack.preview()
        assert preview.steps == [("cohort", "create-replacement"), ("cohort", "replace"),
                                 ("cohort", "delete-replaced")], preview.steps
        up = stack.up()
        assert up.steps == [("cohort", "create-replacement"), ("cohort", "replace"),
                            ("cohort", "delete-replaced")], up.steps
        assert set(emu.read_set_statuses(second).values()) == {"ACTIVE"}
        [cohort] = [r for r in stack.export()["deployment"]["resources"] if r["type"] == TYPE]
        assert cohort["outputs"]["sequence_store_id"] == second and not cohort.get("delete")
        stack.destroy()


def test_ignore_changes_keeps_the_old_read_set_list(tmp_path, aws_test_env):
    """With ignore_changes on read_set_ids, a changed list is no change: Check and Diff see
    the old value (the engine puts it back), so nothing is activated."""
    with Emulator(time_scale=200, activation_seconds=60, queue_seconds=5, rate_limit=0) as emu:
        store = emu.create_store(read_sets=["ARCHIVED"] * 4)
        ids = sorted(emu.read_set_statuses(store))
        stack = make_stack(tmp_path, ACTIVATIONS, PROJECT, _config(emu, 200, store, ids[:2], ignoreReadSetIds="true"))
        stack.up()
        stack.set_config(_config(emu, 200, store, ids, ignoreReadSetIds="true"))
        up = stack.up()
        assert up.ops["cohort"] == "same"
        assert _resource(stack.export(), "cohort")["inputs"]["read_set_ids"] == ids[:2]
        assert len(emu.jobs()) == 1
        assert [emu.read_set_statuses(store)[r] for r in ids[2:]] == ["ARCHIVED", "ARCHIVED"]
        stack.destroy()


def test_destroy_deletes_the_resource_and_leaves_the_read_sets_active(tmp_path, aws_test_env):
    """Destroy removes the activation from state; HealthOmics has no archive API, so the
    read sets stay ACTIVE and no call changes them."""
    with Emulator(time_scale=200, activation_seconds=60, queue_seconds=5, rate_limit=0) as emu:
        store = emu.create_store(read_sets=["ARCHIVED"] * 2)
        ids = sorted(emu.read_set_statuses(store))
        stack = make_stack(tmp_path, ACTIVATIONS, PROJECT, _config(emu, 200, store, ids))
        stack.up()
        destroy = stack.destroy()
        assert destroy.ops == {"cohort": "delete"}
        assert [r for r in stack.export()["deployment"].get("resources") or [] if r["type"] == TYPE] == []
        assert set(emu.read_set_statuses(store).values()) == {"ACTIVE"}
        assert len(emu.jobs()) == 1


def test_state_written_by_the_previous_release_is_read_by_this_one(tmp_path, aws_test_env):
    """A checkpoint written by release 0.1.0 (commit 30ac1ee; tests/data/previous-release:
    the example stack, 3 read sets of the shipped cohort) imports; with the read sets ACTIVE
    the next up is no change and gives the stored numeric activated_base_count as the
    documented string, a refresh keeps the resource and starts no job, and an up after
    HealthOmics archived one re-activates it (activation_count 2, one job for that one)."""
    fixture = json.loads((PREVIOUS_RELEASE / "state.json").read_text(encoding="utf-8"))
    config = json.loads((PREVIOUS_RELEASE / "config.json").read_text(encoding="utf-8"))
    with Emulator(time_scale=200, activation_seconds=60, queue_seconds=5, rate_limit=0) as emu:
        emu.seed("cohort")
        ids = config[f"{EXAMPLE}:readSetIds"]
        store = config[f"{EXAMPLE}:sequenceStoreId"]
        for rid in ids:
            emu.set_read_set_status(store, rid, "ACTIVE")
        text = json.dumps(fixture).replace(config["omics-dynamic:endpoint"], emu.endpoint_url)
        config["omics-dynamic:endpoint"] = emu.endpoint_url
        stack = make_stack(tmp_path, EXAMPLE_PROGRAM, EXAMPLE, config, stack="previous")
        stack.import_state(json.loads(text))

        same = stack.up()
        assert same.ops["cohort"] == "same", same.output[-30:]
        # 0.1.0 stored the count as a number; the program gives the documented string.
        [old] = [r for r in fixture["deployment"]["resources"] if r["urn"].endswith("::cohort")]
        stored = old["outputs"]["activated_base_count"]
        assert isinstance(stored, int) and same.outputs["activatedBaseCount"] == str(stored)
        refreshed = stack.refresh()
        assert refreshed.ops["cohort"] in ("refresh", "same") and emu.jobs() == []
        emu.archive(store, ids[:1])
        up = stack.up()
        assert up.ops["cohort"] == "update"
        assert up.outputs["activationCount"] == 2
        assert [s["readSetId"] for j in emu.jobs() for s in j["sources"]] == ids[:1]
        stack.destroy()


def _example_config(emu: Emulator, scale: float, store: str, ids: list[str]) -> dict:
    return {**emulator_config(emu.endpoint_url, scale), f"{EXAMPLE}:sequenceStoreId": store,
            f"{EXAMPLE}:readSetIds": ids, f"{EXAMPLE}:deployCompute": "false", f"{EXAMPLE}:timeoutSeconds": "3600"}


def _one_job_per_read_set(emu: Emulator, ids: list[str]) -> None:
    per_read_set = Counter(s["readSetId"] for j in emu.jobs() for s in j["sources"])
    assert sorted(per_read_set) == ids and set(per_read_set.values()) == {1}, per_read_set


def _kill_mid_create(tmp_path: Path, emu: Emulator, scale: float, count: int):
    store = emu.create_store(read_sets=["ARCHIVED"] * count)
    ids = sorted(emu.read_set_statuses(store))
    stack = make_stack(tmp_path, EXAMPLE_PROGRAM, EXAMPLE, _example_config(emu, scale, store, ids))
    run = Background(stack, "up")
    run.wait_for(lambda: bool(emu.jobs()))
    run.kill_tree()
    urn = _urn("cohort", EXAMPLE)
    assert len(stack.lock_files()) == 1
    pending = stack.export()["deployment"].get("pending_operations") or []
    assert [(p["type"], p["resource"]["urn"]) for p in pending] == [("creating", urn)]
    with pytest.raises(StackOperationError) as blocked:
        stack.up()
    assert ("the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end "
            "or delete the lock file with `pulumi cancel`.") in blocked.value.operation.error
    return stack, store, ids, urn


@pytest.mark.slow
def test_killed_up_then_the_documented_recovery_by_hand(tmp_path, aws_test_env):
    """A `pulumi up` killed mid-create (the Automation API process, the CLI and the provider
    SIGKILLed, as when a runner dies) leaves the lock and a pending create. The README's
    recovery: `pulumi cancel`, `pulumi up` (adopts the running job: no duplicate), then
    `pulumi refresh --clear-pending-creates` drops the stale pending create."""
    with Emulator(time_scale=20, activation_seconds=60, queue_seconds=5, rate_limit=0) as emu:
        stack, store, ids, urn = _kill_mid_create(tmp_path, emu, 20, 40)
        stack.cancel()
        assert stack.lock_files() == []
        up = stack.up()
        assert any("Attempting to deploy or update resources with 1 pending operations" in line
                   for line in up.output), up.output[-30:]
        assert set(emu.read_set_statuses(store).values()) == {"ACTIVE"}
        _one_job_per_read_set(emu, ids)
        assert stack.export()["deployment"].get("pending_operations")
        stack.refresh(clear_pending_creates=True)
        assert not stack.export()["deployment"].get("pending_operations")
        again = stack.up()
        assert not any("pending operations" in line for line in again.output)
        assert again.ops["cohort"] == "same"
        stack.destroy()


@pytest.mark.slow
def test_killed_up_then_the_gitops_script_recovers_unattended(tmp_path, aws_test_env):
    """The same kill; `.github/workflows/scripts/pulumi_run.py up` (the GitOps workflow's
    step) cancels the dead run's lock, runs up, and clears the stale pending create, with
    no duplicate job."""
    with Emulator(time_scale=20, activation_seconds=60, queue_seconds=5, rate_limit=0) as emu:
        stack, store, ids, urn = _kill_mid_create(tmp_path, emu, 20, 40)
        recovered = recovery_script(stack, "up")
        text = recovered.stdout
        assert recovered.returncode == 0, text[-4000:]
        assert "was held at the start of this run" in text
        assert "Attempting to deploy or update resources with 1 pending operations" in text
        assert f"clearing stale pending CREATE operations (the resources were created by this run): {urn}" in text
        assert not stack.export()["deployment"].get("pending_operations")
        assert stack.lock_files() == []
        assert set(emu.read_set_statuses(store).values()) == {"ACTIVE"}
        _one_job_per_read_set(emu, ids)
        stack.destroy()


@pytest.mark.slow
def test_ctrl_c_during_create_stops_within_seconds_and_the_next_up_resumes(tmp_path, aws_test_env):
    """SIGINT to the process group running `pulumi up` (a terminal's Ctrl-C) mid-create: the
    engine sends Cancel to the provider, whose create stops waiting and fails naming the
    running job; the update ends within seconds, the lock is released, no pending create
    is left; the next up adopts the job instead of starting another."""
    with Emulator(time_scale=2, activation_seconds=60, queue_seconds=5, rate_limit=0) as emu:
        store = emu.create_store(read_sets=["ARCHIVED"] * 20)
        ids = sorted(emu.read_set_statuses(store))
        stack = make_stack(tmp_path, EXAMPLE_PROGRAM, EXAMPLE, _example_config(emu, 2, store, ids))
        run = Background(stack, "up")
        run.wait_for(lambda: bool(emu.jobs()))
        [job] = emu.jobs()
        sent = time.monotonic()
        run.interrupt()
        code = run.wait(timeout_s=60)
        took_s = time.monotonic() - sent
        log = run.text()
        assert code != 0 and took_s < 20, (took_s, log[-3000:])
        assert job["id"] in log and "the next `pulumi up` resumes" in log, log[-3000:]
        assert stack.lock_files() == []
        assert not stack.export()["deployment"].get("pending_operations")
        stack.up()
        assert [j["id"] for j in emu.jobs()] == [job["id"]]
        assert set(emu.read_set_statuses(store).values()) == {"ACTIVE"}
        stack.destroy()


def _line_times(chunks: list[tuple[float, str]]) -> list[tuple[float, str]]:
    """(seconds, text) of each provider line as it first appears in the CLI's output: the
    `cohort: ...` text after ANSI sequences are removed (the pseudo-terminal is
    TERMINAL_COLUMNS wide, so the interactive display's Info column holds whole lines)."""
    seen: dict[str, float] = {}
    for at_s, text in chunks:
        plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x1b]*\x1b\\", "", text)
        for match in re.finditer(r"cohort: [^\r\n\x1b]*", plain):
            line = match.group(0).strip()
            seen.setdefault(line, at_s)
    return sorted((at_s, line) for line, at_s in seen.items())


@pytest.mark.slow
def test_progress_lines_show_while_a_create_waits_in_both_displays(tmp_path, aws_test_env):
    """A create that waits about 40 s at real speed (time scale 1): the provider's progress
    lines reach the person while it waits, the first within 5 s of the create's start and
    then at least every 30 s, in the CLI's interactive display (a pseudo-terminal: the
    latest line is the stack row's Info column) and with --non-interactive (one output line
    each)."""
    with Emulator(time_scale=1, activation_seconds=35, queue_seconds=2, rate_limit=0) as emu:
        store = emu.create_store(read_sets=["ARCHIVED"] * 4)
        ids = sorted(emu.read_set_statuses(store))
        stack = make_stack(tmp_path, ACTIVATIONS, PROJECT, _config(emu, 1, store, ids))
        error, chunks = stack.up_in_terminal()
        assert error is None
        assert "Info" in "".join(text for _, text in chunks)  # the interactive tree display
        interactive = _line_times(chunks)

        emu.archive(store, ids)
        started = time.monotonic()
        timed: list[tuple[float, str]] = []
        stack.up(lambda line: timed.append((time.monotonic() - started, line)))
        plain = _line_times(timed)

    for display, lines in (("interactive", interactive), ("non-interactive", plain)):
        times = [at_s for at_s, _ in lines]
        done_s = max(at_s for at_s, line in lines if line.startswith("cohort: all 4 read sets ACTIVE"))
        waiting = [at_s for at_s, line in lines if "read sets active" in line and at_s < done_s]
        assert len(waiting) >= 2 and done_s > 30, (display, lines)  # lines while it waited
        assert times[0] <= 5.0, (display, lines)  # from the start of `pulumi up`
        assert max(b - a for a, b in zip(times, times[1:])) <= 30.0, (display, lines)


def test_one_bad_id_among_a_thousand_gives_a_short_check_failure_with_the_reason_first(tmp_path, aws_test_env):
    """The engine prints a property's check failure with the property's whole value first
    (14 KB for 1,000 IDs); the provider reports a long input's failure without the
    property, so the error is the reason, naming the field and the bad value, in a few
    hundred characters."""
    with Emulator(time_scale=200, rate_limit=0) as emu:
        store = emu.create_store(read_sets=["ARCHIVED"] * 2)
        ids = [f"{1000000000 + i}" for i in range(999)] + ["12345x"]
        stack = make_stack(tmp_path, ACTIVATIONS, PROJECT, _config(emu, 200, store, ids))
        with pytest.raises(StackOperationError) as failed:
            stack.preview()
        [error] = [m for m in failed.value.operation.messages("error") if "has a problem" in m]
        assert error.startswith(f"{TYPE} resource 'cohort' has a problem: property read_set_ids: "
                                "1 invalid read set ID(s): [999] must contain only the ASCII digits 0-9, got "
                                "'12345x'"), error
        assert len(error) < 1_000, len(error)
        assert emu.jobs() == []
