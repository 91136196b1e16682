"""Example stack: select a cohort's read sets from a sample sheet, activate them, hand the
activated data to a HealthOmics workflow run through a sample sheet in S3.

Stack config (``pulumi config set ...``; project ``omics-dynamic-example``):

- ``sequenceStoreId`` (required): HealthOmics sequence store ID.
- ``sampleSheet`` or ``readSetIds`` (exactly one): which read sets to keep ACTIVE.

  - ``sampleSheet``: path of a CSV or TSV sample sheet (relative paths are read from the
    directory Pulumi runs the program in, the project directory). A column of sample IDs
    (``sample_id``, ``sampleId``, ``sample``) is resolved to the samples' read sets through
    the store (ListReadSets, during preview and up); a column of read set IDs
    (``read_set_id``, ...) is used as it is. See ``omics_dynamic.read_sample_sheet``. The
    emulator's cohort ships one: ``packages/omics-emulator/omics_emulator/data/cohort_samples.csv``.

    A sample's read sets that cannot be activated (DELETED, DELETING, UPLOAD_FAILED: a
    re-imported sample keeps its old, deleted read set) are left out, each program run,
    with one warning naming every such sample, its read sets and their statuses, and the
    count; the sample's other read sets are activated. A sample left with no read set that
    can be activated is an error naming it and its line in the sheet (nothing is
    deployed): remove the sample from the sheet or re-import its data. The statuses come
    from the listing this run made, so a read set deleted later is left out by the next
    ``up`` (an update of the activation). Only a read set deleted in the seconds between
    that listing and the activation's own check reaches ReadSetActivation, which then
    fails with ReadSetsUnusableError before starting any job; run ``pulumi up`` again.
    A sheet of read set IDs is not looked up: ReadSetActivation refuses unusable IDs in
    it (ReadSetsUnusableError names them; remove them from the sheet).
  - ``readSetIds``: a list of read set IDs, e.g.
    ``pulumi config set --path 'readSetIds[0]' 1000000001`` or a YAML list in
    ``Pulumi.<stack>.yaml``. Passed as they are: an unusable one fails the activation
    (ReadSetsUnusableError, before any job starts).

- ``deployCompute`` (default true): declare the dependent compute with pulumi-aws:

  - the workflow's sample sheet, an S3 object (``aws.s3.BucketObjectv2``, key
    ``<project>/<stack>/samplesheet.csv``) in the bucket named by ``sampleSheetBucket``,
    or, without it, in a bucket the stack declares (``aws.s3.Bucket`` "sample-sheets");
  - an IAM role for the HealthOmics run, an IAM role for Step Functions, and a state
    machine whose only task starts the HealthOmics workflow run (``omics:startRun``) with
    one run parameter: the sheet's S3 URI (HealthOmics limits run parameters to 50 KB; the
    sheet holds any number of read sets).

  Set it to false to run the stack against the local emulator with a real ``pulumi``
  CLI and no AWS account (pulumi_aws is then not even imported).
- ``workflowId``, ``outputUri`` (required when deployCompute is true): the HealthOmics
  workflow to run and the S3 URI for its outputs. ``sampleSheetParameter`` (default
  ``input``, as nf-core pipelines call theirs): the workflow parameter that takes the
  sheet's S3 URI. ``sampleSheetBucket`` (optional): an existing bucket for the sheet.
- ``timeoutSeconds``, ``maxConcurrentJobs``, ``checkLiveStatus`` (optional): passed to
  ReadSetActivation as ``timeout_seconds`` / ``max_concurrent_jobs`` / ``check_live_status``.

The provider and the sample sheet reader read ``aws:region``, ``aws:profile`` and
``omics-dynamic:endpoint`` (plus ``omics-dynamic:timeScale`` / ``omics-dynamic:rateLimit``
for the emulator) from the same stack config: nothing here is hard-coded.

The workflow's sample sheet (CSV, one row per read set, in the selection's order)::

    sample_id,subject_id,read_set_id,file_type,source1,source2
    CHRT-0001-01A,CHRT-0001,4663788828,FASTQ,omics://.../readSet/4663788828/source1,omics://.../readSet/4663788828/source2

``source1`` / ``source2`` are the long forms of the activation's ``read_set_uris`` (the
HealthOmics developer guide, "Referencing genome files from a workflow definition":
``/source1`` and ``/source2`` are a paired FASTQ read set's two files; BAM and CRAM have
only ``source1``). ``source2`` is filled where the file type is FASTQ, so FASTQ read sets
are taken to be paired (the listing does not say whether a read set has a second file).
Sample, subject and file type come from the listing that resolved the sheet's sample IDs;
read sets given by ID (``readSetIds`` or a sheet of read set IDs) are not looked up, so
their rows have only ``read_set_id`` and ``source1``.

Ordering: every pulumi-aws resource has ``depends_on=[activation]``, and the sheet and
the state machine consume the activation's outputs (``read_set_uris``, job IDs,
``activation_count``), so Pulumi registers them only after the activation's create or
update returned, i.e. after every read set was ACTIVE. The ``activation_count`` and the
sheet's SHA-256 are written into the state machine's definition: when an ``up``
re-activates read sets that HealthOmics archived again, or the sheet changes, the state
machine is updated, which is the hook for re-running the workflow.
"""

