"""Indexed listings and synthetic stores: pages follow every status change, cost what
the page holds (counted in items examined, not timed), and generate= makes stores fast
with documented contents. Small stores; the 1,000,000-read-set figures are
bench/emulator_scale.py's."""

from __future__ import annotations

import pytest

import omics_emulator.operations as operations_module
from omics_emulator import SeedError
from omics_emulator.backend import ARCHIVE_AFTER_S
from omics_emulator.synthetic import SEQUENCE_INFORMATION


def _ids(client, store, **flt):
    pages = client.get_paginator("list_read_sets").paginate(sequenceStoreId=store, filter=flt, PaginationConfig={"PageSize": 7})
    return [r["id"] for page in pages for r in page["readSets"]]


def _by_status(emulator, store, status):
    return sorted(rid for rid, s in emulator.read_set_statuses(store).items() if s == status)


def test_generated_store_contents(emulator, omics_client):
    now = emulator.now()
    store = emulator.create_store(name="big", generate={"ARCHIVED": 5, "ACTIVE": 20, "ACTIVATING": 2})
    statuses = emulator.read_set_statuses(store)
    ids = sorted(statuses)
    assert len(ids) == 27 and [int(i) for i in ids] == list(range(int(ids[0]), int(ids[0]) + 27))
    assert sorted(statuses.values()) == sorted(["ARCHIVED"] * 5 + ["ACTIVE"] * 20 + ["ACTIVATING"] * 2)
    assert [statuses[i] for i in ids[:5]] != ["ARCHIVED"] * 5  # spread, not grouped
    listed = [r for page in omics_client().get_paginator("list_read_sets").paginate(sequenceStoreId=store) for r in page["readSets"]]
    assert [r["id"] for r in listed] == ids  # creation order is ID order
    times = [r["creationTime"].timestamp() for r in listed]
    assert times == pytest.approx([now - 27 + i for i in range(27)])
    assert all(r["sequenceInformation"] == SEQUENCE_INFORMATION and r["fileType"] == "FASTQ" and "name" not in r
               for r in listed)
    emulator.advance(70)  # generated ACTIVATING read sets finish like seeded ones
    assert sorted(emulator.read_set_statuses(store).values()).count("ACTIVE") == 22


def test_generated_layout_is_deterministic_and_ids_stay_unique(aws_test_env):
    from omics_emulator import Emulator

    layouts = []
    for _ in range(2):
        emu = Emulator(manual_clock=True, rate_limit=0)
        store = emu.create_store(store_id="3000000001", generate={"ARCHIVED": 50, "ACTIVE": 950})
        statuses = emu.read_set_statuses(store)
        layouts.append([statuses[i] for i in sorted(statuses)])
        other = emu.create_store(read_sets=["ARCHIVED"] * 200, generate={"ACTIVE": 1000})
        all_ids = set(statuses) | set(emu.read_set_statuses(other)) | {store, other}
        assert len(all_ids) == 1000 + 1200 + 2
    assert layouts[0] == layouts[1]


@pytest.mark.parametrize(
    "generate, message",
    [
        ({"ARCHIVD": 3}, "generate: 'ARCHIVD' is not a read set status; use one of ARCHIVED, ACTIVATING"),
        ({"ARCHIVED": -1}, "generate['ARCHIVED'] must be an integer >= 0, got -1"),
        (["ARCHIVED"], "generate must be a dict {status: count}"),
    ],
)
def test_generate_errors(emulator, generate, message):
    with pytest.raises(ValueError) as ei:
        emulator.create_store(generate=generate)
    assert message in str(ei.value)


def test_plain_status_list_is_checked_once_per_status(emulator):
    with pytest.raises(SeedError, match=r"'sequenceStores\[0\].readSets\[2\].status' failed to satisfy constraint"):
        emulator.create_store(read_sets=["ARCHIVED", "ARCHIVED", "FROZEN"])


