"""Measure the emulator at store scale: creating a large store and paging through it.

``python bench/emulator_scale.py [--read-sets 1000000] [--archived 1000] [--small 10000]
[--pages 20]``

For each store size (``--small`` and ``--read-sets``; ``--archived`` of them ARCHIVED,
spread through the store, the rest ACTIVE) in a fresh in-process emulator (manual
clock, no rate limit), it measures:

* ``create_s``: ``Emulator.create_store(generate={"ACTIVE": n - a, "ARCHIVED": a})``;
* ``index_s``: the first ListReadSets call, which builds the store's listing index;
* ``rss_mb``: resident memory added by the store, after the index is built (Linux
  ``/proc/self/statm``);
* per ListReadSets page of 100 (median and max, milliseconds), walking ``--pages``
  pages: ``backend`` (``Backend.call``: the emulator's own cost) and ``wire`` (boto3
  over loopback HTTP: what a client sees), unfiltered and with ``filter.status =
  ARCHIVED`` (every ARCHIVED read set, ``archived / 100`` pages).

Prints one JSON line per store size, then the ratios large/small of the page costs
(about 1 when a page costs what the page holds, not what the store holds).
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from omics_emulator import Emulator


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def _walk(call: Any, store: str, flt: Optional[dict], pages: int) -> Dict[str, Any]:
    times_ms: List[float] = []
    token = None
    items = 0
    for _ in range(pages):
        params: Dict[str, Any] = {"sequenceStoreId": store, "maxResults": 100}
        if flt:
            params["filter"] = flt
        if token:
            params["nextToken"] = token
        start = time.perf_counter()
        out = call(params)
        times_ms.append((time.perf_counter() - start) * 1000)
        items += len(out["readSets"])
        token = out.get("nextToken")
        if not token:
            break
    return {"pages": len(times_ms), "items": items, "median_ms": round(statistics.median(times_ms), 3),
            "max_ms": round(max(times_ms), 3)}


def measure(n: int, archived: int, pages: int) -> Dict[str, Any]:
    """One store size: see the module docstring."""
    gc.collect()
    rss0 = _rss_mb()
    with Emulator(manual_clock=True, rate_limit=0) as emu:
        start = time.perf_counter()
        store = emu.create_store(name=f"scale-{n}", generate={"ACTIVE": n - archived, "ARCHIVED": archived})
        create_s = time.perf_counter() - start
        backend = emu.backend
        start = time.perf_counter()
        backend.call("ListReadSets", {"sequenceStoreId": store, "maxResults": 1})
        index_s = time.perf_counter() - start
        rss_mb = _rss_mb() - rss0
        client = emu.client()

        def wire(params: Dict[str, Any]) -> Dict[str, Any]:
            return client.list_read_sets(**params)

        def direct(params: Dict[str, Any]) -> Dict[str, Any]:
            return backend.call("ListReadSets", params)

        result = {
            "read_sets": n, "archived": archived, "create_s": round(create_s, 2), "index_s": round(index_s, 2),
            "rss_mb": round(rss_mb), "bytes_per_read_set": round(rss_mb * 2**20 / n),
            "backend_all": _walk(direct, store, None, pages),
            "backend_archived": _walk(direct, store, {"status": "ARCHIVED"}, pages),
            "wire_all": _walk(wire, store, None, pages),
            "wire_archived": _walk(wire, store, {"status": "ARCHIVED"}, pages),
        }
        assert result["backend_archived"]["items"] == min(archived, 100 * pages)
    return result


def main(argv: Optional[List[str]] = None) -> int:
    """Run and print; returns 0."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--read-sets", type=int, default=1_000_000, help="the large store (default 1,000,000)")
    parser.add_argument("--small", type=int, default=10_000, help="the small store, for the ratios (default 10,000)")
    parser.add_argument("--archived", type=int, default=1_000, help="ARCHIVED read sets in each store (default 1,000)")
    parser.add_argument("--pages", type=int, default=20, help="pages walked per listing (default 20)")
    args = parser.parse_args(argv)
    results = [measure(n, args.archived, args.pages) for n in (args.small, args.read_sets)]
    for r in results:
        print(json.dumps(r))
    small, large = results
    for key in ("backend_all", "backend_archived", "wire_all", "wire_archived"):
        print(f"{key}: median page {large[key]['median_ms']} ms at {large['read_sets']:,} read sets vs "
              f"{small[key]['median_ms']} ms at {small['read_sets']:,}: ratio "
              f"{large[key]['median_ms'] / max(small[key]['median_ms'], 1e-9):.2f}")
    print(f"create {large['read_sets']:,} read sets: {large['create_s']} s, index {large['index_s']} s, "
          f"{large['rss_mb']} MB ({large['bytes_per_read_set']} bytes per read set)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
