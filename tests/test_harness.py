"""Engine-role harness tests, written as lifecycles against the SDK's real provider server.

They hold the harness features other tests rely on (the calls and values the provider
gets, the state file and its pending operations after a kill, delete_before_replace, the
server's four threads, program mode) and what the real CLI cannot show here. The engine's
own rules (unknowns in a preview, check failures in its words, the lock and `pulumi
cancel`, the pending-operations warning, the preview of a plain `pulumi up`, replacement
order, ignore_changes) are tested through the real CLI in tests/test_real_cli.py.
Results here are the engine-role harness's, not the Pulumi engine's.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness_support.recorder import RecorderProvider  # tests/ is on sys.path (rootdir conftest)
from omics_dynamic_testing import (
    CheckFailedError,
    EngineHarness,
    HarnessError,
    HarnessOptions,
    Interrupted,
    ProviderCallError,
    ProviderStartError,
    ResourceSpec,
    load_state,
    run_program,
)

TESTS_DIR = Path(__file__).resolve().parent
PROJECT_DIR = TESTS_DIR.parent

TYPE = "pulumi-python:dynamic/harness:Recorder"
SIG = "4dabf18193072939515e22adb298388d"


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    d = tmp_path / "log"
    d.mkdir()
    return d


@pytest.fixture
def harness(tmp_path: Path) -> EngineHarness:
    return EngineHarness(
        str(PROJECT_DIR),
        str(tmp_path / "state.json"),
        stack="dev",
        project="proj",
        config={"aws:region": "eu-west-1", "omics-dynamic:endpoint": "http://127.0.0.1:1"},
        extra_pythonpath=[str(TESTS_DIR)],
        timeout_s=20,
    )


def spec(log_dir: Path, name: str = "a", *, options: dict = None, **inputs) -> ResourceSpec:
    base = {"label": name, "size": 3, "zone": "z1"}
    base.update(inputs)
    return ResourceSpec(name, TYPE, RecorderProvider(str(log_dir)), base, **(options or {}))


def creates(log_dir: Path) -> int:
    path = log_dir / "creates"
    return len(path.read_text().splitlines()) if path.exists() else 0


def state_doc(harness: EngineHarness) -> dict:
    with open(harness.state_path, encoding="utf-8") as fh:
        return json.load(fh)  # also proves the file is valid JSON


def test_lifecycle_create_same_update_replace_refresh_destroy(harness, log_dir):
    urn = "urn:pulumi:dev::proj::pulumi-python:dynamic/harness:Recorder::a"

    # up: Check(olds={}) then Create (rule 4), after CheckConfig/Configure (rule 2).
    r = harness.up([spec(log_dir)])
    assert r.methods == ["CheckConfig", "Configure", "Check", "Create"]
    assert r.ops == {"a": "create"}
    assert r.step("a").id == "r-1"
    assert r.outputs("a") == {"label": "a", "size": 3.0, "zone": "z1", "create_n": 1.0, "status": "created"}
    assert "[a] creating (create #1)" in r.stderr_lines  # rule 13
    assert r.summary() == "engine-role harness up: create=1"
    doc = state_doc(harness)
    assert doc["pending_operations"] == []
    [res] = doc["resources"]
    assert res["urn"] == urn and res["id"] == "r-1"
    # rule 12: __provider is a secret, stored in plaintext inside the secret marker.
    assert res["inputs"]["__provider"][SIG] == "1b47061264138c4ac30d75fd1eb44270"
    assert "plaintext" in res["outputs"]["__provider"]
    assert json.loads((log_dir / "config.json").read_text()) == {
        "aws:region": "eu-west-1", "endpoint": "http://127.0.0.1:1", "greeting": None}

    # second up, same inputs: Check + Diff, no Create/Update; old outputs kept (rule 5).
    r = harness.up([spec(log_dir)])
    assert r.methods == ["CheckConfig", "Configure", "Check", "Diff"]
    assert r.ops == {"a": "same"} and r.step("a").diff == "none"
    assert r.outputs("a")["create_n"] == 1.0

    # changed input: Update(olds=old outputs); state holds exactly what update returned (rule 6).
    r = harness.up([spec(log_dir, size=4)])
    assert r.methods[-3:] == ["Check", "Diff", "Update"]
    assert r.step("a").changed_keys == ["size"]
    assert r.outputs("a") == {"size": 4.0, "status": "updated", "previous_status": "created"}
    stored = harness.state().get(urn)
    assert set(stored.outputs) == {"size", "status", "previous_status", "__provider"}
    assert stored.inputs["size"] == 4.0

    # zone change forces replacement: Check without olds, Create, then Delete old (rule 5).
    r = harness.up([spec(log_dir, size=4, zone="z2")])
    assert r.methods[-5:] == ["Check", "Diff", "Check", "Create", "Delete"]
    step = r.step("a")
    assert (step.op, step.replaces, step.id) == ("replace", ["zone"], "r-2")
    assert [(s.op, s.id) for s in r.steps] == [("replace", "r-2"), ("delete-replaced", "r-1")]
    assert (log_dir / "deletes").read_text().splitlines() == ["r-1"]
    assert creates(log_dir) == 2

    # refresh: Read(id, outputs), stored; drift via Diff(olds=refreshed outputs, news=inputs) (rule 7).
    (log_dir / "drift-r-2.json").write_text(json.dumps({"size": 9}))
    r = harness.refresh()
    assert r.methods[-2:] == ["Read", "Diff"]
    step = r.step("a")
    assert step.drift is True and step.diff == "some" and step.changed_keys == ["size"]
    assert harness.state().get(urn).outputs["size"] == 9.0

    # destroy: Delete with stored outputs (rule 3), state empty.
    r = harness.destroy()
    assert r.methods[-1] == "Delete" and r.ops == {"a": "delete"}
    assert (log_dir / "deletes").read_text().splitlines() == ["r-1", "r-2"]
    assert state_doc(harness)["resources"] == []


def test_provider_error_carries_message_and_keeps_completed_state(harness, log_dir):
    ok = ResourceSpec("ok", TYPE, RecorderProvider(str(log_dir)), {"label": "ok"})
    bad = ResourceSpec("bad", TYPE, RecorderProvider(str(log_dir)), {"label": "bad", "fail": "quota exceeded"})
    with pytest.raises(ProviderCallError) as err:
        harness.up([ok, bad])
    assert err.value.method == "Create" and err.value.code == "UNKNOWN"
    assert err.value.provider_message == "ValueError: quota exceeded"
    assert [r.name for r in harness.state().resources] == ["ok"]
    # A failed Create completes its pending operation and stores nothing
    # (createSnapshotMutation.End(step, false) in pkg/backend/snapshot.go).
    assert harness.state().pending_operations == []


def test_killed_up_leaves_a_pending_create_that_stays_until_refresh_clears_it(harness, log_dir):
    """rule 9, as test_interruption.py relies on it: the pending create a kill leaves is
    written before Create; the next up (no lock to cancel: the harness takes none) creates
    again and keeps the pending create in every checkpoint until
    refresh(clear_pending_creates=True)."""
    urn = "urn:pulumi:dev::proj::pulumi-python:dynamic/harness:Recorder::a"
    started = log_dir / "create-started"
    with pytest.raises(Interrupted) as err:
        harness.up([spec(log_dir, sleep_s=5)], interrupt=started.exists)
    assert err.value.operation == "creating"
    doc = state_doc(harness)
    assert doc["resources"] == []
    [pending] = doc["pending_operations"]
    assert pending["type"] == "creating" and pending["urn"] == urn
    assert pending["inputs"]["label"] == "a"
    assert creates(log_dir) == 1

    r = harness.up([spec(log_dir, sleep_s=0)])
    assert [(p.type, p.name) for p in r.interrupted] == [("creating", "a")]
    assert r.step("a").op == "create" and r.step("a").resumed == "creating"
    assert creates(log_dir) == 2
    assert [p["type"] for p in state_doc(harness)["pending_operations"]] == ["creating"]
    again = harness.up([spec(log_dir, sleep_s=0)])
    assert again.ops == {"a": "same"} and [p.type for p in again.interrupted] == ["creating"]
    assert [p.type for p in harness.refresh().state.pending_operations] == ["creating"]
    cleared = harness.refresh(clear_pending_creates=True)
    assert cleared.state.pending_operations == [] and cleared.step("a").op == "refresh"
    last = harness.up([spec(log_dir, sleep_s=0)])
    assert last.interrupted == [] and last.ops == {"a": "same"}


def test_interrupt_after_seconds_during_update(harness, log_dir):
    harness.up([spec(log_dir)])

    # The recorder's update is instant; interrupt_after_s=0 fires on the first poll.
    with pytest.raises(Interrupted) as err:
        harness.up([spec(log_dir, size=5)], interrupt_after_s=0.0)
    assert err.value.operation == "updating"
    [pending] = harness.state().pending_operations
    assert pending.type == "updating" and pending.id == "r-1"
    r = harness.up([spec(log_dir, size=5)])
    assert [p.type for p in r.interrupted] == ["updating"]
    assert r.ops == {"a": "update"}
    # Pending operations other than creates are dropped by the next checkpoint.
    assert harness.state().pending_operations == []


def test_delete_before_replace_option_overrides_the_provider_both_ways(harness, log_dir):
    harness.up([spec(log_dir, dbr=False), spec(log_dir, "b", dbr=True)])
    # a: the provider says create-before-delete, the option True forces delete-first;
    # b: the provider says delete-before-replace, an explicit False overrides it
    # (step_generator.go: `if goal.DeleteBeforeReplace != nil`).
    r = harness.up([spec(log_dir, zone="z2", dbr=False, options={"delete_before_replace": True}),
                    spec(log_dir, "b", zone="z2", dbr=True, options={"delete_before_replace": False})])
    calls = [(c.method, c.urn.rsplit("::", 1)[-1]) for c in r.calls if c.method in ("Create", "Delete")]
    # a deleted then created; b created now and its old resource deleted at the end,
    # after every create and update (the Delete step is generated "later on").
    assert calls == [("Delete", "a"), ("Create", "a"), ("Create", "b"), ("Delete", "b")]
    assert (r.step("a").delete_before_replace, r.step("b").delete_before_replace) == (True, False)
    assert [s.op for s in r.steps] == ["replace", "replace", "delete-replaced"]
    assert [res.name for res in harness.state().resources] == ["a", "b"]


def test_provider_start_error_shows_stderr(tmp_path, log_dir):
    # A project directory whose `pulumi/dynamic` package is broken: the server dies at import.
    broken_dir = tmp_path / "broken"
    (broken_dir / "pulumi" / "dynamic").mkdir(parents=True)
    (broken_dir / "pulumi" / "__init__.py").write_text("")
    (broken_dir / "pulumi" / "dynamic" / "__init__.py").write_text("")
    (broken_dir / "pulumi" / "dynamic" / "__main__.py").write_text("raise SystemExit('no server here')\n")
    h = EngineHarness(str(broken_dir), str(tmp_path / "s.json"), start_timeout_s=10)
    with pytest.raises(ProviderStartError) as err:
        h.up([spec(log_dir)])
    assert "no server here" in err.value.stderr_lines
    assert "no server here" in str(err.value)


def test_program_mode_registers_in_order_with_dependencies(tmp_path, log_dir):
    state_path = str(tmp_path / "program-state.json")
    config = {"harness-demo:logDir": str(log_dir), "aws:region": "eu-west-1"}
    program = str(TESTS_DIR / "harness_support" / "program")
    r = run_program(program, state_path=state_path, config=config, extra_pythonpath=[str(TESTS_DIR)], timeout_s=20)
    assert r.order == ["gate", "compute-role"]
    gate, role = r.resource("gate"), r.resource("compute-role")
    assert gate.op == "create" and gate.id == "r-1" and gate.outputs["status"] == "created"
    assert role.op == "recorded" and role.id == "compute-role-id"
    assert gate.urn in role.dependencies
    assert role.property_dependencies["tags"] == [gate.urn]
    assert role.inputs["tags"] == {"gateCreate": "1.0"}
    assert role.registered_t_s >= gate.completed_t_s
    assert r.exports["gate_status"] == "created" and "secret_thing" in r.secret_exports
    assert r.engine.methods == ["CheckConfig", "Configure", "Check", "Create"]
    assert "[gate] created r-1" in r.stderr_lines
    assert [res.name for res in load_state(state_path, "dev", "harness-demo").resources] == ["gate"]

    again = run_program(program, state_path=state_path, config=config, extra_pythonpath=[str(TESTS_DIR)], timeout_s=20)
    assert again.resource("gate").op == "same" and creates(log_dir) == 1

    preview = run_program(program, operation="preview", state_path=state_path,
                          config={**config, "harness-demo:size": "7"}, extra_pythonpath=[str(TESTS_DIR)])
    assert preview.resource("gate").op == "update"
    assert "Update" not in preview.engine.methods and "Create" not in preview.engine.methods
    zoned = run_program(program, operation="preview", state_path=state_path,
                        config={**config, "harness-demo:zone": "z2"}, extra_pythonpath=[str(TESTS_DIR)])
    assert zoned.resource("gate").op == "replace"
    # ResourceOptions(ignore_changes=...) reaches the harness (RegisterResourceRequest), which
    # does not model it: it refuses rather than plan what the engine would not.
    with pytest.raises(HarnessError, match=r"gate sets ignore_changes=\['zone'\].*real CLI"):
        run_program(program, operation="preview", state_path=state_path,
                    config={**config, "harness-demo:zone": "z2", "harness-demo:ignoreZone": "true"},
                    extra_pythonpath=[str(TESTS_DIR)])

    gone = run_program(program, operation="destroy", state_path=state_path, config=config,
                       extra_pythonpath=[str(TESTS_DIR)])
    assert gone.engine.ops == {"gate": "delete"}
    assert load_state(state_path, "dev", "harness-demo").resources == []


def test_program_mode_hits_the_servers_four_threads(tmp_path, log_dir):
    """rule 11: the SDK's server serves 4 calls at a time (ThreadPoolExecutor(max_workers=4)
    in pulumi/dynamic/__main__.py); five independent creates registered at once run at most
    four at a time, as the creates measured themselves."""
    program = str(TESTS_DIR / "harness_support" / "program")
    config = {"harness-demo:logDir": str(log_dir), "harness-demo:parallelGates": "4",
              "harness-demo:sleepS": "0.8"}
    r = run_program(program, state_path=str(tmp_path / "p.json"), config=config,
                    extra_pythonpath=[str(TESTS_DIR)], timeout_s=30)
    assert sorted(r.engine.ops) == ["gate", "p0", "p1", "p2", "p3"]
    intervals = [line.split() for line in (log_dir / "intervals").read_text().splitlines()]
    edges = sorted([(float(start), 1) for _, start, _ in intervals] + [(float(end), -1) for _, _, end in intervals])
    running, most = 0, 0
    for _, step in edges:
        running += step
        most = max(most, running)
    assert most == 4


def test_program_mode_failing_run_then_successful_run_in_one_process(tmp_path, log_dir, caplog):
    # Two runs failing Check, then a good one, in one process: a failed run leaves no SDK
    # output task in the process-wide set (SETTINGS.outputs) for the next run's
    # wait_for_rpcs to wait on (that would fail the second run with "RuntimeError: Event
    # loop is closed"), and no future holding the Check failure for asyncio to report as
    # "Future exception was never retrieved" (nothing is logged).
    import gc
    import logging

    caplog.set_level(logging.ERROR, logger="asyncio")
    program = str(TESTS_DIR / "harness_support" / "program")
    config = {"harness-demo:logDir": str(log_dir)}
    for attempt in range(2):
        with pytest.raises(CheckFailedError) as err:
            run_program(program, state_path=str(tmp_path / "bad.json"),
                        config={**config, "harness-demo:size": "-5"},
                        extra_pythonpath=[str(TESTS_DIR)], timeout_s=20)
        assert err.value.result.order == ["gate"], attempt
    r = run_program(program, state_path=str(tmp_path / "good.json"), config=config,
                    extra_pythonpath=[str(TESTS_DIR)], timeout_s=20)
    assert r.order == ["gate", "compute-role"]
    assert r.engine.ops == {"gate": "create"} and creates(log_dir) == 1
    assert r.exports["gate_status"] == "created" and r.exports["secret_thing"] == "s3cr3t"
    assert r.resource("compute-role").inputs["tags"] == {"gateCreate": "1.0"}
    gc.collect()  # unretrieved futures are reported when collected
    reports = [rec.getMessage() for rec in caplog.records if rec.name == "asyncio"]
    assert reports == []


def test_harness_options_are_one_object_shared_with_keyword_overrides(tmp_path: Path) -> None:
    base = HarnessOptions(stack="qa", config={"aws:region": "eu-west-1"}, timeout_s=20)
    harness = EngineHarness(str(tmp_path), str(tmp_path / "state.json"), base, timeout_s=60, env={"A": "1"})
    assert (harness.options.stack, harness.options.timeout_s, harness.project) == ("qa", 60, "project")
    assert harness.urn(TYPE, "r") == f"urn:pulumi:qa::project::{TYPE}::r"
    harness.config["aws:region"] = "us-west-2"  # the harness's own copy
    assert base.config == {"aws:region": "eu-west-1"} and base.timeout_s == 20 and base.env == {}
    assert harness.options.config == {"aws:region": "us-west-2"} and harness.env == {"A": "1"}
    with pytest.raises(TypeError, match="unknown harness option.* timeout; the options are: stack, project"):
        EngineHarness(str(tmp_path), str(tmp_path / "state.json"), timeout=5)
    with pytest.raises(TypeError, match="unknown harness option.* stak"):
        run_program(str(PROJECT_DIR), state_path=str(tmp_path / "state.json"), stak="dev")


def test_a_refresh_answer_over_4_mb_reaches_the_harness_as_it_reaches_the_engine(harness, log_dir):
    """The engine dials providers with 400 MB messages (rpcutil.GrpcChannelOptions); so does
    the harness. A Read answer of 5.5 MB (as a refresh of 100,000 re-archived read sets
    gives) is stored whole, where gRPC's 4 MB default would fail the refresh in the harness
    only."""
    harness.up([spec(log_dir)])
    blob = "x" * 5_500_000
    (log_dir / "drift-r-1.json").write_text(json.dumps({"blob": blob}))
    harness.refresh()
    assert harness.state().get("urn:pulumi:dev::proj::pulumi-python:dynamic/harness:Recorder::a").outputs["blob"] == blob
