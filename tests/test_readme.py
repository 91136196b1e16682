"""README.md against the code: every fenced block, every quoted message, every table.

Each check reads the README as it is and compares it with the source of truth (the code,
the Makefile, pyproject.toml, the GitOps script, or the real demo output saved in
``tests/data/demo-real-cli-2026-12-07.txt``), so a README that drifts from them fails.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import json
import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest

import omics_dynamic
from omics_dynamic import ReadSetActivationArgs, aws, outputs, planning

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
DEMO_OUTPUT = ROOT / "tests" / "data" / "demo-real-cli-2026-12-07.txt"
FENCE = re.compile(r"^( *)```(\w*)\n(.*?)^\1```", re.S | re.M)


def blocks(lang: str | None = None) -> list[str]:
    found = [(m.group(2), re.sub(rf"(?m)^{m.group(1)}", "", m.group(3))) for m in FENCE.finditer(README)]
    return [text for kind, text in found if lang is None or kind == lang]


def prose() -> str:
    """The README without its fenced blocks."""
    return FENCE.sub("", README)


def code_spans(text: str) -> list[str]:
    """Inline code spans (single or double backticks), stripped as Markdown strips them."""
    spans = re.findall(r"``\s(.+?)\s``", text, re.S)
    text = re.sub(r"``\s(.+?)\s``", "", text, flags=re.S)
    spans += re.findall(r"`([^`\n]+)`", text)
    return [" ".join(s.split()) for s in spans]


def source_corpus() -> str:
    """Every string a quoted message may come from: the package, the tests, the demo output."""
    files = [*sorted((ROOT / "omics_dynamic").rglob("*.py")), *sorted((ROOT / "tests").glob("*.py")), DEMO_OUTPUT]
    files = [f for f in files if f.name != "test_readme.py"]
    return "\n".join(f.read_text(encoding="utf-8") for f in files)


def table(heading: str) -> list[list[str]]:
    """Rows (cells, stripped) of the first table under ``## heading``."""
    section = README.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    return [[c.strip() for c in row.strip("|").split("|")] for row in rows[2:]]


def first_code(cell: str) -> str:
    return re.match(r"`([^`]+)`", cell).group(1)


# -- shape ------------------------------------------------------------------------------

def test_readme_is_a_short_guide_without_source_line_numbers():
    assert len(README.splitlines()) <= 250
    assert not re.search(r'\.py", line \d+|\.py:\d+|line \d+ of ', README)
    assert "Traceback" not in README


def test_every_fenced_block_has_a_language_this_test_checks():
    kinds = [m.group(2) for m in FENCE.finditer(README)]
    assert kinds and set(kinds) <= {"sh", "python", "json", "text"}, kinds


# -- python -----------------------------------------------------------------------------

@pytest.mark.parametrize("code", blocks("python"))
def test_python_blocks_compile_and_use_only_real_names(code):
    tree = ast.parse(compile(code, "README.md", "exec", flags=ast.PyCF_ONLY_AST))
    args_params = set(inspect.signature(ReadSetActivationArgs.__init__).parameters) - {"self"}
    attributes = set(planning.INPUT_KEYS) | set(outputs.OUTPUT_KEYS) | set(outputs.DERIVED_OUTPUT_KEYS) | {"region"}
    activations = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "omics_dynamic":
            for alias in node.names:
                assert alias.name in omics_dynamic.__all__, alias.name
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "ReadSetActivationArgs":
            for kw in node.keywords:
                assert kw.arg in args_params, kw.arg
        if (isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
                and getattr(node.value.func, "id", None) == "ReadSetActivation"):
            activations.update(t.id for t in node.targets if isinstance(t, ast.Name))
    used = [n.attr for n in ast.walk(tree)
            if isinstance(n, ast.Attribute) and getattr(n.value, "id", None) in activations]
    assert used and set(used) <= attributes, used


