"""The demo's real-CLI path (``scripts/demo.py`` ``CliRunner``) reading what ``pulumi`` prints.

No ``pulumi`` CLI can be installed here, so these feed the readers lines shaped as the
pulumi/pulumi source prints them, written by hand from that source (not recorded from a
running CLI):

- ``pulumi up|destroy --json``: one ``apitype.EngineEvent`` per line
  (``sdk/go/common/apitype/events.go``; ``pkg/backend/display/events.go``
  ``ConvertEngineEvent``; ``pkg/backend/display/display.go`` ``logJSONEvent`` with
  ``--color never``). Field names and ``omitempty`` as in the Go struct tags: ``logical``
  is absent when false, a diagnostic without URN has no ``urn``, ``streamID`` is never
  set by ``ConvertEngineEvent``.
- The provider's stderr line: ``pkg/resource/plugin/plugin.go`` ``newPlugin`` (``runtrace``:
  ``Diag.Infoerrf`` of the line with its newline, no URN) -> ``pkg/engine/eventsink.go``
  ``StringifyDiag`` (no prefix for info, colour directives around, a newline added):
  severity ``info#err``, message ``"<line>\\n\\n"`` once the directives are removed.
- ``pulumi preview --json``: ``pkg/backend/display/json.go`` ``ShowPreviewDigest``, a
  ``json.MarshalIndent`` of ``pkg/display/json.go`` ``PreviewDigest`` (4-space indent).

The last test runs ``CliRunner`` against a stand-in executable that prints such lines, to
check the arguments the runner passes and that its outcome is read from them; it says
nothing about the real CLI beyond what the source says.
"""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from support import load_demo

REPO = Path(__file__).resolve().parent.parent


demo = load_demo()

STACK_URN = "urn:pulumi:demo::omics-dynamic-example::pulumi:pulumi:Stack::omics-dynamic-example-demo"
PROVIDER_URN = "urn:pulumi:demo::omics-dynamic-example::pulumi:providers:pulumi-python::default"
COHORT_URN = "urn:pulumi:demo::omics-dynamic-example::pulumi-python:dynamic/omics:ReadSetActivation::cohort"
SHEET_URN = "urn:pulumi:demo::omics-dynamic-example::aws:s3/bucketObjectv2:BucketObjectv2::workflow-sample-sheet"
CREATE_LINE = "cohort: create: will activate 249 read sets (1,234.5 Gbases) of 249"
ERROR_TEXT = ("Exception: ReadSetsUnusableError: 1 read set cannot be activated: 1234567890 (DELETED)\n"
              "  (gRPC UNKNOWN)\n")


def metadata(op, urn, type_, *, logical=True):
    """A ``StepEventMetadata`` as ``convertStepEventMetadata`` fills it (old/new elided)."""
    meta = {"op": op, "urn": urn, "type": type_, "old": None, "new": None, "detailedDiff": None, "provider": ""}
    if logical:
        meta["logical"] = True
    return meta


def event(seq, **payload):
    return json.dumps({"sequence": seq, "timestamp": 1767225600, **payload}, separators=(",", ":"))


