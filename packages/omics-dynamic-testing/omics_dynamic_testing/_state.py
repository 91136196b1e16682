"""The harness's state file: what the engine's checkpoint keeps between runs.

One JSON document, rewritten atomically (write ``<path>.tmp``, fsync, ``os.replace``)
after every step, so a reader never sees a half-written file, even when the harness is
killed mid-run. Shape::

    {
      "format": "omics_dynamic_testing/state/v1",
      "note": "...",
      "stack": "dev", "project": "proj",
      "resources": [
        {"urn": "urn:pulumi:<stack>::<project>::<type>::<name>", "type": ..., "name": ...,
         "id": "...", "inputs": {...}, "outputs": {...},
         "delete_before_replace": false, "delete": false}
      ],
      "pending_operations": [
        {"type": "creating" | "updating" | "deleting", "urn": ..., "resource_type": ...,
         "name": ..., "id": "" | "...", "inputs": {...}}
      ]
    }

Secret values are stored in PLAINTEXT, each wrapped in the marker ``pulumi stack export
--show-secrets`` uses: ``{"4dabf18193072939515e22adb298388d":
"1b47061264138c4ac30d75fd1eb44270", "plaintext": "<JSON of the value>"}``. The file is a
test artefact; do not put real credentials in harness config.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Optional

from pulumi.runtime import rpc

FORMAT = "omics_dynamic_testing/state/v1"
_SIG = rpc._special_sig_key
_SECRET = rpc._special_secret_sig


def make_urn(stack: str, project: str, type_: str, name: str) -> str:
    """``urn:pulumi:<stack>::<project>::<type>::<name>`` (top-level resource, no parent type)."""
    return f"urn:pulumi:{stack}::{project}::{type_}::{name}"


def _encode(props: dict[str, Any], secret_keys: set[str]) -> dict[str, Any]:
    return {
        k: ({_SIG: _SECRET, "plaintext": json.dumps(v)} if k in secret_keys else v)
        for k, v in props.items()
    }


def _decode(props: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    out: dict[str, Any] = {}
    secret: set[str] = set()
    for k, v in props.items():
        if isinstance(v, dict) and v.get(_SIG) == _SECRET:
            out[k] = json.loads(v["plaintext"])
            secret.add(k)
        else:
            out[k] = v
    return out, secret


@dataclass
class ResourceState:
    """One resource as the state keeps it.

    ``inputs`` are the last checked inputs, ``outputs`` what the provider last returned
    (Create/Update/Read), both plain values; ``secret_inputs``/``secret_outputs`` are the
    top-level keys that are secret (always ``__provider``, rule 12). ``delete`` marks a
    replaced resource waiting for its Delete at the end of the deployment (the engine's
    ``State.Delete``, set by ``CreateStep.Apply`` for a create-before-delete replacement in
    ``pkg/resource/deploy/step.go``); the state then holds two resources with one URN.
    """

    urn: str
    type: str
    name: str
    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    secret_inputs: set[str] = field(default_factory=set)
    secret_outputs: set[str] = field(default_factory=set)
    delete_before_replace: bool = False
    delete: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "id": self.id,
            "inputs": _encode(self.inputs, self.secret_inputs),
            "outputs": _encode(self.outputs, self.secret_outputs),
            "delete_before_replace": self.delete_before_replace,
            "delete": self.delete,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> ResourceState:
        inputs, secret_inputs = _decode(doc.get("inputs", {}))
        outputs, secret_outputs = _decode(doc.get("outputs", {}))
        return cls(
            urn=doc["urn"],
            type=doc["type"],
            name=doc["name"],
            id=doc.get("id", ""),
            inputs=inputs,
            outputs=outputs,
            secret_inputs=secret_inputs,
            secret_outputs=secret_outputs,
            delete_before_replace=bool(doc.get("delete_before_replace", False)),
            delete=bool(doc.get("delete", False)),
        )


@dataclass
class PendingOperation:
    """An operation written to state before its RPC and cleared after it (rule 9).

    ``type`` is "creating", "updating" or "deleting"; ``inputs`` are the inputs sent
    (creating/updating) or the stored inputs (deleting); ``id`` is "" for creating;
    ``outputs`` are the stored outputs for updating/deleting (what Delete needs, rule 3).
    """

    type: str
    urn: str
    resource_type: str
    name: str
    id: str
    inputs: dict[str, Any]
    secret_inputs: set[str] = field(default_factory=set)
    outputs: dict[str, Any] = field(default_factory=dict)
    secret_outputs: set[str] = field(default_factory=set)

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.type,
            "urn": self.urn,
            "resource_type": self.resource_type,
            "name": self.name,
            "id": self.id,
            "inputs": _encode(self.inputs, self.secret_inputs),
            "outputs": _encode(self.outputs, self.secret_outputs),
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> PendingOperation:
        inputs, secret = _decode(doc.get("inputs", {}))
        outputs, secret_outputs = _decode(doc.get("outputs", {}))
        return cls(
            type=doc["type"],
            urn=doc["urn"],
            resource_type=doc.get("resource_type", ""),
            name=doc.get("name", ""),
            id=doc.get("id", ""),
            inputs=inputs,
            secret_inputs=secret,
            outputs=outputs,
            secret_outputs=secret_outputs,
        )


@dataclass
class State:
    """The whole state: resources in registration order, and pending operations."""

    stack: str
    project: str
    resources: list[ResourceState] = field(default_factory=list)
    pending_operations: list[PendingOperation] = field(default_factory=list)

    def get(self, urn: str) -> Optional[ResourceState]:
        """The live resource with this URN (not one pending deletion), or None."""
        return next((r for r in self.resources if r.urn == urn and not r.delete), None)

    def put(self, res: ResourceState) -> None:
        """Insert or replace (in place) the live resource with ``res.urn``."""
        for i, old in enumerate(self.resources):
            if old.urn == res.urn and not old.delete:
                self.resources[i] = res
                return
        self.resources.append(res)

    def remove(self, urn: str) -> None:
        """Remove the live resource with this URN (resources pending deletion stay)."""
        self.resources = [r for r in self.resources if r.urn != urn or r.delete]

    def discard(self, res: ResourceState) -> None:
        """Remove exactly this resource (a live one or one pending deletion)."""
        self.resources = [r for r in self.resources
                          if not (r is res or (r.urn, r.id, r.delete) == (res.urn, res.id, res.delete))]

    @property
    def pending_deletes(self) -> list[ResourceState]:
        """Replaced resources waiting for their Delete (``delete`` set), in state order."""
        return [r for r in self.resources if r.delete]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "note": (
                "engine-role harness state (omics_dynamic_testing), not a Pulumi checkpoint; "
                "secret values are stored in plaintext inside the secret marker, like "
                "`pulumi stack export --show-secrets`"
            ),
            "stack": self.stack,
            "project": self.project,
            "resources": [r.to_json() for r in self.resources],
            "pending_operations": [p.to_json() for p in self.pending_operations],
        }


def load_state(path: str, stack: str, project: str) -> State:
    """Read the state file at ``path``; a missing file is an empty state.

    Raises:
        ValueError: the file is not a harness state file (wrong ``format``).
    """
    if not os.path.exists(path):
        return State(stack=stack, project=project)
    with open(path, encoding="utf-8") as fh:
        doc = json.load(fh)
    if doc.get("format") != FORMAT:
        raise ValueError(f"{path} is not an omics_dynamic_testing state file (format {doc.get('format')!r})")
    return State(
        stack=doc.get("stack", stack),
        project=doc.get("project", project),
        resources=[ResourceState.from_json(r) for r in doc.get("resources", [])],
        pending_operations=[PendingOperation.from_json(p) for p in doc.get("pending_operations", [])],
    )


def save_state(path: str, state: State) -> None:
    """Write ``state`` to ``path`` atomically (tmp file + fsync + ``os.replace``)."""
    tmp = f"{path}.tmp"
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(state.to_json(), fh, indent=2, sort_keys=False)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
