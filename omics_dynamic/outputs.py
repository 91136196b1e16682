"""ReadSetActivation's outputs: what the provider stores in state, and what the resource
class derives from it for dependents (pure functions, no IO).

Stored (returned by create/update/read, kept in the stack's state; :data:`OUTPUT_KEYS`
after the normalised inputs of :data:`~omics_dynamic.planning.INPUT_KEYS`):

- ``region``: the AWS Region the resource lives in, the one create really used (the
  ``region`` input, else ``aws:region``, else boto3's chain), as pulumi-aws v7 records
  ``region``; the input keeps its meaning (absent: the provider configuration decides).
- ``store_arn``: ``arn:aws:omics:<region>:<account>:sequenceStore/<id>``, as HealthOmics
  reported it; None where no listing or metadata call answered with an ARN.
- ``job_ids``: every activation job that worked on these read sets during the last create
  or update: started by it, adopted (in flight when it began, e.g. from an interrupted
  run) or found (created meanwhile by someone else, or by a start whose answer was lost).
- ``activated_read_set_ids``: read sets not ACTIVE when the last create or update began,
  sources of a job in ``job_ids``, ACTIVE at its end: what those jobs activated.
- ``activated_without_job_read_set_ids``: read sets not ACTIVE when it began (ACTIVATING
  under somebody else's job, or PROCESSING_UPLOAD), in no job of ``job_ids``, ACTIVE at
  its end.
- ``activated_base_count``: bases of ``activated_read_set_ids``, the sum of their
  ``sequenceInformation.totalBaseCount`` in HealthOmics' listing (0 for a read set it gives
  no count for), as a **string of decimal digits** (e.g. ``"9007199254740993"``): exact at
  any size. Numbers cross the Pulumi engine as float64 (protobuf ``Struct``
  ``number_value``), exact only up to 2**53 (about 9.0e15 bases); the README allows 100,000
  whole genomes, sums of 1e16-1e17 bases. ``int(activation.activated_base_count)`` gives
  the integer. State written by releases that stored a number is read as its decimal
  string (:func:`base_count_text`; a value past 2**53 was already rounded there).
- ``activated_gigabases``: the same sum in gigabases (1e9 bases), a number rounded to 3
  decimals (to the megabase): below 2**53 at every size the README allows, for arithmetic
  and display; the exact count is ``activated_base_count``.
- ``not_active_read_set_statuses``: read set ID -> status for the read sets whose last
  observed status (create, update or refresh) was not ACTIVE; empty after every create and
  update, filled by a refresh that finds read sets archived again.
- ``activated_at``: ISO-8601 UTC instant when the last create or update confirmed every read
  set ACTIVE.
- ``activation_count``: the re-run trigger (:func:`next_activation_count`).

Derived by :class:`~omics_dynamic.resource.ReadSetActivation` from the stored ones
(:data:`DERIVED_OUTPUT_KEYS`, functions below), so they travel to dependents by data flow
without a copy of the read set list per map in state:

- ``already_active_read_set_ids``: read sets ACTIVE when the last create or update began
  (:func:`already_active_ids`).
- ``read_set_statuses``: read set ID -> last observed status (:func:`statuses`).
- ``read_set_arns``: read set ID -> ARN (:func:`read_set_arns`).
- ``read_set_uris``: read set ID -> the URI a HealthOmics workflow run takes as input
  (:func:`read_set_uris`).
"""

from __future__ import annotations

import math
from typing import Any, Iterable, Mapping, Optional

from .planning import ActivationInputs, not_active_in_state

__all__ = [
    "OUTPUT_KEYS",
    "DERIVED_OUTPUT_KEYS",
    "LEGACY_OUTPUT_KEYS",
    "stored_outputs",
    "carried_outputs",
    "next_activation_count",
    "already_active_ids",
    "statuses",
    "read_set_arns",
    "read_set_uris",
    "parse_store_arn",
    "base_count_text",
    "gigabases",
]

#: Outputs the provider stores, after the normalised inputs.
OUTPUT_KEYS = (
    "store_arn",
    "endpoint_url",
    "job_ids",
    "activated_read_set_ids",
    "activated_without_job_read_set_ids",
    "activated_base_count",
    "activated_gigabases",
    "not_active_read_set_statuses",
    "activated_at",
    "activation_count",
)
#: Outputs the resource class derives from the stored ones.
DERIVED_OUTPUT_KEYS = ("already_active_read_set_ids", "read_set_statuses", "read_set_arns", "read_set_uris")
#: Stored by earlier versions, dropped from state at the next create, update or refresh
#: (their values are derived now: :data:`DERIVED_OUTPUT_KEYS`).
LEGACY_OUTPUT_KEYS = ("already_active_read_set_ids", "read_set_statuses")


