"""The state file as the engine's snapshot manager writes it during one harness operation:
the pending operation before a step's RPC, the step's result after it (rule 9).

Every rule cited as "rule N" is design.md section 2, rule N.
"""

from __future__ import annotations

import threading
from typing import Optional

from ._state import PendingOperation, ResourceState, State, save_state


class Checkpoint:
    """Changes to one operation's state, each written to the state file at once.

    Args:
        path: the state file (:func:`~._state.save_state` writes it atomically).
        state: the state loaded when the operation began; changed in place.
        lock: held around every change and write (program mode registers resources from
            several threads; the deployment's call log shares it).
    """

    def __init__(self, path: str, state: State, lock: threading.RLock) -> None:
        self.path = path
        self.state = state
        self.lock = lock

    def save(self) -> None:
        """Write the state as it is."""
        with self.lock:
            save_state(self.path, self.state)

    def begin(self, preview: bool) -> list[PendingOperation]:
        """rule 9: what the engine does with the pending operations of the base checkpoint.

        - The caller reports them all as interrupted (preview, up, refresh, destroy).
        - Every new checkpoint keeps the base's pending "creating" operations
          (``SnapshotManager.Snap`` in ``pkg/backend/snapshot.go``: "we don't want to clear
          pending CREATE operations because these must require user intervention"; the
          journal does the same in ``pkg/backend/journal.go``) and drops the base's other
          pending operations. Only ``refresh(clear_pending_creates=True)`` removes them.
          (The engine's warning about them is the real CLI's to show: not modelled.)
          A preview writes nothing.

        An interrupted create's resource is not in state, so the next up creates it again
        (the engine's "Case 4" in ``stepGenerator``), with the inputs the program now declares.

        Returns:
            the base's pending operations, in state order.
        """
        with self.lock:
            base = list(self.state.pending_operations)
            if preview:
                return base
            kept = [p for p in base if p.type == "creating"]
            if len(kept) != len(base):
                self.state.pending_operations = kept
                save_state(self.path, self.state)
            return base

    def clear_pending_creates(self) -> None:
        """``pulumi refresh --clear-pending-creates``: drop every pending "creating" operation."""
        with self.lock:
            self.state.pending_operations = [p for p in self.state.pending_operations if p.type != "creating"]
            save_state(self.path, self.state)

    def pending(self, op: PendingOperation) -> None:
        """rule 9: record ``op`` before its RPC is sent."""
        with self.lock:
            self.state.pending_operations.append(op)
            save_state(self.path, self.state)

    def complete(self, op: PendingOperation, *, put: Optional[ResourceState] = None,
                 discard: Optional[ResourceState] = None, replaced: Optional[ResourceState] = None) -> None:
        """rule 9: ``op`` is complete: remove it and store the step's result, in one write.

        Args:
            put: the resource to insert or replace (Create, Update).
            discard: the resource that left (Delete).
            replaced: the old resource of a create-before-delete replacement: it stays,
                marked ``delete`` (``CreateStep.Apply``: ``s.old.Delete = true``).

        With none of them (a provider error: ``markOperationComplete``), nothing new is stored.
        """
        with self.lock:
            self.state.pending_operations = [p for p in self.state.pending_operations if p is not op]
            if replaced is not None:
                replaced.delete = True
            if put is not None:
                self.state.put(put)
            if discard is not None:
                self.state.discard(discard)
            save_state(self.path, self.state)

    def put(self, res: ResourceState) -> None:
        """Insert or replace the live resource ``res`` (no RPC: an unchanged step, a refresh)."""
        with self.lock:
            self.state.put(res)
            save_state(self.path, self.state)

    def remove(self, urn: str) -> None:
        """Remove the live resource ``urn`` (a refresh found it gone)."""
        with self.lock:
            self.state.remove(urn)
            save_state(self.path, self.state)
