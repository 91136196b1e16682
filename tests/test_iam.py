"""iam_policy's argument checks (the policy's content is tested in test_security.py)."""

from __future__ import annotations

import pytest

from omics_dynamic import iam_policy


@pytest.mark.parametrize("kwargs,message", [
    ({"sequence_store_id": "abc"}, "sequence_store_id must be 10 to 36 digits, got 'abc'"),
    ({"sequence_store_id": "1234567890", "region": "mars"}, "region must be an AWS Region name"),
    ({"sequence_store_id": "1234567890", "account_id": "x"}, "account_id must be 12 digits"),
])
def test_bad_arguments_name_the_argument(kwargs, message):
    with pytest.raises(ValueError, match=message):
        iam_policy(**kwargs)


def test_policy_for_a_store_region_and_account():
    policy = iam_policy("1234567890", "eu-west-1", "111122223333")
    assert policy["Statement"][0]["Resource"] == [
        "arn:aws:omics:eu-west-1:111122223333:sequenceStore/1234567890",
        "arn:aws:omics:eu-west-1:111122223333:sequenceStore/1234567890/readSet/*",
    ]
