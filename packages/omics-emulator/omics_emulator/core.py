"""``Emulator``: the backend + the werkzeug server in a background thread (:mod:`.serving`)
+ the admin HTTP API (:mod:`.admin`).

Example::

    from omics_emulator import Emulator

    with Emulator(seed="cohort", manual_clock=True, rate_limit=0) as emu:
        client = emu.client()            # a boto3 omics client for emu.endpoint_url
        job = client.start_read_set_activation_job(
            sequenceStoreId="1234567890", sources=[{"readSetId": "..."}])
        emu.advance(120)                 # emulated seconds; applies job progress
"""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any, Dict, Iterable, List, Mapping, Optional, TextIO

from werkzeug.wrappers import Request

from .admin import AdminApi
from .backend import Backend
from .clock import EmulatedClock, ManualEmulatedClock, ScaledEmulatedClock
from .faults import Faults
from .server import EmulatorApp
from .serving import BackgroundServer

__all__ = ["Emulator"]


class Emulator:
    """A local HealthOmics sequence-store control plane that boto3 talks to unmodified.

    :param seed: a seed file path, ``"cohort"`` for the shipped cohort (store
        ``1234567890``, ~1,000 read sets), a seed dict, or None for no stores.
    :param activation_seconds: emulated seconds a read set takes to activate (mean).
    :param queue_seconds: emulated seconds a job stays SUBMITTED.
    :param max_concurrent_jobs: quota of SUBMITTED + IN_PROGRESS jobs.
    :param rate_limit: requests per emulated second per operation family; 0 = unlimited.
    :param time_scale: emulated seconds per real second (scaled clock); ignored when
        ``manual_clock`` is true.
    :param manual_clock: if true, time moves only on :meth:`advance`.
    :param jitter: +- fraction of random variation of activation durations.
    :param random_seed: seed of IDs, jitter and faults.
    :param host: address to bind (loopback by default).
    :param port: TCP port; 0 picks a free one.
    :param access_key_id: accepted access key ID (default ``test``).
    :param secret_access_key: its secret (default ``test``).
    :param log_requests: write one line per request to ``log_stream`` (stderr).
    :param profile: behaviour profile where AWS's docs are silent: a name of
        :data:`~.profiles.PROFILES` (``"default"``, ``"token-conflict"``,
        ``"token-mismatch"``, ``"token-ignored"``, ``"paging"``, ``"lagging"``), a
        :class:`~.profiles.Behaviour`, or a dict of its fields.
    :raises ValueError: on invalid durations, quotas, time scale or profile.
    :raises SeedError: on a malformed seed.
    """

    def __init__(
        self,
        seed: Any = None,
        activation_seconds: float = 60.0,
        queue_seconds: float = 5.0,
        max_concurrent_jobs: int = 20,
        rate_limit: float = 5.0,
        time_scale: float = 1.0,
        manual_clock: bool = False,
        jitter: float = 0.1,
        random_seed: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
        access_key_id: str = "test",
        secret_access_key: str = "test",
        log_requests: bool = False,
        log_stream: Optional[TextIO] = None,
        profile: Any = "default",
    ) -> None:
        self.clock: EmulatedClock = ManualEmulatedClock() if manual_clock else ScaledEmulatedClock(time_scale)
        self.backend = Backend(
            self.clock, activation_seconds=activation_seconds, queue_seconds=queue_seconds,
            max_concurrent_jobs=max_concurrent_jobs, rate_limit=rate_limit, jitter=jitter, random_seed=random_seed,
            profile=profile)
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key
        self.host = host
        self.port = int(port)
        self.app = EmulatorApp(
            self.backend,
            access_key_id=access_key_id,
            secret_access_key=secret_access_key,
            log_stream=(log_stream or sys.stderr) if log_requests else None,
            admin=self.handle_admin,
        )
        self._serving = BackgroundServer(self.app)
        self._admin = AdminApi(self)
        self.store_ids: List[str] = []
        if seed is not None:
            self.seed(seed)

    # ------------------------------------------------------------ lifecycle

    def start(self) -> Emulator:
        """Bind and serve in a background thread (idempotent); returns self.

        :raises OSError: if the address cannot be bound.
        """
        self.port = self._serving.start(self.host, self.port)
        return self

    def stop(self) -> None:
        """Stop serving and close the socket (idempotent)."""
        self._serving.stop()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Serve in the calling thread until :meth:`stop` (used by the CLI)."""
        self.start()
        self._serving.wait()

    @property
    def endpoint_url(self) -> str:
        """``http://HOST:PORT`` (valid after :meth:`start`)."""
        return f"http://{self.host}:{self.port}"

    def client(self, **kwargs: Any) -> Any:
        """A boto3 omics client for this emulator (host prefix injection off, test credentials).

        Extra keyword arguments go to ``boto3.client`` (``config`` is merged).
        """
        import boto3
        import botocore.config

        config = botocore.config.Config(inject_host_prefix=False)
        if "config" in kwargs:
            config = config.merge(kwargs.pop("config"))
        params: Dict[str, Any] = dict(
            endpoint_url=self.endpoint_url, region_name="us-east-1",
            aws_access_key_id=self.access_key_id, aws_secret_access_key=self.secret_access_key,
        )
        params.update(kwargs)
        return boto3.client("omics", config=config, **params)

    # ------------------------------------------------------------ state

    def seed(self, path_or_dict: Any) -> List[str]:
        """Load a seed (path, ``"cohort"`` or dict); returns the store IDs it defined.

        :raises SeedError: naming the malformed entry.
        """
        ids = self.backend.seed(path_or_dict)
        self.store_ids.extend(i for i in ids if i not in self.store_ids)
        return ids

    def create_store(self, name: str = "emulated-store", read_sets: Iterable[Any] = (), store_id: Optional[str] = None,
                     generate: Optional[Mapping[str, int]] = None) -> str:
        """Create a store with read sets (seed-format dicts or status strings) and/or
        ``generate={status: count}`` synthetic ones, made fast (a million in seconds; see
        :mod:`.synthetic`); returns its ID.

        :raises SeedError: malformed read set entry. :raises ValueError: bad ``generate``.
        """
        sid = self.backend.create_store(name=name, read_sets=read_sets, store_id=store_id, generate=generate)
        if sid not in self.store_ids:
            self.store_ids.append(sid)
        return sid

    def now(self) -> float:
        """Emulated time, epoch seconds."""
        return self.clock.now()

    def advance(self, seconds: float) -> float:
        """Move the emulated clock forward ``seconds`` and apply every state change due
        (job progress, 30-day archiving). Returns the new emulated now.

        :raises ValueError: if seconds is negative or not a number.
        """
        return self.backend.advance(seconds)

    def archive(self, store_id: str, read_set_ids: Iterable[str]) -> None:
        """Make read sets ARCHIVED now. :raises KeyError: unknown store or read set."""
        self.backend.archive(store_id, list(read_set_ids))

    def read_set_statuses(self, store_id: str) -> Dict[str, str]:
        """``{read_set_id: status}`` of a store. :raises KeyError: unknown store."""
        return self.backend.read_set_statuses(store_id)

    def set_read_set_status(self, store_id: str, read_set_id: str, status: str) -> None:
        """Force one read set's status. :raises KeyError, ValueError: see Backend."""
        self.backend.set_read_set_status(store_id, read_set_id, status)

    def jobs(self) -> List[Dict[str, Any]]:
        """Every activation job created, oldest first: dicts with ``id``, ``sequenceStoreId``,
        ``status``, ``statusMessage``, ``clientToken``, ``creationTime``, ``startTime``,
        ``completionTime`` (epoch seconds or None) and ``sources`` (list of
        ``{readSetId, status, statusMessage}``)."""
        return self.backend.job_dicts()

    @property
    def calls(self) -> Counter:
        """Requests that reached an operation, by operation name (any outcome)."""
        return self.app.calls

    @property
    def outcomes(self) -> Counter:
        """Requests by ``(operation, outcome)``; outcome is ``"OK"`` or the error code."""
        return self.app.outcomes

    def reset_counters(self) -> None:
        """Zero :attr:`calls` and :attr:`outcomes`."""
        self.app.reset_counters()

    def set_faults(self, **faults: Any) -> None:
        """Change injected faults while running; unnamed settings keep their value.

        Keywords (see :class:`~.faults.Faults` for exact semantics): ``internal_error_rate``,
        ``timeout_rate``, ``throttle_rate`` (a probability 0..1 for every operation, or
        ``{operation: p}``); ``failing_read_sets`` (``{read_set_id: message}`` or list);
        ``fail_jobs_containing`` (``{read_set_id: message}`` or list); ``fail_next_jobs``
        (int); ``job_failure_message``; ``delay_next_jobs`` (int); ``delay_jobs_containing``
        (IDs); ``delay_seconds`` (emulated seconds, default 3600);
        ``access_denied_stores`` (store IDs); ``throttle_next`` (``{operation or "*": n}``);
        ``lose_start_responses`` (int); ``stuck_next_token`` (``{list operation: True}``);
        ``hold_response_s`` (``{operation or "*": real seconds}``); ``expire_credentials_at_s``
        (emulated time from which every request answers ExpiredTokenException, or None).

        :raises TypeError: unknown keyword. :raises ValueError: bad value.
        """
        with self.backend.lock:
            self.backend.faults.update(**faults)

    @property
    def profile(self) -> str:
        """Name of the behaviour profile in force (``"custom"`` for an unnamed Behaviour)."""
        return self.backend.profile_name

    @property
    def behaviour(self) -> Any:
        """The :class:`~.profiles.Behaviour` in force."""
        return self.backend.behaviour

    def set_profile(self, profile: Any) -> str:
        """Switch the behaviour profile while running (a name of
        :data:`~.profiles.PROFILES`, a :class:`~.profiles.Behaviour` or a dict of its
        fields); applies from the next request or job event on. Returns its name.

        :raises ValueError: unknown profile name or bad value. :raises TypeError: unknown field.
        """
        return self.backend.set_profile(profile)

    def cancel_job(self, job_id: str, cancelling_s: float = 5.0) -> Dict[str, Any]:
        """Cancel an activation job as a console user would (HealthOmics has no cancel API):
        CANCELLING now, CANCELLED ``cancelling_s`` emulated seconds later; sources not
        finished keep their status and their read sets become ARCHIVED again. See
        :meth:`.backend.Backend.cancel_job`. Returns the job as in :meth:`jobs`.

        :raises KeyError: unknown job. :raises ValueError: job already ended or cancelling.
        """
        return self.backend.cancel_job(job_id, cancelling_s)

    def clear_faults(self) -> None:
        """Remove every injected fault."""
        with self.backend.lock:
            self.backend.faults = Faults()

    def set_quota(self, *, max_concurrent_jobs: Optional[int] = None, rate_limit: Any = None) -> None:
        """Change the concurrent-job quota and/or rate limits (float or ``{family: rate}``,
        families ``start``, ``jobs``, ``readsets``, ``stores``; 0 = unlimited)."""
        self.backend.set_quota(max_concurrent_jobs=max_concurrent_jobs, rate_limit=rate_limit)

    # ------------------------------------------------------------ admin API

    def state(self) -> Dict[str, Any]:
        """Snapshot for the admin API: now, counters, jobs, quotas, profile, faults (JSON-ready;
        keys in :meth:`.admin.AdminApi.state`)."""
        return self._admin.state()

    def handle_admin(self, request: Request, action: str, body: Mapping[str, Any]) -> Optional[Dict[str, Any]]:
        """The admin HTTP API, ``/_emulator/<action>``: its actions are listed in
        :class:`.admin.AdminApi`; each calls the method of this class with the same meaning.

        :returns: the JSON answer, or None for an unknown action (404 UnknownOperationException).
        :raises KeyError, ValueError, TypeError: a missing or bad field (400 ValidationException).
        """
        return self._admin.handle(request, action, body)
