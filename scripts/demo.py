#!/usr/bin/env python3
"""Demo: the example stack activates the shipped cohort on a local HealthOmics emulator.

Run ``make demo`` (or ``.venv/bin/python scripts/demo.py``). It:

1. starts the emulator (``python -m omics_dynamic.emulator --seed cohort``) with emulated
   60-second activations on a clock running ``--time-scale`` times faster (default 30), and
   points the provider at it through stack config (``omics-dynamic:endpoint``,
   ``omics-dynamic:timeScale`` equal to the emulator's scale);
2. runs the example stack (``__main__.py``) with the ``pulumi`` CLI and a local file
   backend under ``.demo/`` when ``pulumi`` is on PATH, else through the engine-role
   harness in program mode (``omics_dynamic.testing.run_program``), and says which; both
   are a :class:`StackRunner`;
3. the stack selects its read sets with the cohort's sample sheet
   (``omics_dynamic/emulator/data/cohort_samples.csv``, config ``sampleSheet``); steps:
   ``preview`` of the new stack (what the first up will activate), ``up`` (activates the
   sheet's read sets), a second ``up`` (no changes, no new job), the emulator archives
   some read sets, ``preview`` (shows the update and its volume), ``up`` (re-activates
   them, activation_count 2), ``destroy``; then a separate, clearly labelled
   expected-failure step (config ``readSetIds`` holding a DELETED read set fails the
   activation before any job starts).

Exit status 0 only if every step did what it should. The emulator is always stopped.
State lives under ``.demo/`` (gitignored) or ``--demo-dir DIR``, cleared at the start; the
demo clears only a directory it made itself (it holds the marker file
``.omics-dynamic-demo``), an empty or missing one, or (default ``.demo/`` only) one left by
an earlier demo version that holds nothing but the demo's files. Any other existing
directory is refused with an error, never deleted (:func:`prepare_demo_dir`).

:func:`stack_config` builds the stack config of a run; the example-stack tests
(``tests/test_example_stack.py``) use it too.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import io
import json
import math
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path
from typing import Any, Callable, Optional, Protocol

from omics_dynamic.emulator import COHORT_PATH, COHORT_STORE_ID
from omics_dynamic.emulator.make_seed import SAMPLE_SHEET_PATH

REPO = Path(__file__).resolve().parent.parent

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
ACTIVATABLE = ("ARCHIVED", "ACTIVE", "ACTIVATING")
UNUSABLE = ("DELETED", "UPLOAD_FAILED")

Echo = Callable[[str], None]


class DemoFailure(Exception):
    """A step did not do what the demo expects."""


# --------------------------------------------------------------------------- demo directory

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


def say(text: str = "") -> None:
    print(text, flush=True)


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise DemoFailure(message)


# --------------------------------------------------------------------------- stack config

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

@dataclasses.dataclass
class Outcome:
    """What one operation did.

    ``ops`` {resource name: step op} of every resource the operation stepped (the stack and
    provider resources left out); ``exports`` the stack outputs after an up; ``lines`` the
    provider's progress lines (the harness: its stderr; the CLI: diagnostics, plus the
    CLI's own messages); ``resources`` the registrations in order
    (``omics_dynamic.testing.RegisteredResource``, with the inputs of resources recorded
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
        raise DemoFailure(f"{self.operation} registered no resource named {name!r}")


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


class HarnessRunner:
    """The example stack under the engine-role harness, program mode: the dynamic resource
    goes to the SDK's real provider server; pulumi-aws resources are recorded, not created."""

    label = ("engine-role harness, program mode (omics_dynamic.testing.run_program): "
             "`pulumi` CLI not found on PATH; these are NOT results of the real Pulumi engine")
    short_label = "engine-role harness, program mode"
    command = ""
    deploy_compute = True  # recorded, never created: shows the wiring
    strict_lines = True

    def __init__(self, state_dir: Path, env: dict[str, str]) -> None:
        from omics_dynamic.testing import run_program

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

    def up(self, stack: str, config: dict[str, Any], echo: Echo) -> Outcome:
        return self._run("up", stack, config, echo)

    def preview(self, stack: str, config: dict[str, Any], echo: Echo) -> Outcome:
        return self._run("preview", stack, config, echo)

    def destroy(self, stack: str, config: dict[str, Any], echo: Echo) -> Outcome:
        return self._run("destroy", stack, config, echo)

    def cleanup(self, stack: str) -> None:
        pass


class CliRunner:
    """The example stack with the real ``pulumi`` CLI and a local file backend under ``.demo/``.

    The project is a copy of ``Pulumi.yaml`` (virtualenv made absolute) plus a symlink to
    the repository's ``__main__.py`` in ``.demo/cli/``, so the demo's stack config never
    lands next to the user's own stacks. The sample sheet path in config is absolute, so
    the program finds it from that directory.

    Every command runs with ``--non-interactive`` (a persistent flag of the root command,
    pulumi/pulumi ``pkg/cmd/pulumi/pulumi.go``) and ``--color never``. What the CLI prints
    was checked against the pulumi/pulumi source (master of the ``fetch`` snapshot), not
    against a running CLI (none can be installed here):

    - ``up`` / ``destroy`` take ``--json`` together with ``--yes`` and ``--skip-preview``
      (``pkg/cmd/pulumi/operations/up.go`` / ``destroy.go``; ``updateFlagsToOptions`` in
      ``operations/io.go`` refuses only ``--skip-preview``/``--yes`` with
      ``--preview-only``). The CLI then prints one engine event per line:
      ``pkg/backend/display/display.go`` ``ShowEvents`` -> ``json.go`` ``ShowJSONEvents``
      -> ``display.go`` ``logJSONEvent`` (a ``json.Encoder``), read by
      :func:`read_engine_event`.
    - ``preview --json`` prints one indented document instead (``json.go``
      ``ShowPreviewDigest``, ``pkg/display/json.go`` ``PreviewDigest``), unless
      ``PULUMI_ENABLE_STREAMING_JSON_PREVIEW`` is set (``sdk/go/common/env/env.go``
      ``EnableStreamingJSONPreview``), which the runner sets to false; read by
      :func:`read_preview_digest`. ``--show-sames`` keeps unchanged resources in its
      ``steps`` (``display.go`` ``shouldShow``).
    - The provider's progress lines are its stderr: the engine reads a plugin's stderr line
      by line and, for the dynamic provider binaries (``pulumi-resource-pulumi-python``,
      ``isDynamicPluginBinary``), logs each with ``Diag.Infoerrf`` without a URN
      (``pkg/resource/plugin/plugin.go`` ``newPlugin``, ``runtrace``); other resource
      plugins' stderr goes to debug. ``pkg/engine/eventsink.go`` ``Infoerrf`` /
      ``StringifyDiag`` make that a diagnostic of severity ``info#err``, no prefix, the
      message wrapped in colour directives with a newline added.
    - The CLI's own messages (a failed update's ``error: ...``) are not events; they come
      through the same pipe (stderr is merged) and are passed on as they are.
    """

    label = "pulumi CLI ({version}) with a local file backend (.demo/cli-backend)"
    short_label = "pulumi CLI"
    command = "pulumi "
    deploy_compute = False  # no AWS account: the pulumi-aws compute is left out
    # A missing provider line is a note: the event shapes are checked against the source,
    # but this path has never run against a real CLI here.
    strict_lines = False

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
            main.symlink_to(PROGRAM)
        self.env = dict(os.environ)
        self.env.update(env)
        self.env.update({
            "PULUMI_BACKEND_URL": backend.resolve().as_uri(),
            "PULUMI_CONFIG_PASSPHRASE": self.env.get("PULUMI_CONFIG_PASSPHRASE", "omics-dynamic-demo"),
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            # `preview --json` prints its one document, not streamed events (see the class docstring).
            "PULUMI_ENABLE_STREAMING_JSON_PREVIEW": "false",
        })
        # deployCompute is false: no plugin besides the language host is needed.
        self.env.setdefault("PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION", "true")
        version = subprocess.run([pulumi, "version"], capture_output=True, text=True, env=self.env)
        self.label = self.label.format(version=(version.stdout.strip() or "unknown version"))

    def _cli(self, args: list[str], on_line: Optional[Echo] = None, check: bool = True) -> tuple[int, list[str]]:
        """Run ``pulumi <args> --non-interactive`` in the project; ``(exit code, output lines)``."""
        proc = subprocess.Popen([self.pulumi, *args, "--non-interactive"], cwd=self.project_dir, env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert proc.stdout is not None
        lines = []
        for raw in proc.stdout:
            line = raw.rstrip("\n")
            lines.append(line)
            if on_line is not None:
                on_line(line)
        rc = proc.wait()
        if check and rc != 0:
            tail = "\n".join(lines[-30:])
            raise DemoFailure(f"`pulumi {' '.join(args)}` exited {rc}:\n{tail}")
        return rc, lines

    def _select(self, stack: str, config: dict[str, Any]) -> None:
        """Select (creating) ``stack`` and write its config file."""
        import yaml  # PyYAML ships with the pulumi SDK

        self._cli(["stack", "select", "--create", stack])
        path = self.project_dir / f"Pulumi.{stack}.yaml"
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
        doc = doc or {}
        doc["config"] = {k: (v if isinstance(v, (list, dict)) else str(v)) for k, v in config.items()}
        path.write_text(yaml.safe_dump(doc, sort_keys=True), encoding="utf-8")

    def _operation(self, operation: str, stack: str, config: dict[str, Any], echo: Echo) -> Outcome:
        """``pulumi up|destroy --yes --skip-preview --json``; raises :class:`DemoFailure` with
        the last lines (diagnostics and CLI messages) when it exits non-zero."""
        out = Outcome(operation)
        self._select(stack, config)
        rc, _ = self._cli([operation, "--yes", "--skip-preview", "--json", "--color", "never", "--stack", stack],
                          on_line=lambda line: read_engine_event(line, out, echo), check=False)
        if rc != 0:
            raise DemoFailure(f"`pulumi {operation}` exited {rc}:\n" + "\n".join(out.lines[-30:]))
        if operation == "up":
            _, lines = self._cli(["stack", "output", "--json", "--show-secrets", "--stack", stack])
            out.exports = json.loads("\n".join(lines) or "{}")
        return out

    def up(self, stack: str, config: dict[str, Any], echo: Echo) -> Outcome:
        return self._operation("up", stack, config, echo)

    def destroy(self, stack: str, config: dict[str, Any], echo: Echo) -> Outcome:
        return self._operation("destroy", stack, config, echo)

    def preview(self, stack: str, config: dict[str, Any], echo: Echo) -> Outcome:
        out = Outcome("preview")
        self._select(stack, config)
        _, lines = self._cli(["preview", "--json", "--show-sames", "--color", "never", "--stack", stack])
        read_preview_digest(lines, out, echo)
        return out

    def cleanup(self, stack: str) -> None:
        self._cli(["stack", "rm", "--yes", "--force", "--stack", stack], check=False)


#: Colour directives (``<{%reset%}>``, ``<{%fg 1%}>``) of pulumi/pulumi
#: ``sdk/go/common/diag/colors/colors.go``; ``--color never`` removes them from events
#: (``logJSONEvent``), this only guards against a run without it.
_COLOR_DIRECTIVE = re.compile(r"<\{%[^%]*%\}>")
_STACK_TYPE = "pulumi:pulumi:Stack"


def _record_op(out: Outcome, urn: str, resource_type: str, op: str) -> None:
    if resource_type == _STACK_TYPE or resource_type.startswith("pulumi:providers:") or not urn:
        return
    out.ops[urn.rsplit("::", 1)[-1]] = op


def _emit(out: Outcome, echo: Echo, text: str) -> None:
    for line in _COLOR_DIRECTIVE.sub("", text).rstrip("\n").splitlines():
        out.lines.append(line)
        echo(line)


def read_engine_event(line: str, out: Outcome, echo: Echo) -> None:
    """Read one line of ``pulumi up|destroy --json`` into ``out``.

    A line is one ``apitype.EngineEvent`` (pulumi/pulumi ``sdk/go/common/apitype/events.go``;
    made by ``pkg/backend/display/events.go`` ``ConvertEngineEvent``): exactly one of its
    event fields is set, beside ``sequence`` and ``timestamp``. Read here:

    - ``resourcePreEvent.metadata`` (``StepEventMetadata``): ``op``, ``urn``, ``type``,
      ``logical`` (omitted when false). The engine sends one for every step it executes,
      "same" steps included (``pkg/resource/deploy/step_executor.go`` ``executeStep`` ->
      ``pkg/engine/update.go`` ``OnResourceStepPre``), and ``ShowJSONEvents`` filters none.
      Only logical steps are kept (``Logical()`` in ``pkg/resource/deploy/step.go``: a
      replace's create-replacement/delete-replaced are not logical; its "replace" is), so
      ``out.ops[name]`` is the resource's op as the harness reports it. The stack and
      provider resources are left out. ``planning`` events (a preview inside ``up``,
      ``previewActions.OnResourceStepPre``) are skipped.
    - ``diagnosticEvent``: ``prefix`` (``"error: "``, ``"warning: "``; empty for info and
      for the provider's stderr, severity ``info#err``), ``message`` (ANSI codes already
      stripped by ``ConvertEngineEvent``, colour directives by ``--color never``),
      ``severity``, ``urn`` (none for plugin stderr), ``ephemeral``. Ephemeral (status)
      and ``debug`` diagnostics are skipped, as ``ShowPreviewDigest`` does; the stream ID
      is not in the JSON (``ConvertEngineEvent`` does not copy it). Each remaining one
      becomes lines of ``out.lines`` (prefix + message) passed to ``echo``.
    - ``stdoutEvent.message`` likewise (messages of the CLI's own).

    Other events are ignored; a line that is not a JSON object (the CLI's own stderr) goes
    to ``out.lines`` and ``echo`` as it is.
    """
    try:
        event = json.loads(line)
    except ValueError:
        event = None
    if not isinstance(event, dict):
        if line.strip():
            _emit(out, echo, line)
        return
    pre = event.get("resourcePreEvent")
    if isinstance(pre, dict) and not pre.get("planning"):
        meta = pre.get("metadata") or {}
        if meta.get("logical"):
            _record_op(out, str(meta.get("urn", "")), str(meta.get("type", "")), str(meta.get("op", "")))
    diagnostic = event.get("diagnosticEvent")
    if isinstance(diagnostic, dict) and not diagnostic.get("ephemeral") and diagnostic.get("severity") != "debug":
        _emit(out, echo, str(diagnostic.get("prefix") or "") + str(diagnostic.get("message") or ""))
    stdout = event.get("stdoutEvent")
    if isinstance(stdout, dict):
        _emit(out, echo, str(stdout.get("message") or ""))


def read_preview_digest(lines: list[str], out: Outcome, echo: Echo) -> None:
    """Read the output of ``pulumi preview --json`` into ``out``.

    The document is pulumi/pulumi ``pkg/display/json.go`` ``PreviewDigest``, printed by
    ``pkg/backend/display/json.go`` ``ShowPreviewDigest`` with ``json.MarshalIndent`` at
    the end of the preview: ``steps[]`` (``PreviewStep``: ``op``, ``urn``; same steps only
    with ``--show-sames``, replacement steps only with ``--show-replacement-steps``),
    ``diagnostics[]`` (``PreviewDiagnostic``: ``message`` already holds prefix + message
    without colour, ``severity``, ``urn``; ephemeral and debug ones are left out there).
    ``out.ops`` gets each step's op by resource name (stack and provider resources left
    out); each diagnostic's lines go to ``out.lines`` and ``echo``. Lines around the
    document (the CLI's own stderr, merged into the pipe) are passed on as they are.

    Raises :class:`DemoFailure` when no JSON document is found.
    """
    text = "\n".join(lines)
    start = next((i for i, line in enumerate(lines) if line.startswith("{")), None)
    if start is None:
        raise DemoFailure("`pulumi preview --json` printed no JSON document:\n" + "\n".join(lines[-30:]))
    before = lines[:start]
    offset = sum(len(line) + 1 for line in before)
    try:
        doc, end = json.JSONDecoder().raw_decode(text, offset)
    except ValueError as err:
        raise DemoFailure(f"`pulumi preview --json` printed no valid JSON document ({err}):\n"
                          + "\n".join(lines[-30:])) from None
    for line in before + text[end:].strip("\n").splitlines():
        if line.strip():
            _emit(out, echo, line)
    for diag in doc.get("diagnostics") or []:
        _emit(out, echo, str(diag.get("message") or ""))
    for step in doc.get("steps") or []:
        urn = str(step.get("urn", ""))
        # The URN's last-but-one part is the type: urn:pulumi:<stack>::<project>::<type>::<name>.
        parts = urn.split("::")
        _record_op(out, urn, parts[-2] if len(parts) >= 2 else "", str(step.get("op", "")))


def make_runner(demo_dir: Path, env: dict[str, str], force_harness: bool = False) -> StackRunner:
    """The CLI runner when ``pulumi`` is on PATH (and not ``force_harness``), else the harness runner."""
    pulumi = shutil.which("pulumi")
    if pulumi and not force_harness:
        return CliRunner(demo_dir, env, pulumi)
    return HarnessRunner(demo_dir / "harness", env)


# --------------------------------------------------------------------------- steps

def _summary(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "none"


def _count(statuses: dict[str, str], ids: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for rid in ids:
        counts[statuses.get(rid, "MISSING")] = counts.get(statuses.get(rid, "MISSING"), 0) + 1
    return counts


def _shown_path(path: Path) -> str:
    """``path`` relative to the checkout when inside it, else absolute."""
    try:
        return str(path.relative_to(REPO))
    except ValueError:
        return str(path)


def _gbases(bases: Any) -> str:
    return f"{bases / 1e9:,.1f} Gbases" if isinstance(bases, (int, float)) else "?"


@dataclasses.dataclass
class Demo:
    """What the steps share: the runner, the emulator, the config, what the sheet selects
    (``ids``, from the files), the emulator's statuses at the start, and the job count."""

    runner: StackRunner
    emu: EmulatorProcess
    args: argparse.Namespace
    config: dict[str, Any]
    ids: list[str]
    statuses: dict[str, str]
    stacks_used: list[str] = dataclasses.field(default_factory=list)
    jobs: int = 0

    def run(self, number: str, title: str, operation: str, stack: str = "demo",
            config: Optional[dict[str, Any]] = None) -> tuple[Outcome, float]:
        say()
        say(f"--- step {number}: {title} [{self.runner.command}{operation}]")
        if stack not in self.stacks_used:
            self.stacks_used.append(stack)
        method = {"up": self.runner.up, "preview": self.runner.preview, "destroy": self.runner.destroy}[operation]
        t0 = time.monotonic()
        out = method(stack, config or self.config, lambda line: say(f"    | {line}"))
        return out, time.monotonic() - t0

    def report(self, out: Outcome, elapsed_s: float) -> int:
        """Print what the operation did; returns the activation jobs it started."""
        jobs_now = len(self.emu.job_ids())
        new_jobs, self.jobs = jobs_now - self.jobs, jobs_now
        say(f"    => {elapsed_s:.1f} s real (~{elapsed_s * self.args.time_scale / 60:.1f} min emulated); "
            f"cohort: {out.ops.get('cohort', '?')}; new activation jobs: {new_jobs}")
        if out.resources is not None:
            say("    => registration order: " + ", ".join(f"{r.name} ({r.op})" for r in out.resources))
        if out.exports and out.operation == "up":
            ex = out.exports
            job_ids = ex.get("jobIds") or []
            shown = ", ".join(job_ids[:3]) + (", ..." if len(job_ids) > 3 else "")
            say(f"    => exports: activationCount={ex.get('activationCount')}, "
                f"activatedBaseCount={ex.get('activatedBaseCount')} ({_gbases(ex.get('activatedBaseCount'))}), "
                f"statusSummary={json.dumps(ex.get('statusSummary'))}, "
                f"jobIds=[{len(job_ids)} IDs{': ' + shown if job_ids else ''}], activatedAt={ex.get('activatedAt')}")
            sample = ex.get("readSetUriSample") or {}
            say(f"    => exports: readSetUriCount={ex.get('readSetUriCount')}, readSetUriSample="
                + ", ".join(f"{rid}: {uri}" for rid, uri in list(sample.items())[:2])
                + (", ..." if len(sample) > 2 else ""))
            if ex.get("sampleSheetUri"):
                say(f"    => exports: sampleSheetUri={ex['sampleSheetUri']}")
        return new_jobs

    def expect_op(self, out: Outcome, op: str, step: str) -> None:
        """The activation's step op is ``op``."""
        expect(out.ops.get("cohort") == op, f"{step}: the activation's op is {out.ops.get('cohort')!r}, not {op!r}")

    def expect_line(self, out: Outcome, words: tuple[str, ...], what: str) -> None:
        """Some provider line holds every one of ``words`` (else a failure, or a note when
        the runner's lines are not ``strict_lines``)."""
        if any(all(w in line for w in words) for line in out.lines):
            return
        if self.runner.strict_lines:
            raise DemoFailure(f"no provider line shows {what}")
        say(f"    (note: the provider's line with {what} was not in the CLI's output)")


def step_preview_new(demo: Demo) -> None:
    """A preview of the new stack: the check's create line gives the volume, no job starts."""
    out, dt = demo.run("1", "preview of the new stack: what the first up will activate", "preview")
    expect(demo.report(out, dt) == 0, "the preview started an activation job")
    demo.expect_op(out, "create", "step 1")
    demo.expect_line(out, ("create: will activate", "Gbases"), "the read sets and gigabases the create will activate")


def step_first_up(demo: Demo) -> None:
    """The first up activates the sheet's read sets, then declares the compute after it."""
    out, dt = demo.run("2", "first up: activate the sheet's read sets, then declare the compute", "up")
    new_jobs = demo.report(out, dt)
    live = demo.emu.statuses(COHORT_STORE_ID)
    expect(all(live[r] == "ACTIVE" for r in demo.ids), "after the first up some read sets are not ACTIVE")
    ex = out.exports
    expect(ex.get("activationCount") == 1, f"activationCount {ex.get('activationCount')} != 1")
    expect(ex.get("readSetCount") == len(demo.ids) == ex.get("readSetUriCount"),
           f"readSetCount {ex.get('readSetCount')} / readSetUriCount {ex.get('readSetUriCount')} "
           f"!= the sheet's {len(demo.ids)} read sets")
    expect(sorted(ex.get("jobIds") or []) == sorted(demo.emu.job_ids()), "exported jobIds differ from the emulator's jobs")
    expect(new_jobs > 0, "the first up started no activation job")
    expect(isinstance(ex.get("activatedBaseCount"), int) and ex["activatedBaseCount"] > 0,
           f"activatedBaseCount {ex.get('activatedBaseCount')!r}")
    demo.expect_op(out, "create", "step 2")
    if out.resources is None:
        return
    cohort, machine = out.resource("cohort"), out.resource("start-run")
    later = [r for r in out.resources if not r.dynamic]
    expect(all(r.registered_t_s >= cohort.completed_t_s and cohort.urn in r.dependencies for r in later),
           "a pulumi-aws resource was registered before the activation completed or without depending on it")
    say(f"    => the {len(later)} pulumi-aws resources were registered after the activation completed "
        f"({cohort.completed_t_s:.2f} s into the run; the state machine at {machine.registered_t_s:.2f} s), "
        "and depend on it")
    sheet = out.resource("workflow-sample-sheet").inputs
    rows = list(csv.DictReader(io.StringIO(sheet["content"])))
    expect(sorted(r["read_set_id"] for r in rows) == sorted(demo.ids), "the S3 sample sheet lists other read sets")
    uri = f"s3://{sheet['bucket']}/{sheet['key']}"
    params = json.loads(machine.inputs["definition"])["States"]["StartRun"]["Parameters"]["Parameters"]
    expect(params == {"input": uri}, f"the state machine's run parameters are {params}, not the sheet {uri}")
    first = rows[0]
    say(f"    => the workflow's sample sheet {uri} ({len(rows)} rows, {len(sheet['content']):,} bytes); its first row:")
    say(f"       {','.join(first)}")
    say(f"       {','.join(first.values())}")
    say(f"    => the state machine's run parameters: {json.dumps(params)}")


def step_no_change(demo: Demo) -> None:
    """A second up with nothing changed starts no job and keeps the exports."""
    out, dt = demo.run("3", "second up: nothing changed", "up")
    expect(demo.report(out, dt) == 0, "the second up started an activation job")
    demo.expect_op(out, "same", "step 3")
    expect(out.exports.get("activationCount") == 1, "activationCount changed on a no-op up")


def step_archive_and_preview(demo: Demo) -> None:
    """The emulator archives read sets; the preview's diff shows the update and its volume."""
    archived = demo.ids[: demo.args.archive]
    demo.emu.admin("archive", {"storeId": COHORT_STORE_ID, "readSetIds": archived})
    say()
    say(f"--- the emulator archives {read_sets_text(len(archived))} (as HealthOmics does after 30 days unused): "
        f"{', '.join(archived[:3])}{', ...' if len(archived) > 3 else ''}")
    out, dt = demo.run("4", "preview: the provider's diff sees them", "preview")
    expect(demo.report(out, dt) == 0, "the preview started an activation job")
    demo.expect_op(out, "update", "step 4")
    demo.expect_line(out, update_preview_words(len(archived)),
                     "the update and the read sets and gigabases it will activate")


def read_sets_text(count: int) -> str:
    """``"1 read set"``, ``"25 read sets"``, ``"1,000 read sets"``: the count and noun as the
    provider writes them (``omics_dynamic.costmodel.volume_text``)."""
    return f"{count:,} read set{'' if count == 1 else 's'}"


def update_preview_words(archived: int) -> tuple[str, ...]:
    """Words step 4 expects in one provider line of the preview after the emulator archived
    ``archived`` read sets (>= 1): the diff's reason (``provider.py`` ``_live_reason``:
    ``update: N of M read sets are not ACTIVE ...; `pulumi up` will activate N read set(s)
    (X Gbases)``)."""
    return ("update:", "not ACTIVE", f"will activate {read_sets_text(archived)} (", "Gbases")


def step_reactivate(demo: Demo) -> None:
    """The up re-activates the archived read sets; activation_count 2 reaches the compute."""
    out, dt = demo.run("5", "up: re-activate them", "up")
    expect(demo.report(out, dt) > 0, "the re-activating up started no activation job")
    live = demo.emu.statuses(COHORT_STORE_ID)
    expect(all(live[r] == "ACTIVE" for r in demo.ids), "after the re-activating up some read sets are not ACTIVE")
    expect(out.exports.get("activationCount") == 2,
           f"activationCount {out.exports.get('activationCount')} != 2 after re-activation")
    demo.expect_op(out, "update", "step 5")
    if out.resources is not None:
        definition = out.resource("start-run").inputs.get("definition", "")
        expect("activation #2" in definition, "the state machine definition does not carry activation #2")
        say("    => the state machine's definition now says 'activation #2' (its re-run trigger)")


def step_destroy(demo: Demo) -> None:
    out, dt = demo.run("6", "destroy", "destroy")
    say(f"    => {dt:.1f} s real; the read sets stay ACTIVE (HealthOmics has no archive API)")
    demo.expect_op(out, "delete", "step 6")


def step_expected_failure(demo: Demo) -> None:
    """A separate stack whose readSetIds hold a DELETED read set fails before any job."""
    unusable = sorted(r for r, s in demo.statuses.items() if s in UNUSABLE)
    bad = sorted(r for r in unusable if demo.statuses[r] == "DELETED")[:1] or unusable[:1]
    say()
    say(f"--- step 7 (EXPECTED FAILURE, separate stack 'demo-failure'): config readSetIds holding "
        f"{bad[0]} ({demo.statuses[bad[0]]}) must fail before starting any job")
    config = stack_config(demo.emu.url, time_scale=demo.args.time_scale, deploy_compute=False,
                          read_set_ids=demo.ids[:5] + bad)
    jobs_before = len(demo.emu.job_ids())
    demo.stacks_used.append("demo-failure")
    try:
        demo.runner.up("demo-failure", config, lambda line: say(f"    | {line}"))
    except Exception as err:
        first = str(err).strip().splitlines()
        message = next((line for line in first if bad[0] in line), first[-1] if first else repr(err))
        # Keep the provider's sentence, not the gRPC wrapping around it.
        start = message.find("ReadSetsUnusableError")
        message = message[start:] if start >= 0 else message
        end = message.find("(gRPC")
        message = message[:end] if end > 0 else message
        say(f"    => failed as expected: {message.strip()}")
    else:
        raise DemoFailure("step 7: up with a DELETED read set succeeded")
    expect(len(demo.emu.job_ids()) == jobs_before, "step 7 started an activation job")
    try:
        demo.runner.destroy("demo-failure", config, lambda line: None)
    except Exception:
        pass


STEPS = (step_preview_new, step_first_up, step_no_change, step_archive_and_preview, step_reactivate,
         step_destroy, step_expected_failure)


# --------------------------------------------------------------------------- main

def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--time-scale", type=float, default=30.0,
                        help="emulated seconds per real second, for the emulator and the provider (default 30)")
    parser.add_argument("--activation-seconds", type=float, default=60.0,
                        help="emulated seconds one activation takes (default 60)")
    parser.add_argument("--archive", type=int, default=25, help="read sets the emulator archives again (default 25)")
    parser.add_argument("--harness", action="store_true", help="use the engine-role harness even if pulumi is on PATH")
    parser.add_argument("--demo-dir", default=str(DEFAULT_DEMO_DIR),
                        help="state and log directory (default .demo/ in the checkout). It is cleared at the "
                             f"start, so it must be new, empty, or one the demo made (it holds {DEMO_DIR_MARKER}); "
                             "any other directory is refused, never deleted")
    args = parser.parse_args(argv)
    if not (args.time_scale > 0 and math.isfinite(args.time_scale)):
        parser.error(f"--time-scale must be a positive number of emulated seconds per real second, got {args.time_scale:g}")
    if not (args.activation_seconds > 0 and math.isfinite(args.activation_seconds)):
        parser.error(f"--activation-seconds must be a positive number of seconds, got {args.activation_seconds:g}")
    if args.archive < 1:
        parser.error(f"--archive must be at least 1 read set, got {args.archive}")

    try:
        demo_dir = prepare_demo_dir(Path(args.demo_dir))
    except DemoDirError as err:
        parser.error(str(err))
    os.environ.update(AWS_ENV)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_OMICS"):
        os.environ.pop(name, None)

    t_demo = time.monotonic()
    runner = make_runner(demo_dir, dict(AWS_ENV), force_harness=args.harness)
    say("=" * 78)
    say(f"omics-dynamic demo: running the example stack with the {runner.label}")
    say("=" * 78)
    emu = EmulatorProcess(args.time_scale, args.activation_seconds, demo_dir / "emulator.log")
    demo: Optional[Demo] = None
    try:
        statuses = emu.statuses(COHORT_STORE_ID)
        selection = cohort_selection()
        ids = [rs["id"] for read_sets in selection.values() for rs in read_sets]
        say(f"emulator: {emu.url} (shipped cohort, store {COHORT_STORE_ID}; activation "
            f"{args.activation_seconds:g} s emulated, clock x{args.time_scale:g}; log {_shown_path(demo_dir / 'emulator.log')})")
        say(f"cohort: {len(statuses)} read sets: {_summary(_count(statuses, sorted(statuses)))}")
        say(f"stack input: config sampleSheet = {SAMPLE_SHEET.relative_to(REPO)}: {len(selection)} samples "
            f"(e.g. {', '.join(list(selection)[:2])}) whose {len(ids)} read sets are all activatable: "
            f"{_summary(_count(statuses, ids))}")
        demo = Demo(runner, emu, args, stack_config(emu.url, time_scale=args.time_scale,
                                                    deploy_compute=runner.deploy_compute),
                    ids, statuses)
        if runner.deploy_compute:
            say("deployCompute: true (the pulumi-aws S3 bucket and sample sheet, IAM roles and state machine "
                "are recorded by the harness, not created)")
        else:
            say("deployCompute: false (no AWS account: the pulumi-aws compute is left out)")
        for step in STEPS:
            step(demo)
        say()
        say("=" * 78)
        say(f"demo OK in {time.monotonic() - t_demo:.1f} s ({runner.short_label}); "
            f"emulator jobs: {len(emu.job_ids())}")
        say("=" * 78)
        return 0
    except DemoFailure as err:
        say()
        say(f"DEMO FAILED: {err}")
        return 1
    except Exception as err:
        say()
        say(f"DEMO FAILED: {type(err).__name__}: {err}")
        return 1
    finally:
        for stack in demo.stacks_used if demo else ():
            try:
                runner.cleanup(stack)
            except Exception:
                pass
        emu.stop()


if __name__ == "__main__":
    sys.exit(main())