import csv
import hashlib
import io
import json

import pulumi

from omics_dynamic import ReadSetActivation, ReadSetActivationArgs, read_sample_sheet

#: Columns of the workflow's sample sheet in S3.
SHEET_COLUMNS = ("sample_id", "subject_id", "read_set_id", "file_type", "source1", "source2")
#: Read set statuses ReadSetActivation takes (ARCHIVED: it starts a job; ACTIVATING and
#: PROCESSING_UPLOAD: it waits for ACTIVE; ACTIVE: nothing to do). It refuses the others
#: (DELETING, DELETED, UPLOAD_FAILED) before starting any job, so a sample's read sets in
#: those are left out of the selection (with a warning).
USABLE_STATUSES = ("ARCHIVED", "ACTIVATING", "PROCESSING_UPLOAD", "ACTIVE")


def _plural(count, noun):
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def usable_read_sets(sheet):
    """The read sets of ``sheet`` (an ``omics_dynamic.SampleSheet`` of sample IDs) that
    ReadSetActivation can take, in the sheet's order, and {sample ID: [ReadSet, ...]} of
    those left out (status not in ``USABLE_STATUSES``)."""
    usable, left_out = [], {}
    for rs in sheet.read_sets:
        if rs.status in USABLE_STATUSES:
            usable.append(rs)
        else:
            left_out.setdefault(rs.sample_id, []).append(rs)
    return usable, left_out


#: How many samples the left-out warning names before it says "and N more samples".
WARN_SAMPLES = 10


def left_out_warning(sheet, usable, left_out):
    """The warning naming the read sets ``usable_read_sets`` left out, by sample (the first
    :data:`WARN_SAMPLES` samples, then how many more)."""
    count = sum(len(v) for v in left_out.values())
    shown = list(left_out.items())[:WARN_SAMPLES]
    samples = "; ".join(f"sample {sample}: " + ", ".join(f"{rs.id} ({rs.status})" for rs in read_sets)
                        for sample, read_sets in shown)
    if len(left_out) > len(shown):
        samples += f"; and {_plural(len(left_out) - len(shown), 'more sample')}"
    return (f"sample sheet {sheet.path}: {_plural(count, 'read set')} of {_plural(len(left_out), 'sample')} "
            f"cannot be activated and {'is' if count == 1 else 'are'} left out: {samples}. The stack "
            f"activates the other {_plural(len(usable), 'read set')} of the sheet's "
            f"{_plural(len(sheet.samples), 'sample')}; re-import a left-out read set's data to include it")

config = pulumi.Config()
sequence_store_id = config.require("sequenceStoreId")
sample_sheet_path = config.get("sampleSheet")
read_set_ids = config.get_object("readSetIds")
if (sample_sheet_path is None) == (read_set_ids is None):
    raise ValueError("set exactly one of the config keys sampleSheet (a CSV/TSV sample sheet, e.g. "
                     "pulumi config set sampleSheet samples.csv) and readSetIds (a list of read set IDs, "
                     "e.g. pulumi config set --path 'readSetIds[0]' 1000000001); "
                     + ("both are set" if read_set_ids is not None else "neither is set"))

