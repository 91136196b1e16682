"""Pure scheduling decisions, driven with plain numbers (a fake clock; nothing sleeps)."""

from __future__ import annotations

import pytest

from omics_dynamic.aws import RateBudget
from omics_dynamic.planning import chunk
from omics_dynamic.scheduling import (
    ConcurrencyWindow,
    ListingCursor,
    PollSchedule,
    ProgressThrottle,
    StartAttempts,
    TimeLeft,
    TimeLeftEstimator,
    TokenBucket,
    TransientBackoff,
    format_duration,
    next_wake_s,
    order_by_listing,
    poll_basis_s,
    round_up_duration,
    unlisted_read_due_s,
    unlisted_sources_wait_s,
)


def test_token_bucket_allows_a_burst_then_paces():
    bucket = TokenBucket(rate_per_s=5)
    delays = [bucket.reserve(100.0) for _ in range(7)]
    assert delays[:5] == [0.0] * 5
    assert delays[5] == pytest.approx(0.2)
    assert delays[6] == pytest.approx(0.4)
    # One second later the debt (-2) has been repaid by 5 new tokens: 3 left.
    assert bucket.reserve(101.0) == 0.0


def test_token_bucket_zero_rate_is_unlimited():
    bucket = TokenBucket(rate_per_s=0)
    assert all(bucket.reserve(0.0) == 0.0 for _ in range(1000))


def test_concurrency_window_drops_to_observed_quota_and_probes_slowly():
    window = ConcurrencyWindow(20)
    assert window.can_start(19, now_s=0.0) and not window.can_start(20, now_s=0.0)
    window.on_quota_exceeded(in_flight=5, now_s=0.0)
    assert window.limit == 5 and not window.can_start(4, now_s=0.0)  # blocked until a job ends
    for _ in range(4):
        window.on_job_finished()
    assert window.limit == 5 and window.can_start(4, now_s=1.0)
    window.on_job_finished()  # one full round of 5 completions: probe one more
    assert window.limit == 6
    window.on_quota_exceeded(in_flight=6, now_s=2.0)
    assert window.limit == 5
    assert window.quota_errors == 2


def test_concurrency_window_quota_held_by_others_blocks_for_a_while():
    window = ConcurrencyWindow(3, retry_after_s=15.0)
    window.on_quota_exceeded(in_flight=0, now_s=100.0)
    assert window.limit == 1  # never below one
    assert window.retry_at_s() == 115.0
    assert not window.can_start(0, now_s=114.9)
    assert window.can_start(0, now_s=115.0) and window.retry_at_s() is None
    window.on_quota_exceeded(in_flight=1, now_s=120.0)  # ours hold it: until one ends
    assert window.retry_at_s() is None and not window.can_start(0, now_s=1e9)
    window.on_job_finished()
    assert window.can_start(0, now_s=121.0)


def test_transient_backoff_doubles_to_its_cap_with_equal_jitter():
    backoff = TransientBackoff(base_s=1.0, cap_s=20.0, random=lambda: 1.0)
    assert [backoff.next_delay_s() for _ in range(7)] == [1, 2, 4, 8, 16, 20, 20]
    assert backoff.in_a_row == 7
    low = TransientBackoff(base_s=1.0, cap_s=20.0, random=lambda: 0.0)
    assert [low.next_delay_s() for _ in range(3)] == [0.5, 1.0, 2.0]
    backoff.reset()
    assert backoff.next_delay_s() == 1.0


def test_start_attempts_count_per_set_of_read_sets_and_bound_them():
    attempts = StartAttempts(max_attempts=3, max_rounds=2)
    assert attempts.attempt(["b", "a"]) == 1
    assert attempts.burn(["a", "b"], "attempt 1: ConflictException (request ID r1)")
    assert attempts.attempt(["a", "b"]) == 2
    attempts.started(["a", "b"])
    assert attempts.attempt(["a", "b"]) == 3  # a requeue of the same set uses a new token
    assert attempts.attempt(["a"]) == 1  # another set starts at 1
    assert attempts.burn(["a", "b"], "attempt 3: job 9 already FAILED")
    assert not attempts.burn(["a", "b"], "attempt 4: ValidationException")
    assert attempts.answers(["b", "a"]) == ["attempt 1: ConflictException (request ID r1)",
                                            "attempt 3: job 9 already FAILED", "attempt 4: ValidationException"]
    assert attempts.requeue("a") and not attempts.requeue("a")


