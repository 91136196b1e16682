"""Drive the real ``pulumi`` CLI on a local file backend, for tests/test_real_cli.py.

Each :class:`PulumiProject` is a throw-away project directory (a copy of a program plus a
``Pulumi.yaml`` whose virtualenv is this repository's ``.venv``, absolute, toolchain pip)
and a file backend beside it, so nothing touches the user's own stacks. No plugin besides
the Python language host and dynamic provider (both shipped with the CLI) is needed.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any, Mapping, Optional, Sequence

import pytest

REPO = Path(__file__).resolve().parent.parent.parent
#: In CI set this to 1: a missing CLI then fails the real-CLI tests instead of skipping them.
REQUIRE_ENV = "OMICS_DYNAMIC_REQUIRE_PULUMI_CLI"


def pulumi_or_skip() -> str:
    """The ``pulumi`` executable; skip (or, with OMICS_DYNAMIC_REQUIRE_PULUMI_CLI=1, fail)
    when it is not on PATH."""
    exe = shutil.which("pulumi")
    if exe is None:
        reason = ("the pulumi CLI is not on PATH (it cannot be installed from PyPI/npm/Debian); it runs in "
                  "CI (.github/workflows/ci.yml), or install it from https://www.pulumi.com/docs/install/")
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{REQUIRE_ENV}=1 but {reason}")
        pytest.skip(reason)
    return exe


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


class PulumiProject:
    """A project directory + file backend under ``workdir``, and the CLI to drive them.

    Args:
        workdir: a fresh directory (tmp_path).
        program_dir: directory holding the program (``__main__.py`` and its modules); its
            files are copied, ``Pulumi.yaml`` is written with ``name: project``.
        project: the project name.
        env: extra environment for the CLI (AWS test credentials...).
    """

    def __init__(self, workdir: Path, program_dir: Path, project: str, env: Mapping[str, str],
                 pulumi: str = "pulumi") -> None:
        self.pulumi = pulumi
        self.project = project
        self.dir = workdir / "project"
        self.backend = workdir / "backend"
        self.dir.mkdir(parents=True)
        self.backend.mkdir(parents=True)
        for item in program_dir.iterdir():
            if item.suffix == ".py":
                shutil.copy(item, self.dir / item.name)
        venv = REPO / ".venv" if (REPO / ".venv").exists() else Path(sys.prefix)
        (self.dir / "Pulumi.yaml").write_text(textwrap.dedent(f"""\
            name: {project}
            runtime:
              name: python
              options:
                toolchain: pip
                virtualenv: {venv}
            """), encoding="utf-8")
        self.env = dict(os.environ)
        self.env.update(env)
        self.env.update({
            "PULUMI_BACKEND_URL": self.backend.resolve().as_uri(),
            "PULUMI_CONFIG_PASSPHRASE": "omics-dynamic-test",
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        })
        self.env.pop("PULUMI_ACCESS_TOKEN", None)

    def run(self, *args: str, check: bool = True, timeout_s: float = 300) -> subprocess.CompletedProcess:
        """``pulumi ARGS --non-interactive``; stdout and stderr merged into ``.stdout``."""
        proc = subprocess.run([self.pulumi, *args, "--non-interactive"], cwd=self.dir, env=self.env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout_s)
        if check and proc.returncode != 0:
            raise AssertionError(f"`pulumi {' '.join(args)}` exited {proc.returncode}:\n{proc.stdout[-4000:]}")
        return proc

    def start(self, *args: str) -> subprocess.Popen:
        """Start ``pulumi ARGS --non-interactive`` in the background (output to a file)."""
        log = open(self.dir.parent / "background.log", "w", encoding="utf-8")
        return subprocess.Popen([self.pulumi, *args, "--non-interactive"], cwd=self.dir, env=self.env,
                                stdout=log, stderr=subprocess.STDOUT, text=True)

    @staticmethod
    def kill_tree(proc: subprocess.Popen) -> list[int]:
        """SIGKILL the CLI and every process below it (language host, provider plugins,
        which run in their own process groups): what a dead CI runner leaves. Returns the
        killed PIDs."""
        pids = [proc.pid, *descendants(proc.pid)]
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        proc.wait(timeout=30)
        time.sleep(0.2)
        return pids

    def new_stack(self, stack: str, config: Mapping[str, Any]) -> None:
        """``pulumi stack init`` and the stack's config file."""
        self.run("stack", "init", stack)
        self.set_config(stack, config)

    def set_config(self, stack: str, config: Mapping[str, Any]) -> None:
        """Replace the stack's config in ``Pulumi.<stack>.yaml``, keeping the rest of the
        file (``stack init`` writes the passphrase's ``encryptionsalt`` there)."""
        import yaml  # PyYAML ships with the pulumi SDK

        path = self.dir / f"Pulumi.{stack}.yaml"
        doc = (yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None) or {}
        doc["config"] = {k: (v if isinstance(v, (list, dict)) else str(v)) for k, v in config.items()}
        path.write_text(yaml.safe_dump(doc, sort_keys=True), encoding="utf-8")

    def export(self, stack: str) -> dict:
        """``pulumi stack export`` as a dict."""
        return json.loads(self.run("stack", "export", "--stack", stack).stdout)

    def outputs(self, stack: str) -> dict:
        return json.loads(self.run("stack", "output", "--json", "--show-secrets", "--stack", stack).stdout)

    def preview_json(self, stack: str) -> dict:
        """``pulumi preview --json``: {"steps": [...], "diagnostics": [...], ...}."""
        proc = self.run("preview", "--json", "--stack", stack, check=False)
        start = proc.stdout.find("{")
        doc = json.loads(proc.stdout[start:]) if start >= 0 else {}
        doc["_exit"] = proc.returncode
        doc["_text"] = proc.stdout
        return doc

    def lock_files(self, stack: str) -> list[Path]:
        """The stack's DIY lock files (``.pulumi/locks/organization/<project>/<stack>/``)."""
        directory = self.backend / ".pulumi" / "locks" / "organization" / self.project / stack
        return sorted(directory.glob("*.json")) if directory.is_dir() else []


def ops(preview: Mapping[str, Any]) -> dict[str, str]:
    """{resource name: op} of a ``pulumi preview --json`` document (the stack and the
    default provider resources left out)."""
    return {step["urn"].rsplit("::", 1)[-1]: step["op"] for step in preview.get("steps") or []
            if "::pulumi:pulumi:Stack::" not in step["urn"] and "::pulumi:providers:" not in step["urn"]}


def errors(preview: Mapping[str, Any]) -> list[str]:
    """Error diagnostics' messages of a ``pulumi preview --json`` document."""
    return [d.get("message", "") for d in preview.get("diagnostics") or [] if d.get("severity") == "error"]


def recovery_script(project: PulumiProject, operation: str, stack: str,
                    extra_env: Optional[Mapping[str, str]] = None) -> subprocess.CompletedProcess:
    """Run ``.github/workflows/scripts/pulumi_run.py`` as the GitOps workflow does."""
    script = REPO / ".github" / "workflows" / "scripts" / "pulumi_run.py"
    env = dict(project.env)
    env.update(extra_env or {})
    return subprocess.run([sys.executable, str(script), operation, "--stack", stack, "--pulumi", project.pulumi],
                          cwd=project.dir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=600)


__all__: Sequence[str] = ["PulumiProject", "descendants", "errors", "ops", "pulumi_or_skip", "recovery_script"]
