"""The engine-role harness: plays the Pulumi engine against the SDK's real provider server.

Every rule cited as "rule N" is design.md section 2 rule N. Results are those of this
engine-role harness, not of the real Pulumi engine; the Go engine does more (plans,
aliases, parallel step execution, policy, snapshots in its own format).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional, Sequence, Union

import grpc
from google.protobuf import struct_pb2
from pulumi.dynamic import ResourceProvider
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime.proto import provider_pb2

from ._errors import CheckFailedError, HarnessTimeout, Interrupted, ProviderCallError
from ._server import ProviderServer
from ._state import PendingOperation, ResourceState, State, load_state, make_urn, save_state
from ._wire import from_struct, to_struct

PROVIDER_KEY = "__provider"
#: Type token of a ``pulumi.dynamic.Resource`` subclass declared without ``module``/``name``.
DEFAULT_DYNAMIC_TYPE = "pulumi-python:dynamic:Resource"
#: Every string result of the harness says where it comes from.
LABEL = "engine-role harness"
#: How often the harness polls an in-flight RPC for completion/interruption, seconds.
POLL_INTERVAL_S = 0.015

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
        delete_before_replace: the resource option of that name.
    """

    name: str
    type_: str = DEFAULT_DYNAMIC_TYPE
    provider: Union[ResourceProvider, str, None] = None
    inputs: Mapping[str, Any] = field(default_factory=dict)
    secret_keys: frozenset = frozenset()
    delete_before_replace: bool = False

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
class CallRecord:
    """One RPC the harness made: ``method`` ("Create", ...), ``urn`` (None for Configure),
    ``t_s`` seconds since the operation began, ``code`` gRPC status name ("OK", ...)."""

    method: str
    urn: Optional[str]
    t_s: float
    code: str = "OK"


