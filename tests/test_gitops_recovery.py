"""The GitOps recovery script (.github/workflows/scripts/pulumi_run.py), against a stand-in CLI.

The stand-in ``pulumi`` answers with the engine's own texts (the DIY lock message of
``pkg/backend/diy/lock.go``, Pulumi Cloud's 409) and a ``stack export`` document, and logs
every invocation and every signal it receives. These tests check the script's decisions
and its signal forwarding; the same recovery against the real CLI, after a real killed
``pulumi up``, is ``tests/test_real_cli.py::test_killed_up_then_the_gitops_script_recovers_unattended``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / ".github" / "workflows" / "scripts" / "pulumi_run.py"
URN = "urn:pulumi:dev::omics-dynamic-example::pulumi-python:dynamic/omics:ReadSetActivation::cohort"
LOCKED = ("error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end "
          "or delete the lock file with `pulumi cancel`.\n  file:///b/.pulumi/locks/organization/p/dev/x.json: "
          "created by runner@host (pid 7) at 2026-01-01T00:00:00Z")
CONFLICT = "error: [409] Conflict: Another update is currently in progress."

FAKE = r'''#!{python}
import json, os, signal, sys, time
state_path = os.environ["FAKE_PULUMI_STATE"]
state = json.load(open(state_path))
args = sys.argv[1:]
state["calls"].append(" ".join(a for a in args if a not in ("--non-interactive",)))
def save():
    with open(state_path + ".tmp", "w") as fh:
        json.dump(state, fh)
    os.replace(state_path + ".tmp", state_path)
save()
op = args[0] if args[0] != "stack" else "stack " + args[1]
if op == "up" and state.get("wait_for_signals"):
    got = []
    def on(signum, _f):
        got.append(signal.Signals(signum).name)
        state["signals"] = got
        save()
    signal.signal(signal.SIGINT, on)
    signal.signal(signal.SIGTERM, on)
    state["ready"] = True
    save()
    deadline = time.time() + 10
    while len(got) < 2 and time.time() < deadline:
        time.sleep(0.02)
    sys.exit(255)
answers = state["answers"].get(op) or [[0, ""]]
code, text = answers.pop(0) if len(answers) > 1 else answers[0]
save()
print(text)
sys.exit(code)
'''


def _fake(tmp_path: Path, answers: dict, **extra) -> tuple[Path, Path]:
    exe = tmp_path / "pulumi"
    exe.write_text(FAKE.replace("{python}", sys.executable))
    exe.chmod(0o755)
    state = tmp_path / "fake.json"
    state.write_text(json.dumps({"calls": [], "answers": answers, **extra}))
    return exe, state


def _export(pending_urns, resource_urns) -> str:
    return json.dumps({"version": 3, "deployment": {
        "resources": [{"urn": u, "type": "t"} for u in resource_urns],
        "pending_operations": [{"resource": {"urn": u}, "type": "creating"} for u in pending_urns]}})


def _run(tmp_path, answers, *, env=None, **extra):
    exe, state = _fake(tmp_path, answers, **extra)
    proc = subprocess.run([sys.executable, str(SCRIPT), "up", "--stack", "dev", "--pulumi", str(exe)],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "FAKE_PULUMI_STATE": str(state), **(env or {})})
    return proc, json.loads(state.read_text())["calls"]


@pytest.mark.parametrize("hold", [LOCKED, CONFLICT], ids=["diy-lock", "cloud-409"])
def test_a_dead_runs_hold_is_cancelled_then_up_reruns_and_the_stale_pending_create_is_cleared(tmp_path, hold):
    proc, calls = _run(tmp_path, {
        "up": [[255, hold], [0, "warning: Attempting to deploy or update resources with 1 pending operations"]],
        "cancel": [[0, "The currently running update for 'dev' has been canceled!"]],
        "stack export": [[0, _export([URN], [URN])]],
    })
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert calls == ["up --yes --skip-preview --stack dev", "cancel --yes --stack dev",
                     "up --yes --skip-preview --stack dev", "stack export --stack dev",
                     "refresh --clear-pending-creates --preview-only --stack dev"]
    assert "::warning::stack dev was held at the start of this run" in proc.stdout
    assert f"::notice::clearing stale pending CREATE operations (the resources were created by this run): {URN}" \
        in proc.stdout


def test_a_pending_create_whose_resource_is_missing_is_left_for_a_human(tmp_path):
    other = URN.replace("::cohort", "::gone")
    proc, calls = _run(tmp_path, {"stack export": [[0, _export([URN, other], [URN])]]})
    assert proc.returncode == 0
    assert calls == ["up --yes --skip-preview --stack dev", "stack export --stack dev"]
    assert "pending CREATE operations of resources not in the stack were left alone" in proc.stdout
    assert other in proc.stdout


def test_nothing_is_cancelled_when_recovery_is_off_or_the_failure_is_another(tmp_path):
    proc, calls = _run(tmp_path, {"up": [[255, LOCKED]]}, env={"PULUMI_RECOVER_STALE_LOCK": "false"})
    assert proc.returncode == 255 and calls == ["up --yes --skip-preview --stack dev"]
    assert "automatic recovery is off" in proc.stdout
    (tmp_path / "again").mkdir()
    proc, calls = _run(tmp_path / "again", {"up": [[255, "error: update failed"]]})
    assert proc.returncode == 255 and calls == ["up --yes --skip-preview --stack dev"]


def test_runner_signals_reach_the_cli_once_each_first_as_sigint(tmp_path):
    # GitHub cancels a step with SIGINT to the entry process, then SIGTERM 7.5 s later; the
    # CLI runs in its own session, so it gets exactly what the script forwards.
    exe, state = _fake(tmp_path, {}, wait_for_signals=True)
    proc = subprocess.Popen([sys.executable, str(SCRIPT), "up", "--stack", "dev", "--pulumi", str(exe)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, "FAKE_PULUMI_STATE": str(state)})
    deadline = time.monotonic() + 20
    while not json.loads(state.read_text()).get("ready") and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=20)
    doc = json.loads(state.read_text())
    assert doc["signals"] == ["SIGINT", "SIGTERM"], out
    assert proc.returncode == 255 and doc["calls"] == ["up --yes --skip-preview --stack dev"]
