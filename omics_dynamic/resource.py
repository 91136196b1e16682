"""ReadSetActivation: the resource users declare in their Pulumi programs."""

from __future__ import annotations

from typing import Optional, Sequence

import pulumi
import pulumi.dynamic

from . import outputs
from .provider import OUTPUT_KEYS, ReadSetActivationProvider

__all__ = ["ReadSetActivation", "ReadSetActivationArgs"]


@pulumi.input_type
class ReadSetActivationArgs:
    """Inputs of :class:`ReadSetActivation`.

    :param sequence_store_id: ID of the HealthOmics sequence store (10 to 36 digits).
        A change replaces the resource.
    :param read_set_ids: 1 to 100,000 read set IDs (10 to 36 digits each) of that store;
        duplicates are removed and order is ignored. A change is an update that activates
        only what is not ACTIVE.
    :param region: AWS Region of the store; default ``aws:region``, then the AWS
        environment and config chain. A change of the region this resolves to (input or
        provider configuration) replaces the resource.
    :param timeout_seconds: wait budget of one create or update, seconds (default
        21,600 = 6 h; at most 604,800). When it runs out, ``pulumi up`` fails and the
        next ``pulumi up`` resumes the jobs.
    :param max_concurrent_jobs: activation jobs in flight at once (default 20, the usual
        HealthOmics quota; lowered automatically on ServiceQuotaExceededException).
    :param check_live_status: when true (default), ``diff`` (so ``pulumi preview`` and
        ``pulumi up``) asks HealthOmics for the read sets' current status, so read sets
        archived again since the last ``up`` show as an update that re-activates them.
        False: only state and ``pulumi refresh`` count.
    """

    def __init__(
        self,
        *,
        sequence_store_id: pulumi.Input[str],
        read_set_ids: pulumi.Input[Sequence[pulumi.Input[str]]],
        region: Optional[pulumi.Input[str]] = None,
        timeout_seconds: Optional[pulumi.Input[float]] = None,
        max_concurrent_jobs: Optional[pulumi.Input[int]] = None,
        check_live_status: Optional[pulumi.Input[bool]] = None,
    ):
        pulumi.set(self, "sequence_store_id", sequence_store_id)
        pulumi.set(self, "read_set_ids", read_set_ids)
        if region is not None:
            pulumi.set(self, "region", region)
        if timeout_seconds is not None:
            pulumi.set(self, "timeout_seconds", timeout_seconds)
        if max_concurrent_jobs is not None:
            pulumi.set(self, "max_concurrent_jobs", max_concurrent_jobs)
        if check_live_status is not None:
            pulumi.set(self, "check_live_status", check_live_status)

    @property
    @pulumi.getter(name="sequence_store_id")
    def sequence_store_id(self) -> pulumi.Input[str]:
        """ID of the HealthOmics sequence store (10 to 36 digits); change: replace."""
        return pulumi.get(self, "sequence_store_id")

    @property
    @pulumi.getter(name="read_set_ids")
    def read_set_ids(self) -> pulumi.Input[Sequence[pulumi.Input[str]]]:
        """Read set IDs to keep ACTIVE (1 to 100,000); change: update."""
        return pulumi.get(self, "read_set_ids")

    @property
    @pulumi.getter(name="region")
    def region(self) -> Optional[pulumi.Input[str]]:
        """AWS Region; default ``aws:region``; change of the effective region: replace."""
        return pulumi.get(self, "region")

    @property
    @pulumi.getter(name="timeout_seconds")
    def timeout_seconds(self) -> Optional[pulumi.Input[float]]:
        """Wait budget of one create or update, seconds (default 21,600)."""
        return pulumi.get(self, "timeout_seconds")

    @property
    @pulumi.getter(name="max_concurrent_jobs")
    def max_concurrent_jobs(self) -> Optional[pulumi.Input[int]]:
        """Activation jobs in flight at once (default 20)."""
        return pulumi.get(self, "max_concurrent_jobs")

    @property
    @pulumi.getter(name="check_live_status")
    def check_live_status(self) -> Optional[pulumi.Input[bool]]:
        """Whether diff asks HealthOmics for live statuses (default true)."""
        return pulumi.get(self, "check_live_status")


