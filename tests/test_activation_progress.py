"""Progress lines for the person watching `pulumi up`: the first within 5 s, then
at least one every 30 s through every phase (status discovery, adoption, waiting,
confirmation), each saying what is being done. Times are the run's clock (the emulator's
manual clock). A cohort of 20,000 IDs at the default 5 requests/s (over a minute of
discovery) is scaled down to 3,000 IDs at 0.5 requests/s: the same emulated durations, a
tenth of the calls."""

from __future__ import annotations

import re

import pytest

from omics_dynamic.activation import ActivationRun
from omics_dynamic.activation.progress import RunCounts
from omics_dynamic.errors import ActivationTimeoutError
from omics_dynamic.messages import waiting_line
from omics_dynamic.planning import ActivationInputs
from omics_dynamic.scheduling import TimeLeftEstimator, format_duration
from support import make_api


def test_lines_come_within_5_s_then_at_least_every_30_s_in_every_phase(emulator):
    n_active, n_archived = 2_940, 60
    store = emulator.create_store(read_sets=["ARCHIVED"] * n_archived + ["ACTIVE"] * n_active)
    ids = sorted(emulator.read_set_statuses(store))
    emulator.set_faults(delay_next_jobs=1, delay_seconds=300)  # one job lags: a long wait
    api = make_api(emulator, rate_per_s=0.5)
    stamped: list = []
    t0 = emulator.now()
    run = ActivationRun(api, ActivationInputs(store, tuple(ids), resource_name="cohort"),
                        generation="g", report=lambda line: stamped.append((emulator.now() - t0, line)))
    result = run.run()
    assert len(result.became_active_read_set_ids) == n_archived
    times = [t for t, _ in stamped]
    lines = [line for _, line in stamped]
    assert times[0] < 5.0 and lines[0] == f"cohort: reading the statuses of 3000 read sets in sequence store {store}"
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert max(gaps) <= 30.0, max(zip(gaps, lines[1:]))
    discovery = [line for line in lines if "reading read set statuses:" in line]
    assert len(discovery) >= 5 and "/3000 known" in discovery[0]  # > 60 s of listing, a line every ~5 s
    assert any("1 job running" in line or "jobs running" in line for line in lines)
    assert lines[-1].startswith("cohort: all 3000 read sets ACTIVE after")
    assert emulator.now() - t0 > 300  # the wait really was long
    assert all(line.startswith("cohort: ") for line in lines)


def test_backoff_lines_keep_the_cadence_and_say_sub_second_delays(emulator, no_botocore_backoff):
    """A throttling storm (80 % of requests throttled, botocore's retries exhausted now and
    then). Backoff lines keep the cadence of every line (never within 5 s of the previous
    one; the start and end lines are the only exceptions); one that is not due is printed
    when the next line is, saying the elapsed time of the backoff, not of the printing; a
    sub-second delay reads in tenths ("backing off 0.5s"), never "backing off 0s"."""
    store = emulator.create_store(read_sets=["ARCHIVED"] * 200)
    ids = sorted(emulator.read_set_statuses(store))
    emulator.set_faults(throttle_rate=0.8)
    stamped: list = []
    run = ActivationRun(make_api(emulator), ActivationInputs(store, tuple(ids), resource_name="cohort"),
                        generation="g", report=lambda line: stamped.append((emulator.now(), line)))
    run.run()
    backoffs = [i for i, (_, line) in enumerate(stamped) if "backing off" in line]
    assert len(backoffs) >= 3
    for i in backoffs:
        assert stamped[i][0] - stamped[i - 1][0] >= 5.0, stamped[i - 1:i + 1]
    assert not any("backing off 0s" in line for _, line in stamped)
    # A line held back to keep the cadence says when the backoff happened, not when printed.
    t0 = stamped[0][0]
    said_at = [(stamped[i][0] - t0, _seconds(re.search(r": at (\S+) elapsed: HealthOmics answered ",
                                                       stamped[i][1]).group(1))) for i in backoffs]
    assert all(at_s <= printed_s for printed_s, at_s in said_at), said_at
    # Some were held back: printed later than they say, by more than the whole second the
    # elapsed time is rounded down to (how long depends on the storm's draw: 1-10 s).
    assert any(at_s < printed_s - 1 for printed_s, at_s in said_at), said_at
    assert any(re.search(r"backing off 0\.[5-9]s and going on", line) for _, line in stamped)


