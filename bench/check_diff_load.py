"""Check and Diff with live lookups, from several threads, through the SDK's provider server.

What one provider process costs when the engine sends it many Check/Diff RPCs at once
(a stack of many ReadSetActivations with ``check_live_status``): each Check of a new
resource and each Diff of an all-ACTIVE one makes a live status lookup against the
emulator (real time, no rate limit). ``--threads`` client threads each send ``--rounds``
Check and Diff pairs; the figures are the wall time in all, the mean per RPC, and the
provider process's CPU seconds (user + system, from ``/proc``) spent on them.

``python bench/check_diff_load.py [--threads 8] [--rounds 12] [--read-sets 20] [--json]``
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (Linux ``/proc/<pid>/stat``)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(threads: int, rounds: int, read_sets: int) -> dict:
    from google.protobuf import struct_pb2
    from pulumi.dynamic.dynamic import serialize_provider
    from pulumi.runtime.proto import provider_pb2

    from omics_dynamic.provider import ReadSetActivationProvider
    from omics_dynamic_testing import ProviderServer
    from omics_dynamic_testing._wire import from_struct, to_struct
    from omics_emulator import Emulator

    env = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
    os.environ.update(env)
    with Emulator(rate_limit=0, queue_seconds=0, activation_seconds=1) as emu:
        store = emu.create_store(read_sets=["ACTIVE"] * read_sets)
        ids = sorted(emu.read_set_statuses(store))
        cfg = {"aws:region": "us-east-1", "omics-dynamic:endpoint": emu.endpoint_url,
               "omics-dynamic:rateLimit": "0"}
        config = struct_pb2.Struct()
        config.update(cfg)
        provider = serialize_provider(ReadSetActivationProvider())
        user = {"sequence_store_id": store, "read_set_ids": ids, "resource_name": "cohort",
                "check_live_status": True, "__provider": provider}
        urn = "urn:pulumi:dev::bench::pulumi-python:dynamic/omics:ReadSetActivation::cohort"
        with ProviderServer(ROOT, env=env) as server:
            server.stub.Configure(provider_pb2.ConfigureRequest(variables=cfg, args=config))
            checked = server.stub.Check(provider_pb2.CheckRequest(
                urn=urn, olds=to_struct({}, send_secrets=False), news=to_struct(user, send_secrets=False)))
            inputs, _ = from_struct(checked.inputs)
            created = server.stub.Create(provider_pb2.CreateRequest(
                urn=urn, properties=to_struct(inputs, send_secrets=False)))
            outs, _ = from_struct(created.properties)
            check_req = provider_pb2.CheckRequest(urn=urn, olds=to_struct({}, send_secrets=False),
                                                  news=to_struct(user, send_secrets=False))
            diff_req = provider_pb2.DiffRequest(id=created.id, urn=urn, olds=to_struct(outs, send_secrets=False),
                                                news=to_struct(inputs, send_secrets=False))
            errors: list[str] = []
            times: list[float] = []
            lock = threading.Lock()

            def worker() -> None:
                for _ in range(rounds):
                    for call, req in ((server.stub.Check, check_req), (server.stub.Diff, diff_req)):
                        t0 = time.perf_counter()
                        try:
                            resp = call(req, timeout=600)
                        except Exception as err:  # reported in the figures
                            with lock:
                                errors.append(f"{type(err).__name__}: {err}"[:200])
                            continue
                        with lock:
                            times.append(time.perf_counter() - t0)
                        if isinstance(resp, provider_pb2.DiffResponse):
                            assert resp.changes == provider_pb2.DiffResponse.DIFF_NONE, resp

            emu.reset_counters()
            cpu0 = _cpu_s(server.process.pid)
            t0 = time.perf_counter()
            pool = [threading.Thread(target=worker) for _ in range(threads)]
            for t in pool:
                t.start()
            for t in pool:
                t.join()
            wall_s = time.perf_counter() - t0
            cpu_s = _cpu_s(server.process.pid) - cpu0
            calls = sum(emu.calls.values())
    rpcs = threads * rounds * 2
    return {"threads": threads, "rounds": rounds, "read_sets": read_sets, "rpcs": rpcs,
            "wall_s": round(wall_s, 2), "mean_rpc_s": round(sum(times) / max(1, len(times)), 3),
            "provider_cpu_s": round(cpu_s, 2), "provider_cpu_per_rpc_s": round(cpu_s / rpcs, 3),
            "aws_calls": calls, "errors": len(errors), "first_error": errors[0] if errors else None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=12)
    ap.add_argument("--read-sets", type=int, default=20)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    r = measure(args.threads, args.rounds, args.read_sets)
    if args.json:
        print(json.dumps(r))
        return
    print(f"{r['threads']} threads x {r['rounds']} rounds of Check+Diff ({r['rpcs']} RPCs, live lookups of "
          f"{r['read_sets']} read sets): {r['wall_s']} s wall, {r['mean_rpc_s']} s mean per RPC, provider CPU "
          f"{r['provider_cpu_s']} s ({r['provider_cpu_per_rpc_s']} s per RPC), {r['aws_calls']} AWS calls, "
          f"{r['errors']} errors" + (f" (first: {r['first_error']})" if r["errors"] else ""))


if __name__ == "__main__":
    main()
