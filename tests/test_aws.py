"""Provider settings and the boto3 client factory (no network)."""

from __future__ import annotations

import pytest

from omics_dynamic.aws import ProviderSettings, make_client
from omics_dynamic.errors import AwsCallError, ConfigurationError


def settings_from(config: dict, env: dict | None = None) -> ProviderSettings:
    return ProviderSettings.from_config(config.get, environ=env or {})


def test_settings_read_stack_config_keys():
    s = settings_from({"aws:region": "eu-west-1", "aws:profile": "genomics",
                       "omics-dynamic:endpoint": "http://127.0.0.1:4566",
                       "omics-dynamic:timeScale": "60", "omics-dynamic:rateLimit": "2.5"})
    assert (s.region, s.profile, s.endpoint_url, s.time_scale, s.rate_limit_per_s) == (
        "eu-west-1", "genomics", "http://127.0.0.1:4566", 60.0, 2.5)


def test_settings_fall_back_to_environment():
    s = settings_from({}, {"OMICS_DYNAMIC_TIME_SCALE": "10", "OMICS_DYNAMIC_RATE_LIMIT": "0"})
    assert s.time_scale == 10.0 and s.rate_limit_per_s == 0.0


@pytest.mark.parametrize("config,fragment", [
    ({"omics-dynamic:timeScale": "fast"}, "omics-dynamic:timeScale must be a number, got 'fast'"),
    ({"omics-dynamic:timeScale": "0"}, "omics-dynamic:timeScale must be a finite number >= 1e-09"),
    ({"omics-dynamic:rateLimit": "-1"}, "omics-dynamic:rateLimit must be a finite number >= 0.0"),
    ({"omics-dynamic:endpoint": "127.0.0.1:4566"}, "must be an http:// or https:// URL"),
])
def test_bad_settings_name_the_key_and_value(config, fragment):
    with pytest.raises(ConfigurationError, match=fragment.replace("(", r"\(").replace("+", r"\+")):
        settings_from(config)


def test_custom_endpoint_turns_host_prefix_injection_off(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL_OMICS", "http://127.0.0.1:4566")
    client = make_client(ProviderSettings(), "us-east-1")
    assert client.meta.endpoint_url == "http://127.0.0.1:4566"
    assert client.meta.config.inject_host_prefix is False
    monkeypatch.delenv("AWS_ENDPOINT_URL_OMICS")
    aws = make_client(ProviderSettings(), "us-east-1")
    assert aws.meta.endpoint_url == "https://omics.us-east-1.amazonaws.com"
    assert aws.meta.config.inject_host_prefix is True


def test_no_region_is_a_clear_error(monkeypatch, tmp_path):
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    with pytest.raises(ConfigurationError, match="pulumi config set aws:region"):
        make_client(ProviderSettings(), None)


def test_aws_call_error_keeps_code_and_request_id():
    err = AwsCallError("StartReadSetActivationJob", "AccessDeniedException", "not allowed", "req-123", 403,
                       "grant omics:StartReadSetActivationJob")
    assert str(err) == ("StartReadSetActivationJob failed: AccessDeniedException: not allowed "
                        "(request ID req-123). grant omics:StartReadSetActivationJob")