class ReadSetActivation(pulumi.dynamic.Resource, module="omics", name="ReadSetActivation"):
    """Keeps a set of AWS HealthOmics read sets ACTIVE, activating the archived ones.

    Creating it starts ``StartReadSetActivationJob`` jobs (at most 20 read sets each) for
    the ARCHIVED read sets and returns only when every read set is ACTIVE, so compute
    that ``depends_on`` it or consumes its outputs never starts on archived data. On
    later ``pulumi up`` runs, read sets HealthOmics has archived again are re-activated
    (see ``check_live_status``). Deleting it changes nothing in AWS.

    Type token: ``pulumi-python:dynamic/omics:ReadSetActivation``.

    Outputs (the attributes below; :mod:`omics_dynamic.outputs` defines each): the
    normalised inputs (``region`` the effective one), the outputs the provider stores in
    state (``store_arn``, ``job_ids``, ``activated_read_set_ids``,
    ``activated_without_job_read_set_ids``, ``activated_base_count`` (a decimal string),
    ``activated_gigabases``, ``not_active_read_set_statuses``, ``activated_at``, ``activation_count``), and four
    this class derives from them for dependents (``already_active_read_set_ids``,
    ``read_set_statuses``, ``read_set_arns``, ``read_set_uris``): they carry the dependency
    on this resource like any output, but are not in the stack's state, so export them to
    see them in ``pulumi stack output`` or from another stack.

    Example::

        activation = ReadSetActivation("cohort", ReadSetActivationArgs(
            sequence_store_id="1234567890", read_set_ids=["1000000001", "1000000002"]))
        # a workflow run's input, by data flow:
        first_uri = activation.read_set_uris.apply(lambda uris: uris["1000000001"])
    """

    sequence_store_id: pulumi.Output[str]
    """Sequence store ID (as given)."""
    read_set_ids: pulumi.Output[list[str]]
    """Read set IDs, sorted and deduplicated."""
    region: pulumi.Output[str]
    """The AWS Region the resource lives in: the ``region`` input, else the ``aws:region``
    (or boto3's chain) that create used. Update and refresh talk to this region; a different
    effective region replaces the resource."""
    timeout_seconds: pulumi.Output[float]
    """Wait budget of one create or update, seconds."""
    max_concurrent_jobs: pulumi.Output[int]
    """Activation jobs in flight at once."""
    check_live_status: pulumi.Output[bool]
    """Whether diff asks HealthOmics for live statuses."""
    resource_name: pulumi.Output[str]
    """The resource's name (prefix of its progress lines)."""
    store_arn: pulumi.Output[Optional[str]]
    """``arn:aws:omics:<region>:<account>:sequenceStore/<id>`` as HealthOmics reported it
    (None only if no call answered with an ARN)."""
    endpoint_url: pulumi.Output[Optional[str]]
    """The custom HealthOmics endpoint the last create, update or refresh reached the store
    through (the emulator, a VPC endpoint); None for AWS's standard endpoint. A refresh
    through another endpoint that does not find the store fails instead of dropping the
    resource from state."""
    job_ids: pulumi.Output[list[str]]
    """Every activation job that worked on these read sets during the last create or update:
    started by it, adopted (in flight when it began, e.g. after an interrupted ``up``) or
    found (created meanwhile by someone else, or by a start whose answer was lost). For audit
    (console, CloudTrail)."""
    activated_read_set_ids: pulumi.Output[list[str]]
    """Read sets that jobs of ``job_ids`` activated: not ACTIVE when the last create or update
    began, sources of those jobs, ACTIVE at its end. A dependent that processes only newly
    usable data takes these and ``activated_without_job_read_set_ids``."""
    activated_without_job_read_set_ids: pulumi.Output[list[str]]
    """Read sets not ACTIVE when the last create or update began (ACTIVATING under somebody
    else's job, or PROCESSING_UPLOAD) that became ACTIVE without a job of ``job_ids``."""
    activated_base_count: pulumi.Output[str]
    """Bases of ``activated_read_set_ids`` as a string of decimal digits (exact at any size:
    numbers cross the engine as float64, exact only to 2**53): the sum of their
    ``sequenceInformation.totalBaseCount`` in HealthOmics' listing (0 for a read set it gives
    no count for): the volume the last create or update activated. ``int()`` it for the
    integer."""
    activated_gigabases: pulumi.Output[float]
    """The same sum in gigabases (1e9 bases), rounded to 3 decimals: a number for arithmetic
    and display."""
    not_active_read_set_statuses: pulumi.Output[dict[str, str]]
    """Read set ID -> status of the read sets last observed not ACTIVE: empty after every
    create and update; a refresh that finds read sets archived again fills it (and the next
    ``up`` re-activates them)."""
    activated_at: pulumi.Output[str]
    """ISO-8601 UTC instant when the last create or update confirmed every read set ACTIVE."""
    activation_count: pulumi.Output[int]
    """Re-run trigger: 1 after a create that found read sets not ACTIVE (else 0), plus one for
    every update that found read sets not ACTIVE (in HealthOmics, or recorded by a refresh)
    and made them ACTIVE. Embed it in a dependent (a tag, a definition) so it is updated, and
    re-runs, exactly when data it may have seen unusable is usable again."""
    already_active_read_set_ids: pulumi.Output[list[str]]
    """Derived: read sets ACTIVE when the last create or update began (``read_set_ids``
    minus both activated lists)."""
    read_set_statuses: pulumi.Output[dict[str, str]]
    """Derived: read set ID -> last observed status (``not_active_read_set_statuses``' status,
    else ACTIVE)."""
    read_set_arns: pulumi.Output[dict[str, str]]
    """Derived: read set ID -> ARN, ``<store_arn>/readSet/<id>`` (e.g. for IAM policies of the
    compute that reads them)."""
    read_set_uris: pulumi.Output[dict[str, str]]
    """Derived: read set ID -> ``omics://<account>.storage.<region>.amazonaws.com/<store>/readSet/<id>``,
    the URI a HealthOmics workflow run takes as input (short form: the read set's first file;
    append ``/source1``, ``/source2`` for paired FASTQ, or ``/index`` for the BAM/CRAM index;
    HealthOmics developer guide, "Referencing genome files from a workflow definition")."""

    def __init__(
        self,
        resource_name: str,
        args: Optional[ReadSetActivationArgs] = None,
        opts: Optional[pulumi.ResourceOptions] = None,
        **kwargs,
    ):
        """Declare a ReadSetActivation.

        :param resource_name: the resource's name (also the prefix of its progress lines).
        :param args: :class:`ReadSetActivationArgs`; or pass its fields as keyword arguments.
        :param opts: resource options (``depends_on``, ``protect``...). ``import_`` is not
            supported for dynamic resources (design.md section 2, rule 8).
        :raises TypeError: when ``sequence_store_id`` or ``read_set_ids`` is missing.
        """
        if args is None:
            args = ReadSetActivationArgs(**kwargs)
        elif kwargs:
            raise TypeError(f"pass either args or keyword arguments, not both: {sorted(kwargs)}")
        if args.sequence_store_id is None:
            raise TypeError("Missing required property 'sequence_store_id'")
        if args.read_set_ids is None:
            raise TypeError("Missing required property 'read_set_ids'")
        props: dict = {
            "sequence_store_id": args.sequence_store_id,
            "read_set_ids": args.read_set_ids,
            "region": args.region,
            "timeout_seconds": args.timeout_seconds,
            "max_concurrent_jobs": args.max_concurrent_jobs,
            "check_live_status": args.check_live_status,
            "resource_name": resource_name,
        }
        # Output-only properties are passed as None so that the SDK creates their outputs.
        for key in OUTPUT_KEYS:
            props[key] = None
        super().__init__(ReadSetActivationProvider(), resource_name, props, opts)
        # State of releases that stored activated_base_count as a number, without
        # activated_gigabases, reaches a Same step unchanged: give both their documented types.
        stored_count, stored_gigabases = self.activated_base_count, self.activated_gigabases
        self.activated_base_count = stored_count.apply(outputs.base_count_text)
        self.activated_gigabases = pulumi.Output.all(stored_count, stored_gigabases).apply(
            lambda a: a[1] if a[1] is not None else outputs.gigabases(outputs.base_count_text(a[0])))
        # Derived outputs (omics_dynamic.outputs): computed in the program from the stored
        # ones, so they depend on this resource without a copy per map in state.
        self.already_active_read_set_ids = pulumi.Output.all(
            self.read_set_ids, self.activated_read_set_ids, self.activated_without_job_read_set_ids,
        ).apply(lambda a: outputs.already_active_ids(*a))
        self.read_set_statuses = pulumi.Output.all(
            self.read_set_ids, self.not_active_read_set_statuses).apply(lambda a: outputs.statuses(*a))
        self.read_set_arns = pulumi.Output.all(
            self.store_arn, self.read_set_ids).apply(lambda a: outputs.read_set_arns(*a))
        self.read_set_uris = pulumi.Output.all(
            self.store_arn, self.read_set_ids).apply(lambda a: outputs.read_set_uris(*a))