def test_the_smallest_program_runs_under_pulumi_mocks():
    """The program block declares a ReadSetActivation with those inputs (no engine, no AWS)."""
    import pulumi

    code = blocks("python")[0]
    declared = []

    class Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args):
            declared.append((args.typ, args.name, args.inputs))
            return f"{args.name}-id", args.inputs

        def call(self, args):
            return {}

    pulumi.runtime.set_mocks(Mocks(), preview=False)
    exec(compile(code, "README.md", "exec"), {"__name__": "__main__"})

    @pulumi.runtime.test
    def settled():
        return pulumi.Output.from_input(None)

    settled()
    assert [(typ, name) for typ, name, _ in declared] == [("pulumi-python:dynamic/omics:ReadSetActivation", "cohort")]
    inputs = declared[0][2]
    assert inputs["sequence_store_id"] == "1234567890" and len(inputs["read_set_ids"]) == 2


# -- json: the IAM policy ---------------------------------------------------------------

def test_iam_policy_block_is_iam_policys_output():
    (block,) = blocks("json")
    assert '`omics_dynamic.iam_policy("1234567890", "us-east-1", "111122223333")`' in README
    assert json.loads(block) == omics_dynamic.iam_policy("1234567890", "us-east-1", "111122223333")


# -- sh ---------------------------------------------------------------------------------

def commands() -> list[list[str]]:
    out = []
    for block in blocks("sh"):
        for line in block.splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                out.append(shlex.split(line))
    return out


def test_make_commands_name_makefile_targets():
    targets = set(re.findall(r"(?m)^([\w.-]+):", (ROOT / "Makefile").read_text()))
    made = [c[1] for c in commands() if c[0] == "make"]
    assert made and set(made) <= targets, made
    prose_made = re.findall(r"`make (\w+)`", README)
    assert set(prose_made) <= targets, prose_made


def test_pip_commands_install_this_package():
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'name = "omics-dynamic"' in pyproject
    for cmd in commands():
        if cmd[0] == "pip":
            assert cmd[1] == "install" and cmd[2:] in (["/path/to/omics-dynamic"], ["-e", "."]), cmd


def test_pulumi_commands_are_the_ones_the_gitops_script_runs():
    script = (ROOT / ".github" / "workflows" / "scripts" / "pulumi_run.py").read_text()
    pulumi_cmds = [c for c in commands() if c[0] == "pulumi"]
    assert [c[1] for c in pulumi_cmds] == ["cancel", "up", "refresh"]
    for cmd in pulumi_cmds:
        # cancel and refresh are literal in the script; up is its operation argument
        assert f'"{cmd[1]}"' in script or cmd[1] == "up"
        for flag in (a for a in cmd if a.startswith("--")):
            assert f'"{flag}"' in script, flag


def pulumi_cli() -> str | None:
    path = os.environ.get("OMICS_DYNAMIC_PULUMI") or str(
        Path.home() / ".cache" / "omics-dynamic" / "pulumi-v3.276.0" / "bin" / "pulumi")
    return path if os.access(path, os.X_OK) else None


@pytest.mark.skipif(pulumi_cli() is None, reason="no pulumi CLI built (make pulumi)")
def test_pulumi_commands_flags_exist_in_the_real_cli():
    for cmd in (c for c in commands() if c[0] == "pulumi"):
        help_text = subprocess.run([pulumi_cli(), cmd[1], "--help"], capture_output=True, text=True,
                                   timeout=60).stdout
        for flag in (a for a in cmd if a.startswith("--")):
            assert flag in help_text, (cmd[1], flag)


# -- text: the demo excerpt -------------------------------------------------------------

def test_demo_excerpt_is_real_demo_output():
    (block,) = blocks("text")
    demo = DEMO_OUTPUT.read_text(encoding="utf-8")
    assert block in demo  # contiguous lines, verbatim
    assert "real Pulumi CLI (v3.276.0)" in demo and "clock x30" in demo
    assert "2026-12-07" in demo
    paragraph = README.split("```text", 1)[0].rstrip().rsplit("\n\n", 1)[1]
    assert "2 cores, 2026-12-07" in paragraph and "30x" in paragraph and "v3.276.0" in paragraph


