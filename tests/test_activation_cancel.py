"""The cancellation hook: ``ActivationRun(..., cancel=event)`` stops within seconds and
raises ActivationCancelledError naming the jobs still running; the next run adopts them."""

from __future__ import annotations

import threading
import time

import pytest

from omics_dynamic.activation import ActivationRun
from omics_dynamic.aws import MonotonicClock, OmicsApi, ProviderSettings, make_client
from omics_dynamic.errors import ActivationCancelledError, OmicsDynamicError
from omics_dynamic.planning import ActivationInputs
from support import make_api, run_activation


def test_cancel_while_waiting_names_the_running_jobs_and_the_rerun_adopts_them(emulator):
    store = emulator.create_store(read_sets=["ARCHIVED"] * 30)
    ids = sorted(emulator.read_set_statuses(store))
    cancel = threading.Event()
    api = make_api(emulator)
    original_advance = emulator.advance

    def advance(seconds):  # the engine asks to stop once both jobs are running
        if len(emulator.jobs()) == 2:
            cancel.set()
        return original_advance(seconds)

    emulator.advance = advance
    lines: list = []
    run = ActivationRun(api, ActivationInputs(store, tuple(ids), resource_name="cohort"),
                        generation="g", report=lines.append, cancel=cancel)
    with pytest.raises(ActivationCancelledError) as info:
        run.run()
    emulator.advance = original_advance
    running = sorted(j["id"] for j in emulator.jobs())
    assert info.value.running_job_ids == running
    assert isinstance(info.value, OmicsDynamicError)
    assert "next `pulumi up` resumes them" in str(info.value)
    assert any("cancelled" in line for line in lines)
    result = run_activation(emulator, store, ids, generation="g")
    assert sorted(result.job_ids) == running
    assert len(emulator.jobs()) == 2


def test_cancel_wakes_a_real_wait_within_seconds(aws_test_env):
    """On the real clock the run sleeps on the event: a 60 s activation is cancelled after
    0.5 s real and the error arrives well before the job could have ended."""
    from omics_emulator import Emulator

    with Emulator(rate_limit=0, time_scale=1.0, activation_seconds=600) as emu:
        store = emu.create_store(read_sets=["ARCHIVED"] * 3)
        ids = sorted(emu.read_set_statuses(store))
        client = make_client(ProviderSettings(endpoint_url=emu.endpoint_url), "us-east-1")
        api = OmicsApi(client, MonotonicClock(1.0))
        cancel = threading.Event()
        timer = threading.Timer(0.5, cancel.set)
        run = ActivationRun(api, ActivationInputs(store, tuple(ids), resource_name="cohort"),
                            generation="g", report=lambda line: None, cancel=cancel)
        t0 = time.monotonic()
        timer.start()
        with pytest.raises(ActivationCancelledError) as info:
            run.run()
        # Well before the job could end (600 s); the margin is not a measure of the machine.
        assert time.monotonic() - t0 < 60.0
        assert info.value.running_job_ids == [j["id"] for j in emu.jobs()]


def test_cancel_abandons_a_call_that_gets_no_answer(emulator):
    """The engine asks to stop while HealthOmics holds an answer (30 s): the run does not wait
    for it (nor for botocore's 60 s read timeout)."""
    store = emulator.create_store(read_sets=["ARCHIVED"] * 10)
    ids = sorted(emulator.read_set_statuses(store))
    emulator.set_faults(hold_response_s={"ListReadSets": 30})
    cancel = threading.Event()
    run = ActivationRun(make_api(emulator), ActivationInputs(store, tuple(ids), resource_name="cohort"),
                        generation="g", report=lambda line: None, cancel=cancel)
    timer = threading.Timer(0.5, cancel.set)
    t0 = time.monotonic()
    timer.start()
    with pytest.raises(ActivationCancelledError) as info:
        run.run()
    assert time.monotonic() - t0 < 15.0  # not the held answer (30 s); loaded machines take seconds
    assert info.value.running_job_ids == []
    # With no job running, no sentence says "they keep running".
    assert str(info.value) == "cohort: cancelled before every read set was ACTIVE; no activation job of this run is running."
    assert emulator.calls["StartReadSetActivationJob"] == 0
