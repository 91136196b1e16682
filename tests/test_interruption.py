"""Interrupted `pulumi up` (design.md section 2, rule 9), through the engine-role harness.

The provider process is SIGKILLed during Create (and Update) at points spread over its
life, chosen with seeded randomness and recognised from the emulator's state: before the
first job starts, between job starts, while waiting for the last jobs, and right after the
last job finished. The next ``up`` runs directly (the harness takes no stack lock: the
lock a killed CLI leaves and ``pulumi cancel`` are the real CLI's, tested with a kill
mid-create in tests/test_real_cli.py; this sweep tests the provider's convergence). It
must finish with every read set ACTIVE, store complete outputs, and start no duplicate
job: each read set is a source of at most one activation job over the interrupted run and
its rerun. The engine keeps an interrupted create's pending operation in every later
checkpoint (it needs ``pulumi refresh --clear-pending-creates``); an interrupted update's
is dropped.

The emulator and the provider run on the same time scale (``omics-dynamic:timeScale``),
so a 60-second activation lasts a fraction of a real second. Results are the engine-role
harness's, not the Pulumi engine's.
"""

from __future__ import annotations

import math
import random
import signal
import sys
from collections import Counter
from pathlib import Path

import pytest

from omics_dynamic.provider import OUTPUT_KEYS, ReadSetActivationProvider
from omics_dynamic_testing import (
    Cancelled,
    CtrlC,
    EngineHarness,
    Interrupted,
    ResourceSpec,
    Terminated,
)
from omics_emulator import Emulator

PROJECT_DIR = Path(__file__).resolve().parent.parent
TYPE = "pulumi-python:dynamic/omics:ReadSetActivation"
TIME_SCALE = 200.0
N_READ_SETS = 100  # 5 jobs of 20
MAX_CONCURRENT_JOBS = 2  # the resource input: spreads job starts over three waves
CLEAN_JOBS = math.ceil(N_READ_SETS / 20)
CREATE_RUNS = 16
UPDATE_RUNS = 8

#: Kill points over a create's life; each is a predicate on the emulator's state.
PHASES = ("before-first-job", "between-job-starts", "waiting", "after-last-job")

#: Figures for the report (printed at the end of the module with -s, kept in a file).
FIGURES: Counter = Counter()


def _snapshot(emu: Emulator) -> dict:
    jobs = emu.jobs()
    return {
        "starts": emu.calls["StartReadSetActivationJob"],
        "jobs": len(jobs),
        "running": sum(j["status"] in ("SUBMITTED", "IN_PROGRESS") for j in jobs),
        "done": sum(j["status"] == "COMPLETED" for j in jobs),
    }


def _observed_phase(snap: dict, total_jobs: int) -> str:
    if snap["jobs"] == 0:
        return "before-first-job"
    if snap["jobs"] < total_jobs:
        return "between-job-starts"
    if snap["running"]:
        return "waiting"
    return "after-last-job"


def _kill_predicate(emu: Emulator, phase: str, rng: random.Random, total_jobs: int, seen: dict):
    """A predicate for ``EngineHarness.up(interrupt=...)`` that fires in ``phase``."""
    base_starts = emu.calls["StartReadSetActivationJob"]
    base_jobs = len(emu.jobs())
    if phase == "before-first-job":
        # Kill once the provider has begun reading statuses (or at once), before any start.
        wait_reads = rng.choice([0, 1])

        def fire() -> bool:
            return emu.calls["ListReadSets"] + emu.calls["GetReadSetMetadata"] >= wait_reads
    elif phase == "between-job-starts":
        k = rng.randint(1, total_jobs - 1)

        def fire() -> bool:
            return emu.calls["StartReadSetActivationJob"] - base_starts >= k
    elif phase == "waiting":
        def fire() -> bool:
            snap = _snapshot(emu)
            return snap["jobs"] - base_jobs >= total_jobs and snap["running"] >= 1
    else:
        def fire() -> bool:
            jobs = emu.jobs()[base_jobs:]
            return len(jobs) >= total_jobs and all(j["status"] == "COMPLETED" for j in jobs)

    def predicate() -> bool:
        if fire():
            seen.update(_snapshot(emu))
            seen["jobs"] -= base_jobs
            return True
        return False

    return predicate


