"""Pages of list operations: nextToken encoding, the profile's page size, order and
empty pages, and the ``stuck_next_token`` fault.

A nextToken is base64 JSON ``{"after": sort key of the last item served (null: the
start), "f": fingerprint of the listing's scope, filter and order, "e": empty pages
served at this position}``. A token is refused (ValidationException) when it does not
decode or was issued for another scope, filter or order; it has no expiry.
"""

from __future__ import annotations

import base64
import datetime as _dt
import hashlib
import json
from collections import defaultdict
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Tuple

from sortedcontainers import SortedList

from . import exceptions as exc
from .profiles import Behaviour

__all__ = ["paginate", "sorted_after", "in_window", "epoch_s", "read_set_matcher", "READ_SET_FILTERS", "OrderedIndex",
           "creation_window"]

#: ListReadSets filter member -> the read set attribute it is compared with (exact match).
READ_SET_FILTERS = {
    "name": "name",
    "status": "status",
    "sampleId": "sample_id",
    "subjectId": "subject_id",
    "creationType": "creation_type",
    "generatedFrom": "generated_from",
    "referenceArn": "reference_arn",
}


def _json_default(value: Any) -> Any:
    if isinstance(value, _dt.datetime):
        return value.timestamp()
    return str(value)


def epoch_s(value: Any) -> float:
    """A parsed timestamp (datetime) or a number as epoch seconds."""
    if isinstance(value, _dt.datetime):
        return value.timestamp()
    return float(value)


def in_window(t_s: float, flt: Mapping[str, Any]) -> bool:
    """Whether ``t_s`` is within the filter's ``createdAfter``/``createdBefore`` (both
    inclusive; either may be absent)."""
    after = flt.get("createdAfter")
    before = flt.get("createdBefore")
    if after is not None and t_s < epoch_s(after):
        return False
    if before is not None and t_s > epoch_s(before):
        return False
    return True


def read_set_matcher(flt: Mapping[str, Any], skip: Tuple[str, ...] = ()) -> Callable[[Any], bool]:
    """A predicate ``read set -> bool`` for a ListReadSets ``filter`` (``ReadSetFilter``).

    Every member given must match; members in ``skip`` are left out (an index already
    applied them). The API reference (API_ReadSetFilter) gives only "A name to filter
    on", "A status to filter on", "A genome reference ARN to filter on", "The filter's
    start/end date", "The read set source's sample/subject ID", "Where the source
    originated", "The creation type of the read set"; it does not say whether matches
    are exact, prefix or case-insensitive. The emulator's choices:

    * ``name``, ``sampleId``, ``subjectId``, ``status``, ``creationType``,
      ``generatedFrom`` (``sequenceInformation.generatedFrom``), ``referenceArn``:
      exact, case-sensitive equality. Read sets without the member never match, except
      ``referenceArn: ""`` (the model's pattern ``$|^arn:.+`` allows the empty string),
      which matches read sets that have no reference (unaligned ones).
    * ``createdAfter`` / ``createdBefore``: ``creationTime`` within them, both inclusive.
    """
    checks = []
    for member, attr in READ_SET_FILTERS.items():
        want = flt.get(member)
        if want is None or member in skip:
            continue
        checks.append((attr, None if member == "referenceArn" and want == "" else want))
    windowed = flt.get("createdAfter") is not None or flt.get("createdBefore") is not None

    def matches(rs: Any) -> bool:
        for attr, want in checks:
            if getattr(rs, attr) != want:
                return False
        return not windowed or in_window(rs.creation_time_s, flt)

    return matches


class OrderedIndex:
    """Items (read sets or jobs: objects with ``id`` and ``status``) in listing order,
    all of them and per status, as sorted keys (``sortedcontainers.SortedList``).

    A key is the profile's sort key, whose last element is the item's ID (see
    :meth:`.profiles.Behaviour.order_key`), so a key leads back to its item. Adding an
    item or moving it to another status costs O(log n); reading k keys from any
    position costs O(log n + k). Built in O(n log n) (O(n) when the items come in key
    order); the owner rebuilds it when the profile's order changes.

    :param order: the ``list_order`` the keys follow.
    :param key: item -> sort key.
    :param items: the items to index.
    """

    def __init__(self, order: str, key: Callable[[Any], tuple], items: Iterable[Any]) -> None:
        self.order = order
        self.key = key
        groups: Dict[str, List[tuple]] = defaultdict(list)
        keys = []
        for item in items:
            k = key(item)
            keys.append(k)
            groups[item.status].append(k)
        self.all = SortedList(keys)
        self.by_status: Dict[str, SortedList] = {status: SortedList(ks) for status, ks in groups.items()}

    def __len__(self) -> int:
        return len(self.all)

    def add(self, item: Any) -> None:
        """Index a new item."""
        k = self.key(item)
        self.all.add(k)
        self._status_list(item.status).add(k)

    def remove(self, item: Any) -> None:
        """Forget an item (it is being replaced)."""
        k = self.key(item)
        self.all.remove(k)
        self.by_status[item.status].remove(k)

    def move(self, item: Any, old_status: str, new_status: str) -> None:
        """The item's status changed from ``old_status`` to ``new_status``."""
        if old_status != new_status:
            k = self.key(item)
            self.by_status[old_status].remove(k)
            self._status_list(new_status).add(k)

    def count(self, status: str) -> int:
        """Items in ``status``."""
        found = self.by_status.get(status)
        return len(found) if found is not None else 0

    def keys(self, after: Optional[tuple] = None, status: Optional[str] = None,
             start: Optional[tuple] = None, stop: Optional[tuple] = None) -> Iterator[tuple]:
        """Keys in order, lazily: those of ``status`` (all when None), greater than
        ``after`` and at least ``start`` (either may be None), up to ``stop`` inclusive."""
        keys = self.all if status is None else self.by_status.get(status)
        if not keys:
            return iter(())
        lower, inclusive = after, False
        if start is not None and (lower is None or start > lower):
            lower, inclusive = start, True
        return keys.irange(minimum=lower, maximum=stop, inclusive=(inclusive, True))

    def _status_list(self, status: str) -> SortedList:
        found = self.by_status.get(status)
        if found is None:
            found = self.by_status[status] = SortedList()
        return found


