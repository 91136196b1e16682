"""The example stack (``Pulumi.yaml``, ``__main__.py``) against the local emulator: its
stack config, the emulator as a child process, and the two ways to run it, each a
:class:`StackRunner`: :class:`CliRunner` (the real ``pulumi`` CLI through the Automation
API, :mod:`omics_dynamic_testing.automation`) and :class:`HarnessRunner` (the engine-role
harness in program mode, where no CLI can be had); the demo's directory (:func:`prepare_demo_dir`) and
the words its steps expect. ``scripts/demo.py`` (the steps) and the tests import it.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any, Callable, Optional, Protocol

from omics_emulator import COHORT_PATH, COHORT_STORE_ID
from omics_emulator.make_seed import SAMPLE_SHEET_PATH

#: The checkout holding the example stack (``__main__.py``, ``Pulumi.yaml``): this module sits
#: at ``packages/omics-dynamic-testing/omics_dynamic_testing/`` in it (an editable install).
REPO = Path(__file__).resolve().parents[3]

#: The example stack's project name (``Pulumi.yaml``): the namespace of its config keys.
PROJECT = "omics-dynamic-example"
#: The program the demo and the tests run.
PROGRAM = REPO / "__main__.py"
#: The shipped sample sheet of the emulator's cohort (store ``COHORT_STORE_ID``).
SAMPLE_SHEET = SAMPLE_SHEET_PATH
#: Placeholder HealthOmics workflow and output location for the (recorded) compute.
WORKFLOW_ID = "1234567"
OUTPUT_URI = "s3://example-omics-outputs/cohort/"
REGION = "us-east-1"
#: Credentials the emulator accepts; no profile or endpoint from the host.
AWS_ENV = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": REGION}


class ExampleRunError(RuntimeError):
    """A run of the example stack failed (the emulator did not start, an operation failed);
    the message says what and, for an operation, its error diagnostics."""


Echo = Callable[[str], None]


def stack_config(endpoint_url: str, *, time_scale: float, deploy_compute: bool,
                 sample_sheet: Optional[Path] = SAMPLE_SHEET, read_set_ids: Optional[list[str]] = None,
                 store_id: str = COHORT_STORE_ID, rate_limit: Optional[float] = None,
                 **extra: Any) -> dict[str, Any]:
    """The stack config of a run against the emulator at ``endpoint_url``.

    Everything the provider and the program need comes through it: ``aws:region``,
    ``omics-dynamic:endpoint``, ``omics-dynamic:timeScale`` (= the emulator's scale),
    ``omics-dynamic:rateLimit`` when given (requests/s; 0 = unpaced), and the project's
    keys: ``sequenceStoreId``, ``sampleSheet`` (an absolute path; default the cohort's
    sheet) or, when ``read_set_ids`` is given, ``readSetIds`` instead; ``deployCompute``;
    ``timeoutSeconds`` 3600; with compute ``workflowId`` and ``outputUri``. ``extra``:
    more project keys (``sampleSheetBucket="..."``); a value of None removes the key.
    Returns {namespaced key: value}; lists stay lists (``readSetIds``).
    """
    config: dict[str, Any] = {
        "aws:region": REGION,
        "omics-dynamic:endpoint": endpoint_url,
        "omics-dynamic:timeScale": f"{time_scale:g}",
        f"{PROJECT}:sequenceStoreId": store_id,
        f"{PROJECT}:deployCompute": "true" if deploy_compute else "false",
        f"{PROJECT}:timeoutSeconds": "3600",
    }
    if rate_limit is not None:
        config["omics-dynamic:rateLimit"] = f"{rate_limit:g}"
    if read_set_ids is not None:
        config[f"{PROJECT}:readSetIds"] = list(read_set_ids)
    elif sample_sheet is not None:
        config[f"{PROJECT}:sampleSheet"] = str(Path(sample_sheet).resolve())
    if deploy_compute:
        config[f"{PROJECT}:workflowId"] = WORKFLOW_ID
        config[f"{PROJECT}:outputUri"] = OUTPUT_URI
    for key, value in extra.items():
        if value is None:
            config.pop(f"{PROJECT}:{key}", None)
        else:
            config[f"{PROJECT}:{key}"] = value
    return config


def cohort_selection(sheet: Path = SAMPLE_SHEET, seed: Path = COHORT_PATH) -> dict[str, list[dict[str, Any]]]:
    """What the sheet selects, read from the files (not through the emulator or the
    library): sample ID -> its read sets in the seed (``cohort.json`` items), by ID, in
    the sheet's order."""
    with open(sheet, newline="", encoding="utf-8") as handle:
        samples = [row["sample_id"] for row in csv.DictReader(handle)]
    read_sets = json.loads(Path(seed).read_text(encoding="utf-8"))["sequenceStores"][0]["readSets"]
    by_sample: dict[str, list[dict[str, Any]]] = {s: [] for s in samples}
    for rs in sorted(read_sets, key=lambda r: r["id"]):
        if rs.get("sampleId") in by_sample:
            by_sample[rs["sampleId"]].append(rs)
    return by_sample


class EmulatorProcess:
    """``python -m omics_emulator --seed cohort`` as a child process (its first stdout
    line is its URL), with the admin API's read-set statuses and jobs.

    Raises:
        ExampleRunError: the emulator did not print its URL.
    """

    def __init__(self, time_scale: float, activation_seconds: float, log_path: Path) -> None:
        self.log = open(log_path, "w", encoding="utf-8")
        cmd = [sys.executable, "-m", "omics_emulator", "--port", "0", "--seed", "cohort",
               "--time-scale", str(time_scale), "--activation-seconds", str(activation_seconds), "--quiet"]
        self.proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=self.log, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.startswith("http://"):
            self.stop()
            raise ExampleRunError(f"emulator did not start (see {log_path}): first line {line!r}")
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


@dataclasses.dataclass
class Outcome:
    """What one operation did.

    ``ops`` {resource name: step op} of every resource the operation stepped (the stack and
    provider resources left out); ``exports`` the stack outputs after an up; ``lines`` the
    provider's progress lines (the harness: its stderr; the CLI: diagnostics, plus the
    CLI's own messages); ``resources`` the registrations in order
    (``omics_dynamic_testing.RegisteredResource``, with the inputs of resources recorded
    but not created) when the runner records them, else None.
    """

    operation: str
    ops: dict[str, str] = dataclasses.field(default_factory=dict)
    exports: dict[str, Any] = dataclasses.field(default_factory=dict)
    lines: list[str] = dataclasses.field(default_factory=list)
    resources: Optional[list[Any]] = None

    def resource(self, name: str) -> Any:
        """The registration of ``name`` (runners that record registrations only)."""
        for r in self.resources or ():
            if r.name == name:
                return r
        raise ExampleRunError(f"{self.operation} registered no resource named {name!r}")


class StackRunner(Protocol):
    """Runs the example stack: the CLI runner and the harness runner implement it.

    ``label`` says what runs it (shown at the start); ``short_label`` for the summary;
    ``command`` prefixes an operation in step titles ("pulumi " or ""); ``deploy_compute``
    whether the run declares the pulumi-aws compute; ``strict_lines`` whether a provider
    line missing from ``Outcome.lines`` fails the demo (the harness captures the provider's
    stderr itself; through the CLI the lines arrive as engine diagnostics, a path checked
    against the engine's source but never run here, so a missing line is only a note).
    ``up`` / ``preview`` / ``destroy`` run one operation of ``stack`` with ``config``
    (:func:`stack_config`), passing each output line to ``echo``, and raise on failure;
    ``cleanup`` removes the stack.
    """

    label: str
    short_label: str
    command: str
    deploy_compute: bool
    strict_lines: bool

    def up(self, stack: str, config: dict[str, Any], echo: Echo) -> Outcome: ...

    def preview(self, stack: str, config: dict[str, Any], echo: Echo) -> Outcome: ...

    def destroy(self, stack: str, config: dict[str, Any], echo: Echo) -> Outcome: ...

    def cleanup(self, stack: str) -> None: ...


class _Operations:
    """``up`` / ``preview`` / ``destroy`` of :class:`StackRunner`, each one ``_run`` call."""

    def _run(self, operation: str, stack: str, config: dict[str, Any], echo: Echo) -> Outcome:
        raise NotImplementedError

    def up(self, stack: str, config: dict[str, Any], echo: Echo) -> Outcome:
        return self._run("up", stack, config, echo)

    def preview(self, stack: str, config: dict[str, Any], echo: Echo) -> Outcome:
        return self._run("preview", stack, config, echo)

    def destroy(self, stack: str, config: dict[str, Any], echo: Echo) -> Outcome:
        return self._run("destroy", stack, config, echo)


class HarnessRunner(_Operations):
    """The example stack under the engine-role harness, program mode: the dynamic resource
    goes to the SDK's real provider server; pulumi-aws resources are recorded, not created."""

    label = ("engine-role harness, program mode (omics_dynamic_testing.run_program): "
             "`pulumi` CLI not found on PATH; these are NOT results of the real Pulumi engine")
    short_label = "engine-role harness, program mode"
    command = ""
    deploy_compute = True  # recorded, never created: shows the wiring
    strict_lines = True

    def __init__(self, state_dir: Path, env: dict[str, str]) -> None:
        from omics_dynamic_testing import run_program

        self._run_program = run_program
        self.state_dir = state_dir
        self.env = env

    def _run(self, operation: str, stack: str, config: dict[str, Any], echo: Echo) -> Outcome:
        out = Outcome(operation)

        def on_line(line: str) -> None:
            out.lines.append(line)
            echo(line)

        result = self._run_program(str(PROGRAM), state_path=str(self.state_dir / f"{stack}.json"),
                                   operation=operation, stack=stack, config=config, env=self.env,
                                   on_stderr_line=on_line)
        out.ops = dict(result.engine.ops)
        out.exports = dict(result.exports)
        out.resources = list(result.resources)
        return out

    def cleanup(self, stack: str) -> None:
        pass


class CliRunner(_Operations):
    """The example stack with the real ``pulumi`` CLI: one :class:`~omics_dynamic_testing.
    automation.LocalStack` per stack, the program (``__main__.py``) run inline through the
    Automation API, a file backend and ``PULUMI_HOME`` under ``<state_dir>``, the project
    directory ``<state_dir>/project`` (where the CLI writes ``Pulumi.<stack>.yaml``, so the
    demo's stack config never lands next to the user's own stacks). Every operation's
    output lines go to ``echo`` as the CLI prints them; ``Outcome.lines`` are the engine's
    diagnostics (the provider's progress lines are ``info#err`` diagnostics).
    """

    label = "real Pulumi CLI ({version}) through the Automation API, file backend {backend}"
    short_label = "real Pulumi CLI"
    command = "pulumi "
    deploy_compute = False  # no AWS account and no pulumi-aws plugin: the compute is left out
    strict_lines = True

    def __init__(self, state_dir: Path, env: dict[str, str], pulumi: str) -> None:
        from omics_dynamic_testing.automation import program_from_file

        self.state_dir = Path(state_dir)
        self.env = dict(env)
        self.pulumi = pulumi
        self.program = program_from_file(PROGRAM)
        self.stacks: dict[str, Any] = {}
        version = subprocess.run([pulumi, "version"], capture_output=True, text=True)
        self.label = self.label.format(version=version.stdout.strip() or "unknown version",
                                       backend=self.state_dir / "backend")

    def _stack(self, stack: str, config: dict[str, Any]) -> Any:
        from omics_dynamic_testing.automation import LocalStack

        if stack not in self.stacks:
            self.stacks[stack] = LocalStack(self.state_dir / "project", stack, PROJECT, self.program,
                                            pulumi=self.pulumi, env=self.env)
        local = self.stacks[stack]
        local.set_config(config)
        return local

    def _run(self, operation: str, stack: str, config: dict[str, Any], echo: Echo) -> Outcome:
        from omics_dynamic_testing.automation import StackOperationError

        local = self._stack(stack, config)
        try:
            done = getattr(local, operation)(echo)
        except StackOperationError as err:
            raise ExampleRunError(_failure_text(err.operation)) from None
        return Outcome(operation, ops=dict(done.ops), exports=dict(done.outputs), lines=done.messages())

    def cleanup(self, stack: str) -> None:
        if stack in self.stacks:
            self.stacks.pop(stack).remove()


def _failure_text(operation: Any) -> str:
    """A failed operation's error diagnostics (the provider's and the engine's), else the
    CLI's last output lines."""
    errors = operation.messages("error")
    return "\n".join(errors) if errors else "\n".join(operation.output[-30:])


def make_runner(state_dir: Path, env: dict[str, str], force_harness: bool = False) -> StackRunner:
    """:class:`CliRunner` when a ``pulumi`` CLI can be found
    (:func:`~omics_dynamic_testing.automation.find_pulumi`) and not ``force_harness``, else
    :class:`HarnessRunner`."""
    from omics_dynamic_testing.automation import find_pulumi

    pulumi = None if force_harness else find_pulumi()
    if pulumi:
        return CliRunner(state_dir / "cli", env, pulumi)
    return HarnessRunner(state_dir / "harness", env)


# -- the demo's directory and the words its steps expect ------------------------------------

#: The file the demo writes into its directory; only a directory holding it is cleared.
DEMO_DIR_MARKER = ".omics-dynamic-demo"
#: What demo versions before the marker wrote into the default ``.demo/`` directory.
_LEGACY_DEMO_ENTRIES = frozenset({"emulator.log", "harness", "cli", "cli-backend"})
DEFAULT_DEMO_DIR = REPO / ".demo"


class DemoDirError(ValueError):
    """``--demo-dir`` names a directory the demo may not clear (see :func:`prepare_demo_dir`)."""


def prepare_demo_dir(path: Path, *, default: Path = DEFAULT_DEMO_DIR) -> Path:
    """Make ``path`` an empty demo directory holding only the marker file; returns it resolved.

    Cleared (``shutil.rmtree``, then made again): a directory holding the marker file
    :data:`DEMO_DIR_MARKER` (written by this function: the demo made it), and the default
    directory ``default`` when all it holds are files earlier demo versions wrote there
    (:data:`_LEGACY_DEMO_ENTRIES`). Used as it is: an empty directory. Made: a missing one
    (parents too).

    :raises DemoDirError: ``path`` is a file, or a directory holding anything else (the
        user's own files, a checkout): nothing is deleted; the message names the directory
        and the fix (a new or empty directory, or deleting it oneself).
    """
    path = Path(path).resolve()
    if path.exists() and not path.is_dir():
        raise DemoDirError(f"--demo-dir {path}: is not a directory; give a new or empty directory "
                           f"(default {default})")
    if path.is_dir():
        entries = {entry.name for entry in path.iterdir()}
        ours = (path / DEMO_DIR_MARKER).is_file()
        legacy = path == Path(default).resolve() and entries <= _LEGACY_DEMO_ENTRIES
        if entries and not (ours or legacy):
            shown = ", ".join(sorted(entries)[:5]) + (", ..." if len(entries) > 5 else "")
            raise DemoDirError(
                f"--demo-dir {path}: the directory holds files the demo did not create ({shown}) and no "
                f"{DEMO_DIR_MARKER} file, and the demo clears its directory at the start, so it will not "
                f"use this one (nothing was deleted). Give a new or empty directory, or leave --demo-dir out "
                f"(default {default})")
        if entries:
            shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    (path / DEMO_DIR_MARKER).write_text(
        "Made by omics-dynamic's scripts/demo.py, which deletes this directory and everything in it "
        "at its next start.\n", encoding="utf-8")
    return path


def read_sets_text(count: int) -> str:
    """``"1 read set"``, ``"25 read sets"``, ``"1,000 read sets"``: the count and noun as the
    provider writes them (``omics_dynamic.costmodel.volume_text``)."""
    return f"{count:,} read set{'' if count == 1 else 's'}"


def update_preview_words(archived: int) -> tuple[str, ...]:
    """Words step 4 expects in one provider line of the preview after the emulator archived
    ``archived`` read sets (>= 1): the diff's reason (``live_lookup.py`` ``not_active_reason``:
    ``update: N of M read sets are not ACTIVE ...; `pulumi up` will activate N read set(s)
    (X Gbases)``)."""
    return ("update:", "not ACTIVE", f"will activate {read_sets_text(archived)} (", "Gbases")