def _plain_seconds(timeout: float) -> Any:
    return int(timeout) if math.isfinite(timeout) and float(timeout).is_integer() else timeout


def base_count_text(value: Any) -> str:
    """``activated_base_count`` as stored: the decimal digits of a whole number of bases.

    :param value: an int (the run's exact sum), a decimal string (state of this version), or
        a number (state of releases that stored one: a whole float is read as its integer,
        e.g. ``9007199254740992.0`` -> ``"9007199254740992"``); None or anything else
        (older state without the output) -> ``"0"``.
    :raises ValueError: for a negative count, a fractional or non-finite number, or a
        string that is not decimal digits (naming the value).
    """
    if value is None:
        return "0"
    if isinstance(value, bool):
        raise ValueError(f"activated_base_count must be a whole number of bases, got {value!r}")
    if isinstance(value, str):
        if not value.isascii() or not value.isdigit():
            raise ValueError(f"activated_base_count must be decimal digits, got {value[:40]!r}")
        return str(int(value))
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise ValueError(f"activated_base_count must be a whole number of bases, got {value!r}")
        value = int(value)
    if not isinstance(value, int) or value < 0:
        raise ValueError(f"activated_base_count must be a whole number of bases >= 0, got {value!r}")
    return str(value)


def gigabases(base_count: Any) -> float:
    """``activated_gigabases``: bases / 1e9 rounded to 3 decimals (exact integer arithmetic
    first, so ``"9007199254740993"`` -> ``9007199.255``); ``base_count`` as
    :func:`base_count_text` takes it."""
    megabases = (int(base_count_text(base_count)) + 500_000) // 1_000_000
    return megabases / 1000


def stored_outputs(inputs: ActivationInputs, result: Any, *, activation_count: int,
                   previous: Optional[Mapping[str, Any]] = None,
                   endpoint_url: Optional[str] = None) -> dict[str, Any]:
    """The complete outputs of a create or update (design.md section 2, rule 6).

    :param inputs: the normalised inputs, ``region`` the effective region the run used.
    :param result: the run's :class:`~omics_dynamic.activation.ActivationResult`.
        ``activated_base_count`` and ``store_arn`` are read with defaults (0, None) when the
        result lacks them.
    :param activation_count: :func:`next_activation_count`'s answer.
    :param previous: the outputs the update starts from (None for a create): their
        ``store_arn`` is kept when the run learnt none.
    :param endpoint_url: the custom endpoint the run talked to (None: AWS's standard
        endpoint, :func:`~omics_dynamic.aws.custom_endpoint`).
    """
    store_arn = getattr(result, "store_arn", None) or (previous or {}).get("store_arn")
    return {
        "sequence_store_id": inputs.sequence_store_id,
        "read_set_ids": list(inputs.read_set_ids),
        "region": inputs.region,
        "timeout_seconds": _plain_seconds(inputs.timeout_seconds),
        "max_concurrent_jobs": inputs.max_concurrent_jobs,
        "check_live_status": inputs.check_live_status,
        "resource_name": inputs.resource_name,
        "store_arn": store_arn,
        "endpoint_url": endpoint_url,
        "job_ids": list(result.job_ids),
        "activated_read_set_ids": list(result.activated_by_jobs_read_set_ids),
        "activated_without_job_read_set_ids": list(result.activated_without_job_read_set_ids),
        "activated_base_count": base_count_text(int(getattr(result, "activated_base_count", 0) or 0)),
        "activated_gigabases": gigabases(int(getattr(result, "activated_base_count", 0) or 0)),
        "not_active_read_set_statuses": {rid: s for rid, s in sorted(result.read_set_statuses.items())
                                         if s != "ACTIVE"},
        "activated_at": result.activated_at,
        "activation_count": activation_count,
    }


def carried_outputs(olds: Mapping[str, Any]) -> dict[str, Any]:
    """Stored outputs carried over unchanged (an update without AWS calls, a refresh), in
    this version's shape: ``__provider`` and :data:`LEGACY_OUTPUT_KEYS` dropped (their
    values are derived now), ``not_active_read_set_statuses`` from
    :func:`~omics_dynamic.planning.not_active_in_state`, and outputs older state lacks
    filled in (``store_arn`` None, no read sets activated without a job, 0 bases), and
    ``activated_base_count`` in this version's type: the decimal string, also from the
    number earlier releases stored (:func:`base_count_text`), with ``activated_gigabases``
    from it."""
    outs = {k: v for k, v in olds.items() if not k.startswith("__") and k not in LEGACY_OUTPUT_KEYS}
    outs["not_active_read_set_statuses"] = not_active_in_state(olds)
    outs.setdefault("store_arn", None)
    outs.setdefault("activated_without_job_read_set_ids", [])
    try:
        outs["activated_base_count"] = base_count_text(olds.get("activated_base_count"))
    except ValueError:
        outs["activated_base_count"] = "0"  # unreadable: the next create or update recounts
    outs["activated_gigabases"] = gigabases(outs["activated_base_count"])
    return outs


