"""Provider settings and the boto3 client factory: region and endpoint resolution.

No network except where a test says so (the emulator): the endpoint a client resolved is
read from ``client.meta`` and from the URL botocore would send (a ``before-send`` hook
answers in place of the network).
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from botocore.awsrequest import AWSResponse

from omics_dynamic.aws import ProviderSettings, effective_region, make_client, required_region
from omics_dynamic.errors import AwsCallError, ConfigurationError

_ENDPOINT_ENV = ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_OMICS", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
                 "AWS_DISABLE_HOST_PREFIX_INJECTION", "AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION",
                 "AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT")


@pytest.fixture
def clean_aws_env(monkeypatch, tmp_path):
    """Test credentials; no endpoint, region or profile from the host; an empty config file."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    for name in _ENDPOINT_ENV:
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "config"
    config.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    return config


class _Raw:
    def __init__(self, body: bytes):
        self.body = body

    def stream(self, **_kwargs):
        yield self.body


def _sent_host(client) -> str:
    """The host botocore sends ListReadSets to (host prefix included), without a network."""
    sent = {}

    def answer(request, **_kwargs):
        sent["url"] = request.url
        return AWSResponse(request.url, 200, {"x-amzn-RequestId": "r"}, _Raw(json.dumps({"readSets": []}).encode()))

    client.meta.events.register("before-send.omics", answer)
    client.list_read_sets(sequenceStoreId="1234567890")
    return urlsplit(sent["url"]).netloc


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


