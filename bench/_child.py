"""Child process of bench/run.py: runs one client against the emulator and reports JSON.

``python bench/_child.py provider|naive SPEC.json`` prints one JSON line on stdout:
real monotonic times (``time.monotonic()`` is system-wide on Linux, so the parent can
map them onto the emulator's clock), the client's own result, and ``maxrss_kb`` of this
process (``resource.getrusage``), i.e. the peak memory of the provider process.

- ``provider``: the real provider code path: ``ReadSetActivationProvider`` configured from
  stack config (endpoint, ``omics-dynamic:timeScale``, ``omics-dynamic:rateLimit``),
  ``check`` then ``create`` (ActivationRun, pacing, polling, confirmation).
- ``naive``: the naive client (the speed baseline): start one job of at most 20, wait with botocore's
  ``ReadSetActivationJobCompleted`` waiter (its 30 s delay scaled: Delay = 30/k), next.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time


def _provider(spec: dict) -> dict:
    from pulumi.dynamic import ConfigureRequest
    from pulumi.dynamic.config import Config

    from omics_dynamic.provider import ReadSetActivationProvider

    prov = ReadSetActivationProvider()
    prov.configure(ConfigureRequest(Config({
        "aws:region": "us-east-1",
        "omics-dynamic:endpoint": spec["endpoint"],
        "omics-dynamic:timeScale": str(spec["time_scale"]),
        "omics-dynamic:rateLimit": str(spec["rate_limit"]),
    }, "bench")))
    # One throwaway client first: botocore's one-time loading of the omics service model
    # (tens of real milliseconds) would otherwise count k times over in real-world seconds;
    # a provider server that has served one request has it loaded. Reported, not hidden.
    import boto3

    warm0 = time.monotonic()
    boto3.session.Session().client("omics", region_name="us-east-1", endpoint_url=spec["endpoint"])
    warmup_real_s = time.monotonic() - warm0
    # check_live_status False: the create is what is measured; check's own lookup of a new
    # resource (the preview's volume line) would add its calls to the create's.
    news = {"sequence_store_id": spec["store"], "read_set_ids": spec["ids"], "resource_name": "bench",
            "max_concurrent_jobs": spec["max_concurrent_jobs"], "check_live_status": False}
    checked = prov.check({}, news)
    assert not checked.failures, checked.failures
    started = time.monotonic()
    outs = prov.create(checked.inputs).outs
    ended = time.monotonic()
    from omics_dynamic.outputs import statuses as derived_statuses

    statuses = derived_statuses(outs["read_set_ids"], outs["not_active_read_set_statuses"])
    # What the engine keeps in state for the resource: the inputs and the outputs (JSON).
    inputs_bytes = len(json.dumps(checked.inputs, separators=(",", ":")))
    outputs_bytes = len(json.dumps(outs, separators=(",", ":")))
    n = len(spec["ids"])
    state = {"inputs_bytes": inputs_bytes, "outputs_bytes": outputs_bytes, "bytes": inputs_bytes + outputs_bytes,
             "bytes_per_read_set": round((inputs_bytes + outputs_bytes) / max(n, 1), 1),
             "output_keys": sorted(outs)}
    return {"started_mono_s": started, "ended_mono_s": ended, "jobs": len(outs["job_ids"]),
            "warmup_real_s": round(warmup_real_s, 3), "state": state,
            "all_active": all(s == "ACTIVE" for s in statuses.values()) and len(statuses) == len(spec["ids"])}


def _naive(spec: dict) -> dict:
    import boto3
    import botocore.config

    k = float(spec["time_scale"])
    client = boto3.session.Session().client(
        "omics", region_name="us-east-1", endpoint_url=spec["endpoint"],
        aws_access_key_id="test", aws_secret_access_key="test",
        config=botocore.config.Config(inject_host_prefix=False, retries={"mode": "standard", "max_attempts": 12}))
    waiter = client.get_waiter("read_set_activation_job_completed")
    ids = sorted(spec["ids"])
    started = time.monotonic()
    for i in range(0, len(ids), 20):
        job = client.start_read_set_activation_job(
            sequenceStoreId=spec["store"], clientToken=f"naive-{i}",
            sources=[{"readSetId": rid} for rid in ids[i:i + 20]])
        waiter.wait(sequenceStoreId=spec["store"], id=job["id"],
                    WaiterConfig={"Delay": 30.0 / k, "MaxAttempts": 1000})
    ended = time.monotonic()
    return {"started_mono_s": started, "ended_mono_s": ended, "jobs": (len(ids) + 19) // 20, "all_active": True}


def main() -> None:
    mode, path = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as fh:
        spec = json.load(fh)
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    result = {"provider": _provider, "naive": _naive}[mode](spec)
    result["maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result["cpu_s"] = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
