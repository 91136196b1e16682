"""The HealthOmics service model, taken from botocore (``data/omics/2022-11-28``).

Everything the wire protocol needs comes from the model, not from hand copies:

* :func:`routes` - the request URI template and HTTP method of each emulated operation;
* :func:`parse_request` - path, querystring and JSON body members per the model's
  ``location``; timestamps parsed; integers converted;
* :func:`validate` - required members, string min/max/pattern/enum, list min/max,
  integer ranges; failures raise ``ValidationException`` with an AWS-style message
  naming the member, the value and the constraint;
* :func:`serialize` - output shapes to JSON, timestamps in the format the model states
  (``timestampFormat: iso8601`` for ``SyntheticTimestamp_date_time``);
* :func:`error_status` - the HTTP status of an error shape (``error.httpStatusCode``).

Java-style patterns: the model writes "any printable character" as
``[\\p{L}||\\p{M}||\\p{Z}||\\p{S}||\\p{N}||\\p{P}]+`` which Python's ``re`` cannot read;
such Unicode-category classes are translated to "any character but control characters".
Patterns are matched against the whole value (``re.fullmatch``), so ``[0-9]+`` rejects
IDs containing letters.
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Pattern, Tuple
from urllib.parse import unquote

import botocore.loaders
from botocore.model import OperationModel, ServiceModel, Shape
from botocore.utils import parse_timestamp

__all__ = [
    "OPERATIONS",
    "Route",
    "service_model",
    "routes",
    "match_route",
    "parse_request",
    "validate",
    "serialize",
    "error_status",
    "compile_pattern",
    "ModelValidationError",
]

#: The operations the emulator implements.
OPERATIONS: Tuple[str, ...] = (
    "CreateSequenceStore",
    "GetSequenceStore",
    "ListSequenceStores",
    "GetReadSetMetadata",
    "ListReadSets",
    "StartReadSetActivationJob",
    "GetReadSetActivationJob",
    "ListReadSetActivationJobs",
    "BatchDeleteReadSet",
)


class ModelValidationError(Exception):
    """A value breaks a constraint of the model; ``str()`` is the AWS-style message."""


@functools.lru_cache(maxsize=1)
def service_model() -> ServiceModel:
    """Return botocore's omics service model (loaded once) from botocore's data files: a
    loader reads no AWS profile or config file, so the emulator starts whatever
    ``AWS_PROFILE`` or ``AWS_CONFIG_FILE`` names."""
    return ServiceModel(botocore.loaders.create_loader().load_service_model("omics", "service-2"), "omics")


def error_status(shape_name: str) -> int:
    """HTTP status of the model's error shape ``shape_name`` (e.g. 429 for ThrottlingException).

    :raises KeyError: if the model has no such error shape.
    """
    shape = service_model().shape_for(shape_name)
    return int(shape.metadata["error"]["httpStatusCode"])


# ---------------------------------------------------------------- patterns

_UNICODE_CLASS = re.compile(r"\[(?:\\p\{[A-Za-z]+\}(?:\|\|)?)+\]")
_PRINTABLE = "[^\\x00-\\x1f\\x7f]"


@functools.cache
def compile_pattern(pattern: str) -> Optional[Pattern[str]]:
    """Translate a model (Java) regex into a compiled Python regex, or None if untranslatable."""
    translated = _UNICODE_CLASS.sub(lambda _m: _PRINTABLE, pattern)
    try:
        return re.compile(translated, re.DOTALL)
    except re.error:
        return None


# ---------------------------------------------------------------- routes


@dataclass(frozen=True)
class Route:
    """One operation's HTTP binding: ``method`` + ``regex`` over the path."""

    operation: str
    method: str
    regex: Pattern[str]
    literal_segments: int
    operation_model: OperationModel


def _compile_uri(template: str) -> Tuple[Pattern[str], int]:
    path = template.split("?", 1)[0]
    parts = []
    literals = 0
    for segment in path.strip("/").split("/"):
        m = re.fullmatch(r"\{([A-Za-z0-9_]+)(\+?)\}", segment)
        if m:
            name, greedy = m.groups()
            parts.append(f"(?P<{name}>.+)" if greedy else f"(?P<{name}>[^/]+)")
        else:
            literals += 1
            parts.append(re.escape(segment))
    return re.compile("^/" + "/".join(parts) + "/?$"), literals