@pytest.mark.parametrize("profile", ["default", "paging"])
def test_status_listings_follow_every_change(emulator, omics_client, profile):
    emulator.set_profile(profile)
    client = omics_client()
    store = emulator.create_store(generate={"ARCHIVED": 30, "ACTIVE": 10})
    everything, listed = _ids(client, store), _ids(client, store, status="ARCHIVED")
    assert listed == [i for i in everything if i in set(listed)] and len(listed) == 30  # the same order, filtered
    archived = _by_status(emulator, store, "ARCHIVED")
    job = client.start_read_set_activation_job(sequenceStoreId=store, sources=[{"readSetId": i} for i in archived[:20]])["id"]
    emulator.advance(5)  # IN_PROGRESS: 20 ACTIVATING
    for status in ("ARCHIVED", "ACTIVATING", "ACTIVE"):
        assert sorted(_ids(client, store, status=status)) == _by_status(emulator, store, status)
    in_progress = client.get_paginator("list_read_set_activation_jobs").paginate(sequenceStoreId=store, filter={"status": "IN_PROGRESS"})
    assert [j["id"] for page in in_progress for j in page["activationJobs"]] == [job]
    emulator.advance(100)
    assert sorted(_ids(client, store, status="ACTIVE")) == _by_status(emulator, store, "ACTIVE")
    assert len(_ids(client, store, status="ACTIVE")) == 30
    emulator.archive(store, archived[:3])
    client.batch_delete_read_set(sequenceStoreId=store, ids=archived[3:4])
    assert sorted(_ids(client, store, status="ARCHIVED")) == sorted(archived[:3] + archived[20:])
    assert _ids(client, store, status="DELETED") == [archived[3]]
    emulator.advance(ARCHIVE_AFTER_S)  # automatic archiving moves the ACTIVE ones
    assert _ids(client, store, status="ACTIVE") == []
    assert len(_ids(client, store, status="ARCHIVED")) == 39


def test_job_listings_by_status_follow_the_lifecycle(emulator, omics_client):
    client = omics_client()
    store = emulator.create_store(generate={"ARCHIVED": 3})
    ids = sorted(emulator.read_set_statuses(store))
    jobs = [client.start_read_set_activation_job(sequenceStoreId=store, sources=[{"readSetId": i}])["id"] for i in ids]

    def listed(status):
        pages = client.get_paginator("list_read_set_activation_jobs").paginate(sequenceStoreId=store, filter={"status": status})
        return sorted(j["id"] for page in pages for j in page["activationJobs"])

    assert listed("SUBMITTED") == sorted(jobs)
    emulator.cancel_job(jobs[0], cancelling_s=1)
    emulator.advance(5)
    assert (listed("CANCELLED"), listed("IN_PROGRESS")) == ([jobs[0]], sorted(jobs[1:]))
    emulator.advance(100)
    assert (listed("COMPLETED"), listed("SUBMITTED"), listed("IN_PROGRESS")) == (sorted(jobs[1:]), [], [])


def test_a_page_examines_what_it_returns_not_the_store(emulator, omics_client, monkeypatch):
    store = emulator.create_store(generate={"ACTIVE": 20_000, "ARCHIVED": 10})
    client = omics_client()
    client.list_read_sets(sequenceStoreId=store, maxResults=1)  # builds the index
    examined = []
    real = operations_module.read_set_matcher

    def counting(flt, skip=()):
        matches = real(flt, skip)

        def count(rs):
            examined.append(rs.id)
            return matches(rs)
        return count

    monkeypatch.setattr(operations_module, "read_set_matcher", counting)
    page = client.list_read_sets(sequenceStoreId=store, maxResults=100)
    assert len(page["readSets"]) == 100 and len(examined) == 101  # one past the page: is there more?
    examined.clear()
    second = client.list_read_sets(sequenceStoreId=store, maxResults=100, nextToken=page["nextToken"])
    assert len(second["readSets"]) == 100 and len(examined) == 101
    examined.clear()
    archived = client.list_read_sets(sequenceStoreId=store, filter={"status": "ARCHIVED"})
    assert len(archived["readSets"]) == 10 and "nextToken" not in archived and len(examined) == 10
