"""Security: no credential in state, signed requests only, least-privilege IAM, loopback.

- A lifecycle through the engine-role harness with distinctive credentials (from the
  environment with a session token, and from a profile in a shared credentials file)
  leaves none of them in the state file: not in ``__provider`` (base64 dill, decoded
  here), not in inputs or outputs.
- The emulator rejects unsigned requests and wrong credentials
  (tests/test_emulator_wire.py: ``test_unsigned_request_is_missing_authentication_token``,
  ``test_bad_credentials``); added here: a correctly signed request whose body was changed
  afterwards is rejected and starts no job.
- ``iam_policy``: a full lifecycle records every operation the provider calls; the policy
  allows exactly those.
- The emulator and the provider server the harness launches listen on loopback only.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import pickle
import socket
import urllib.error
import urllib.request
from pathlib import Path

import botocore.auth
import botocore.awsrequest
import botocore.credentials
import pytest

import omics_dynamic
from omics_dynamic.iam import REQUIRED_ACTIONS, iam_policy
from omics_dynamic.provider import ReadSetActivationProvider
from omics_dynamic_testing import EngineHarness, ProviderServer, ResourceSpec
from omics_emulator import Emulator

PROJECT_DIR = Path(__file__).resolve().parent.parent
TYPE = "pulumi-python:dynamic/omics:ReadSetActivation"
SCALE = 200.0
KEY_ID = "AKIAOMICSDYNAMICKEY7"
SECRET = "SECRETsecretOmicsDynamic/NeverInState+0123456789"
SESSION_TOKEN = "TOKENtokenOmicsDynamicSessionNeverInState0123456789"


def _decoded_strings(node, out: list) -> None:
    """Every string in a JSON tree, plus base64 and JSON decodings of each (recursively)."""
    if isinstance(node, dict):
        for key, value in node.items():
            out.append(str(key))
            _decoded_strings(value, out)
    elif isinstance(node, list):
        for value in node:
            _decoded_strings(value, out)
    elif isinstance(node, str):
        out.append(node)
        try:
            out.append(base64.b64decode(node, validate=True).decode("latin-1"))
        except ValueError:
            pass
        try:
            _decoded_strings(json.loads(node), out)
        except ValueError:
            pass


def _assert_no_credentials(state_path: str, needles: list[str], expect_provider: bool = True) -> dict:
    text = Path(state_path).read_text(encoding="utf-8")
    doc = json.loads(text)
    haystack: list = [text]
    _decoded_strings(doc, haystack)
    blob = "\n".join(haystack)
    for needle in needles:
        assert needle not in blob, f"{needle[:12]}... found in state"
    # __provider really was decoded: the pickle names the provider class, holds no state.
    providers = [s for s in haystack if "omics_dynamic.provider" in s and "ReadSetActivationProvider" in s]
    assert bool(providers) == expect_provider, "decoded __provider in state?"
    for raw in providers:
        obj = pickle.loads(raw.encode("latin-1"))
        assert isinstance(obj, ReadSetActivationProvider) and vars(obj) == {}
    return doc


@pytest.mark.slow
@pytest.mark.parametrize("source", ["environment", "profile"])
def test_no_credential_ever_reaches_state(aws_test_env, monkeypatch, tmp_path, source):
    env: dict = {}
    config = {"omics-dynamic:timeScale": str(SCALE), "omics-dynamic:rateLimit": "0",
              "aws:region": "us-east-1"}
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    if source == "environment":
        env = {"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_SESSION_TOKEN": SESSION_TOKEN}
    else:
        creds = tmp_path / "credentials"
        creds.write_text(f"[omics-test]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n"
                         f"aws_session_token = {SESSION_TOKEN}\n")
        env = {"AWS_SHARED_CREDENTIALS_FILE": str(creds), "AWS_CONFIG_FILE": str(tmp_path / "none")}
        config["aws:profile"] = "omics-test"
    needles = [SECRET, SESSION_TOKEN, KEY_ID, "SECRETsecret", "TOKENtoken"]
    with Emulator(time_scale=SCALE, rate_limit=0, access_key_id=KEY_ID, secret_access_key=SECRET) as emu:
        config["omics-dynamic:endpoint"] = emu.endpoint_url
        state_path = str(tmp_path / "state.json")
        harness = EngineHarness(str(PROJECT_DIR), state_path, project="omics", config=config, env=env,
                                timeout_s=60)
        store = emu.create_store(read_sets=["ARCHIVED"] * 25)
        ids = sorted(emu.read_set_statuses(store))
        spec = ResourceSpec("cohort", TYPE, ReadSetActivationProvider(), {
            "resource_name": "cohort", "sequence_store_id": store, "read_set_ids": ids})

        r = harness.up([spec])
        assert r.ops == {"cohort": "create"}
        doc = _assert_no_credentials(state_path, needles)
        assert doc["resources"][0]["outputs"]["not_active_read_set_statuses"] == {}
        emu.archive(store, ids[:5])
        assert harness.up([spec]).ops == {"cohort": "update"}
        _assert_no_credentials(state_path, needles)
        harness.refresh()
        _assert_no_credentials(state_path, needles)
        harness.destroy()
        assert _assert_no_credentials(state_path, needles, expect_provider=False)["resources"] == []
        # The credentials were really used: the emulator accepted requests signed with them,
        # and every operation the provider called is in the policy.
        assert emu.outcomes[("StartReadSetActivationJob", "OK")] == 3
        assert {f"omics:{op}" for op in emu.calls} <= set(REQUIRED_ACTIONS)
        for line in r.stderr_lines:
            for needle in needles:
                assert needle not in line


def test_a_signed_request_changed_after_signing_is_rejected(emulator):
    store = emulator.create_store(read_sets=["ARCHIVED", "ARCHIVED"])
    good, other = sorted(emulator.read_set_statuses(store))
    url = f"{emulator.endpoint_url}/sequencestore/{store}/activationjob"
    body = json.dumps({"sources": [{"readSetId": good}], "clientToken": "t-1"})
    request = botocore.awsrequest.AWSRequest(method="POST", url=url, data=body,
                                             headers={"Content-Type": "application/json"})
    botocore.auth.SigV4Auth(botocore.credentials.Credentials("test", "test"), "omics", "us-east-1") \
        .add_auth(request)
    prepared = request.prepare()
    tampered = body.replace(good, other).encode()
    req = urllib.request.Request(url, data=tampered, method="POST", headers=dict(prepared.headers))
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req, timeout=10)
    assert info.value.code == 403
    assert info.value.headers["x-amzn-ErrorType"] == "InvalidSignatureException"
    assert emulator.jobs() == []
    # The untouched signed request is accepted (the test above is not vacuous).
    ok = urllib.request.Request(url, data=body.encode(), method="POST", headers=dict(prepared.headers))
    with urllib.request.urlopen(ok, timeout=10) as resp:
        assert resp.status == 200
    assert [s["readSetId"] for s in emulator.jobs()[0]["sources"]] == [good]


def test_iam_policy_allows_exactly_what_a_full_lifecycle_calls(provider, emulator):
    store = emulator.create_store(read_sets=["ARCHIVED"] * 45 + ["ACTIVE"] * 2)
    ids = sorted(emulator.read_set_statuses(store))
    small = ids[:1]  # one read set: GetReadSetMetadata (the cost model's tie goes to the read)
    called: set = set()

    def record():
        called.update(op for op, n in emulator.calls.items() if n)

    for resource_ids in (ids, small):
        news = provider.check({}, {"sequence_store_id": store, "read_set_ids": resource_ids,
                                   "resource_name": "cohort"}).inputs
        outs = provider.create(news).outs                                     # create
        emulator.archive(store, resource_ids)
        assert provider.diff("rsa", outs, news).changes is True               # diff, live check
        outs = provider.update("rsa", outs, news).outs                        # update
        emulator.archive(store, resource_ids[:1])
        refreshed = provider.read("rsa", outs)                                # refresh
        assert refreshed.outs["not_active_read_set_statuses"][resource_ids[0]] == "ARCHIVED"
        provider.delete("rsa", refreshed.outs)                                # delete
        record()

    policy = iam_policy(store, region="us-east-1", account_id="123456789012")
    [statement] = policy["Statement"]
    assert policy["Version"] == "2012-10-17" and statement["Effect"] == "Allow"
    assert set(statement["Action"]) == {f"omics:{op}" for op in called}
    assert len(statement["Action"]) == len(set(statement["Action"]))
    assert statement["Resource"] == [
        f"arn:aws:omics:us-east-1:123456789012:sequenceStore/{store}",
        f"arn:aws:omics:us-east-1:123456789012:sequenceStore/{store}/readSet/*",
    ]
    assert "*" not in statement["Action"] and all(":" in a and "*" not in a for a in statement["Action"])
    assert omics_dynamic.iam_policy is iam_policy
    json.dumps(policy)  # a JSON document as IAM takes it


def test_iam_policy_wildcards_only_region_and_account_when_not_given():
    [statement] = iam_policy("1234567890")["Statement"]
    assert statement["Resource"] == ["arn:aws:omics:*:*:sequenceStore/1234567890",
                                     "arn:aws:omics:*:*:sequenceStore/1234567890/readSet/*"]


def _listening_addresses(port: int) -> set:
    """Local addresses of listening TCP sockets on ``port`` (from /proc/net/tcp{,6})."""
    found = set()
    for name, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        try:
            lines = Path(name).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state = fields[1], fields[3]
            host_hex, port_hex = local.split(":")
            if state != "0A" or int(port_hex, 16) != port:
                continue
            raw = bytes.fromhex(host_hex)
            if family == socket.AF_INET:
                raw = raw[::-1]
            else:
                raw = b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4))
            found.add(socket.inet_ntop(family, raw))
    return found


def _is_loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or (mapped is not None and mapped.is_loopback)


def test_emulator_and_provider_server_listen_on_loopback_only(aws_test_env):
    with Emulator(manual_clock=True, rate_limit=0) as emu:
        assert emu.host == "127.0.0.1"
        assert emu._serving.server.socket.getsockname()[0] == "127.0.0.1"
        assert _listening_addresses(emu.port) == {"127.0.0.1"}
    with ProviderServer(str(PROJECT_DIR)) as server:
        assert server.address.startswith("127.0.0.1:")
        addresses = _listening_addresses(server.port)
        assert addresses and all(_is_loopback(a) for a in addresses), addresses  # gRPC: ::ffff:127.0.0.1


def test_the_state_scan_finds_a_secret_planted_in_a_pickled_provider(tmp_path):
    from pulumi.dynamic.dynamic import serialize_provider

    leaky = ReadSetActivationProvider()
    leaky.leaked = SECRET  # what a provider holding credentials would pickle
    encoded = serialize_provider(leaky)
    path = tmp_path / "state.json"
    path.write_text(json.dumps({"resources": [{"outputs": {"__provider": {
        "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
        "plaintext": json.dumps(encoded)}}}]}))
    assert SECRET not in path.read_text()  # only visible once decoded
    with pytest.raises(AssertionError, match="found in state"):
        _assert_no_credentials(str(path), [SECRET])
