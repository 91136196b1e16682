"""Exceptions raised by the engine-role harness.

Tree::

    HarnessError                      anything the harness reports
    ├── ProviderStartError            the provider server did not print its port in time or died
    ├── ProviderCallError             a provider RPC failed (the provider raised: gRPC UNKNOWN + traceback)
    ├── CheckFailedError              Check returned failures: the preview or update fails (rule 3)
    ├── Interrupted                   the harness SIGKILLed the provider during Create/Update (rule 9)
    ├── Cancelled                     one Ctrl-C: Cancel sent, the in-flight call awaited, update canceled
    ├── Terminated                    a second Ctrl-C: SIGINT to the provider's process group, then SIGKILL
    └── HarnessTimeout                an operation exceeded the caller's safety ``timeout_s``

Every exception names the resource (URN) and the RPC it concerns where there is one.
These are results of the engine-role harness, not of the real Pulumi engine.
"""

from __future__ import annotations

from typing import Optional, Sequence


class HarnessError(Exception):
    """Base class of every error the engine-role harness raises."""


def attach_result(exc: BaseException, result: object) -> None:
    """Set ``exc.result`` to what the operation did before ``exc`` ended it.

    Every exception an operation of the harness raises (its own, the provider's, or one
    a program raised) carries the partial ``OperationResult`` / ``ProgramResult`` there, so
    a test can inspect the steps done so far. An exception that takes no attributes is left
    as it is.
    """
    try:
        exc.result = result  # type: ignore[attr-defined]  # any exception type: added at run time
    except AttributeError:
        pass


class ProviderStartError(HarnessError):
    """The provider server (``python -u -m pulumi.dynamic``) did not start.

    Attributes:
        stderr_lines: list[str], what the process wrote to stderr before it died or the
            wait ran out (usually an import error traceback).
    """

    def __init__(self, message: str, stderr_lines: Sequence[str]) -> None:
        self.stderr_lines = list(stderr_lines)
        tail = "\n".join(self.stderr_lines[-30:])
        super().__init__(f"{message}\n--- provider stderr ---\n{tail}" if tail else message)


class ProviderCallError(HarnessError):
    """A provider RPC failed.

    The SDK server answers an exception raised by the provider with gRPC status UNKNOWN
    and the formatted traceback as details (``_abort_with_traceback`` in
    ``pulumi/dynamic/__main__.py``).

    Attributes:
        method: str, the RPC name ("Create", "Update", ...).
        urn: str | None, the resource the call concerned.
        provider_message: str, the last line of the traceback (the exception the provider raised).
        details: str, the full details string the server sent (traceback).
        code: str, the gRPC status code name.
    """

    def __init__(self, method: str, urn: Optional[str], code: str, details: str) -> None:
        self.method = method
        self.urn = urn
        self.code = code
        self.details = details
        lines = [line for line in details.strip().splitlines() if line.strip()]
        self.provider_message = lines[-1].strip() if lines else details
        super().__init__(
            f"engine-role harness: {method} failed for {urn or '(no resource)'}: "
            f"{self.provider_message} (gRPC {code}; full traceback in .details)"
        )


class CheckFailedError(HarnessError):
    """Check returned failures for a resource: the preview or update fails, as the engine's does.

    The failing resource gets no Create/Update, in a preview and in an update alike (rule
    3). The engine's wording of the failures is the real CLI's (``tests/test_real_cli.py``).

    Attributes:
        urn: str, the resource.
        failures: list[tuple[str, str]], (property, reason) pairs as the provider returned them.
    """

    def __init__(self, urn: str, failures: Sequence[tuple[str, str]]) -> None:
        self.urn = urn
        self.failures = list(failures)
        listed = "\n".join(f"  {prop}: {reason}" for prop, reason in self.failures)
        super().__init__(f"engine-role harness: Check failed for {urn}; the preview or update fails:\n{listed}")


class Interrupted(HarnessError):
    """The harness SIGKILLed the provider process while an operation was in flight.

    This simulates a killed ``pulumi up`` (design.md section 2, rule 9): the pending operation stays in
    the state file. The harness takes no stack lock, so the next operation runs directly
    (the lock a killed CLI leaves and ``pulumi cancel`` are the real CLI's to test).

    Attributes:
        operation: str, "creating" | "updating" | "deleting".
        urn: str, the resource whose operation was in flight.
    """

    def __init__(self, operation: str, urn: str) -> None:
        self.operation = operation
        self.urn = urn
        super().__init__(
            f"engine-role harness: provider killed while {operation} {urn} (a killed `pulumi up`); "
            f"the pending '{operation}' operation is left behind"
        )


class Cancelled(HarnessError):
    """The update was cancelled by one Ctrl-C (``EngineHarness.up(ctrl_c=CtrlC(...))``).

    As the engine does (rule 9): the Cancel RPC went to the provider, no new step started,
    the call in flight was awaited and its result recorded, and the update ended "canceled".

    Attributes:
        urn: str, the resource whose call was in flight; operation: "creating" | ...
        returned_s: float, seconds from the Ctrl-C until the in-flight call returned.
        cancel_code: str, the gRPC status of the Cancel RPC ("OK", or "DEADLINE_EXCEEDED"
            when it waited for a free server thread longer than the engine's 30 s).
        provider_error: the ProviderCallError of the in-flight call, or None if it succeeded.
    """

    def __init__(self, operation: str, urn: str, returned_s: float, cancel_code: str,
                 provider_error: Optional[ProviderCallError]) -> None:
        self.operation = operation
        self.urn = urn
        self.returned_s = returned_s
        self.cancel_code = cancel_code
        self.provider_error = provider_error
        outcome = (f"it failed: {provider_error.provider_message}" if provider_error is not None
                   else "it completed")
        super().__init__(
            f"engine-role harness: update canceled (Ctrl-C while {operation} {urn}): the in-flight call "
            f"returned {returned_s:.2f} s after the Cancel RPC ({cancel_code}); {outcome}"
        )


class Terminated(HarnessError):
    """A second Ctrl-C terminated the update (``CtrlC(second_after_s=...)``).

    As the engine does: it stops waiting, writes no checkpoint for the call in flight (its
    pending operation stays) and kills the provider: SIGINT to its process group, 5 s, SIGKILL.

    Attributes:
        urn, operation: the call in flight.
        exit_s: float, seconds from the SIGINT until the provider process exited.
        sigkilled: bool, True when it outlived the 5 s and was SIGKILLed.
    """

    def __init__(self, operation: str, urn: str, exit_s: float, sigkilled: bool) -> None:
        self.operation = operation
        self.urn = urn
        self.exit_s = exit_s
        self.sigkilled = sigkilled
        how = "SIGKILLed after 5 s" if sigkilled else f"exited {exit_s:.2f} s after SIGINT"
        super().__init__(
            f"engine-role harness: update terminated (second Ctrl-C while {operation} {urn}); the provider "
            f"{how}; the pending '{operation}' operation stays in state"
        )


class HarnessTimeout(HarnessError):
    """An RPC exceeded the caller's safety ``timeout_s``.

    The real engine sets no deadline on Create/Update (rule 10); this bound exists only so
    tests cannot hang. The provider process is killed and the pending operation kept.

    Attributes:
        method: str, the RPC; urn: str | None; timeout_s: float.
    """

    def __init__(self, method: str, urn: Optional[str], timeout_s: float) -> None:
        self.method = method
        self.urn = urn
        self.timeout_s = timeout_s
        super().__init__(
            f"engine-role harness: {method} for {urn or '(no resource)'} did not finish within "
            f"timeout_s={timeout_s}; provider killed (the real engine has no such deadline)"
        )
