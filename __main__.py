"""Example stack: activate a cohort's archived read sets, then gate compute on them.

Stack config (``pulumi config set ...``; project ``omics-dynamic-example``):

- ``sequenceStoreId`` (required): HealthOmics sequence store ID.
- ``readSetIds`` (required): list of read set IDs, e.g.
  ``pulumi config set --path 'readSetIds[0]' 1000000001`` or a YAML list in
  ``Pulumi.<stack>.yaml``.
- ``deployCompute`` (default true): declare the dependent compute with pulumi-aws: an IAM
  role for the HealthOmics run, an IAM role for Step Functions and a state machine whose
  only task starts the HealthOmics workflow run (``omics:startRun``) over the activated
  read sets. Set it to false to run the stack against the local emulator with a real
  ``pulumi`` CLI and no AWS account (pulumi_aws is then not even imported).
- ``workflowId``, ``outputUri`` (required when deployCompute is true): the HealthOmics
  workflow to run and the S3 URI for its outputs.
- ``timeoutSeconds``, ``maxConcurrentJobs``, ``checkLiveStatus`` (optional): passed to
  ReadSetActivation as ``timeout_seconds`` / ``max_concurrent_jobs`` / ``check_live_status``.

The provider itself reads ``aws:region``, ``aws:profile`` and ``omics-dynamic:endpoint``
(plus ``omics-dynamic:timeScale`` / ``omics-dynamic:rateLimit`` for the emulator) from
the same stack config: nothing here is hard-coded.

Ordering: the compute has ``depends_on=[activation]`` AND consumes the activation's
outputs (read set IDs, job IDs, ``activation_count``), so Pulumi registers it only after
the activation's create/update returned, i.e. after every read set was ACTIVE. The
``activation_count`` is written into the state machine's definition and tags: when an
``up`` re-activates read sets that HealthOmics archived again, the count grows and the
state machine is updated, which is the hook for re-running the workflow.
"""

import json

import pulumi

from omics_dynamic import ReadSetActivation, ReadSetActivationArgs

config = pulumi.Config()
sequence_store_id = config.require("sequenceStoreId")
read_set_ids = config.require_object("readSetIds")
if not isinstance(read_set_ids, list) or not all(isinstance(i, (str, int)) for i in read_set_ids):
    raise ValueError("config readSetIds must be a list of read set IDs, e.g. "
                     "pulumi config set --path 'readSetIds[0]' 1000000001")
deploy_compute = config.get_bool("deployCompute")
deploy_compute = True if deploy_compute is None else deploy_compute

activation = ReadSetActivation(
    "cohort",
    ReadSetActivationArgs(
        sequence_store_id=sequence_store_id,
        read_set_ids=[str(i) for i in read_set_ids],
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


pulumi.export("sequenceStoreId", activation.sequence_store_id)
pulumi.export("readSetCount", activation.read_set_ids.apply(len))
pulumi.export("jobIds", activation.job_ids)
pulumi.export("statusSummary", activation.read_set_statuses.apply(_status_summary))
pulumi.export("activationCount", activation.activation_count)
pulumi.export("activatedAt", activation.activated_at)

if deploy_compute:
    import pulumi_aws as aws  # only needed (and its plugin only loaded) with compute

    workflow_id = config.require("workflowId")
    output_uri = config.require("outputUri")
    after_activation = pulumi.ResourceOptions(depends_on=[activation])

    # Role HealthOmics assumes while the workflow run reads the read sets and writes outputs.
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
        store, ids, job_ids, count, role_arn = args
        return json.dumps({
            "Comment": (f"Starts HealthOmics workflow {workflow_id} over {len(ids)} read sets of "
                        f"store {store}, ACTIVE after activation #{count} "
                        f"(jobs: {', '.join(job_ids) or 'none needed'})"),
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
                        "Parameters": {"sequence_store_id": store, "read_set_ids": ids},
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
            activation.sequence_store_id, activation.read_set_ids, activation.job_ids,
            activation.activation_count, run_role.arn,
        ).apply(_definition),
        tags={
            "omics-dynamic:activation-count": activation.activation_count.apply(str),
            "omics-dynamic:activated-at": activation.activated_at,
        },
        opts=after_activation,
    )
    pulumi.export("stateMachineArn", state_machine.arn)
    pulumi.export("runRoleArn", run_role.arn)