@functools.lru_cache(maxsize=1)
def routes() -> Tuple[Route, ...]:
    """Routes of :data:`OPERATIONS` from the model (most literal segments first)."""
    model = service_model()
    out = []
    for name in OPERATIONS:
        op = model.operation_model(name)
        regex, literals = _compile_uri(op.http["requestUri"])
        out.append(Route(name, op.http["method"].upper(), regex, literals, op))
    out.sort(key=lambda r: -r.literal_segments)
    return tuple(out)


def match_route(method: str, path: str) -> Optional[Tuple[Route, Dict[str, str]]]:
    """Find the operation for ``method`` and (raw, still percent-encoded) ``path``.

    :returns: ``(route, path_params)`` with decoded parameters, or None.
    """
    for route in routes():
        if route.method != method:
            continue
        m = route.regex.match(path)
        if m:
            return route, {k: unquote(v) for k, v in m.groupdict().items()}
    return None


# ---------------------------------------------------------------- parsing


def _fmt(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= 80 else text[:77] + "..."


def _convert_in(shape: Shape, value: Any, path: str) -> Any:
    """Convert JSON values to Python per shape (timestamps to datetime)."""
    t = shape.type_name
    if value is None:
        return None
    if t == "structure" and isinstance(value, dict):
        members = shape.members
        return {k: (_convert_in(members[k], v, f"{path}.{k}" if path else k) if k in members else v)
                for k, v in value.items()}
    if t == "list" and isinstance(value, list):
        return [_convert_in(shape.member, v, f"{path}.{i}") for i, v in enumerate(value)]
    if t == "map" and isinstance(value, dict):
        return {k: _convert_in(shape.value, v, f"{path}.{k}") for k, v in value.items()}
    if t == "timestamp":
        if isinstance(value, bool):
            raise ModelValidationError(f"Value '{_fmt(value)}' at '{path}' is not a timestamp; send ISO 8601 or epoch seconds")
        try:
            return parse_timestamp(value)
        except (ValueError, TypeError, OverflowError):
            raise ModelValidationError(
                f"Value '{_fmt(value)}' at '{path}' is not a timestamp; send ISO 8601 (2024-01-31T12:00:00Z) or epoch seconds"
            ) from None
    return value


def _scalar_from_text(shape: Shape, text: str, path: str) -> Any:
    t = shape.type_name
    if t in ("integer", "long"):
        try:
            return int(text)
        except ValueError:
            raise ModelValidationError(f"Value '{_fmt(text)}' at '{path}' failed to satisfy constraint: Member must be an integer") from None
    if t == "boolean":
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        raise ModelValidationError(f"Value '{_fmt(text)}' at '{path}' failed to satisfy constraint: Member must be true or false")
    if t == "timestamp":
        return _convert_in(shape, text, path)
    return text


def parse_request(
    operation_model: OperationModel,
    path_params: Mapping[str, str],
    query: Mapping[str, str],
    headers: Mapping[str, str],
    body: bytes,
) -> Dict[str, Any]:
    """Build the operation's input parameters from the HTTP request, per the model.

    :raises ModelValidationError: on a body that is not a JSON object, a querystring
        integer that is not a number, or a malformed timestamp.
    """
    import json

    shape = operation_model.input_shape
    params: Dict[str, Any] = {}
    if shape is None:
        return params
    payload: Dict[str, Any] = {}
    if body:
        try:
            payload = json.loads(body)
        except ValueError:
            raise ModelValidationError("Request body is not valid JSON; send a JSON object") from None
        if not isinstance(payload, dict):
            raise ModelValidationError("Request body must be a JSON object")
    for name, member in shape.members.items():
        loc = member.serialization.get("location")
        wire = member.serialization.get("name", name)
        if loc == "uri":
            if wire in path_params:
                params[name] = path_params[wire]
        elif loc == "querystring":
            if wire in query:
                params[name] = _scalar_from_text(member, query[wire], name)
        elif loc == "header":
            if wire in headers:
                params[name] = _scalar_from_text(member, headers[wire], name)
        elif name in payload:
            params[name] = _convert_in(member, payload[name], name)
    return params


# ---------------------------------------------------------------- validation


def validate(shape: Shape, value: Any, path: str = "") -> None:
    """Check ``value`` against ``shape`` (recursively).

    :raises ModelValidationError: on the first broken constraint, with a message of the
        form ``Value 'x' at 'member' failed to satisfy constraint: ...``.
    """
    t = shape.type_name
    md = shape.metadata
    where = path or shape.name
    if t == "structure":
        if not isinstance(value, dict):
            raise ModelValidationError(f"Value at '{where}' must be an object")
        for req in shape.required_members:
            if value.get(req) is None:
                p = f"{path}.{req}" if path else req
                raise ModelValidationError(f"Value null at '{p}' failed to satisfy constraint: Member must not be null")
        members = shape.members
        for k, v in value.items():
            if k in members and v is not None:
                validate(members[k], v, f"{path}.{k}" if path else k)
        return
    if t == "list":
        if not isinstance(value, list):
            raise ModelValidationError(f"Value at '{where}' must be a list")
        n = len(value)
        if "min" in md and n < md["min"]:
            raise ModelValidationError(
                f"Value at '{where}' failed to satisfy constraint: Member must have length greater than or equal to {md['min']} (got {n} items)")
        if "max" in md and n > md["max"]:
            raise ModelValidationError(
                f"Value at '{where}' failed to satisfy constraint: Member must have length less than or equal to {md['max']} (got {n} items)")
        for i, v in enumerate(value):
            validate(shape.member, v, f"{where}.{i + 1}.member" if shape.member.type_name != "structure" else f"{where}.{i + 1}")
        return
    if t == "map":
        if not isinstance(value, dict):
            raise ModelValidationError(f"Value at '{where}' must be an object")
        return
    if t == "string":
        if not isinstance(value, str):
            raise ModelValidationError(f"Value '{_fmt(value)}' at '{where}' failed to satisfy constraint: Member must be a string")
        enum = getattr(shape, "enum", None)
        if enum and value not in enum:
            raise ModelValidationError(
                f"Value '{_fmt(value)}' at '{where}' failed to satisfy constraint: Member must satisfy enum value set: [{', '.join(enum)}]")
        n = len(value)
        if "min" in md and n < md["min"]:
            raise ModelValidationError(
                f"Value '{_fmt(value)}' at '{where}' failed to satisfy constraint: Member must have length greater than or equal to {md['min']}")
        if "max" in md and n > md["max"]:
            raise ModelValidationError(
                f"Value '{_fmt(value)}' at '{where}' failed to satisfy constraint: Member must have length less than or equal to {md['max']}")
        pattern = md.get("pattern")
        if pattern:
            rx = compile_pattern(pattern)
            if rx is not None and not rx.fullmatch(value):
                raise ModelValidationError(
                    f"Value '{_fmt(value)}' at '{where}' failed to satisfy constraint: Member must satisfy regular expression pattern: {pattern}")
        return
    if t in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ModelValidationError(f"Value '{_fmt(value)}' at '{where}' failed to satisfy constraint: Member must be an integer")
        if "min" in md and value < md["min"]:
            raise ModelValidationError(
                f"Value '{value}' at '{where}' failed to satisfy constraint: Member must have value greater than or equal to {md['min']}")
        if "max" in md and value > md["max"]:
            raise ModelValidationError(
                f"Value '{value}' at '{where}' failed to satisfy constraint: Member must have value less than or equal to {md['max']}")
        return
    if t == "boolean" and not isinstance(value, bool):
        raise ModelValidationError(f"Value '{_fmt(value)}' at '{where}' failed to satisfy constraint: Member must be a boolean")


# ---------------------------------------------------------------- serialisation


def _timestamp_out(value: Any, fmt: str) -> Any:
    if isinstance(value, _dt.datetime):
        epoch_s = value.timestamp() if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc).timestamp()
    else:
        epoch_s = float(value)
    if fmt == "unixTimestamp":
        return epoch_s
    dt = _dt.datetime.fromtimestamp(epoch_s, tz=_dt.timezone.utc)
    if fmt == "rfc822":
        return dt.strftime("%a, %d %b %Y %H:%M:%S GMT")
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def serialize(shape: Optional[Shape], value: Any, timestamp_format: Optional[str] = None) -> Any:
    """Turn an output value into JSON-ready data per ``shape``.

    Timestamps may be given as epoch seconds (float) or datetimes; they are written in
    the member's or shape's ``timestampFormat`` (rest-json default: unixTimestamp).
    Members not in the shape and ``None`` values are dropped.
    """
    if shape is None or value is None:
        return None
    t = shape.type_name
    if t == "structure":
        out = {}
        for name, member in shape.members.items():
            v = value.get(name)
            if v is None:
                continue
            fmt = member.serialization.get("timestampFormat")
            out[name] = serialize(member, v, fmt)
        return out
    if t == "list":
        return [serialize(shape.member, v) for v in value]
    if t == "map":
        return {k: serialize(shape.value, v) for k, v in value.items()}
    if t == "timestamp":
        fmt = timestamp_format or shape.serialization.get("timestampFormat") or shape.metadata.get("timestampFormat") or "unixTimestamp"
        return _timestamp_out(value, fmt)
    return value
