"""Shared pytest fixtures, and the suite's test mode.

Test mode (``no_botocore_backoff``, autouse: every test): botocore's retries run as in
production (same checks, attempts, retry quota, counted by the emulator) but wait 0 s
between attempts, so no test sleeps through real backoff. It is the one switch; tests do
not patch botocore themselves. In-process only: a provider process started by the
engine-role harness is another process and backs off for real (the harness tests set no
throttling or server-error faults).

``emulator``: a started :class:`omics_emulator.Emulator` with a manual clock
(time moves only on ``emulator.advance(seconds)``), unlimited rate (``rate_limit=0``;
tests may call ``emulator.set_quota``), no stores (use ``emulator.create_store`` or
``emulator.seed("cohort")``); stopped after the test. boto3's environment points at test
credentials (AWS_ACCESS_KEY_ID=test, AWS_SECRET_ACCESS_KEY=test, AWS_DEFAULT_REGION=us-east-1).

``provider``: a configured ReadSetActivationProvider on the emulator's clock and endpoint.

``omics_client``: a factory ``omics_client(**boto3_client_kwargs)`` returning a boto3
omics client for the emulator (host prefix injection off, as design.md section 3 requires).
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

import boto3
import botocore.config
import botocore.retries.standard
import pytest
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config

import omics_dynamic.provider as provider_module
from omics_dynamic.provider import ReadSetActivationProvider
from omics_emulator import Emulator
from support import AdvancingClock


@pytest.fixture
def aws_test_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Test credentials and region for boto3; no profile or endpoint from the host leaks in."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_OMICS"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def emulator(aws_test_env: None) -> Iterator[Emulator]:
    """A running emulator with a manual clock and no rate limit."""
    with Emulator(manual_clock=True, rate_limit=0) as emu:
        yield emu


@pytest.fixture
def omics_client(emulator: Emulator) -> Callable[..., Any]:
    """Factory of boto3 omics clients for ``emulator``: ``omics_client(config=..., ...)``."""

    def make(**kwargs: Any) -> Any:
        config = botocore.config.Config(inject_host_prefix=False)
        if "config" in kwargs:
            config = config.merge(kwargs.pop("config"))
        params = dict(endpoint_url=emulator.endpoint_url, region_name="us-east-1")
        params.update(kwargs)
        return boto3.client("omics", config=config, **params)

    return make


@pytest.fixture(autouse=True)
def no_botocore_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Test mode, for every test: botocore's standard retry mode waits 0 s between attempts.

    The hook: ``botocore.retries.standard.ExponentialBackoff.delay_amount`` computes every
    delay of the standard mode (our clients' mode, ``ProviderSettings.retry_mode``) from
    the retry context; botocore's endpoint then ``time.sleep``s that many seconds before
    the next attempt (``Endpoint._needs_retry``). With 0 the retry logic still runs (which
    errors are retried, ``max_attempts``, the retry quota, the ``RetryAttempts`` metadata)
    and the emulator still counts every attempt; only the real-time wait is gone. The
    provider's own waits are on its injected clock (the ``provider`` fixture).
    """
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, context: 0.0)


@pytest.fixture
def provider(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> ReadSetActivationProvider:
    """A configured ReadSetActivationProvider for in-process tests against ``emulator``.

    Its clock is the emulator's manual clock (sleeping advances emulated time; also
    exposed as ``provider.clock``), its endpoint comes from botocore's own
    AWS_ENDPOINT_URL_OMICS (so host-prefix injection must be off), its own pacing is off,
    botocore's retries do not sleep (test mode, ``no_botocore_backoff``), and diff's
    live-observation cache starts empty.
    """
    monkeypatch.setenv("AWS_ENDPOINT_URL_OMICS", emulator.endpoint_url)
    clock = AdvancingClock(emulator)
    monkeypatch.setattr(provider_module, "MonotonicClock", lambda time_scale: clock)
    provider_module._live_all_active.clear()
    prov = ReadSetActivationProvider()
    prov.configure(ConfigureRequest(Config({"aws:region": "us-east-1", "omics-dynamic:rateLimit": "0"}, "proj")))
    prov.clock = clock
    return prov
