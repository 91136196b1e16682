"""Measure the emulator's throughput: requests/s sustained with N concurrent boto3 clients.

``python bench/emulator_throughput.py [--clients 8] [--requests 3000] [--max-seconds 30]
[--in-process]``

By default the emulator runs as a separate process (``python -m omics_emulator
--port 0 --rate-limit 0 --quiet``) so the server and the clients each get a core, as
when the provider runs against it; ``--in-process`` shares one interpreter (and GIL).
Each client thread owns one boto3 client and calls GetReadSetMetadata on the cohort
seed. Bounded: at most ``--requests`` calls and ``--max-seconds`` of wall time;
loopback only. Prints one JSON line with the figure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time

import boto3
import botocore.config

from omics_emulator import COHORT_STORE_ID, Emulator


def _run_clients(url: str, clients: int, total: int, max_seconds: float) -> dict:
    session_kwargs = dict(region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
    config = botocore.config.Config(inject_host_prefix=False, retries={"max_attempts": 1}, max_pool_connections=2)
    made = [boto3.session.Session().client("omics", endpoint_url=url, config=config, **session_kwargs) for _ in range(clients)]
    ids = [rs["id"] for rs in made[0].list_read_sets(sequenceStoreId=COHORT_STORE_ID, maxResults=50)["readSets"]]
    counter = {"ok": 0, "errors": 0}
    lock = threading.Lock()
    deadline = time.monotonic() + max_seconds
    per_client = total // clients

    def work(client, k: int) -> None:
        ok = errors = 0
        for i in range(per_client):
            if time.monotonic() > deadline:
                break
            try:
                client.get_read_set_metadata(sequenceStoreId=COHORT_STORE_ID, id=ids[(i + k) % len(ids)])
                ok += 1
            except Exception:  # counted, not raised: the figure includes failures
                errors += 1
        with lock:
            counter["ok"] += ok
            counter["errors"] += errors

    threads = [threading.Thread(target=work, args=(c, k)) for k, c in enumerate(made)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed_s = time.perf_counter() - start
    return {"requests": counter["ok"], "errors": counter["errors"], "elapsed_s": round(elapsed_s, 3),
            "requests_per_s": round(counter["ok"] / elapsed_s, 1)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--requests", type=int, default=3000)
    p.add_argument("--max-seconds", type=float, default=30.0)
    p.add_argument("--in-process", action="store_true")
    args = p.parse_args()
    if args.in_process:
        with Emulator(seed="cohort", rate_limit=0) as emu:
            result = _run_clients(emu.endpoint_url, args.clients, args.requests, args.max_seconds)
    else:
        proc = subprocess.Popen(
            [sys.executable, "-m", "omics_emulator", "--port", "0", "--rate-limit", "0", "--quiet"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        try:
            url = proc.stdout.readline().strip()
            result = _run_clients(url, args.clients, args.requests, args.max_seconds)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    result.update(clients=args.clients, mode="in-process" if args.in_process else "subprocess", cpus=os.cpu_count())
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
