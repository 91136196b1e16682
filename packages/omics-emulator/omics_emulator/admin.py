"""The emulator's admin HTTP API: ``/_emulator/<action>`` over :class:`~.core.Emulator`'s
public methods.

The server (:class:`~.server.EmulatorApp`) routes ``/_emulator/...`` paths here through
``Emulator.handle_admin``: unsigned, loopback clients only (it answers others 403), JSON
in and out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Dict, Mapping, Optional, Tuple

from werkzeug.wrappers import Request

if TYPE_CHECKING:
    from .core import Emulator

__all__ = ["AdminApi"]

_Action = Callable[[Request, Mapping[str, Any]], Dict[str, Any]]


def _ok(action: Callable[[Request, Mapping[str, Any]], Any]) -> _Action:
    """``action``, answering ``{"ok": true}`` when it returns."""
    def run(request: Request, body: Mapping[str, Any]) -> Dict[str, Any]:
        action(request, body)
        return {"ok": True}
    return run


class AdminApi:
    """The admin actions. Each calls the :class:`~.core.Emulator` method with the same meaning:

    * ``GET  /_emulator/state`` -> :meth:`state` (:meth:`~.core.Emulator.state`)
    * ``GET  /_emulator/read-sets?storeId=...`` -> ``{readSetId: status}``
    * ``GET  /_emulator/profile`` -> ``{"profile": name, "behaviour": {field: value}}``
    * ``POST /_emulator/archive`` ``{"storeId", "readSetIds": [...]}`` -> ``{"archived": n}``
    * ``POST /_emulator/advance`` ``{"seconds": s}`` -> ``{"now": t}``
    * ``POST /_emulator/faults``  keyword arguments of :meth:`~.core.Emulator.set_faults`
      -> ``{"ok": true}``
    * ``POST /_emulator/quota``   ``{"max_concurrent_jobs": q, "rate_limit": r}`` -> ``{"ok": true}``
    * ``POST /_emulator/profile`` ``{"profile": name or {field: value}}``
      (:meth:`~.core.Emulator.set_profile`) -> ``{"profile": name, "behaviour": {...}}``
    * ``POST /_emulator/cancel-job`` ``{"job_id", "cancelling_s"?}``
      (:meth:`~.core.Emulator.cancel_job`) -> the job
    * ``POST /_emulator/read-set-status`` ``{"storeId", "readSetId", "status"}`` -> ``{"ok": true}``
    * ``POST /_emulator/reset``   clears counters and faults (not the profile) -> ``{"ok": true}``

    :param emulator: the emulator the actions act on.
    """

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        emu = emulator
        self._actions: Dict[Tuple[str, str], _Action] = {
            ("GET", "state"): lambda r, b: self.state(),
            ("GET", "read-sets"): self._read_sets,
            ("GET", "profile"): self._profile,
            ("POST", "archive"): self._archive,
            ("POST", "advance"): lambda r, b: {"now": emu.advance(b.get("seconds", 0))},
            ("POST", "faults"): _ok(lambda r, b: emu.set_faults(**b)),
            ("POST", "quota"): _ok(lambda r, b: emu.set_quota(**{k: b[k] for k in ("max_concurrent_jobs", "rate_limit") if k in b})),
            ("POST", "profile"): self._profile,
            ("POST", "cancel-job"): self._cancel_job,
            ("POST", "reset"): _ok(lambda r, b: self._reset()),
            ("POST", "read-set-status"): _ok(lambda r, b: emu.set_read_set_status(b["storeId"], b["readSetId"], b["status"])),
        }

    def handle(self, request: Request, action: str, body: Mapping[str, Any]) -> Optional[Dict[str, Any]]:
        """Run the action named by the request's method and ``action`` (the path after
        ``/_emulator/``) with the JSON ``body`` ({} for a GET).

        :returns: the JSON answer, or None for an unknown action (404 UnknownOperationException).
        :raises KeyError, ValueError, TypeError: a missing or bad field (400 ValidationException).
        """
        handler = self._actions.get((request.method, action))
        return handler(request, body) if handler is not None else None

    def state(self) -> Dict[str, Any]:
        """The emulator at a glance: ``{"now": emulated epoch s, "calls": {operation: n},
        "outcomes": {"Operation:Outcome": n}, "jobs": [job dict], "rateLimits": {family:
        rate}, "maxConcurrentJobs": n, "storeIds": [id], "profile": name, "behaviour":
        {field: value}, "faults": {fault: setting}}``."""
        emu = self.emulator
        with emu.backend.lock:
            faults = emu.backend.faults.as_dict()
        return {
            "now": emu.now(),
            "calls": dict(emu.calls),
            "outcomes": {f"{op}:{out}": n for (op, out), n in emu.outcomes.items()},
            "jobs": emu.jobs(),
            "rateLimits": emu.backend.rate_limits,
            "maxConcurrentJobs": emu.backend.max_concurrent_jobs,
            "storeIds": list(emu.store_ids),
            "profile": emu.profile,
            "behaviour": emu.behaviour.as_dict(),
            "faults": faults,
        }

    def _read_sets(self, request: Request, body: Mapping[str, Any]) -> Dict[str, Any]:
        store_id = request.args.get("storeId")
        if not store_id:
            raise ValueError("storeId query parameter is required, e.g. /_emulator/read-sets?storeId=1234567890")
        return self.emulator.read_set_statuses(store_id)

    def _archive(self, request: Request, body: Mapping[str, Any]) -> Dict[str, Any]:
        self.emulator.archive(body["storeId"], body["readSetIds"])
        return {"archived": len(body["readSetIds"])}

    def _profile(self, request: Request, body: Mapping[str, Any]) -> Dict[str, Any]:
        if request.method == "POST":
            if "profile" not in body:
                raise KeyError('profile is required, e.g. {"profile": "paging"} or {"profile": {"page_size": 7}}')
            self.emulator.set_profile(body["profile"])
        return {"profile": self.emulator.profile, "behaviour": self.emulator.behaviour.as_dict()}

    def _cancel_job(self, request: Request, body: Mapping[str, Any]) -> Dict[str, Any]:
        if "job_id" not in body:
            raise KeyError('job_id is required, e.g. {"job_id": "1234567890", "cancelling_s": 5}')
        return self.emulator.cancel_job(str(body["job_id"]), body.get("cancelling_s", 5.0))

    def _reset(self) -> None:
        self.emulator.reset_counters()
        self.emulator.clear_faults()