# (read set ID, sample ID, subject ID, file type) per read set, in the selection's order.
rows: list[tuple[str, str, str, str]]
sample_count = None
if sample_sheet_path is not None:
    sheet = read_sample_sheet(sample_sheet_path, sequence_store_id=sequence_store_id)
    if sheet.read_sets:  # a sheet of sample IDs, resolved through the store's listing
        usable, left_out = usable_read_sets(sheet)
        if left_out:
            pulumi.log.warn(left_out_warning(sheet, usable, left_out))
        if {rs.sample_id for rs in usable} != set(sheet.samples):
            # Some sample has no usable read set. Read the sheet again, keeping only usable
            # statuses: read_sample_sheet raises SampleSheetError naming each such sample and
            # its line in the sheet. (Should the store have changed in between, the new
            # answer is used.)
            sheet = read_sample_sheet(sample_sheet_path, sequence_store_id=sequence_store_id,
                                      status=list(USABLE_STATUSES))
            usable, _ = usable_read_sets(sheet)
        rows = [(rs.id, rs.sample_id or "", rs.subject_id or "", rs.file_type) for rs in usable]
        sample_count = len(sheet.samples)
    else:  # a sheet of read set IDs: used as they are, no lookup
        rows = [(rid, "", "", "") for rid in sheet.read_set_ids]
else:
    if not isinstance(read_set_ids, list) or not all(isinstance(i, (str, int)) for i in read_set_ids):
        raise ValueError("config readSetIds must be a list of read set IDs, e.g. "
                         "pulumi config set --path 'readSetIds[0]' 1000000001")
    rows = [(str(rid), "", "", "") for rid in dict.fromkeys(str(i) for i in read_set_ids)]

deploy_compute = config.get_bool("deployCompute")
deploy_compute = True if deploy_compute is None else deploy_compute

activation = ReadSetActivation(
    "cohort",
    ReadSetActivationArgs(
        sequence_store_id=sequence_store_id,
        read_set_ids=[rid for rid, *_ in rows],
        timeout_seconds=config.get_float("timeoutSeconds"),
        max_concurrent_jobs=config.get_int("maxConcurrentJobs"),
        check_live_status=config.get_bool("checkLiveStatus"),
    ),
)


def _status_summary(statuses):
    counts = {}
    for status in (statuses or {}).values():
        counts[status] = counts.get(status, 0) + 1
    return dict(sorted(counts.items()))


def workflow_sample_sheet(uris):
    """The workflow's sample sheet (CSV text, ``SHEET_COLUMNS``) from ``rows`` and the
    activation's ``read_set_uris`` (read set ID -> short omics:// URI)."""
    missing = [rid for rid, *_ in rows if rid not in uris]
    if missing:
        raise ValueError(f"the activation reported no URI for {len(missing)} read set(s) (e.g. {missing[0]}): "
                         "its store_arn output is empty; run `pulumi refresh`, then `pulumi up`")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SHEET_COLUMNS)
    for rid, sample, subject, file_type in rows:
        uri = uris[rid]
        writer.writerow([sample, subject, rid, file_type, f"{uri}/source1",
                         f"{uri}/source2" if file_type == "FASTQ" else ""])
    return out.getvalue()


pulumi.export("sequenceStoreId", activation.sequence_store_id)
if sample_sheet_path is not None:
    pulumi.export("sampleSheet", sample_sheet_path)
if sample_count is not None:
    pulumi.export("sampleCount", sample_count)
pulumi.export("readSetCount", activation.read_set_ids.apply(len))
pulumi.export("jobIds", activation.job_ids)
pulumi.export("statusSummary", activation.read_set_statuses.apply(_status_summary))
pulumi.export("activationCount", activation.activation_count)
pulumi.export("activatedAt", activation.activated_at)
pulumi.export("activatedBaseCount", activation.activated_base_count)
# The URIs reach dependents by data flow; the stack exports a count and three of them
# (all of them would put one more copy of the read set list into the stack's state).
pulumi.export("readSetUriCount", activation.read_set_uris.apply(len))
pulumi.export("readSetUriSample", activation.read_set_uris.apply(
    lambda uris: {rid: uris[rid] for rid in sorted(uris)[:3]}))

