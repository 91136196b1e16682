"""Credentials that never come: a profile's credential_process nobody answers.

A real helper script (it sleeps, as an SSO or MFA helper waiting for a prompt does) in a
shared config file named by AWS_CONFIG_FILE, with a short bound injected
(``omics-dynamic:credentialsTimeout``), so each test takes seconds. In process for
:func:`~omics_dynamic.aws.resolve_credentials` itself, through the engine-role harness
(the SDK's real provider server) for what check, diff and create tell the user. Harness
results, not results of the real Pulumi engine.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pytest

from omics_dynamic.aws import ProviderSettings, make_client, resolve_credentials, shared_client
from omics_dynamic.errors import CredentialsTimeoutError
from omics_dynamic.provider import ReadSetActivationProvider
from omics_dynamic_testing import EngineHarness, ProviderCallError, ResourceSpec
from omics_emulator import Emulator

PROJECT_DIR = Path(__file__).resolve().parent.parent
TYPE = "pulumi-python:dynamic/omics:ReadSetActivation"
TIME_SCALE = 200.0
#: The bound the tests inject, real seconds.
BOUND_S = 1.5


def _hung_profile(tmp_path: Path, name: str = "ci") -> tuple[Path, Path]:
    """A config file whose profile ``name`` runs a credential_process that never answers
    (it writes its own PID and its child's, then waits for the child, a 120 s sleep).
    :returns: (config file, helper script)."""
    helper = tmp_path / "sso-helper.sh"
    helper.write_text(f'#!/bin/sh\necho $$ > "{tmp_path}/helper.pid"\nsleep 120 &\n'
                      f'echo $! > "{tmp_path}/sleep.pid"\nwait\n')
    helper.chmod(0o755)
    config = tmp_path / "aws-config"
    config.write_text(f"[profile {name}]\ncredential_process = {helper}\nregion = us-east-1\n\n"
                      "[profile answers]\naws_access_key_id = test\naws_secret_access_key = test\n")
    return config, helper


def _ended(pid_file: Path, within_s: float = 10.0) -> bool:
    """True once the process whose PID ``pid_file`` holds is gone or a zombie (polled: a
    killed process takes a moment to be reaped; the bound only limits a failing test)."""
    pid = int(pid_file.read_text())
    until = time.monotonic() + within_s
    while True:
        try:
            with open(f"/proc/{pid}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state in ("Z", "X"):
            return True
        if time.monotonic() > until:
            return False
        time.sleep(0.05)


@pytest.fixture
def hung_env(monkeypatch, tmp_path):
    """AWS_CONFIG_FILE with the hung profile ``ci``; no credentials in the environment."""
    config, helper = _hung_profile(tmp_path)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return tmp_path, helper


def test_a_hung_credential_process_is_bounded_named_and_killed(hung_env):
    tmp_path, helper = hung_env
    settings = ProviderSettings(profile="ci", region="us-east-1", endpoint_url="http://127.0.0.1:9",
                                credentials_timeout_s=BOUND_S)
    t0 = time.monotonic()
    with pytest.raises(CredentialsTimeoutError) as info:
        make_client(settings, None)
    waited_s = time.monotonic() - t0
    err = info.value
    assert err.timeout_s == BOUND_S
    assert err.source == f"profile 'ci' credential_process `{helper}`"
    assert err.stopped == 2  # the helper and its sleep
    assert str(err).startswith(f"AWS credentials: profile 'ci' credential_process `{helper}` did not answer "
                               "within 1.5s; the helper was stopped (2 process(es) killed); nothing was sent "
                               "to HealthOmics. A credential helper that waits for a prompt")
    assert "aws sso login --profile ci" in str(err)
    assert "pulumi config set omics-dynamic:credentialsTimeout 60" in str(err)
    assert BOUND_S <= waited_s < BOUND_S + 5  # the bound, not the helper's 120 s
    assert _ended(tmp_path / "helper.pid") and _ended(tmp_path / "sleep.pid")


def test_a_helper_that_answers_in_time_gives_the_client_its_credentials(hung_env, tmp_path):
    quick = tmp_path / "quick.sh"
    quick.write_text('#!/bin/sh\necho \'{"Version": 1, "AccessKeyId": "test", "SecretAccessKey": "test"}\'\n')
    quick.chmod(0o755)
    config = Path(os.environ["AWS_CONFIG_FILE"])
    config.write_text(config.read_text() + f"\n[profile quick]\ncredential_process = {quick}\n")
    import boto3

    session = boto3.session.Session(profile_name="quick")
    creds = resolve_credentials(session, 10.0, "quick")
    assert (creds.access_key, creds.method) == ("test", "custom-process")
    client = session.client("omics", region_name="us-east-1")
    assert client._request_signer._credentials is creds  # resolved once, not again by the client


def test_a_remembered_timeout_fails_later_calls_at_once(hung_env):
    settings = ProviderSettings(profile="ci", region="us-east-1", endpoint_url="http://127.0.0.1:9",
                                credentials_timeout_s=BOUND_S)
    with pytest.raises(CredentialsTimeoutError):
        shared_client(settings, "eu-west-3")
    t0 = time.monotonic()
    with pytest.raises(CredentialsTimeoutError) as info:
        shared_client(settings, "eu-west-3")
    assert time.monotonic() - t0 < BOUND_S  # no second wait (nor a second helper)
    assert re.search(r"^AWS credentials: profile 'ci' credential_process `[^`]+` \(asked \d+s ago in this "
                     r"provider process; not asked again for 300s\) did not answer within 1.5s", str(info.value))


def _harness(emu: Emulator, tmp_path: Path) -> EngineHarness:
    return EngineHarness(
        str(PROJECT_DIR), str(tmp_path / "state.json"), project="omics-dynamic-test",
        config={"aws:region": "us-east-1", "omics-dynamic:endpoint": emu.endpoint_url,
                "omics-dynamic:timeScale": str(TIME_SCALE), "omics-dynamic:rateLimit": "0"},
        env={"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_EC2_METADATA_DISABLED": "true"},
        timeout_s=60)


def _spec(name, store, ids):
    return ResourceSpec(name, TYPE, ReadSetActivationProvider(),
                        {"sequence_store_id": store, "read_set_ids": list(ids), "resource_name": name,
                         "check_live_status": True})


def test_check_diff_and_create_through_the_provider_server_end_within_the_bound(aws_test_env, tmp_path):
    """With a profile whose credential_process never answers (bound 1.5 s), a preview ends
    within 30 s: diff and check each warn once, naming the profile, the helper and that it
    did not answer (check adds `aws sso login --profile ci`); the helper and its child are
    stopped and no call reaches HealthOmics. The up then fails in Create with
    CredentialsTimeoutError, state keeps the one resource and no job is started."""
    config, helper = _hung_profile(tmp_path)
    with Emulator(time_scale=TIME_SCALE, activation_seconds=60, queue_seconds=5, rate_limit=0) as emu:
        store = emu.create_store(read_sets=["ARCHIVED"] * 3)
        ids = sorted(emu.read_set_statuses(store))
        other = emu.create_store(read_sets=["ARCHIVED"] * 2)
        harness = _harness(emu, tmp_path)
        assert harness.up([_spec("cohort", store, ids)]).ops == {"cohort": "create"}

        harness.config.update({"aws:profile": "ci", "omics-dynamic:credentialsTimeout": str(BOUND_S)})
        harness.env["AWS_CONFIG_FILE"] = str(config)
        specs = [_spec("cohort", store, ids), _spec("more", other, sorted(emu.read_set_statuses(other)))]
        calls_before = sum(emu.calls.values())
        t0 = time.monotonic()
        preview = harness.preview(specs)
        took_s = time.monotonic() - t0
        assert preview.ops == {"cohort": "same", "more": "create"}
        named = f"AWS credentials: profile 'ci' credential_process `{helper}` did not answer within 1.5s"
        diff_warning = [line for line in preview.stderr_lines
                        if line.startswith("cohort: warning: live status check failed, using state only: ")]
        check_warning = [line for line in preview.stderr_lines
                         if line.startswith("more: warning: create: the volume to activate is unknown: "
                                            "AWS credentials: ")]
        assert len(diff_warning) == 1 and named in diff_warning[0], preview.stderr_lines
        assert len(check_warning) == 1 and named in check_warning[0], "\n".join(preview.stderr_lines)
        assert "aws sso login --profile ci" in check_warning[0]
        assert took_s < 30  # one bound of 1.5 s; the helper sleeps 120 s
        assert sum(emu.calls.values()) == calls_before  # nothing reached HealthOmics
        assert _ended(tmp_path / "helper.pid") and _ended(tmp_path / "sleep.pid")

        with pytest.raises(ProviderCallError) as info:
            harness.up(specs)
        assert info.value.method == "Create"
        text = info.value.provider_message
        assert text.startswith("omics_dynamic.errors.CredentialsTimeoutError: AWS credentials: profile 'ci' "
                               f"credential_process `{helper}`"), text
        assert "did not answer within 1.5s" in text and "nothing was sent to HealthOmics" in text
        assert [r.name for r in harness.state().resources] == ["cohort"]
        assert emu.jobs() == [emu.jobs()[0]]  # only the first create's job
