"""The least-privilege IAM policy ReadSetActivation needs (design.md section 3)."""

from __future__ import annotations

from typing import Any, Optional

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
    """
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