def _seconds(text: str) -> float:
    """``"1m02s"`` -> 62.0, ``"0.8s"`` -> 0.8 (format_duration's output)."""
    h, m, sec = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(\d+(?:\.\d)?)s", text).groups()
    return int(h or 0) * 3600 + int(m or 0) * 60 + float(sec)


@pytest.mark.parametrize("failing", [0, 1])
def test_lines_count_the_read_sets_of_a_job_that_ended_while_another_runs(emulator, failing):
    """Two jobs of 20; the second stays SUBMITTED for two hours, the first ends after about
    a minute (with ``failing`` of its sources FAILED). The listing cursor covers the first
    job's read sets (confirmed when it reads their page, once the second job ends), so for
    the 9 minutes left of timeout_seconds they are not ACTIVE yet: the lines count them
    "more finished by their jobs" (and the failed one as failed); the timeout line, after
    the statuses are read again, counts the ACTIVE ones once. The lines say the
    job left has run longer than the one that ended (1m11s, seen at the first poll after
    its end), so the time left is unknown: the sign of a stuck job."""
    store = emulator.create_store(read_sets=["ARCHIVED"] * 40)
    ids = sorted(emulator.read_set_statuses(store))
    emulator.set_faults(failing_read_sets={rid: "KMS key disabled" for rid in ids[:failing]},
                        delay_jobs_containing=[ids[39]], delay_seconds=7200)
    stamped: list = []
    args = ActivationInputs(store, tuple(ids), resource_name="cohort", timeout_seconds=600)
    run = ActivationRun(make_api(emulator), args, generation="g",
                        report=lambda line: stamped.append((emulator.now(), line)))
    with pytest.raises(ActivationTimeoutError):
        run.run()
    [ended] = [j for j in emulator.jobs() if j.get("completionTime") is not None]
    assert ended["completionTime"] - stamped[0][0] < 90
    later = [line for t, line in stamped if t > ended["completionTime"] + 30]
    waiting, [timed_out] = later[:-1], later[-1:]
    failed = f", {failing} failed so far (named when the run ends unless ACTIVE by then)" if failing else ""
    running = "1 job running (1 SUBMITTED, 0/20 of their sources finished), 0 queued, 1 ended"
    assert len(waiting) >= 15 and all(re.fullmatch(
        r"cohort: 0/40 read sets active, time left unknown \(1 job running longer than the longest that ended, "
        rf"1m11s\), \d+m\d\ds elapsed, {re.escape(running)}, {20 - failing} more finished by their jobs "
        rf"\(confirmed ACTIVE at the end\){re.escape(failed)}", line) for line in waiting), waiting
    assert timed_out == (f"cohort: timed out: {20 - failing}/40 read sets active, 10m00s elapsed, "
                         f"{running}{failed}")


def test_the_waiting_line_shows_jobs_ended_submitted_sources_and_the_time_left():
    counts = RunCounts(active=100, total=249, running=2, queued=5, finished=20, waiting=0, ended=6,
                       submitted=1, sources_finished=17, sources_read=40)
    assert waiting_line(counts, "3m37s", "about 4m40s left (from 6 ended jobs, 1m10s on average)") == (
        "100/249 read sets active, about 4m40s left (from 6 ended jobs, 1m10s on average), 3m37s elapsed, "
        "2 jobs running (1 SUBMITTED, 17/40 of their sources finished), 5 queued, 6 ended, 20 more finished by "
        "their jobs (confirmed ACTIVE at the end)")
    # Before anything was read or ended, the line holds only the counts, the elapsed time,
    # the jobs running and the queue.
    assert waiting_line(RunCounts(active=0, total=20, running=1, queued=0, finished=0, waiting=0), "5s") == (
        "0/20 read sets active, 5s elapsed, 1 job running, 0 queued")
    # Bounded: every part present, with the largest counts.
    big = 10 ** 6
    every = RunCounts(active=big, total=big, running=big, queued=big, finished=big, waiting=big, held=big,
                      cancelling=big, quota_refusals=big, quota_request_id="x" * 36, unanswered=1, failed=big,
                      ended=big, submitted=big, sources_finished=big, sources_read=big)
    longest = TimeLeftEstimator()
    longest.job_ended(10 ** 9)
    text = waiting_line(every, format_duration(10 ** 9), longest.estimate(10 ** 9 + 1, [0.0] * 9, 9, 1).text)
    assert len(text) < 800, len(text)
    # The time left moves with the clock: it is not part of when a line is due.
    assert counts.cadence_key() == (100, 249, 2, 5, 20, 0, 0, 0, 0, "", 0, 0)


