"""Progress lines for the person watching ``pulumi up`` (docs/design.md section 2, rule 13;
section 3.1, "Progress").

Every line starts with the resource name and is formatted, when it is printed, from counts;
whether it is printed is decided by :class:`~omics_dynamic.scheduling.ProgressThrottle` from
those counts (the line's *key*), never from its text: the first line at once, then on
change at most every 5 s and without news every :data:`HEARTBEAT_S`, so with a call in
between a line still comes at least every 30 s.

The waiting line (:func:`~omics_dynamic.messages.waiting_line`, like every line's text,
formatted in :mod:`omics_dynamic.messages`) shows what the polls the run makes anyway
report: jobs SUBMITTED, sources FINISHED in jobs in flight (where a poll read the job),
jobs ended, and the time left that :class:`~omics_dynamic.scheduling.TimeLeftEstimator` derives from
the jobs that ended ("time left unknown (...)" with the reason before it can).
"""

from __future__ import annotations

import sys
from typing import Callable, Hashable, NamedTuple, Optional

from .. import messages
from ..aws import ApiListener, Clock
from ..errors import AwsCallError
from ..limits import HEARTBEAT_S
from ..scheduling import ProgressThrottle, format_duration

__all__ = ["HEARTBEAT_S", "Progress", "ProgressListener", "RunCounts", "stderr_reporter"]


def stderr_reporter(line: str) -> None:
    """Write one progress line to stderr (the engine shows it in ``pulumi up``, rule 13)."""
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


class Progress:
    """The run's progress lines: cadence, elapsed time and the reporter.

    :param name: the resource name every line starts with.
    :param clock: the run's clock (seconds).
    :param report: receives each line.
    :param throttle: the cadence (default: on change at most every 5 s, else every
        :data:`HEARTBEAT_S`).
    """

    def __init__(self, name: str, clock: Clock, report: Callable[[str], None],
                 throttle: Optional[ProgressThrottle] = None):
        self.name = name
        self.clock = clock
        self.report = report
        self.throttle = throttle or ProgressThrottle()
        self.started_at_s = 0.0
        self._deferred: Optional[tuple[Hashable, str]] = None

    def start(self) -> None:
        """The run begins now: elapsed times count from here."""
        self.started_at_s = self.clock.now()

    def due(self, key: Hashable, force: bool = False) -> bool:
        """Whether the cadence allows a line for ``key`` now: ``key`` is the counts the line
        is made of (without the elapsed time), never its text."""
        return self.throttle.should_emit(self.clock.now(), key, force=force)

    def say(self, key: Hashable, render: Callable[[], str], force: bool = False, defer: bool = False) -> None:
        """Print ``name: render()`` (formatted only then) when a line for ``key`` is due.

        With ``defer``, a line that is not due is formatted now and kept (the latest one
        wins): it is printed by the next :meth:`say` at which a line is due, in place of
        that call's own line unless forced, so news such as a backoff is not lost and the
        cadence still holds."""
        if self._deferred is not None and not force and self.due(self._deferred[0]):
            self.report(self._deferred[1])
            self._deferred = None
            return
        if self.due(key, force=force):
            self.report(f"{self.name}: {render()}")
        elif defer:
            self._deferred = (key, f"{self.name}: {render()}")

    def next_due_s(self) -> Optional[float]:
        """When a line becomes due even without news (clock seconds), or None."""
        return self.throttle.next_due_s()

    def elapsed(self) -> str:
        """Time since :meth:`start`, formatted (``"1m05s"``)."""
        return format_duration(self.clock.now() - self.started_at_s)


#: RunCounts fields a line shows as they are when printed, outside its cadence key.
_SHOWN_AS_PRINTED = frozenset({"ended", "submitted", "sources_finished", "sources_read"})


class RunCounts(NamedTuple):
    """The counts a waiting line is made of (and its cadence key).

    ``active``/``total`` read sets; ``running`` jobs in flight; ``queued`` chunks not yet
    started; ``finished``: read sets finished by their jobs (no job of ours covers them
    any more), not yet confirmed ACTIVE by their own status; ``failed``: read sets whose
    activation failed so far (found, or a source failed in a job that ended: re-checked
    before the error names it); ``waiting``: read sets to be confirmed now (no job of ours in flight); ``held``:
    queued chunks held back because a job in flight whose sources are not listed yet may
    cover them, or a start of theirs was answered "token used" and the token's job may
    still show; ``cancelling``: jobs in flight CANCELLING; ``quota_refusals``:
    starts refused with ServiceQuotaExceededException while the quota holds the queue back
    (0 otherwise), ``quota_request_id`` the last refusal's request ID; ``unanswered``: 1
    when a start got no answer before the run stopped (it may have created a job that no
    other count shows); ``ended``: jobs that ended during the run (any outcome);
    ``submitted``: jobs in flight last seen SUBMITTED (not started by HealthOmics yet);
    ``sources_finished`` of ``sources_read``: the FINISHED sources, among the read sets of
    ours, of the jobs in flight whose sources the run has read (GetReadSetActivationJob)
    since it tracked them, as last read.
    """

    active: int
    total: int
    running: int
    queued: int
    finished: int
    waiting: int
    held: int = 0
    cancelling: int = 0
    quota_refusals: int = 0
    quota_request_id: str = ""
    unanswered: int = 0
    failed: int = 0
    ended: int = 0
    submitted: int = 0
    sources_finished: int = 0
    sources_read: int = 0

    def cadence_key(self) -> tuple:
        """The counts whose change makes a line due (within the 5 s minimum): all but
        ``ended``, ``submitted`` and the sources, which the lines show as they are when
        printed (a change of theirs alone waits for the heartbeat, so they add no line and
        no wake-up, hence no poll, to the run)."""
        return tuple(value for name, value in zip(self._fields, self) if name not in _SHOWN_AS_PRINTED)


class ProgressListener(ApiListener):
    """Turns :class:`~omics_dynamic.aws.OmicsApi`'s backoffs and long waits into progress
    lines."""

    def __init__(self, progress: Progress):
        self.progress = progress

    def on_backoff(self, operation: str, error: AwsCallError, delay_s: float, in_a_row: int) -> None:
        """A line on the cadence like any other (at most one per 5 s); one that is not due
        yet is printed when the next line is (:meth:`Progress.say`'s ``defer``), so it
        starts with the elapsed time of the backoff itself, not of the printing."""
        p = self.progress
        p.say(("backoff", operation, error.code, in_a_row),
              lambda: messages.backoff_line(p.elapsed(), operation, error.code, in_a_row, delay_s), defer=True)

    def on_waiting(self, operation: str, waited_real_s: float, last_failure: str = "") -> None:
        p = self.progress
        p.say(("no-answer", operation),
              lambda: messages.no_answer_line(operation, waited_real_s, last_failure, p.elapsed()))
