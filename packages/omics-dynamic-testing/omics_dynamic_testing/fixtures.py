"""pytest fixtures for testing a stack that uses omics-dynamic (a pytest plugin: installing
``omics-dynamic[testing]`` registers it through the ``pytest11`` entry point).

* ``healthomics_emulator``: a running :class:`omics_emulator.Emulator` with the shipped
  cohort (store ``1234567890``), 60 times faster than real time, and the emulator's test
  credentials in the environment (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY`` ``test``,
  region ``us-east-1``; ``AWS_PROFILE`` and endpoint variables removed) for the test.
* ``healthomics_stack_config``: the stack config that points the provider at that emulator
  (``aws:region``, ``omics-dynamic:endpoint``, ``omics-dynamic:timeScale``).
* ``local_stack``: a factory ``local_stack(project_dir, project, stack="test", config=None)
  -> LocalStack`` for the program ``project_dir/__main__.py`` run through the real
  ``pulumi`` CLI (Automation API inline program), its config ``healthomics_stack_config``
  plus ``config`` ({namespaced key: value}; ``LocalStack.set_config`` replaces the whole
  config, so pass the project's keys here or include the emulator's). The project
  directory is copied under the test's ``tmp_path`` first (without ``.git``, virtualenvs,
  ``__pycache__`` and ``Pulumi.<stack>.yaml`` files) and the stack runs in the copy, with
  its file backend and ``PULUMI_HOME`` beside it: nothing is written into
  ``project_dir``. It needs the CLI (``$OMICS_DYNAMIC_PULUMI``, ``pulumi``
  on PATH, or ``make pulumi``'s cache): without one the test is skipped, naming the fix. Stacks it made are
  destroyed at teardown.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, Optional

import pytest

if TYPE_CHECKING:
    from omics_emulator import Emulator

    from .automation import LocalStack

#: The emulator's speed-up in the fixtures: one emulated minute of activation takes one second.
TIME_SCALE = 60.0
#: The environment the emulator accepts; set for the test's duration.
TEST_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}
#: What the copy of a project directory leaves out: version control, virtualenvs, caches and
#: the project's own stack config files (the fixture sets the stack's config).
PROJECT_COPY_SKIPS = (".git", ".venv", "venv", "__pycache__", "Pulumi.*.yaml")
#: Variables that would point boto3 elsewhere; removed for the test's duration.
HOST_AWS_VARIABLES = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_OMICS")


@pytest.fixture
def healthomics_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    """A running emulator seeded with the shipped cohort (see the module docstring)."""
    from omics_emulator import Emulator

    for name, value in TEST_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    for name in HOST_AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    with Emulator(seed="cohort", time_scale=TIME_SCALE) as emulator:
        yield emulator


@pytest.fixture
def healthomics_stack_config(healthomics_emulator: Emulator) -> dict[str, str]:
    """{config key: value} pointing the provider at ``healthomics_emulator``."""
    return {"aws:region": TEST_CREDENTIALS["AWS_DEFAULT_REGION"],
            "omics-dynamic:endpoint": healthomics_emulator.endpoint_url,
            "omics-dynamic:timeScale": str(TIME_SCALE)}


@pytest.fixture
def local_stack(healthomics_stack_config: dict[str, str], tmp_path: Path
                ) -> Iterator[Callable[..., LocalStack]]:
    """Factory of :class:`~omics_dynamic_testing.automation.LocalStack` (module docstring)."""
    from .automation import CliNotFoundError, LocalStack, program_from_file, require_pulumi

    made: list[LocalStack] = []

    def make(project_dir: Any, project: str, stack: str = "test",
             config: Optional[Mapping[str, Any]] = None) -> LocalStack:
        try:
            pulumi = require_pulumi()
        except CliNotFoundError as exc:
            pytest.skip(f"local_stack needs the pulumi CLI: {exc}")
        copy = tmp_path / f"{stack}-project" / Path(project_dir).name
        shutil.copytree(project_dir, copy, ignore=shutil.ignore_patterns(*PROJECT_COPY_SKIPS))
        local = LocalStack(copy, stack, project, program_from_file(copy / "__main__.py"),
                           pulumi=pulumi, env=TEST_CREDENTIALS,
                           backend_dir=tmp_path / f"{stack}-backend", pulumi_home=tmp_path / f"{stack}-home")
        local.set_config({**healthomics_stack_config, **(config or {})})
        made.append(local)
        return local

    yield make
    for local in made:
        local.destroy()
