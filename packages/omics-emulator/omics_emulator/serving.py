"""The werkzeug server of an :class:`~.server.EmulatorApp`, in a background thread."""

from __future__ import annotations

import threading
from typing import Any, Optional

from werkzeug.serving import WSGIRequestHandler, make_server

from .server import EmulatorApp

__all__ = ["BackgroundServer"]


class _QuietHandler(WSGIRequestHandler):
    """werkzeug's handler with its own access log off (the app logs one line per request)."""

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        pass

    def log(self, type: str, message: str, *args: Any) -> None:
        if type == "error":
            super().log(type, message, *args)


class BackgroundServer:
    """Serves ``app`` (threaded, one thread per request) from a daemon thread.

    :param app: the WSGI app; its held answers are released on :meth:`stop` and held
        again on :meth:`start` (``hold_response_s``).

    :ivar server: the werkzeug server while serving, else None.
    """

    def __init__(self, app: EmulatorApp) -> None:
        self.app = app
        self.server: Any = None
        self._thread: Optional[threading.Thread] = None

    def start(self, host: str, port: int) -> int:
        """Bind ``host:port`` (port 0: a free one) and serve, unless already serving.

        :returns: the port bound.
        :raises OSError: if the address cannot be bound.
        """
        if self.server is None:
            self.app.hold_again()
            self.server = make_server(host, port, self.app, threaded=True, request_handler=_QuietHandler)
            self.server.daemon_threads = True
            self._thread = threading.Thread(
                target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, name="omics-emulator", daemon=True)
            self._thread.start()
        return int(self.server.server_port)

    def stop(self) -> None:
        """Release held answers, stop serving, close the socket and join the thread
        (up to 5 s); idempotent."""
        server, self.server = self.server, None
        if server is not None:
            self.app.release_held()
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def wait(self) -> None:
        """Block until the serving thread ends (after :meth:`stop` from another thread)."""
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(timeout=0.5)
