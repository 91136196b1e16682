"""The stack lock, modelled on the Pulumi DIY backends (file, S3, GCS, Azure Blob).

``diyBackend.Update/Refresh/Destroy/Import`` (``pkg/backend/diy/backend.go``) call
``b.Lock`` before ``PreviewThenPromptThenExecute`` and ``defer b.Unlock``; ``Preview``
takes no lock. ``Lock`` (``pkg/backend/diy/lock.go``) first runs ``checkForLock``: any
file in the stack's lock directory other than this process's own lock is a lock held by
another process, and the operation fails with the text of
:func:`~omics_dynamic.testing._engine_text.stack_locked_message`. Otherwise it writes
``.pulumi/locks/<fully qualified stack>/<lockID>.json`` (``lockPath``; the fully qualified
name is ``organization/<project>/<stack>`` in project mode, ``diyBackendReference.
FullyQualifiedName``) holding ``{pid, username, hostname, timestamp}``. ``lockID`` is a
UUID per backend instance, that is per CLI process. A killed CLI never runs its deferred
``Unlock``, so its file stays and blocks every later operation until ``pulumi cancel``
(``diyBackend.CancelCurrentUpdate``) deletes every lock file of the stack.

The harness puts ``.pulumi/`` in the directory of its state file, as the file backend
keeps it beside the stacks, and takes one lock ID per operation (one operation = one CLI
process).
"""

from __future__ import annotations

import datetime as _dt
import getpass
import json
import os
import socket
import uuid
from pathlib import Path

from ._engine_text import stack_locked_message
from ._errors import StackLockedError


def lock_dir(state_path: str, project: str, stack: str) -> Path:
    """``<dir of state_path>/.pulumi/locks/organization/<project>/<stack>``."""
    base = Path(os.path.dirname(os.path.abspath(state_path)))
    return base / ".pulumi" / "locks" / "organization" / project / stack


def _url(path: Path) -> str:
    # lockURLForError: the backend URL joined with the lock file's key.
    return path.resolve().as_uri()


class StackLock:
    """One operation's lock file. ``acquire`` raises :class:`StackLockedError` when another
    lock exists; ``release`` deletes this operation's file (never another's)."""

    def __init__(self, state_path: str, project: str, stack: str) -> None:
        self.dir = lock_dir(state_path, project, stack)
        self.stack = stack
        self.lock_id = str(uuid.uuid4())
        self.path = self.dir / f"{self.lock_id}.json"
        self.held = False

    def others(self) -> list[Path]:
        """Lock files of this stack other than this operation's own, sorted."""
        if not self.dir.is_dir():
            return []
        return sorted(p for p in self.dir.iterdir() if p.is_file() and p != self.path)

    def check(self) -> None:
        """``checkForLock``: raise StackLockedError naming every other lock file."""
        others = self.others()
        if others:
            locks = []
            for path in others:
                try:
                    content = json.loads(path.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    content = {}
                locks.append((_url(path), content))
            raise StackLockedError(self.stack, stack_locked_message(locks), others)

    def acquire(self) -> StackLock:
        """Check, write the lock file, check again (``Lock``). Returns self."""
        self.check()
        self.dir.mkdir(parents=True, exist_ok=True)
        content = {
            "pid": os.getpid(),
            "username": _username(),
            "hostname": socket.gethostname(),
            "timestamp": _dt.datetime.now(_dt.timezone.utc).isoformat(),
        }
        self.path.write_text(json.dumps(content), encoding="utf-8")
        self.held = True
        try:
            self.check()
        except StackLockedError:
            self.release()
            raise
        return self

    def release(self) -> None:
        """``Unlock``: delete this operation's lock file (a missing file is fine)."""
        if self.held:
            try:
                self.path.unlink()
            except FileNotFoundError:
                pass
            self.held = False


def cancel_locks(state_path: str, project: str, stack: str) -> list[Path]:
    """``pulumi cancel`` on a DIY backend: delete every lock file of the stack.

    Returns the deleted paths (empty when the stack was not locked, which is no error).
    """
    directory = lock_dir(state_path, project, stack)
    removed = []
    if directory.is_dir():
        for path in sorted(directory.iterdir()):
            if path.is_file():
                try:
                    path.unlink()
                    removed.append(path)
                except FileNotFoundError:  # raced with its owner's Unlock
                    pass
    return removed


def _username() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"


def existing_locks(state_path: str, project: str, stack: str) -> list[Path]:
    """Every lock file of the stack (for tests and recovery decisions)."""
    directory = lock_dir(state_path, project, stack)
    return sorted(p for p in directory.iterdir() if p.is_file()) if directory.is_dir() else []


__all__ = ["StackLock", "cancel_locks", "existing_locks", "lock_dir"]
