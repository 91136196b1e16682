"""The three distributions, built as wheels and installed into fresh virtualenvs.

- ``omics-dynamic`` (the provider) installs pulumi and boto3 and imports without the
  emulator's dependencies (werkzeug, sortedcontainers) or the test toolkit;
- ``omics-emulator`` installs on its own (no pulumi) and serves the shipped cohort, whose
  sample sheet is in its wheel;
- ``omics-dynamic-testing`` (the toolkit) registers its pytest fixtures: a test in a fresh
  venv gets a running emulator from ``healthomics_emulator``.

Building needs setuptools from PyPI (build isolation) and the installs take pulumi, boto3
and their dependencies from PyPI, as a user's ``pip install`` does.
"""

from __future__ import annotations

import email.parser
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DISTRIBUTIONS = {"omics_dynamic": REPO, "omics_emulator": REPO / "packages" / "omics-emulator",
                 "omics_dynamic_testing": REPO / "packages" / "omics-dynamic-testing"}
#: Seconds one pip or python step may take (a cold pip cache downloads grpcio and botocore).
STEP_TIMEOUT_S = 600

pytestmark = pytest.mark.slow


def _run(*cmd: str, cwd: Path = REPO) -> str:
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=STEP_TIMEOUT_S)
    assert done.returncode == 0, f"{' '.join(cmd)} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


#: What a distribution's build reads, below its directory (copied apart, so that building
#: leaves no ``build/`` or ``*.egg-info`` in the checkout).
SOURCES = {"omics_dynamic": ("pyproject.toml", "README.md", "omics_dynamic"),
           "omics_emulator": ("pyproject.toml", "README.md", "omics_emulator"),
           "omics_dynamic_testing": ("pyproject.toml", "README.md", "omics_dynamic_testing")}


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """{import name: built wheel} for the three distributions."""
    out = tmp_path_factory.mktemp("wheels")
    sources = tmp_path_factory.mktemp("sources")
    for name, root in DISTRIBUTIONS.items():
        (sources / name).mkdir()
        for entry in SOURCES[name]:
            if (root / entry).is_dir():
                shutil.copytree(root / entry, sources / name / entry, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy2(root / entry, sources / name / entry)
    _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check", "--no-deps",
         "--wheel-dir", str(out), *(str(sources / name) for name in DISTRIBUTIONS))
    return {name: next(out.glob(f"{name}-*.whl")) for name in DISTRIBUTIONS}


def _venv_with(path: Path, *requirements: object) -> str:
    """A fresh virtualenv at ``path`` with ``requirements`` (wheel paths, names) installed by
    pip, dependencies from PyPI; returns its python."""
    venv.EnvBuilder(with_pip=True).create(path)
    python = str(path / "bin" / "python")
    _run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *map(str, requirements))
    return python


