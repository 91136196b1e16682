"""The cost model of status lookups (omics_dynamic.costmodel), on pure fakes: call counts
against the cheapest of the three ways chosen in hindsight, on small stores.

``FakeApi`` stands in for :class:`omics_dynamic.aws.OmicsApi` (the three calls the lookup
makes, counted); :func:`omics_dynamic.activation.look_up_statuses` drives the real race
against it, so these tests cover the IO loop's bookkeeping as well as the decisions.
"""

from __future__ import annotations

import gzip
import json
import math
import random
from pathlib import Path
from typing import Optional

import botocore
from hypothesis import given, settings
from hypothesis import strategies as st

from omics_dynamic.activation import look_up_statuses
from omics_dynamic.aws import Page
from omics_dynamic.costmodel import (
    ALL,
    BY_STATUS,
    GET,
    NON_ACTIVE_STATUSES,
    LookupRace,
    cursor_pays,
    format_bases,
    status_round_calls,
    volume_text,
)
from omics_dynamic.errors import ListingStuckError

STORE_ARN = "arn:aws:omics:us-east-1:123456789012:sequenceStore/1234567890"


class FakeApi:
    """A store as a list of ``(id, status, bases)`` in listing order; ``page_size`` read sets
    a page (the service may give fewer than 100)."""

    def __init__(self, read_sets, page_size: int = 100, stuck: tuple = ()):
        self.read_sets = list(read_sets)
        self.page_size = page_size
        self.stuck = set(stuck)  # listings (None: unfiltered, or a status) that repeat a token
        self.calls = {ALL: 0, BY_STATUS: 0, GET: 0}
        self.by_id = {rid: (status, bases) for rid, status, bases in self.read_sets}
        self.deadline_s: Optional[float] = None  # OmicsApi's: no time budget here

    def _item(self, rid: str, status: str, bases: Optional[int]) -> dict:
        item = {"id": rid, "status": status, "arn": f"{STORE_ARN}/readSet/{rid}"}
        if bases is not None:
            item["sequenceInformation"] = {"totalBaseCount": bases}
        return item

    def read_set_pages(self, store: str, status: Optional[str] = None):
        items = [self._item(*rs) for rs in self.read_sets if status is None or rs[1] == status]
        pages = [items[i:i + self.page_size] for i in range(0, len(items), self.page_size)] or [[]]
        for i, page in enumerate(pages):
            self.calls[ALL if status is None else BY_STATUS] += 1
            if status in self.stuck and i == 1:
                raise ListingStuckError("ListReadSets", 1, [])
            yield Page(page, None if i == len(pages) - 1 else f"t{i}")

    def get_read_set(self, store: str, rid: str) -> Optional[dict]:
        self.calls[GET] += 1
        found = self.by_id.get(rid)
        return None if found is None else self._item(rid, *found)

    def get_read_set_status(self, store: str, rid: str) -> str:
        found = self.get_read_set(store, rid)
        return "NOT_FOUND" if found is None else found["status"]

    def assert_store_exists(self, store: str) -> None:
        pass


def make_store(statuses, bases: Optional[int] = 90_000_000_000):
    return [(f"{1_000_000_000 + i}", status, bases) for i, status in enumerate(statuses)]


def hindsight(api: FakeApi, wanted: list, unseen_active: bool) -> dict:
    """Each pure way's calls, computed from the whole store (what nobody knows online)."""
    p = api.page_size
    position = {rid: i for i, (rid, _, _) in enumerate(api.read_sets)}
    existing = [position[r] for r in wanted if r in position]
    full = max(1, math.ceil(len(api.read_sets) / p))
    a = full if len(existing) < len(wanted) or not existing else math.ceil((max(existing) + 1) / p)
    counts = {s: sum(1 for _, st_, _ in api.read_sets if st_ == s) for s in NON_ACTIVE_STATUSES}
    b = sum(max(1, math.ceil(n / p)) for n in counts.values())
    k = len(wanted)
    ways = {"a": a, "b": b, "k": k}
    if not unseen_active:
        # Create's mode: the status listings, then the unfiltered listing or a read each for
        # the requested read sets they did not show.
        rest = [position[r] for r in wanted if r in position and api.by_id[r][0] == "ACTIVE"]
        rest_a = math.ceil((max(rest) + 1) / p) if rest else 0
        ways["b"] = b + min(rest_a, len(rest))
    return ways


def run(api: FakeApi, wanted: list, unseen_active: bool, **kw):
    found = look_up_statuses(api, "1234567890", wanted, unseen_active=unseen_active, **kw)
    return found, dict(api.calls)


# -- the rule's decisions in bench/cost.py's cases, scaled down -------------------------------
def test_a_small_store_costs_one_unfiltered_page():
    """100 read sets are one page: the status listings (6 calls) are never tried."""
    api = FakeApi(make_store(["ACTIVE"] * 90 + ["ARCHIVED"] * 10))
    wanted = [rid for rid, _, _ in api.read_sets]
    for unseen_active in (True, False):
        api.calls = {ALL: 0, BY_STATUS: 0, GET: 0}
        found, calls = run(api, wanted, unseen_active)
        assert calls == {ALL: 1, BY_STATUS: 0, GET: 0}
        assert found.statuses == {rid: s for rid, s, _ in api.read_sets}