def test_lines_move_between_job_ends_and_estimate_the_time_left(emulator):
    """249 read sets, two jobs at a time, each about 70 s. Within the calls the run makes
    anyway (the sources and statuses come from its polls), the waiting lines count the
    sources FINISHED in the jobs in flight as the polls read them, the jobs SUBMITTED and
    ended, and the time left: "unknown (no job has ended yet)" at first, then estimated
    from the jobs that ended (7m10s after the first two, 1m11s each), never rising, down
    to a minute or less."""
    store = emulator.create_store(read_sets=["ARCHIVED"] * 249)
    ids = sorted(emulator.read_set_statuses(store))
    stamped: list = []
    t0 = emulator.now()
    run = ActivationRun(make_api(emulator), ActivationInputs(store, tuple(ids), resource_name="cohort",
                                                             max_concurrent_jobs=2),
                        generation="g", report=lambda line: stamped.append((emulator.now() - t0, line)))
    run.run()
    lines = [line for _, line in stamped]
    assert lines[2] == ("cohort: 0/249 read sets active, time left unknown (no job has ended yet), 5s elapsed, "
                        "2 jobs running (2 SUBMITTED, 0/40 of their sources finished), 11 queued")
    waiting = [line for line in lines if " queued, " in line]
    assert all(re.search(r", \d+(m\d\d)?s elapsed, ", line) and len(line) < 300 for line in waiting)
    # Sources FINISHED in a job still running (its sources finish within seconds of each
    # other here, so a line shows them when it comes as the first job of a pair ends).
    partial = [(int(m.group(1)), int(m.group(2))) for line in waiting
               for m in [re.search(r"(\d+)/(\d+) of their sources finished", line)] if m]
    assert any(0 < done < of for done, of in partial), waiting
    # The first line after the first two jobs ended estimates the rest: 11 chunks left,
    # two at a time, at the 1m11s they took.
    first = next(line for line in waiting if " ended, " in line)
    assert first == ("cohort: 0/249 read sets active, about 7m10s left (from 2 ended jobs, 1m11s on average), "
                     "1m11s elapsed, 2 jobs running (2 SUBMITTED), 9 queued, 2 ended, 40 more finished by their "
                     "jobs (confirmed ACTIVE at the end)")
    left = [_seconds(re.search(r"about (\S+) left", line).group(1)) for line in waiting if "left (from" in line]
    assert len(left) >= 20 and left[0] == 430 and left[-1] <= 60 and left == sorted(left, reverse=True), left
    assert not [line for line in waiting if "time left unknown" in line and " ended, " in line]
    elapsed_s = stamped[-1][0]
    assert 480 < elapsed_s < 500  # 7 rounds of about 70 s: the first estimate (1m11s + 7m10s) was close
    gaps = [b - a for (a, _), (b, _) in zip(stamped, stamped[1:])]
    assert max(gaps) <= 30.0


def test_every_line_is_worded_in_the_messages_module():
    """No f-string or text reaches a line's reporter (``Progress.say``'s render, the
    provider's ``_say``) outside omics_dynamic/messages.py: call sites pass values to its
    functions."""
    import ast
    from pathlib import Path

    package = Path(__file__).resolve().parent.parent / "omics_dynamic"
    worded = []
    for path in sorted(package.rglob("*.py")):
        if path.name == "messages.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and len(node.args) > 1
                    and getattr(node.func, "attr", getattr(node.func, "id", "")) in ("say", "_say")):
                continue
            line = node.args[1].body if isinstance(node.args[1], ast.Lambda) else node.args[1]
            if (isinstance(line, (ast.Constant, ast.BinOp))
                    or any(isinstance(part, ast.JoinedStr) for part in ast.walk(line))):
                worded.append(f"{path.name}:{node.lineno}")
    assert worded == []


def test_diffs_reason_writes_large_counts_with_thousands_separators():
    """Diff's reason for 33,312 ARCHIVED read sets of 100,000 (the listings' volume: 52.3
    Gbases each) writes every count as the volume does: 33,312, not 33312."""
    from omics_dynamic import messages

    class Found:
        statuses = {f"{1_000_000_000 + i}": ("ARCHIVED" if i < 33_312 else "ACTIVE") for i in range(100_000)}
        complete = True

        def volume(self, status):
            return 33_312, 33_312 * 52_300_000_000, 0

    assert messages.not_active_reason(Found(), 20.0) == (
        "33,312 of 100,000 read sets are not ACTIVE in HealthOmics (33,312 ARCHIVED; e.g. 1000000000); "
        "`pulumi up` will activate 33,312 read sets (1,742,217.6 Gbases)")
