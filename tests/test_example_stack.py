"""The example stack (``__main__.py``) as a user's story, on a time-scaled emulator.

Program mode of the engine-role harness (``omics_dynamic_testing.run_program``): the
ReadSetActivation goes to the SDK's real provider server, which talks HTTP to the
emulator; pulumi-aws resources are recorded with their inputs, not created. These are
engine-role harness results, not results of the real Pulumi engine. The last test runs
the real ``pulumi`` CLI (``make pulumi``'s).

The stack config comes from ``omics_dynamic_testing.example.stack_config`` (the demo runs the
same stack with it). Expected values come from the shipped files themselves
(``cohort_samples.csv`` and ``cohort.json``), read here, not through the library or the
emulator.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import sys
from pathlib import Path

import pytest

from omics_dynamic_testing import example, run_program
from omics_emulator import COHORT_PATH, COHORT_STORE_ID, Emulator
from omics_emulator.make_seed import SAMPLE_SHEET_PATH, build, build_sample_sheet
from real_cli import pulumi_or_skip

REPO = Path(__file__).resolve().parent.parent

# pulumi-aws 7's s3 module warns, when imported, that its BucketV2-style classes are
# deprecated; the stack uses s3.Bucket and s3.BucketObjectv2, the current ones.
pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated in favor of:DeprecationWarning")
PROJECT = example.PROJECT
TIME_SCALE = 200.0
ACTIVATION_URN = f"urn:pulumi:dev::{PROJECT}::pulumi-python:dynamic/omics:ReadSetActivation::cohort"
SHEET_KEY = f"{PROJECT}/dev/samplesheet.csv"
URI_BASE = f"omics://123456789012.storage.us-east-1.amazonaws.com/{COHORT_STORE_ID}/readSet/"
HEADER = "sample_id,subject_id,read_set_id,file_type,source1,source2"

SEED = json.loads(COHORT_PATH.read_text(encoding="utf-8"))["sequenceStores"][0]["readSets"]
BY_ID = {r["id"]: r for r in SEED}
with open(SAMPLE_SHEET_PATH, newline="", encoding="utf-8") as _handle:
    SHEET_ROWS = list(csv.DictReader(_handle))
SAMPLES = [row["sample_id"] for row in SHEET_ROWS]
# The sheet's read sets: sample by sample in sheet order, each sample's by ID.
SELECTED = [r for s in SAMPLES for r in sorted((r for r in SEED if r["sampleId"] == s), key=lambda r: r["id"])]
SELECTED_IDS = [r["id"] for r in SELECTED]


def gbases(read_sets):
    return f"{sum(r['sequenceInformation']['totalBaseCount'] for r in read_sets) / 1e9:,.1f} Gbases"


@pytest.fixture
def cohort_emulator(aws_test_env):
    """The shipped cohort; 60-second activations on a clock 200 times faster, no rate limit."""
    with Emulator(seed="cohort", time_scale=TIME_SCALE, activation_seconds=60, queue_seconds=5,
                  rate_limit=0) as emu:
        yield emu


def config_for(emu, **kwargs):
    kwargs.setdefault("deploy_compute", True)
    return example.stack_config(emu.endpoint_url, time_scale=TIME_SCALE, rate_limit=0, **kwargs)


def run(operation, tmp_path, config, **kwargs):
    return run_program(str(example.PROGRAM), state_path=str(tmp_path / "state.json"), operation=operation,
                       config=config, env=example.AWS_ENV, timeout_s=120, program_timeout_s=300, **kwargs)


def aws_resources(result):
    return [r for r in result.resources if r.type.startswith("aws:")]


def assert_compute_gated(result, types):
    """Every pulumi-aws resource was registered after the activation's Create/Update
    returned, and depends on it."""
    activation = result.resource("cohort")
    compute = aws_resources(result)
    assert {r.type for r in compute} == types
    for r in compute:
        assert r.order > activation.order, r.name
        assert r.registered_t_s >= activation.completed_t_s, (r.name, r.registered_t_s, activation.completed_t_s)
        assert ACTIVATION_URN in r.dependencies, (r.name, r.dependencies)


COMPUTE_TYPES = {"aws:s3/bucket:Bucket", "aws:s3/bucketObjectv2:BucketObjectv2", "aws:iam/role:Role",
                 "aws:iam/rolePolicy:RolePolicy", "aws:sfn/stateMachine:StateMachine"}


# --------------------------------------------------------------------------- the shipped sheet

def test_shipped_sheet_is_the_generator_output_and_its_pairs_are_activatable():
    assert SAMPLE_SHEET_PATH.read_text(encoding="utf-8") == build_sample_sheet(build())
    assert list(SHEET_ROWS[0]) == ["subject_id", "sample_id", "sample_type"]
    assert (len(SAMPLES), len(SELECTED)) == (92, 249)
    assert SAMPLES[:2] == ["CHRT-0003-10A", "CHRT-0003-01A"]
    for normal, tumour in zip(SHEET_ROWS[::2], SHEET_ROWS[1::2]):
        assert normal["subject_id"] == tumour["subject_id"]
        assert (normal["sample_id"], normal["sample_type"]) == (normal["subject_id"] + "-10A", "normal")
        assert (tumour["sample_id"], tumour["sample_type"]) == (tumour["subject_id"] + "-01A", "tumour")
    assert {r["status"] for r in SELECTED} == {"ARCHIVED", "ACTIVE", "ACTIVATING"}
    # Left out: the pairs where a read set of either sample is DELETED or UPLOAD_FAILED.
    unusable = {r["sampleId"] for r in SEED if r["status"] in ("DELETED", "UPLOAD_FAILED")}
    assert unusable and not unusable & set(SAMPLES)


# --------------------------------------------------------------------------- the story

def assert_first_up_activated_the_sheet(emu, first, archived, archived_others):
    """The first up: the sheet's samples resolved to their read sets, the ARCHIVED ones
    were activated (and nothing else), the exports say so. Returns the job IDs, sorted."""
    assert first.engine.ops == {"cohort": "create"}
    assert first.resource("cohort").inputs["read_set_ids"] == SELECTED_IDS
    live = emu.read_set_statuses(COHORT_STORE_ID)
    assert all(live[rid] == "ACTIVE" for rid in SELECTED_IDS)
    assert len(archived_others) == 798 - len(archived)
    assert {live[rid] for rid in archived_others} == {"ARCHIVED"}  # read sets outside the sheet: untouched
    jobs = sorted(j["id"] for j in emu.jobs())
    assert jobs and sorted(first.exports["jobIds"]) == jobs
    assert sorted(rid for j in emu.jobs() for rid in (s["readSetId"] for s in j["sources"])) == \
        sorted(r["id"] for r in archived)
    ex = first.exports
    assert (ex["sampleCount"], ex["readSetCount"], ex["readSetUriCount"]) == (92, 249, 249)
    assert ex["sampleSheet"] == str(SAMPLE_SHEET_PATH.resolve())
    assert ex["activatedBaseCount"] == str(sum(r["sequenceInformation"]["totalBaseCount"] for r in archived))
    assert ex["activationCount"] == 1
    assert ex["statusSummary"] == {"ACTIVE": 249}
    assert ex["readSetUriSample"] == {rid: URI_BASE + rid for rid in sorted(SELECTED_IDS)[:3]}
    assert ex["sampleSheetUri"] == f"s3://sample-sheets-id/{SHEET_KEY}"
    assert_compute_gated(first, COMPUTE_TYPES)
    return jobs


def assert_workflow_sample_sheet(result):
    """The workflow's sample sheet in S3: every read set with its long-form URIs, fed by
    the activation. Returns its registration."""
    sheet = result.resource("workflow-sample-sheet")
    assert sheet.type == "aws:s3/bucketObjectv2:BucketObjectv2"
    assert (sheet.inputs["bucket"], sheet.inputs["key"], sheet.inputs["contentType"]) == \
        ("sample-sheets-id", SHEET_KEY, "text/csv")
    expected = [HEADER] + [
        f"{r['sampleId']},{r['subjectId']},{r['id']},{r['fileType']},{URI_BASE}{r['id']}/source1,"
        + (f"{URI_BASE}{r['id']}/source2" if r["fileType"] == "FASTQ" else "")
        for r in SELECTED]
    assert sheet.inputs["content"] == "\n".join(expected) + "\n"
    assert {r["fileType"] for r in SELECTED} == {"FASTQ", "BAM", "CRAM"}  # both row shapes are checked
    assert ACTIVATION_URN in sheet.property_dependencies["content"]
    assert any(u.endswith("::sample-sheets") for u in sheet.property_dependencies["bucket"])
    assert result.resource("sample-sheets").type == "aws:s3/bucket:Bucket"
    return sheet


def assert_state_machine_starts_the_run(result, sheet, jobs):
    """The state machine starts the run on that sheet: one run parameter, the sheet's URI;
    its comment names the sheet's digest and the activation's jobs."""
    machine = result.resource("start-run")
    definition = json.loads(machine.inputs["definition"])
    task = definition["States"]["StartRun"]
    assert task["Resource"] == "arn:aws:states:::aws-sdk:omics:startRun"
    assert task["Parameters"]["Parameters"] == {"input": f"s3://sample-sheets-id/{SHEET_KEY}"}
    assert task["Parameters"]["WorkflowId"] == example.WORKFLOW_ID
    assert task["Parameters"]["OutputUri"] == example.OUTPUT_URI
    assert task["Parameters"]["Tags"] == {"omics-dynamic:activation-count": "1"}
    digest = hashlib.sha256(sheet.inputs["content"].encode()).hexdigest()
    assert f"the 249 read sets of store {COHORT_STORE_ID} listed in s3://sample-sheets-id/{SHEET_KEY} " \
           f"(sha256 {digest}), ACTIVE after activation #1" in definition["Comment"]
    assert all(job in definition["Comment"] for job in jobs)
    assert len(json.dumps(task["Parameters"]["Parameters"])) < 50_000
    deps = machine.property_dependencies["definition"]
    assert ACTIVATION_URN in deps and any(u.endswith("::workflow-sample-sheet") for u in deps)
    assert machine.inputs["tags"]["omics-dynamic:activation-count"] == "1"
    assert machine.inputs["roleArn"] == "arn:aws:mock:::Role/start-run-role"


def test_sample_sheet_selects_activates_and_feeds_the_workflow_run(tmp_path, cohort_emulator):
    emu = cohort_emulator
    config = config_for(emu)
    assert config[f"{PROJECT}:sampleSheet"] == str(SAMPLE_SHEET_PATH.resolve())
    archived = [r for r in SELECTED if r["status"] == "ARCHIVED"]
    archived_others = sorted(rid for rid, s in emu.read_set_statuses(COHORT_STORE_ID).items()
                             if s == "ARCHIVED" and rid not in SELECTED_IDS)

    # preview of the new stack: the check's create line gives the volume; nothing starts.
    preview = run("preview", tmp_path, config)
    assert preview.engine.ops == {"cohort": "create"}
    assert any(f"cohort: create: will activate {len(archived)} read sets ({gbases(archived)}) of "
               f"{len(SELECTED)} in sequence store {COHORT_STORE_ID}" in line for line in preview.stderr_lines)
    assert emu.jobs() == []

    # up: the sheet's samples resolve to their read sets; the ARCHIVED ones are activated;
    # the workflow's sample sheet and the state machine that starts the run follow.
    first = run("up", tmp_path, config)
    jobs = assert_first_up_activated_the_sheet(emu, first, archived, archived_others)
    sheet = assert_workflow_sample_sheet(first)
    assert_state_machine_starts_the_run(first, sheet, jobs)

    # up again: same, no new job, same exports.
    second = run("up", tmp_path, config)
    assert second.engine.ops == {"cohort": "same"}
    assert sorted(j["id"] for j in emu.jobs()) == jobs
    assert second.exports["activationCount"] == 1
    assert second.resource("workflow-sample-sheet").inputs["content"] == sheet.inputs["content"]
    assert_compute_gated(second, COMPUTE_TYPES)

    # HealthOmics archives two read sets again: the preview shows the update and its volume.
    again = [BY_ID[rid] for rid in SELECTED_IDS[:2]]
    emu.archive(COHORT_STORE_ID, [r["id"] for r in again])
    preview = run("preview", tmp_path, config)
    assert preview.engine.ops == {"cohort": "update"}
    assert any("cohort: update: 2 of 249 read sets are not ACTIVE" in line
               and f"`pulumi up` will activate 2 read sets ({gbases(again)})" in line for line in preview.stderr_lines)
    assert len(emu.jobs()) == len(jobs)

    # up re-activates them; activation_count 2 reaches the state machine (re-run trigger).
    third = run("up", tmp_path, config)
    assert third.engine.ops == {"cohort": "update"}
    assert all(emu.read_set_statuses(COHORT_STORE_ID)[rid] == "ACTIVE" for rid in SELECTED_IDS)
    assert third.exports["activationCount"] == 2
    assert third.exports["activatedBaseCount"] == str(sum(r["sequenceInformation"]["totalBaseCount"] for r in again))
    assert_compute_gated(third, COMPUTE_TYPES)
    definition = json.loads(third.resource("start-run").inputs["definition"])
    assert "activation #2" in definition["Comment"]
    assert third.resource("workflow-sample-sheet").inputs["content"] == sheet.inputs["content"]

    # destroy deletes the activation (changing nothing in AWS).
    gone = run("destroy", tmp_path, config)
    assert gone.engine.ops == {"cohort": "delete"}


def test_read_set_ids_and_an_existing_bucket(tmp_path, cohort_emulator):
    """readSetIds instead of a sample sheet: the IDs reach the activation without a lookup
    (a duplicate dropped) and the sheet's rows hold only the ID and source1;
    sampleSheetBucket puts the sheet in that bucket instead of a declared one."""
    emu = cohort_emulator
    fastq = next(r["id"] for r in SELECTED if r["fileType"] == "FASTQ")
    aligned = next(r["id"] for r in SELECTED if r["fileType"] in ("BAM", "CRAM"))
    ids = [fastq, aligned, fastq]  # the duplicate is dropped
    config = config_for(emu, read_set_ids=ids, sampleSheetBucket="lab-sample-sheets", sampleSheetParameter="samplesheet")
    assert f"{PROJECT}:sampleSheet" not in config
    result = run("up", tmp_path, config)
    assert result.resource("cohort").inputs["read_set_ids"] == ids[:2]
    assert "sampleCount" not in result.exports and "sampleSheet" not in result.exports
    assert result.exports["readSetCount"] == 2
    assert_compute_gated(result, COMPUTE_TYPES - {"aws:s3/bucket:Bucket"})
    sheet = result.resource("workflow-sample-sheet")
    assert sheet.inputs["bucket"] == "lab-sample-sheets"
    assert sheet.inputs["content"] == "\n".join(
        [HEADER] + [f",,{rid},,{URI_BASE}{rid}/source1," for rid in ids[:2]]) + "\n"
    task = json.loads(result.resource("start-run").inputs["definition"])["States"]["StartRun"]
    assert task["Parameters"]["Parameters"] == {"samplesheet": f"s3://lab-sample-sheets/{SHEET_KEY}"}


def test_deploy_compute_false_registers_no_aws_resource(tmp_path, cohort_emulator, monkeypatch):
    # None in sys.modules makes `import pulumi_aws` raise ImportError: the program must not import it.
    monkeypatch.setitem(sys.modules, "pulumi_aws", None)
    result = run("up", tmp_path, config_for(cohort_emulator, deploy_compute=False))
    assert result.order == ["cohort"]
    assert aws_resources(result) == []
    assert (result.exports["sampleCount"], result.exports["readSetUriCount"]) == (92, 249)
    assert result.exports["activationCount"] == 1
    assert "stateMachineArn" not in result.exports and "sampleSheetUri" not in result.exports


# --------------------------------------------------------------------------- unusable read sets

USABLE = ("ARCHIVED", "ACTIVATING", "PROCESSING_UPLOAD", "ACTIVE")
BY_SAMPLE: dict[str, list[dict]] = {}
for _r in sorted(SEED, key=lambda r: r["id"]):
    BY_SAMPLE.setdefault(_r["sampleId"], []).append(_r)


def _first_sample(statuses):
    """The first sample (by ID) whose read sets have exactly these statuses (sorted)."""
    return next(s for s in sorted(BY_SAMPLE) if sorted(r["status"] for r in BY_SAMPLE[s]) == sorted(statuses))


def _write_sheet(path, samples):
    path.write_text("subject_id,sample_id\n" + "".join(f"{s[:9]},{s}\n" for s in samples), encoding="utf-8")
    return path


def _warnings(caplog):
    return [r.getMessage() for r in caplog.records if r.levelname == "WARNING" and "sample sheet" in r.getMessage()]


def test_sheet_samples_with_unusable_read_sets_activate_the_usable_ones_and_say_what_is_left_out(
        tmp_path, cohort_emulator, caplog):
    """A sample whose read sets are ARCHIVED, ARCHIVED and DELETED (a re-imported sample;
    43 of the cohort's 359 are like this): its two ARCHIVED read sets are activated, the
    DELETED one is left out with a warning naming sample, read set and status; the
    ReadSetActivation never sees it."""
    emu = cohort_emulator
    deleted = _first_sample(["ARCHIVED", "ARCHIVED", "DELETED"])
    failed = _first_sample(["ACTIVE", "ARCHIVED", "UPLOAD_FAILED"])
    both = _first_sample(["ARCHIVED", "DELETED", "UPLOAD_FAILED"])
    clean = SAMPLES[0]
    samples = [deleted, clean, failed, both]
    sheet = _write_sheet(tmp_path / "samples.csv", samples)
    usable = [r for s in samples for r in BY_SAMPLE[s] if r["status"] in USABLE]
    left_out = {s: [r for r in BY_SAMPLE[s] if r["status"] not in USABLE] for s in (deleted, failed, both)}
    assert (len(usable), sum(map(len, left_out.values()))) == (8, 4)  # the seed is as the names say

    caplog.set_level("WARNING")
    result = run("up", tmp_path, config_for(emu, sample_sheet=sheet))
    assert result.resource("cohort").inputs["read_set_ids"] == [r["id"] for r in usable]
    live = emu.read_set_statuses(COHORT_STORE_ID)
    assert {live[r["id"]] for r in usable} == {"ACTIVE"}
    assert [live[r["id"]] for rs in left_out.values() for r in rs] == [r["status"] for rs in left_out.values() for r in rs]
    assert sorted(s["readSetId"] for j in emu.jobs() for s in j["sources"]) == \
        sorted(r["id"] for r in usable if r["status"] == "ARCHIVED")
    ex = result.exports
    assert (ex["sampleCount"], ex["readSetCount"], ex["statusSummary"]) == (4, 8, {"ACTIVE": 8})
    content = result.resource("workflow-sample-sheet").inputs["content"]
    assert [line.split(",")[2] for line in content.splitlines()[1:]] == [r["id"] for r in usable]

    def named(sample):
        return f"sample {sample}: " + ", ".join(f"{r['id']} ({r['status']})" for r in left_out[sample])

    assert _warnings(caplog) == [
        f"sample sheet {sheet}: 4 read sets of 3 samples cannot be activated and are left out: "
        f"{named(deleted)}; {named(failed)}; {named(both)}. The stack activates the other 8 read sets of "
        "the sheet's 4 samples; re-import a left-out read set's data to include it"]


def test_sheet_without_unusable_read_sets_warns_nothing(tmp_path, cohort_emulator, caplog):
    caplog.set_level("WARNING")
    sheet = _write_sheet(tmp_path / "samples.csv", SAMPLES[:2])
    result = run("preview", tmp_path, config_for(cohort_emulator, sample_sheet=sheet, deploy_compute=False))
    assert result.resource("cohort").inputs["read_set_ids"] == [r["id"] for s in SAMPLES[:2] for r in BY_SAMPLE[s]]
    assert _warnings(caplog) == []


def test_sheet_sample_with_no_usable_read_set_is_an_error_naming_it_and_its_line(tmp_path, cohort_emulator, caplog):
    emu = cohort_emulator
    gone = _first_sample(["ARCHIVED", "DELETED", "UPLOAD_FAILED"])
    archived = [r["id"] for r in BY_SAMPLE[gone] if r["status"] == "ARCHIVED"]
    emu.set_read_set_status(COHORT_STORE_ID, archived[0], "DELETED")
    sheet = _write_sheet(tmp_path / "samples.csv", [SAMPLES[0], gone])
    caplog.set_level("WARNING")
    with pytest.raises(Exception, match=(
            rf"sample sheet {re.escape(str(sheet))}: line 3, column 'sample_id': sample '{gone}' has no read set "
            rf"with status ACTIVATING or ACTIVE or ARCHIVED or PROCESSING_UPLOAD in sequence store {COHORT_STORE_ID}")):
        run("up", tmp_path, config_for(emu, sample_sheet=sheet, deploy_compute=False))
    assert emu.jobs() == []
    statuses = {r["id"]: ("DELETED" if r["id"] == archived[0] else r["status"]) for r in BY_SAMPLE[gone]}
    warning = _warnings(caplog)
    assert len(warning) == 1 and f"sample {gone}: " + ", ".join(f"{rid} ({st})" for rid, st in statuses.items()) \
        in warning[0], warning


@pytest.mark.parametrize("change, error, match", [
    ({"workflowId": None}, Exception, "workflowId"),
    ({"readSetIds": json.dumps({"not": "a list"}), "sampleSheet": None}, ValueError, "readSetIds must be a list"),
    ({"readSetIds": ["4663788828"]}, ValueError, "set exactly one of the config keys sampleSheet .* both are set"),
    ({"sampleSheet": None}, ValueError, "set exactly one of the config keys sampleSheet .* neither is set"),
    ({"sampleSheet": "no-such-sheet.csv"}, Exception, r"sample sheet no-such-sheet.csv: cannot be read"),
])
def test_config_errors_name_the_key(tmp_path, cohort_emulator, change, error, match):
    config = config_for(cohort_emulator, **change)
    with pytest.raises(error, match=match):
        run("preview", tmp_path, config)


@pytest.mark.pulumi_cli
def test_real_cli_up_same_destroy(tmp_path, cohort_emulator):
    """The example stack, its read sets from the cohort's sample sheet, through the real
    Pulumi CLI (the demo's runner), file backend under tmp_path, deployCompute false."""
    emu = cohort_emulator
    runner = example.CliRunner(tmp_path, example.AWS_ENV, pulumi_or_skip())
    config = config_for(emu, deploy_compute=False)
    lines: list[str] = []
    try:
        first = runner.up("test", config, lines.append)
        assert all(emu.read_set_statuses(COHORT_STORE_ID)[rid] == "ACTIVE" for rid in SELECTED_IDS)
        job_ids = sorted(j["id"] for j in emu.jobs())
        assert sorted(first.exports["jobIds"]) == job_ids
        assert first.exports["activationCount"] == 1
        assert (first.exports["sampleCount"], first.exports["readSetUriCount"]) == (92, 249)
        assert any("cohort:" in line and "ACTIVE" in line for line in lines), lines[-40:]

        again = runner.up("test", config, lines.append)
        assert sorted(j["id"] for j in emu.jobs()) == job_ids
        assert again.exports["activationCount"] == 1

        emu.archive(COHORT_STORE_ID, SELECTED_IDS[:1])
        preview = runner.preview("test", config, lines.append)
        assert preview.ops.get("cohort") == "update"
        third = runner.up("test", config, lines.append)
        assert third.exports["activationCount"] == 2

        runner.destroy("test", config, lines.append)
    finally:
        runner.cleanup("test")


def test_left_out_warning_names_ten_samples_then_says_how_many_more(tmp_path, cohort_emulator, caplog):
    """12 samples each with an unusable read set: the warning names the first 10 (sheet order)
    and ends the list with 'and 2 more samples' instead of one line per sample of the cohort."""
    unusable = [s for s in BY_SAMPLE if any(r["status"] not in USABLE for r in BY_SAMPLE[s])
                and any(r["status"] in USABLE for r in BY_SAMPLE[s])][:12]
    assert len(unusable) == 12
    sheet = _write_sheet(tmp_path / "samples.csv", unusable)
    caplog.set_level("WARNING")
    run("preview", tmp_path, config_for(cohort_emulator, sample_sheet=sheet, deploy_compute=False))
    (warning,) = _warnings(caplog)
    named = warning.split(" left out: ", 1)[1].split(". The stack", 1)[0].split("; ")
    assert [n.split(":")[0] for n in named] == [f"sample {s}" for s in unusable[:10]] + ["and 2 more samples"]