def test_custom_endpoint_turns_host_prefix_injection_off(clean_aws_env, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL_OMICS", "http://127.0.0.1:4566")
    client = make_client(ProviderSettings(), "us-east-1")
    assert client.meta.endpoint_url == "http://127.0.0.1:4566"
    assert client.meta.config.inject_host_prefix is False
    assert _sent_host(client) == "127.0.0.1:4566"
    monkeypatch.delenv("AWS_ENDPOINT_URL_OMICS")
    aws = make_client(ProviderSettings(), "us-east-1")
    assert aws.meta.endpoint_url == "https://omics.us-east-1.amazonaws.com"
    assert aws.meta.config.inject_host_prefix is True
    # These operations go to the control-storage endpoint (the model's hostPrefix).
    assert _sent_host(aws) == "control-storage-omics.us-east-1.amazonaws.com"


VPCE = "https://vpce-0abc123-de4f5g6h.control-storage-omics.us-east-1.vpce.amazonaws.com"


@pytest.mark.parametrize("where", ["services-section", "profile-endpoint_url", "global-env", "service-env",
                                   "stack-config"])
def test_every_configured_endpoint_is_used_as_is(clean_aws_env, monkeypatch, where):
    """Each way of configuring an endpoint that botocore knows, and omics-dynamic:endpoint:
    the client uses that URL with no host prefix (a PrivateLink vpce- DNS name stays as it
    is; with the prefix it would be control-storage-vpce-...)."""
    settings = ProviderSettings()
    if where == "services-section":
        clean_aws_env.write_text(f"[default]\nservices = private\n\n[services private]\nomics =\n"
                                 f"  endpoint_url = {VPCE}\n")
    elif where == "profile-endpoint_url":
        clean_aws_env.write_text(f"[profile genomics]\nendpoint_url = {VPCE}\naws_access_key_id = test\n"
                                 "aws_secret_access_key = test\n")
        settings = ProviderSettings(profile="genomics")
    elif where == "global-env":
        monkeypatch.setenv("AWS_ENDPOINT_URL", VPCE)
    elif where == "service-env":
        monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")  # the service's own wins
        monkeypatch.setenv("AWS_ENDPOINT_URL_OMICS", VPCE)
    else:
        monkeypatch.setenv("AWS_ENDPOINT_URL_OMICS", "http://127.0.0.1:1")  # stack config wins
        settings = ProviderSettings(endpoint_url=VPCE)
    client = make_client(settings, "us-east-1")
    assert client.meta.endpoint_url == VPCE
    assert client.meta.config.inject_host_prefix is False
    assert _sent_host(client) == urlsplit(VPCE).netloc


@pytest.mark.parametrize("how", ["env", "config-file"])
def test_ignore_configured_endpoint_urls_is_honoured(clean_aws_env, monkeypatch, how):
    """With AWS_IGNORE_CONFIGURED_ENDPOINT_URLS (or the config file's setting) botocore
    ignores the environment's and the config file's endpoints, and so does the provider: the
    standard endpoint, host prefix on."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_OMICS", "http://127.0.0.1:4566")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4567")
    ignore = "ignore_configured_endpoint_urls = true\n" if how == "config-file" else ""
    clean_aws_env.write_text(f"[default]\n{ignore}services = emu\n\n[services emu]\nomics =\n"
                             "  endpoint_url = http://127.0.0.1:4568\n")
    if how == "env":
        monkeypatch.setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true")
    client = make_client(ProviderSettings(), "eu-central-1")
    assert client.meta.endpoint_url == "https://omics.eu-central-1.amazonaws.com"
    assert client.meta.config.inject_host_prefix is True
    assert _sent_host(client) == "control-storage-omics.eu-central-1.amazonaws.com"
    # An explicit omics-dynamic:endpoint is not a "configured" one: it still applies.
    explicit = make_client(ProviderSettings(endpoint_url="http://127.0.0.1:4569"), "eu-central-1")
    assert explicit.meta.endpoint_url == "http://127.0.0.1:4569"
    assert explicit.meta.config.inject_host_prefix is False


def test_standard_endpoint_keeps_botocores_own_host_prefix_setting(clean_aws_env, monkeypatch):
    """Without a custom endpoint the provider leaves inject_host_prefix to botocore, so
    AWS_DISABLE_HOST_PREFIX_INJECTION keeps working as it does for boto3."""
    monkeypatch.setenv("AWS_DISABLE_HOST_PREFIX_INJECTION", "true")
    client = make_client(ProviderSettings(), "us-west-2")
    assert client.meta.config.inject_host_prefix is False
    assert _sent_host(client) == "omics.us-west-2.amazonaws.com"


def test_services_section_endpoint_creates_against_the_emulator(provider, emulator, monkeypatch, tmp_path):
    """A user whose only endpoint setting is the shared config file's services section
    (AWS_CONFIG_FILE) activates against that endpoint: the host prefix is off, so create
    reaches the emulator (not control-storage-127.0.0.1) and one job activates the 3 read
    sets."""
    monkeypatch.delenv("AWS_ENDPOINT_URL_OMICS", raising=False)
    config = tmp_path / "config"
    config.write_text(f"[default]\nservices = emu\n\n[services emu]\nomics =\n"
                      f"  endpoint_url = {emulator.endpoint_url}\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    store = emulator.create_store(read_sets=["ARCHIVED"] * 3)
    ids = sorted(emulator.read_set_statuses(store))
    news = provider.check({}, {"sequence_store_id": store, "read_set_ids": ids, "resource_name": "cohort"}).inputs
    outs = provider.create(news).outs
    assert outs["not_active_read_set_statuses"] == {}
    assert len(outs["job_ids"]) == 1 and outs["job_ids"] == [j["id"] for j in emulator.jobs()]
    assert set(emulator.read_set_statuses(store).values()) == {"ACTIVE"}


def test_effective_region_input_then_stack_config_then_boto3_chain(clean_aws_env, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-southeast-2")
    assert effective_region(ProviderSettings(region="eu-west-1"), "us-west-2") == "us-west-2"
    assert effective_region(ProviderSettings(region="eu-west-1"), None) == "eu-west-1"
    assert effective_region(ProviderSettings(), None) == "ap-southeast-2"
    monkeypatch.setenv("AWS_REGION", "ca-central-1")  # not read by botocore (nor boto3)
    assert effective_region(ProviderSettings(), None) == "ap-southeast-2"
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    clean_aws_env.write_text("[profile genomics]\nregion = eu-north-1\n")
    assert effective_region(ProviderSettings(profile="genomics"), None) == "eu-north-1"
    assert effective_region(ProviderSettings(), None) is None
    with pytest.raises(ConfigurationError, match="no AWS Region"):
        required_region(ProviderSettings(), None)
    with pytest.raises(ConfigurationError, match="aws:region names 'Frankfurt', which is not an AWS Region"):
        effective_region(ProviderSettings(region="Frankfurt"), None)


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