@pytest.mark.parametrize("timeout_s,wait_s", [(21600, 120.0), (600, 60.0), (20, 2.0)])
def test_unlisted_sources_wait_is_two_minutes_or_a_tenth_of_the_budget(timeout_s, wait_s):
    assert unlisted_sources_wait_s(timeout_s) == wait_s


def test_poll_schedule_before_learning_grows_with_age():
    poll = PollSchedule(min_interval_s=0.5, max_interval_s=15, age_fraction=1 / 15)
    assert poll.next_poll_at(0.0, [0.0]) == pytest.approx(0.5)
    assert poll.next_poll_at(30.0, [0.0]) == pytest.approx(32.0)
    assert poll.next_poll_at(600.0, [0.0]) == pytest.approx(615.0)
    assert poll.next_poll_at(5.0, []) is None


def test_poll_schedule_after_learning_waits_then_polls_densely():
    poll = PollSchedule(min_interval_s=0.5, max_interval_s=15, early_fraction=0.9, late_growth_per_s=0.1)
    poll.observe_duration(100.0)
    poll.observe_duration(120.0)
    assert poll.shortest_duration_s == 100.0
    # A job started at t=200 can end from t=290 on: sparse before, dense after.
    assert poll.next_poll_at(210.0, [200.0]) == pytest.approx(225.0)
    assert poll.next_poll_at(280.0, [200.0]) == pytest.approx(290.0)
    assert poll.next_poll_at(290.0, [200.0]) == pytest.approx(290.5)
    # Dense up to the longest duration seen (120 s: t=320), even 10 s past the shortest.
    assert poll.next_poll_at(310.0, [200.0]) == pytest.approx(310.5)
    # Twenty seconds later than any job seen: back off to 0.5 + 2 s.
    assert poll.next_poll_at(340.0, [200.0]) == pytest.approx(342.5)


def test_poll_schedule_reset_polls_once_at_minimum():
    poll = PollSchedule()
    poll.observe_duration(60.0)
    poll.reset_backoff()
    assert poll.next_poll_at(10.0, [5.0]) == pytest.approx(10.5)
    assert poll.next_poll_at(10.5, [5.0]) == pytest.approx(25.5)


def test_progress_throttle_cadence():
    throttle = ProgressThrottle(min_interval_s=5, heartbeat_s=30)
    assert throttle.should_emit(0.0, ("wait", 0, 3), force=True)
    assert not throttle.should_emit(1.0, ("wait", 1, 3))  # changed, but within 5 s
    assert throttle.next_due_s() == 5.0
    assert throttle.should_emit(5.0, ("wait", 1, 3))
    assert not throttle.should_emit(20.0, ("wait", 1, 3))  # no change, no heartbeat yet
    assert throttle.should_emit(35.0, ("wait", 1, 3))  # heartbeat
    assert throttle.should_emit(36.0, ("done",), force=True)


def test_progress_throttle_alternating_kinds_with_the_same_counts_are_no_news():
    """A loop that says ("confirm", 1, 1) then ("wait", ...) every 5 s (nothing in flight, one
    read set left to confirm) prints at the 25 s heartbeat, not every 5 s."""
    throttle = ProgressThrottle(min_interval_s=5, heartbeat_s=25)
    emitted = [t for t in range(0, 100, 5)
               for key in (("confirm", 1, 1), ("wait", 3, 4)) if throttle.should_emit(float(t), key)]
    # The first line of each kind is news (the "wait" one waits out the 5 s); then heartbeats.
    assert emitted == [0, 5, 30, 55, 80]
    assert throttle.should_emit(85.0, ("wait", 4, 4))  # a changed count of one kind is news


