"""Pure planning: input validation, classification, chunking, tokens (no IO)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omics_dynamic.errors import InvalidInputError
from omics_dynamic.planning import (
    MAX_SOURCES_PER_JOB,
    ActivationInputs,
    chunk,
    classify,
    client_token,
    resource_id,
    validate_inputs,
)

GOOD = {"sequence_store_id": "1234567890", "read_set_ids": ["2000000002", "2000000001", "2000000002"]}


def test_valid_inputs_are_normalised_with_defaults():
    out, failures = validate_inputs(GOOD)
    assert failures == []
    assert out == {
        "sequence_store_id": "1234567890",
        "read_set_ids": ["2000000001", "2000000002"],
        "region": None,
        "timeout_seconds": 21600,
        "max_concurrent_jobs": 20,
        "check_live_status": True,
        "resource_name": "read-set-activation",
    }


def test_numbers_arriving_as_floats_from_protobuf_are_accepted():
    out, failures = validate_inputs({**GOOD, "timeout_seconds": 3600.0, "max_concurrent_jobs": 5.0})
    assert failures == []
    assert out["timeout_seconds"] == 3600 and isinstance(out["timeout_seconds"], int)
    assert out["max_concurrent_jobs"] == 5 and isinstance(out["max_concurrent_jobs"], int)


def test_unknown_values_pass_through_untouched():
    unknown = object()
    news = {"sequence_store_id": unknown, "read_set_ids": ["2000000001", unknown], "timeout_seconds": unknown}
    out, failures = validate_inputs(news, is_unknown=lambda v: v is unknown)
    assert failures == []
    assert out["sequence_store_id"] is unknown
    assert out["read_set_ids"] == ["2000000001", unknown]
    assert out["timeout_seconds"] is unknown


def test_from_props_raises_invalid_input_error_naming_the_field():
    with pytest.raises(InvalidInputError, match="sequence_store_id: must contain only the ASCII digits"):
        ActivationInputs.from_props({**GOOD, "sequence_store_id": "store-1"})


def test_classify_uses_one_status_table():
    plan = classify({"1": "ARCHIVED", "2": "ACTIVE", "3": "ACTIVATING", "4": "PROCESSING_UPLOAD",
                     "5": "DELETED", "6": None, "7": "UPLOAD_FAILED", "8": "DELETING", "9": "WEIRD"})
    assert plan.activate == ["1"]
    assert plan.active == ["2"]
    assert plan.wait == ["3", "4", "9"]  # a status nobody documented: not there yet
    assert plan.unusable == {"5": "DELETED", "6": "NOT_FOUND", "7": "UPLOAD_FAILED", "8": "DELETING"}


def test_chunk_sizes_for_1_20_21_and_1001():
    ids = [f"{i:010d}" for i in range(1001)]
    assert [len(c) for c in chunk(ids[:1])] == [1]
    assert [len(c) for c in chunk(ids[:20])] == [20]
    assert [len(c) for c in chunk(ids[:21])] == [20, 1]
    sizes = [len(c) for c in chunk(ids)]
    assert len(sizes) == 51 and sizes[-1] == 1 and set(sizes[:-1]) == {20}


def test_chunk_rejects_sizes_over_the_api_bound():
    with pytest.raises(ValueError, match="chunk size must be 1 to 20"):
        chunk(["1234567890"], size=21)


def test_client_token_fits_the_api_shape_and_each_attempt_has_its_own():
    token = client_token("1234567890", ["2000000001"], "cohort/create")
    assert 1 <= len(token) <= 127
    assert token == client_token("1234567890", ["2000000001"], "cohort/create", attempt=1)
    assert token != client_token("1234567890", ["2000000001"], "cohort/create", attempt=2)


def test_resource_id_is_stable_and_depends_on_name_store_region():
    a = resource_id("cohort", "1234567890", None)
    assert a == resource_id("cohort", "1234567890", None)
    assert a.startswith("rsa-1234567890-")
    assert a != resource_id("cohort", "1234567890", "eu-west-1")
    assert a != resource_id("other", "1234567890", None)


ids_strategy = st.lists(st.from_regex(r"[0-9]{10,12}", fullmatch=True), min_size=0, max_size=300)


@settings(max_examples=200, deadline=None)
@given(ids=ids_strategy, statuses=st.data())
def test_chunks_cover_every_archived_id_exactly_once(ids, statuses):
    status_of = {rid: statuses.draw(st.sampled_from(["ARCHIVED", "ACTIVE", "ACTIVATING", "DELETED"]))
                 for rid in ids}
    plan = classify(status_of)
    chunks = chunk(plan.activate)
    flat = [rid for c in chunks for rid in c]
    assert sorted(flat) == sorted(rid for rid, s in status_of.items() if s == "ARCHIVED")
    assert len(flat) == len(set(flat))
    assert all(1 <= len(c) <= MAX_SOURCES_PER_JOB for c in chunks)


@settings(max_examples=200, deadline=None)
@given(a=ids_strategy.filter(bool), b=ids_strategy.filter(bool), gen=st.text(min_size=1, max_size=20))
def test_tokens_stable_for_same_input_and_distinct_for_different(a, b, gen):
    assert client_token("1234567890", a, gen) == client_token("1234567890", list(reversed(a)), gen)
    if set(a) != set(b):
        assert client_token("1234567890", a, gen) != client_token("1234567890", b, gen)
    assert client_token("1234567890", a, gen) != client_token("1234567890", a, gen + "x")
    assert client_token("1234567890", a, gen) != client_token("1234567899", a, gen)


@pytest.mark.parametrize("timeout", [math.nan, math.inf, -1, 0, 10**9])
def test_timeouts_out_of_range_name_the_value(timeout):
    _, failures = validate_inputs({**GOOD, "timeout_seconds": timeout})
    assert [f[0] for f in failures] == ["timeout_seconds"]
    assert repr(timeout) in failures[0][1]