def test_an_all_active_cohort_costs_the_six_status_listings_in_the_live_check():
    """Target 1 scaled down: an all-ACTIVE cohort filling its store costs one call per
    non-ACTIVE status (10 unfiltered pages, 1,000 reads)."""
    api = FakeApi(make_store(["ACTIVE"] * 1000))
    wanted = [rid for rid, _, _ in api.read_sets]
    found, calls = run(api, wanted, unseen_active=True)
    assert calls == {ALL: 0, BY_STATUS: 6, GET: 0}
    assert set(found.statuses.values()) == {"ACTIVE"} and found.assumed_active == 1000
    assert found.others_non_active == {}


def test_a_cohort_in_a_larger_store_costs_what_is_not_active_there():
    """Target 2 scaled down: 1,000 ACTIVE requested in a store of 10,000 with 150 ARCHIVED
    elsewhere: the ARCHIVED listing's 2 pages and 5 empty listings, 7 calls (the unfiltered
    listing would cost up to 100)."""
    statuses = ["ACTIVE"] * 10_000
    rng = random.Random(1)
    for i in rng.sample(range(1000, 10_000), 150):
        statuses[i] = "ARCHIVED"
    api = FakeApi(make_store(statuses))
    wanted = [rid for rid, _, _ in api.read_sets[:1000]]
    found, calls = run(api, wanted, unseen_active=True)
    assert calls == {ALL: 0, BY_STATUS: 7, GET: 0}
    assert set(found.statuses.values()) == {"ACTIVE"}
    assert found.others_non_active == {"ARCHIVED": 150}


def test_create_mode_must_show_unseen_read_sets_exist():
    """Create's discovery may not take an unseen read set as ACTIVE: 1,000 ACTIVE requested
    in a store of 1,000 cost the unfiltered listing (10 pages), which also shows they exist."""
    api = FakeApi(make_store(["ACTIVE"] * 1000))
    wanted = [rid for rid, _, _ in api.read_sets]
    found, calls = run(api, wanted, unseen_active=False)
    assert calls[ALL] == 10 and calls[ALL] + calls[BY_STATUS] + calls[GET] <= 2 * 10
    assert found.assumed_active == 0 and set(found.statuses.values()) == {"ACTIVE"}


def test_a_missing_read_set_is_not_found_in_create_mode_and_active_in_the_live_check():
    statuses = ["ACTIVE"] * 2000
    statuses[5] = "ARCHIVED"
    api = FakeApi(make_store(statuses))
    wanted = [api.read_sets[5][0], api.read_sets[1500][0], "9999999999"]
    exact, _ = run(api, wanted, unseen_active=False)
    assert exact.statuses == {wanted[0]: "ARCHIVED", wanted[1]: "ACTIVE", "9999999999": "NOT_FOUND"}
    api.calls = {ALL: 0, BY_STATUS: 0, GET: 0}
    live, calls = run(api, wanted, unseen_active=True)
    assert live.statuses[wanted[0]] == "ARCHIVED" and live.statuses[wanted[1]] == "ACTIVE"
    assert live.statuses["9999999999"] in ("ACTIVE", "NOT_FOUND")  # "gone": either answer is allowed
    assert sum(calls.values()) <= 3  # three reads at most


def test_an_archived_cohort_in_a_big_store_is_found_by_the_archived_listing():
    """1,000 ARCHIVED requested, spread over a store of 100,000 otherwise ACTIVE: the status
    listings find all of them (15 calls); the unfiltered listing would need ~1,000 pages and
    the reads 1,000. The guard keeps the status listings within the unfiltered listing's
    lower bound (a page could show the 1,000 any time), so the other two ways take a few
    calls too: within 3 x 15, all three ways being used."""
    statuses = ["ACTIVE"] * 100_000
    picks = random.Random(2).sample(range(100_000), 1000)
    for i in picks:
        statuses[i] = "ARCHIVED"
    api = FakeApi(make_store(statuses))
    wanted = [api.read_sets[i][0] for i in picks]
    found, calls = run(api, wanted, unseen_active=False)
    assert set(found.statuses.values()) == {"ARCHIVED"}
    assert calls[BY_STATUS] == 5 + 10
    assert sum(calls.values()) <= 3 * 15 and found.unguarded_steps == 0
    assert found.volume() == (1000, 1000 * 90_000_000_000, 0)


def test_a_stuck_listing_is_left_to_the_other_ways():
    api = FakeApi(make_store(["ACTIVE"] * 300 + ["ACTIVATING"] * 250), stuck=("ACTIVATING",))
    wanted = [rid for rid, _, _ in api.read_sets[::50]]
    found, _ = run(api, wanted, unseen_active=True)
    assert found.statuses == {rid: api.by_id[rid][0] for rid in wanted}