@pytest.fixture
def emu(aws_test_env):
    with Emulator(time_scale=TIME_SCALE, activation_seconds=60, queue_seconds=5, rate_limit=0,
                  max_concurrent_jobs=20, random_seed=7) as emulator:
        yield emulator


def _harness(emu: Emulator, tmp_path: Path, tag: str) -> EngineHarness:
    return EngineHarness(
        str(PROJECT_DIR),
        str(tmp_path / f"state-{tag}.json"),
        project="omics",
        config={
            "aws:region": "us-east-1",
            "omics-dynamic:endpoint": emu.endpoint_url,
            "omics-dynamic:timeScale": str(TIME_SCALE),
            "omics-dynamic:rateLimit": "0",
        },
        env={"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"},
        timeout_s=120,
    )


def _spec(name: str, store: str, ids: list[str]) -> ResourceSpec:
    return ResourceSpec(name, TYPE, ReadSetActivationProvider(), {
        "resource_name": name,
        "sequence_store_id": store,
        "read_set_ids": ids,
        "max_concurrent_jobs": MAX_CONCURRENT_JOBS,
        "timeout_seconds": 3600,
        "check_live_status": True,
    })


def _jobs_per_read_set(emu: Emulator, store: str, since: int = 0) -> Counter:
    return Counter(s["readSetId"] for j in emu.jobs()[since:] if j["sequenceStoreId"] == store
                   for s in j["sources"])


def _assert_consistent(harness: EngineHarness, emu: Emulator, name: str, store: str, ids: list[str],
                       stale_creates: int = 0) -> dict:
    state = harness.state()
    assert [(p.type, p.name) for p in state.pending_operations] == [("creating", name)] * stale_creates
    [res] = state.resources
    assert res.name == name
    assert set(OUTPUT_KEYS) <= set(res.outputs)
    assert res.outputs["read_set_ids"] == sorted(ids)
    assert res.outputs["not_active_read_set_statuses"] == {}
    assert set(emu.read_set_statuses(store).values()) == {"ACTIVE"}
    return res.outputs


def _run_case(emu, harness, spec, store, ids, phase, rng, since_jobs, expected_op):
    seen: dict = {}
    interrupted = False
    try:
        harness.up([spec], interrupt=_kill_predicate(emu, phase, rng, CLEAN_JOBS, seen))
    except Interrupted as err:
        interrupted = True
        assert err.operation == expected_op
        [pending] = harness.state().pending_operations
        assert pending.type == expected_op
    observed = _observed_phase(seen, CLEAN_JOBS) if interrupted else "not-interrupted"
    resumed = harness.up([spec])
    if interrupted:
        assert [p.type for p in resumed.interrupted] == [expected_op]
    stale = 1 if interrupted and expected_op == "creating" else 0
    outs = _assert_consistent(harness, emu, spec.name, store, ids, stale_creates=stale)
    per_read_set = _jobs_per_read_set(emu, store, since_jobs)
    duplicates = sorted(rid for rid, n in per_read_set.items() if n > 1)
    FIGURES["runs"] += 1
    FIGURES[f"{expected_op}:{observed}"] += 1
    FIGURES["interrupted"] += interrupted
    FIGURES["duplicates"] += len(duplicates)
    assert duplicates == [], f"{phase} (observed {observed}, {seen}): read sets in two jobs: {duplicates}"
    assert sum(per_read_set.values()) == len(ids)
    assert len(emu.jobs()) - since_jobs == CLEAN_JOBS
    return observed, outs


@pytest.mark.slow
def test_interrupted_create_resumes_without_duplicates(emu, tmp_path):
    rng = random.Random(20240606)
    observed = Counter()
    for run in range(CREATE_RUNS):
        phase = PHASES[run % len(PHASES)]
        store = emu.create_store(name=f"create-{run}", read_sets=["ARCHIVED"] * N_READ_SETS)
        ids = sorted(emu.read_set_statuses(store))
        harness = _harness(emu, tmp_path, f"c{run}")
        since = len(emu.jobs())
        seen, outs = _run_case(emu, harness, _spec(f"cohort{run}", store, ids), store, ids,
                               phase, rng, since, "creating")
        observed[seen] += 1
        # job_ids lists the jobs the finishing run started or adopted (still in flight);
        # jobs that had already completed before the kill are not repeated there.
        assert set(outs["job_ids"]) <= {j["id"] for j in emu.jobs()[since:]}
    print(f"\ninterrupted creates: {dict(observed)}", file=sys.stderr)
    assert sum(n for k, n in observed.items() if k != "not-interrupted") >= CREATE_RUNS - 2
    # The kill points really are spread over the create's life.
    assert {"before-first-job", "between-job-starts", "waiting"} <= set(observed)


