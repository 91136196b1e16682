"""The provider process of one harness operation and the RPCs to it, as the engine makes
them: started when first needed and configured (rules 1, 2), every call recorded, and an
in-flight call watched for the simulated kill, Ctrl-C and the harness's safety timeout
(rules 9, 10).

Every rule cited as "rule N" is design.md section 2, rule N.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Mapping, Optional

import grpc
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import provider_pb2

from ._errors import HarnessTimeout, Interrupted, ProviderCallError, Terminated
from ._server import ProviderServer
from ._wire import to_struct

if TYPE_CHECKING:
    from ._engine import EngineHarness, OperationResult

#: How often the harness polls an in-flight RPC for completion/interruption, seconds.
POLL_INTERVAL_S = 0.015
#: The engine's bound on the Cancel RPC it sends on a Ctrl-C (``defaultHost.SignalCancellation``).
CANCEL_RPC_TIMEOUT_S = 30.0
#: How long the engine's ``Plugin.Kill`` waits after SIGINT before SIGKILL.
KILL_GRACE_S = 5.0


@dataclass(frozen=True)
class CtrlC:
    """Ctrl-C pressed (SIGINT sent to the CLI) while a Create/Update/Delete is in flight.

    The first Ctrl-C cancels (``pkg/backend/cancellation_scope.go``): the engine sends the
    Cancel RPC to the provider (``defaultHost.SignalCancellation``, 30 s timeout), starts no
    new step and waits for the call in flight; the update then ends "canceled"
    (:class:`~omics_dynamic_testing.Cancelled`). A second Ctrl-C terminates: the engine stops
    waiting, writes no checkpoint for that call and kills the provider (SIGINT to its
    process group, 5 s, SIGKILL: ``Plugin.Kill``) (:class:`~omics_dynamic_testing.Terminated`).

    Args:
        when: polled every ~15 ms during an in-flight Create/Update/Delete; the first Ctrl-C
            comes when it returns True.
        after_s: or this many seconds into the in-flight call.
        second_after_s: a second Ctrl-C this many seconds after the first, if the call has
            not returned by then (None: never).
        cancel_rpc: False = the first Ctrl-C's Cancel RPC never reaches the provider, as when
            the SDK server's 4 threads are all busy (the engine's 30 s expire while it
            queues); then only the second Ctrl-C's SIGINT does.
    """

    when: Optional[Callable[[], bool]] = None
    after_s: Optional[float] = None
    second_after_s: Optional[float] = None
    cancel_rpc: bool = True


@dataclass
class CallRecord:
    """One RPC the harness made: ``method`` ("Create", ...), ``urn`` (None for Configure),
    ``t_s`` seconds since the operation began, ``code`` gRPC status name ("OK", ...)."""

    method: str
    urn: Optional[str]
    t_s: float
    code: str = "OK"


class ProviderRpc:
    """One operation's provider process (started lazily) and the calls to it.

    Args:
        harness: the harness whose project directory and options (interpreter, paths, env,
            config, timeouts, stderr callback) start and configure the process.
        result: the operation's result: each call is appended to ``result.calls``, and
            ``result.stderr_lines`` is the process's stderr once started.
        lock: the deployment's lock, held while ``result.calls`` is appended to.
        t0: ``time.monotonic()`` when the operation began (``CallRecord.t_s`` counts from it).
        interrupt, interrupt_after_s: the simulated kill (``EngineHarness.up``).
        ctrl_c: the Ctrl-C to press during an in-flight call, or None.

    Attributes:
        server: the provider process, None until the first call.
        send_secrets: whether Configure accepted secrets (else they go as plaintext).
        ctrl_c_at: ``time.monotonic()`` of the first Ctrl-C, None before it.
        returned_s: seconds from the first Ctrl-C to the in-flight call's return.
    """

    def __init__(self, harness: EngineHarness, result: OperationResult, lock: threading.RLock, t0: float, *,
                 interrupt: Optional[Callable[[], bool]] = None, interrupt_after_s: Optional[float] = None,
                 ctrl_c: Optional[CtrlC] = None) -> None:
        self.h = harness
        self.result = result
        self.lock = lock
        self.t0 = t0
        self.interrupt = interrupt
        self.interrupt_after_s = interrupt_after_s
        self.ctrl_c = ctrl_c
        self.ctrl_c_at: Optional[float] = None
        self.cancel_future: Any = None
        self.returned_s: Optional[float] = None
        self.server: Optional[ProviderServer] = None
        self.send_secrets = False
        self._start_lock = threading.Lock()

    def ensure_started(self) -> ProviderServer:
        """The provider process, started and configured on the first call (rule 1).

        Raises:
            ProviderStartError: the process did not start. ProviderCallError: Configure failed.
        """
        with self._start_lock:
            if self.server is None:
                # rule 1: one provider process per operation, started when first needed.
                options = self.h.options
                self.server = ProviderServer(
                    self.h.project_dir,
                    python=options.python,
                    extra_pythonpath=options.extra_pythonpath,
                    env=options.env,
                    project=self.h.project,
                    start_timeout_s=options.start_timeout_s,
                    on_stderr_line=options.on_stderr_line,
                )
                self.result.stderr_lines = self.server.stderr_lines
                self._configure()
            return self.server

    def _configure(self) -> None:
        # rule 2: Handshake is skipped (the SDK server does not implement it); CheckConfig
        # answers UNIMPLEMENTED, which the engine accepts; DiffConfig needs old config and
        # the SDK answers UNIMPLEMENTED too, so it is skipped.
        config = {k: v if isinstance(v, str) else json.dumps(v) for k, v in self.h.options.config.items()}
        news = struct_pb2.Struct()
        news.update(config)
        try:
            self.call("CheckConfig", None, provider_pb2.CheckRequest(urn="", news=news, olds=struct_pb2.Struct()))
        except ProviderCallError as exc:
            if exc.code not in ("UNIMPLEMENTED",):
                raise
        # rule 2: Configure with the whole stack config, namespaced keys, values as strings.
        args = to_struct(config, self.h.options.secret_config_keys, send_secrets=True)
        resp = self.call(
            "Configure",
            None,
            provider_pb2.ConfigureRequest(
                variables=config, args=args, acceptSecrets=True, acceptResources=True
            ),
        )
        # The SDK answers acceptSecrets=False: secrets then go over the wire as plaintext.
        self.send_secrets = bool(resp.acceptSecrets)

    def wire(self, props: Mapping[str, Any], secret: set[str]) -> struct_pb2.Struct:
        """``props`` as the request Struct, ``secret`` keys as secrets if Configure accepted them."""
        return to_struct(props, secret, send_secrets=self.send_secrets)

    def call(self, method: str, urn: Optional[str], request: Any, *, interruptible: bool = False,
             pending: Optional[str] = None) -> Any:
        """Make the RPC ``method`` (on a started server) and wait for its answer, with no
        gRPC deadline (rule 10); polled every POLL_INTERVAL_S.

        Args:
            urn: the resource's URN for the call record (None for provider-level calls).
            interruptible: a Create/Update/Delete: the simulated kill and Ctrl-C apply.
            pending: the pending operation's type ("creating", ...) named in their errors.

        Returns:
            the response message.

        Raises:
            Interrupted: the simulated kill (the provider is SIGKILLed; an answer that had
                arrived is lost). Terminated: a second Ctrl-C. HarnessTimeout: the call
                exceeded ``options.timeout_s`` (the provider is killed).
                ProviderCallError: the provider answered an error.
        """
        server = self.server
        assert server is not None and server.stub is not None
        fut = getattr(server.stub, method).future(request)  # rule 10: no gRPC deadline
        started = time.monotonic()
        record = CallRecord(method, urn, round(started - self.t0, 4))
        with self.lock:
            self.result.calls.append(record)
        timeout_s = self.h.options.timeout_s
        while True:
            done = fut.done()
            # The kill is checked once more when the call has returned: a CLI killed after the
            # provider answered but before the checkpoint was written loses the answer too.
            if interruptible and (
                (self.interrupt is not None and self.interrupt())
                or (self.interrupt_after_s is not None and time.monotonic() - started >= self.interrupt_after_s)
            ):
                # rule 9: a killed `pulumi up` leaves the pending operation in state.
                record.code = "KILLED"
                server.kill()
                raise Interrupted(pending or method, urn or "")
            if done:
                break
            if interruptible and self.ctrl_c is not None:
                self._ctrl_c(started, record, pending or method, urn or "")
            if timeout_s is not None and time.monotonic() - started >= timeout_s:
                record.code = "TIMEOUT"
                server.kill()
                raise HarnessTimeout(method, urn, timeout_s)
            time.sleep(POLL_INTERVAL_S)
        if self.ctrl_c_at is not None and self.returned_s is None:
            self.returned_s = time.monotonic() - self.ctrl_c_at
        try:
            return fut.result()
        except grpc.RpcError as exc:
            record.code = exc.code().name
            raise ProviderCallError(method, urn, exc.code().name, exc.details() or "") from None

    def _ctrl_c(self, started: float, record: CallRecord, operation: str, urn: str) -> None:
        """rule 9: the engine's first and second Ctrl-C during an in-flight call (CtrlC)."""
        ctrl_c, server = self.ctrl_c, self.server
        assert ctrl_c is not None and server is not None and server.stub is not None
        now = time.monotonic()
        if self.ctrl_c_at is None:
            if (ctrl_c.when is not None and ctrl_c.when()) or (
                    ctrl_c.after_s is not None and now - started >= ctrl_c.after_s):
                self.ctrl_c_at = now
                if ctrl_c.cancel_rpc:
                    with self.lock:
                        self.result.calls.append(CallRecord("Cancel", None, round(now - self.t0, 4)))
                    self.cancel_future = server.stub.Cancel.future(empty_pb2.Empty(),
                                                                   timeout=CANCEL_RPC_TIMEOUT_S)
        elif ctrl_c.second_after_s is not None and now - self.ctrl_c_at >= ctrl_c.second_after_s:
            record.code = "TERMINATED"
            exit_s, sigkilled = server.interrupt_group(KILL_GRACE_S)
            raise Terminated(operation, urn, exit_s, sigkilled)

    def cancel_code(self) -> str:
        """The gRPC status of the Cancel RPC sent on the first Ctrl-C ("NOT SENT" if none)."""
        fut = self.cancel_future
        if fut is None:
            return "NOT SENT"
        try:
            fut.result(timeout=CANCEL_RPC_TIMEOUT_S)
            return "OK"
        except grpc.RpcError as exc:
            return exc.code().name

    def kill(self) -> None:
        """SIGKILL the provider process, if started."""
        if self.server is not None:
            self.server.kill()

    def close(self) -> None:
        """Stop the provider process, if started."""
        if self.server is not None:
            self.server.stop()
