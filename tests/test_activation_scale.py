"""ActivationRun at cohort scale on the emulator's manual clock: calls and timing."""

from __future__ import annotations

from support import run_activation


def test_1000_read_sets_read_the_listing_once_to_discover_and_once_to_confirm(emulator):
    store = emulator.create_store(read_sets=["ARCHIVED"] * 1000)
    ids = sorted(emulator.read_set_statuses(store))
    t0 = emulator.now()
    result = run_activation(emulator, store, ids, rate_per_s=5.0)
    wall_s = emulator.now() - t0
    assert len(result.activated_by_jobs_read_set_ids) == 1000
    assert result.activated_without_job_read_set_ids == [] and result.found_job_ids == []
    assert sorted(result.started_job_ids) == sorted(j["id"] for j in emulator.jobs())
    assert set(emulator.read_set_statuses(store).values()) == {"ACTIVE"}
    # 10 unfiltered pages to discover (the status listings' lower bound grows with the
    # ARCHIVED read sets those pages show, so the race never leaves the unfiltered listing);
    # then 10 pages to confirm, each read once in listing order as its jobs end (within
    # twice the six status listings a round at the end would cost: costmodel.cursor_pays).
    assert emulator.calls["ListReadSets"] == 10 + 10
    # Looking for duplicates before reporting success: one page of jobs created in the run.
    assert emulator.calls["ListReadSetActivationJobs"] >= 3
    assert emulator.calls["GetReadSetMetadata"] == 0
    assert emulator.calls["StartReadSetActivationJob"] == 50
    # Fewer calls in all than the naive client's ~250 (50 starts + 4 waiter polls per job).
    assert sum(emulator.calls.values()) < 250
    assert all(outcome == "OK" for (_, outcome) in emulator.outcomes)
    # Within 1.15x of the floor 3 waves * 65 s, and noticed soon after the last job ended.
    assert wall_s <= 1.15 * 195
    last_s = max(j["completionTime"] for j in emulator.jobs())
    assert emulator.now() - last_s < 1.0


def test_2000_read_sets_confirm_with_one_round_of_status_listings_not_20_pages(emulator):
    """Where the cursor would read more than twice the six calls of a round of status
    listings (20 pages here, 1,000 at 100,000), the read sets of finished jobs wait for that
    round once nothing is in flight. Manual clock, unpaced: the calls, not the time (the
    time is bench/run.py's)."""
    store = emulator.create_store(generate={"ARCHIVED": 2000})
    ids = sorted(emulator.read_set_statuses(store))
    lines: list = []
    result = run_activation(emulator, store, ids, lines=lines)
    assert len(result.activated_by_jobs_read_set_ids) == 2000
    assert emulator.calls["ListReadSets"] == 20 + 6 and emulator.calls["GetReadSetMetadata"] == 0
    assert any("more finished by their jobs (confirmed ACTIVE at the end)" in line for line in lines)


def test_jobs_are_started_in_listing_order(emulator):
    store = emulator.create_store(read_sets=["ARCHIVED"] * 45)
    ids = sorted(emulator.read_set_statuses(store))
    run_activation(emulator, store, ids)
    jobs = emulator.jobs()  # in the order they were started
    listed = [rs["id"] for rs in emulator.client().list_read_sets(sequenceStoreId=store, maxResults=100)["readSets"]]
    started = [s["readSetId"] for j in jobs for s in j["sources"]]
    assert started == listed


def test_a_refused_next_token_during_confirmation_falls_back_to_a_fresh_lookup(emulator):
    """The confirmation listing reads its pages minutes apart; if HealthOmics refuses one of
    its nextTokens (ValidationException), confirmation falls back and the run still ends
    ACTIVE."""
    import botocore.exceptions

    from omics_dynamic.activation import ActivationRun
    from omics_dynamic.planning import ActivationInputs
    from support import make_api

    store = emulator.create_store(read_sets=["ARCHIVED"] * 250)
    ids = sorted(emulator.read_set_statuses(store))
    api = make_api(emulator)
    real_list = api.client.list_read_sets
    refused = []

    def list_read_sets(**kwargs):
        if emulator.calls["StartReadSetActivationJob"] > 0 and kwargs.get("nextToken") and not refused:
            refused.append(kwargs["nextToken"])
            raise botocore.exceptions.ClientError(
                {"Error": {"Code": "ValidationException", "Message": "Invalid nextToken"},
                 "ResponseMetadata": {"RequestId": "req-1", "HTTPStatusCode": 400}}, "ListReadSets")
        return real_list(**kwargs)

    api.client.list_read_sets = list_read_sets  # botocore's paginator calls the client's method
    result = ActivationRun(api, ActivationInputs(store, tuple(ids), resource_name="cohort"),
                           generation="g", report=lambda line: None).run()
    assert refused  # a confirmation page's token was refused once
    assert len(result.became_active_read_set_ids) == 250
    assert set(emulator.read_set_statuses(store).values()) == {"ACTIVE"}
