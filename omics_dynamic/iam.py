"""The least-privilege IAM policy ReadSetActivation needs (design.md section 3)."""

from __future__ import annotations

import re
from typing import Any, Optional

from .planning import ID_PATTERN, REGION_PATTERN

#: An AWS account ID: 12 digits.
ACCOUNT_ID_PATTERN = re.compile(r"[0-9]{12}")

__all__ = ["iam_policy", "REQUIRED_ACTIONS"]

#: Every HealthOmics action the provider calls: create/update (status discovery, adoption
#: of in-flight jobs, starting and watching jobs), diff's live check and refresh.
REQUIRED_ACTIONS = (
    "omics:GetReadSetActivationJob",
    "omics:GetReadSetMetadata",
    "omics:ListReadSetActivationJobs",
    "omics:ListReadSets",
    "omics:StartReadSetActivationJob",
)


def iam_policy(sequence_store_id: str, region: Optional[str] = None,
               account_id: Optional[str] = None) -> dict[str, Any]:
    """The IAM policy document (a dict, ``json.dumps`` it) the provider needs.

    :param sequence_store_id: the store's ID; the policy covers the store and its read sets.
    :param region: AWS Region, or None for any (``*``).
    :param account_id: 12-digit account ID, or None for any (``*``).
    :returns: ``{"Version": "2012-10-17", "Statement": [...]}`` allowing
        :data:`REQUIRED_ACTIONS` on ``arn:aws:omics:REGION:ACCOUNT:sequenceStore/STORE``
        and ``.../readSet/*``, nothing else.
    :raises ValueError: naming the argument, for a store ID that is not 10-36 digits, a
        malformed region or an account ID that is not 12 digits.
    """
    if not isinstance(sequence_store_id, str) or not ID_PATTERN.fullmatch(sequence_store_id):
        raise ValueError(f"sequence_store_id must be 10 to 36 digits, got {sequence_store_id!r}")
    if region is not None and (not isinstance(region, str) or not REGION_PATTERN.fullmatch(region)):
        raise ValueError(f"region must be an AWS Region name such as 'us-east-1' (or None for any), got {region!r}")
    if account_id is not None and (not isinstance(account_id, str) or not ACCOUNT_ID_PATTERN.fullmatch(account_id)):
        raise ValueError(f"account_id must be 12 digits (or None for any), got {account_id!r}")
    arn = f"arn:aws:omics:{region or '*'}:{account_id or '*'}:sequenceStore/{sequence_store_id}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "OmicsDynamicReadSetActivation",
                "Effect": "Allow",
                "Action": list(REQUIRED_ACTIONS),
                "Resource": [arn, f"{arn}/readSet/*"],
            }
        ],
    }
