"""The Pulumi engine's own wording for what the harness reports, with its source.

Each function builds the text the Pulumi CLI prints, taken from pulumi/pulumi (read at
commit 1b5949891b3c, ``sdk/.version`` 3.260.0). Values inside messages are formatted as
Go's ``%v`` formats a ``resource.PropertyValue`` (``{<value>}``, numbers as float64).
These are texts the engine-role harness reproduces; it is not the engine.
"""

from __future__ import annotations

import datetime as _dt
from decimal import Decimal
from typing import Any, Iterable, Sequence

from pulumi.output import Unknown
from pulumi.runtime import rpc

__all__ = [
    "check_failure_diagnostic",
    "invalid_resource_bail",
    "pending_operations_warning",
    "stack_locked_message",
    "cancel_message",
    "ignore_changes_invalid_paths",
]


def _go_float(value: float) -> str:
    """Go's ``%v`` of a float64: shortest digits, exponent form when the decimal exponent
    is below -4 or at least 6 (``strconv.FormatFloat(f, 'g', -1, 64)`` with fmt's
    precision-6 rule), e.g. ``21600``, ``0.5``, ``1e+06``, ``-1``."""
    if value != value:  # NaN
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "0"
    sign, digits, exponent = Decimal(repr(float(value))).normalize().as_tuple()
    text_digits = "".join(str(d) for d in digits)
    exp = len(digits) + int(exponent) - 1
    prefix = "-" if sign else ""
    if exp < -4 or exp >= 6:
        mantissa = text_digits[0] + ("." + text_digits[1:] if len(text_digits) > 1 else "")
        return f"{prefix}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    return prefix + format(Decimal(repr(abs(float(value)))).normalize(), "f")


def _go_inner(value: Any) -> str:
    if isinstance(value, Unknown) or (isinstance(value, str) and value == rpc.UNKNOWN):
        return "output<string>{}"
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _go_float(float(value))
    if isinstance(value, (list, tuple)):
        return "[" + " ".join(go_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_value(value[k])}" for k in sorted(value)) + "]"
    return str(value)


def go_value(value: Any, *, secret: bool = False) -> str:
    """A property value as the engine's ``PropertyValue.String()`` prints it
    (``sdk/go/common/resource/properties.go``): ``{v}``; a secret ``{&{{v}}}``; an
    unknown ``output<string>{}``."""
    if isinstance(value, Unknown) or (isinstance(value, str) and value == rpc.UNKNOWN):
        return "output<string>{}"
    inner = "{" + _go_inner(value) + "}"
    return "{&{" + inner + "}}" if secret else inner


def check_failure_diagnostic(type_: str, name: str, prop: str, value: Any, reason: str, *,
                             secret: bool = False) -> str:
    """One Check failure as the engine reports it (an error diagnostic on the resource).

    ``issueCheckFailures`` in ``pkg/resource/deploy/step_generator.go`` prints
    ``diag.GetResourcePropertyInvalidValueError`` (``sdk/go/common/diag/errors.go``, code
    2003: ``%v resource '%v': property %v value %v has a problem: %v``) with the type, the
    resource name, the property, the program's value of that input and the reason; a
    failure without a property uses ``GetResourceInvalidError`` (2002:
    ``%v resource '%v' has a problem: %v``).
    """
    if prop:
        return (f"{type_} resource '{name}': property {prop} value {go_value(value, secret=secret)} "
                f"has a problem: {reason}")
    return f"{type_} resource '{name}' has a problem: {reason}"


def invalid_resource_bail(urn: str) -> str:
    """The bail that stops step generation after Check failures:
    ``result.BailErrorf("resource %s is invalid", urn)`` in ``continueStepsFromImport``
    (``pkg/resource/deploy/step_generator.go``). A bail is not printed again: the user
    sees the diagnostics above and a failed preview or update."""
    return f"resource {urn} is invalid"


def pending_operations_warning(operations: Sequence[tuple[str, str]]) -> str:
    """The warning ``deploymentExecutor.printPendingOperationsWarning``
    (``pkg/resource/deploy/deployment_executor.go``) prints at the start of every update or
    destroy (not a preview, not with ``--refresh``) whose base checkpoint holds pending
    operations. ``operations``: (urn, type) pairs, type "creating" | "updating" | ...
    """
    listed = "".join(f"  * {urn}, interrupted while {op_type}\n" for urn, op_type in operations)
    resolution = (
        "These resources are in an unknown state because the Pulumi CLI was interrupted while "
        "waiting for changes to these resources to complete. You should confirm whether or not the "
        "operations listed completed successfully by checking the state of the appropriate provider. "
        "For example, if you are using AWS, you can confirm using the AWS Console.\n"
        "\n"
        "Once you have confirmed the status of the interrupted operations, you can repair your stack "
        "using `pulumi refresh` which will refresh the state from the provider you are using and "
        "clear the pending operations if there are any.\n"
        "\n"
        "Note that `pulumi refresh` will need to be run interactively to clear pending CREATE operations."
    )
    return ("Attempting to deploy or update resources "
            f"with {len(operations)} pending operations from previous deployment.\n"
            + listed + resolution)


def _rfc3339(timestamp: str) -> str:
    """Go's ``time.Format(time.RFC3339)`` of a stored lock timestamp (seconds, ``Z`` for UTC)."""
    try:
        when = _dt.datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return timestamp
    text = when.replace(microsecond=0).isoformat()
    return text.replace("+00:00", "Z")


def stack_locked_message(locks: Iterable[tuple[str, dict]]) -> str:
    """The error ``diyBackend.checkForLock`` (``pkg/backend/diy/lock.go``) returns when
    another process's lock file exists for the stack: ``(url, content)`` per lock file,
    content ``{"pid", "username", "hostname", "timestamp"}`` (``lockContent``)."""
    locks = list(locks)
    text = (f"the stack is currently locked by {len(locks)} lock(s). Either wait for the other "
            "process(es) to end or delete the lock file with `pulumi cancel`.")
    for url, content in locks:
        text += (f"\n  {url}: created by {content.get('username')}@{content.get('hostname')} "
                 f"(pid {content.get('pid')}) at {_rfc3339(str(content.get('timestamp', '')))}")
    return text


def cancel_message(stack: str) -> str:
    """What ``pulumi cancel`` prints once ``CancelCurrentUpdate`` succeeded
    (``pkg/cmd/pulumi/cancel/cancel.go``)."""
    return f"The currently running update for '{stack}' has been canceled!"


def ignore_changes_invalid_paths(paths: Sequence[str]) -> str:
    """The info message of ``processIgnoreChanges`` (``pkg/resource/deploy/step_generator.go``)
    for ignoreChanges paths that ``PropertyPath.Reset`` could not apply."""
    joined = ", ".join(paths)
    return 'cannot ignore changes in added or removed elements of the path: "' + \
        joined.replace("\\", "\\\\").replace('"', '\\"') + '"'
