"""Run a Pulumi program with the real ``pulumi`` CLI through the Automation API, on a local
file backend: the demo, the real-CLI tests and the GitOps script's tests use it.

The program runs as an Automation API *inline program*: the Python process that calls
:class:`LocalStack` serves the program to the CLI (``pulumi up --client=<address>``, the
SDK's ``pulumi.automation._server.LanguageServer``), so the CLI needs no Python language
host (``pulumi-language-python``), which the Go module proxy does not serve. Everything
else is the real engine: the CLI plans and executes, launches the SDK's dynamic provider
server through ``pulumi-resource-pulumi-python`` (found next to the CLI), checkpoints to
the file backend, locks the stack, and prints what ``pulumi up`` prints. The program file
(``__main__.py``) is run with :func:`runpy.run_path`, so it is the same file a project
directory would run.

Environment of every operation (:func:`cli_env`): ``PULUMI_BACKEND_URL=file://<dir>``,
``PULUMI_HOME`` apart from the user's, ``PULUMI_CONFIG_PASSPHRASE``,
``PULUMI_SKIP_UPDATE_CHECK``, ``PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION`` (no plugin is
ever downloaded) and ``PULUMI_PYTHON_CMD`` = this interpreter (the dynamic provider's
Python, which imports ``omics_dynamic``).

Run as a module, it performs one operation in its own process, which tests kill or
interrupt (``python -m omics_dynamic_testing.automation up --work-dir D --stack S
--program P``; ``--help``).
"""

from __future__ import annotations

import argparse
import dataclasses
import glob
import json
import os
import runpy
import shutil
import signal
import sys
import threading
from pathlib import Path
from typing import Any, Callable, Mapping, Optional, Sequence

#: Path of the ``pulumi`` binary to use (``make pulumi`` prints it; ``make test`` and
#: ``make demo`` set this variable from it).
PULUMI_ENV = "OMICS_DYNAMIC_PULUMI"
#: Where ``make pulumi`` keeps its builds (``scripts/pulumi-cli.sh``).
CACHE_ENV = "OMICS_DYNAMIC_CACHE"
#: The passphrase of the local stacks' secrets (test stacks only).
PASSPHRASE = "omics-dynamic-local"

Echo = Callable[[str], None]
#: The pseudo-terminal of :meth:`LocalStack.up_in_terminal`: wide enough that the
#: interactive display's Info column holds a whole progress line (a narrower terminal
#: cuts it at its width).
TERMINAL_COLUMNS = 320
TERMINAL_ROWS = 50


class CliNotFoundError(RuntimeError):
    """No ``pulumi`` CLI: none named by ``OMICS_DYNAMIC_PULUMI``, none on PATH, none built."""


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(os.environ.get(CACHE_ENV) or os.path.join(base, "omics-dynamic"))


def find_pulumi() -> Optional[str]:
    """The ``pulumi`` binary to use, or None.

    In order: ``$OMICS_DYNAMIC_PULUMI`` (must be an executable file, else
    :class:`CliNotFoundError`), ``pulumi`` on PATH, the newest complete build in
    ``make pulumi``'s cache (``$OMICS_DYNAMIC_CACHE`` or ``~/.cache/omics-dynamic``,
    ``pulumi-<version>/bin/pulumi``).
    """
    named = os.environ.get(PULUMI_ENV)
    if named:
        if not (os.path.isfile(named) and os.access(named, os.X_OK)):
            raise CliNotFoundError(f"{PULUMI_ENV}={named!r} is not an executable file: run `make pulumi` "
                                   f"and set {PULUMI_ENV} to the path it prints last, or unset it")
        return os.path.abspath(named)
    on_path = shutil.which("pulumi")
    if on_path:
        return os.path.abspath(on_path)
    builds = sorted(glob.glob(str(_cache_dir() / "pulumi-v*" / "bin" / ".complete")), key=os.path.getmtime)
    return str(Path(builds[-1]).parent / "pulumi") if builds else None


def require_pulumi() -> str:
    """:func:`find_pulumi`, or :class:`CliNotFoundError` naming the fix."""
    found = find_pulumi()
    if found is None:
        raise CliNotFoundError("no pulumi CLI: run `make pulumi` (builds it where Go is installed) or install "
                               "the CLI as https://www.pulumi.com/docs/install/ says")
    return found


def has_language_host(pulumi: str) -> bool:
    """Whether the CLI can run a Python project directory itself (``pulumi-language-python``
    next to it or on PATH): without it, programs run as inline programs only."""
    return os.path.exists(os.path.join(os.path.dirname(pulumi), "pulumi-language-python")) or \
        shutil.which("pulumi-language-python") is not None


