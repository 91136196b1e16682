"""Diff's and check's live look at HealthOmics: what they ask and what they make of the
answers (the provider decides when to look and builds the bounded
:class:`~omics_dynamic.aws.OmicsApi`; :mod:`omics_dynamic.provider`).

Both look up statuses with :func:`~omics_dynamic.activation.look_up_statuses`, which picks
its calls by cost, with ``partial``: a lookup its time budget (or call limit) stops
returns what it learned, ``complete`` False. Neither ever fails a preview for want of an
answer: no answer is a warning line on stderr (``<resource name>: warning: ...``).
Definitive answers are another matter: diff turns read sets seen not ACTIVE into a reason
to update, and check turns a missing store or unusable read sets into check failures.
"""

from __future__ import annotations

from typing import Callable, Optional

from . import messages
from .activation import StatusLookup, look_up_statuses, stderr_reporter
from .aws import OmicsApi
from .costmodel import ALL, BY_STATUS
from .errors import AwsCallError, store_missing_reason, unusable_reason
from .planning import status_class

__all__ = ["say", "diff_statuses", "not_active_reason", "check_statuses"]


def say(name: str, text: str) -> None:
    """Print ``<name>: <text>`` for resource ``name`` on the provider's stderr (the engine
    shows it as a diagnostic of the resource)."""
    stderr_reporter(f"{name}: {text}")


# --------------------------------------------------------------------------- diff

def diff_statuses(make_api: Callable[[], OmicsApi], name: str, store: str, ids: list[str],
                  budget_s: float) -> Optional[StatusLookup]:
    """Diff's lookup of ``ids``' statuses in ``store``, or None when it gave nothing usable
    (a warning line says why, and that diff uses state only).

    ``unseen_active``: a read set no status listing shows counts as ACTIVE, so an
    all-ACTIVE cohort costs the six status listings whatever the store's size; a read set
    that no longer exists counts as ACTIVE too when the status listings answered, and as
    NOT_FOUND when the unfiltered listing did.

    :param make_api: makes the bounded api (its errors are a warning too).
    :param budget_s: the lookup's budget in seconds, as the warning states it.
    :returns: the lookup, complete, or stopped with at least one read set seen not ACTIVE.
    """
    try:
        found = look_up_statuses(make_api(), store, ids, unseen_active=True, partial=True)
    except Exception as err:  # any failure: a live check never blocks a preview
        say(name, messages.live_check_failed(err))
        return None
    if not found.complete and all(s == "ACTIVE" for s in found.statuses.values()):
        say(name, messages.live_check_no_answer(budget_s, found, len(ids)))
        return None
    return found


def not_active_reason(found: StatusLookup, budget_s: float) -> Optional[str]:
    """Diff's reason to update from a lookup (:func:`diff_statuses`): how many read sets are
    not ACTIVE, per status, one example, and the volume ``pulumi up`` will activate (read
    sets and gigabases, from the listings' ``sequenceInformation.totalBaseCount``: no extra
    call); None when every read set looked up is ACTIVE."""
    if all(status == "ACTIVE" for status in found.statuses.values()):
        return None
    return messages.not_active_reason(found, budget_s)


# --------------------------------------------------------------------------- check

def check_statuses(make_api: Callable[[], OmicsApi], name: str, store: str, ids: list[str], create: bool,
                   max_calls: int) -> list[tuple[str, str]]:
    """Check's lookup of ``ids`` in ``store`` through the api ``make_api`` makes (bounded by
    its deadline) with at most ``max_calls`` calls: ``(property, reason)`` failures for
    definitive answers.

    - the store does not exist (ResourceNotFoundException, code and request ID kept):
      ``sequence_store_id``. A lookup that only read read sets one by one and found some
      missing asks one ListReadSets call to tell a missing store from missing read sets,
      when its budget has time left.
    - read sets the store does not hold or that are DELETED, DELETING or UPLOAD_FAILED
      (what create would refuse), also when found before the lookup stopped:
      ``read_set_ids``.

    No answer (no api: no region, bad settings, no credentials; or no answer from
    HealthOmics) is a warning line and no failure. With ``create``, a line says the volume
    create will activate (:func:`omics_dynamic.messages.create_preview`); otherwise a lookup that stopped says so.
    """
    try:
        api = make_api()
    except Exception as err:  # create says so; check warns
        say(name, messages.check_not_looked_up(create, err))
        return []
    try:
        found = look_up_statuses(api, store, ids, unseen_active=False, partial=True, max_calls=max_calls)
        bad = {rid: s for rid, s in found.statuses.items() if status_class(s) == "unusable"}
        if (not found.complete and "NOT_FOUND" in bad.values() and not found.calls.get(ALL)
                and not found.calls.get(BY_STATUS)):
            # Reads only: "not found" may be the store's; one listing call tells.
            if api.clock.now() < (api.deadline_s or 0):
                api.assert_store_exists(store)
            else:
                bad = {rid: s for rid, s in bad.items() if s != "NOT_FOUND"}
    except AwsCallError as err:
        if err.code == "ResourceNotFoundException":
            return [("sequence_store_id", store_missing_reason(store, api.region, err))]
        say(name, messages.check_no_answer(create, err))
        return []
    except Exception as err:  # no answer: check never fails for it
        say(name, messages.check_lookup_failed(create, err))
        return []
    if bad:
        return [("read_set_ids", unusable_reason(store, bad, len(ids)))]
    if create:
        say(name, messages.create_preview(store, len(ids), found))
    elif not found.complete:
        say(name, messages.check_lookup_stopped(create, found, len(ids)))
    return []
