"""Test-only Pulumi program for program mode: a Recorder dynamic resource, then an IAM role
that depends on it (depends_on and consuming its outputs). Config ``zone`` sets the gate's
zone (a change replaces it), ``ignoreZone`` puts ``zone`` in its ignore_changes (which
program mode refuses),
``parallelGates`` adds that many independent Recorders (sleeping ``sleepS`` too)."""

import json

import pulumi
import pulumi_aws as aws

from harness_support.recorder import Recorder

config = pulumi.Config()
gate = Recorder(
    "gate",
    config.require("logDir"),
    {"label": "gate", "size": config.get_int("size") or 1, "zone": config.get("zone") or "z1",
     "sleep_s": config.get_float("sleepS") or 0},
    opts=pulumi.ResourceOptions(ignore_changes=["zone"] if config.get_bool("ignoreZone") else None),
)
for i in range(config.get_int("parallelGates") or 0):
    Recorder(f"p{i}", config.require("logDir"), {"label": f"p{i}", "sleep_s": config.get_float("sleepS") or 0})
role = aws.iam.Role(
    "compute-role",
    assume_role_policy=json.dumps({"Version": "2012-10-17", "Statement": []}),
    tags=gate.create_n.apply(lambda n: {"gateCreate": str(n)}),
    opts=pulumi.ResourceOptions(depends_on=[gate]),
)
pulumi.export("gate_status", gate.status)
pulumi.export("role_name", role.name)
pulumi.export("secret_thing", pulumi.Output.secret("s3cr3t"))
