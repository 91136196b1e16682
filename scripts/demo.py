#!/usr/bin/env python3
"""Demo: the example stack activates the shipped cohort on a local HealthOmics emulator.

Run ``make demo`` (or ``.venv/bin/python scripts/demo.py``). It:

1. starts the emulator (``python -m omics_dynamic.emulator --seed cohort``) with emulated
   60-second activations on a clock running ``--time-scale`` times faster (default 30), and
   points the provider at it through stack config (``omics-dynamic:endpoint``,
   ``omics-dynamic:timeScale`` equal to the emulator's scale);
2. runs the example stack (``__main__.py``) with the ``pulumi`` CLI and a local file
   backend under ``.demo/`` when ``pulumi`` is on PATH, else through the engine-role
   harness in program mode (``omics_dynamic.testing.run_program``), and says which;
3. steps: ``up`` (activates every activatable read set of the cohort), a second ``up``
   (no changes, no new job), the emulator archives some read sets, ``preview`` (shows the
   update), ``up`` (re-activates them, activation_count 2), ``destroy``; then a separate,
   clearly labelled expected-failure step (a DELETED read set fails the activation before
   any job starts).

Exit status 0 only if every step did what it should. The emulator is always stopped.
State lives under ``.demo/`` (gitignored), wiped at the start.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import textwrap
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any, Callable, Optional

REPO = Path(__file__).resolve().parent.parent
PROJECT = "omics-dynamic-example"
ACTIVATABLE = ("ARCHIVED", "ACTIVE", "ACTIVATING")
UNUSABLE = ("DELETED", "UPLOAD_FAILED")


class DemoFailure(Exception):
    """A step did not do what the demo expects."""


def say(text: str = "") -> None:
    print(text, flush=True)


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise DemoFailure(message)


# --------------------------------------------------------------------------- emulator

class EmulatorProcess:
    """``python -m omics_dynamic.emulator`` as a child process; the first stdout line is its URL."""

    def __init__(self, time_scale: float, activation_seconds: float, log_path: Path) -> None:
        self.log = open(log_path, "w", encoding="utf-8")
        cmd = [sys.executable, "-m", "omics_dynamic.emulator", "--port", "0", "--seed", "cohort",
               "--time-scale", str(time_scale), "--activation-seconds", str(activation_seconds), "--quiet"]
        self.proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=self.log, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.startswith("http://"):
            self.stop()
            raise DemoFailure(f"emulator did not start (see {log_path}): first line {line!r}")
        self.url = line

    def admin(self, action: str, body: Optional[dict] = None, query: str = "") -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.url}/_emulator/{action}{query}", data=data,
                                     method="GET" if body is None else "POST",
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read() or b"null")

    def statuses(self, store_id: str) -> dict[str, str]:
        return self.admin("read-sets", query=f"?storeId={store_id}")

    def job_ids(self) -> list[str]:
        return [j["id"] for j in self.admin("state")["jobs"]]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


# --------------------------------------------------------------------------- runners

class Outcome:
    """What one operation did: ``ops`` {resource name: op}, ``exports``, ``lines`` (provider
    progress lines / CLI output), ``registered`` (harness only: resource names in order)."""

    def __init__(self) -> None:
        self.ops: dict[str, str] = {}
        self.exports: dict[str, Any] = {}
        self.lines: list[str] = []
        self.registered: list[str] = []
        self.operation = ""


class HarnessRunner:
    """The example stack under the engine-role harness, program mode: the dynamic resource
    goes to the SDK's real provider server; pulumi-aws resources are recorded, not created."""

    label = ("engine-role harness, program mode (omics_dynamic.testing.run_program): "
             "`pulumi` CLI not found on PATH; these are NOT results of the real Pulumi engine")
    deploy_compute = True  # recorded, never created: shows the wiring

    def __init__(self, state_dir: Path, env: dict[str, str]) -> None:
        from omics_dynamic.testing import run_program

        self._run_program = run_program
        self.state_dir = state_dir
        self.env = env

    def run(self, operation: str, stack: str, config: dict[str, Any], echo: Callable[[str], None]) -> Outcome:
        out = Outcome()

        def on_line(line: str) -> None:
            out.lines.append(line)
            echo(line)

        result = self._run_program(str(REPO / "__main__.py"), state_path=str(self.state_dir / f"{stack}.json"),
                                   operation=operation, stack=stack, config=config, env=self.env,
                                   on_stderr_line=on_line)
        out.ops = dict(result.engine.ops)
        out.exports = dict(result.exports)
        out.registered = [f"{r.name} ({r.op})" for r in result.resources]
        self.last = result
        return out

    def cleanup(self, stack: str) -> None:
        pass


