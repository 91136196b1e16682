#!/usr/bin/env python3
"""Demo: the example stack activates the shipped cohort on a local HealthOmics emulator.

Run ``make demo`` (or ``.venv/bin/python scripts/demo.py``). It:

1. starts the emulator (``python -m omics_emulator --seed cohort``) with emulated
   60-second activations on a clock running ``--time-scale`` times faster (default 30), and
   points the provider at it through stack config (``omics-dynamic:endpoint``,
   ``omics-dynamic:timeScale`` equal to the emulator's scale);
2. runs the example stack (``__main__.py``) with the real ``pulumi`` CLI (the one ``make
   pulumi`` finds or builds, ``OMICS_DYNAMIC_PULUMI``), through the Automation API as an
   inline program, with a file backend under ``.demo/cli/``; where no CLI can be had,
   through the engine-role harness in program mode (``omics_dynamic_testing.run_program``),
   and says which (runners: ``omics_dynamic_testing.example``);
3. the stack selects its read sets with the cohort's sample sheet
   (``packages/omics-emulator/omics_emulator/data/cohort_samples.csv``, config ``sampleSheet``); steps:
   ``preview`` of the new stack (what the first up will activate), ``up`` (activates the
   sheet's read sets), a second ``up`` (no changes, no new job), the emulator archives
   some read sets, ``preview`` (shows the update and its volume), ``up`` (re-activates
   them, activation_count 2), ``destroy``; then a separate, clearly labelled
   expected-failure step (config ``readSetIds`` holding a DELETED read set fails the
   preview and the up before any job starts).

Exit status 0 only if every step did what it should. The emulator is always stopped.
State lives under ``.demo/`` (gitignored) or ``--demo-dir DIR``, cleared at the start; the
demo clears only a directory it made itself (it holds the marker file
``.omics-dynamic-demo``), an empty or missing one, or (default ``.demo/`` only) one left by
an earlier demo version that holds nothing but the demo's files. Any other existing
directory is refused with an error, never deleted (:func:`prepare_demo_dir`).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import io
import json
import math
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Callable, Optional

from omics_dynamic_testing.automation import CliNotFoundError
from omics_dynamic_testing.example import (
    AWS_ENV,
    SAMPLE_SHEET,
    EmulatorProcess,
    ExampleRunError,
    Outcome,
    StackRunner,
    cohort_selection,
    make_runner,
    stack_config,
)
from omics_emulator import COHORT_STORE_ID

REPO = Path(__file__).resolve().parent.parent

ACTIVATABLE = ("ARCHIVED", "ACTIVE", "ACTIVATING")
UNUSABLE = ("DELETED", "UPLOAD_FAILED")

Echo = Callable[[str], None]


class DemoFailure(ExampleRunError):
    """A step did not do what the demo expects."""


# --------------------------------------------------------------------------- demo directory

#: The file the demo writes into its directory; only a directory holding it is cleared.
DEMO_DIR_MARKER = ".omics-dynamic-demo"
#: What demo versions before the marker wrote into the default ``.demo/`` directory.
_LEGACY_DEMO_ENTRIES = frozenset({"emulator.log", "harness", "cli", "cli-backend"})
DEFAULT_DEMO_DIR = REPO / ".demo"


class DemoDirError(ValueError):
    """``--demo-dir`` names a directory the demo may not clear (see :func:`prepare_demo_dir`)."""


def prepare_demo_dir(path: Path, *, default: Path = DEFAULT_DEMO_DIR) -> Path:
    """Make ``path`` an empty demo directory holding only the marker file; returns it resolved.

    Cleared (``shutil.rmtree``, then made again): a directory holding the marker file
    :data:`DEMO_DIR_MARKER` (written by this function: the demo made it), and the default
    directory ``default`` when all it holds are files earlier demo versions wrote there
    (:data:`_LEGACY_DEMO_ENTRIES`). Used as it is: an empty directory. Made: a missing one
    (parents too).

    :raises DemoDirError: ``path`` is a file, or a directory holding anything else (the
        user's own files, a checkout): nothing is deleted; the message names the directory
        and the fix (a new or empty directory, or deleting it oneself).
    """
    path = Path(path).resolve()
    if path.exists() and not path.is_dir():
        raise DemoDirError(f"--demo-dir {path}: is not a directory; give a new or empty directory "
                           f"(default {default})")
    if path.is_dir():
        entries = {entry.name for entry in path.iterdir()}
        ours = (path / DEMO_DIR_MARKER).is_file()
        legacy = path == Path(default).resolve() and entries <= _LEGACY_DEMO_ENTRIES
        if entries and not (ours or legacy):
            shown = ", ".join(sorted(entries)[:5]) + (", ..." if len(entries) > 5 else "")
            raise DemoDirError(
                f"--demo-dir {path}: the directory holds files the demo did not create ({shown}) and no "
                f"{DEMO_DIR_MARKER} file, and the demo clears its directory at the start, so it will not "
                f"use this one (nothing was deleted). Give a new or empty directory, or leave --demo-dir out "
                f"(default {default})")
        if entries:
            shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    (path / DEMO_DIR_MARKER).write_text(
        "Made by omics-dynamic's scripts/demo.py, which deletes this directory and everything in it "
        "at its next start.\n", encoding="utf-8")
    return path


def say(text: str = "") -> None:
    print(text, flush=True)


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise DemoFailure(message)


# --------------------------------------------------------------------------- stack config

# --------------------------------------------------------------------------- steps

def _summary(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "none"


def _count(statuses: dict[str, str], ids: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for rid in ids:
        counts[statuses.get(rid, "MISSING")] = counts.get(statuses.get(rid, "MISSING"), 0) + 1
    return counts


def _shown_path(path: Path) -> str:
    """``path`` relative to the checkout when inside it, else absolute."""
    try:
        return str(path.relative_to(REPO))
    except ValueError:
        return str(path)


def _gbases(bases: Any) -> str:
    """``activatedBaseCount`` (a string of decimal digits) as gigabases."""
    return f"{int(bases) / 1e9:,.1f} Gbases" if isinstance(bases, str) and bases.isdigit() else "?"


@dataclasses.dataclass
class Demo:
    """What the steps share: the runner, the emulator, the config, what the sheet selects
    (``ids``, from the files), the emulator's statuses at the start, and the job count."""

    runner: StackRunner
    emu: EmulatorProcess
    args: argparse.Namespace
    config: dict[str, Any]
    ids: list[str]
    statuses: dict[str, str]
    stacks_used: list[str] = dataclasses.field(default_factory=list)
    jobs: int = 0

    def run(self, number: str, title: str, operation: str, stack: str = "demo",
            config: Optional[dict[str, Any]] = None) -> tuple[Outcome, float]:
        say()
        say(f"--- step {number}: {title} [{self.runner.command}{operation}]")
        if stack not in self.stacks_used:
            self.stacks_used.append(stack)
        method = {"up": self.runner.up, "preview": self.runner.preview, "destroy": self.runner.destroy}[operation]
        t0 = time.monotonic()
        out = method(stack, config or self.config, lambda line: say(f"    | {line}"))
        return out, time.monotonic() - t0

    def report(self, out: Outcome, elapsed_s: float) -> int:
        """Print what the operation did; returns the activation jobs it started."""
        jobs_now = len(self.emu.job_ids())
        new_jobs, self.jobs = jobs_now - self.jobs, jobs_now
        say(f"    => {elapsed_s:.1f} s real (~{elapsed_s * self.args.time_scale / 60:.1f} min emulated); "
            f"cohort: {out.ops.get('cohort', '?')}; new activation jobs: {new_jobs}")
        if out.resources is not None:
            say("    => registration order: " + ", ".join(f"{r.name} ({r.op})" for r in out.resources))
        if out.exports and out.operation == "up":
            ex = out.exports
            job_ids = ex.get("jobIds") or []
            shown = ", ".join(job_ids[:3]) + (", ..." if len(job_ids) > 3 else "")
            say(f"    => exports: activationCount={ex.get('activationCount')}, "
                f"activatedBaseCount={ex.get('activatedBaseCount')} ({_gbases(ex.get('activatedBaseCount'))}), "
                f"statusSummary={json.dumps(ex.get('statusSummary'))}, "
                f"jobIds=[{len(job_ids)} IDs{': ' + shown if job_ids else ''}], activatedAt={ex.get('activatedAt')}")
            sample = ex.get("readSetUriSample") or {}
            say(f"    => exports: readSetUriCount={ex.get('readSetUriCount')}, readSetUriSample="
                + ", ".join(f"{rid}: {uri}" for rid, uri in list(sample.items())[:2])
                + (", ..." if len(sample) > 2 else ""))
            if ex.get("sampleSheetUri"):
                say(f"    => exports: sampleSheetUri={ex['sampleSheetUri']}")
        return new_jobs

    def expect_op(self, out: Outcome, op: str, step: str) -> None:
        """The activation's step op is ``op``."""
        expect(out.ops.get("cohort") == op, f"{step}: the activation's op is {out.ops.get('cohort')!r}, not {op!r}")

    def expect_line(self, out: Outcome, words: tuple[str, ...], what: str) -> None:
        """Some provider line holds every one of ``words`` (else a failure, or a note when
        the runner's lines are not ``strict_lines``)."""
        if any(all(w in line for w in words) for line in out.lines):
            return
        if self.runner.strict_lines:
            raise DemoFailure(f"no provider line shows {what}")
        say(f"    (note: the provider's line with {what} was not in the CLI's output)")


def step_preview_new(demo: Demo) -> None:
    """A preview of the new stack: the check's create line gives the volume, no job starts."""
    out, dt = demo.run("1", "preview of the new stack: what the first up will activate", "preview")
    expect(demo.report(out, dt) == 0, "the preview started an activation job")
    demo.expect_op(out, "create", "step 1")
    demo.expect_line(out, ("create: will activate", "Gbases"), "the read sets and gigabases the create will activate")


def step_first_up(demo: Demo) -> None:
    """The first up activates the sheet's read sets, then declares the compute after it."""
    out, dt = demo.run("2", "first up: activate the sheet's read sets, then declare the compute", "up")
    new_jobs = demo.report(out, dt)
    live = demo.emu.statuses(COHORT_STORE_ID)
    expect(all(live[r] == "ACTIVE" for r in demo.ids), "after the first up some read sets are not ACTIVE")
    ex = out.exports
    expect(ex.get("activationCount") == 1, f"activationCount {ex.get('activationCount')} != 1")
    expect(ex.get("readSetCount") == len(demo.ids) == ex.get("readSetUriCount"),
           f"readSetCount {ex.get('readSetCount')} / readSetUriCount {ex.get('readSetUriCount')} "
           f"!= the sheet's {len(demo.ids)} read sets")
    expect(sorted(ex.get("jobIds") or []) == sorted(demo.emu.job_ids()), "exported jobIds differ from the emulator's jobs")
    expect(new_jobs > 0, "the first up started no activation job")
    expect(isinstance(ex.get("activatedBaseCount"), str) and ex["activatedBaseCount"].isdigit()
           and int(ex["activatedBaseCount"]) > 0, f"activatedBaseCount {ex.get('activatedBaseCount')!r}")
    demo.expect_op(out, "create", "step 2")
    if out.resources is None:
        return
    cohort, machine = out.resource("cohort"), out.resource("start-run")
    later = [r for r in out.resources if not r.dynamic]
    expect(all(r.registered_t_s >= cohort.completed_t_s and cohort.urn in r.dependencies for r in later),
           "a pulumi-aws resource was registered before the activation completed or without depending on it")
    say(f"    => the {len(later)} pulumi-aws resources were registered after the activation completed "
        f"({cohort.completed_t_s:.2f} s into the run; the state machine at {machine.registered_t_s:.2f} s), "
        "and depend on it")
    sheet = out.resource("workflow-sample-sheet").inputs
    rows = list(csv.DictReader(io.StringIO(sheet["content"])))
    expect(sorted(r["read_set_id"] for r in rows) == sorted(demo.ids), "the S3 sample sheet lists other read sets")
    uri = f"s3://{sheet['bucket']}/{sheet['key']}"
    params = json.loads(machine.inputs["definition"])["States"]["StartRun"]["Parameters"]["Parameters"]
    expect(params == {"input": uri}, f"the state machine's run parameters are {params}, not the sheet {uri}")
    first = rows[0]
    say(f"    => the workflow's sample sheet {uri} ({len(rows)} rows, {len(sheet['content']):,} bytes); its first row:")
    say(f"       {','.join(first)}")
    say(f"       {','.join(first.values())}")
    say(f"    => the state machine's run parameters: {json.dumps(params)}")


def step_no_change(demo: Demo) -> None:
    """A second up with nothing changed starts no job and keeps the exports."""
    out, dt = demo.run("3", "second up: nothing changed", "up")
    expect(demo.report(out, dt) == 0, "the second up started an activation job")
    demo.expect_op(out, "same", "step 3")
    expect(out.exports.get("activationCount") == 1, "activationCount changed on a no-op up")


def step_archive_and_preview(demo: Demo) -> None:
    """The emulator archives read sets; the preview's diff shows the update and its volume."""
    archived = demo.ids[: demo.args.archive]
    demo.emu.admin("archive", {"storeId": COHORT_STORE_ID, "readSetIds": archived})
    say()
    say(f"--- the emulator archives {read_sets_text(len(archived))} (as HealthOmics does after 30 days unused): "
        f"{', '.join(archived[:3])}{', ...' if len(archived) > 3 else ''}")
    out, dt = demo.run("4", "preview: the provider's diff sees them", "preview")
    expect(demo.report(out, dt) == 0, "the preview started an activation job")
    demo.expect_op(out, "update", "step 4")
    demo.expect_line(out, update_preview_words(len(archived)),
                     "the update and the read sets and gigabases it will activate")


def read_sets_text(count: int) -> str:
    """``"1 read set"``, ``"25 read sets"``, ``"1,000 read sets"``: the count and noun as the
    provider writes them (``omics_dynamic.costmodel.volume_text``)."""
    return f"{count:,} read set{'' if count == 1 else 's'}"


def update_preview_words(archived: int) -> tuple[str, ...]:
    """Words step 4 expects in one provider line of the preview after the emulator archived
    ``archived`` read sets (>= 1): the diff's reason (``live_lookup.py`` ``not_active_reason``:
    ``update: N of M read sets are not ACTIVE ...; `pulumi up` will activate N read set(s)
    (X Gbases)``)."""
    return ("update:", "not ACTIVE", f"will activate {read_sets_text(archived)} (", "Gbases")


def step_reactivate(demo: Demo) -> None:
    """The up re-activates the archived read sets; activation_count 2 reaches the compute."""
    out, dt = demo.run("5", "up: re-activate them", "up")
    expect(demo.report(out, dt) > 0, "the re-activating up started no activation job")
    live = demo.emu.statuses(COHORT_STORE_ID)
    expect(all(live[r] == "ACTIVE" for r in demo.ids), "after the re-activating up some read sets are not ACTIVE")
    expect(out.exports.get("activationCount") == 2,
           f"activationCount {out.exports.get('activationCount')} != 2 after re-activation")
    demo.expect_op(out, "update", "step 5")
    if out.resources is not None:
        definition = out.resource("start-run").inputs.get("definition", "")
        expect("activation #2" in definition, "the state machine definition does not carry activation #2")
        say("    => the state machine's definition now says 'activation #2' (its re-run trigger)")


def step_destroy(demo: Demo) -> None:
    out, dt = demo.run("6", "destroy", "destroy")
    say(f"    => {dt:.1f} s real; the read sets stay ACTIVE (HealthOmics has no archive API)")
    demo.expect_op(out, "delete", "step 6")


def step_expected_failure(demo: Demo) -> None:
    """A separate stack whose readSetIds hold a DELETED read set: the preview already fails
    (check asks HealthOmics, which answers definitively), and so does the up, before any job."""
    unusable = sorted(r for r, s in demo.statuses.items() if s in UNUSABLE)
    bad = sorted(r for r in unusable if demo.statuses[r] == "DELETED")[:1] or unusable[:1]
    say()
    say(f"--- step 7 (EXPECTED FAILURE, separate stack 'demo-failure'): config readSetIds holding "
        f"{bad[0]} ({demo.statuses[bad[0]]}) must fail the preview and the up before starting any job")
    config = stack_config(demo.emu.url, time_scale=demo.args.time_scale, deploy_compute=False,
                          read_set_ids=demo.ids[:5] + bad)
    jobs_before = len(demo.emu.job_ids())
    demo.stacks_used.append("demo-failure")
    for operation in ("preview", "up"):
        method = demo.runner.preview if operation == "preview" else demo.runner.up
        try:
            method("demo-failure", config, lambda line: None)
        except ExampleRunError as err:
            lines = str(err).strip().splitlines()
            message = next((line for line in lines if bad[0] in line), lines[-1] if lines else repr(err))
            end = message.find("(gRPC")  # the harness's wrapping
            say(f"    => {demo.runner.command}{operation} failed as expected: {message[:end if end > 0 else None].strip()}")
        else:
            raise DemoFailure(f"step 7: {operation} with a DELETED read set succeeded")
    expect(len(demo.emu.job_ids()) == jobs_before, "step 7 started an activation job")


STEPS = (step_preview_new, step_first_up, step_no_change, step_archive_and_preview, step_reactivate,
         step_destroy, step_expected_failure)


# --------------------------------------------------------------------------- main

def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--time-scale", type=float, default=30.0,
                        help="emulated seconds per real second, for the emulator and the provider (default 30)")
    parser.add_argument("--activation-seconds", type=float, default=60.0,
                        help="emulated seconds one activation takes (default 60)")
    parser.add_argument("--archive", type=int, default=25, help="read sets the emulator archives again (default 25)")
    parser.add_argument("--harness", action="store_true", help="use the engine-role harness even if pulumi is on PATH")
    parser.add_argument("--demo-dir", default=str(DEFAULT_DEMO_DIR),
                        help="state and log directory (default .demo/ in the checkout). It is cleared at the "
                             f"start, so it must be new, empty, or one the demo made (it holds {DEMO_DIR_MARKER}); "
                             "any other directory is refused, never deleted")
    args = parser.parse_args(argv)
    if not (args.time_scale > 0 and math.isfinite(args.time_scale)):
        parser.error(f"--time-scale must be a positive number of emulated seconds per real second, got {args.time_scale:g}")
    if not (args.activation_seconds > 0 and math.isfinite(args.activation_seconds)):
        parser.error(f"--activation-seconds must be a positive number of seconds, got {args.activation_seconds:g}")
    if args.archive < 1:
        parser.error(f"--archive must be at least 1 read set, got {args.archive}")

    try:
        demo_dir = prepare_demo_dir(Path(args.demo_dir))
    except DemoDirError as err:
        parser.error(str(err))
    os.environ.update(AWS_ENV)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_OMICS"):
        os.environ.pop(name, None)

    t_demo = time.monotonic()
    try:
        runner = make_runner(demo_dir, dict(AWS_ENV), force_harness=args.harness)
    except CliNotFoundError as err:  # OMICS_DYNAMIC_PULUMI names no CLI
        parser.error(str(err))
    say("=" * 78)
    say(f"omics-dynamic demo: running the example stack with the {runner.label}")
    say("=" * 78)
    emu = EmulatorProcess(args.time_scale, args.activation_seconds, demo_dir / "emulator.log")
    demo: Optional[Demo] = None
    try:
        statuses = emu.statuses(COHORT_STORE_ID)
        selection = cohort_selection()
        ids = [rs["id"] for read_sets in selection.values() for rs in read_sets]
        say(f"emulator: {emu.url} (shipped cohort, store {COHORT_STORE_ID}; activation "
            f"{args.activation_seconds:g} s emulated, clock x{args.time_scale:g}; log {_shown_path(demo_dir / 'emulator.log')})")
        say(f"cohort: {len(statuses)} read sets: {_summary(_count(statuses, sorted(statuses)))}")
        say(f"stack input: config sampleSheet = {SAMPLE_SHEET.relative_to(REPO)}: {len(selection)} samples "
            f"(e.g. {', '.join(list(selection)[:2])}) whose {len(ids)} read sets are all activatable: "
            f"{_summary(_count(statuses, ids))}")
        demo = Demo(runner, emu, args, stack_config(emu.url, time_scale=args.time_scale,
                                                    deploy_compute=runner.deploy_compute),
                    ids, statuses)
        if runner.deploy_compute:
            say("deployCompute: true (the pulumi-aws S3 bucket and sample sheet, IAM roles and state machine "
                "are recorded by the harness, not created)")
        else:
            say("deployCompute: false (no AWS account: the pulumi-aws compute is left out)")
        for step in STEPS:
            step(demo)
        say()
        say("=" * 78)
        say(f"demo OK in {time.monotonic() - t_demo:.1f} s ({runner.short_label}); "
            f"emulator jobs: {len(emu.job_ids())}")
        say("=" * 78)
        return 0
    except DemoFailure as err:
        say()
        say(f"DEMO FAILED: {err}")
        return 1
    except Exception as err:
        say()
        say(f"DEMO FAILED: {type(err).__name__}: {err}")
        return 1
    finally:
        for stack in demo.stacks_used if demo else ():
            try:
                runner.cleanup(stack)
            except Exception:
                pass
        emu.stop()


if __name__ == "__main__":
    sys.exit(main())
