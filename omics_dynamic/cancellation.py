"""Learn, inside the provider process, that the Pulumi engine wants the deployment to stop.

The glue between the engine's cancellation and :class:`~omics_dynamic.activation.ActivationRun`'s
``cancel`` event (design.md section 2, rule 9). What reaches a Python dynamic provider's
process, read in pulumi/pulumi (commit 1b5949891b3c) and the installed SDK (3.272):

- **First Ctrl-C (or SIGTERM) to the CLI**: ``cancellationScope`` (``pkg/backend/
  cancellation_scope.go``) cancels; ``deploymentExecutor.Execute`` calls
  ``Host.SignalCancellation`` (``pkg/resource/deploy/deployment_executor.go``), which sends
  the **Cancel RPC** to every resource provider with a 30 s timeout (``pkg/host/host.go``).
  The engine then starts no new step and waits for the steps in flight to return. The
  SDK's dynamic server answers Cancel with ``Empty()`` and nothing else
  (``DynamicResourceProviderServicer.Cancel`` in ``pulumi/dynamic/__main__.py``), so without
  this module the CLI waits for the whole create (up to ``timeout_seconds``).
- **A terminal's Ctrl-C does not reach the provider**: plugins run in their own process
  group (``cmdutil.RegisterProcessGroup`` sets ``Setpgid``; ``pkg/resource/plugin/plugin.go``).
- **Second Ctrl-C (Terminate), and the end of every operation**: the host closes its
  plugins: a Cancel RPC (5 s timeout), then ``Plugin.Kill``: **SIGINT to the plugin's
  process group** (``cmdutil.InterruptChildren``), 5 s, then SIGKILL. In the SDK's server,
  SIGINT raises KeyboardInterrupt in the main thread, which stops the gRPC server and ends
  ``main()``; the interpreter then shuts down: it runs the threading module's
  exit hooks and joins the non-daemon threads, among them the gRPC worker still running
  ``create`` (concurrent.futures joins its workers from such a hook), so without this module
  the process lives on until the SIGKILL.

So the module does three things, once per process (:func:`install`):

1. It makes the server's Cancel handler set :data:`CANCEL` (and still answer ``Empty()``).
   gRPC captured the bound method at start-up, so the function's code object is swapped
   in place; a server without that handler (another SDK) is left alone.
2. It sets :data:`CANCEL` when the interpreter starts shutting down, before the worker
   threads are joined: a hook registered with ``threading._register_atexit`` (CPython's
   own mechanism, the one concurrent.futures uses; registered later, it runs first). Where
   that function is missing, a daemon thread waits for the main thread to end instead.
3. It makes sure SIGINT ends the server even when the main thread does not wake up for it.
   Python runs signal handlers only in the main thread, and the kernel may deliver a
   process-directed signal to any thread; one taken by another thread leaves the main thread
   asleep in the server's ``Event().wait()``, so the process would live until the engine's
   SIGKILL. The watch (:func:`_watch_sigint`): ``faulthandler.register(SIGINT, chain=True)``
   writes a line to a pipe from whichever thread takes the signal, then Python's own handler
   runs as before; a daemon thread reading the pipe gives the main thread
   :data:`SIGINT_GRACE_S` to react and otherwise sets :data:`CANCEL` and sends SIGINT to the
   main thread itself (``signal.pthread_kill``), which wakes it: KeyboardInterrupt, then the
   shutdown above.

Limits: Cancel is an ordinary gRPC call served by the server's pool of 4 threads, so while
4 calls are busy it queues and the engine's 30 s expire; the SIGINT path still works. The
event is process-wide and stays set: the engine sends Cancel only when it stops or shuts the
provider down, so every later create in that process should stop too.
"""

from __future__ import annotations

import faulthandler
import os
import signal
import sys
import threading
import types
from typing import Any

from .limits import SIGINT_GRACE_S

__all__ = ["CANCEL", "install", "event", "installed"]

#: Set once the engine asked this provider process to stop (Cancel RPC, or SIGINT ended
#: the server's main thread). Passed to ``ActivationRun(cancel=...)``.
CANCEL = threading.Event()


