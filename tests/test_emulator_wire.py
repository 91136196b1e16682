"""Wire-level tests: SigV4 checks, unknown routes, timestamps on the wire, admin API, CLI."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.error
import urllib.request

import boto3
import botocore.config
import pytest

NO_RETRY = botocore.config.Config(inject_host_prefix=False, retries={"total_max_attempts": 1})


def _raw(url: str, method: str = "GET", body: bytes = None, headers: dict = None):
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read() or b"{}")


@pytest.fixture
def store(emulator):
    return emulator.create_store(read_sets=[{"id": "1000000001"}], store_id="2000000003")


def test_unsigned_request_is_missing_authentication_token(emulator, store):
    status, headers, body = _raw(f"{emulator.endpoint_url}/sequencestore/{store}/readset/1000000001/metadata")
    assert status == 403
    assert headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
    assert headers["x-amzn-RequestId"]
    assert body == {"message": "Missing Authentication Token"}
    assert emulator.outcomes[("GetReadSetMetadata", "MissingAuthenticationTokenException")] == 1


@pytest.mark.parametrize(
    "key, secret, code",
    [("wrong", "test", "UnrecognizedClientException"), ("test", "wrong", "InvalidSignatureException")],
)
def test_bad_credentials(emulator, store, key, secret, code):
    client = boto3.client("omics", endpoint_url=emulator.endpoint_url, region_name="eu-west-1",
                          aws_access_key_id=key, aws_secret_access_key=secret, config=NO_RETRY)
    with pytest.raises(client.exceptions.ClientError) as ei:
        client.get_read_set_metadata(sequenceStoreId=store, id="1000000001")
    err = ei.value.response
    assert (err["Error"]["Code"], err["ResponseMetadata"]["HTTPStatusCode"]) == (code, 403)
    assert err["ResponseMetadata"]["RequestId"]


def test_any_region_and_configured_credentials(aws_test_env):
    from omics_emulator import Emulator

    with Emulator(manual_clock=True, rate_limit=0, access_key_id="AKIDEMU", secret_access_key="s3cret") as emu:
        client = boto3.client("omics", endpoint_url=emu.endpoint_url, region_name="ap-southeast-2",
                              aws_access_key_id="AKIDEMU", aws_secret_access_key="s3cret", config=NO_RETRY)
        assert client.list_sequence_stores()["sequenceStores"] == []


def test_unknown_route_is_404_unknown_operation(emulator):
    status, headers, body = _raw(f"{emulator.endpoint_url}/no/such/thing", method="DELETE")
    assert (status, headers["x-amzn-ErrorType"]) == (404, "UnknownOperationException")
    assert headers["x-amzn-RequestId"] and "DELETE /no/such/thing" in body["message"]


def test_timestamps_on_the_wire_are_iso8601(emulator, store):
    import botocore.auth
    import botocore.awsrequest
    import botocore.credentials

    url = f"{emulator.endpoint_url}/sequencestore/{store}/readset/1000000001/metadata"
    req = botocore.awsrequest.AWSRequest(method="GET", url=url)
    botocore.auth.SigV4Auth(botocore.credentials.Credentials("test", "test"), "omics", "us-east-1").add_auth(req)
    status, _, body = _raw(url, headers=dict(req.headers))
    assert status == 200
    assert body["creationTime"].endswith("Z") and "T" in body["creationTime"]


def test_admin_api(emulator, store, omics_client):
    base = f"{emulator.endpoint_url}/_emulator"
    client = omics_client()
    job_id = client.start_read_set_activation_job(sequenceStoreId=store, sources=[{"readSetId": "1000000001"}])["id"]
    now0 = emulator.now()
    assert _raw(f"{base}/advance", "POST", json.dumps({"seconds": 100}).encode())[2]["now"] == pytest.approx(now0 + 100)
    status, _, state = _raw(f"{base}/state")
    assert status == 200
    assert state["calls"] == {"StartReadSetActivationJob": 1}
    assert state["outcomes"] == {"StartReadSetActivationJob:OK": 1}
    assert [(j["id"], j["status"]) for j in state["jobs"]] == [(job_id, "COMPLETED")]
    assert _raw(f"{base}/archive", "POST", json.dumps({"storeId": store, "readSetIds": ["1000000001"]}).encode())[0] == 200
    assert _raw(f"{base}/read-sets?storeId={store}")[2] == {"1000000001": "ARCHIVED"}
    assert _raw(f"{base}/quota", "POST", json.dumps({"max_concurrent_jobs": 0}).encode())[0] == 200
    assert emulator.backend.max_concurrent_jobs == 0
    assert _raw(f"{base}/faults", "POST", json.dumps({"throttle_rate": 1.0}).encode())[0] == 200
    assert emulator.backend.faults.throttle_rate == {"*": 1.0}
    status, _, body = _raw(f"{base}/faults", "POST", json.dumps({"bogus": 1}).encode())
    assert status == 400 and "unknown fault 'bogus'" in body["message"]
    assert _raw(f"{base}/reset", "POST", b"{}")[0] == 200
    assert emulator.calls == {} and emulator.backend.faults.throttle_rate == {}


def test_cli_serves_and_exits_cleanly_on_sigterm(aws_test_env):
    proc = subprocess.Popen(
        [sys.executable, "-m", "omics_emulator", "--port", "0", "--rate-limit", "0", "--time-scale", "60"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        client = boto3.client("omics", endpoint_url=url, region_name="us-east-1", config=NO_RETRY)
        stores = client.list_sequence_stores()["sequenceStores"]
        assert [s["id"] for s in stores] == ["1234567890"]  # the shipped cohort is the CLI default
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        log = proc.stderr.read()
        assert "ListSequenceStores 200 OK" in log
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_cli_bad_seed_is_a_clear_error(tmp_path):
    bad = tmp_path / "seed.json"
    bad.write_text(json.dumps({"sequenceStores": [{"readSets": [{"status": "NOPE"}]}]}))
    done = subprocess.run([sys.executable, "-m", "omics_emulator", "--seed", str(bad)],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2
    assert "sequenceStores[0].readSets[0].status" in done.stderr


def test_concurrent_clients_are_counted_consistently(emulator, store, omics_client):
    import threading

    clients = [omics_client() for _ in range(8)]
    errors = []

    def work(client):
        try:
            for _ in range(20):
                assert client.get_read_set_metadata(sequenceStoreId=store, id="1000000001")["status"] == "ARCHIVED"
        except Exception as err:  # reported below
            errors.append(err)

    threads = [threading.Thread(target=work, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert emulator.outcomes[("GetReadSetMetadata", "OK")] == 160