def up_lines():
    """An ``up`` that creates the activation and replaces the sample sheet object."""
    return [
        event(0, preludeEvent={"config": {"aws:region": "us-east-1"}}),
        event(1, resourcePreEvent={"metadata": metadata("create", STACK_URN, "pulumi:pulumi:Stack")}),
        event(2, resourcePreEvent={"metadata": metadata("create", PROVIDER_URN, "pulumi:providers:pulumi-python")}),
        # A preview's step inside `up` (planning): skipped.
        event(3, resourcePreEvent={"metadata": metadata("update", COHORT_URN, "x"), "planning": True}),
        event(4, resourcePreEvent={"metadata": metadata("create", COHORT_URN,
                                                        "pulumi-python:dynamic/omics:ReadSetActivation")}),
        # The provider's stderr: Infoerrf, no URN, no prefix.
        event(5, diagnosticEvent={"message": CREATE_LINE + "\n\n", "color": "never", "severity": "info#err"}),
        event(6, diagnosticEvent={"message": "cohort: 3 jobs running, 120/249 ACTIVE\n\n", "color": "never",
                                  "severity": "info#err"}),
        # A status message (ephemeral) and a debug one: not the provider's lines.
        event(7, diagnosticEvent={"urn": COHORT_URN, "message": "creating (12s)\n", "color": "never",
                                  "severity": "info", "ephemeral": True}),
        event(8, diagnosticEvent={"message": "plugin chatter\n", "color": "never", "severity": "debug"}),
        event(9, resOutputsEvent={"metadata": metadata("create", COHORT_URN, "x")}),
        # A replace: only the logical "replace" step is the resource's op.
        event(10, resourcePreEvent={"metadata": metadata("create-replacement", SHEET_URN, "aws:s3", logical=False)}),
        event(11, resourcePreEvent={"metadata": metadata("replace", SHEET_URN, "aws:s3")}),
        event(12, resourcePreEvent={"metadata": metadata("delete-replaced", SHEET_URN, "aws:s3", logical=False)}),
        event(13, summaryEvent={"maybeCorrupt": False, "durationSeconds": 9, "resourceChanges": {"create": 3},
                                "PolicyPacks": {}, "isPreview": False, "result": "succeeded"}),
        event(14, cancelEvent={}),
    ]


def read(lines):
    out, echoed = demo.Outcome("up"), []
    for line in lines:
        demo.read_engine_event(line, out, echoed.append)
    return out, echoed


def test_up_events_give_each_resources_logical_op_and_the_providers_lines():
    out, echoed = read(up_lines())
    assert out.ops == {"cohort": "create", "workflow-sample-sheet": "replace"}
    assert out.lines == [CREATE_LINE, "cohort: 3 jobs running, 120/249 ACTIVE"]
    assert echoed == out.lines


def test_a_same_step_is_recorded_as_same():
    out, _ = read([event(0, resourcePreEvent={"metadata": metadata("same", COHORT_URN, "t")})])
    assert out.ops == {"cohort": "same"}


def test_a_failed_update_keeps_the_error_with_its_prefix_and_the_clis_own_lines():
    lines = [
        event(0, resourcePreEvent={"metadata": metadata("create", COHORT_URN, "t")}),
        event(1, diagnosticEvent={"urn": COHORT_URN, "prefix": "error: ", "message": ERROR_TEXT,
                                  "color": "never", "severity": "error"}),
        event(2, resOpFailedEvent={"metadata": metadata("create", COHORT_URN, "t"), "status": 1, "steps": 1}),
        "error: update failed",
    ]
    out, _ = read(lines)
    assert out.ops == {"cohort": "create"}
    assert out.lines == [
        "error: Exception: ReadSetsUnusableError: 1 read set cannot be activated: 1234567890 (DELETED)",
        "  (gRPC UNKNOWN)",
        "error: update failed",
    ]


def test_colour_directives_are_removed_when_the_cli_was_not_told_never():
    # Without --color never, logJSONEvent leaves the directives StringifyDiag put around it.
    line = event(0, diagnosticEvent={"message": "<{%reset%}>" + CREATE_LINE + "\n<{%reset%}>\n",
                                     "color": "raw", "severity": "info#err"})
    out, _ = read([line])
    assert out.lines == [CREATE_LINE]


def preview_document():
    """A ``PreviewDigest`` of a preview that updates the activation (``--show-sames``)."""
    return {
        "config": {"aws:region": "us-east-1"},
        "steps": [
            {"op": "same", "urn": STACK_URN, "provider": "", "detailedDiff": None},
            {"op": "same", "urn": PROVIDER_URN, "provider": "", "detailedDiff": None},
            {"op": "update", "urn": COHORT_URN, "provider": PROVIDER_URN + "::04da6b54",
             "diffReasons": ["read_set_ids"], "detailedDiff": None},
            {"op": "same", "urn": SHEET_URN, "provider": "", "detailedDiff": None},
        ],
        "diagnostics": [
            {"message": "cohort: update: 25 read sets not ACTIVE; will activate 25 read sets (80.1 Gbases)\n\n",
             "severity": "info#err"},
        ],
        "duration": 2500000000,
        "changeSummary": {"same": 3, "update": 1},
    }