def creation_window(order: str, flt: Mapping[str, Any]) -> Tuple[Optional[tuple], Optional[tuple]]:
    """``(start, stop)`` keys of :meth:`OrderedIndex.keys` for the filter's
    createdAfter/createdBefore when the order is by creation time (``(None, None)``
    otherwise: the filter is then checked item by item)."""
    if order != "creation":
        return None, None
    after, before = flt.get("createdAfter"), flt.get("createdBefore")
    start = (epoch_s(after),) if after is not None else None
    stop = (epoch_s(before), "\U0010ffff") if before is not None else None
    return start, stop


def _decode(token: str, fingerprint: str) -> Tuple[Optional[tuple], int]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()).decode())
        after = tuple(data["after"]) if data["after"] is not None else None
        token_fp, served = data["f"], int(data.get("e", 0))
    except (ValueError, KeyError, TypeError):
        raise exc.ValidationException(
            f"Invalid nextToken {token[:40]!r}; pass the nextToken of the previous response unchanged") from None
    if token_fp != fingerprint:
        raise exc.ValidationException(
            "nextToken was issued for a different filter or resource; repeat the first request without nextToken")
    return after, served


def _encode(after: Optional[tuple], fingerprint: str, empties: int) -> str:
    payload = json.dumps({"after": list(after) if after is not None else None, "f": fingerprint, "e": empties})
    return base64.urlsafe_b64encode(payload.encode()).decode()


def paginate(
    items_after: Callable[[Optional[tuple]], Iterable[Tuple[tuple, Any]]],
    params: Mapping[str, Any],
    scope: str,
    behaviour: Behaviour,
    stuck: bool = False,
) -> Tuple[List[Any], Optional[str]]:
    """One page of a listing.

    :param items_after: ``after -> iterable of (sort key, item)`` in ascending key order,
        only items matching the request's filter and with key > ``after`` (all when
        None). It is consumed lazily: at most one item past the page is read, so a
        page costs what the iterable costs for that many items.
    :param params: the request (``maxResults``, ``nextToken``, ``filter``).
    :param scope: what is listed (e.g. ``"readsets:<store id>"``); part of the fingerprint.
    :param behaviour: page size, order (fingerprint) and empty pages.
    :param stuck: the ``stuck_next_token`` fault: answer the request's own nextToken
        (or, for a first request, a token even when nothing follows).
    :returns: ``(items of the page, nextToken or None)``.
    :raises ValidationException: a malformed token, or one of another listing.
    """
    limit = behaviour.page_limit(params.get("maxResults"))
    fingerprint = hashlib.sha256(
        json.dumps([scope, params.get("filter"), behaviour.list_order], sort_keys=True, default=_json_default).encode()
    ).hexdigest()[:16]
    token = params.get("nextToken")
    after, served = _decode(token, fingerprint) if token else (None, 0)
    if served < behaviour.empty_pages:
        return [], (token if stuck and token else _encode(after, fingerprint, served + 1))
    page: List[Tuple[tuple, Any]] = []
    more = False
    for entry in items_after(after):
        if len(page) == limit:
            more = True
            break
        page.append(entry)
    next_token = _encode(page[-1][0], fingerprint, 0) if more else None
    if stuck:
        next_token = token or next_token or _encode(page[-1][0] if page else after, fingerprint, 0)
    return [item for _, item in page], next_token


def sorted_after(items: Iterable[Any], key: Callable[[Any], tuple]) -> Callable[[Optional[tuple]], Iterable[Tuple[tuple, Any]]]:
    """``items_after`` for :func:`paginate` over a small collection: sort on each call."""
    keyed = sorted(((key(it), it) for it in items), key=lambda pair: pair[0])

    def items_after(after: Optional[tuple]) -> Iterable[Tuple[tuple, Any]]:
        return keyed if after is None else (pair for pair in keyed if pair[0] > after)

    return items_after