@pytest.mark.slow
def test_interrupted_update_after_rearchive_resumes_without_duplicates(emu, tmp_path):
    rng = random.Random(6)
    store = emu.create_store(name="update", read_sets=["ARCHIVED"] * N_READ_SETS)
    ids = sorted(emu.read_set_statuses(store))
    harness = _harness(emu, tmp_path, "update")
    spec = _spec("cohort", store, ids)
    harness.up([spec])
    _assert_consistent(harness, emu, "cohort", store, ids)
    observed = Counter()
    for run in range(UPDATE_RUNS):
        phase = PHASES[run % len(PHASES)]
        emu.archive(store, ids)
        since = len(emu.jobs())
        seen, outs = _run_case(emu, harness, spec, store, ids, phase, rng, since, "updating")
        observed[seen] += 1
    print(f"\ninterrupted updates: {dict(observed)}", file=sys.stderr)
    assert sum(n for k, n in observed.items() if k != "not-interrupted") >= UPDATE_RUNS - 2


# -- Ctrl-C (rule 9): what reaches the provider process, and how fast create stops -----------

@pytest.fixture
def frozen_emu(aws_test_env):
    """An emulator whose clock moves only on advance(): jobs stay IN_PROGRESS until the
    test lets time pass, so a create is mid-wait whenever the test presses Ctrl-C."""
    with Emulator(manual_clock=True, activation_seconds=60, queue_seconds=5, rate_limit=0) as emulator:
        yield emulator


def _cancel_case(emu: Emulator, tmp_path: Path):
    store = emu.create_store(name="ctrl-c", read_sets=["ARCHIVED"] * 40)
    ids = sorted(emu.read_set_statuses(store))
    harness = _harness(emu, tmp_path, "ctrl-c")
    return harness, _spec("cohort", store, ids), store, ids


def _two_jobs_started(emu: Emulator):
    return lambda: len(emu.jobs()) >= 2


def _in_store(job, store: str) -> bool:
    return job["sequenceStoreId"] == store


def _jobs_started(emu: Emulator, store: str, n: int):
    return lambda: len([j for j in emu.jobs() if _in_store(j, store)]) >= n


def test_one_ctrl_c_stops_the_create_within_seconds_naming_the_jobs(frozen_emu, tmp_path):
    """The engine's Cancel RPC (first Ctrl-C) sets the run's cancel event through
    omics_dynamic.cancellation: create returns at once instead of waiting for the jobs (up
    to timeout_seconds), fails naming them, and the next up adopts them."""
    emu = frozen_emu
    harness, spec, store, ids = _cancel_case(emu, tmp_path)
    with pytest.raises(Cancelled) as info:
        harness.up([spec], ctrl_c=CtrlC(when=_two_jobs_started(emu)))
    err = info.value
    jobs = sorted(j["id"] for j in emu.jobs())
    FIGURES["cancel_rpc_returned_ms"] = round(err.returned_s * 1000)
    assert err.cancel_code == "OK" and err.returned_s < 5.0
    details = err.provider_error.details
    assert details.splitlines()[-1] == (
        f"omics_dynamic.errors.ActivationCancelledError: cohort: cancelled before every read set was ACTIVE; "
        f"2 activation job(s) still running: {jobs[0]}, {jobs[1]}. They keep running in HealthOmics; the next "
        "`pulumi up` resumes them: it waits for them and starts jobs only for read sets still ARCHIVED.")
    assert "During handling" not in details and "activation.py" not in details
    # A failed create completes its pending operation.
    assert harness.state().pending_operations == [] and harness.state().resources == []
    emu.advance(120)
    resumed = harness.up([spec])
    assert resumed.ops == {"cohort": "create"} and sorted(j["id"] for j in emu.jobs()) == jobs
    assert set(emu.read_set_statuses(store).values()) == {"ACTIVE"}


