"""Helpers shared by the provider tests (not fixtures: those live in conftest.py)."""

from __future__ import annotations

from typing import Iterable, Optional

from omics_dynamic.activation import ActivationRun
from omics_dynamic.aws import OmicsApi, ProviderSettings, RateBudget, make_client
from omics_dynamic.planning import ActivationInputs


class AdvancingClock:
    """The run's clock is the emulator's manual clock: sleeping advances emulated time,
    so a test of a 60-second activation takes milliseconds and never sleeps."""

    def __init__(self, emulator):
        self.emulator = emulator
        self.slept_s = 0.0

    def now(self) -> float:
        return self.emulator.now()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.slept_s += seconds
            self.emulator.advance(seconds)

    def real_seconds(self, seconds: float) -> float:
        """A manual clock has no real-time rate: a call's budget is taken 1:1 in real seconds."""
        return max(0.0, seconds)

    def wait(self, event, seconds: float) -> bool:
        """Advance emulated time unless ``event`` is already set; True if it is set."""
        if event.is_set():
            return True
        self.sleep(seconds)
        return event.is_set()


def make_api(emulator, rate_per_s: float = 0.0, max_attempts: int = 12) -> OmicsApi:
    """An OmicsApi on the emulator's endpoint and clock (test credentials from the env)."""
    settings = ProviderSettings(endpoint_url=emulator.endpoint_url, max_attempts=max_attempts)
    client = make_client(settings, "us-east-1")
    return OmicsApi(client, AdvancingClock(emulator), RateBudget(rate_per_s) if rate_per_s else None)


def run_activation(emulator, store_id: str, ids: Iterable[str], *, lines: Optional[list] = None,
                   generation: str = "test/create", rate_per_s: float = 0.0, **inputs):
    """Run one ActivationRun to its end on the emulator; progress lines go to ``lines``."""
    api = make_api(emulator, rate_per_s=rate_per_s)
    args = ActivationInputs(store_id, tuple(sorted(set(ids))), resource_name=inputs.pop("resource_name", "cohort"), **inputs)
    sink = lines if lines is not None else []
    return ActivationRun(api, args, generation=generation, report=sink.append).run()
