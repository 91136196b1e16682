"""`pulumi preview` and an unchanged `pulumi up` of one ReadSetActivation of N read sets,
end to end through the real Pulumi CLI: the engine, the SDK's dynamic provider server, the
file backend, the Automation API process serving the program
(``omics_dynamic_testing.automation``), against the emulator with every read set ACTIVE.

For each operation, in a fresh process tree: wall time, the peak RSS of the largest
process of the tree (``getrusage(RUSAGE_CHILDREN)`` of this process after the tree ends:
the Automation API process, the CLI, or the provider, whichever is largest; not their sum),
and the HealthOmics calls. Also the checkpoint's size after the first up (the file
backend's ``<stack>.json``). The first up (the create, no job: all ACTIVE) is timed too.

``python bench/real_engine.py [--n 100000]``; ``bench/run.py`` (``make bench``) calls
:func:`real_engine_cost` beside its provider-server figures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from omics_dynamic_testing.automation import LocalStack, find_pulumi, program_from_file  # noqa: E402
from omics_emulator import Emulator  # noqa: E402

PROGRAM = ROOT / "tests" / "programs" / "activations" / "__main__.py"
PROJECT = "omics-activations"
AWS_ENV = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}


def _timed_operation(local: LocalStack, operation: str) -> dict[str, Any]:
    """Run ``operation`` in its own process tree; wall seconds and the tree's peak RSS (MB)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    env = {**os.environ, **local.env, **AWS_ENV, "OMICS_DYNAMIC_PULUMI": local.pulumi}
    t0 = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "omics_dynamic_testing.automation", operation, "--work-dir", str(local.work_dir),
         "--stack", local.name, "--project", PROJECT, "--program", str(local.work_dir / "__main__.py")],
        cwd=local.work_dir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    wall_s = time.monotonic() - t0
    if done.returncode != 0:
        raise RuntimeError(f"pulumi {operation} failed:\n{done.stdout[-3000:]}")
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"wall_s": round(wall_s, 1),
            "peak_rss_mb": round(peak_kb / 1024, 1) if peak_kb > before else None,
            "output_tail": done.stdout.strip().splitlines()[-6:]}


def real_engine_cost(n: int, work: Path) -> dict[str, Any]:
    """The figures above for a cohort of ``n`` ACTIVE read sets; needs a CLI (``make pulumi``)."""
    pulumi = find_pulumi()
    if pulumi is None:
        return {"n": n, "skipped": "no pulumi CLI: run `make pulumi`"}
    with Emulator(rate_limit=0) as emu:
        store = emu.create_store(read_sets=["ACTIVE"] * n)
        ids = sorted(emu.read_set_statuses(store))
        work.mkdir(parents=True, exist_ok=True)
        project = work / "project"
        project.mkdir(exist_ok=True)
        for item in PROGRAM.parent.glob("*.py"):
            (project / item.name).write_text(item.read_text())
        local = LocalStack(project, "bench", PROJECT, program_from_file(project / "__main__.py"), pulumi=pulumi,
                           env=AWS_ENV)
        local.set_config({"aws:region": "us-east-1", "omics-dynamic:endpoint": emu.endpoint_url,
                          "omics-dynamic:rateLimit": "0", f"{PROJECT}:sequenceStoreId": store,
                          f"{PROJECT}:readSetIds": ids, f"{PROJECT}:exportStatuses": "false"})
        out: dict[str, Any] = {"n": n, "pulumi": pulumi}
        emu.reset_counters()
        out["first_up"] = {**_timed_operation(local, "up"), "calls": dict(emu.calls)}
        state = local.backend_dir / ".pulumi" / "stacks" / PROJECT / "bench.json"
        out["state_bytes"] = state.stat().st_size
        out["state_bytes_per_read_set"] = round(state.stat().st_size / n, 1)
        for operation in ("preview", "up"):
            emu.reset_counters()
            out[operation] = {**_timed_operation(local, operation), "calls": dict(emu.calls)}
        local.destroy()
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(json.dumps(real_engine_cost(args.n, Path(tmp)), indent=1))


if __name__ == "__main__":
    main()
