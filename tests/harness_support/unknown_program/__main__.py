"""Test program: a ReadSetActivation whose read_set_ids come from another resource's output,
unknown in a preview of that resource's create or update.

Config (project ``omics-unknown``): ``sequenceStoreId``, ``readSetIds`` (the IdList's source).
"""

import pulumi
from id_list import IdList

from omics_dynamic import ReadSetActivation, ReadSetActivationArgs

config = pulumi.Config()
id_list = IdList("ids", config.require_object("readSetIds"))
activation = ReadSetActivation(
    "cohort",
    ReadSetActivationArgs(sequence_store_id=config.require("sequenceStoreId"), read_set_ids=id_list.ids,
                          check_live_status=False),
)
pulumi.export("readSetStatuses", activation.read_set_statuses)
