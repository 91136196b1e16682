"""Bad input: every case is a CheckFailure naming the field and the value, and nothing
reaches HealthOmics.

One table, run twice: through ``ReadSetActivationProvider.check`` in process, and through
a preview with the engine-role harness (the SDK's real provider server; numbers arrive as
protobuf doubles there). The emulator must see no call at all, so certainly no
StartReadSetActivationJob.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omics_dynamic.errors import InvalidInputError
from omics_dynamic.planning import ActivationInputs, validate_inputs
from omics_dynamic.provider import ReadSetActivationProvider
from omics_dynamic_testing import CheckFailedError, EngineHarness, ResourceSpec
from omics_emulator import Emulator

PROJECT_DIR = Path(__file__).resolve().parent.parent
TYPE = "pulumi-python:dynamic/omics:ReadSetActivation"
GOOD = {"sequence_store_id": "1234567890", "read_set_ids": ["2000000001", "2000000002"],
        "resource_name": "cohort"}
OVER_LIMIT = [f"{i:010d}" for i in range(1_000_000_000, 1_000_100_001)]  # 100,001 IDs

# (case id, input overrides (None deletes the key), field named, text the reason must hold,
#  whether the case can cross the gRPC wire: protobuf numbers are doubles)
CASES = [
    ("id-letters", {"read_set_ids": ["12345abcde"]}, "read_set_ids", "'12345abcde'", True),
    ("id-hex", {"read_set_ids": ["0x12345678"]}, "read_set_ids", "ASCII digits", True),
    ("id-space", {"read_set_ids": ["12345 67890"]}, "read_set_ids", "'12345 67890'", True),
    ("id-trailing-newline", {"read_set_ids": ["1234567890\n"]}, "read_set_ids", "ASCII digits", True),
    ("id-plus-sign", {"read_set_ids": ["+1234567890"]}, "read_set_ids", "'+1234567890'", True),
    ("id-minus-sign", {"read_set_ids": ["-1234567890"]}, "read_set_ids", "'-1234567890'", True),
    ("id-arabic-indic-digits", {"read_set_ids": ["١٢٣٤٥٦٧٨٩٠"]}, "read_set_ids", "ASCII digits", True),
    ("id-fullwidth-digits", {"read_set_ids": ["１２３４５６７８９０"]}, "read_set_ids", "ASCII digits", True),
    ("id-zero-width-space", {"read_set_ids": ["1234567890\u200b"]}, "read_set_ids", "ASCII digits", True),
    ("id-path-segment", {"read_set_ids": ["../1234567890"]}, "read_set_ids", "'../1234567890'", True),
    ("id-too-short", {"read_set_ids": ["123456789"]}, "read_set_ids", "got 9 digits", True),
    ("id-too-long", {"read_set_ids": ["1" * 37]}, "read_set_ids", "got 37 digits", True),
    ("id-empty-string", {"read_set_ids": [""]}, "read_set_ids", "empty string", True),
    ("id-number", {"read_set_ids": [1234567890]}, "read_set_ids", "got int", False),
    ("id-null", {"read_set_ids": [None]}, "read_set_ids", "got NoneType None", True),
    ("id-nested-list", {"read_set_ids": [["1234567890"]]}, "read_set_ids", "got list", True),
    ("ids-one-bad-among-good", {"read_set_ids": ["2000000001", "20000x0002"]}, "read_set_ids", "[1]", True),
    ("ids-empty-list", {"read_set_ids": []}, "read_set_ids", "empty list", True),
    ("ids-over-100000", {"read_set_ids": OVER_LIMIT}, "read_set_ids", "100001 distinct IDs", True),
    ("ids-a-string", {"read_set_ids": "1234567890"}, "read_set_ids", "wrap a single ID in a list", True),
    ("ids-a-number", {"read_set_ids": 1234567890}, "read_set_ids", "got int", False),
    ("ids-a-map", {"read_set_ids": {"1234567890": True}}, "read_set_ids", "got dict", True),
    ("ids-missing", {"read_set_ids": None}, "read_set_ids", "is required", True),
    ("store-empty", {"sequence_store_id": ""}, "sequence_store_id", "empty string", True),
    ("store-missing", {"sequence_store_id": None}, "sequence_store_id", "is required", True),
    ("store-letters", {"sequence_store_id": "store-1234"}, "sequence_store_id", "'store-1234'", True),
    ("store-path", {"sequence_store_id": "../../1234567890"}, "sequence_store_id", "'../../1234567890'", True),
    ("store-number", {"sequence_store_id": 1234567890}, "sequence_store_id", "got int", False),
    ("store-too-short", {"sequence_store_id": "12345"}, "sequence_store_id", "got 5 digits", True),
    ("region-underscores", {"region": "us_east_1"}, "region", "'us_east_1'", True),
    ("region-upper-case", {"region": "US-EAST-1"}, "region", "'US-EAST-1'", True),
    ("region-url", {"region": "https://omics.us-east-1.amazonaws.com"}, "region", "'https://", True),
    ("region-number", {"region": 1}, "region", "got int 1", False),
    ("timeout-zero", {"timeout_seconds": 0}, "timeout_seconds", "got 0", True),
    ("timeout-negative", {"timeout_seconds": -60}, "timeout_seconds", "got -60", True),
    ("timeout-nan", {"timeout_seconds": math.nan}, "timeout_seconds", "got nan", True),
    ("timeout-infinite", {"timeout_seconds": math.inf}, "timeout_seconds", "got inf", True),
    ("timeout-absurd", {"timeout_seconds": 21_600_000}, "timeout_seconds", "at most 604800", True),
    ("timeout-beyond-float", {"timeout_seconds": 10**400}, "timeout_seconds", "at most 604800", False),
    ("timeout-string", {"timeout_seconds": "3600"}, "timeout_seconds", "got str '3600'", True),
    ("timeout-boolean", {"timeout_seconds": True}, "timeout_seconds", "got bool True", True),
    ("concurrency-zero", {"max_concurrent_jobs": 0}, "max_concurrent_jobs", "from 1 to 1000", True),
    ("concurrency-negative", {"max_concurrent_jobs": -3}, "max_concurrent_jobs", "got -3", True),
    ("concurrency-fractional", {"max_concurrent_jobs": 2.5}, "max_concurrent_jobs", "got float 2.5", True),
    ("concurrency-too-many", {"max_concurrent_jobs": 5000}, "max_concurrent_jobs", "got 5000", True),
    ("concurrency-nan", {"max_concurrent_jobs": math.nan}, "max_concurrent_jobs", "got float nan", True),
    ("concurrency-beyond-float", {"max_concurrent_jobs": 10**400}, "max_concurrent_jobs", "whole number", False),
    ("concurrency-string", {"max_concurrent_jobs": "5"}, "max_concurrent_jobs", "got str '5'", True),
    ("live-check-string-true", {"check_live_status": "true"}, "check_live_status", "got str 'true'", True),
    ("live-check-string-false", {"check_live_status": "false"}, "check_live_status", "got str 'false'", True),
    ("live-check-number", {"check_live_status": 1}, "check_live_status", "got int 1", False),
    ("name-empty", {"resource_name": ""}, "resource_name", "non-empty", True),
    ("name-too-long", {"resource_name": "n" * 201}, "resource_name", "201 characters", True),
    ("unknown-input-typo", {"read_set_id": ["2000000001"]}, "read_set_id",
     "unknown input 'read_set_id'; did you mean 'read_set_ids'?", True),
]
assert len(CASES) >= 25


def _news(overrides: dict) -> dict:
    news = dict(GOOD)
    for key, value in overrides.items():
        if value is None:
            news.pop(key, None)
        else:
            news[key] = value
    return news


def _by_field(failures) -> dict:
    """{field: reason} of check failures; a long input's failure names its field in the
    reason (``property <field>: ...``, provider.check_failure) instead of the property."""
    out = {}
    for prop, reason in failures:
        if not prop:
            prop, reason = re.fullmatch(r"property (\w+): (.*)", reason, re.S).groups()
        out[prop] = reason
    return out


@pytest.mark.parametrize("case,overrides,field,text,_wire", CASES, ids=[c[0] for c in CASES])
def test_check_names_the_field_and_value(emulator, case, overrides, field, text, _wire):
    result = ReadSetActivationProvider().check({}, _news(overrides))
    reasons = _by_field((f.property, f.reason) for f in result.failures)
    assert list(reasons) == [field], result.failures
    assert text in reasons[field]
    # The lifecycle methods refuse the same inputs (a program calling the provider directly);
    # from_props ignores keys that are not inputs (it also reads outputs), so a typo is
    # check's alone to report.
    if not case.startswith("unknown-input"):
        with pytest.raises(InvalidInputError) as err:
            ActivationInputs.from_props(_news(overrides))
        assert field in str(err.value)
    assert sum(emulator.calls.values()) == 0


def test_good_inputs_pass_so_the_table_tests_one_thing_at_a_time():
    assert validate_inputs(GOOD)[1] == []


def test_preview_through_the_provider_server_fails_each_case_before_any_aws_call(tmp_path):
    with Emulator(manual_clock=True, rate_limit=0) as emu:
        harness = EngineHarness(
            str(PROJECT_DIR), str(tmp_path / "state.json"), project="omics",
            config={"aws:region": "us-east-1", "omics-dynamic:endpoint": emu.endpoint_url},
            env={"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"},
            timeout_s=60,
        )
        wire_cases = [c for c in CASES if c[4]]
        specs = [ResourceSpec(case, TYPE, ReadSetActivationProvider(), _news(overrides))
                 for case, overrides, *_ in wire_cases]
        # The engine fails the preview at the first invalid resource; check_all makes the
        # harness check every case in one provider process before it fails the preview.
        with pytest.raises(CheckFailedError) as err:
            harness.preview(specs, check_all=True)
        result = err.value.result
        assert set(result.check_failures) == {case for case, *_ in wire_cases}
        for case, _overrides, field, text, _wire in wire_cases:
            failures = _by_field(result.check_failures.get(case, []))
            assert list(failures) == [field], (case, failures)
            assert text in failures[field], (case, failures[field])
        assert "Create" not in result.methods
        assert emu.calls["StartReadSetActivationJob"] == 0
        assert sum(emu.calls.values()) == 0
        assert emu.jobs() == []
        assert len(wire_cases) >= 25


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(list(GOOD) + ["region", "timeout_seconds", "max_concurrent_jobs",
                                                     "check_live_status", "extra"]), json_values))
def test_check_never_raises_and_every_failure_names_a_field(news):
    result = ReadSetActivationProvider().check({}, news)
    for field, reason in _by_field((f.property, f.reason) for f in result.failures).items():
        assert field and reason
        assert field in news or "required" in reason
    if not result.failures:
        ActivationInputs.from_props(result.inputs)  # what check accepts, the lifecycle accepts