def cli_env(backend_dir: Path, pulumi_home: Path, extra: Optional[Mapping[str, str]] = None) -> dict[str, str]:
    """The environment variables every operation gets (see the module docstring) plus
    ``extra``; ``PULUMI_ACCESS_TOKEN`` is blanked so nothing reaches Pulumi Cloud."""
    env = {
        "PULUMI_BACKEND_URL": backend_dir.resolve().as_uri(),
        "PULUMI_HOME": str(pulumi_home.resolve()),
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_PYTHON_CMD": sys.executable,
        "PULUMI_ACCESS_TOKEN": "",
    }
    env.update(extra or {})
    return env


def _project_name(work_dir: Path) -> Optional[str]:
    """The ``name`` in ``work_dir/Pulumi.yaml`` (or ``.yml``), None without one."""
    import yaml  # PyYAML comes with the pulumi SDK

    for file_name in ("Pulumi.yaml", "Pulumi.yml"):
        path = work_dir / file_name
        if path.exists():
            return str((yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("name"))
    return None


def program_from_file(path: Path) -> Callable[[], None]:
    """An inline program that runs the Pulumi program file ``path`` (``__main__.py``) as
    the Python language host would: as ``__main__``, with its directory on ``sys.path``."""
    path = Path(path).resolve()

    def program() -> None:
        if str(path.parent) not in sys.path:
            sys.path.insert(0, str(path.parent))
        runpy.run_path(str(path), run_name="__main__")

    return program


@dataclasses.dataclass
class Diagnostic:
    """One engine diagnostic: ``severity`` (``info``, ``info#err``, ``warning``, ``error``),
    ``message`` (without the trailing newline), ``urn`` (None for the stack's own)."""

    severity: str
    message: str
    urn: Optional[str]


@dataclasses.dataclass
class Operation:
    """What one operation did.

    ``steps``: (resource name, step op) of each step in the order the engine began them
    (its ``resourcePreEvent`` s; the stack and the provider resources left out), e.g. a
    replacement's ``create-replacement``, ``replace``, ``delete-replaced``; ``ops``: {resource
    name: its first step's op}; ``output``: the CLI's
    stdout lines as a person sees them; ``diagnostics``: the engine's diagnostic events in
    order (the dynamic provider's progress lines are ``info#err`` diagnostics);
    ``outputs``: the stack outputs after an ``up`` (plain values, secrets shown);
    ``changes``: the summary's {op: count}; ``error``: the CLI's failure text, or None.
    """

    operation: str
    steps: list[tuple[str, str]] = dataclasses.field(default_factory=list)
    ops: dict[str, str] = dataclasses.field(default_factory=dict)
    output: list[str] = dataclasses.field(default_factory=list)
    diagnostics: list[Diagnostic] = dataclasses.field(default_factory=list)
    outputs: dict[str, Any] = dataclasses.field(default_factory=dict)
    changes: dict[str, int] = dataclasses.field(default_factory=dict)
    error: Optional[str] = None

    def messages(self, *severities: str) -> list[str]:
        """Diagnostic messages of the given severities (all when none given)."""
        return [d.message for d in self.diagnostics if not severities or d.severity in severities]


class StackOperationError(RuntimeError):
    """The CLI failed an operation; ``operation`` holds what it did up to then and its output."""

    def __init__(self, operation: Operation) -> None:
        super().__init__(operation.error or f"pulumi {operation.operation} failed")
        self.operation = operation


def _command_class() -> type:
    """A ``pulumi.automation.PulumiCommand`` that can also run ``up`` with its preview and
    run a command under a pseudo-terminal (the CLI's interactive display)."""
    import fcntl
    import pty
    import struct
    import subprocess
    import termios
    import time

    from pulumi import automation as auto
    from pulumi.automation._cmd import CommandResult, _fixup_path
    from pulumi.automation.errors import create_command_error

    class Command(auto.PulumiCommand):
        #: ``up`` runs its preview first (no ``--skip-preview``): two engine runs.
        with_preview = False
        #: Run under a pseudo-terminal, interactive: (seconds since start, text) chunks go
        #: to this list.
        terminal: Optional[list[tuple[float, str]]] = None

        def run(self, args: list[str], cwd: str, additional_env: Mapping[str, str],
                on_output: Optional[Callable[[str], Any]] = None,
                on_error: Optional[Callable[[str], Any]] = None) -> Any:
            if self.with_preview and args[:1] == ["up"]:
                args = [a for a in args if a != "--skip-preview"]
            if self.terminal is None:
                return super().run(args, cwd, additional_env, on_output, on_error)
            return self._run_in_terminal(args, cwd, additional_env, on_output)

        def _run_in_terminal(self, args: list[str], cwd: str, additional_env: Mapping[str, str],
                             on_output: Optional[Callable[[str], Any]]) -> Any:
            assert self.terminal is not None
            env = {**os.environ, **additional_env, "PULUMI_AUTOMATION_API": "true", "TERM": "xterm-256color",
                   "COLUMNS": str(TERMINAL_COLUMNS), "LINES": str(TERMINAL_ROWS)}
            if os.path.isabs(self.command):
                env = _fixup_path(env, os.path.dirname(self.command))
            primary, secondary = pty.openpty()
            # Without a window size the CLI falls back to its non-interactive display
            # ("unusable dimensions (0 x 0)").
            fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", TERMINAL_ROWS, TERMINAL_COLUMNS, 0, 0))
            start = time.monotonic()
            with subprocess.Popen([self.command, *args], stdin=secondary, stdout=secondary, stderr=secondary,
                                  cwd=cwd, env=env, start_new_session=True) as process:
                os.close(secondary)
                chunks: list[str] = []
                while True:
                    try:
                        data = os.read(primary, 65536)
                    except OSError:  # EIO: the terminal's last writer closed it
                        break
                    if not data:
                        break
                    text = data.decode("utf-8", "replace")
                    self.terminal.append((time.monotonic() - start, text))
                    chunks.append(text)
                    if on_output is not None:
                        on_output(text)
                process.wait()
            os.close(primary)
            result = CommandResult(stdout="".join(chunks), stderr="", code=process.returncode)
            if result.code != 0:
                raise create_command_error(result)
            return result

    return Command


class LocalStack:
    """One stack of an inline program on a file backend, driven by the real CLI.

    Args:
        work_dir: the project directory (created; the Automation API writes ``Pulumi.yaml``
            and ``Pulumi.<stack>.yaml`` there). The backend (``backend/``) and
            ``PULUMI_HOME`` (``home/``) are made beside it unless given.
        stack: the stack name.
        project: the project name: the namespace of the program's config keys.
        program: the inline program (:func:`program_from_file` for a program file).
        pulumi: the ``pulumi`` binary (default :func:`require_pulumi`).
        env: extra environment for the CLI and the provider (AWS credentials...).
        backend_dir / pulumi_home: override the defaults above.
        create: create the stack when it does not exist (else the Automation API's
            ``StackNotFoundError``).

    A ``Pulumi.yaml`` already in ``work_dir`` (a user's project) is read, never rewritten,
    and must name ``project`` (else ValueError); otherwise one is written with ``main`` set
    as below.

    The project's ``main`` is ``work_dir``: the engine starts the dynamic provider in the
    program's directory, which for an inline program the Automation API otherwise takes
    from this process's working directory (``main = os.getcwd()``,
    ``create_or_select_stack``); a project directory's program and provider run there.
    The program itself runs in this process, in its working directory.

    Raises:
        CliNotFoundError: no CLI. The Automation API's own errors (``CommandError``) when
        the CLI cannot create or select the stack.
    """

    def __init__(self, work_dir: Path, stack: str, project: str, program: Callable[[], None], *,
                 pulumi: Optional[str] = None, env: Optional[Mapping[str, str]] = None,
                 backend_dir: Optional[Path] = None, pulumi_home: Optional[Path] = None,
                 create: bool = True) -> None:
        from pulumi import automation as auto

        self.pulumi = pulumi or require_pulumi()
        self.work_dir = Path(work_dir)
        self.backend_dir = Path(backend_dir) if backend_dir else self.work_dir.parent / "backend"
        self.pulumi_home = Path(pulumi_home) if pulumi_home else self.work_dir.parent / "home"
        for directory in (self.work_dir, self.backend_dir, self.pulumi_home):
            directory.mkdir(parents=True, exist_ok=True)
        self.env = cli_env(self.backend_dir, self.pulumi_home, env)
        self.project = project
        bin_dir = os.path.dirname(self.pulumi)
        if os.path.basename(bin_dir) != "bin" or os.path.basename(self.pulumi) != "pulumi":
            raise CliNotFoundError(f"{self.pulumi}: the Automation API runs <root>/bin/pulumi; "
                                   "give the path of a binary named pulumi in a bin directory")
        self.command = _command_class()(root=os.path.dirname(bin_dir))
        settings: Optional[Any] = auto.ProjectSettings(
            name=project, runtime="python", main=str(self.work_dir.resolve()),
            backend=auto.ProjectBackend(url=self.env["PULUMI_BACKEND_URL"]))
        existing = _project_name(self.work_dir)
        if existing is not None:  # a user's project: read as it is, never rewritten
            if existing != project:
                raise ValueError(f"{self.work_dir / 'Pulumi.yaml'} names the project {existing!r}, not "
                                 f"{project!r}: pass the project's own name (it is the namespace of its config)")
            settings = None
        options = auto.LocalWorkspaceOptions(work_dir=str(self.work_dir), pulumi_home=self.env["PULUMI_HOME"],
                                             env_vars=self.env, project_settings=settings,
                                             pulumi_command=self.command)
        # The CLI's dynamic-provider script and Python subprocesses look up PATH: the
        # CLI's directory first, as PulumiCommand itself does for the CLI.
        self.env["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
        make = auto.create_or_select_stack if create else auto.select_stack
        self.stack = make(stack_name=stack, project_name=project, program=program, opts=options)
        self.name = stack

    # ------------------------------------------------------------------ config and state

    def set_config(self, config: Mapping[str, Any]) -> None:
        """Replace the stack's config with ``config`` ({namespaced key: value}; lists and
        dicts become JSON text, read with ``config.get_object``; other values become
        strings), keeping the rest of ``Pulumi.<stack>.yaml`` (the passphrase's
        ``encryptionsalt``)."""
        workspace = self.stack.workspace
        settings = workspace.stack_settings(self.name)
        # Lists and dicts as JSON text (what `config.get_object` reads): YAML would type a
        # digit string such as "0749" as a number when the CLI reads the file back.
        settings.config = {k: (json.dumps(v) if isinstance(v, (list, dict)) else str(v)) for k, v in config.items()}
        workspace.save_stack_settings(self.name, settings)

    def export(self) -> dict[str, Any]:
        """``pulumi stack export``: the checkpoint, as a dict (``deployment.resources``,
        ``deployment.pending_operations``...)."""
        return json.loads(json.dumps(self.stack.export_stack().__dict__))

    def import_state(self, deployment: Mapping[str, Any]) -> None:
        """``pulumi stack import`` of ``deployment`` (``{"version": 3, "deployment": ...}``)."""
        from pulumi import automation as auto

        self.stack.import_stack(auto.Deployment(version=deployment["version"], deployment=deployment["deployment"]))

    def outputs(self) -> dict[str, Any]:
        """The stack outputs, plain values (secrets shown)."""
        return {k: v.value for k, v in self.stack.outputs().items()}

    def lock_files(self) -> list[Path]:
        """The stack's DIY lock files (``.pulumi/locks/organization/<project>/<stack>/``)."""
        directory = self.backend_dir / ".pulumi" / "locks" / "organization" / self.project / self.name
        return sorted(directory.glob("*.json")) if directory.is_dir() else []

    def cancel(self) -> None:
        """``pulumi cancel``: deletes the stack's lock files (DIY backends)."""
        self.stack.cancel()

    def remove(self) -> None:
        """``pulumi stack rm --force``: the stack and its checkpoint."""
        self.stack.workspace.remove_stack(self.name, force=True)

    # ------------------------------------------------------------------ operations

    def _run(self, operation: str, call: Callable[..., Any], echo: Optional[Echo], **kwargs: Any) -> Operation:
        from pulumi.automation import errors as auto_errors

        out = Operation(operation)
        lock = threading.Lock()

        def on_output(line: str) -> None:
            with lock:
                out.output.append(line)
            if echo is not None:
                echo(line)

        def on_event(event: Any) -> None:
            pre = event.resource_pre_event
            if pre is not None and pre.metadata is not None:
                meta = pre.metadata
                if "::pulumi:pulumi:Stack::" not in meta.urn and "::pulumi:providers:" not in meta.urn:
                    name, op = meta.urn.rsplit("::", 1)[-1], str(getattr(meta.op, "value", meta.op))
                    out.steps.append((name, op))
                    out.ops.setdefault(name, op)
            diag = event.diagnostic_event
            if diag is not None:
                with lock:
                    out.diagnostics.append(Diagnostic(diag.severity, diag.message.rstrip("\n"), diag.urn or None))
            summary = event.summary_event
            if summary is not None:
                out.changes = {str(getattr(k, "value", k)): v for k, v in (summary.resource_changes or {}).items()}

        try:
            call(on_output=on_output, on_event=on_event, color="never", **kwargs)
        except auto_errors.CommandError as err:
            out.error = str(err)
            raise StackOperationError(out) from err
        if operation == "up":
            out.outputs = self.outputs()
        return out

    def up(self, echo: Optional[Echo] = None, *, with_preview: bool = False, **kwargs: Any) -> Operation:
        """``pulumi up --yes --skip-preview`` (the Automation API's form), or with
        ``with_preview`` ``pulumi up --yes``: the engine's preview, then the update, two
        engine runs. ``kwargs`` go to ``Stack.up`` (``target=[urn]``, ``refresh=True``...).

        Raises:
            StackOperationError: the CLI failed; ``.operation`` has what it printed.
        """
        self.command.with_preview = with_preview
        try:
            return self._run("up", self.stack.up, echo, **kwargs)
        finally:
            self.command.with_preview = False

    def up_in_terminal(self, **kwargs: Any) -> tuple[Optional[str], list[tuple[float, str]]]:
        """``pulumi up --yes --skip-preview`` under a pseudo-terminal, without
        ``--non-interactive``: the CLI's interactive display, as a person at a terminal sees
        it. Returns (the CLI's failure text or None, [(seconds since start, terminal text)])."""
        from pulumi.automation import errors as auto_errors

        chunks: list[tuple[float, str]] = []
        self.command.terminal = chunks
        try:
            self.stack.up(color="always", **kwargs)
        except auto_errors.CommandError as err:
            return str(err), chunks
        finally:
            self.command.terminal = None
        return None, chunks

    def preview(self, echo: Optional[Echo] = None, **kwargs: Any) -> Operation:
        """``pulumi preview``; raises :class:`StackOperationError` when it fails."""
        return self._run("preview", self.stack.preview, echo, **kwargs)

    def refresh(self, echo: Optional[Echo] = None, **kwargs: Any) -> Operation:
        """``pulumi refresh --yes --skip-preview`` (``clear_pending_creates=True`` drops
        pending creates); raises :class:`StackOperationError` when it fails."""
        return self._run("refresh", self.stack.refresh, echo, **kwargs)

    def preview_refresh(self, echo: Optional[Echo] = None, **kwargs: Any) -> Operation:
        """``pulumi refresh --preview-only``; raises :class:`StackOperationError` when it fails."""
        return self._run("preview-refresh", self.stack.preview_refresh, echo, **kwargs)

    def destroy(self, echo: Optional[Echo] = None, **kwargs: Any) -> Operation:
        """``pulumi destroy --yes --skip-preview``; raises :class:`StackOperationError` when it fails."""
        return self._run("destroy", self.stack.destroy, echo, **kwargs)


# ---------------------------------------------------------------------- one operation in a process

def _interrupts_to_cli() -> list[int]:
    """Keep this process alive on SIGINT/SIGTERM so the CLI (same process group, so a
    terminal's Ctrl-C or ``killpg`` reaches it too) cancels and reports; returns the list
    the signals are counted in."""
    received: list[int] = []

    def note(signum: int, _frame: object) -> None:
        received.append(signum)
        print(f"[automation] received {signal.Signals(signum).name}; the pulumi CLI is cancelling", flush=True)

    signal.signal(signal.SIGINT, note)
    signal.signal(signal.SIGTERM, note)
    return received


def main(argv: Optional[Sequence[str]] = None) -> int:
    """One operation of an existing stack of a program file, output to stdout; exit 0 on
    success, 1 when the stack cannot be selected or the CLI failed (the error printed last)."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("operation", choices=("up", "preview", "refresh", "destroy"))
    parser.add_argument("--work-dir", required=True, help="the project directory (backend and home beside it)")
    parser.add_argument("--stack", required=True)
    parser.add_argument("--project", required=True, help="project name (config namespace)")
    parser.add_argument("--program", required=True, help="the Pulumi program file (__main__.py)")
    parser.add_argument("--clear-pending-creates", action="store_true", help="refresh only: drop pending creates")
    parser.add_argument("--preview-only", action="store_true", help="refresh only: preview the refresh")
    args = parser.parse_args(argv)
    _interrupts_to_cli()
    try:
        stack = LocalStack(Path(args.work_dir), args.stack, args.project, program_from_file(Path(args.program)),
                           create=False)
    except Exception as err:  # no such stack, a project of another name, no CLI: one line
        print(f"[automation] pulumi {args.operation} not run: {type(err).__name__}: {err}", flush=True)
        return 1
    kwargs = {"clear_pending_creates": True} if args.clear_pending_creates else {}
    operation = "preview_refresh" if args.operation == "refresh" and args.preview_only else args.operation
    try:
        getattr(stack, operation)(lambda line: print(line, flush=True), **kwargs)
    except StackOperationError as err:
        print(f"[automation] pulumi {args.operation} failed:\n{err}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
