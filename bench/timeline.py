"""The picture of one benchmark run: read sets ACTIVE and activation jobs in flight over
time, ReadSetActivation against the naive waiter client, the floor marked.

Data (from ``bench/run.py``, per client): ``samples``, ``[(t_s, active)]``, the number of
the store's read sets ACTIVE sampled from the emulator during the run; ``jobs``,
``[(created_s, completed_s)]`` of every activation job. Times are seconds of service
(emulated) time from the client's start; the axes show minutes.

Needs matplotlib (``pip install -e '.[bench]'``, which ``make bench`` does); ``make test``
does not import this module.
"""

from __future__ import annotations

from typing import Sequence


def in_flight(jobs: Sequence[tuple], until_s: float) -> tuple[list, list]:
    """A step series ``(times_s, counts)`` of jobs in flight from 0 to ``until_s``."""
    events = sorted([(c, 1) for c, _ in jobs] + [(d, -1) for _, d in jobs if d is not None])
    times, counts, n = [0.0], [0], 0
    for t, delta in events:
        n += delta
        times.append(t)
        counts.append(n)
    times.append(until_s)
    counts.append(n)
    return times, counts


def plot(path: str, n: int, floor_s: float, ours: dict, naive: dict, title_note: str = "") -> None:
    """Write the PNG: two rows (read sets ACTIVE, jobs in flight), two columns (the whole
    naive run; the first minutes, where ours ends), the floor as a dashed line."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = [("ReadSetActivation", ours, "tab:blue"), ("naive client (one job, botocore waiter)", naive, "tab:orange")]
    end_min = max(r["wall_s"] for _, r, _ in runs) / 60
    zoom_min = max(ours["wall_s"] / 60 * 1.15, floor_s / 60 * 1.3)
    fig, axes = plt.subplots(2, 2, figsize=(12, 6.5), sharex="col", gridspec_kw={"width_ratios": [3, 2]})
    for col, xmax in enumerate((end_min * 1.02, zoom_min)):
        top, bottom = axes[0][col], axes[1][col]
        for label, run, color in runs:
            t = [s / 60 for s, _ in run["samples"]]
            top.step(t, [a for _, a in run["samples"]], where="post", color=color, label=label)
            times, counts = in_flight(run["jobs"], run["wall_s"])
            bottom.step([s / 60 for s in times], counts, where="post", color=color, label=label)
        for ax in (top, bottom):
            ax.axvline(floor_s / 60, color="black", linestyle="--", linewidth=1,
                       label=f"floor {floor_s / 60:.2f} min" if ax is top else None)
            ax.set_xlim(0, xmax)
            ax.grid(alpha=0.3)
        top.set_ylim(0, n * 1.05)
        bottom.set_xlabel("service time (minutes, emulated)")
    axes[0][0].set_ylabel("read sets ACTIVE")
    axes[1][0].set_ylabel("activation jobs in flight")
    axes[0][0].set_title("whole run")
    axes[0][1].set_title("first minutes")
    axes[0][0].legend(loc="lower right", fontsize=8)
    fig.suptitle(f"Activating {n:,} archived read sets on the emulator: ReadSetActivation vs a naive client"
                 + (f"\n{title_note}" if title_note else ""), fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
