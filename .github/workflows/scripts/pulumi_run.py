#!/usr/bin/env python3
"""Run a stack-locking Pulumi operation in CI and recover from a killed run without a human.

Usage::

    pulumi_run.py {up,refresh,destroy} --stack STACK [--cwd DIR] [--pulumi PATH]
                  [--program FILE --project NAME] [-- EXTRA CLI ARGS]

Used by ``.github/workflows/pulumi-up.yml`` (stdlib only; needs ``pulumi`` on PATH). It is
safe only because that workflow puts every run that touches the stack in ONE concurrency
group per stack (``queue: max``, no cancel-in-progress): no other run can hold the stack
while this one starts, so a hold found at the start belongs to a run that died. If people
or other pipelines also run ``pulumi up`` on the stack, set ``PULUMI_RECOVER_STALE_LOCK=false``:
the script then only reports the hold.

What it does (every decision is printed, as a GitHub annotation):

1. ``pulumi <op> --yes --skip-preview --non-interactive --stack S``, output streamed.
   SIGINT/SIGTERM sent to this script (GitHub's cancellation sends SIGINT, then SIGTERM
   7.5 s later) are forwarded to the CLI, which runs in its own session: the first as
   SIGINT (the engine cancels: ``pkg/backend/cancellation_scope.go``; the provider's create
   stops within seconds), any later one as SIGTERM (the engine terminates).
2. When it fails because the stack is held by a dead run, which the engine says with
   ``the stack is currently locked by N lock(s)`` (DIY backends: file, S3, GCS, Azure;
   ``pkg/backend/diy/lock.go`` ``checkForLock``) or ``Conflict: Another update is currently
   in progress`` (Pulumi Cloud's 409, ``backenderr.ConflictingUpdateError``): ``pulumi
   cancel --yes`` (``diyBackend.CancelCurrentUpdate`` deletes the lock files; Pulumi Cloud
   cancels the stack's active update), then the operation once more. Both checks fail
   before the engine does anything, so the retry repeats nothing.
3. After a successful ``up``: the killed run's pending CREATE stays in the checkpoint
   forever (``SnapshotManager.Snap`` in ``pkg/backend/snapshot.go``) and makes every ``up``
   print the pending-operations warning. When every pending create's resource is now in
   the stack (the rerun created it), they are stale: ``pulumi refresh
   --clear-pending-creates --preview-only`` drops them (a state edit,
   ``filterMapPendingCreates`` in ``pkg/cmd/pulumi/operations/refresh.go``; the refresh
   itself only previews). A pending create whose resource is NOT in the stack is left
   alone with a warning: the interrupted create may have made something nobody tracks.

Exit status: the operation's (1 when a recovery step failed).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
from typing import Callable, Optional, Sequence

#: What the engine says when the stack is held (DIY lock file; Pulumi Cloud 409).
HELD_MARKERS = (
    "the stack is currently locked by",
    "Conflict: Another update is currently in progress",
)


def annotate(kind: str, text: str) -> None:
    """Print a GitHub Actions annotation (``notice``/``warning``/``error``) on one line."""
    print(f"::{kind}::{text}".replace("\n", "%0A"), flush=True)


#: The operations that run the program (the rest only read or edit the checkpoint).
PROGRAM_OPERATIONS = ("up", "preview", "refresh", "destroy")


class Cli:
    """Runs ``pulumi`` in its own session and forwards this process's SIGINT/SIGTERM to
    that session's process group.

    With ``program`` (a Pulumi program file) and ``project``, the operations that run the
    program go through the Automation API instead (``python -m
    omics_dynamic_testing.automation OP``, an inline program: for a CLI without the Python
    language host, as on machines that build it from the Go module proxy); ``cancel`` and
    ``stack export`` still run ``pulumi`` itself.
    """

    def __init__(self, pulumi: str = "pulumi", cwd: Optional[str] = None, program: Optional[str] = None,
                 project: Optional[str] = None) -> None:
        self.pulumi = pulumi
        self.cwd = cwd
        self.program = program
        self.project = project
        self.child: Optional[subprocess.Popen] = None
        self.signals = 0

    def _forward(self, signum: int, _frame: object) -> None:
        self.signals += 1
        child = self.child
        if child is not None and child.poll() is None:
            os.killpg(child.pid, signal.SIGINT if self.signals == 1 else signal.SIGTERM)

    def command(self, args: Sequence[str]) -> list[str]:
        """The command line that runs ``pulumi ARGS``."""
        if self.program is None or not args or args[0] not in PROGRAM_OPERATIONS:
            return [self.pulumi, *args]
        stack = args[list(args).index("--stack") + 1]
        passed = {"--yes", "--skip-preview", "--non-interactive", "--stack", stack, "--clear-pending-creates",
                  "--preview-only"}
        other = [a for a in args[1:] if a not in passed]
        if other:
            raise ValueError(f"with --program, `pulumi {args[0]}` takes no further arguments ({' '.join(other)}): "
                             "run it without --program where the CLI has the Python language host")
        flags = ["--clear-pending-creates"] if "--clear-pending-creates" in args else []
        flags += ["--preview-only"] if "--preview-only" in args else []
        return [sys.executable, "-m", "omics_dynamic_testing.automation", args[0], "--work-dir", self.cwd or os.getcwd(),
                "--stack", stack, "--project", self.project or "", "--program", self.program, *flags]

    def run(self, args: Sequence[str], *, echo: bool = True) -> tuple[int, str]:
        """Run ``pulumi ARGS``; return (exit code, combined output)."""
        previous = {s: signal.signal(s, self._forward) for s in (signal.SIGINT, signal.SIGTERM)}
        env = dict(os.environ, OMICS_DYNAMIC_PULUMI=shutil.which(self.pulumi) or self.pulumi) if self.program else None
        try:
            self.child = subprocess.Popen(self.command(args), cwd=self.cwd, stdout=subprocess.PIPE, env=env,
                                          stderr=subprocess.STDOUT, text=True, start_new_session=True)
            lines = []
            assert self.child.stdout is not None
            for line in self.child.stdout:
                lines.append(line)
                if echo:
                    sys.stdout.write(line)
                    sys.stdout.flush()
            return self.child.wait(), "".join(lines)
        finally:
            self.child = None
            for s, handler in previous.items():
                signal.signal(s, handler)


def held(output: str) -> bool:
    """True when the output says the stack is held by another (or a dead) operation."""
    return any(marker in output for marker in HELD_MARKERS)


def stale_pending_creates(export: dict) -> tuple[list[str], list[str]]:
    """(stale, unresolved) URNs of pending creates in ``pulumi stack export`` output.

    Stale: the resource is in the stack (not pending deletion): the rerun created it.
    Unresolved: it is not; a human must decide (``pulumi refresh`` interactively offers
    clear / skip / import).
    """
    deployment = export.get("deployment") or {}
    live = {r.get("urn") for r in deployment.get("resources") or [] if not r.get("delete")}
    creates = [op.get("resource", {}).get("urn") for op in deployment.get("pending_operations") or []
               if op.get("type") == "creating"]
    return [u for u in creates if u in live], [u for u in creates if u not in live]


def run_operation(cli: Cli, operation: str, stack: str, extra: Sequence[str], recover: bool) -> int:
    args = [operation, "--yes", "--skip-preview", "--non-interactive", "--stack", stack, *extra]
    code, output = cli.run(args)
    if code != 0 and held(output):
        if cli.signals:
            return code
        if not recover:
            annotate("error", f"stack {stack} is held by another or a killed run; automatic recovery is off "
                              "(PULUMI_RECOVER_STALE_LOCK=false): check that no run is active, then run "
                              f"`pulumi cancel --yes --stack {stack}` and re-run this workflow")
            return code
        annotate("warning", f"stack {stack} was held at the start of this run. This workflow runs one job per "
                            "stack at a time, so the holder is a run that died: cancelling it "
                            f"(`pulumi cancel --yes --stack {stack}`) and running `pulumi {operation}` again")
        cancel_code, _ = cli.run(["cancel", "--yes", "--non-interactive", "--stack", stack])
        if cancel_code != 0:
            annotate("error", f"`pulumi cancel` failed (exit {cancel_code}); a human must clear the hold")
            return 1
        code, output = cli.run(args)
    if code != 0 or operation != "up" or cli.signals:
        return code
    return clear_stale_pending_creates(cli, stack)


def clear_stale_pending_creates(cli: Cli, stack: str) -> int:
    code, output = cli.run(["stack", "export", "--stack", stack], echo=False)
    if code != 0:
        annotate("warning", f"`pulumi stack export` failed (exit {code}); pending creates not checked")
        return 0
    try:
        stale, unresolved = stale_pending_creates(json.loads(output))
    except ValueError:
        annotate("warning", "`pulumi stack export` printed no JSON; pending creates not checked")
        return 0
    if unresolved:
        annotate("warning", "pending CREATE operations of resources not in the stack were left alone (the "
                            "interrupted create may have made something Pulumi does not track; run `pulumi "
                            "refresh` interactively and choose clear or import): " + ", ".join(unresolved))
        return 0
    if not stale:
        return 0
    annotate("notice", "clearing stale pending CREATE operations (the resources were created by this run): "
                       + ", ".join(stale))
    code, _ = cli.run(["refresh", "--clear-pending-creates", "--preview-only", "--non-interactive",
                       "--stack", stack])
    if code != 0:
        annotate("error", f"`pulumi refresh --clear-pending-creates` failed (exit {code})")
        return 1
    return 0


def main(argv: Optional[Sequence[str]] = None, cli_factory: Callable[..., Cli] = Cli) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("operation", choices=["up", "refresh", "destroy"])
    parser.add_argument("--stack", required=True)
    parser.add_argument("--cwd", default=None, help="the project directory (default: current directory)")
    parser.add_argument("--pulumi", default="pulumi", help="the pulumi executable (default: pulumi on PATH)")
    parser.add_argument("--program", default=None,
                        help="run this Pulumi program file inline through the Automation API (a CLI without "
                             "the Python language host); needs --project")
    parser.add_argument("--project", default=None, help="the project name, with --program")
    parser.add_argument("extra", nargs="*", help="further CLI arguments, after --")
    argv = list(sys.argv[1:] if argv is None else argv)
    # Everything after "--" goes to the CLI as it is (argparse would take it for positionals).
    extra = argv[argv.index("--") + 1:] if "--" in argv else []
    args = parser.parse_args(argv[:argv.index("--")] if "--" in argv else argv)
    args.extra = [*args.extra, *extra]
    if args.program and args.extra:
        parser.error(f"--program takes no further CLI arguments ({' '.join(args.extra)}): the Automation API "
                     "process runs the operation as it is; run without --program where the CLI has the Python "
                     "language host")
    if args.program and not args.project:
        parser.error("--program needs --project (the program's project name, the namespace of its config)")
    recover = os.environ.get("PULUMI_RECOVER_STALE_LOCK", "true").lower() not in ("0", "false", "no")
    return run_operation(cli_factory(args.pulumi, args.cwd, args.program, args.project), args.operation,
                         args.stack, args.extra, recover)


if __name__ == "__main__":
    sys.exit(main())