@pytest.mark.parametrize("seconds,text", [(4, "4s"), (192.4, "3m12s"), (3725, "1h02m05s"), (-3, "0s"),
                                          (0.64, "0.6s"), (0.68, "0.6s"), (0.97, "0.9s"), (0.07, "0s"),
                                          (0.02, "0s"), (1.9, "1s")])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_rate_budget_paces_below_the_limit_with_half_a_second_of_burst():
    class Clock:
        t = 0.0
        slept = []

        def now(self):
            return self.t

        def sleep(self, s):
            self.slept.append(round(s, 4))
            self.t += s

    clock = Clock()
    budget = RateBudget(5.0)
    for _ in range(5):
        budget.wait("StartReadSetActivationJob", clock)
    # Burst 2.5: two calls at once, then 4.5/s (90 % of 5/s): 0.5/4.5 s, then 1/4.5 s each.
    assert clock.slept == [pytest.approx(0.5 / 4.5, abs=1e-3), pytest.approx(1 / 4.5, abs=1e-3),
                           pytest.approx(1 / 4.5, abs=1e-3)]
    # Other families have their own budget.
    before = clock.t
    budget.wait("ListReadSets", clock)
    assert clock.t == before


def test_order_by_listing_then_the_one_chunker_keeps_that_order():
    page_of = {"b": 0, "a": 1, "c": 0}
    assert order_by_listing(["a", "b", "c", "z"], page_of) == ["z", "b", "c", "a"]
    assert chunk(order_by_listing(["a", "b", "c", "z"], page_of), size=3) == [["z", "b", "c"], ["a"]]
    assert chunk(list("abcdea"), size=2) == [["a", "b"], ["c", "d"], ["e"]]  # repeats dropped
    with pytest.raises(ValueError):
        chunk(["a"], size=21)


def test_listing_cursor_reads_each_page_once_when_its_jobs_ended():
    # Pages: 0 = {a, b}, 1 = {c, d}, 2 = {e}; all busy in jobs.
    cursor = ListingCursor({"a": 0, "b": 0, "c": 1, "d": 1, "e": 2}, busy="abcde")
    assert not cursor.wants_page()
    cursor.mark_ready("a", was_busy=True)
    assert not cursor.wants_page()  # b is still in a job: reading page 0 now would waste it
    cursor.mark_ready("c", was_busy=True)
    cursor.mark_ready("d", was_busy=True)
    assert not cursor.wants_page()  # page 0 blocks the way to page 1
    cursor.mark_ready("b", was_busy=True, to_confirm=False)  # b failed: nothing to confirm
    assert cursor.wants_page()
    cursor.page_read(last=False)
    assert not cursor.covers("a") and cursor.covers("c")
    assert cursor.wants_page()  # page 1: c and d ready
    cursor.page_read(last=False)
    assert not cursor.wants_page()  # e still busy
    cursor.mark_ready("e", was_busy=True)
    assert cursor.wants_page()
    cursor.page_read(last=True)
    assert cursor.exhausted and not cursor.covers("e") and not cursor.wants_page()


def test_listing_cursor_skips_nothing_and_covers_only_listed_ids():
    cursor = ListingCursor({"a": 0, "b": 3, "c": 3, "e": 3}, busy=["a"], ready=["b", "c", "e"])
    # b, c, e wait on page 3; page 0 holds busy a: no read until a's job ends.
    assert not cursor.wants_page()
    cursor.mark_ready("a", was_busy=True)
    reads = 0
    while cursor.wants_page():
        cursor.page_read(last=False)
        reads += 1
    assert reads == 4  # pages 0..3: a listing cannot skip
    assert not cursor.covers("never-listed")
    cursor.mark_busy("never-listed")  # ignored
    empty = ListingCursor({})
    assert empty.exhausted and not empty.wants_page()