def test_volume_base_counts_arn_and_missing_counts():
    api = FakeApi(make_store(["ARCHIVED"] * 3 + ["ACTIVE"] * 2, bases=None))
    api.read_sets[0] = (api.read_sets[0][0], "ARCHIVED", 50_000_000_000)
    api.by_id = {rid: (s, b) for rid, s, b in api.read_sets}
    found, _ = run(api, [rid for rid, _, _ in api.read_sets], unseen_active=True)
    assert found.volume("ARCHIVED") == (3, 50_000_000_000, 2)
    assert found.store_arn == STORE_ARN
    assert volume_text(*found.volume()) == "3 read sets (50.0 Gbases; 2 read sets without a base count)"
    assert volume_text(1, 1_500_000_000) == "1 read set (1.5 Gbases)"
    assert format_bases(9_000_000_000_000_000) == "9,000,000.0 Gbases"


def test_non_active_statuses_are_the_models_enum_but_active():
    path = Path(botocore.__file__).parent / "data/omics/2022-11-28/service-2.json.gz"
    model = json.loads(gzip.open(path).read())
    enum = model["shapes"]["ReadSetStatus"]["enum"]
    assert sorted(NON_ACTIVE_STATUSES) == sorted(s for s in enum if s != "ACTIVE")
    assert NON_ACTIVE_STATUSES[-1] == "ARCHIVED"  # a failed activation goes back: read last


def test_cursor_pays_compares_its_pages_with_one_status_round():
    assert status_round_calls({}) == 6 and status_round_calls({"ARCHIVED": 250}) == 8
    assert cursor_pays(12, {}) and not cursor_pays(13, {})  # within 2 x the 6 calls at the end
    assert not cursor_pays(1000, {})  # 100,000 read sets: 1,000 pages against 6 calls
    assert cursor_pays(30, {"ARCHIVED": 1000})  # 30 pages against 15 calls
    assert cursor_pays(10_000, None)  # unknown store: the known cost wins


def test_the_guard_lets_a_way_call_only_below_every_lower_bound():
    race = LookupRace(1000, unseen_active=True)
    assert race.lower_bound(ALL) == 10 and race.lower_bound(BY_STATUS) == 6 and race.lower_bound(GET) == 1000
    assert race.next_step().way == BY_STATUS  # expected 6 < 10 < 1000
    for _ in range(5):
        race.on_status_page(0, last=True)
    # The ARCHIVED listing keeps going: its bound grows, the unfiltered listing's does not.
    for _ in range(4):
        race.on_status_page(0, last=False)
    assert race.lower_bound(BY_STATUS) == 10
    assert race.next_step().way == BY_STATUS  # 9 + 1 <= min(10, 10, 1000)
    race.on_status_page(0, last=False)
    assert race.lower_bound(BY_STATUS) == 11
    assert race.next_step().way == ALL  # the status listings may not spend beyond 10 now


# -- the bound, on many small stores ----------------------------------------------------------
@st.composite
def stores(draw):
    n = draw(st.integers(min_value=1, max_value=900))
    weights = draw(st.sampled_from([
        {"ACTIVE": 1.0},
        {"ACTIVE": 0.9, "ARCHIVED": 0.1},
        {"ACTIVE": 0.5, "ARCHIVED": 0.5},
        {"ARCHIVED": 1.0},
        {"ACTIVE": 0.6, "ARCHIVED": 0.2, "ACTIVATING": 0.1, "DELETED": 0.05, "UPLOAD_FAILED": 0.05},
    ]))
    seed = draw(st.integers(min_value=0, max_value=2**20))
    rng = random.Random(seed)
    statuses = rng.choices(list(weights), weights=list(weights.values()), k=n)
    k = draw(st.integers(min_value=1, max_value=n))
    layout = draw(st.sampled_from(["spread", "first", "last"]))
    if layout == "spread":
        picks = rng.sample(range(n), k)
    elif layout == "first":
        picks = list(range(k))
    else:
        picks = list(range(n - k, n))
    page_size = draw(st.sampled_from([100, 100, 7]))
    return statuses, picks, page_size


@settings(max_examples=250, deadline=None)
@given(stores(), st.booleans())
def test_calls_stay_within_the_bound_of_the_cheapest_way_in_hindsight(case, unseen_active):
    """At most 3 x the cheapest way in hindsight, and at most 2 x when one of the three ways
    was never used (module docstring of omics_dynamic.costmodel); the statuses are right."""
    statuses, picks, page_size = case
    api = FakeApi(make_store(statuses), page_size=page_size)
    wanted = [api.read_sets[i][0] for i in picks]
    found, calls = run(api, wanted, unseen_active)
    truth = {rid: api.by_id[rid][0] for rid in wanted}
    if unseen_active:
        assert {r: s for r, s in found.statuses.items() if s != "ACTIVE"} == {
            r: s for r, s in truth.items() if s != "ACTIVE"}
    else:
        assert found.statuses == truth
    best = min(hindsight(api, wanted, unseen_active).values())
    total = sum(calls.values())
    used = sum(1 for n in calls.values() if n)
    assert found.unguarded_steps == 0
    assert total <= used * best, (calls, hindsight(api, wanted, unseen_active))
    assert used < 3 or total <= 3 * best
