"""Support for the real-CLI tests (marker ``pulumi_cli``): the CLI, a stack of a test
program on a file backend, and a process running one operation that tests kill or
interrupt.

The CLI is the one ``make pulumi`` finds or builds (``OMICS_DYNAMIC_PULUMI``, else PATH,
else its cache; ``omics_dynamic_testing.automation.find_pulumi``). Without one the tests
skip, unless ``OMICS_DYNAMIC_REQUIRE_PULUMI_CLI=1`` (``make test`` sets it whenever it
has a CLI), which makes them fail instead.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

import pytest

from omics_dynamic_testing.automation import LocalStack, find_pulumi, program_from_file

REPO = Path(__file__).resolve().parent.parent
PROGRAMS = REPO / "tests" / "programs"
#: The example stack's project name and program.
EXAMPLE = "omics-dynamic-example"
EXAMPLE_PROGRAM = REPO / "__main__.py"
#: Test credentials the emulator accepts; no profile or endpoint from the host.
#: (Tests also use the ``aws_test_env`` fixture, which removes AWS_PROFILE and endpoints.)
AWS_ENV = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}
#: In CI (and in ``make test`` whenever it has a CLI): a missing CLI fails instead of skipping.
REQUIRE_ENV = "OMICS_DYNAMIC_REQUIRE_PULUMI_CLI"


def pulumi_or_skip() -> str:
    """The ``pulumi`` binary; skip (or, with OMICS_DYNAMIC_REQUIRE_PULUMI_CLI=1, fail) without one."""
    found = find_pulumi()
    if found is None:
        reason = "no pulumi CLI: run `make pulumi` (it builds one where Go is installed) or install it"
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but {reason}")
        pytest.skip(reason)
    return found


def emulator_config(endpoint_url: str, time_scale: float) -> dict[str, str]:
    """The provider's config keys for the emulator at ``endpoint_url`` whose clock runs
    ``time_scale`` times faster than real time (requests unpaced)."""
    return {"aws:region": "us-east-1", "omics-dynamic:endpoint": endpoint_url,
            "omics-dynamic:timeScale": f"{time_scale:g}", "omics-dynamic:rateLimit": "0"}


def project_dir(tmp_path: Path, program: Path) -> Path:
    """``tmp_path/project``: a copy of the program's directory's ``.py`` files (the provider
    process runs there, so the program's own dynamic resources import by reference)."""
    work = tmp_path / "project"
    work.mkdir(parents=True, exist_ok=True)
    for item in program.parent.iterdir():
        if item.suffix == ".py":
            shutil.copy(item, work / item.name)
    return work


def make_stack(tmp_path: Path, program: Path, project: str, config: Mapping[str, Any],
               stack: str = "test") -> LocalStack:
    """A new stack of ``program`` (a copy, :func:`project_dir`) with ``config``."""
    work = project_dir(tmp_path, program)
    local = LocalStack(work, stack, project, program_from_file(work / program.name), pulumi=pulumi_or_skip(),
                       env=AWS_ENV)
    local.set_config(config)
    return local


class Background:
    """One operation of ``local``'s stack in its own process (``python -m
    omics_dynamic_testing.automation``), in its own process group: the Automation API
    process that serves the program (the language host's role) and the CLI below it. The
    provider runs in a process group of its own (the engine's ``Setpgid``)."""

    def __init__(self, local: LocalStack, operation: str = "up") -> None:
        self.log_path = local.work_dir.parent / f"{operation}.log"
        self.log = open(self.log_path, "w", encoding="utf-8")
        env = {**os.environ, **local.env, "PYTHONUNBUFFERED": "1", "OMICS_DYNAMIC_PULUMI": local.pulumi}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "omics_dynamic_testing.automation", operation, "--work-dir", str(local.work_dir),
             "--stack", local.name, "--project", local.project,
             "--program", str(local.work_dir / "__main__.py")],
            cwd=local.work_dir, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def text(self) -> str:
        return self.log_path.read_text(encoding="utf-8")

    def wait_for(self, condition: Callable[[], bool], timeout_s: float = 180.0) -> None:
        """Poll ``condition`` every 0.05 s until it holds; fail naming the log when the
        process ends first or ``timeout_s`` passes."""
        deadline = time.monotonic() + timeout_s
        while not condition():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"condition not reached; process exit {self.proc.poll()}:\n{self.text()[-4000:]}")
            time.sleep(0.05)

    def kill_tree(self) -> list[int]:
        """SIGKILL the process and every process below it (the CLI, the provider): what a
        dead CI runner leaves. Returns the killed PIDs."""
        pids = [self.proc.pid, *descendants(self.proc.pid)]
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait(timeout=30)
        self.log.close()
        return pids

    def interrupt(self) -> None:
        """SIGINT to the process group (this process and the CLI), as a terminal's Ctrl-C."""
        os.killpg(self.proc.pid, signal.SIGINT)

    def wait(self, timeout_s: float = 120.0) -> int:
        code = self.proc.wait(timeout=timeout_s)
        self.log.close()
        return code


def descendants(pid: int) -> list[int]:
    """PIDs of every process below ``pid`` (from /proc; Linux), deepest last."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def recovery_script(local: LocalStack, operation: str,
                    extra_env: Optional[Mapping[str, str]] = None) -> subprocess.CompletedProcess:
    """``.github/workflows/scripts/pulumi_run.py OPERATION`` as the GitOps workflow runs it,
    on ``local``'s stack (its program run inline: ``--program``)."""
    script = REPO / ".github" / "workflows" / "scripts" / "pulumi_run.py"
    env = {**os.environ, **local.env, **(extra_env or {})}
    return subprocess.run([sys.executable, str(script), operation, "--stack", local.name, "--cwd", str(local.work_dir),
                           "--pulumi", local.pulumi, "--program", str(local.work_dir / "__main__.py"),
                           "--project", local.project],
                          env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
