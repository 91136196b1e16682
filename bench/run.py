"""`make bench`: ReadSetActivation against the naive client on the time-scaled emulator.

Real-world model (design.md section 5): activation D = 60 s (+-10 % jitter per
read set), queue delay 5 s, Q = 20 concurrent jobs, R = 5 requests/s per operation family.
The emulator runs all of that k times faster (``Emulator(time_scale=k)``: its rate limits
are per emulated second, so they scale too) and the provider runs on the same scale
through its documented setting ``omics-dynamic:timeScale`` (plus
``omics-dynamic:rateLimit`` = 5 per scaled second). Every time below is real-world
seconds = real seconds * k.

Each client runs in its own child process (bench/_child.py): the provider through
``ReadSetActivationProvider.configure/check/create`` (the real code path), the naive client
(start one job of 20, botocore's ``ReadSetActivationJobCompleted`` waiter with Delay = 30/k,
next job) for N <= 1,000. The emulator serves from this process. The child's
``getrusage`` gives the provider process's peak memory; its CPU time and the emulator's
are printed so one can see whether CPU, not the schedule, limited a run.

Floor (design.md section 5): max(ceil(C/Q) * D_eff, C/R) with C = ceil(N/20) and
D_eff = queue 5 s + activation 60 s = 65 s. A job of n sources ends with its slowest
source, so with +-10 % jitter a full job lasts 5 + 60 * (1 + 0.1 * (n-1)/(n+1)) = 70.4 s
on average; ``floor_jitter_s`` uses that (the floor no client can beat on this emulator).
Ratios are to ``floor_s`` (the stricter one).

Detection lag: from the moment the last read set became ACTIVE (the latest job
completionTime on the emulator's clock) to create returning.

N = 100,000 runs through create like the others (the naive client is not run there: at
about 92 s a job it would take 5,000 x 92 s, over five days; its time is given by that
formula, from the naive run of the largest N it did run). The provider child also reports
the size of the state the create leaves (inputs and outputs as JSON), per read set.

Then, through the SDK's real provider server (EngineHarness.preview = Check + Diff, and
raw Check/Diff RPCs with requests encoded beforehand, as the Go engine would send them),
check and diff latency for 1,000 and 100,000 read sets, with and without the live
status check, and the live check's API calls; the quota scenario (emulator quota 5,
max_concurrent_jobs 20); the status lookups' cost at full size (``bench/cost.py``: the
README's targets and a cohort spread over a larger store); and the picture of the N = 1,000 run
(``bench/timeline.py``: read sets ACTIVE and jobs in flight over time, ours against the
naive client, sampled from the emulator during the runs) in ``docs/bench-timeline.png``.
Last, the same N = 100,000 cohort end to end through the real Pulumi CLI
(``bench/real_engine.py``: `pulumi preview` and an unchanged `pulumi up`, wall time, peak
memory, checkpoint size), so the engine's share sits beside the provider server's.
Writes bench/results.json and bench/results.txt (what it prints).

``python bench/run.py [--quick] [--k-ours 20] [--k-naive 100] [--out bench/results.json]``
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from omics_emulator import Emulator  # noqa: E402 - after the sys.path entry above

ACTIVATION_S = 60.0
QUEUE_S = 5.0
JITTER = 0.1
Q = 20
R_PER_S = 5.0
CHILD_TIMEOUT_S = 2400.0  # bound on one scenario, real seconds
TIMELINE_N = 1000  # the run the picture shows (the largest the naive client runs)
PNG = os.path.join(ROOT, "docs", "bench-timeline.png")


def floor_s(n: int, q: int = Q) -> dict:
    c = math.ceil(n / 20)
    waves = math.ceil(c / q)
    sizes = [min(20, n - 20 * i) for i in range(c)]
    mean_job_s = sum(QUEUE_S + ACTIVATION_S * (1 + JITTER * (m - 1) / (m + 1)) for m in sizes) / c
    return {"jobs": c, "floor_s": max(waves * (QUEUE_S + ACTIVATION_S), c / R_PER_S),
            "floor_jitter_s": max(waves * mean_job_s, c / R_PER_S), "d_eff_s": QUEUE_S + ACTIVATION_S}


def _cpu_self_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class _Sampler(threading.Thread):
    """Samples (emulated now, read sets ACTIVE) from the emulator every ``every_real_s``."""

    def __init__(self, emu: Emulator, store: str, every_real_s: float):
        super().__init__(daemon=True)
        self.emu, self.store, self.every_real_s = emu, store, every_real_s
        self.samples: list = []
        self.stop = threading.Event()

    def run(self) -> None:
        while True:
            statuses = self.emu.read_set_statuses(self.store)
            self.samples.append((self.emu.now(), sum(1 for s in statuses.values() if s == "ACTIVE")))
            if self.stop.wait(self.every_real_s):
                return


def run_client(mode: str, n: int, k: float, *, quota: Optional[int] = None, max_concurrent_jobs: int = Q,
               sample_active: bool = False) -> dict:
    """One scenario: a fresh emulator, N archived read sets, one client in a child process.
    With ``sample_active``, the read sets ACTIVE are sampled during the run (every 0.1 real
    s) for the picture (``series``). Times in the result are real-world seconds (real * k)
    unless named ``_real_s``.

    :raises RuntimeError: the child process failed (its stderr's tail in the message).
    """
    emu = Emulator(activation_seconds=ACTIVATION_S, queue_seconds=QUEUE_S, max_concurrent_jobs=quota or Q,
                   rate_limit=R_PER_S, time_scale=k, jitter=JITTER, random_seed=n).start()
    sampler: Optional[_Sampler] = None
    try:
        store = emu.create_store(generate={"ARCHIVED": n})
        ids = sorted(emu.read_set_statuses(store))
        spec = {"endpoint": emu.endpoint_url, "store": store, "ids": ids, "time_scale": k,
                "rate_limit": R_PER_S, "max_concurrent_jobs": max_concurrent_jobs}
        emu.reset_counters()
        if sample_active:
            sampler = _Sampler(emu, store, 0.1)
            sampler.start()
        proc, real_s, emu_cpu_s = _run_child(mode, spec, sampler)
        if proc.returncode != 0:
            raise RuntimeError(f"{mode} N={n} failed:\n{proc.stderr[-3000:]}")
        child = json.loads(proc.stdout.strip().splitlines()[-1])
        # Map the child's return moment onto the emulator's clock (CLOCK_MONOTONIC is system-wide).
        returned_emu_s = emu.now() - (time.monotonic() - child["ended_mono_s"]) * k
        jobs = emu.jobs()
        last_active_s = max(j["completionTime"] for j in jobs)
        statuses = emu.read_set_statuses(store)
        outcomes = _outcome_counts(emu.outcomes)
        wall_real_s = child["ended_mono_s"] - child["started_mono_s"]
        started_emu_s = emu.now() - (time.monotonic() - child["started_mono_s"]) * k
        lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        series = None
        if sampler is not None:
            series = _series(sampler.samples, jobs, started_emu_s, returned_emu_s, round(wall_real_s * k, 2))
        return {
            "client": mode, "n": n, "k": k, "quota": quota or Q, "max_concurrent_jobs": max_concurrent_jobs,
            "wall_s": round(wall_real_s * k, 2), "wall_real_s": round(wall_real_s, 3),
            "detection_lag_s": round((returned_emu_s - last_active_s), 3),
            "calls": dict(sorted(emu.calls.items())), "calls_total": sum(emu.calls.values()),
            **outcomes,
            "jobs": len(jobs), "all_active": child["all_active"] and set(statuses.values()) == {"ACTIVE"},
            "peak_rss_mb": round(child["maxrss_kb"] / 1024, 1),
            "client_cpu_s": round(child["cpu_s"], 2), "emulator_cpu_s": round(emu_cpu_s, 2),
            "client_cpu_util": round(child["cpu_s"] / max(real_s, 1e-9), 2),
            "emulator_cpu_util": round(emu_cpu_s / max(real_s, 1e-9), 2),
            "timeline": _time_split(jobs, started_emu_s, quota or Q), "stderr_tail": lines[-2:],
            "stderr_head": lines[:3], "client_warmup_real_s": child.get("warmup_real_s"),
            "state": child.get("state"), "series": series,
        }
    finally:
        if sampler is not None:
            sampler.stop.set()
        emu.stop()


def _run_child(mode: str, spec: dict, sampler: Optional[_Sampler]) -> tuple[subprocess.CompletedProcess, float, float]:
    """Run bench/_child.py for client ``mode`` on ``spec`` (passed as a JSON file); stop
    ``sampler`` when it returns.

    :returns: ``(the finished process, real seconds it ran, CPU seconds of this process
        meanwhile: the emulator's)``.
    :raises subprocess.TimeoutExpired: it ran over CHILD_TIMEOUT_S.
    """
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(spec, fh)
    cpu0, real0 = _cpu_self_s(), time.monotonic()
    proc = subprocess.run([sys.executable, os.path.join(HERE, "_child.py"), mode, fh.name],
                          capture_output=True, text=True, timeout=CHILD_TIMEOUT_S, cwd=ROOT)
    real_s = time.monotonic() - real0
    if sampler is not None:
        sampler.stop.set()
        sampler.join()
    emu_cpu_s = _cpu_self_s() - cpu0
    os.unlink(fh.name)
    return proc, real_s, emu_cpu_s


def _outcome_counts(outcomes: Counter) -> dict:
    """The emulator's ``{(operation, outcome): n}`` as ``throttled``, ``quota_exceeded``,
    ``failed`` (any other error) and ``outcomes`` (``{"Operation Outcome": n}``, sorted)."""
    named = Counter({f"{op} {outcome}": c for (op, outcome), c in outcomes.items()})
    return {
        "throttled": sum(c for (op, o), c in outcomes.items() if o == "ThrottlingException"),
        "quota_exceeded": sum(c for (op, o), c in outcomes.items() if o == "ServiceQuotaExceededException"),
        "failed": sum(c for (op, o), c in outcomes.items()
                      if o not in ("OK", "ThrottlingException", "ServiceQuotaExceededException")),
        "outcomes": dict(sorted(named.items())),
    }


def _time_split(jobs: list, started_emu_s: float, slots: int) -> dict:
    """Where the time went (real-world seconds): before the first start, first-wave start
    stagger, the mean gap between the i-th job completion and the (slots+i)-th start (slot
    refill), and the mean job duration. ``jobs``: ``Emulator.jobs()`` dicts."""
    creations = sorted(j["creationTime"] for j in jobs)
    completions = sorted(j["completionTime"] for j in jobs)
    gaps = [c - d for c, d in zip(creations[slots:], completions)]
    return {"first_start_s": round(creations[0] - started_emu_s, 2),
            "wave1_stagger_s": round(creations[min(slots, len(creations)) - 1] - creations[0], 2),
            "mean_refill_gap_s": round(sum(gaps) / len(gaps), 2) if gaps else None,
            "mean_job_s": round(sum(j["completionTime"] - j["creationTime"] for j in jobs) / len(jobs), 2)}


def _series(samples: list, jobs: list, started_emu_s: float, returned_emu_s: float, wall_s: float) -> dict:
    """The picture's data, in real-world seconds from the client's start: ``samples``
    ``[(t, read sets ACTIVE)]`` during the run (+-1 s), ``jobs`` ``[(created, completed or
    None)]``, and ``wall_s``."""
    return {"samples": [(round(t - started_emu_s, 2), a) for t, a in samples
                        if started_emu_s - 1 <= t <= returned_emu_s + 1],
            "jobs": [(round(j["creationTime"] - started_emu_s, 2),
                      round(j["completionTime"] - started_emu_s, 2) if j["completionTime"] else None)
                     for j in jobs],
            "wall_s": wall_s}


# -- check and diff through the real provider server ---------------------------------------
def real_outputs(props: dict, activated: list, already: list, count: int = 1) -> dict:
    """The outputs this checkout's create returns for an all-ACTIVE result (not hand-written:
    what the state holds changes with the provider): ``omics_dynamic.outputs.stored_outputs``
    where it exists, else ``provider._outputs``."""
    from omics_dynamic.activation import ActivationResult
    from omics_dynamic.planning import ActivationInputs

    ids = sorted(set(activated) | set(already))
    jobs = [str(2_000_000_000 + i) for i in range((len(activated) + 19) // 20)]
    result = ActivationResult(
        job_ids=jobs, started_job_ids=jobs, adopted_job_ids=[], found_job_ids=[],
        activated_by_jobs_read_set_ids=sorted(activated), activated_without_job_read_set_ids=[],
        already_active_read_set_ids=sorted(already), read_set_statuses={r: "ACTIVE" for r in ids},
        activated_at="2024-01-01T00:00:00Z", activated_base_count=90_000_000_000 * len(activated),
        store_arn=f"arn:aws:omics:us-east-1:123456789012:sequenceStore/{props['sequence_store_id']}")
    inputs = ActivationInputs.from_props(props)
    try:
        from omics_dynamic.outputs import stored_outputs
    except ImportError:  # a checkout from before omics_dynamic/outputs.py
        from omics_dynamic.provider import _outputs

        return _outputs(inputs, result, activation_count=count)
    return stored_outputs(inputs, result, activation_count=count)



def preview_latency(n: int, live: bool, k: float) -> dict:
    """Check + Diff of an all-ACTIVE resource of N read sets, through EngineHarness.preview."""
    from pulumi.dynamic.dynamic import serialize_provider

    from omics_dynamic.planning import validate_inputs
    from omics_dynamic.provider import ReadSetActivationProvider
    from omics_dynamic_testing import EngineHarness, ResourceSpec
    from omics_dynamic_testing._state import ResourceState, State, save_state

    type_ = "pulumi-python:dynamic/omics:ReadSetActivation"
    emu = Emulator(rate_limit=R_PER_S, time_scale=k, activation_seconds=ACTIVATION_S, queue_seconds=QUEUE_S).start()
    try:
        store = emu.create_store(generate={"ACTIVE": n})
        ids = sorted(emu.read_set_statuses(store))
        with tempfile.TemporaryDirectory() as tmp:
            harness = EngineHarness(tmp, os.path.join(tmp, "state.json"), config={
                "aws:region": "us-east-1", "omics-dynamic:endpoint": emu.endpoint_url,
                "omics-dynamic:timeScale": str(k), "omics-dynamic:rateLimit": str(R_PER_S)},
                env={"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"},
                extra_pythonpath=[ROOT], timeout_s=600)
            provider = serialize_provider(ReadSetActivationProvider())
            user = {"sequence_store_id": store, "read_set_ids": ids, "resource_name": "cohort",
                    "check_live_status": live}
            normalised, failures = validate_inputs(user)
            assert not failures
            inputs = {**normalised, "__provider": provider}
            outputs = {**real_outputs(normalised, [], ids, 0), "__provider": provider}
            state = State(stack=harness.stack, project=harness.project)
            state.put(ResourceState(urn=harness.urn(type_, "cohort"), type=type_, name="cohort", id="rsa-bench",
                                    inputs=inputs, outputs=outputs, secret_inputs={"__provider"},
                                    secret_outputs={"__provider"}))
            save_state(harness.state_path, state)
            emu.reset_counters()
            t0 = time.monotonic()
            result = harness.preview([ResourceSpec("cohort", type_=type_, provider=provider, inputs=user)])
            total_s = time.monotonic() - t0
            calls = {c.method: c.t_s for c in result.calls}
            check_s = calls["Diff"] - calls["Check"]
            diff_s = total_s - calls["Diff"]
            return {"n": n, "live": live, "k": k, "op": result.step("cohort").op, "check_s": round(check_s, 3),
                    "diff_s": round(diff_s, 3),
                    "api_calls": dict(emu.calls), "api_calls_total": sum(emu.calls.values())}
    finally:
        emu.stop()


def server_rpc_latency(n: int, repeats: int = 3) -> dict:
    """Check and Diff of N read sets through the SDK's real provider server, seconds, with
    the requests encoded beforehand: the real engine is a Go program, so the Python cost of
    encoding requests (which EngineHarness.preview pays and preview_latency includes) is
    not part of what a user waits for. What remains is the server's own work: decoding the
    request Struct, our check/diff, encoding the answer, plus loopback gRPC. Best of
    ``repeats``; no live check (no AWS call)."""
    from pulumi.dynamic.dynamic import serialize_provider
    from pulumi.runtime.proto import provider_pb2

    from omics_dynamic.planning import validate_inputs
    from omics_dynamic.provider import ReadSetActivationProvider
    from omics_dynamic_testing._wire import to_struct

    ids = [str(1_000_000_000 + 7 * i) for i in range(n)]
    provider = serialize_provider(ReadSetActivationProvider())
    user = {"sequence_store_id": "1234567890", "read_set_ids": ids, "resource_name": "cohort",
            "check_live_status": False, "__provider": provider}
    normalised, _ = validate_inputs(user)
    # The state after an update that re-activated 25 of them (what a later diff compares with).
    outputs = {**real_outputs(normalised, ids[:25], ids[25:], 2), "__provider": provider}
    urn = "urn:pulumi:dev::bench::pulumi-python:dynamic/omics:ReadSetActivation::cohort"
    check_req = provider_pb2.CheckRequest(urn=urn, olds=to_struct(normalised, send_secrets=False),
                                          news=to_struct(user, send_secrets=False))
    diff_req = provider_pb2.DiffRequest(id="rsa", urn=urn, olds=to_struct(outputs, send_secrets=False),
                                        news=to_struct({**normalised, "__provider": provider}, send_secrets=False))
    from state_rpc import time_check_and_diff

    check_s, diff_s = time_check_and_diff(check_req, diff_req, repeats)
    return {"n": n, "check_s": check_s, "diff_s": diff_s, "repeats": repeats}


def provider_methods_in_process(n: int) -> dict:
    """check and diff of the provider itself (no server, no wire), seconds: what remains of
    the preview latency once the SDK's protobuf Struct conversion is taken out."""
    from omics_dynamic.provider import ReadSetActivationProvider

    ids = [str(1_000_000_000 + 7 * i) for i in range(n)]
    prov = ReadSetActivationProvider()
    news = {"sequence_store_id": "1234567890", "read_set_ids": ids, "resource_name": "c", "check_live_status": False}
    t0 = time.perf_counter()
    checked = prov.check({}, news)
    t1 = time.perf_counter()
    outs = {**checked.inputs, "read_set_statuses": {rid: "ACTIVE" for rid in ids}}
    t2 = time.perf_counter()
    prov.diff("rsa", outs, checked.inputs)
    t3 = time.perf_counter()
    return {"n": n, "check_s": round(t1 - t0, 4), "diff_s": round(t3 - t2, 4)}


def _fmt_calls(calls: dict) -> str:
    short = {"StartReadSetActivationJob": "start", "GetReadSetActivationJob": "getJob",
             "ListReadSetActivationJobs": "listJobs", "ListReadSets": "listRS", "GetReadSetMetadata": "getRS"}
    return " ".join(f"{short.get(op, op)}={c}" for op, c in sorted(calls.items()))


class _Tee:
    """Print and keep the lines (for bench/results.txt)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, line: str = "") -> None:
        print(line, flush=True)
        self.lines.append(line)


def _parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--k-ours", type=float, default=20.0, help="time scale of the provider scenarios")
    ap.add_argument("--k-naive", type=float, default=100.0, help="time scale of the naive client")
    ap.add_argument("--sizes", default="1,20,100,1000,10000,100000")
    ap.add_argument("--naive-max", type=int, default=1000)
    ap.add_argument("--quick", action="store_true", help="N <= 1,000 only, no preview latencies, small cost cases")
    ap.add_argument("--out", default=os.path.join(HERE, "results.json"))
    ap.add_argument("--png", default=PNG)
    ap.add_argument("--report", metavar="RESULTS_JSON", help="only print (and write results.txt for) an earlier run")
    return ap.parse_args()


def _client_scenarios(sizes: list[int], args: argparse.Namespace) -> list[dict]:
    """Ours (and the naive client, up to ``--naive-max``) for each N: one row each, with
    the floor and the ratios to it; printed as they finish."""
    rows = []
    for n in sizes:
        sample = n == TIMELINE_N
        ours = run_client("provider", n, args.k_ours, sample_active=sample)
        naive = run_client("naive", n, args.k_naive, sample_active=sample) if n <= args.naive_max else None
        fl = floor_s(n)
        row = {"n": n, **fl, "ours": ours, "naive": naive,
               "ratio_to_floor": round(ours["wall_s"] / fl["floor_s"], 3),
               "ratio_to_floor_jitter": round(ours["wall_s"] / fl["floor_jitter_s"], 3),
               "naive_over_ours": round(naive["wall_s"] / ours["wall_s"], 2) if naive else None}
        rows.append(row)
        print(f"  N={n}: ours {ours['wall_s']:.1f} s ({row['ratio_to_floor']}x floor), lag {ours['detection_lag_s']} s, "
              f"calls {ours['calls_total']}" + (f"; naive {naive['wall_s']:.0f} s, calls {naive['calls_total']}" if naive else ""),
              flush=True)
    return rows


def _add_naive_formula(rows: list[dict]) -> None:
    """The naive client where it was not run: its time per job (measured at the largest N
    it ran) x jobs, as ``naive_formula_s`` and ``naive_formula`` (the sum in words)."""
    ran = [r for r in rows if r["naive"]]
    if not ran:
        return
    ref = max(ran, key=lambda r: r["n"])
    per_job_s = ref["naive"]["wall_s"] / ref["jobs"]
    for r in rows:
        if not r["naive"]:
            r["naive_formula_s"] = round(per_job_s * r["jobs"], 0)
            r["naive_formula"] = (f"{r['jobs']} jobs x {per_job_s:.1f} s (the naive client's time per job "
                                  f"at N={ref['n']})")


def _quota_scenario(args: argparse.Namespace) -> dict:
    """Ours against an emulator quota of 5 concurrent jobs (max_concurrent_jobs 20)."""
    quota_n = 400 if args.quick else 1000
    quota = run_client("provider", quota_n, args.k_ours, quota=5, max_concurrent_jobs=Q)
    fl5 = floor_s(quota_n, q=5)
    return {"n": quota_n, **fl5, "ours": quota, "ratio_to_floor": round(quota["wall_s"] / fl5["floor_s"], 3),
            "ratio_to_floor_jitter": round(quota["wall_s"] / fl5["floor_jitter_s"], 3)}


def _latencies(args: argparse.Namespace) -> dict:
    """Check and diff latency (through EngineHarness.preview, the provider server alone,
    the provider in process) and the real CLI end to end at N = 100,000."""
    preview = []
    for n, live in ((1000, False), (1000, True), (100_000, False), (100_000, True)):
        # With the live check at time scale 1: its paced calls take their real time.
        preview.append(preview_latency(n, live, 1.0 if live else args.k_ours))
        print(f"  preview N={n} live={live}: {preview[-1]}", flush=True)
    found = {"preview": preview,
             "provider_methods_in_process": [provider_methods_in_process(n) for n in (1000, 100_000)],
             "server_rpc": [server_rpc_latency(n) for n in (1000, 100_000)]}
    # The same cohort end to end through the real CLI (bench/real_engine.py), in this run.
    from real_engine import real_engine_cost

    with tempfile.TemporaryDirectory() as work:
        found["real_engine"] = real_engine_cost(100_000, Path(work))
    return found


def _plot_timeline(rows: list[dict], args: argparse.Namespace) -> Optional[str]:
    """The picture of the N = TIMELINE_N runs (ours and naive) in ``--png``; its path
    relative to the repository, or None when those runs were not both made."""
    row = next((r for r in rows if r["n"] == TIMELINE_N and r["naive"]), None)
    if row is None:
        return None
    from timeline import plot

    plot(args.png, TIMELINE_N, row["floor_s"], row["ours"]["series"], row["naive"]["series"],
         title_note=f"Q = {Q} concurrent jobs, {R_PER_S:g} requests/s per family, 60 s activations "
                    f"(+-10 %), 5 s queue; emulator time scaled x{args.k_ours:g} (ours) and "
                    f"x{args.k_naive:g} (naive)")
    return os.path.relpath(args.png, ROOT)


def main() -> None:
    args = _parse_args()
    if args.report:
        with open(args.report, encoding="utf-8") as fh:
            report(json.load(fh), args.report)
        return
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.quick:
        sizes = [n for n in sizes if n <= 1000]
    t_start = time.monotonic()
    results: dict[str, Any] = {"model": {"activation_s": ACTIVATION_S, "queue_s": QUEUE_S, "jitter": JITTER, "Q": Q,
                                         "R_per_s": R_PER_S, "k_ours": args.k_ours, "k_naive": args.k_naive,
                                         "cpus": os.cpu_count()},
                               "scenarios": [], "preview": [], "quota": None}
    rows = _client_scenarios(sizes, args)
    results["scenarios"] = rows
    _add_naive_formula(rows)
    results["quota"] = _quota_scenario(args)

    from cost import all_scenarios

    results["cost"] = all_scenarios(quick=args.quick)
    if not args.quick:
        results.update(_latencies(args))
    png = _plot_timeline(rows, args)
    if png is not None:
        results["png"] = png
    results["bench_real_s"] = round(time.monotonic() - t_start, 1)

    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(results, fh, indent=1, sort_keys=False)
        fh.write("\n")
    report(results, args.out)


def report(results: dict, out_path: str) -> None:
    """Print the tables of ``results`` and write them to results.txt beside ``out_path``."""
    out = _Tee()
    model = results["model"]
    rows = results["scenarios"]
    out()
    out(f"ReadSetActivation vs naive client (emulator, time scale k={model['k_ours']:g} ours / "
        f"{model['k_naive']:g} naive; real-world seconds; D_eff = 65 s, Q = {Q}, R = {R_PER_S:g}/s per family)")
    out(f"{'N':>6} {'jobs':>4} {'floor':>6} {'ours':>7} {'/floor':>6} {'/fl.jit':>7} {'naive':>8} {'naive/ours':>10} "
        f"{'calls':>6} {'naive':>6} {'thr':>4} {'fail':>4} {'lag':>6} {'RSS MB':>6} {'cpu%':>9}")
    for r in rows:
        o, nv = r["ours"], r["naive"]
        naive_s = nv["wall_s"] if nv else r.get("naive_formula_s", float("nan"))
        mark = "" if nv else "*"
        out(f"{r['n']:>6} {r['jobs']:>4} {r['floor_s']:>6.0f} {o['wall_s']:>7.1f} {r['ratio_to_floor']:>6.3f} "
            f"{r['ratio_to_floor_jitter']:>7.3f} {naive_s:>7.0f}{mark:1} {naive_s / o['wall_s']:>10.1f} "
            f"{o['calls_total']:>6} {(nv['calls_total'] if nv else 0):>6} {o['throttled']:>4} {o['failed']:>4} "
            f"{o['detection_lag_s']:>6.2f} {o['peak_rss_mb']:>6.1f} {int(o['client_cpu_util']*100):>4}/{int(o['emulator_cpu_util']*100):<4}")
    for r in rows:
        if r.get("naive_formula"):
            out(f"  * N={r['n']}: naive not run: {r['naive_formula']} = {r['naive_formula_s']:.0f} s "
                f"({r['naive_formula_s'] / 86400:.1f} days)")
    for r in rows:
        out(f"  N={r['n']}: ours {_fmt_calls(r['ours']['calls'])}" +
            (f" | naive {_fmt_calls(r['naive']['calls'])} lag {r['naive']['detection_lag_s']:.1f} s" if r["naive"] else ""))
    for r in rows:
        st = r["ours"].get("state")
        if st:
            out(f"  N={r['n']}: state after create {st['bytes']:,} bytes = {st['bytes_per_read_set']:.1f} bytes per read set "
                f"(inputs {st['inputs_bytes']:,}, outputs {st['outputs_bytes']:,})")
    qr = results["quota"]
    out(f"quota 5, max_concurrent_jobs 20, N={qr['n']}: {qr['ours']['wall_s']:.1f} s vs floor(Q=5) {qr['floor_s']:.0f} s "
        f"= {qr['ratio_to_floor']}x ({qr['ratio_to_floor_jitter']}x jitter-aware); quota errors "
        f"{qr['ours']['quota_exceeded']}, failed {qr['ours']['failed']}, all ACTIVE {qr['ours']['all_active']}")
    out()
    out("Status lookups (calls; hindsight a = unfiltered pages, b = status listings, k = reads; old = the rule before)")
    for c in results["cost"]:
        target = f", target <= {c['target_calls']}: {'met' if c['met'] else 'MISSED'}" if c["target_calls"] else ""
        out(f"  {c['scenario']} [{'live check' if c['mode'] == 'live' else 'create discovery'}]: {c['calls']} calls "
            f"({c['ratio_to_best']}x the cheapest of a={c['hindsight']['a']} b={c['hindsight']['b']} "
            f"k={c['hindsight']['k']}; old rule {c['old_rule_calls']}){target}")
    out()
    for p_ in results["preview"]:
        out(f"preview (Check+Diff via provider server) N={p_['n']:>6} live={str(p_['live']):5}: check {p_['check_s']*1000:.0f} ms, "
            f"diff {p_['diff_s']*1000:.0f} ms real, API calls {p_['api_calls_total']} {_fmt_calls(p_['api_calls'])}"
            + (" (time scale 1: the live check's calls paced at 5 requests/s in real time)" if p_["live"] else ""))
    for p_ in results.get("provider_methods_in_process", []):
        out(f"provider methods in process (no server/wire) N={p_['n']:>6}: check {p_['check_s']*1000:.0f} ms, "
            f"diff {p_['diff_s']*1000:.0f} ms")
    for p_ in results.get("server_rpc", []):
        out(f"provider server alone (requests pre-encoded, as the Go engine sends them) N={p_['n']:>6}: "
            f"Check {p_['check_s']*1000:.0f} ms, Diff {p_['diff_s']*1000:.0f} ms (best of {p_['repeats']})")
    engine = results.get("real_engine")
    if engine and "skipped" not in engine:
        for op in ("preview", "up"):
            e = engine[op]
            out(f"real CLI end to end N={engine['n']:>6} unchanged `pulumi {op}`: {e['wall_s']} s real, "
                f"peak RSS of the largest process {e['peak_rss_mb']} MB, calls {_fmt_calls(e['calls'])}")
        out(f"real CLI end to end N={engine['n']:>6}: checkpoint {engine['state_bytes']:,} bytes "
            f"({engine['state_bytes_per_read_set']} per read set); first up (create, all ACTIVE) "
            f"{engine['first_up']['wall_s']} s")
    elif engine:
        out(f"real CLI end to end: skipped ({engine['skipped']})")
    out("cpu% = client / emulator CPU time over the scenario's real time (one core = 100); "
        "well below 100 means the schedule, not CPU, set the pace.")
    if results.get("png"):
        out(f"timeline of the N={TIMELINE_N} runs: {results['png']}")
    out(f"wrote {os.path.relpath(out_path)}; bench took {results['bench_real_s']} s real")
    with open(os.path.join(os.path.dirname(out_path), "results.txt"), "w", encoding="utf-8") as fh:
        fh.write("\n".join(out.lines) + "\n")


if __name__ == "__main__":
    main()
