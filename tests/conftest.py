"""Shared pytest fixtures.

``emulator``: a started :class:`omics_dynamic.emulator.Emulator` with a manual clock
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
import pytest
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config

import omics_dynamic.provider as provider_module
from omics_dynamic.emulator import Emulator
from omics_dynamic.provider import ReadSetActivationProvider
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


@pytest.fixture
def no_botocore_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore's retry logic still runs (and is counted); only its real-time backoff
    sleeps are removed, so retried faults take milliseconds, not seconds."""
    import botocore.retries.standard

    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, ctx: 0)


@pytest.fixture
def provider(emulator: Emulator, monkeypatch: pytest.MonkeyPatch, no_botocore_backoff: None) -> ReadSetActivationProvider:
    """A configured ReadSetActivationProvider for in-process tests against ``emulator``.

    Its clock is the emulator's manual clock (sleeping advances emulated time; also
    exposed as ``provider.clock``), its endpoint comes from botocore's own
    AWS_ENDPOINT_URL_OMICS (so host-prefix injection must be off), its own pacing is off,
    botocore's retries do not sleep (``no_botocore_backoff``), and diff's
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