def test_listing_cursor_is_not_used_where_reading_each_read_set_is_cheaper():
    # Two read sets to confirm, on pages 0 and 3: 4 pages cost more than 2 reads.
    sparse = ListingCursor({"a": 0, "e": 3, "x": 1, "y": 2}, busy=["a"], ready=["e"])
    assert sparse.exhausted and not sparse.covers("e")
    dense = ListingCursor({"a": 0, "b": 1}, busy=["a"], ready=["b"])
    assert not dense.exhausted and dense.covers("b")


def test_listing_cursor_reset_gives_everything_back():
    cursor = ListingCursor({"a": 0}, ready=["a"])
    assert cursor.wants_page()
    cursor.reset()
    assert not cursor.wants_page() and not cursor.covers("a")


# -- time left ---------------------------------------------------------------------------
def test_time_left_is_unknown_until_a_job_this_run_started_has_ended():
    estimator = TimeLeftEstimator()
    assert estimator.estimate(30.0, [0.0, 0.0], queued=11, slots=2) == TimeLeft(
        None, "time left unknown (no job has ended yet)")
    estimator.job_ended(None)  # an adopted job: its start, so its duration, is not known
    assert estimator.ended == 1
    assert estimator.estimate(30.0, [0.0], queued=11, slots=2) == TimeLeft(
        None, "time left unknown (no job this run started has ended yet)")
    assert estimator.estimate(30.0, [], queued=0, slots=2) == TimeLeft(0.0, "")  # nothing to wait for


def test_time_left_fills_the_slots_with_the_queued_chunks_at_the_mean_duration():
    estimator = TimeLeftEstimator()
    estimator.job_ended(60.0)
    estimator.job_ended(70.0)  # mean 65 s, longest 70 s
    # In flight since 0 (older than the mean: ends at the longest, 70) and 5 (ends at 70);
    # 11 chunks two at a time: 70-135, 135-200, 200-265, 265-330, 330-395, then 395-460.
    assert estimator.estimate(70.0, [0.0, 5.0], queued=11, slots=2) == TimeLeft(
        390.0, "about 6m30s left (from 2 ended jobs, 1m05s on average)")
    # One slot: 12 chunks after the two in flight (the second frees no slot of its own).
    assert estimator.estimate(70.0, [0.0, 5.0], queued=12, slots=1).seconds == 70.0 - 70.0 + 12 * 65.0
    # Nothing queued: the last job in flight ends at 5 + 65.
    assert estimator.estimate(40.0, [0.0, 5.0], queued=0, slots=2) == TimeLeft(
        30.0, "about 30s left (from 2 ended jobs, 1m05s on average)")
    assert estimator.estimate(70.0, [0.0], queued=0, slots=2) == TimeLeft(
        0.0, "due to end about now (from 2 ended jobs, 1m05s on average)")


def test_time_left_is_unknown_while_a_job_runs_longer_than_any_that_ended():
    estimator = TimeLeftEstimator()
    estimator.job_ended(3600.0)
    estimator.job_ended(-1.0)  # ignored
    assert estimator.durations_s == [3600.0] and estimator.ended == 2
    assert estimator.estimate(4000.0, [0.0, 1000.0, 3000.0], queued=4, slots=20) == TimeLeft(
        None, "time left unknown (1 job running longer than the longest that ended, 1h00m00s)")
    assert estimator.estimate(7500.0, [0.0, 300.0], queued=0, slots=20).text == (
        "time left unknown (2 jobs running longer than the longest that ended, 1h00m00s)")
    # Hours: rounded up to 5 minutes (an estimate has no second's precision).
    assert estimator.estimate(1000.0, [900.0], queued=2, slots=1) == TimeLeft(
        10700.0, "about 3h00m00s left (from 1 ended job, 1h00m00s on average)")


def test_round_up_duration_keeps_the_precision_an_estimate_has():
    assert [round_up_duration(s) for s in (0.0, 1.0, 61.0, 599.0, 601.0, 7199.0, 7201.0)] == [
        0.0, 10.0, 70.0, 600.0, 660.0, 7200.0, 7500.0]


# -- when the run wakes next ---------------------------------------------------------------