def _requires(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        meta = next(name for name in archive.namelist() if name.endswith(".dist-info/METADATA"))
        headers = email.parser.Parser().parsestr(archive.read(meta).decode())
    return [req for req in headers.get_all("Requires-Dist") or [] if "extra ==" not in req]


def test_the_provider_wheel_holds_the_provider_only(wheels: dict[str, Path]) -> None:
    with zipfile.ZipFile(wheels["omics_dynamic"]) as archive:
        packages = {name.split("/")[0] for name in archive.namelist() if not name.split("/")[0].endswith(".dist-info")}
    assert packages == {"omics_dynamic"}
    assert sorted(req.split(">")[0].split("<")[0] for req in _requires(wheels["omics_dynamic"])) == [
        "boto3", "botocore", "pulumi"]


def test_the_emulator_wheel_ships_the_cohort_and_its_sample_sheet(wheels: dict[str, Path]) -> None:
    with zipfile.ZipFile(wheels["omics_emulator"]) as archive:
        names = set(archive.namelist())
    assert {"omics_emulator/data/cohort.json", "omics_emulator/data/cohort_samples.csv",
            "omics_emulator/__main__.py"} <= names
    assert sorted(req.split(">")[0] for req in _requires(wheels["omics_emulator"])) == [
        "botocore", "sortedcontainers", "werkzeug"]


def test_the_provider_installs_and_imports_without_the_emulator(wheels: dict[str, Path], tmp_path: Path) -> None:
    python = _venv_with(tmp_path / "venv", wheels["omics_dynamic"])
    probe = (
        "import importlib.util, sys\n"
        "import omics_dynamic, omics_dynamic.provider, omics_dynamic.resource\n"
        "from omics_dynamic import ReadSetActivation, get_read_sets, read_sample_sheet, iam_policy\n"
        "absent = [m for m in ('werkzeug', 'sortedcontainers', 'omics_emulator', 'omics_dynamic_testing', 'pytest')"
        " if importlib.util.find_spec(m) is not None]\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('werkzeug', 'sortedcontainers'))\n"
        "print(absent, loaded, omics_dynamic.provider.ReadSetActivationProvider.__module__)\n"
    )
    assert _run(python, "-c", probe, cwd=tmp_path).split() == ["[]", "[]", "omics_dynamic.provider"]


def test_the_emulator_installs_alone_and_serves_the_cohort(wheels: dict[str, Path], tmp_path: Path) -> None:
    python = _venv_with(tmp_path / "venv", wheels["omics_emulator"])
    probe = (
        "import csv, importlib.util, json, urllib.request\n"
        "from omics_emulator import COHORT_STORE_ID, Emulator\n"
        "from omics_emulator.make_seed import SAMPLE_SHEET_PATH\n"
        "with Emulator(seed='cohort') as emu:\n"
        "    url = f'{emu.endpoint_url}/_emulator/read-sets?storeId={COHORT_STORE_ID}'\n"
        "    statuses = json.load(urllib.request.urlopen(url, timeout=30))\n"
        "rows = list(csv.DictReader(open(SAMPLE_SHEET_PATH)))\n"
        "print(len(statuses), len(rows), importlib.util.find_spec('pulumi') is None)\n"
    )
    count, rows, no_pulumi = _run(python, "-c", probe, cwd=tmp_path).split()
    assert (int(count) > 0, int(rows) > 0, no_pulumi) == (True, True, "True")
    first = subprocess.run([python, "-m", "omics_emulator", "--help"], capture_output=True, text=True,
                           timeout=STEP_TIMEOUT_S, cwd=tmp_path)
    assert first.returncode == 0 and "--profile" in first.stdout


#: A user's test file, as docs/testing.md shows it: the fixtures in a fresh venv.
USER_TESTS = """\
import boto3, botocore.config

def test_cohort_store(healthomics_emulator, healthomics_stack_config):
    client = boto3.client("omics", endpoint_url=healthomics_stack_config["omics-dynamic:endpoint"],
                          config=botocore.config.Config(inject_host_prefix=False))
    assert len(client.list_read_sets(sequenceStoreId="1234567890", maxResults=5)["readSets"]) == 5

def test_my_stack_activates(local_stack):
    stack = local_stack("mystack", "mystack", config={"mystack:sequenceStoreId": "1234567890"})
    assert stack.up().outputs["activation_count"] == 1
"""
#: The program ``local_stack`` runs: two ARCHIVED read sets of the shipped cohort.
USER_PROGRAM = """\
import pulumi
from omics_dynamic import ReadSetActivation, ReadSetActivationArgs

config = pulumi.Config()
activation = ReadSetActivation("cohort", ReadSetActivationArgs(
    sequence_store_id=config.require("sequenceStoreId"), read_set_ids=["4663788828", "5624596743"]))
pulumi.export("activation_count", activation.activation_count)
"""


def test_the_docs_user_tests_are_these() -> None:
    docs = (REPO / "docs" / "testing.md").read_text()
    assert USER_TESTS in docs and USER_PROGRAM in docs


def test_the_toolkit_fixtures_serve_a_users_tests(wheels: dict[str, Path], tmp_path: Path) -> None:
    python = _venv_with(tmp_path / "venv", *wheels.values())
    (tmp_path / "test_mine.py").write_text(USER_TESTS)
    (tmp_path / "mystack").mkdir()
    (tmp_path / "mystack" / "__main__.py").write_text(USER_PROGRAM)
    out = _run(python, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "test_mine.py", cwd=tmp_path)
    assert sorted(path.name for path in (tmp_path / "mystack").iterdir()) == ["__main__.py"]  # ran in a copy
    if os.environ.get("OMICS_DYNAMIC_REQUIRE_PULUMI_CLI") == "1":
        assert "2 passed" in out, out
    else:  # without a CLI, local_stack skips and says how to get one
        assert "2 passed" in out or ("1 passed, 1 skipped" in out and "make pulumi" in out), out