@dataclass
class Step:
    """What happened (or, in a preview, would happen) to one resource.

    ``op``: "create" | "update" | "replace" | "same" | "delete" | "refresh".
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
        """The last step of the resource called ``name``. Raises KeyError if none."""
        for s in reversed(self.steps):
            if s.name == name:
                return s
        raise KeyError(f"{LABEL}: no step for resource {name!r} in this {self.operation}")

    @property
    def ops(self) -> dict[str, str]:
        """{resource name: op}."""
        return {s.name: s.op for s in self.steps}

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


class _Deployment:
    """One operation's engine logic around one lazily started provider process.

    Thread-safe: program mode registers resources from several threads; state writes and
    the call log are guarded by a lock, RPCs run unlocked (the server serves 4 at a time,
    rule 11).
    """

    def __init__(self, harness: "EngineHarness", operation: str, *, preview: bool,
                 interrupt: Optional[Callable[[], bool]] = None,
                 interrupt_after_s: Optional[float] = None) -> None:
        self.h = harness
        self.preview = preview
        self.result = OperationResult(operation=operation)
        self.state = load_state(harness.state_path, harness.stack, harness.project)
        self.result.state = self.state
        self.interrupt = interrupt
        self.interrupt_after_s = interrupt_after_s
        self.server: Optional[ProviderServer] = None
        self.send_secrets = False
        self.t0 = time.monotonic()
        self.lock = threading.RLock()
        self._start_lock = threading.Lock()

    # -- process and RPC plumbing ------------------------------------------------------
    def _ensure_server(self) -> ProviderServer:
        with self._start_lock:
            if self.server is None:
                # rule 1: one provider process per operation, started when first needed.
                self.server = ProviderServer(
                    self.h.project_dir,
                    python=self.h.python,
                    extra_pythonpath=self.h.extra_pythonpath,
                    env=self.h.env,
                    project=self.h.project,
                    start_timeout_s=self.h.start_timeout_s,
                    on_stderr_line=self.h.on_stderr_line,
                )
                self.result.stderr_lines = self.server.stderr_lines
                self._configure(self.server)
            return self.server

    def _configure(self, server: ProviderServer) -> None:
        # rule 2: Handshake is skipped (the SDK server does not implement it); CheckConfig
        # answers UNIMPLEMENTED, which the engine accepts; DiffConfig needs old config and
        # the SDK answers UNIMPLEMENTED too, so it is skipped.
        config = {k: v if isinstance(v, str) else json.dumps(v) for k, v in self.h.config.items()}
        news = struct_pb2.Struct()
        news.update(config)
        try:
            self._rpc("CheckConfig", None, provider_pb2.CheckRequest(urn="", news=news, olds=struct_pb2.Struct()))
        except ProviderCallError as exc:
            if exc.code not in ("UNIMPLEMENTED",):
                raise
        # rule 2: Configure with the whole stack config, namespaced keys, values as strings.
        args = to_struct(config, self.h.secret_config_keys, send_secrets=True)
        resp = self._rpc(
            "Configure",
            None,
            provider_pb2.ConfigureRequest(
                variables=config, args=args, acceptSecrets=True, acceptResources=True
            ),
        )
        # The SDK answers acceptSecrets=False: secrets then go over the wire as plaintext.
        self.send_secrets = bool(resp.acceptSecrets)

    def _rpc(self, method: str, urn: Optional[str], request: Any, *, interruptible: bool = False,
             pending: Optional[str] = None) -> Any:
        server = self.server
        assert server is not None and server.stub is not None
        fut = getattr(server.stub, method).future(request)  # rule 10: no gRPC deadline
        started = time.monotonic()
        record = CallRecord(method, urn, round(started - self.t0, 4))
        with self.lock:
            self.result.calls.append(record)
        timeout_s = self.h.timeout_s
        while not fut.done():
            time.sleep(POLL_INTERVAL_S)
            if interruptible and (
                (self.interrupt is not None and self.interrupt())
                or (self.interrupt_after_s is not None and time.monotonic() - started >= self.interrupt_after_s)
            ):
                # rule 9: a killed `pulumi up` leaves the pending operation in state.
                record.code = "KILLED"
                server.kill()
                raise Interrupted(pending or method, urn or "")
            if timeout_s is not None and time.monotonic() - started >= timeout_s:
                record.code = "TIMEOUT"
                server.kill()
                raise HarnessTimeout(method, urn, timeout_s)
        try:
            return fut.result()
        except grpc.RpcError as exc:
            record.code = exc.code().name
            raise ProviderCallError(method, urn, exc.code().name, exc.details() or "") from None

    def _save(self) -> None:
        with self.lock:
            save_state(self.h.state_path, self.state)

    def _wire(self, props: Mapping[str, Any], secret: set[str]) -> struct_pb2.Struct:
        return to_struct(props, secret, send_secrets=self.send_secrets)

    # -- single RPCs with engine semantics -----------------------------------------------
    def check(self, urn: str, type_: str, name: str, olds: Mapping[str, Any], olds_secret: set[str],
              news: Mapping[str, Any], news_secret: set[str]) -> tuple[dict, set, list]:
        """rule 3: olds are the previous inputs ({} on create)."""
        self._ensure_server()
        resp = self._rpc("Check", urn, provider_pb2.CheckRequest(
            urn=urn, name=name, type=type_, olds=self._wire(olds, olds_secret), news=self._wire(news, news_secret)))
        inputs, secret = from_struct(resp.inputs)
        # The engine keeps an input secret when the program sent it secret.
        secret |= {k for k in news_secret if k in inputs}
        failures = [(f.property, f.reason) for f in resp.failures]
        return inputs, secret, failures

    def diff(self, res: ResourceState, news: Mapping[str, Any], news_secret: set[str]) -> tuple[str, list, bool]:
        """rules 3, 5: Diff(id, olds=old OUTPUTS, news=checked inputs)."""
        resp = self._rpc("Diff", res.urn, provider_pb2.DiffRequest(
            id=res.id, urn=res.urn, name=res.name, type=res.type,
            olds=self._wire(res.outputs, res.secret_outputs), news=self._wire(news, news_secret),
            old_inputs=self._wire(res.inputs, res.secret_inputs)))
        return _DIFF_NAMES.get(resp.changes, "unknown"), list(resp.replaces), bool(resp.deleteBeforeReplace)

    def _pending(self, op: PendingOperation) -> None:
        with self.lock:
            self.state.pending_operations.append(op)
            save_state(self.h.state_path, self.state)

    def _clear_pending(self, op: PendingOperation) -> None:
        with self.lock:
            self.state.pending_operations = [p for p in self.state.pending_operations if p is not op]

    def create(self, urn: str, type_: str, name: str, inputs: dict, secret: set, dbr: bool) -> ResourceState:
        """rule 4 / rule 9: write a pending 'creating' op, Create(checked inputs), clear it."""
        op = PendingOperation("creating", urn, type_, name, "", dict(inputs), set(secret))
        self._pending(op)
        resp = self._rpc("Create", urn, provider_pb2.CreateRequest(
            urn=urn, name=name, type=type_, properties=self._wire(inputs, secret)),
            interruptible=True, pending="creating")
        outputs, out_secret = from_struct(resp.properties)
        res = ResourceState(urn, type_, name, resp.id, dict(inputs), outputs, set(secret),
                            out_secret | (secret & set(outputs)), dbr)
        with self.lock:
            self._clear_pending(op)
            self.state.put(res)
            save_state(self.h.state_path, self.state)
        return res

    def update(self, old: ResourceState, inputs: dict, secret: set) -> ResourceState:
        """rule 6: Update(id, olds=old outputs, news); store exactly what it returns."""
        op = PendingOperation("updating", old.urn, old.type, old.name, old.id, dict(inputs), set(secret),
                              dict(old.outputs), set(old.secret_outputs))
        self._pending(op)
        resp = self._rpc("Update", old.urn, provider_pb2.UpdateRequest(
            id=old.id, urn=old.urn, name=old.name, type=old.type,
            olds=self._wire(old.outputs, old.secret_outputs), news=self._wire(inputs, secret),
            old_inputs=self._wire(old.inputs, old.secret_inputs)),
            interruptible=True, pending="updating")
        outputs, out_secret = from_struct(resp.properties)
        res = ResourceState(old.urn, old.type, old.name, old.id, dict(inputs), outputs, set(secret),
                            out_secret | (secret & set(outputs)), old.delete_before_replace)
        with self.lock:
            self._clear_pending(op)
            self.state.put(res)
            save_state(self.h.state_path, self.state)
        return res

    def delete(self, res: ResourceState, *, remove: bool = True) -> None:
        """rule 3: Delete(id, properties=stored OUTPUTS); pending 'deleting' around it."""
        self._ensure_server()
        op = PendingOperation("deleting", res.urn, res.type, res.name, res.id, dict(res.inputs),
                              set(res.secret_inputs), dict(res.outputs), set(res.secret_outputs))
        self._pending(op)
        self._rpc("Delete", res.urn, provider_pb2.DeleteRequest(
            id=res.id, urn=res.urn, name=res.name, type=res.type,
            properties=self._wire(res.outputs, res.secret_outputs),
            old_inputs=self._wire(res.inputs, res.secret_inputs)),
            interruptible=True, pending="deleting")
        with self.lock:
            self._clear_pending(op)
            if remove:
                self.state.remove(res.urn)
            save_state(self.h.state_path, self.state)

    # -- steps -----------------------------------------------------------------------------
    def take_pending(self) -> None:
        """rule 9: report operations a killed run left behind and clear them.

        An interrupted create is not in state, so the resource is created again (with the
        inputs the program now declares). An interrupted delete of a replaced resource (its
        ID no longer in state) is retried with its stored outputs during ``up``.
        """
        with self.lock:
            self.result.interrupted = list(self.state.pending_operations)
            # Only `up` resolves them; preview/refresh/destroy report and keep them.
            if self.result.operation == "up":
                self.state.pending_operations = []
                save_state(self.h.state_path, self.state)

    def retry_orphan_deletes(self) -> None:
        for op in self.result.interrupted:
            current = self.state.get(op.urn)
            if op.type == "deleting" and op.id and (current is None or current.id != op.id):
                orphan = ResourceState(op.urn, op.resource_type, op.name, op.id, op.inputs, op.outputs,
                                       op.secret_inputs, op.secret_outputs)
                self.delete(orphan, remove=False)
                self.result.steps.append(Step(op.urn, op.name, op.resource_type, "delete", id=op.id,
                                              old_outputs=dict(op.outputs), resumed="deleting"))

    def register(self, spec: ResourceSpec) -> Step:
        """Plan (preview) or run (up) the step for one desired resource (rules 3-6)."""
        urn = make_urn(self.h.stack, self.h.project, spec.type_, spec.name)
        news, news_secret = spec.news()
        old = self.state.get(urn)
        resumed = "creating" if any(p.urn == urn and p.type == "creating" for p in self.result.interrupted) else ""
        if old is None:
            # rule 4: Check(olds={}, news) then Create(checked inputs).
            inputs, secret, failures = self.check(urn, spec.type_, spec.name, {}, set(), news, news_secret)
            step = Step(urn, spec.name, spec.type_, "create", check_failures=failures, resumed=resumed,
                        delete_before_replace=spec.delete_before_replace)
            if failures:
                return self._failed(step)
            if self.preview:
                step.outputs = inputs  # planned: the engine previews a create's outputs as its inputs
                return self._add(step)
            res = self.create(urn, spec.type_, spec.name, inputs, secret, spec.delete_before_replace)
            step.id, step.outputs = res.id, res.outputs
            return self._add(step)

        # rule 3: Check(olds=old inputs, news).
        inputs, secret, failures = self.check(urn, spec.type_, spec.name, old.inputs, old.secret_inputs,
                                              news, news_secret)
        step = Step(urn, spec.name, spec.type_, "same", id=old.id, check_failures=failures,
                    old_outputs=dict(old.outputs), changed_keys=_inputs_changed(old.inputs, inputs))
        if failures:
            return self._failed(step)
        changes, replaces, dbr = self.diff(old, inputs, secret)
        step.diff, step.replaces = changes, replaces
        step.delete_before_replace = dbr or spec.delete_before_replace
        if changes == "unknown":
            # rule 5: the provider did not decide (the SDK's default diff): the engine compares
            # old and new inputs itself, __provider included.
            changed = bool(step.changed_keys)
        else:
            changed = changes == "some"
        if changed and replaces:
            step.op = "replace"
        elif changed:
            step.op = "update"
        if self.preview:
            step.outputs = dict(old.outputs) if step.op == "same" else dict(inputs)
            return self._add(step)
        if step.op == "same":
            # rule 5: no change: keep the old outputs, store the new inputs.
            kept = ResourceState(urn, old.type, old.name, old.id, dict(inputs), dict(old.outputs), set(secret),
                                 set(old.secret_outputs), spec.delete_before_replace)
            with self.lock:
                self.state.put(kept)
                save_state(self.h.state_path, self.state)
            step.outputs = kept.outputs
        elif step.op == "update":
            res = self.update(old, inputs, secret)  # rule 6
            step.outputs = res.outputs
        else:
            # rule 5: replace = Check without olds, Create, then Delete the old one
            # (delete-before-replace when the provider or the resource option asks for it).
            inputs2, secret2, failures2 = self.check(urn, spec.type_, spec.name, {}, set(), news, news_secret)
            if failures2:
                step.check_failures = failures2
                return self._failed(step)
            if step.delete_before_replace:
                self.delete(old)
                res = self.create(urn, spec.type_, spec.name, inputs2, secret2, spec.delete_before_replace)
            else:
                res = self.create(urn, spec.type_, spec.name, inputs2, secret2, spec.delete_before_replace)
                self.delete(old, remove=False)
            step.id, step.outputs = res.id, res.outputs
        return self._add(step)

    def _add(self, step: Step) -> Step:
        with self.lock:
            self.result.steps.append(step)
        return step

    def _failed(self, step: Step) -> Step:
        self._add(step)
        if self.preview:
            return step
        raise CheckFailedError(step.urn, step.check_failures)

    def delete_undesired(self, desired_urns: set[str]) -> None:
        """Resources in state the program no longer declares are deleted, newest first."""
        for res in reversed(list(self.state.resources)):
            if res.urn in desired_urns:
                continue
            step = Step(res.urn, res.name, res.type, "delete", id=res.id, old_outputs=dict(res.outputs))
            if not self.preview:
                self.delete(res)
            self._add(step)

    def close(self) -> None:
        if self.server is not None:
            self.server.stop()


class EngineHarness:
    """Plays the Pulumi engine's role against the SDK's real dynamic provider server.

    Not the Pulumi engine: every result says "engine-role harness". Each operation launches
    one ``python -u -m pulumi.dynamic`` process (rule 1), configures it (rule 2), makes the
    calls the engine makes, and stops it. Independent resources are processed sequentially
    in the order given (the engine runs them in parallel; the server serves 4 calls at a
    time, rule 11, which program mode exercises).

    Args:
        project_dir: the project directory (working directory of the provider process).
        state_path: JSON state file (created on first write).
        stack, project: names used in URNs and ``PULUMI_PROJECT``.
        config: stack config, namespaced keys (``aws:region``, ``<project>:key``,
            ``omics-dynamic:endpoint``); non-string values are sent as JSON strings.
        secret_config_keys: config keys sent as secrets in Configure.
        env: extra environment variables for the provider process.
        extra_pythonpath: extra ``PYTHONPATH`` entries for the provider process.
        python: interpreter for the provider process (default ``sys.executable``).
        start_timeout_s: bound on waiting for the provider's port line, seconds.
        timeout_s: optional safety bound per RPC, seconds (the engine sets no deadline,
            rule 10; None = wait forever, as the engine does).
        on_stderr_line: optional callable(str) called with each line the provider process
            prints to stderr, as it comes (rule 13; from a drain thread).
    """

    def __init__(
        self,
        project_dir: str,
        state_path: str,
        *,
        stack: str = "dev",
        project: str = "project",
        config: Optional[Mapping[str, Any]] = None,
        secret_config_keys: Sequence[str] = (),
        env: Optional[Mapping[str, str]] = None,
        extra_pythonpath: Sequence[str] = (),
        python: str = sys.executable,
        start_timeout_s: float = 30.0,
        timeout_s: Optional[float] = None,
        on_stderr_line: Optional[Callable[[str], None]] = None,
    ) -> None:
        self.on_stderr_line = on_stderr_line
        self.project_dir = str(project_dir)
        self.state_path = str(state_path)
        self.stack = stack
        self.project = project
        self.config = dict(config or {})
        self.secret_config_keys = list(secret_config_keys)
        self.env = dict(env or {})
        self.extra_pythonpath = list(extra_pythonpath)
        self.python = python
        self.start_timeout_s = start_timeout_s
        self.timeout_s = timeout_s

    def urn(self, type_: str, name: str) -> str:
        """The URN the harness gives a top-level resource."""
        return make_urn(self.stack, self.project, type_, name)

    def state(self) -> State:
        """The current state file contents (empty if the file does not exist)."""
        return load_state(self.state_path, self.stack, self.project)

    def _run(self, dep: _Deployment, body: Callable[[], None]) -> OperationResult:
        try:
            body()
        except Exception as exc:  # attach what was done so far, then re-raise
            exc.result = dep.result  # type: ignore[attr-defined]
            raise
        finally:
            dep.close()
        return dep.result

    def preview(self, resources: Sequence[ResourceSpec]) -> OperationResult:
        """Check and Diff only; never Create/Update/Delete (rule 4). Inputs may hold ``UNKNOWN``.

        Returns planned steps; Check failures are reported in ``step.check_failures`` (not
        raised). Raises ProviderCallError when a provider call raises.
        """
        dep = _Deployment(self, "preview", preview=True)

        def body() -> None:
            dep.take_pending()
            for spec in resources:
                dep.register(spec)
            dep.delete_undesired({self.urn(s.type_, s.name) for s in resources})

        return self._run(dep, body)

    def up(
        self,
        resources: Sequence[ResourceSpec],
        *,
        interrupt: Optional[Callable[[], bool]] = None,
        interrupt_after_s: Optional[float] = None,
    ) -> OperationResult:
        """Bring state to ``resources``: create, update, replace, keep or delete.

        Args:
            resources: desired resources, in registration order.
            interrupt: polled every ~15 ms while Create/Update/Delete is in flight; when it
                returns True the provider process is SIGKILLed (simulated killed ``pulumi up``).
            interrupt_after_s: same, after this many seconds of an in-flight Create/Update/Delete.

        Returns:
            OperationResult; ``interrupted`` lists pending operations found at the start (rule 9).

        Raises:
            CheckFailedError: Check failed for a resource (nothing done for it; earlier steps stay).
            ProviderCallError: a provider call raised; state keeps what was completed.
            Interrupted: the provider was killed; the pending operation stays in state.
            HarnessTimeout: an RPC exceeded ``timeout_s``.
            The exception's ``.result`` holds the partial OperationResult.
        """
        dep = _Deployment(self, "up", preview=False, interrupt=interrupt, interrupt_after_s=interrupt_after_s)

        def body() -> None:
            dep.take_pending()
            for spec in resources:
                dep.register(spec)
            dep.retry_orphan_deletes()
            dep.delete_undesired({self.urn(s.type_, s.name) for s in resources})

        return self._run(dep, body)

    def refresh(self) -> OperationResult:
        """Read every resource and show drift (rule 7).

        Read(id, properties=outputs, inputs=inputs); the returned outputs are stored (and the
        returned inputs, if any); an empty ID removes the resource from state (``step.gone``).
        Drift: Diff(olds=refreshed outputs, news=old inputs); ``step.drift`` and
        ``step.changed_keys`` (input keys whose value differs from the refreshed output).
        """
        dep = _Deployment(self, "refresh", preview=False)

        def body() -> None:
            dep.take_pending()
            for res in list(dep.state.resources):
                dep._ensure_server()  # pylint: disable=protected-access
                resp = dep._rpc("Read", res.urn, provider_pb2.ReadRequest(  # pylint: disable=protected-access
                    id=res.id, urn=res.urn, name=res.name, type=res.type,
                    properties=dep._wire(res.outputs, res.secret_outputs),  # pylint: disable=protected-access
                    inputs=dep._wire(res.inputs, res.secret_inputs)))  # pylint: disable=protected-access
                step = Step(res.urn, res.name, res.type, "refresh", id=resp.id, old_outputs=dict(res.outputs))
                if not resp.id:
                    with dep.lock:
                        dep.state.remove(res.urn)
                        dep._save()  # pylint: disable=protected-access
                    step.gone = True
                    dep._add(step)  # pylint: disable=protected-access
                    continue
                outputs, out_secret = from_struct(resp.properties)
                inputs, in_secret = dict(res.inputs), set(res.secret_inputs)
                if len(resp.inputs.fields):
                    inputs, in_secret = from_struct(resp.inputs)
                    in_secret |= res.secret_inputs & set(inputs)
                new = ResourceState(res.urn, res.type, res.name, resp.id, inputs, outputs, in_secret,
                                    out_secret | (res.secret_outputs & set(outputs)), res.delete_before_replace)
                with dep.lock:
                    dep.state.put(new)
                    dep._save()  # pylint: disable=protected-access
                changes, replaces, _ = dep.diff(new, res.inputs, res.secret_inputs)
                step.diff, step.replaces, step.outputs = changes, replaces, outputs
                step.changed_keys = [k for k in _inputs_changed(
                    {k: outputs.get(k) for k in res.inputs}, res.inputs)]
                step.drift = changes == "some" or (changes == "unknown" and bool(step.changed_keys))
                dep._add(step)  # pylint: disable=protected-access

        return self._run(dep, body)

    def destroy(self) -> OperationResult:
        """Delete every resource in reverse registration order with its stored outputs (rule 3)."""
        dep = _Deployment(self, "destroy", preview=False)

        def body() -> None:
            dep.take_pending()
            dep.delete_undesired(set())

        return self._run(dep, body)
