"""Clocks for the emulator: emulated time as epoch seconds (float).

Two kinds, both :class:`EmulatedClock` with ``now() -> float`` (emulated epoch seconds)
and ``advance(seconds: float) -> None``:

* :class:`ManualEmulatedClock` moves only when :meth:`ManualEmulatedClock.advance` is
  called (tests: no sleeping, fully deterministic).
* :class:`ScaledEmulatedClock` follows real time scaled by ``time_scale``: one emulated
  second lasts ``1 / time_scale`` real seconds (demos, benchmarks).
  ``advance`` adds an offset on top.

Not to be confused with the provider's clocks in :mod:`omics_dynamic.aws` (``now()``
and ``sleep()``, the time a run waits on): these are the time the emulated service
lives in.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Optional

__all__ = ["EmulatedClock", "ManualEmulatedClock", "ScaledEmulatedClock"]


class EmulatedClock:
    """Interface of emulator clocks (emulated epoch seconds)."""

    def now(self) -> float:  # an interface method
        """Return the emulated time in epoch seconds."""
        raise NotImplementedError

    def advance(self, seconds: float) -> None:  # an interface method
        """Move the emulated time forward by ``seconds`` (>= 0)."""
        raise NotImplementedError


def _check_seconds(seconds: float) -> float:
    try:
        value = float(seconds)
    except (TypeError, ValueError):
        raise ValueError(f"advance seconds must be a number >= 0, got {seconds!r}") from None
    if not value >= 0 or value == float("inf"):
        raise ValueError(f"advance seconds must be a finite number >= 0, got {seconds!r}")
    return value


class ManualEmulatedClock(EmulatedClock):
    """A clock that moves only on :meth:`advance`.

    :param start_s: initial emulated epoch seconds (default: the real time at creation).
    """

    def __init__(self, start_s: Optional[float] = None) -> None:
        self._now_s = float(time.time() if start_s is None else start_s)
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            return self._now_s

    def advance(self, seconds: float) -> None:
        value = _check_seconds(seconds)
        with self._lock:
            self._now_s += value


class ScaledEmulatedClock(EmulatedClock):
    """Real time scaled by ``time_scale`` (emulated seconds per real second).

    :param time_scale: > 0; 60 means one emulated minute per real second.
    :param start_s: emulated epoch seconds at creation (default: real time).
    :param monotonic: real-time source in seconds (injectable for tests).
    :raises ValueError: if ``time_scale`` is not a positive finite number.
    """

    def __init__(
        self,
        time_scale: float = 1.0,
        start_s: Optional[float] = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        scale = float(time_scale)
        if not scale > 0 or scale == float("inf"):
            raise ValueError(
                f"time_scale must be a positive number (emulated seconds per real second), got {time_scale!r}"
            )
        self.time_scale = scale
        self._monotonic = monotonic
        self._t0_real_s = monotonic()
        self._start_s = float(time.time() if start_s is None else start_s)
        self._offset_s = 0.0
        self._lock = threading.Lock()

    def now(self) -> float:
        elapsed_real_s = self._monotonic() - self._t0_real_s
        with self._lock:
            return self._start_s + elapsed_real_s * self.time_scale + self._offset_s

    def advance(self, seconds: float) -> None:
        value = _check_seconds(seconds)
        with self._lock:
            self._offset_s += value
