"""The engine-role harness: a fast stand-in for the Pulumi engine against the SDK's real
provider server.

Every rule cited as "rule N" is design.md section 2, rule N. The real CLI is the oracle for
those rules (``tests/test_real_cli.py`` through :mod:`omics_dynamic_testing.automation`);
this module keeps only what other tests need to reach the provider cheaply: the
Check/Diff/Create/Update/Read/Delete calls with values as the engine delivers them, a state
file with pending operations after a simulated kill, Ctrl-C, and program mode. It does not
model the stack lock, ``ignore_changes``, ``--target``, the preview an ``up`` runs first,
or the engine's messages. Results are those of this engine-role harness, not of the real
Pulumi engine.

Here: the resource spec and results, one operation's step logic (``_Deployment``) and
:class:`EngineHarness`. The provider process and the RPCs to it (kill, Ctrl-C, timeout)
are :mod:`._rpc`; the state file writes around each step are :mod:`._checkpoint`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional, Sequence, Union

from pulumi.dynamic import ResourceProvider
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime.proto import provider_pb2

from ._checkpoint import Checkpoint
from ._errors import Cancelled, CheckFailedError, ProviderCallError, attach_result
from ._options import HarnessOptions
from ._rpc import CallRecord, CtrlC, ProviderRpc
from ._state import PendingOperation, ResourceState, State, load_state, make_urn
from ._wire import from_struct

PROVIDER_KEY = "__provider"
#: Type token of a ``pulumi.dynamic.Resource`` subclass declared without ``module``/``name``.
DEFAULT_DYNAMIC_TYPE = "pulumi-python:dynamic:Resource"
#: Every string result of the harness says where it comes from.
LABEL = "engine-role harness"

_DIFF_NAMES = {
    provider_pb2.DiffResponse.DIFF_UNKNOWN: "unknown",
    provider_pb2.DiffResponse.DIFF_NONE: "none",
    provider_pb2.DiffResponse.DIFF_SOME: "some",
}


@dataclass(frozen=True)
class ResourceSpec:
    """One desired dynamic resource, as a program would register it.

    Args:
        name: logical name (the URN's last part).
        type_: type token, ``pulumi-python:dynamic/<module>:<Name>`` for a
            ``pulumi.dynamic.Resource`` subclass declared with ``module=``/``name=``
            (default ``pulumi-python:dynamic:Resource``).
        provider: a ``pulumi.dynamic.ResourceProvider`` instance, serialised exactly as the SDK
            does (``pulumi.dynamic.dynamic.serialize_provider``: dill, base64) into
            ``__provider``; or an already serialised string; or None when ``inputs`` already
            hold ``__provider`` (program mode).
        inputs: dict of plain values; may hold ``UNKNOWN`` in a preview.
        secret_keys: top-level input keys that are secret; ``__provider`` always is (rule 12,
            the SDK's ``serialize_as_secret_always``).
        delete_before_replace: the resource option of that name: None (not set: the
            provider's Diff decides), True or False (either overrides the provider, rule 5).

    ``ignore_changes`` is not modelled (the real CLI tests it: ``tests/test_real_cli.py``).
    """

    name: str
    type_: str = DEFAULT_DYNAMIC_TYPE
    provider: Union[ResourceProvider, str, None] = None
    inputs: Mapping[str, Any] = field(default_factory=dict)
    secret_keys: frozenset = frozenset()
    delete_before_replace: Optional[bool] = None

    def news(self) -> tuple[dict[str, Any], set[str]]:
        """The inputs the engine sends to Check: user inputs + ``__provider``, and secret keys."""
        news = dict(self.inputs)
        if self.provider is not None:
            if PROVIDER_KEY in news:
                raise ValueError(f"{self.name}: a dynamic resource must not define {PROVIDER_KEY} in inputs")
            news[PROVIDER_KEY] = (
                self.provider if isinstance(self.provider, str) else serialize_provider(self.provider)
            )
        elif PROVIDER_KEY not in news:
            raise ValueError(f"{self.name}: give a provider or a serialised {PROVIDER_KEY} input")
        # rule 12: the serialised provider is a secret by default.
        return news, set(self.secret_keys) | {PROVIDER_KEY}


@dataclass
class Step:
    """What happened (or, in a preview, would happen) to one resource.

    ``op``: "create" | "update" | "replace" | "same" | "delete" | "refresh", or
    "delete-replaced" for the Delete of a replaced resource at the end of the deployment
    (rule 5; left out of ``OperationResult.ops`` and ``.step()``).
    ``changed_keys``: input keys whose value differs from the old inputs (what the CLI shows).
    ``replaces``: keys the provider's Diff said force a replacement.
    ``diff``: "none" | "some" | "unknown", the provider's Diff answer ("" without Diff).
    ``check_failures``: list of (property, reason) from Check.
    ``outputs``: stored outputs after the step (planned in a preview: the checked inputs).
    ``drift`` (refresh): Diff(olds=refreshed outputs, news=inputs) found a change (rule 7).
    ``gone`` (refresh): Read returned an empty ID; the resource left the state.
    ``resumed``: "creating" when this create redoes an interrupted create (rule 9).
    """

    urn: str
    name: str
    type: str
    op: str
    id: str = ""
    diff: str = ""
    changed_keys: list[str] = field(default_factory=list)
    replaces: list[str] = field(default_factory=list)
    delete_before_replace: bool = False
    check_failures: list[tuple[str, str]] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)
    old_outputs: dict[str, Any] = field(default_factory=dict)
    drift: bool = False
    gone: bool = False
    resumed: str = ""


@dataclass
class OperationResult:
    """Result of one engine-role harness operation (preview/up/refresh/destroy).

    ``steps`` in execution order; ``calls`` every RPC in order; ``stderr_lines`` what the
    provider process printed to stderr (rule 13); ``interrupted`` pending operations found
    in state at the start (rule 9); ``state`` the state after the operation.
    """

    operation: str
    steps: list[Step] = field(default_factory=list)
    calls: list[CallRecord] = field(default_factory=list)
    stderr_lines: list[str] = field(default_factory=list)
    interrupted: list[PendingOperation] = field(default_factory=list)
    state: Optional[State] = None
    label: str = LABEL

    def step(self, name: str) -> Step:
        """The last step of the resource called ``name`` (not its delete-replaced step).
        Raises KeyError if none."""
        for s in reversed(self.steps):
            if s.name == name and s.op != "delete-replaced":
                return s
        raise KeyError(f"{LABEL}: no step for resource {name!r} in this {self.operation}")

    @property
    def ops(self) -> dict[str, str]:
        """{resource name: op} (delete-replaced steps left out: the resource's op is "replace")."""
        return {s.name: s.op for s in self.steps if s.op != "delete-replaced"}

    @property
    def methods(self) -> list[str]:
        """RPC method names in call order."""
        return [c.method for c in self.calls]

    def outputs(self, name: str) -> dict[str, Any]:
        """Outputs of resource ``name`` after this operation (without ``__provider``)."""
        return {k: v for k, v in self.step(name).outputs.items() if k != PROVIDER_KEY}

    @property
    def check_failures(self) -> dict[str, list[tuple[str, str]]]:
        """{resource name: [(property, reason)]} for resources whose Check failed."""
        return {s.name: s.check_failures for s in self.steps if s.check_failures}

    def summary(self) -> str:
        """One line, e.g. ``engine-role harness up: create=1 same=2``."""
        counts: dict[str, int] = {}
        for s in self.steps:
            counts[s.op] = counts.get(s.op, 0) + 1
        body = " ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "no changes"
        return f"{LABEL} {self.operation}: {body}"


def _inputs_changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    keys = sorted(set(old) | set(new))
    return [k for k in keys if old.get(k, None) != new.get(k, None)]


def _planned_op(changes: str, replaces: Sequence[str], changed_keys: Sequence[str]) -> str:
    """rule 5: the step op of a resource already in state, from the provider's Diff answer
    (``changes``: "none" | "some" | "unknown"; ``replaces``: keys that force a replacement)
    and the input keys that changed: "same", "update" or "replace"."""
    if changes == "unknown":
        # rule 5: the provider did not decide (the SDK's default diff): the engine compares
        # old and new inputs itself, __provider included.
        changed = bool(changed_keys)
    else:
        changed = changes == "some"
    if changed and replaces:
        return "replace"
    return "update" if changed else "same"


class _Deployment:
    """One operation's engine logic: the steps the engine takes for each resource, through
    one lazily started provider process (:class:`~._rpc.ProviderRpc`, ``rpc``) and the
    state file (:class:`~._checkpoint.Checkpoint`, ``checkpoint``).

    Thread-safe: program mode registers resources from several threads; state writes and
    the call log are guarded by a lock, RPCs run unlocked (the server serves 4 at a time,
    rule 11).
    """

    def __init__(self, harness: EngineHarness, operation: str, *, preview: bool,
                 interrupt: Optional[Callable[[], bool]] = None,
                 interrupt_after_s: Optional[float] = None, check_all: bool = False,
                 ctrl_c: Optional[CtrlC] = None) -> None:
        self.h = harness
        self.preview = preview
        self.check_all = check_all
        self.check_errors: list[CheckFailedError] = []
        self.result = OperationResult(operation=operation)
        self.state = load_state(harness.state_path, harness.stack, harness.project)
        self.result.state = self.state
        self.t0 = time.monotonic()
        self.lock = threading.RLock()
        self.checkpoint = Checkpoint(harness.state_path, self.state, self.lock)
        self.rpc = ProviderRpc(harness, self.result, self.lock, self.t0, interrupt=interrupt,
                               interrupt_after_s=interrupt_after_s, ctrl_c=ctrl_c)

    def stop_if_cancelled(self, op: Optional[PendingOperation] = None,
                          error: Optional[ProviderCallError] = None) -> None:
        """After a Ctrl-C the engine starts no new step: the update ends canceled."""
        rpc = self.rpc
        if rpc.ctrl_c_at is not None:
            raise Cancelled(op.type if op else "", op.urn if op else "", rpc.returned_s or 0.0,
                            rpc.cancel_code(), error)

    # -- single RPCs with engine semantics -----------------------------------------------
    def check(self, urn: str, type_: str, name: str, olds: Mapping[str, Any], olds_secret: set[str],
              news: Mapping[str, Any], news_secret: set[str]) -> tuple[dict, set, list]:
        """rule 3: olds are the previous inputs ({} on create)."""
        self.rpc.ensure_started()
        wire = self.rpc.wire
        resp = self.rpc.call("Check", urn, provider_pb2.CheckRequest(
            urn=urn, name=name, type=type_, olds=wire(olds, olds_secret), news=wire(news, news_secret)))
        inputs, secret = from_struct(resp.inputs)
        # The engine keeps an input secret when the program sent it secret.
        secret |= {k for k in news_secret if k in inputs}
        failures = [(f.property, f.reason) for f in resp.failures]
        return inputs, secret, failures

    def diff(self, res: ResourceState, news: Mapping[str, Any], news_secret: set[str]) -> tuple[str, list, bool]:
        """rules 3, 5: Diff(id, olds=old OUTPUTS, news=checked inputs)."""
        wire = self.rpc.wire
        resp = self.rpc.call("Diff", res.urn, provider_pb2.DiffRequest(
            id=res.id, urn=res.urn, name=res.name, type=res.type,
            olds=wire(res.outputs, res.secret_outputs), news=wire(news, news_secret),
            old_inputs=wire(res.inputs, res.secret_inputs)))
        return _DIFF_NAMES.get(resp.changes, "unknown"), list(resp.replaces), bool(resp.deleteBeforeReplace)

    def _step_rpc(self, op: PendingOperation, method: str, urn: str, request: Any) -> Any:
        """rule 9: the pending operation is written before the RPC. A provider error
        completes it (``SnapshotManager`` mutation ``End(step, false)`` in
        ``pkg/backend/snapshot.go``: ``markOperationComplete``; nothing new is stored); a
        kill (Interrupted) or the harness's safety timeout leaves it in state."""
        self.checkpoint.pending(op)
        try:
            return self.rpc.call(method, urn, request, interruptible=True, pending=op.type)
        except ProviderCallError as err:
            self.checkpoint.complete(op)
            self.stop_if_cancelled(op, err)
            raise

    def create(self, urn: str, type_: str, name: str, inputs: dict, secret: set, dbr: bool,
               replacing: Optional[ResourceState] = None) -> ResourceState:
        """rule 4 / rule 9: pending 'creating' op, Create(checked inputs), complete it.

        ``replacing``: the old resource of a create-before-delete replacement; on success it
        stays in state marked ``delete`` (``CreateStep.Apply``: ``s.old.Delete = true``) and is
        deleted at the end of the deployment (rule 5).
        """
        op = PendingOperation("creating", urn, type_, name, "", dict(inputs), set(secret))
        resp = self._step_rpc(op, "Create", urn, provider_pb2.CreateRequest(
            urn=urn, name=name, type=type_, properties=self.rpc.wire(inputs, secret)))
        outputs, out_secret = from_struct(resp.properties)
        res = ResourceState(urn, type_, name, resp.id, dict(inputs), outputs, set(secret),
                            out_secret | (secret & set(outputs)), dbr)
        self.checkpoint.complete(op, put=res, replaced=replacing)
        return res

    def update(self, old: ResourceState, inputs: dict, secret: set) -> ResourceState:
        """rule 6: Update(id, olds=old outputs, news); store exactly what it returns."""
        op = PendingOperation("updating", old.urn, old.type, old.name, old.id, dict(inputs), set(secret),
                              dict(old.outputs), set(old.secret_outputs))
        wire = self.rpc.wire
        resp = self._step_rpc(op, "Update", old.urn, provider_pb2.UpdateRequest(
            id=old.id, urn=old.urn, name=old.name, type=old.type,
            olds=wire(old.outputs, old.secret_outputs), news=wire(inputs, secret),
            old_inputs=wire(old.inputs, old.secret_inputs)))
        outputs, out_secret = from_struct(resp.properties)
        res = ResourceState(old.urn, old.type, old.name, old.id, dict(inputs), outputs, set(secret),
                            out_secret | (secret & set(outputs)), old.delete_before_replace)
        self.checkpoint.complete(op, put=res)
        return res

    def delete(self, res: ResourceState) -> None:
        """rule 3: Delete(id, properties=stored OUTPUTS); pending 'deleting' around it; the
        resource (live, or pending deletion) leaves the state."""
        self.rpc.ensure_started()
        op = PendingOperation("deleting", res.urn, res.type, res.name, res.id, dict(res.inputs),
                              set(res.secret_inputs), dict(res.outputs), set(res.secret_outputs))
        wire = self.rpc.wire
        self._step_rpc(op, "Delete", res.urn, provider_pb2.DeleteRequest(
            id=res.id, urn=res.urn, name=res.name, type=res.type,
            properties=wire(res.outputs, res.secret_outputs),
            old_inputs=wire(res.inputs, res.secret_inputs)))
        self.checkpoint.complete(op, discard=res)

    # -- steps -----------------------------------------------------------------------------
    def begin(self) -> None:
        """rule 9: the base checkpoint's pending operations are reported in
        ``result.interrupted``; an up, refresh or destroy keeps only the pending creates
        (:meth:`~._checkpoint.Checkpoint.begin`)."""
        self.result.interrupted = self.checkpoint.begin(self.preview)

    def register(self, spec: ResourceSpec) -> Step:
        """Plan (preview) or run (up) the step for one desired resource (rules 3-6).

        Raises:
            CheckFailedError: Check failed (unless ``check_all``). The errors of
                :meth:`create`, :meth:`update`, :meth:`delete`.
        """
        urn = make_urn(self.h.stack, self.h.project, spec.type_, spec.name)
        raw_news, news_secret = spec.news()
        old = self.state.get(urn)
        if old is None:
            return self._register_new(spec, urn, raw_news, news_secret)
        return self._register_existing(spec, old, raw_news, news_secret)

    def _register_new(self, spec: ResourceSpec, urn: str, raw_news: dict[str, Any], news_secret: set[str]) -> Step:
        """rule 4: Check(olds={}, news) then Create(checked inputs)."""
        resumed = "creating" if any(p.urn == urn and p.type == "creating" for p in self.result.interrupted) else ""
        inputs, secret, failures = self.check(urn, spec.type_, spec.name, {}, set(), raw_news, news_secret)
        step = Step(urn, spec.name, spec.type_, "create", check_failures=failures, resumed=resumed,
                    delete_before_replace=spec.delete_before_replace is True)
        if failures:
            return self._failed(step)
        if self.preview:
            step.outputs = inputs  # planned: the engine previews a create's outputs as its inputs
            return self._add(step)
        res = self.create(urn, spec.type_, spec.name, inputs, secret, spec.delete_before_replace is True)
        step.id, step.outputs = res.id, res.outputs
        return self._add(step)

    def _register_existing(self, spec: ResourceSpec, old: ResourceState, raw_news: dict[str, Any],
                           news_secret: set[str]) -> Step:
        """rules 3, 5: Check(olds=old inputs, news), Diff, then the step its answer gives."""
        urn = old.urn
        inputs, secret, failures = self.check(urn, spec.type_, spec.name, old.inputs, old.secret_inputs,
                                              raw_news, news_secret)
        step = Step(urn, spec.name, spec.type_, "same", id=old.id, check_failures=failures,
                    old_outputs=dict(old.outputs), changed_keys=_inputs_changed(old.inputs, inputs))
        if failures:
            return self._failed(step)
        changes, replaces, dbr = self.diff(old, inputs, secret)
        step.diff, step.replaces = changes, replaces
        # rule 5: an explicit delete_before_replace option overrides the provider's answer
        # in either direction (step_generator.go: `if goal.DeleteBeforeReplace != nil`).
        step.delete_before_replace = dbr if spec.delete_before_replace is None else spec.delete_before_replace
        step.op = _planned_op(changes, replaces, step.changed_keys)
        if step.op == "replace":
            # rule 5: a replacement re-runs Check without olds on the program's inputs
            # ("recompute the default values"); in a preview too.
            inputs2, secret2, failures2 = self.check(urn, spec.type_, spec.name, {}, set(), raw_news,
                                                     set(spec.news()[1]))
            if failures2:
                step.check_failures = failures2
                return self._failed(step)
            inputs, secret = inputs2, secret2
        if self.preview:
            step.outputs = dict(old.outputs) if step.op == "same" else dict(inputs)
            return self._add(step)
        self._apply(step, spec, old, inputs, secret)
        return self._add(step)

    def _apply(self, step: Step, spec: ResourceSpec, old: ResourceState, inputs: dict, secret: set) -> None:
        """Run the planned same/update/replace step of a resource in state; set the step's
        ID and outputs (rules 5, 6)."""
        if step.op == "same":
            # rule 5: no change: keep the old outputs, store the new inputs.
            kept = ResourceState(old.urn, old.type, old.name, old.id, dict(inputs), dict(old.outputs), set(secret),
                                 set(old.secret_outputs), spec.delete_before_replace is True)
            self.checkpoint.put(kept)
            step.outputs = kept.outputs
        elif step.op == "update":
            res = self.update(old, inputs, secret)  # rule 6
            step.outputs = res.outputs
        elif step.delete_before_replace:
            # rule 5: delete-before-replace: Delete the old resource first, then Create.
            self.delete(old)
            res = self.create(old.urn, spec.type_, spec.name, inputs, secret, spec.delete_before_replace is True)
            step.id, step.outputs = res.id, res.outputs
        else:
            # rule 5: create-before-delete: Create now; the old resource stays in state marked
            # for deletion and is deleted at the end of the deployment (delete_undesired).
            res = self.create(old.urn, spec.type_, spec.name, inputs, secret, spec.delete_before_replace is True,
                              replacing=old)
            step.id, step.outputs = res.id, res.outputs

    def _add(self, step: Step) -> Step:
        with self.lock:
            self.result.steps.append(step)
        return step

    def _failed(self, step: Step) -> Step:
        """rule 3: Check failures fail the preview or the update (``issueCheckFailures``,
        then the bail ``resource <urn> is invalid`` in ``continueStepsFromImport``,
        ``pkg/resource/deploy/step_generator.go``); the engine's wording of them is the real
        CLI's (``tests/test_real_cli.py``)."""
        self._add(step)
        error = CheckFailedError(step.urn, step.check_failures)
        if self.check_all:
            self.check_errors.append(error)
            return step
        raise error

    def delete_undesired(self, desired_urns: set[str]) -> None:
        """The deletes the engine runs after every create/update (``GenerateDeletes`` in
        ``pkg/resource/deploy/step_generator.go``): replaced resources marked for deletion
        (rule 5) and resources the program no longer declares, newest first."""
        for res in reversed(list(self.state.resources)):
            if res.delete:
                op = "delete-replaced"
            elif res.urn not in desired_urns:
                op = "delete"
            else:
                continue
            step = Step(res.urn, res.name, res.type, op, id=res.id, old_outputs=dict(res.outputs))
            if not self.preview:
                self.delete(res)
            self._add(step)
            self.stop_if_cancelled(PendingOperation("deleting", res.urn, res.type, res.name, res.id, {}))

    def close(self) -> None:
        """Stop the provider process, if started."""
        self.rpc.close()


class EngineHarness:
    """Plays the Pulumi engine's role against the SDK's real dynamic provider server: a fast
    stand-in for provider tests; the real CLI (:mod:`omics_dynamic_testing.automation`) is
    the oracle for the engine's rules.

    Not the Pulumi engine: every result says "engine-role harness". Each operation launches
    one ``python -u -m pulumi.dynamic`` process (rule 1), configures it (rule 2), makes the
    calls the engine makes, and stops it. Independent resources are processed sequentially
    in the order given (the engine runs them in parallel; the server serves 4 calls at a
    time, rule 11, which program mode exercises). No stack lock is taken: after a
    simulated kill the next operation runs directly (the real CLI's lock and ``pulumi
    cancel`` are tested in ``tests/test_real_cli.py``).

    Args:
        project_dir: the project directory (working directory of the provider process).
        state_path: JSON state file (created on first write).
        options: :class:`HarnessOptions` (stack, project, config, env, timeouts, callbacks);
            default every default.
        **fields: any field of :class:`HarnessOptions` by name, replacing the one in
            ``options`` (``EngineHarness(d, s, config={...}, timeout_s=60)``).

    Attributes:
        options: the harness's own copy of its options (``project`` resolved to "project"
            when None); ``config`` and ``env`` are its ``options.config`` / ``options.env``,
            which a test may change between operations.

    Raises:
        TypeError: an unknown option name.
    """

    def __init__(self, project_dir: str, state_path: str, options: Optional[HarnessOptions] = None,
                 **fields: Any) -> None:
        self.project_dir = str(project_dir)
        self.state_path = str(state_path)
        self.options = HarnessOptions.build(options, **fields)
        if self.options.project is None:
            self.options.project = "project"

    @property
    def stack(self) -> str:
        """``options.stack``."""
        return self.options.stack

    @property
    def project(self) -> str:
        """``options.project`` (never None here)."""
        return self.options.project or "project"

    @property
    def config(self) -> dict[str, Any]:
        """``options.config``."""
        return self.options.config

    @property
    def env(self) -> dict[str, str]:
        """``options.env``."""
        return self.options.env

    def urn(self, type_: str, name: str) -> str:
        """The URN the harness gives a top-level resource."""
        return make_urn(self.stack, self.project, type_, name)

    def state(self) -> State:
        """The current state file contents (empty if the file does not exist)."""
        return load_state(self.state_path, self.stack, self.project)

    @staticmethod
    def _last_op(dep: _Deployment) -> Optional[PendingOperation]:
        last = dep.result.steps[-1] if dep.result.steps else None
        if last is None:
            return None
        kind = {"create": "creating", "replace": "creating", "update": "updating"}.get(last.op, "deleting")
        return PendingOperation(kind, last.urn, last.type, last.name, last.id, {})

    def _run(self, dep: _Deployment, body: Callable[[], None]) -> OperationResult:
        try:
            body()
        except Exception as exc:  # attach what was done so far, then re-raise
            attach_result(exc, dep.result)
            raise
        finally:
            dep.close()
        return dep.result

    def _preview_body(self, dep: _Deployment, resources: Sequence[ResourceSpec]) -> Callable[[], None]:
        def body() -> None:
            dep.begin()
            for spec in resources:
                dep.register(spec)
            dep.delete_undesired({self.urn(s.type_, s.name) for s in resources})
        return body

    def preview(self, resources: Sequence[ResourceSpec], *, check_all: bool = False) -> OperationResult:
        """Check and Diff only; never Create/Update/Delete (rule 4). Inputs may hold ``UNKNOWN``.

        Returns planned steps.

        Args:
            check_all: a test convenience for tables of bad inputs: after a Check failure,
                go on checking the remaining resources in the same provider process (the
                engine stops at the first) and raise at the end; the error's
                ``.result.check_failures`` then lists every failing resource.

        Raises:
            CheckFailedError: Check failed for a resource: the engine fails the preview
                (rule 3). ``.result`` holds the steps planned so far.
            ProviderCallError: a provider call raised.
        """
        dep = _Deployment(self, "preview", preview=True, check_all=check_all)
        body = self._preview_body(dep, resources)

        def checked_body() -> None:
            body()
            if dep.check_errors:
                raise dep.check_errors[0]

        return self._run(dep, checked_body)

    def up(
        self,
        resources: Sequence[ResourceSpec],
        *,
        interrupt: Optional[Callable[[], bool]] = None,
        interrupt_after_s: Optional[float] = None,
        ctrl_c: Optional[CtrlC] = None,
    ) -> OperationResult:
        """Bring state to ``resources``: create, update, replace, keep or delete, as
        ``pulumi up --skip-preview`` does (the Automation API's way; the preview a plain
        ``pulumi up`` runs first is the real CLI's, ``tests/test_real_cli.py``).

        Args:
            resources: desired resources, in registration order.
            interrupt: polled every ~15 ms while Create/Update/Delete is in flight, and once
                more when it returns; when it returns True the provider process is SIGKILLed
                (simulated killed ``pulumi up``: the pending operation stays, and an answer
                that had arrived is lost); the next operation runs directly (no lock).
            interrupt_after_s: same, after this many seconds of an in-flight Create/Update/Delete.
            ctrl_c: press Ctrl-C once or twice during an in-flight call (:class:`CtrlC`).

        Returns:
            OperationResult; ``interrupted`` lists pending operations found at the start (rule 9).

        Raises:
            CheckFailedError: Check failed for a resource (nothing done for it; earlier steps stay).
            ProviderCallError: a provider call raised; state keeps what was completed.
            Interrupted: the provider was killed; the pending operation stays.
            Cancelled: one Ctrl-C; the in-flight call's result was recorded.
            Terminated: a second Ctrl-C; that call's pending operation stays.
            HarnessTimeout: an RPC exceeded ``timeout_s``.
            The exception's ``.result`` holds the partial OperationResult.
        """
        dep = _Deployment(self, "up", preview=False, interrupt=interrupt, interrupt_after_s=interrupt_after_s,
                          ctrl_c=ctrl_c)

        def body() -> None:
            dep.begin()
            for spec in resources:
                dep.register(spec)
                dep.stop_if_cancelled(self._last_op(dep))
            dep.delete_undesired({self.urn(s.type_, s.name) for s in resources})
            dep.stop_if_cancelled(self._last_op(dep))

        return self._run(dep, body)

    def refresh(self, *, clear_pending_creates: bool = False) -> OperationResult:
        """Read every resource and show drift (rule 7).

        Read(id, properties=outputs, inputs=inputs); the returned outputs are stored (and the
        returned inputs, if any); an empty ID removes the resource from state (``step.gone``).
        Drift: Diff(olds=refreshed outputs, news=old inputs); ``step.drift`` and
        ``step.changed_keys`` (input keys whose value differs from the refreshed output).

        Args:
            clear_pending_creates: ``pulumi refresh --clear-pending-creates``: drop every
                pending "creating" operation from state before refreshing (a state edit,
                ``filterMapPendingCreates`` in ``pkg/cmd/pulumi/operations/refresh.go``).
                Without it a non-interactive refresh keeps them (rule 9).
        """
        dep = _Deployment(self, "refresh", preview=False)

        def body() -> None:
            if clear_pending_creates:
                dep.checkpoint.clear_pending_creates()
            dep.begin()
            for res in [r for r in dep.state.resources if not r.delete]:
                dep.rpc.ensure_started()
                resp = dep.rpc.call("Read", res.urn, provider_pb2.ReadRequest(
                    id=res.id, urn=res.urn, name=res.name, type=res.type,
                    properties=dep.rpc.wire(res.outputs, res.secret_outputs),
                    inputs=dep.rpc.wire(res.inputs, res.secret_inputs)))
                step = Step(res.urn, res.name, res.type, "refresh", id=resp.id, old_outputs=dict(res.outputs))
                if not resp.id:
                    dep.checkpoint.remove(res.urn)
                    step.gone = True
                    dep._add(step)
                    continue
                outputs, out_secret = from_struct(resp.properties)
                inputs, in_secret = dict(res.inputs), set(res.secret_inputs)
                if len(resp.inputs.fields):
                    inputs, in_secret = from_struct(resp.inputs)
                    in_secret |= res.secret_inputs & set(inputs)
                new = ResourceState(res.urn, res.type, res.name, resp.id, inputs, outputs, in_secret,
                                    out_secret | (res.secret_outputs & set(outputs)), res.delete_before_replace)
                dep.checkpoint.put(new)
                changes, replaces, _ = dep.diff(new, res.inputs, res.secret_inputs)
                step.diff, step.replaces, step.outputs = changes, replaces, outputs
                step.changed_keys = [k for k in _inputs_changed(
                    {k: outputs.get(k) for k in res.inputs}, res.inputs)]
                step.drift = changes == "some" or (changes == "unknown" and bool(step.changed_keys))
                dep._add(step)

        return self._run(dep, body)

    def destroy(self) -> OperationResult:
        """Delete every resource in reverse registration order with its stored outputs (rule 3)."""
        dep = _Deployment(self, "destroy", preview=False)

        def body() -> None:
            dep.begin()
            dep.delete_undesired(set())

        return self._run(dep, body)
