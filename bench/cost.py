"""Cost of status lookups at full size (README "Performance" targets), measured against the emulator.

Each scenario builds a store (``Emulator.create_store(generate=...)``: IDs in creation
order, so the unfiltered listing's order is the IDs' order), requests a cohort, and runs
the real code paths: diff's live check (``ReadSetActivationProvider.diff`` with
``check_live_status``, on an all-ACTIVE state) and create's status discovery
(``look_up_statuses`` in create's mode, as ``ActivationRun`` calls it). Calls are the
emulator's own counters. Beside them, each pure way's cost in hindsight, computed from the
store (a: unfiltered pages until the last requested read set, b: one listing per non-ACTIVE
status to its end (create's mode: then the unfiltered listing from its start or a read each
for the rest), k: one read per read set), and what the rule before the cost model cost
(unfiltered pages while fewer than the read sets still unknown, then one read each:
``old_rule_calls``, computed the same way).

``python bench/cost.py`` prints one JSON line per scenario; ``bench/run.py`` includes them.
"""

from __future__ import annotations

import json
import math
import os
import random
import sys
import time
from typing import Optional

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from omics_dynamic.costmodel import NON_ACTIVE_STATUSES  # noqa: E402 - after the sys.path entry above
from omics_emulator import Emulator  # noqa: E402 - after the sys.path entry above

PAGE = 100


def hindsight(order: list, statuses: dict, wanted: list, unseen_active: bool) -> dict:
    """Each pure way's calls, from the whole store (``order``: IDs in listing order)."""
    position = {rid: i for i, rid in enumerate(order)}
    last = max(position[r] for r in wanted)
    a = math.ceil((last + 1) / PAGE)
    counts = {s: 0 for s in NON_ACTIVE_STATUSES}
    for s in statuses.values():
        if s in counts:
            counts[s] += 1
    b = sum(max(1, math.ceil(n / PAGE)) for n in counts.values())
    if not unseen_active:
        rest = [position[r] for r in wanted if statuses[r] == "ACTIVE"]
        b += min(math.ceil((max(rest) + 1) / PAGE), len(rest)) if rest else 0
    return {"a": a, "b": b, "k": len(wanted)}


def old_rule_calls(order: list, wanted: list) -> int:
    """The rule before the cost model (``keep_listing``): unfiltered pages while fewer than
    the read sets still unknown, then GetReadSetMetadata for the rest."""
    want = set(wanted)
    unknown, pages = len(want), 0
    for start in range(0, len(order), PAGE):
        if not pages < unknown:
            break
        pages += 1
        unknown -= sum(1 for rid in order[start:start + PAGE] if rid in want)
        if unknown == 0:
            break
    return pages + unknown


def _provider(emu: Emulator):
    from pulumi.dynamic import ConfigureRequest
    from pulumi.dynamic.config import Config

    from omics_dynamic.provider import ReadSetActivationProvider

    os.environ.update(AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test", AWS_ENDPOINT_URL_OMICS=emu.endpoint_url)
    prov = ReadSetActivationProvider()
    prov.configure(ConfigureRequest(Config({"aws:region": "us-east-1", "omics-dynamic:rateLimit": "0"}, "bench")))
    return prov


def _api(emu: Emulator):
    from omics_dynamic.aws import MonotonicClock, OmicsApi, ProviderSettings, make_client

    client = make_client(ProviderSettings(endpoint_url=emu.endpoint_url), "us-east-1")
    return OmicsApi(client, MonotonicClock())


def scenario(name: str, generate: dict, pick, target: Optional[int] = None, modes=("live", "create")) -> list:
    """Build the store, pick the cohort (``pick(order, statuses) -> ids``), measure."""
    from omics_dynamic.activation import look_up_statuses
    from omics_dynamic.planning import validate_inputs

    rows = []
    with Emulator(manual_clock=True, rate_limit=0) as emu:
        t0 = time.perf_counter()
        store = emu.create_store(generate=generate)
        statuses = emu.read_set_statuses(store)
        order = sorted(statuses)  # generated read sets: creation order is ID order
        ids = sorted(pick(order, statuses))
        build_s = time.perf_counter() - t0
        for mode in modes:
            emu.reset_counters()
            t0 = time.perf_counter()
            if mode == "live":
                prov = _provider(emu)
                inputs, failures = validate_inputs({"sequence_store_id": store, "read_set_ids": ids,
                                                    "resource_name": "cohort", "check_live_status": True})
                assert not failures
                olds = {**inputs, "read_set_statuses": {rid: "ACTIVE" for rid in ids}}
                changes = prov.diff("rsa", olds, inputs).changes
                found = None
            else:
                found = look_up_statuses(_api(emu), store, ids)
                changes = None
                assert found.statuses == {rid: statuses[rid] for rid in ids}
            real_s = time.perf_counter() - t0
            calls = sum(emu.calls.values())
            ways = hindsight(order, statuses, ids, unseen_active=mode == "live")
            best = min(ways.values())
            rows.append({
                "scenario": name, "mode": mode, "store": len(statuses), "cohort": len(ids),
                "non_active_in_store": {s: n for s in NON_ACTIVE_STATUSES
                                        if (n := sum(1 for v in statuses.values() if v == s))},
                "calls": calls, "calls_by_operation": dict(emu.calls), "hindsight": ways,
                "ratio_to_best": round(calls / best, 3), "old_rule_calls": old_rule_calls(order, ids),
                "target_calls": target if mode == "live" else None,
                "met": (calls <= target) if (target is not None and mode == "live") else None,
                "diff_changes": changes, "lookup_calls_by_way": found.calls if found else None,
                "real_s": round(real_s, 2), "store_build_s": round(build_s, 2),
            })
    return rows


def all_scenarios(quick: bool = False) -> list:
    """The README's targets and a cohort spread over a larger store (1,000 IDs in a store of 10,000)."""
    rows: list = []
    rng = random.Random(14)

    def active(order, statuses):
        return [rid for rid in order if statuses[rid] == "ACTIVE"]

    rows += scenario("spread: 1,000 ACTIVE IDs spread over a store of 10,000 (all ACTIVE)",
                     {"ACTIVE": 10_000}, lambda o, s: rng.sample(o, 1000))
    rows += scenario("spread, with 1,000 ARCHIVED elsewhere in the store",
                     {"ACTIVE": 9_000, "ARCHIVED": 1_000}, lambda o, s: rng.sample(active(o, s), 1000))
    rows += scenario("small store: 100 read sets, all requested", {"ACTIVE": 90, "ARCHIVED": 10},
                     lambda o, s: list(o))
    if not quick:
        rows += scenario("target 1: all-ACTIVE cohort of 100,000 in a store of 100,000",
                         {"ACTIVE": 100_000}, lambda o, s: list(o), target=10)
        rows += scenario("target 2: the cohort of 100,000 in a store of 1,000,000 with 1,000 ARCHIVED elsewhere",
                         {"ACTIVE": 999_000, "ARCHIVED": 1_000},
                         lambda o, s: active(o, s)[200_000:300_000], target=20)
    return rows


def main() -> int:
    for row in all_scenarios(quick="--quick" in sys.argv):
        print(json.dumps(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
