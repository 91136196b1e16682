"""Property bags on the wire: plain Python values <-> ``google.protobuf.Struct``.

The harness keeps properties as plain JSON-like values (str, float, bool, None, list,
dict) plus a set of top-level keys that are secret. It serialises them with the SDK's own
``pulumi.runtime.rpc.serialize_properties`` and reads replies with
``pulumi.runtime.rpc.deserialize_properties(..., keep_unknowns=True)``, so values look
to the provider exactly as the SDK's serialisation makes them (numbers become floats:
``3`` arrives as ``3.0``, as under the real engine, because ``Struct`` only has doubles).
"""

from __future__ import annotations

import asyncio
from typing import Any, Iterable, Mapping

from google.protobuf import struct_pb2
from pulumi.output import Unknown
from pulumi.runtime import rpc

#: Sentinel for a value not known yet (preview). It is the SDK's own unknown string
#: (``pulumi.runtime.rpc.UNKNOWN``), so it serialises as an unknown (design.md section 2, rule 4).
UNKNOWN: str = rpc.UNKNOWN


def _run(coro: Any) -> Any:
    """Run a coroutine on a private event loop (the SDK server does the same per call)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


def to_struct(
    props: Mapping[str, Any],
    secret_keys: Iterable[str] = (),
    *,
    send_secrets: bool,
) -> struct_pb2.Struct:
    """Serialise a property bag for an RPC.

    Args:
        props: dict[str, JSON-like], values may be ``UNKNOWN`` (or ``pulumi.output.Unknown``).
        secret_keys: top-level keys that are secret.
        send_secrets: bool, whether the provider accepts secrets. The SDK server answers
            ``Configure`` with ``acceptSecrets=False``, so the engine sends secrets as
            plaintext; when True they are wrapped in the secret signature.

    Returns:
        ``struct_pb2.Struct``.
    """
    secret = set(secret_keys)
    bag = {
        k: (rpc.wrap_rpc_secret(v) if send_secrets and k in secret else v)
        for k, v in props.items()
    }
    return _run(rpc.serialize_properties(bag, {}))


def _plain(value: Any) -> Any:
    if isinstance(value, Unknown):
        return UNKNOWN
    if rpc.is_rpc_secret(value):
        return _plain(rpc.unwrap_rpc_secret(value))
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def from_struct(struct: struct_pb2.Struct) -> tuple[dict[str, Any], set[str]]:
    """Deserialise an RPC property bag.

    Returns:
        (props, secret_keys): plain values with unknowns as ``UNKNOWN``; the top-level keys
        that arrived secret (the SDK pushes nested secretness up to the top-level key).
    """
    raw = rpc.deserialize_properties(struct, keep_unknowns=True)
    secret = {k for k, v in raw.items() if rpc.is_rpc_secret(v)}
    return {k: _plain(v) for k, v in raw.items()}, secret


def has_unknowns(value: Any) -> bool:
    """True when ``value`` (any JSON-like value) holds ``UNKNOWN`` anywhere."""
    if isinstance(value, Unknown) or (isinstance(value, str) and value == UNKNOWN):
        return True
    if isinstance(value, dict):
        return any(has_unknowns(v) for v in value.values())
    if isinstance(value, list):
        return any(has_unknowns(v) for v in value)
    return False
