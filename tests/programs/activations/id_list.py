"""A dynamic resource whose only output, ``ids``, is unknown during a preview of its create
or update: the source of a ReadSetActivation input that is unknown at preview time, as an
ID list computed by a resource created in the same ``pulumi up`` would be.

Lives beside the program so the provider pickles by reference (design.md section 2, rule 12): the
provider process runs in the project directory, where this module imports.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, Resource, ResourceProvider, UpdateResult


class IdListProvider(ResourceProvider):
    """Outputs ``ids``: the ``source_ids`` input, sorted (a stand-in for IDs a service returns)."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        ids = sorted(str(i) for i in props["source_ids"])
        return CreateResult(f"idlist-{len(ids)}", {"source_ids": list(props["source_ids"]), "ids": ids})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return DiffResult(changes=list(olds.get("source_ids") or []) != list(news.get("source_ids") or []))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult({"source_ids": list(news["source_ids"]),
                             "ids": sorted(str(i) for i in news["source_ids"])})


class IdList(Resource, module="test", name="IdList"):
    """Type ``pulumi-python:dynamic/test:IdList``; ``ids`` is output only."""

    ids: pulumi.Output[list]

    def __init__(self, name: str, source_ids: list, opts: pulumi.ResourceOptions = None) -> None:
        super().__init__(IdListProvider(), name, {"source_ids": source_ids, "ids": None}, opts)
