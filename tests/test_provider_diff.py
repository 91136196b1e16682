"""planning.plan_diff, the pure decision behind ReadSetActivationProvider.diff: one table.

The engine side (unknowns as the SDK's server delivers them, previews, replaces) is in
test_engine_lifecycle.py and test_provider_region.py.
"""

from __future__ import annotations

import pytest
from pulumi.output import Unknown

from omics_dynamic.planning import DiffPlan, plan_diff, validate_inputs
from omics_dynamic.provider import _has_unknown

IDS = ["1000000001", "1000000002"]
NEWS, _ = validate_inputs({"sequence_store_id": "1234567890", "read_set_ids": IDS, "resource_name": "c"})
OLDS = {**NEWS, "region": "us-east-1", "not_active_read_set_statuses": {}, "activation_count": 1}

# (case, olds overrides, news overrides, new effective region, expected plan)
CASES = [
    ("nothing changed: live check", {}, {}, "us-east-1",
     DiffPlan((), (), True, "us-east-1")),
    ("nothing changed, live check off", {"check_live_status": False}, {"check_live_status": False}, "us-east-1",
     DiffPlan((), (), False, "us-east-1")),
    ("store changed", {}, {"sequence_store_id": "1234567899"}, "us-east-1",
     DiffPlan(("sequence_store_id",), ("sequence_store_id changed (1234567890 -> 1234567899)",))),
    ("aws:region moved", {}, {}, "us-west-2",
     DiffPlan(("region",), ("region changed (us-east-1 -> us-west-2, from the provider configuration)",))),
    ("region input names another region", {}, {"region": "eu-west-1"}, "eu-west-1",
     DiffPlan(("region",), ("region changed (us-east-1 -> eu-west-1, from the region input)",))),
    ("region input names the recorded region", {}, {"region": "us-east-1"}, "us-east-1",
     DiffPlan((), (), True, "us-east-1")),
    ("no region can be told now: stays", {}, {}, None,
     DiffPlan((), (), True, "us-east-1")),
    ("state without a recorded region: no replace", {"region": None}, {}, "us-west-2",
     DiffPlan((), (), True, "us-west-2")),
    ("unknown store and region", {}, {"sequence_store_id": Unknown(), "region": Unknown()}, None,
     DiffPlan(("sequence_store_id", "region"), ("sequence_store_id may change (not known yet)",
                                                 "region may change (not known yet)"))),
    ("read sets changed", {}, {"read_set_ids": IDS + ["1000000003"]}, "us-east-1",
     DiffPlan((), ("read_set_ids changed",), False, "us-east-1")),
    ("an unknown read set", {}, {"read_set_ids": [IDS[0], Unknown()]}, "us-east-1",
     DiffPlan((), ("read_set_ids may change (not known yet)",), False, "us-east-1")),
    ("unknown timeout: update, no live check (a preview with unknowns calls no AWS)", {},
     {"timeout_seconds": Unknown()}, "us-east-1",
     DiffPlan((), ("timeout_seconds may change (not known yet)",), False, "us-east-1")),
    ("unknown max_concurrent_jobs: same", {}, {"max_concurrent_jobs": Unknown()}, "us-east-1",
     DiffPlan((), ("max_concurrent_jobs may change (not known yet)",), False, "us-east-1")),
    ("tuning changed: still asks live", {}, {"timeout_seconds": 60}, "us-east-1",
     DiffPlan((), ("timeout_seconds changed",), True, "us-east-1")),
    ("refresh recorded ARCHIVED", {"not_active_read_set_statuses": {IDS[1]: "ARCHIVED"}}, {}, "us-east-1",
     DiffPlan((), ("1 read set(s) not ACTIVE in state (e.g. 1000000002)",), False, "us-east-1")),
    ("older state: full statuses map", {"not_active_read_set_statuses": None,
                                        "read_set_statuses": {IDS[0]: "ACTIVE", IDS[1]: "ARCHIVED"}}, {},
     "us-east-1", DiffPlan((), ("1 read set(s) not ACTIVE in state (e.g. 1000000002)",), False, "us-east-1")),
    ("__provider and resource_name ignored", {"__provider": "old", "resource_name": "x"},
     {"__provider": "new"}, "us-east-1", DiffPlan((), (), True, "us-east-1")),
]


@pytest.mark.parametrize("case,olds,news,region,expected", CASES, ids=[c[0] for c in CASES])
def test_plan_diff(case, olds, news, region, expected):
    old = {k: v for k, v in {**OLDS, **olds}.items() if v is not None or k == "region"}
    assert plan_diff(old, {**NEWS, **news}, new_region=region, has_unknown=_has_unknown) == expected
