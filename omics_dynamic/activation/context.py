"""What the parts of one activation run share: its calls, clock and budget, its read sets,
its progress lines, its poll schedule and time-left estimate, and its cancel event."""

from __future__ import annotations

import math
import threading
from typing import Optional

from ..aws import Clock, OmicsApi
from ..errors import CallCancelledError
from ..scheduling import PollSchedule, TimeLeftEstimator
from .progress import Progress, ProgressListener
from .readsets import ReadSets

__all__ = ["RunContext"]


class RunContext:
    """One run's shared state, handed to each of its parts.

    :param api: the run's HealthOmics calls (paced; its clock, ``clock``, is the run's).
    :param store: the sequence store ID.
    :param read_sets: what the run knows of its read sets.
    :param progress: the run's progress lines.
    :param poll: when to poll the jobs in flight (a start or an end makes the next poll
        come soon; each ended job of the run teaches it a duration).
    :param cancel: when set, the run stops (:meth:`sleep`, :meth:`check_cancel`, and the
        api's calls, which :meth:`begin` bounds by it); None: the run is not cancellable.

    ``time_left``: the estimate the waiting lines show, fed by the jobs that end.
    ``started_at_s`` and ``deadline_s`` (seconds on ``clock``): set once by :meth:`begin`;
    before it, 0 and infinity.
    """

    def __init__(self, api: OmicsApi, store: str, read_sets: ReadSets, progress: Progress, poll: PollSchedule,
                 cancel: Optional[threading.Event] = None):
        self.api = api
        self.clock: Clock = api.clock
        self.store = store
        self.read_sets = read_sets
        self.progress = progress
        self.poll = poll
        self.cancel = cancel
        self.time_left = TimeLeftEstimator()
        self.started_at_s = 0.0
        self.deadline_s = math.inf

    def begin(self, timeout_s: float) -> None:
        """The run starts now: elapsed times count from here, the deadline is ``timeout_s``
        seconds later, every call is bounded by it and by the cancel event, and the api's
        backoffs and long waits become progress lines."""
        self.progress.start()
        self.started_at_s = self.progress.started_at_s
        self.deadline_s = self.started_at_s + timeout_s
        self.api.bound(self.deadline_s, self.cancel)
        self.api.listener = ProgressListener(self.progress)

    def last_look(self) -> None:
        """From now on each call is bounded by a few real seconds (the run's last look
        before it reports a timeout)."""
        self.api.bound(self.clock.now(), self.cancel)

    def end(self) -> None:
        """The run is over: its api's calls are no longer bounded by it."""
        self.api.bound(None, None)

    def check_cancel(self) -> None:
        """:raises CallCancelledError: when the cancel event is set."""
        if self.cancel is not None and self.cancel.is_set():
            raise CallCancelledError("the activation run was cancelled", sent=False)

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` on the clock (nothing for 0 or less); with a cancel event, wait
        on it.

        :raises CallCancelledError: when the cancel event is set during the wait.
        """
        if seconds <= 0:
            return
        if self.cancel is None:
            self.clock.sleep(seconds)
        elif self.clock.wait(self.cancel, seconds):
            raise CallCancelledError("the activation run was cancelled", sent=False)