_lock = threading.Lock()
_state: dict[str, Any] = {"installed": False, "patched": False, "shutdown_hook": "", "sigint_watch": False}
_MARK = "_omics_dynamic_cancel_hook"


def _cancel_handler(self: Any, request: Any, context: Any) -> Any:  # the gRPC servicer's signature
    """Replacement body of ``DynamicResourceProviderServicer.Cancel``.

    It runs with the SDK server module's globals (only its code object is swapped in), so it
    imports what it needs.
    """
    import omics_dynamic.cancellation as cancellation

    return cancellation._on_cancel_rpc()


def _on_cancel_rpc() -> Any:
    from google.protobuf import empty_pb2

    CANCEL.set()
    return empty_pb2.Empty()


def _server_class() -> Any:
    """The SDK server's servicer class when this process is ``python -m pulumi.dynamic``."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is None or spec.name != "pulumi.dynamic.__main__":
        return None
    return getattr(main, "DynamicResourceProviderServicer", None)


def _patch_cancel(servicer_cls: Any) -> bool:
    handler = servicer_cls.__dict__.get("Cancel")
    if not isinstance(handler, types.FunctionType):
        return False
    if getattr(handler, _MARK, False):
        return True
    code = handler.__code__
    if code.co_freevars or code.co_argcount != _cancel_handler.__code__.co_argcount:
        return False
    handler.__code__ = _cancel_handler.__code__
    setattr(handler, _MARK, True)
    return True


def _watch_main_thread() -> None:
    threading.main_thread().join()
    CANCEL.set()


def _hook_shutdown() -> str:
    """Set CANCEL when the server's main thread ends (after SIGINT); returns how."""
    register = getattr(threading, "_register_atexit", None)
    if register is not None:
        try:
            register(CANCEL.set)
            return "atexit"
        except RuntimeError:  # already shutting down
            CANCEL.set()
            return "shutting-down"
    if threading.current_thread() is not threading.main_thread():
        threading.Thread(target=_watch_main_thread, name="omics-dynamic-cancel-watch", daemon=True).start()
        return "watcher"
    return ""


def _watch_sigint() -> bool:
    """Start the SIGINT watch (point 3 of the module docstring); False where it cannot run
    (no ``signal.pthread_kill``, or faulthandler refuses the signal)."""
    if not hasattr(signal, "pthread_kill"):
        return False
    read_fd, write_fd = os.pipe()
    try:
        faulthandler.register(signal.SIGINT, file=write_fd, all_threads=False, chain=True)
    except (RuntimeError, ValueError, OSError):
        os.close(read_fd)
        os.close(write_fd)
        return False
    main = threading.main_thread()

    def watch() -> None:
        woken = False
        while True:
            try:
                data = os.read(read_fd, 65536)  # drained for ever: the handler must never block
            except OSError:
                return
            if not data:
                return
            if woken or CANCEL.wait(SIGINT_GRACE_S) or not main.is_alive():
                continue  # the main thread reacted (its shutdown set CANCEL), or is gone
            woken = True
            CANCEL.set()
            if main.ident is not None:
                signal.pthread_kill(main.ident, signal.SIGINT)

    threading.Thread(target=watch, name="omics-dynamic-sigint-watch", daemon=True).start()
    return True


def install() -> bool:
    """Hook the engine's cancellation into :data:`CANCEL`, once per process.

    Does something only in the SDK's provider server (``python -m pulumi.dynamic``); in any
    other process (tests, a program calling the provider directly) it changes nothing and
    returns False. Returns True when the Cancel handler is hooked.
    """
    with _lock:
        if not _state["installed"]:
            _state["installed"] = True
            servicer_cls = _server_class()
            if servicer_cls is not None:
                _state["patched"] = _patch_cancel(servicer_cls)
                _state["shutdown_hook"] = _hook_shutdown()
                _state["sigint_watch"] = _watch_sigint()
        return bool(_state["patched"])


def installed() -> dict[str, Any]:
    """What :func:`install` did: ``{"installed", "patched", "shutdown_hook", "sigint_watch"}``
    (diagnostics)."""
    with _lock:
        return dict(_state)


def event() -> threading.Event:
    """:func:`install`, then the process-wide cancellation event."""
    install()
    return CANCEL