def test_preview_digest_gives_the_ops_and_the_diagnostics_lines():
    text = json.dumps(preview_document(), indent=4)
    lines = ["warning: A new version of Pulumi is available."] + text.splitlines()
    out, echoed = demo.Outcome("preview"), []
    demo.read_preview_digest(lines, out, echoed.append)
    assert out.ops == {"cohort": "update", "workflow-sample-sheet": "same"}
    assert out.lines == ["warning: A new version of Pulumi is available.",
                         "cohort: update: 25 read sets not ACTIVE; will activate 25 read sets (80.1 Gbases)"]
    assert echoed == out.lines


def test_preview_without_a_document_fails_naming_the_output():
    out = demo.Outcome("preview")
    with pytest.raises(demo.DemoFailure, match="printed no JSON document:\nerror: no stack selected"):
        demo.read_preview_digest(["error: no stack selected"], out, lambda line: None)


def test_cli_runner_passes_the_json_flags_and_reads_their_output(tmp_path):
    """A stand-in ``pulumi`` executable (NOT the real CLI) logs its arguments and prints
    the lines above; the runner's outcome must come from them."""
    log = tmp_path / "args.jsonl"
    (tmp_path / "up.txt").write_text("\n".join(up_lines()) + "\n", encoding="utf-8")
    (tmp_path / "preview.txt").write_text(json.dumps(preview_document(), indent=4) + "\n", encoding="utf-8")
    fake = tmp_path / "pulumi"
    fake.write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import json, os, sys
        args = sys.argv[1:]
        with open({str(log)!r}, "a") as f:
            f.write(json.dumps({{"args": args, "stream": os.environ.get("PULUMI_ENABLE_STREAMING_JSON_PREVIEW")}}) + "\\n")
        if args[:1] == ["version"]:
            print("v0.0.0-stand-in")
        elif args[:1] == ["up"]:
            sys.stdout.write(open({str(tmp_path / "up.txt")!r}).read())
        elif args[:1] == ["preview"]:
            sys.stdout.write(open({str(tmp_path / "preview.txt")!r}).read())
        elif args[:2] == ["stack", "output"]:
            print(json.dumps({{"activationCount": 1}}))
        """), encoding="utf-8")
    fake.chmod(0o755)
    runner = demo.CliRunner(tmp_path / "demo", demo.AWS_ENV, pulumi=str(fake))
    config = demo.stack_config("http://127.0.0.1:1", time_scale=30, deploy_compute=False)

    echoed: list[str] = []
    up = runner.up("demo", config, echoed.append)
    preview = runner.preview("demo", config, echoed.append)

    assert up.ops == {"cohort": "create", "workflow-sample-sheet": "replace"}
    assert up.exports == {"activationCount": 1}
    assert up.lines == [CREATE_LINE, "cohort: 3 jobs running, 120/249 ACTIVE"]
    assert preview.ops["cohort"] == "update"
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    by_command = {tuple(c["args"][:1]): c for c in calls if c["args"][0] in ("up", "preview")}
    assert by_command[("up",)]["args"] == ["up", "--yes", "--skip-preview", "--json", "--color", "never",
                                           "--stack", "demo", "--non-interactive"]
    assert by_command[("preview",)]["args"] == ["preview", "--json", "--show-sames", "--color", "never",
                                                "--stack", "demo", "--non-interactive"]
    assert by_command[("preview",)]["stream"] == "false"
    config_file = tmp_path / "demo" / "cli" / "Pulumi.demo.yaml"
    assert "omics-dynamic-example:sampleSheet" in config_file.read_text()