def test_demo_progress_lines_are_what_the_provider_formats_today():
    """The excerpt's waiting lines are exactly what messages.waiting_line writes for their
    counts, so the excerpt cannot show a format the code no longer prints."""
    from omics_dynamic.activation.progress import RunCounts
    from omics_dynamic.messages import waiting_line
    from omics_dynamic.scheduling import TimeLeftEstimator

    pattern = (r"cohort: (\d+)/(\d+) read sets active, time left unknown \(no job has ended yet\), (\S+) elapsed, "
               r"(\d+) jobs running(?: \((\d+) SUBMITTED\))?, (\d+) queued")
    waiting = [m for m in re.finditer(pattern, blocks("text")[0])]
    assert len(waiting) >= 2
    unknown = TimeLeftEstimator().estimate(0.0, [0.0], 0, 20).text
    for m in waiting:
        active, total, elapsed, running, submitted, queued = m.groups()
        counts = RunCounts(active=int(active), total=int(total), running=int(running), queued=int(queued),
                           finished=0, waiting=0, submitted=int(submitted or 0))
        assert "cohort: " + waiting_line(counts, elapsed, unknown) == m.group(0)


# -- quoted messages and names in prose -------------------------------------------------

def test_quoted_messages_are_verbatim_in_the_source_or_the_demo_output():
    corpus = " ".join(source_corpus().split())
    messages = [s for s in code_spans(prose()) if " " in s and len(s) >= 20
                and not re.match(r"(pip|pulumi|make|python|\.venv|omics_dynamic\.)\b", s)]
    assert messages
    for message in messages:
        assert message in corpus, message
    quotes = re.findall(r"(?m)^> ?(.*)$", prose())
    for quote in quotes:
        assert " ".join(quote.split()) in corpus, quote


def test_error_names_exist():
    names = {s for s in code_spans(prose()) if re.fullmatch(r"[A-Z]\w*(Error|Unreachable)", s)}
    assert {"CredentialsTimeoutError", "EndpointUnreachable"} <= names
    corpus = source_corpus()
    for name in names:
        assert name in corpus, name


def test_config_keys_and_env_names_in_prose_exist():
    text = (ROOT / "omics_dynamic" / "aws.py").read_text()
    keys = set(re.findall(r'number\("(\w+)", "(\w+)"', text))
    known = {f"omics-dynamic:{k}" for k, _ in keys} | {"omics-dynamic:endpoint", "aws:region", "aws:profile"}
    envs = {e for _, e in keys}
    for span in code_spans(prose()):
        if re.fullmatch(r"(omics-dynamic|aws):\w+", span):
            assert span in known, span
        if span.startswith("OMICS_DYNAMIC_"):
            assert span in envs, span


# -- tables -----------------------------------------------------------------------------

def test_inputs_table_matches_the_inputs_and_their_limits():
    rows = table("Inputs")
    assert [first_code(r[0]) for r in rows] == [k for k in planning.INPUT_KEYS if k != "resource_name"]
    text = {first_code(r[0]): " | ".join(r[1:]) for r in rows}
    assert f"{planning.MAX_READ_SETS:,}" in text["read_set_ids"]
    assert f"{planning.DEFAULT_TIMEOUT_SECONDS:,}" in text["timeout_seconds"]
    assert f"{planning.MAX_TIMEOUT_SECONDS:,}" in text["timeout_seconds"]
    assert f"| {planning.DEFAULT_MAX_CONCURRENT_JOBS} |" in f"| {text['max_concurrent_jobs']} |"
    assert f"{planning.MAX_CONCURRENT_JOBS_LIMIT:,}" in text["max_concurrent_jobs"]
    assert set(planning.REPLACE_KEYS) == {k for k, v in text.items() if v.endswith("| replace") or "replace when" in v}