class CliRunner:
    """The example stack with the real ``pulumi`` CLI and a local file backend under ``.demo/``.

    The project is a copy of ``Pulumi.yaml`` (virtualenv made absolute) plus a symlink to
    the repository's ``__main__.py`` in ``.demo/cli/``, so the demo's stack config never
    lands next to the user's own stacks.
    """

    label = "pulumi CLI ({version}) with a local file backend (.demo/cli-backend)"
    deploy_compute = False  # no AWS account: the pulumi-aws compute is left out

    def __init__(self, demo_dir: Path, env: dict[str, str], pulumi: str = "pulumi") -> None:
        self.pulumi = pulumi
        self.project_dir = demo_dir / "cli"
        self.project_dir.mkdir(parents=True, exist_ok=True)
        backend = demo_dir / "cli-backend"
        backend.mkdir(parents=True, exist_ok=True)
        venv = REPO / ".venv"
        if not venv.exists():
            venv = Path(sys.prefix)
        (self.project_dir / "Pulumi.yaml").write_text(textwrap.dedent(f"""\
            name: {PROJECT}
            runtime:
              name: python
              options:
                toolchain: pip
                virtualenv: {venv}
            """), encoding="utf-8")
        main = self.project_dir / "__main__.py"
        if not main.exists():
            main.symlink_to(REPO / "__main__.py")
        self.env = dict(os.environ)
        self.env.update(env)
        self.env.update({
            "PULUMI_BACKEND_URL": backend.resolve().as_uri(),
            "PULUMI_CONFIG_PASSPHRASE": self.env.get("PULUMI_CONFIG_PASSPHRASE", "omics-dynamic-demo"),
            "PULUMI_SKIP_UPDATE_CHECK": "true",
        })
        # deployCompute is false: no plugin besides the language host is needed.
        self.env.setdefault("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "true")
        version = subprocess.run([pulumi, "version"], capture_output=True, text=True, env=self.env)
        self.label = self.label.format(version=(version.stdout.strip() or "unknown version"))

    def _cli(self, args: list[str], echo: Optional[Callable[[str], None]] = None,
             check: bool = True) -> tuple[int, list[str]]:
        proc = subprocess.Popen([self.pulumi, *args, "--non-interactive"], cwd=self.project_dir, env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert proc.stdout is not None
        lines = []
        for raw in proc.stdout:
            line = raw.rstrip("\n")
            lines.append(line)
            if echo is not None:
                echo(line)
        rc = proc.wait()
        if check and rc != 0:
            tail = "\n".join(lines[-30:])
            raise DemoFailure(f"`pulumi {' '.join(args)}` exited {rc}:\n{tail}")
        return rc, lines

    def _write_config(self, stack: str, config: dict[str, Any]) -> None:
        import yaml  # PyYAML ships with the pulumi SDK

        path = self.project_dir / f"Pulumi.{stack}.yaml"
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
        doc = doc or {}
        doc["config"] = {k: (v if isinstance(v, (list, dict)) else str(v)) for k, v in config.items()}
        path.write_text(yaml.safe_dump(doc, sort_keys=True), encoding="utf-8")

    def _outputs(self, stack: str) -> dict[str, Any]:
        _, lines = self._cli(["stack", "output", "--json", "--show-secrets", "--stack", stack])
        return json.loads("\n".join(lines) or "{}")

    def run(self, operation: str, stack: str, config: dict[str, Any], echo: Callable[[str], None]) -> Outcome:
        out = Outcome()
        self._cli(["stack", "select", "--create", stack])
        self._write_config(stack, config)

        def on_line(line: str) -> None:
            out.lines.append(line)
            echo(line)

        if operation == "preview":
            _, lines = self._cli(["preview", "--json", "--stack", stack])
            doc = json.loads("\n".join(lines))
            for diag in doc.get("diagnostics") or []:
                for line in str(diag.get("message", "")).splitlines():
                    on_line(line)
            for step in doc.get("steps") or []:
                name = step.get("urn", "").rsplit("::", 1)[-1]
                if "ReadSetActivation" in step.get("urn", ""):
                    out.ops[name] = step.get("op", "")
            return out
        if operation == "destroy":
            self._cli(["destroy", "--yes", "--skip-preview", "--stack", stack], echo=on_line)
            out.ops = {"cohort": "delete"}
            return out
        rc, lines = self._cli(["up", "--yes", "--skip-preview", "--stack", stack], echo=on_line, check=False)
        if rc != 0:
            raise DemoFailure("`pulumi up` failed:\n" + "\n".join(lines[-30:]))
        text = "\n".join(lines)
        if "cohort" in text and ("created" in text or " create " in text):
            out.ops["cohort"] = "create"
        out.exports = self._outputs(stack)
        return out

    def cleanup(self, stack: str) -> None:
        self._cli(["stack", "rm", "--yes", "--force", "--stack", stack], check=False)


def make_runner(demo_dir: Path, env: dict[str, str], force_harness: bool = False):
    pulumi = shutil.which("pulumi")
    if pulumi and not force_harness:
        return CliRunner(demo_dir, env, pulumi)
    return HarnessRunner(demo_dir / "harness", env)


# --------------------------------------------------------------------------- demo

def stack_config(emu_url: str, store_id: str, read_set_ids: list[str], time_scale: float,
                 deploy_compute: bool) -> dict[str, Any]:
    """The stack config of a demo run: everything the provider needs comes through it."""
    config: dict[str, Any] = {
        "aws:region": "us-east-1",
        "omics-dynamic:endpoint": emu_url,
        "omics-dynamic:timeScale": str(time_scale),
        f"{PROJECT}:sequenceStoreId": store_id,
        f"{PROJECT}:readSetIds": read_set_ids,
        f"{PROJECT}:deployCompute": "true" if deploy_compute else "false",
        f"{PROJECT}:timeoutSeconds": "3600",
    }
    if deploy_compute:
        config[f"{PROJECT}:workflowId"] = "1234567"
        config[f"{PROJECT}:outputUri"] = "s3://example-omics-outputs/cohort/"
    return config


def _summary(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "none"


def _count(statuses: dict[str, str], ids: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for rid in ids:
        counts[statuses.get(rid, "MISSING")] = counts.get(statuses.get(rid, "MISSING"), 0) + 1
    return counts


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--time-scale", type=float, default=30.0,
                        help="emulated seconds per real second, for the emulator and the provider (default 30)")
    parser.add_argument("--activation-seconds", type=float, default=60.0,
                        help="emulated seconds one activation takes (default 60)")
    parser.add_argument("--archive", type=int, default=25, help="read sets the emulator archives again (default 25)")
    parser.add_argument("--harness", action="store_true", help="use the engine-role harness even if pulumi is on PATH")
    parser.add_argument("--demo-dir", default=str(REPO / ".demo"), help="state directory (default .demo/)")
    args = parser.parse_args(argv)
    if not (args.time_scale > 0 and math.isfinite(args.time_scale)):
        parser.error(f"--time-scale must be a positive number of emulated seconds per real second, got {args.time_scale:g}")
    if not (args.activation_seconds > 0 and math.isfinite(args.activation_seconds)):
        parser.error(f"--activation-seconds must be a positive number of seconds, got {args.activation_seconds:g}")
    if args.archive < 1:
        parser.error(f"--archive must be at least 1 read set, got {args.archive}")

    demo_dir = Path(args.demo_dir).resolve()
    shutil.rmtree(demo_dir, ignore_errors=True)
    demo_dir.mkdir(parents=True)
    env = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}
    os.environ.update(env)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_OMICS"):
        os.environ.pop(name, None)

    from omics_dynamic.emulator import COHORT_STORE_ID

    t_demo = time.monotonic()
    runner = make_runner(demo_dir, env, force_harness=args.harness)
    say("=" * 78)
    say(f"omics-dynamic demo: running the example stack with the {runner.label}")
    say("=" * 78)
    emu = EmulatorProcess(args.time_scale, args.activation_seconds, demo_dir / "emulator.log")
    stacks_used: list[str] = []
    try:
        statuses = emu.statuses(COHORT_STORE_ID)
        ids = sorted(r for r, s in statuses.items() if s in ACTIVATABLE)
        unusable = sorted(r for r, s in statuses.items() if s in UNUSABLE)
        say(f"emulator: {emu.url} (shipped cohort, store {COHORT_STORE_ID}; activation "
            f"{args.activation_seconds:g} s emulated, clock x{args.time_scale:g}; log .demo/emulator.log)")
        say(f"cohort: {len(statuses)} read sets: {_summary(_count(statuses, sorted(statuses)))}")
        say(f"stack input: the {len(ids)} activatable ones (ARCHIVED/ACTIVE/ACTIVATING); "
            f"the {len(unusable)} DELETED/UPLOAD_FAILED ones are left out")
        config = stack_config(emu.url, COHORT_STORE_ID, ids, args.time_scale, runner.deploy_compute)
        if runner.deploy_compute:
            say("deployCompute: true (the pulumi-aws IAM roles and state machine are recorded by the "
                "harness, not created)")
        else:
            say("deployCompute: false (no AWS account: the pulumi-aws compute is left out)")

        def step(number: str, title: str, operation: str, stack: str = "demo", cfg=None) -> tuple[Outcome, float]:
            say()
            say(f"--- step {number}: {title} [{'pulumi ' if isinstance(runner, CliRunner) else ''}{operation}]")
            if stack not in stacks_used:
                stacks_used.append(stack)
            t0 = time.monotonic()
            out = runner.run(operation, stack, cfg or config, echo=lambda line: say(f"    | {line}"))
            out.operation = operation
            return out, time.monotonic() - t0

        def report(out: Outcome, elapsed_s: float, jobs_before: int) -> int:
            jobs_now = len(emu.job_ids())
            say(f"    => {elapsed_s:.1f} s real (~{elapsed_s * args.time_scale / 60:.1f} min emulated); "
                f"cohort: {out.ops.get('cohort', '?')}; new activation jobs: {jobs_now - jobs_before}")
            if out.registered:
                say(f"    => registration order: {', '.join(out.registered)}")
            if out.exports and out.operation != "preview":
                ex = out.exports
                job_ids = ex.get("jobIds") or []
                say(f"    => exports: activationCount={ex.get('activationCount')}, "
                    f"statusSummary={json.dumps(ex.get('statusSummary'))}, "
                    f"jobIds=[{len(job_ids)} IDs{': ' + ', '.join(job_ids[:3]) + (', ...' if len(job_ids) > 3 else '') if job_ids else ''}], "
                    f"activatedAt={ex.get('activatedAt')}")
            return jobs_now

        # 1: create
        out, dt = step("1", "first up: activate the cohort, then declare the compute", "up")
        jobs = report(out, dt, 0)
        live = emu.statuses(COHORT_STORE_ID)
        expect(all(live[r] == "ACTIVE" for r in ids), "after step 1 some read sets are not ACTIVE")
        expect(out.exports.get("activationCount") == 1, f"activationCount {out.exports.get('activationCount')} != 1")
        expect(sorted(out.exports.get("jobIds") or []) == sorted(emu.job_ids()),
               "exported jobIds differ from the emulator's jobs")
        expect(jobs > 0, "step 1 started no activation job")
        if isinstance(runner, HarnessRunner):
            expect(out.ops.get("cohort") == "create", f"step 1 op {out.ops}")
            res = runner.last
            cohort = res.resource("cohort")
            sm = res.resource("start-run")
            expect(sm.registered_t_s >= cohort.completed_t_s and cohort.urn in sm.dependencies,
                   "the state machine was registered before the activation completed or without depending on it")
            say(f"    => the state machine was registered {sm.registered_t_s:.2f} s into the run, after the "
                f"activation completed ({cohort.completed_t_s:.2f} s), and depends on it")

        # 2: same
        out, dt = step("2", "second up: nothing changed", "up")
        jobs2 = report(out, dt, jobs)
        expect(jobs2 == jobs, f"step 2 started {jobs2 - jobs} activation job(s)")
        if isinstance(runner, HarnessRunner):
            expect(out.ops.get("cohort") == "same", f"step 2 op {out.ops}")
        expect(out.exports.get("activationCount") == 1, "activationCount changed on a no-op up")

        # 3: archive + preview
        archived = ids[: args.archive]
        emu.admin("archive", {"storeId": COHORT_STORE_ID, "readSetIds": archived})
        say()
        say(f"--- the emulator archives {len(archived)} read sets (as HealthOmics does after 30 days unused): "
            f"{', '.join(archived[:3])}, ...")
        out, dt = step("3", "preview: the provider's diff sees them", "preview")
        report(out, dt, jobs2)
        expect(out.ops.get("cohort") == "update", f"preview did not plan an update of cohort: {out.ops}")
        saw_line = any("update:" in line and "not ACTIVE" in line for line in out.lines)
        if isinstance(runner, HarnessRunner):
            expect(saw_line, "the preview printed no 'update: ... not ACTIVE' line")
        elif not saw_line:  # how the CLI's --json output carries provider stderr is unverified
            say("    (note: the provider's 'update: ... not ACTIVE' line was not in `pulumi preview --json`)")
        expect(len(emu.job_ids()) == jobs2, "preview started an activation job")

        # 4: up re-activates
        out, dt = step("4", "up: re-activate them", "up")
        jobs4 = report(out, dt, jobs2)
        live = emu.statuses(COHORT_STORE_ID)
        expect(all(live[r] == "ACTIVE" for r in ids), "after step 4 some read sets are not ACTIVE")
        expect(out.exports.get("activationCount") == 2,
               f"activationCount {out.exports.get('activationCount')} != 2 after re-activation")
        expect(jobs4 > jobs2, "step 4 started no activation job")
        if isinstance(runner, HarnessRunner):
            expect(out.ops.get("cohort") == "update", f"step 4 op {out.ops}")
            sm = runner.last.resource("start-run")
            expect("activation #2" in sm.inputs.get("definition", ""),
                   "the state machine definition does not carry activation #2")
            say("    => the state machine's definition now says 'activation #2' (its re-run trigger)")

        # 5: destroy
        out, dt = step("5", "destroy", "destroy")
        say(f"    => {dt:.1f} s real; the read sets stay ACTIVE (HealthOmics has no archive API)")
        if isinstance(runner, HarnessRunner):
            expect(out.ops.get("cohort") == "delete", f"destroy op {out.ops}")

        # 6: expected failure, separate stack
        bad = sorted(r for r in unusable if statuses[r] == "DELETED")[:1] or unusable[:1]
        say()
        say(f"--- step 6 (EXPECTED FAILURE, separate stack 'demo-failure'): a read set list holding "
            f"{bad[0]} ({statuses[bad[0]]}) must fail before starting any job")
        cfg = stack_config(emu.url, COHORT_STORE_ID, ids[:5] + bad, args.time_scale, False)
        jobs_before = len(emu.job_ids())
        stacks_used.append("demo-failure")
        try:
            runner.run("up", "demo-failure", cfg, echo=lambda line: say(f"    | {line}"))
        except Exception as err:  # noqa: BLE001 - the failure is the point of this step
            first = str(err).strip().splitlines()
            message = next((line for line in first if bad[0] in line), first[-1] if first else repr(err))
            # Keep the provider's sentence, not the gRPC wrapping around it.
            start = message.find("ReadSetsUnusableError")
            message = message[start:] if start >= 0 else message
            end = message.find("(gRPC")
            message = message[:end] if end > 0 else message
            say(f"    => failed as expected: {message.strip()}")
        else:
            raise DemoFailure("step 6: up with a DELETED read set succeeded")
        expect(len(emu.job_ids()) == jobs_before, "step 6 started an activation job")
        try:
            runner.run("destroy", "demo-failure", cfg, echo=lambda line: None)
        except Exception:  # noqa: BLE001 - best effort
            pass

        say()
        say("=" * 78)
        say(f"demo OK in {time.monotonic() - t_demo:.1f} s ({runner.label.split(':')[0].split(' (')[0]}); "
            f"emulator jobs: {len(emu.job_ids())}")
        say("=" * 78)
        return 0
    except DemoFailure as err:
        say()
        say(f"DEMO FAILED: {err}")
        return 1
    except Exception as err:  # noqa: BLE001 - any failure makes the demo fail, loudly
        say()
        say(f"DEMO FAILED: {type(err).__name__}: {err}")
        return 1
    finally:
        for stack in stacks_used:
            try:
                runner.cleanup(stack)
            except Exception:  # noqa: BLE001
                pass
        emu.stop()


if __name__ == "__main__":
    sys.exit(main())
