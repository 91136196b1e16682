"""Program mode: run a real Pulumi program under ``pulumi.runtime.set_mocks``.

Dynamic resources (type ``pulumi-python:dynamic/...``, design.md section 2, rule 14) are forwarded
to the SDK's provider server through the same engine logic as ``EngineHarness.up`` /
``preview`` (Check/Diff/Create/Update, state file, pending operations). Every other
resource (pulumi-aws, components) is recorded, not created: its outputs are its inputs
and its ID is ``<name>-id`` (empty in a preview). Other resources are not written to the
state file. This is the engine-role harness, not the Pulumi engine.

The program runs in this process, in a thread with a fresh ``contextvars`` context (so
runs do not share Pulumi runtime settings), with the project directory and
``extra_pythonpath`` on ``sys.path``. The working directory is NOT changed (the engine
runs programs in the project directory; relative file reads in a program will differ).
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import os
import runpy
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import pulumi
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor, Mocks
from pulumi.runtime.settings import SETTINGS, get_root_resource, reset_options
from pulumi.runtime.stack import run_pulumi_func

from ._engine import LABEL, EngineHarness, OperationResult, ResourceSpec, _Deployment
from ._errors import HarnessError, attach_result
from ._options import HarnessOptions
from ._wire import UNKNOWN, _plain

DYNAMIC_PREFIX = "pulumi-python:dynamic"
_STACK_TYPE = "pulumi:pulumi:Stack"
_STACK_URN_PART = _STACK_TYPE + "$"


@dataclass
class RegisteredResource:
    """One resource the program registered, in registration order.

    ``urn`` is the engine's URN (no ``pulumi:pulumi:Stack$`` prefix for stack children);
    ``dependencies`` are the URNs of ``depends_on`` plus those the SDK found in inputs;
    ``property_dependencies`` {input key: [URN]}; ``registered_t_s`` / ``completed_t_s``
    seconds since the program started, when the registration reached the harness and when
    the harness answered it (after Create for a dynamic resource); ``op`` is the step op for
    a dynamic resource ("create", "same", ...) or "recorded".
    """

    order: int
    urn: str
    type: str
    name: str
    custom: bool
    dynamic: bool
    inputs: dict[str, Any]
    outputs: dict[str, Any] = field(default_factory=dict)
    id: str = ""
    dependencies: list[str] = field(default_factory=list)
    property_dependencies: dict[str, list[str]] = field(default_factory=dict)
    registered_t_s: float = 0.0
    completed_t_s: float = 0.0
    op: str = "recorded"


@dataclass
class ProgramResult:
    """Result of ``run_program``: registrations, exports, and the engine operation result.

    ``resources`` in registration order; ``exports`` {name: value} from ``pulumi.export``
    (unknown values as ``UNKNOWN``); ``secret_exports`` names exported as secrets;
    ``engine`` the OperationResult of the dynamic resources (steps, calls, stderr lines,
    interrupted operations).
    """

    operation: str
    resources: list[RegisteredResource] = field(default_factory=list)
    exports: dict[str, Any] = field(default_factory=dict)
    secret_exports: set[str] = field(default_factory=set)
    engine: OperationResult = field(default_factory=lambda: OperationResult("up"))
    label: str = LABEL

    @property
    def order(self) -> list[str]:
        """Resource names in registration order."""
        return [r.name for r in self.resources]

    def resource(self, name: str) -> RegisteredResource:
        """The registration of ``name``. Raises KeyError."""
        for r in self.resources:
            if r.name == name:
                return r
        raise KeyError(f"{LABEL}: the program registered no resource named {name!r}")

    @property
    def stderr_lines(self) -> list[str]:
        return self.engine.stderr_lines


def _engine_urn(urn: str) -> str:
    # The SDK's MockMonitor qualifies stack children's types with "pulumi:pulumi:Stack$";
    # the engine does not (children of the root stack get unqualified types).
    return urn.replace("::" + _STACK_URN_PART, "::")


class _HarnessMonitor(MockMonitor):
    """MockMonitor that hands the RegisterResource request to the mocks (dependencies are
    in the request, not in ``MockResourceArgs``) and makes engine-style URNs."""

    def __init__(self, mocks: _HarnessMocks) -> None:
        super().__init__(mocks)
        self.local = threading.local()

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        if parent and parent.split("::")[2].split("$")[-1] == _STACK_TYPE:
            parent = ""
        return super().make_urn(parent, type_, name)

    def RegisterResource(self, request):  # the gRPC method's name
        self.local.request = request
        try:
            return super().RegisterResource(request)
        finally:
            self.local.request = None


class _HarnessMocks(Mocks):
    def __init__(self, dep: _Deployment, t0: float) -> None:
        self.dep = dep
        self.t0 = t0
        self.monitor: Optional[_HarnessMonitor] = None
        self.resources: list[RegisteredResource] = []
        self.error: Optional[BaseException] = None
        self.lock = threading.Lock()

    def call(self, args):  # invokes are not forwarded anywhere
        return {}, None

    def new_resource(self, args):
        req = getattr(self.monitor.local, "request", None) if self.monitor else None
        registered_t_s = time.monotonic() - self.t0
        raw_inputs = dict(args.inputs)
        secret = {k for k, v in raw_inputs.items() if rpc.is_rpc_secret(v)}
        inputs = {k: _plain(v) for k, v in raw_inputs.items()}
        urn = self.monitor.make_urn(req.parent if req else "", args.typ, args.name) if self.monitor else ""
        with self.lock:
            rec = RegisteredResource(
                order=len(self.resources), urn=urn, type=args.typ, name=args.name,
                custom=bool(args.custom), dynamic=args.typ.startswith(DYNAMIC_PREFIX), inputs=inputs,
                dependencies=[_engine_urn(u) for u in (req.dependencies if req else [])],
                property_dependencies={k: [_engine_urn(u) for u in v.urns]
                                       for k, v in (req.propertyDependencies.items() if req else [])},
                registered_t_s=round(registered_t_s, 4),
            )
            self.resources.append(rec)
        if not rec.dynamic:
            rec.id = "" if self.dep.preview else f"{args.name}-id"
            outputs = dict(raw_inputs)
            if not self.dep.preview and rec.custom and "arn" not in outputs:
                # Most AWS resources output an ARN that others consume; a placeholder keeps
                # those consumers' values (and property dependencies) from being None.
                outputs["arn"] = f"arn:aws:mock:::{args.typ.split(':')[-1]}/{args.name}"
            rec.outputs = {k: _plain(v) for k, v in outputs.items()}
            rec.completed_t_s = round(time.monotonic() - self.t0, 4)
            return rec.id, outputs
        if self.error is not None:
            raise HarnessError(f"{LABEL}: not registering {args.name}: an earlier step failed ({self.error})")
        # rule 14: a dynamic resource; forward it through the engine logic (rules 3-6, 9).
        # source_eval.go RegisterResource: the option counts when it was set (Defined) or is
        # true. ignore_changes is not modelled: a program that sets it on a dynamic resource
        # fails here rather than get results the engine would not give.
        dbr: Optional[bool] = None
        if req is not None and (req.deleteBeforeReplaceDefined or req.deleteBeforeReplace):
            dbr = bool(req.deleteBeforeReplace)
        try:
            if req is not None and list(req.ignoreChanges):
                raise HarnessError(
                    f"{LABEL}: {args.name} sets ignore_changes={list(req.ignoreChanges)}, which the harness "
                    "does not model; run the program with the real CLI (omics_dynamic_testing.automation)")
            spec = ResourceSpec(name=args.name, type_=args.typ, provider=None, inputs=inputs,
                                secret_keys=frozenset(secret), delete_before_replace=dbr)
            step = self.dep.register(spec)
        except BaseException as exc:
            with self.lock:
                if self.error is None:
                    self.error = exc
            raise
        rec.op, rec.id, rec.outputs = step.op, step.id, dict(step.outputs)
        rec.completed_t_s = round(time.monotonic() - self.t0, 4)
        state = {k: (rpc.wrap_rpc_secret(v) if k in secret else v) for k, v in step.outputs.items()}
        return step.id, state


def _drain(loop: asyncio.AbstractEventLoop) -> None:
    """Finish the run's loop before it is closed. After a failure wait_for_rpcs returns at
    the first failed RPC, so other registrations and Output/apply tasks may still be pending
    (e.g. an Output waiting on a resource still being created): cancel them and wait for them,
    and gather every task (retrieving finished tasks' exceptions), so nothing is reported as
    "Task was destroyed but it is pending" or "Task exception was never retrieved" later."""
    tasks = asyncio.all_tasks(loop) | set(SETTINGS.outputs)
    SETTINGS.outputs.clear()
    tasks = {t for t in tasks if t.get_loop() is loop}
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))


def _read_project_name(project_dir: str) -> Optional[str]:
    path = os.path.join(project_dir, "Pulumi.yaml")
    if not os.path.exists(path):
        return None
    import yaml  # PyYAML is a dependency of the pulumi SDK

    with open(path, encoding="utf-8") as fh:
        doc = yaml.safe_load(fh) or {}
    return doc.get("name")


class _ProgramRun:
    """One run of a Pulumi program (``up`` or ``preview``) under ``set_mocks``, in its own
    thread, ``contextvars`` context and event loop; its dynamic resources go through
    ``dep`` (whose ``begin`` has run), the others are recorded.

    Args:
        main: the program's ``__main__.py`` path.
        harness: the harness (project, stack, config, ``extra_pythonpath``).
        dep: the operation's deployment.
        operation: "up" or "preview".
    """

    def __init__(self, main: str, harness: EngineHarness, dep: _Deployment, operation: str) -> None:
        self.main = main
        self.harness = harness
        self.dep = dep
        self.operation = operation
        self.mocks = _HarnessMocks(dep, time.monotonic())
        self.result = ProgramResult(operation, engine=dep.result)
        self.error: Optional[BaseException] = None  # what the program's thread raised

    def run(self, program_timeout_s: float) -> ProgramResult:
        """Run the program, wait for it, then (``up``) delete the dynamic resources in state
        it no longer declares; stops the provider process in any case.

        Raises:
            TimeoutError: not finished within ``program_timeout_s`` seconds (the provider
                process is killed). The error of a registration or of the program, with
                ``.result`` the partial ProgramResult.
        """
        dep, mocks, result = self.dep, self.mocks, self.result
        thread = threading.Thread(target=lambda: contextvars.Context().run(self._body), name="pulumi-program",
                                  daemon=True)
        try:
            thread.start()
            thread.join(program_timeout_s)
            if thread.is_alive():
                dep.rpc.kill()
                raise TimeoutError(f"{LABEL}: program {self.main} did not finish within "
                                   f"program_timeout_s={program_timeout_s}")
            error = mocks.error or self.error
            if error is None and self.operation == "up":
                # Dynamic resources in state the program no longer declares are deleted.
                dep.delete_undesired({r.urn for r in mocks.resources if r.dynamic})
            result.resources = sorted(mocks.resources, key=lambda r: r.order)
            if error is not None:
                attach_result(error, result)
                raise error
        finally:
            dep.close()
        return result

    def _body(self) -> None:
        """The program's thread: run it on a new event loop and collect its exports; any
        exception is kept in ``self.error`` for the caller's thread."""
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        loop.set_exception_handler(self._exception_handler)
        try:
            self._set_up_runtime()

            def run_main() -> None:  # run_pulumi_func takes a function returning None or an awaitable
                runpy.run_path(self.main, run_name="__main__")

            loop.run_until_complete(run_pulumi_func(run_main))
            self._collect_exports(loop)
        except BaseException as exc:  # everything: handed to the caller's thread
            self.error = exc
        finally:
            _drain(loop)
            loop.close()

    def _set_up_runtime(self) -> None:
        """Fresh Pulumi runtime settings, the mocks, the stack config and ``sys.path``."""
        harness, preview = self.harness, self.operation == "preview"
        project, stack = harness.project, harness.stack
        # Fresh SDK per-run state in this context. set_mocks' MockSettings does not call
        # Settings.__init__, so it sets a new rpc_manager but not SETTINGS.outputs or
        # SETTINGS.lock; those contextproperties then fall back to their process-wide
        # defaults (the set and lock of the module-level SETTINGS), shared by all runs.
        # A failed run's output tasks stay in that set (wait_for_rpcs raises at the
        # failed RPC, before it drains SETTINGS.outputs), and the next run's wait_for_rpcs
        # asyncio.wait()s on them, which schedules callbacks on the first run's closed
        # loop: "RuntimeError: Event loop is closed". reset_options builds a full Settings
        # in this context (new outputs set, lock, rpc_manager) and clears ROOT.
        reset_options(project=project, stack=stack, preview=preview)
        monitor = _HarnessMonitor(self.mocks)
        self.mocks.monitor = monitor
        pulumi.runtime.set_mocks(self.mocks, project=project, stack=stack, preview=preview, monitor=monitor)
        pulumi.runtime.set_all_config(
            {k: v if isinstance(v, str) else json.dumps(v) for k, v in harness.config.items()},
            list(harness.options.secret_config_keys),
        )
        for p in [harness.project_dir, *harness.options.extra_pythonpath]:
            if p not in sys.path:
                sys.path.insert(0, p)

    def _collect_exports(self, loop: asyncio.AbstractEventLoop) -> None:
        """The stack's ``pulumi.export`` values into ``result.exports`` (unknown ones as
        UNKNOWN) and the secret ones' names into ``result.secret_exports``."""
        root = get_root_resource()
        for name, value in (getattr(root, "outputs", None) or {}).items():
            out = pulumi.Output.from_input(value)
            known = loop.run_until_complete(out.is_known())
            self.result.exports[name] = _plain(loop.run_until_complete(out.future())) if known else UNKNOWN
            if loop.run_until_complete(out.is_secret()):
                self.result.secret_exports.add(name)

    def _exception_handler(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        # When a registration fails, the SDK sets that exception on the URN/ID/property
        # futures of the resource (and of the Outputs that depend on it); nothing awaits most
        # of them, so each would be logged as "Future exception was never retrieved" when
        # collected (often after this loop is closed). The run raises that same exception
        # to the caller, so those reports are dropped; anything else goes to the default handler.
        exc = context.get("exception")
        if context.get("message", "").startswith("Future exception was never retrieved") \
                and exc is not None and (exc is self.mocks.error or exc is self.error):
            return
        loop.default_exception_handler(context)


def _program_main(program: str) -> str:
    """The ``__main__.py`` of ``program`` (that file, or the one in that directory).

    Raises:
        ValueError: there is none.
    """
    main = os.path.join(program, "__main__.py") if os.path.isdir(program) else program
    if not os.path.isfile(main):
        raise ValueError(f"{LABEL}: no Pulumi program at {main}")
    return main


def run_program(
    program: str,
    *,
    state_path: str,
    operation: str = "up",
    project_dir: Optional[str] = None,
    options: Optional[HarnessOptions] = None,
    program_timeout_s: float = 600.0,
    interrupt: Optional[Callable[[], bool]] = None,
    interrupt_after_s: Optional[float] = None,
    **fields: Any,
) -> ProgramResult:
    """Run a Pulumi program as ``pulumi up`` / ``preview`` / ``destroy`` would, in the harness.

    Args:
        program: a ``__main__.py`` path or a directory holding one.
        state_path: the harness state file (JSON).
        operation: "up" | "preview" | "destroy" (destroy does not run the program, like the
            engine: it deletes what the state holds).
        project_dir: working directory of the provider process; default the program's directory.
        options, **fields: the harness's options (:class:`HarnessOptions`, shared with
            ``EngineHarness``), e.g. ``run_program(p, state_path=s, config={...}, timeout_s=60)``.
            ``project`` None means ``name`` in ``Pulumi.yaml``, else "project"; ``config``
            is also set for ``pulumi.Config()`` (``pulumi.runtime.set_all_config``), and
            ``extra_pythonpath`` is put on ``sys.path`` for the program.
        program_timeout_s: bound on the whole program run, seconds.
        interrupt, interrupt_after_s: as for ``EngineHarness.up``.

    ``up`` runs as ``pulumi up --skip-preview`` (the Automation API's way). No stack lock
    is taken, and ``ignore_changes`` on a dynamic resource is refused (HarnessError): the
    real CLI is the oracle for both (:mod:`omics_dynamic_testing.automation`).

    Returns:
        ProgramResult.

    Raises:
        ValueError: unknown operation or no ``__main__.py``.
        TypeError: an unknown option name.
        HarnessError (and subclasses): as ``EngineHarness.up``; ``.result`` is the partial
            ProgramResult.
        TimeoutError: the program did not finish within ``program_timeout_s``.
        Any exception the program raises.
    """
    if operation not in ("up", "preview", "destroy"):
        raise ValueError(f"operation must be 'up', 'preview' or 'destroy', got {operation!r}")
    main = _program_main(program)
    project_dir = project_dir or os.path.dirname(os.path.abspath(main))
    opts = HarnessOptions.build(options, **fields)
    if opts.project is None:
        opts.project = _read_project_name(project_dir) or "project"
    harness = EngineHarness(project_dir, state_path, opts)
    if operation == "destroy":
        return ProgramResult("destroy", engine=harness.destroy())
    dep = _Deployment(harness, operation, preview=operation == "preview",
                      interrupt=interrupt, interrupt_after_s=interrupt_after_s)
    dep.begin()  # rule 9
    return _ProgramRun(main, harness, dep, operation).run(program_timeout_s)
