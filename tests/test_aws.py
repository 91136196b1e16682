"""Provider settings and the boto3 client factory: region and endpoint resolution.

No network except where a test says so (the emulator): the endpoint a client resolved is
read from ``client.meta`` and from the URL botocore would send (a ``before-send`` hook
answers in place of the network).
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import botocore.exceptions
import pytest
from botocore.awsrequest import AWSResponse

from omics_dynamic.aws import ProviderSettings, effective_region, make_client, required_region, translate_error
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


ENDPOINT_FIX = ("set it to the HealthOmics endpoint's URL, e.g. `pulumi config set omics-dynamic:endpoint "
                "http://127.0.0.1:4566` (an IPv6 host in brackets: http://[::1]:4566), or remove it "
                "(`pulumi config rm omics-dynamic:endpoint`) to use botocore's endpoint")


@pytest.mark.parametrize("endpoint,problem", [
    ("http://[::1", "is not a valid URL (Invalid IPv6 URL)"),
    ("http://127.0.0.1:99999", "is not a valid URL (Port out of range 0-65535)"),
    ("http://127.0.0.1:http", "is not a valid URL (Port could not be cast to integer value as 'http')"),
    ("http://:4566", "has no host"),
    ("https://", "has no host"),
    ("http://127.0.0.1:0", "has port 0 (ports are 1-65535)"),
])
def test_an_unusable_endpoint_is_a_configuration_error_naming_key_value_and_fix(endpoint, problem):
    """Endpoints botocore would refuse with a bare ValueError (or could never connect to)
    fail when the settings are read, naming omics-dynamic:endpoint, the value and the fix."""
    with pytest.raises(ConfigurationError) as info:
        settings_from({"omics-dynamic:endpoint": endpoint})
    assert str(info.value) == f"omics-dynamic:endpoint {problem}, got {endpoint!r}; {ENDPOINT_FIX}"


@pytest.mark.parametrize("endpoint", ["http://127.0.0.1:4566", "https://[::1]:8443/prefix",
                                      "https://omics.us-east-1.amazonaws.com"])
def test_usable_endpoints_are_kept_as_given(endpoint):
    assert settings_from({"omics-dynamic:endpoint": endpoint}).endpoint_url == endpoint


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


# -- one error translation, one set of hints (aws.translate_error) ---------------------------

def _client_error(code: str, status: int, request_id: str = "req-9") -> botocore.exceptions.ClientError:
    return botocore.exceptions.ClientError(
        {"Error": {"Code": code, "Message": "the service's words"},
         "ResponseMetadata": {"RequestId": request_id, "HTTPStatusCode": status}}, "ListReadSets")


def test_translation_keeps_code_request_id_and_status_and_adds_the_codes_hint():
    err = translate_error("ListReadSets", _client_error("AccessDeniedException", 403), "5550000001", "us-east-1")
    assert (err.operation, err.code, err.aws_message, err.request_id, err.http_status, err.transient) == (
        "ListReadSets", "AccessDeniedException", "the service's words", "req-9", 403, False)
    assert str(err) == (
        "ListReadSets failed: AccessDeniedException: the service's words (request ID req-9). The "
        "credentials in use are not allowed omics:ListReadSets on sequence store 5550000001 in "
        "us-east-1; attach the policy from omics_dynamic.iam_policy() (README, 'IAM policy') to the "
        "role that runs `pulumi up`")
    throttled = translate_error("ListReadSets", _client_error("ThrottlingException", 400), "5550000001", "us-east-1")
    assert throttled.transient is True
    assert throttled.hint == ("Throttled beyond botocore's retries: lower omics-dynamic:rateLimit or "
                              "max_concurrent_jobs, run fewer stacks at once against this account, or "
                              "ask for a higher request-rate quota")
    missing = translate_error("ListReadSets", _client_error("ResourceNotFoundException", 404), "9999999999", "eu-west-1")
    assert missing.hint == ("Check sequence_store_id (9999999999) and region (eu-west-1): HealthOmics "
                            "does not know the resource this call named")
    job = translate_error("GetReadSetActivationJob", _client_error("ResourceNotFoundException", 404),
                          "9999999999", "eu-west-1")
    assert job.hint.startswith("HealthOmics does not know this activation job in sequence store 9999999999 (eu-west-1)")
    assert translate_error("ListReadSets", _client_error("SomethingNew", 400), "1", "r").hint == ""


def test_translation_of_errors_without_an_answer():
    none = translate_error("ListReadSets", botocore.exceptions.NoCredentialsError(), "5550000001", "us-east-1")
    assert (none.code, none.request_id, none.http_status, none.transient) == ("NoCredentials", None, None, False)
    assert str(none) == ("ListReadSets failed: NoCredentials: Unable to locate credentials (no AWS request "
                         "ID: no answer was received). Configure AWS credentials (environment, aws:profile "
                         "or AWS_PROFILE, SSO, or an instance role)")
    refused = translate_error("ListReadSets", botocore.exceptions.EndpointConnectionError(
        endpoint_url="http://127.0.0.1:9"), "5550000001", "us-east-1")
    assert (refused.code, refused.request_id, refused.transient) == ("EndpointConnectionError", None, True)
    assert refused.hint == ("The request never got an answer after botocore's retries; check the network "
                            "and the endpoint")
    repeated = translate_error("ListReadSets", botocore.exceptions.PaginationError(message="same token"), "1", "r")
    assert (repeated.code, repeated.hint) == ("PaginationError", "")
    with pytest.raises(TypeError, match="not a botocore error: ValueError"):
        translate_error("ListReadSets", ValueError("x"), "1", "r")


# -- one pager (OmicsApi.read_set_pages over botocore's paginator) ----------------------------

def test_read_set_pages_sends_the_filter_and_asks_for_a_page_only_when_asked(emulator):
    from support import make_api

    store = emulator.create_store(read_sets=["ARCHIVED"] * 250 + ["ACTIVE"] * 5)
    api = make_api(emulator)
    sent: list = []
    api.client.meta.events.register("before-parameter-build.omics.ListReadSets",
                                    lambda params, **_: sent.append(dict(params)))
    pages = api.read_set_pages(store, status="ARCHIVED", read_set_filter={"createdAfter": "2000-01-01T00:00:00Z"})
    first = next(pages)
    assert len(first.items) == 100 and first.next_token and first.request_id
    assert sent == [{"sequenceStoreId": store, "maxResults": 100,
                     "filter": {"createdAfter": "2000-01-01T00:00:00Z", "status": "ARCHIVED"}}]
    assert api.calls["ListReadSets"] == 1  # the next page is not requested until asked for
    rest = list(pages)
    assert [len(p.items) for p in rest] == [100, 50] and rest[-1].next_token is None
    assert {item["status"] for p in [first, *rest] for item in p.items} == {"ARCHIVED"}
    assert api.calls["ListReadSets"] == 3 and emulator.calls["ListReadSets"] == 3


def test_read_set_pages_errors_are_translated_with_the_store_and_region(emulator):
    from support import make_api

    api = make_api(emulator)
    with pytest.raises(AwsCallError) as info:
        next(api.read_set_pages("9999999999", read_set_filter={"sampleId": "S1"}))
    err = info.value
    assert (err.operation, err.code, err.http_status) == ("ListReadSets", "ResourceNotFoundException", 404)
    assert err.request_id and f"(request ID {err.request_id})" in str(err)
    assert str(err).endswith("Check sequence_store_id (9999999999) and region (us-east-1): HealthOmics "
                             "does not know the resource this call named")


# -- answers that did not come from HealthOmics (proxies, load balancers) ----------------------

PROXY = "http://proxy.example:3128"


def _answered_api(status: int, body: bytes, headers: dict | None = None):
    """An OmicsApi whose client sends nothing: every attempt gets this HTTP answer (one
    attempt per call), parsed by botocore as a real one would be."""
    from omics_dynamic.aws import MonotonicClock, OmicsApi

    client = make_client(ProviderSettings(endpoint_url=PROXY, max_attempts=1), "us-east-1")
    client.meta.events.register("before-send.omics", lambda request, **_: AWSResponse(
        request.url, status, {"Content-Type": "text/html", **(headers or {})}, _Raw(body)))
    return OmicsApi(client, MonotonicClock())


@pytest.mark.parametrize("status,body,transient", [
    (403, b"<html><body>Forbidden by corporate proxy</body></html>", False),
    (502, b"<html><h1>502 Bad Gateway</h1></html>", True),
    (503, b"<html>Service Temporarily Unavailable</html>", True),
    (504, b"<html>Gateway Time-out</html>", True),
])
def test_an_html_answer_without_an_aws_code_is_named_a_proxys(clean_aws_env, status, body, transient):
    """HealthOmics always sends an AWS error code; an answer without one (botocore's stand-in
    code is the status) gets the proxy hint naming the endpoint, and the text says the
    answer had no request ID (an answer was received)."""
    api = _answered_api(status, body)
    with pytest.raises(AwsCallError) as info:
        next(iter(api.read_set_pages("5550000001")))
    err = info.value
    assert (err.code, err.http_status, err.request_id, err.transient) == (str(status), status, None, transient)
    assert err.hint == (
        f"{PROXY} answered HTTP {status} without an AWS error code: a proxy, load balancer or firewall "
        "answered, not HealthOmics. Check the endpoint (omics-dynamic:endpoint, AWS_ENDPOINT_URL_OMICS, "
        "AWS_ENDPOINT_URL, the AWS config file's services section; none set means AWS's own) and the "
        "proxy settings (HTTPS_PROXY, HTTP_PROXY, NO_PROXY)")
    assert f"(no AWS request ID in the answer: HTTP {status}). {err.hint}" in str(err)
    assert "no answer was received" not in str(err)
    assert api.last_failure() == (f"HTTP {status} (no AWS error code)", False)


def test_internal_server_exception_has_a_hint(clean_aws_env):
    api = _answered_api(500, b'{"message": "oops"}', {"x-amzn-ErrorType": "InternalServerException",
                                                       "x-amzn-RequestId": "req-500"})
    with pytest.raises(AwsCallError) as info:
        next(iter(api.read_set_pages("5550000001")))
    assert (info.value.code, info.value.transient) == ("InternalServerException", True)
    assert str(info.value) == (
        "ListReadSets failed: InternalServerException: oops (request ID req-500). HealthOmics failed "
        "internally (HTTP 5xx) on every one of botocore's attempts; this is not caused by the request: "
        "run again later, and if it persists report the request ID to AWS Support (the AWS Health "
        "Dashboard shows known HealthOmics issues in us-east-1)")


def test_a_long_aws_message_is_cut_in_the_text_and_kept_whole_in_the_attribute(clean_aws_env):
    from omics_dynamic.limits import STATUS_MESSAGE_CHARS

    message = "x" * 100_000
    api = _answered_api(400, json.dumps({"message": message}).encode(),
                        {"x-amzn-ErrorType": "ValidationException", "x-amzn-RequestId": "req-1"})
    with pytest.raises(AwsCallError) as info:
        next(iter(api.read_set_pages("5550000001")))
    err = info.value
    assert err.aws_message == message
    cut = "x" * (STATUS_MESSAGE_CHARS - 3) + "..."
    assert str(err) == (f"ListReadSets failed: ValidationException: {cut} (request ID req-1). "
                        "HealthOmics rejected the request; check the inputs it names")


# -- a 200 answer that is not HealthOmics' (aws._listing_pages, OmicsApi.assert_store_exists) --

NOT_OMICS = ("the endpoint answered HTTP 200 without {key}, which HealthOmics always sends: is "
             f"{PROXY} a HealthOmics endpoint?")


@pytest.mark.parametrize("operation,key,call", [
    ("ListReadSets", "readSets", lambda api: next(iter(api.read_set_pages("5550000001")))),
    ("ListReadSetActivationJobs", "activationJobs", lambda api: next(iter(api.job_pages("5550000001")))),
    ("ListReadSets", "readSets", lambda api: api.assert_store_exists("5550000001")),
])
def test_an_answer_without_the_listings_key_is_an_error_not_an_empty_page(clean_aws_env, operation, key, call):
    """readSets and activationJobs are required members of the answers: a 200 answer
    without them (another service, a proxy's JSON) is a permanent AwsCallError naming the
    operation and the endpoint, never an empty store (which would turn into "no read set
    matches" or check's "NOT_FOUND")."""
    api = _answered_api(200, b'{"status": "ok"}', {"Content-Type": "application/json"})
    with pytest.raises(AwsCallError) as info:
        call(api)
    err = info.value
    assert (err.operation, err.code, err.http_status, err.request_id, err.transient) == (
        operation, "MalformedAnswer", 200, None, False)
    assert str(err) == (
        f"{operation} failed: MalformedAnswer: {NOT_OMICS.format(key=key)} (no AWS request ID in the "
        "answer: HTTP 200). Check the endpoint (omics-dynamic:endpoint, AWS_ENDPOINT_URL_OMICS, "
        "AWS_ENDPOINT_URL, the AWS config file's services section) and the proxy settings (HTTPS_PROXY, "
        "HTTP_PROXY, NO_PROXY); nothing was read from this answer")


def test_an_empty_listing_with_its_key_is_still_empty(clean_aws_env):
    api = _answered_api(200, b'{"readSets": []}', {"Content-Type": "application/json"})
    assert [page.items for page in api.read_set_pages("5550000001")] == [[]]
    api.assert_store_exists("5550000001")