def next_activation_count(previous_count: Optional[int], result: Any,
                          recorded_not_active: Iterable[str] = ()) -> int:
    """``activation_count`` after a create (``previous_count`` None) or an update.

    It grows by one whenever a create or update ends with every read set ACTIVE after
    finding some of them not ACTIVE: in HealthOmics when it began (ARCHIVED, ACTIVATING,
    PROCESSING_UPLOAD: ``result.became_active_read_set_ids``), or, for an update, in the
    outputs it starts from (``recorded_not_active``: read sets a refresh or an earlier look
    recorded as not ACTIVE and that are still in the resource). A create starts at 1 if it
    found any, else 0. A dependent that embeds the count re-runs exactly when read sets it
    may have seen unusable are usable again.

    Interrupted runs: a killed create or update stores nothing; its rerun adopts the jobs
    still in flight (their read sets are ACTIVATING, so they count). A rerun that finds
    read sets ACTIVE because the killed run's jobs already finished counts them too: the
    run credits them to those jobs (the ended jobs created since the last recorded run
    whose sources FINISHED them, ``result.earlier_job_ids``), so they are in
    ``became_active_read_set_ids``.
    """
    became_active = bool(result.became_active_read_set_ids)
    if previous_count is None:
        return 1 if became_active else 0
    return int(previous_count) + (1 if became_active or any(True for _ in recorded_not_active) else 0)


def already_active_ids(read_set_ids: Iterable[str], activated: Iterable[str],
                       activated_without_job: Iterable[str]) -> list[str]:
    """Read sets ACTIVE when the last create or update began: the resource's read sets that
    are in neither ``activated`` nor ``activated_without_job`` (the run partitions them)."""
    changed = set(activated or ()) | set(activated_without_job or ())
    return [rid for rid in read_set_ids or () if rid not in changed]


def statuses(read_set_ids: Iterable[str], not_active: Optional[Mapping[str, str]]) -> dict[str, str]:
    """Read set ID -> last observed status: ``not_active``'s status, else ACTIVE."""
    not_active = not_active or {}
    return {rid: not_active.get(rid, "ACTIVE") for rid in read_set_ids or ()}


def parse_store_arn(store_arn: str) -> tuple[str, str, str, str]:
    """``(partition, region, account, store_id)`` of
    ``arn:<partition>:omics:<region>:<account>:sequenceStore/<id>``.

    :raises ValueError: naming the value, for anything else.
    """
    parts = store_arn.split(":", 5) if isinstance(store_arn, str) else []
    if (len(parts) != 6 or parts[0] != "arn" or parts[2] != "omics"
            or not parts[5].startswith("sequenceStore/") or "/" in parts[5][len("sequenceStore/"):]):
        raise ValueError(f"not a sequence store ARN: {store_arn!r} (expected "
                         "arn:aws:omics:<region>:<account>:sequenceStore/<id>)")
    return parts[1], parts[3], parts[4], parts[5][len("sequenceStore/"):]


def read_set_arns(store_arn: Optional[str], read_set_ids: Iterable[str]) -> dict[str, str]:
    """Read set ID -> ``<store_arn>/readSet/<id>`` (the Service Authorization Reference's
    ``readSet`` ARN). Empty when ``store_arn`` is None (never learnt)."""
    if not store_arn:
        return {}
    parse_store_arn(store_arn)
    return {rid: f"{store_arn}/readSet/{rid}" for rid in read_set_ids or ()}


def read_set_uris(store_arn: Optional[str], read_set_ids: Iterable[str]) -> dict[str, str]:
    """Read set ID -> ``omics://<account>.storage.<region>.amazonaws.com/<store>/readSet/<id>``.

    The short form a HealthOmics workflow run takes as an input parameter; it stands for the
    read set's first file (``source1``). Append ``/source1``, ``/source2`` (the second file of
    paired FASTQ) or ``/index`` (the BAM/CRAM index) for the long form. Source: HealthOmics
    developer guide, "Referencing genome files from a workflow definition"
    (https://docs.aws.amazon.com/omics/latest/dev/create-ref-files.html). HealthOmics exists
    only in the ``aws`` partition (botocore's endpoints), hence ``amazonaws.com``. Empty when
    ``store_arn`` is None (never learnt).
    """
    if not store_arn:
        return {}
    _partition, region, account, store_id = parse_store_arn(store_arn)
    base = f"omics://{account}.storage.{region}.amazonaws.com/{store_id}/readSet/"
    return {rid: base + rid for rid in read_set_ids or ()}
