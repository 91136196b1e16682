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

from collections import Counter
from typing import Any, Callable, Iterable, Optional

from .activation import StatusLookup, look_up_statuses, stderr_reporter
from .aws import OmicsApi
from .costmodel import ALL, BY_STATUS, volume_text
from .errors import AwsCallError, store_missing_reason, unusable_reason
from .planning import status_class, undocumented_statuses

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
        say(name, f"warning: live status check failed, using state only: {err}")
        return None
    if not found.complete and all(s == "ACTIVE" for s in found.statuses.values()):
        say(name, f"warning: live status check got no usable answer within {budget_s:g}s "
                  f"({len(found.statuses)} of {len(ids)} statuses known, all ACTIVE)"
                  f"{why_stopped(found)}; using state only")
        return None
    return found


def not_active_reason(found: StatusLookup, budget_s: float) -> Optional[str]:
    """Diff's reason to update from a lookup (:func:`diff_statuses`): how many read sets are
    not ACTIVE, per status, one example, and the volume ``pulumi up`` will activate (read
    sets and gigabases, from the listings' ``sequenceInformation.totalBaseCount``: no extra
    call); None when every read set looked up is ACTIVE."""
    not_active = {rid: s for rid, s in found.statuses.items() if s != "ACTIVE"}
    if not not_active:
        return None
    counts = ", ".join(f"{n} {s}" for s, n in sorted(Counter(not_active.values()).items()))
    read_sets, bases, without = found.volume("ARCHIVED")
    then = (f"`pulumi up` will activate {volume_text(read_sets, bases, without)}" if read_sets
            else "`pulumi up` waits until they are ACTIVE")
    looked_up = len(found.statuses)
    total = str(looked_up) if found.complete else f"the {looked_up} looked up within {budget_s:g}s"
    return (f"{len(not_active)} of {total} read sets are not ACTIVE in HealthOmics "
            f"({counts}; e.g. {min(not_active)}); {then}{undocumented_note(not_active.values())}")


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
    create will activate (:func:`_say_volume`); otherwise a lookup that stopped says so.
    """
    what = "create: the volume to activate is unknown" if create else "the new read sets were not checked"
    try:
        api = make_api()
    except Exception as err:  # create says so; check warns
        say(name, f"warning: {what}: {err}")
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
        say(name, f"warning: {what}: HealthOmics gave no answer ({err})")
        return []
    except Exception as err:  # no answer: check never fails for it
        say(name, f"warning: {what}: the live lookup failed: {err}")
        return []
    if bad:
        return [("read_set_ids", unusable_reason(store, bad, len(ids)))]
    if create:
        _say_volume(name, store, ids, found)
    elif not found.complete:
        say(name, f"warning: {what}: the live lookup stopped after {len(found.statuses)} of "
                  f"{len(ids)} statuses known{why_stopped(found)}")
    return []


def _say_volume(name: str, store: str, ids: list[str], found: StatusLookup) -> None:
    """The preview line of a new resource: what create will activate, or that the
    volume is unknown (with what the lookup saw before it stopped)."""
    read_sets, bases, without = found.volume("ARCHIVED")
    counts = ", ".join(f"{n:,} {s}" for s, n in sorted(Counter(found.statuses.values()).items()))
    if found.complete:
        say(name, f"create: will activate {volume_text(read_sets, bases, without)} of {len(ids):,} "
                  f"in sequence store {store} ({counts}){undocumented_note(found.statuses.values())}")
        return
    say(name, f"warning: create: the volume to activate is unknown: the live lookup stopped "
              f"with {len(found.statuses):,} of {len(ids):,} statuses known"
              + (f" ({counts}: at least {volume_text(read_sets, bases, without)} to activate)"
                 if counts else "")
              + f"{why_stopped(found)}; `pulumi up` reads them all")


# --------------------------------------------------------------------------- wording

def undocumented_note(statuses: Iterable[str]) -> str:
    """``" (FINALIZING: a status HealthOmics does not document, waited for like ACTIVATING
    until timeout_seconds)"`` for the statuses among ``statuses`` that
    :data:`~omics_dynamic.planning.STATUS_CLASS` does not know; "" when there is none."""
    names = undocumented_statuses(statuses)
    if not names:
        return ""
    return (f" ({', '.join(names)}: a status HealthOmics does not document, waited for like "
            "ACTIVATING until timeout_seconds)")


def why_stopped(found: Any) -> str:
    """``": <why>"`` for a status lookup its time budget stopped (the call that got no answer
    and botocore's last failed attempt; what to check when the endpoint was unreachable);
    "" for a lookup that was not stopped."""
    err = getattr(found, "stopped_by", None)
    if err is None:
        return ""
    advice = err.unreachable_advice()
    return f": {err}" + (f". {advice}" if advice else "")