if deploy_compute:
    import pulumi_aws as aws  # only needed (and its plugin only loaded) with compute

    workflow_id = config.require("workflowId")
    output_uri = config.require("outputUri")
    sheet_parameter = config.get("sampleSheetParameter") or "input"
    after_activation = pulumi.ResourceOptions(depends_on=[activation])

    # The workflow's sample sheet, in the bucket named in config or in one the stack declares.
    bucket_name = config.get("sampleSheetBucket")
    if bucket_name is None:
        bucket_name = aws.s3.Bucket("sample-sheets", tags={"omics-dynamic:activation": "cohort"},
                                    opts=after_activation).id
    sheet_content = activation.read_set_uris.apply(workflow_sample_sheet)
    sheet_object = aws.s3.BucketObjectv2(
        "workflow-sample-sheet",
        bucket=bucket_name,
        key=f"{pulumi.get_project()}/{pulumi.get_stack()}/samplesheet.csv",
        content=sheet_content,
        content_type="text/csv",
        opts=after_activation,
    )
    sheet_uri = pulumi.Output.concat("s3://", sheet_object.bucket, "/", sheet_object.key)

    # Role HealthOmics assumes while the workflow run reads the sheet and the read sets and
    # writes outputs.
    run_role = aws.iam.Role(
        "omics-run-role",
        assume_role_policy=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                           "Principal": {"Service": "omics.amazonaws.com"}}],
        }),
        tags={"omics-dynamic:activation": "cohort"},
        opts=after_activation,
    )
    aws.iam.RolePolicy(
        "omics-run-access",
        role=run_role.id,
        policy=activation.sequence_store_id.apply(lambda store: json.dumps({
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow",
                 "Action": ["omics:GetReadSet", "omics:GetReadSetMetadata"],
                 "Resource": [f"arn:aws:omics:*:*:sequenceStore/{store}",
                              f"arn:aws:omics:*:*:sequenceStore/{store}/readSet/*"]},
                {"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject", "s3:ListBucket"],
                 "Resource": "*"},
                {"Effect": "Allow",
                 "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents",
                            "logs:DescribeLogStreams"],
                 "Resource": "arn:aws:logs:*:*:log-group:/aws/omics/WorkflowLog:*"},
            ],
        })),
        opts=after_activation,
    )

    # Role Step Functions assumes to start the run (and pass the run role to HealthOmics).
    sfn_role = aws.iam.Role(
        "start-run-role",
        assume_role_policy=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                           "Principal": {"Service": "states.amazonaws.com"}}],
        }),
        opts=after_activation,
    )
    aws.iam.RolePolicy(
        "start-run-access",
        role=sfn_role.id,
        policy=run_role.arn.apply(lambda arn: json.dumps({
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": ["omics:StartRun", "omics:TagResource"], "Resource": "*"},
                {"Effect": "Allow", "Action": "iam:PassRole", "Resource": arn},
            ],
        })),
        opts=after_activation,
    )

    def _definition(args):
        store, job_ids, count, role_arn, uri, content = args
        digest = hashlib.sha256(content.encode("utf-8")).hexdigest()
        return json.dumps({
            "Comment": (f"Starts HealthOmics workflow {workflow_id} over the {len(rows)} read sets of "
                        f"store {store} listed in {uri} (sha256 {digest}), ACTIVE after activation "
                        f"#{count} (jobs: {', '.join(job_ids) or 'none needed'})"),
            "StartAt": "StartRun",
            "States": {
                "StartRun": {
                    "Type": "Task",
                    "Resource": "arn:aws:states:::aws-sdk:omics:startRun",
                    "Parameters": {
                        "WorkflowId": workflow_id,
                        "RoleArn": role_arn,
                        "OutputUri": output_uri,
                        "Name": f"cohort-activation-{count}",
                        "RequestId.$": "$$.Execution.Name",
                        "Parameters": {sheet_parameter: uri},
                        "Tags": {"omics-dynamic:activation-count": str(count)},
                    },
                    "End": True,
                }
            },
        }, indent=2)

    state_machine = aws.sfn.StateMachine(
        "start-run",
        role_arn=sfn_role.arn,
        definition=pulumi.Output.all(
            activation.sequence_store_id, activation.job_ids, activation.activation_count,
            run_role.arn, sheet_uri, sheet_content,
        ).apply(_definition),
        tags={
            "omics-dynamic:activation-count": activation.activation_count.apply(str),
            "omics-dynamic:activated-at": activation.activated_at,
        },
        opts=after_activation,
    )
    pulumi.export("sampleSheetUri", sheet_uri)
    pulumi.export("stateMachineArn", state_machine.arn)
    pulumi.export("runRoleArn", run_role.arn)