def test_poll_basis_is_the_jobs_in_flight_or_the_run_start_while_read_sets_wait():
    assert poll_basis_s([130.0, 110.0], run_started_s=100.0, waiting=True) == [130.0, 110.0]
    assert poll_basis_s([], run_started_s=100.0, waiting=True) == [100.0]
    assert poll_basis_s([], run_started_s=100.0, waiting=False) == []


def test_unlisted_jobs_are_read_again_an_interval_after_the_last_read_or_sighting():
    assert unlisted_read_due_s(200.0, [190.0, 195.0], interval_s=5.0) == 205.0
    assert unlisted_read_due_s(0.0, [190.0, 203.0], interval_s=5.0) == 208.0  # a job seen since the last read
    assert unlisted_read_due_s(200.0, [], interval_s=5.0) == 205.0
    assert unlisted_read_due_s(200.0, [190.0]) == 205.0  # every UNLISTED_POLL_S (5 s)


def test_wake_is_the_next_poll_or_an_idle_interval():
    assert next_wake_s(1000.0, deadline_s=5000.0, poll_at_s=1012.5, idle_s=15.0) == 1012.5
    assert next_wake_s(1000.0, deadline_s=5000.0, poll_at_s=None, idle_s=15.0) == 1015.0


def test_wake_comes_earlier_for_a_quota_retry_taken_as_it_is():
    assert next_wake_s(1000.0, deadline_s=5000.0, poll_at_s=1012.5, idle_s=15.0, quota_retry_at_s=1004.0) == 1004.0
    assert next_wake_s(1000.0, deadline_s=5000.0, poll_at_s=1012.5, idle_s=15.0, quota_retry_at_s=1020.0) == 1012.5
    # A retry time already past is not moved to now: the run does not sleep either way.
    assert next_wake_s(1000.0, deadline_s=5000.0, poll_at_s=1012.5, idle_s=15.0, quota_retry_at_s=990.0) == 990.0


def test_wake_comes_earlier_for_a_held_chunk_unlisted_jobs_or_a_progress_line_never_before_now():
    base = dict(deadline_s=5000.0, poll_at_s=1012.5, idle_s=15.0)
    assert next_wake_s(1000.0, held_until_s=1003.0, **base) == 1003.0
    assert next_wake_s(1000.0, unlisted_read_at_s=1005.0, **base) == 1005.0
    assert next_wake_s(1000.0, progress_due_s=1007.0, **base) == 1007.0
    assert next_wake_s(1000.0, held_until_s=1003.0, unlisted_read_at_s=1005.0, progress_due_s=1001.0,
                       **base) == 1001.0
    assert next_wake_s(1000.0, held_until_s=980.0, **base) == 1000.0
    assert next_wake_s(1000.0, unlisted_read_at_s=995.0, **base) == 1000.0
    assert next_wake_s(1000.0, progress_due_s=999.0, **base) == 1000.0
    assert next_wake_s(1000.0, held_until_s=1030.0, unlisted_read_at_s=1040.0, progress_due_s=1025.0,
                       **base) == 1012.5


def test_wake_never_passes_the_deadline():
    assert next_wake_s(1000.0, deadline_s=1010.0, poll_at_s=1012.5, idle_s=15.0) == 1010.0
    assert next_wake_s(1000.0, deadline_s=1010.0, poll_at_s=None, idle_s=15.0, progress_due_s=1020.0) == 1010.0
    assert next_wake_s(1000.0, deadline_s=1010.0, poll_at_s=1012.5, idle_s=15.0, quota_retry_at_s=1008.0) == 1008.0


def test_wake_follows_the_poll_schedule_it_is_given():
    poll = PollSchedule(min_interval_s=0.5, max_interval_s=15, age_fraction=1 / 30)
    starts = poll_basis_s([940.0], run_started_s=900.0, waiting=True)
    # The oldest job is 60 s old: the poll comes after 60/30 = 2 s.
    assert next_wake_s(1000.0, deadline_s=5000.0, poll_at_s=poll.next_poll_at(1000.0, starts),
                       idle_s=poll.max_interval_s) == 1002.0
