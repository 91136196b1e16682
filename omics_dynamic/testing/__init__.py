"""Engine-role harness: test dynamic providers and stacks without the Pulumi CLI.

Plays the Pulumi engine's role (design.md section 2) against the SDK's real provider
server, ``python -u -m pulumi.dynamic``: Check failures fail the preview or update,
pending creates survive every later ``up`` with the engine's warning until
``refresh(clear_pending_creates=True)``, ``up``/``refresh``/``destroy`` hold a DIY-style
lock file that a simulated kill leaves behind until ``cancel()``, ``ignore_changes`` and
``delete_before_replace`` act as resource options, replaced resources are deleted at the
end, and ``up(skip_preview=False)`` previews first in its own provider process. Results
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
    StackLockedError,
    Terminated,
)
from ._lock import existing_locks, lock_dir
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
    "StackLockedError",
    "State",
    "Step",
    "Terminated",
    "UNKNOWN",
    "existing_locks",
    "load_state",
    "lock_dir",
    "run_program",
]