def test_outputs_table_matches_the_outputs():
    names = [first_code(r[0]) for r in table("Outputs")]
    assert len(names) == len(set(names))
    assert set(names) == {"region"} | set(outputs.OUTPUT_KEYS) | set(outputs.DERIVED_OUTPUT_KEYS)
    derived = {first_code(r[0]) for r in table("Outputs") if r[1].startswith("derived:")}
    assert derived == set(outputs.DERIVED_OUTPUT_KEYS)
    base = dict((first_code(r[0]), r[1]) for r in table("Outputs"))
    assert "string of decimal digits" in base["activated_base_count"]
    assert outputs.base_count_text(2**53 + 1) == "9007199254740993"  # exact past 2^53, as it says
    assert "gigabases" in base["activated_gigabases"]


def test_configuration_table_matches_provider_settings():
    rows = table("Configuration")
    text = (ROOT / "omics_dynamic" / "aws.py").read_text()
    numbers = dict(re.findall(r'number\("(\w+)", "(\w+)"', text))
    defaults = {f.name: f.default for f in dataclasses.fields(aws.ProviderSettings)}
    field_of = {"rateLimit": "rate_limit_per_s", "maxAttempts": "max_attempts",
                "credentialsTimeout": "credentials_timeout_s", "timeScale": "time_scale",
                "dataSourceTimeout": "data_source_timeout_s"}
    keys = [first_code(r[0]) for r in rows]
    assert set(keys) == {f"omics-dynamic:{k}" for k in numbers} | {"omics-dynamic:endpoint", "aws:region", "aws:profile"}
    for row in rows:
        key = first_code(row[0])
        short = key.split(":", 1)[1]
        if short in numbers:
            assert row[1] == f"`{numbers[short]}`", row
            assert float(row[2]) == float(defaults[field_of[short]]), row
        else:
            assert row[1] == "", row
    assert aws.CREDENTIALS_TIMEOUT_S == 10.0


# -- facts about versions and the CLI ---------------------------------------------------

def test_versions_and_cli_build_facts():
    pyproject = (ROOT / "pyproject.toml").read_text()
    script = (ROOT / "scripts" / "pulumi-cli.sh").read_text()
    version = re.search(r'(?m)^version = "([^"]+)"', pyproject).group(1)
    assert f"`omics-dynamic` {version}" in README
    assert re.search(r'requires-python = ">=3\.9"', pyproject) and "3.9+ declared, 3.11\ntested" in README
    assert '"pulumi>=3.200.0,<4"' in pyproject and "`pulumi>=3.200,<4` declared" in README
    cli = re.search(r'VERSION="\$\{PULUMI_CLI_VERSION:-(v[\d.]+)\}"', script).group(1)
    assert README.count(cli) >= 3
    assert "Go 1.26.6 or newer" in script and "Go 1.26.6 or newer" in README
    assert "1.5 GB of Go module cache and 1.7 GB of Go build cache" in script
    assert "1.5 GB of Go module cache and 1.7 GB of Go\nbuild cache" in README
    assert "3.9 tested" not in README and "also on 3.9" not in README
    assert "cannot be installed" not in README and "has not been run" not in README


def test_measured_figures_name_machine_and_date():
    # The measured ones (bounds such as "120 s" are settings, not measurements).
    for figure in ("626 s", "26-31 s"):
        paragraph = next(p for p in prose().split("\n\n") if re.search(rf"(?<!\d){figure}", p))
        assert re.search(r"2 cores.{0,6}\(?2026-\d\d-\d\d", paragraph), paragraph


# -- links ------------------------------------------------------------------------------

def slug(heading: str) -> str:
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


@pytest.mark.parametrize("target", sorted(set(re.findall(r"\]\(([^)#]+\.md)(?:#[^)]*)?\)", README))))
def test_linked_docs_exist(target):
    assert (ROOT / target).is_file(), target


def test_link_anchors_exist():
    for target, anchor in re.findall(r"\]\(([^)#]+\.md)#([^)]+)\)", README):
        doc = (ROOT / target).read_text(encoding="utf-8")
        anchors = {slug(h) for h in re.findall(r"(?m)^#+ (.+)$", doc)}
        anchors |= set(re.findall(r'<a id="([^"]+)"', doc))
        assert anchor in anchors, (target, anchor)
