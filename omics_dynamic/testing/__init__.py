"""Engine-role harness: test dynamic providers and stacks without the Pulumi CLI.

Plays the Pulumi engine's role (design.md section 2) against the SDK's real provider
server, ``python -u -m pulumi.dynamic``. Results are labelled "engine-role harness"; they
are not results of the real Pulumi engine.
"""

from ._engine import (
    DEFAULT_DYNAMIC_TYPE,
    LABEL,
    CallRecord,
    EngineHarness,
    OperationResult,
    ResourceSpec,
    Step,
)
from ._errors import (
    CheckFailedError,
    HarnessError,
    HarnessTimeout,
    Interrupted,
    ProviderCallError,
    ProviderStartError,
)
from ._program import ProgramResult, RegisteredResource, run_program
from ._server import ProviderServer
from ._state import PendingOperation, ResourceState, State, load_state
from ._wire import UNKNOWN

__all__ = [
    "CallRecord",
    "CheckFailedError",
    "DEFAULT_DYNAMIC_TYPE",
    "EngineHarness",
    "HarnessError",
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
    "UNKNOWN",
    "load_state",
    "run_program",
]