@pytest.fixture(params=["sigint-default", "sigint-ignored"])
def parent_sigint(request):
    """Run the test with SIGINT at its default, and with SIGINT ignored in the process that
    runs the harness (``nohup``, ``cmd &`` from a script, some CI runners): the provider
    must get SIGINT either way, as under the CLI (Go resets handled signals to the default
    in the processes it starts)."""
    previous = signal.getsignal(signal.SIGINT)
    if request.param == "sigint-ignored":
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    yield request.param
    signal.signal(signal.SIGINT, previous)


def test_second_ctrl_c_sigint_ends_the_provider_process_before_the_engines_sigkill(frozen_emu, tmp_path,
                                                                                   parent_sigint):
    """When the Cancel RPC cannot reach the provider (all 4 server threads busy), the second
    Ctrl-C's SIGINT to the plugin's process group (Plugin.Kill) still does: the interpreter's
    shutdown sets the cancel event before it joins the thread running create, and the
    process exits well before the engine's SIGKILL 5 s later. The pending create stays.

    Unexplained on this project's CI machine (Linux 6.18 VM, CPython 3.11): in about one run
    in ten to twenty, under load, no thread of the provider runs a handler for that SIGINT
    at all (the faulthandler watch of omics_dynamic.cancellation sees nothing, nothing is
    pending or blocked in /proc/<pid>/task/*/status) and the harness SIGKILLs it at 5 s,
    which leaves the same state (a pending create) 5 s later. So the scenario gets a
    second try: a provider that ignores SIGINT (as the SDK's server alone does, test below)
    fails both; the SIGKILLed tries are counted in FIGURES."""
    emu = frozen_emu
    sigkilled_tries = 0
    for attempt in range(2):
        (tmp_path / f"try{attempt}").mkdir()
        harness, spec, store, ids = _cancel_case(emu, tmp_path / f"try{attempt}")
        with pytest.raises(Terminated) as info:
            harness.up([spec], ctrl_c=CtrlC(when=_jobs_started(emu, store, 2), cancel_rpc=False,
                                            second_after_s=0.3))
        err = info.value
        if not err.sigkilled:
            break
        sigkilled_tries += 1
    FIGURES["sigint_exit_ms"] = round(err.exit_s * 1000)
    FIGURES["sigint_sigkilled_tries"] = sigkilled_tries
    assert not err.sigkilled and err.exit_s < 3.0, (err.exit_s, err.result.stderr_lines[-15:])
    assert any(line.startswith("cohort: cancelled; 2 activation job(s) keep running") for line in
               err.result.stderr_lines)
    assert [p.type for p in harness.state().pending_operations] == ["creating"]
    emu.advance(120)
    resumed = harness.up([spec])
    assert resumed.step("cohort").resumed == "creating" and len([j for j in emu.jobs() if _in_store(j, store)]) == 2


def test_the_sdk_server_alone_ignores_cancel_and_outlives_sigint(tmp_path):
    """Baseline, without omics_dynamic.cancellation: the SDK's dynamic server answers the
    Cancel RPC and goes on with the create; after SIGINT it lives until the create returns."""
    tests_dir = Path(__file__).resolve().parent
    log_dir = tmp_path / "log"
    log_dir.mkdir()
    sys.path.insert(0, str(tests_dir))
    try:
        from harness_support.recorder import RecorderProvider
    finally:
        sys.path.remove(str(tests_dir))
    harness = EngineHarness(str(PROJECT_DIR), str(tmp_path / "s.json"), extra_pythonpath=[str(tests_dir)],
                            timeout_s=30)

    def spec(name):
        return ResourceSpec(name, "pulumi-python:dynamic/harness:Recorder", RecorderProvider(str(log_dir)),
                            {"label": name, "sleep_s": 1.5})

    with pytest.raises(Cancelled) as info:
        harness.up([spec("a")], ctrl_c=CtrlC(after_s=0.2))
    assert info.value.cancel_code == "OK" and info.value.provider_error is None
    assert info.value.returned_s > 1.0  # the create went on sleeping
    assert [r.name for r in harness.state().resources] == ["a"]  # and its result was recorded
    with pytest.raises(Terminated) as term:
        harness.up([spec("a"), spec("b")], ctrl_c=CtrlC(after_s=0.2, cancel_rpc=False, second_after_s=0.1))
    assert not term.value.sigkilled and term.value.exit_s > 1.0  # exited only when create returned


def test_zz_report_figures():
    print(f"\nCtrl-C figures: {dict(FIGURES)}", file=sys.stderr)
