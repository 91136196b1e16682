"""Engine-role harness: a fast stand-in for the Pulumi engine in provider tests.

The real ``pulumi`` CLI is the oracle for how the engine drives the provider (design.md
section 2): ``tests/test_real_cli.py`` tests every rule through it with
:mod:`omics_dynamic_testing.automation` (Automation API, inline programs, a file backend).
This harness stays for what those runs make slow or impossible: it reaches the provider
through its real boundary, the SDK's provider server (``python -u -m pulumi.dynamic``),
with values as the engine delivers them (Check/Diff/Create/Update/Read/Delete, unknowns in
a preview, secrets), keeps a state file whose pending operations survive a simulated kill
(the next ``up`` redoes an interrupted create; pending creates stay until
``refresh(clear_pending_creates=True)``), presses Ctrl-C once or twice, honours
``delete_before_replace`` both ways, and runs whole programs under ``set_mocks``
(:func:`run_program`, the only way to run the example stack with ``deployCompute=true``
here). It does not model the stack lock or ``pulumi cancel``, ``ignore_changes``,
``--target``, the preview a plain ``pulumi up`` runs first, or the engine's wording. Results
are labelled "engine-role harness"; they are not results of the real Pulumi engine.
"""

from ._engine import (
    DEFAULT_DYNAMIC_TYPE,
    LABEL,
    CallRecord,
    CtrlC,
    EngineHarness,
    OperationResult,
    ResourceSpec,
    Step,
)
from ._errors import (
    Cancelled,
    CheckFailedError,
    HarnessError,
    HarnessTimeout,
    Interrupted,
    ProviderCallError,
    ProviderStartError,
    Terminated,
)
from ._options import HarnessOptions
from ._program import ProgramResult, RegisteredResource, run_program
from ._server import ProviderServer
from ._state import PendingOperation, ResourceState, State, load_state
from ._wire import UNKNOWN

__all__ = [
    "CallRecord",
    "Cancelled",
    "CheckFailedError",
    "CtrlC",
    "DEFAULT_DYNAMIC_TYPE",
    "EngineHarness",
    "HarnessError",
    "HarnessOptions",
    "HarnessTimeout",
    "Interrupted",
    "LABEL",
    "OperationResult",
    "PendingOperation",
    "ProgramResult",
    "ProviderCallError",
    "ProviderServer",
    "ProviderStartError",
    "RegisteredResource",
    "ResourceSpec",
    "ResourceState",
    "State",
    "Step",
    "Terminated",
    "UNKNOWN",
    "load_state",
    "run_program",
]
