"""State bytes per read set, and Check/Diff of N read sets through the SDK's provider server.

What a ReadSetActivation of N read sets puts in the stack's state, and what the engine's
Check and Diff of it cost, measured on the provider's real outputs (not hand-written ones):

- State bytes: the inputs the engine stores plus the outputs create/update return, as
  compact JSON per read set, the way the DIY backends write checkpoints
  (``compactJSONMarshaler`` in pulumi/pulumi ``pkg/backend/diy/state.go``). Two moments: after
  a create that activated all N (``create``), and after an update that re-activated 25
  (``steady``). 10-digit IDs.
- Check and Diff: raw RPCs to ``python -m pulumi.dynamic`` with requests encoded beforehand
  (the engine is a Go program; Python-side encoding is not what a user waits for), best of
  ``--repeats``, no live check; Diff's olds are the ``steady`` outputs and answer no change.

Works on this version and on earlier ones (it builds outputs with whatever the checkout
has: ``omics_dynamic.outputs.stored_outputs``, else ``provider._outputs``), so the same
script gives before/after figures: ``python bench/state_rpc.py`` in each checkout.

``python bench/state_rpc.py [--n 100000] [--repeats 5] [--json]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def _result(ids, activated, already):
    from omics_dynamic.activation import ActivationResult

    jobs = [str(2_000_000_000 + i) for i in range((len(activated) + 19) // 20)]
    result = ActivationResult(
        job_ids=jobs, started_job_ids=jobs, adopted_job_ids=[], found_job_ids=[],
        activated_by_jobs_read_set_ids=list(activated), activated_without_job_read_set_ids=[],
        already_active_read_set_ids=list(already), read_set_statuses={r: "ACTIVE" for r in ids},
        activated_at="2026-01-01T00:00:00Z", calls=Counter())
    for name, value in (("store_arn", "arn:aws:omics:us-east-1:123456789012:sequenceStore/1234567890"),
                        ("activated_base_count", 7_500_000_000 * len(activated))):
        if not hasattr(result, name):
            try:
                object.__setattr__(result, name, value)
            except AttributeError:
                pass
    return result


def outputs_of(inputs, result, count):
    """The outputs this checkout's create/update return for ``result``."""
    import dataclasses

    try:
        from omics_dynamic.outputs import stored_outputs
    except ImportError:  # before omics_dynamic/outputs.py existed
        from omics_dynamic.provider import _outputs

        return _outputs(inputs, result, activation_count=count)
    return stored_outputs(dataclasses.replace(inputs, region="us-east-1"), result, activation_count=count)


def time_check_and_diff(check_req, diff_req, repeats: int) -> tuple[float, float]:
    """Send ``check_req`` and ``diff_req`` (encoded beforehand) to a fresh provider server
    ``repeats`` times; the best Check and Diff times, seconds, rounded to milliseconds.
    Check must answer no failure and Diff no change (AssertionError otherwise)."""
    from google.protobuf import struct_pb2
    from pulumi.runtime.proto import provider_pb2

    from omics_dynamic_testing import ProviderServer

    config = struct_pb2.Struct()
    config.update({"aws:region": "us-east-1"})
    check_s, diff_s = [], []
    with ProviderServer(ROOT, env={"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}) as server:
        server.stub.Configure(provider_pb2.ConfigureRequest(variables={"aws:region": "us-east-1"}, args=config))
        for _ in range(repeats):
            t0 = time.perf_counter()
            resp = server.stub.Check(check_req)
            check_s.append(time.perf_counter() - t0)
            assert not resp.failures, resp.failures
            t0 = time.perf_counter()
            diff = server.stub.Diff(diff_req)
            diff_s.append(time.perf_counter() - t0)
            assert diff.changes == provider_pb2.DiffResponse.DIFF_NONE, diff
    return round(min(check_s), 3), round(min(diff_s), 3)


def measure(n: int, repeats: int) -> dict:
    from pulumi.dynamic.dynamic import serialize_provider
    from pulumi.runtime.proto import provider_pb2

    import omics_dynamic
    from omics_dynamic.planning import ActivationInputs
    from omics_dynamic.provider import ReadSetActivationProvider
    from omics_dynamic_testing._wire import to_struct

    ids = [str(1_000_000_000 + 7 * i) for i in range(n)]
    provider = serialize_provider(ReadSetActivationProvider())
    user = {"sequence_store_id": "1234567890", "read_set_ids": ids, "resource_name": "cohort",
            "check_live_status": False}
    checked = ReadSetActivationProvider().check({}, user).inputs
    stored_inputs = {k: v for k, v in checked.items() if not k.startswith("__")}
    inputs = ActivationInputs.from_props(checked)
    created = outputs_of(inputs, _result(ids, ids, []), 1)
    steady = outputs_of(inputs, _result(ids, ids[:25], ids[25:]), 2)

    def per_read_set(outs):
        return round(len(json.dumps([stored_inputs, outs], separators=(",", ":"))) / n, 1)

    urn = "urn:pulumi:dev::bench::pulumi-python:dynamic/omics:ReadSetActivation::cohort"
    check_req = provider_pb2.CheckRequest(urn=urn, olds=to_struct(stored_inputs, send_secrets=False),
                                          news=to_struct({**user, "__provider": provider}, send_secrets=False))
    diff_req = provider_pb2.DiffRequest(id="rsa", urn=urn,
                                        olds=to_struct({**steady, "__provider": provider}, send_secrets=False),
                                        news=to_struct({**checked, "__provider": provider}, send_secrets=False))
    check_s, diff_s = time_check_and_diff(check_req, diff_req, repeats)
    return {
        "checkout": os.path.dirname(os.path.dirname(omics_dynamic.__file__)),
        "n": n,
        "state_bytes_per_read_set": {"create": per_read_set(created), "steady": per_read_set(steady)},
        "output_keys": sorted(steady),
        "check_s": check_s,
        "diff_s": diff_s,
        "repeats": repeats,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    r = measure(args.n, args.repeats)
    if args.json:
        print(json.dumps(r))
        return
    print(f"{r['checkout']}: N={r['n']:,}: state {r['state_bytes_per_read_set']['create']} B per read set "
          f"after create, {r['state_bytes_per_read_set']['steady']} B steady; through the provider server "
          f"Check {r['check_s'] * 1000:.0f} ms, Diff {r['diff_s'] * 1000:.0f} ms (best of {r['repeats']})")


if __name__ == "__main__":
    main()
