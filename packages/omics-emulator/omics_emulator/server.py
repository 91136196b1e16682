"""The WSGI application (werkzeug): route, verify SigV4, parse, call the backend, serialise.

Every response carries ``x-amzn-RequestId``. Errors are AWS rest-json errors: HTTP
status of the error shape, header ``x-amzn-ErrorType``, body ``{"message": ...}``, so
boto3 raises ``client.exceptions.<Code>``. Unknown method/path:
404 ``UnknownOperationException``. Unexpected bugs answer 500 InternalServerException
(and are logged), never an HTML page.

The ``hold_response_s`` fault is applied here: the answer, already computed, waits that
many real seconds in the request's own thread (the backend's lock is not held, so other
requests are served meanwhile); :meth:`EmulatorApp.release_held` ends every hold (on stop).

Paths under ``/_emulator/`` go to the admin handler (unsigned, loopback clients only;
its actions are documented in :class:`omics_emulator.admin.AdminApi`); a
malformed admin body or a bad value answers 400 ValidationException.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import sys
import threading
import time
import traceback
import uuid
from collections import Counter
from typing import Any, Callable, Dict, Mapping, Optional, TextIO, cast

from werkzeug.wrappers import Request, Response

from . import exceptions as exc
from .auth import verify_sigv4
from .backend import Backend
from .model import ModelValidationError, match_route, parse_request, serialize, validate

__all__ = ["EmulatorApp"]

_log = logging.getLogger(__name__)


def _json_response(status: int, payload: Any, request_id: str, error_type: Optional[str] = None) -> Response:
    headers = {"x-amzn-RequestId": request_id}
    if error_type:
        headers["x-amzn-ErrorType"] = error_type
    return Response(json.dumps(payload), status=status, headers=headers, content_type="application/json")


class EmulatorApp:
    """WSGI callable serving the emulated HealthOmics API and the admin API.

    :param backend: the state and rules.
    :param access_key_id: the only accepted access key ID.
    :param secret_access_key: its secret (signatures are verified with it).
    :param log_stream: where one line per request is written (None: no request log).
    :param admin: ``admin(request, action, body) -> JSON-ready dict or None`` for
        ``/_emulator/<action>`` paths (``Emulator.handle_admin``).
    """

    def __init__(
        self,
        backend: Backend,
        *,
        access_key_id: str,
        secret_access_key: str,
        log_stream: Optional[TextIO] = None,
        admin: Optional[Callable[[Request, str, Dict[str, Any]], Optional[Dict[str, Any]]]] = None,
    ) -> None:
        self.backend = backend
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key
        self.log_stream = log_stream
        self.admin = admin
        self.calls: Counter = Counter()
        self.outcomes: Counter = Counter()
        self._counter_lock = threading.Lock()
        self._release = threading.Event()

    def release_held(self) -> None:
        """End every held answer now and hold none until :meth:`hold_again` (the server is stopping)."""
        self._release.set()

    def hold_again(self) -> None:
        """Apply ``hold_response_s`` again (the server is starting)."""
        self._release.clear()

    def reset_counters(self) -> None:
        """Zero :attr:`calls` and :attr:`outcomes`."""
        with self._counter_lock:
            self.calls.clear()
            self.outcomes.clear()

    def _count(self, operation: str, outcome: str) -> None:
        with self._counter_lock:
            self.calls[operation] += 1
            self.outcomes[(operation, outcome)] += 1

    def __call__(self, environ: Dict[str, Any], start_response: Callable) -> Any:
        request = Request(environ)
        started = time.perf_counter()
        request_id = str(uuid.uuid4())
        operation = "-"
        outcome = "OK"
        try:
            path = environ.get("RAW_URI") or environ.get("REQUEST_URI") or request.full_path
            raw_path, _, raw_query = path.partition("?")
            if raw_path.startswith("/_emulator/") and self.admin is not None:
                operation = "admin"
                response = self._admin(request, raw_path[len("/_emulator/"):], request_id)
            else:
                found = match_route(request.method, raw_path)
                if found is None:
                    raise exc.UnknownOperationException(f"Unknown operation: {request.method} {raw_path}")
                route, path_params = found
                operation = route.operation
                response = self._operation(request, route, path_params, raw_path, raw_query, request_id)
        except exc.EmulatorServiceError as err:
            outcome = err.code
            response = _json_response(err.status, {"message": err.message}, request_id, err.code)
        except Exception as err:  # a bug: answer like AWS, log the traceback
            outcome = "InternalServerException"
            traceback.print_exc(file=sys.stderr)
            response = _json_response(500, {"message": f"Internal error in emulator: {err}"}, request_id, "InternalServerException")
        if operation not in ("-", "admin"):
            self._count(operation, outcome)
            hold_s = self.backend.faults.hold_s(operation)
            if hold_s > 0:
                self._release.wait(hold_s)
        if self.log_stream is not None:
            elapsed_ms = (time.perf_counter() - started) * 1000
            try:
                self.log_stream.write(
                    f"{request.remote_addr} {request.method} {request.path} {operation} {response.status_code} {outcome} {elapsed_ms:.1f}ms\n")
                self.log_stream.flush()
            except (OSError, ValueError):
                pass
        return response(environ, start_response)

    def _operation(self, request: Request, route: Any, path_params: Dict[str, str], raw_path: str, raw_query: str, request_id: str) -> Response:
        body = request.get_data(cache=True)
        headers = cast(Mapping[str, str], request.headers)  # werkzeug Headers: a case-insensitive mapping
        host = headers.get("Host", "localhost")
        url = f"http://{host}{raw_path}" + (f"?{raw_query}" if raw_query else "")
        verify_sigv4(request.method, url, headers, body,
                     access_key_id=self.access_key_id, secret_access_key=self.secret_access_key)
        op_model = route.operation_model
        try:
            params = parse_request(op_model, path_params, request.args, headers, body)
            if op_model.input_shape is not None:
                validate(op_model.input_shape, params)
        except ModelValidationError as err:
            raise exc.ValidationException(str(err)) from None
        result = self.backend.call(route.operation, params)
        payload = serialize(op_model.output_shape, result) or {}
        return _json_response(op_model.http.get("responseCode", 200), payload, request_id)

    def _admin(self, request: Request, action: str, request_id: str) -> Response:
        try:
            if not ipaddress.ip_address(request.remote_addr or "127.0.0.1").is_loopback:
                return _json_response(403, {"message": "admin API is for loopback clients only"}, request_id, "AccessDeniedException")
        except ValueError:
            pass
        body: Dict[str, Any] = {}
        if request.method == "POST":
            raw = request.get_data()
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    return _json_response(400, {"message": "admin body must be a JSON object"}, request_id, "ValidationException")
                if not isinstance(body, dict):
                    return _json_response(400, {"message": "admin body must be a JSON object"}, request_id, "ValidationException")
        assert self.admin is not None  # __call__ routes here only when set
        try:
            result = self.admin(request, action, body)
        except (KeyError, ValueError, TypeError) as err:
            message = err.args[0] if err.args else str(err)
            return _json_response(400, {"message": str(message)}, request_id, "ValidationException")
        if result is None:
            raise exc.UnknownOperationException(f"Unknown admin action: {request.method} /_emulator/{action}")
        return _json_response(200, result, request_id)
