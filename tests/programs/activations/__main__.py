"""Test program for the real-CLI tests: one or two ReadSetActivations on a store, with
inputs that can be made unknown at preview time and options set from config.

Config (project ``omics-activations``):

- ``sequenceStoreId``, ``readSetIds`` (list): the activation ``cohort``'s inputs.
- ``unknown`` (``none`` | ``list`` | ``element`` | ``store``): which input comes from an
  ``IdList`` resource's output, so it is unknown in a preview of that resource's create or
  update: the whole ID list, the last element of the list, or the store ID.
- ``ignoreReadSetIds`` (bool): ``ignore_changes=["read_set_ids"]`` on ``cohort``.
- ``secondReadSetIds`` (list, optional): a second activation ``extra`` on the same store.
- ``timeoutSeconds`` (optional).
- ``exportStatuses`` (bool, default true): export ``readSetStatuses``.

Exports ``readSetStatuses`` (unless ``exportStatuses`` is false) and ``activationCount``
of ``cohort``.
"""

import pulumi
from id_list import IdList

from omics_dynamic import ReadSetActivation, ReadSetActivationArgs

config = pulumi.Config()
store = config.require("sequenceStoreId")
ids = config.require_object("readSetIds")
unknown = config.get("unknown") or "none"
if unknown == "list":
    ids = IdList("ids", ids).ids
elif unknown == "element":
    last = IdList("ids", ids[-1:]).ids
    ids = [*ids[:-1], last.apply(lambda v: v[0])]
elif unknown == "store":
    store = IdList("ids", [store]).ids.apply(lambda v: v[0])
timeout = config.get_float("timeoutSeconds")

cohort = ReadSetActivation(
    "cohort",
    ReadSetActivationArgs(sequence_store_id=store, read_set_ids=ids, timeout_seconds=timeout),
    opts=pulumi.ResourceOptions(ignore_changes=["read_set_ids"] if config.get_bool("ignoreReadSetIds") else None),
)
second = config.get_object("secondReadSetIds")
if second:
    ReadSetActivation("extra", ReadSetActivationArgs(sequence_store_id=store, read_set_ids=second,
                                                     timeout_seconds=timeout))
if config.get_bool("exportStatuses") is not False:
    pulumi.export("readSetStatuses", cohort.read_set_statuses)
pulumi.export("activationCount", cohort.activation_count)
