"""The code's shape: unit sizes, what the provider imports, versions, limits in one place.

- No function or method is longer than 80 lines and no class longer than 300 (from its
  ``def``/``class`` line to its last line, docstring included) in the provider, the
  emulator, the test toolkit, the scripts, the benchmarks and the tests.
- Importing the provider (``omics_dynamic`` and every module of it) loads neither the
  emulator, the test toolkit, nor their dependencies (werkzeug, sortedcontainers, pytest).
- The three distributions carry one version, and ``omics_dynamic.__version__`` is it.
- Timings and limits are defined in ``omics_dynamic/limits.py`` only: no other provider
  module assigns a number to a module-level name.
"""

from __future__ import annotations

import ast
import json
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import omics_dynamic

REPO = Path(__file__).resolve().parent.parent
SOURCE_DIRS = ("omics_dynamic", "packages", "scripts", "bench", "tests", ".github")
MAX_FUNCTION_LINES = 80
MAX_CLASS_LINES = 300


def _python_files() -> list[Path]:
    files = [REPO / "__main__.py"]
    for top in SOURCE_DIRS:
        files += [path for path in sorted((REPO / top).rglob("*.py"))
                  if not {".venv", "build"} & set(path.parts[len(REPO.parts):])]
    return files


def test_no_function_over_80_lines_and_no_class_over_300() -> None:
    oversized = []
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                limit = MAX_CLASS_LINES if isinstance(node, ast.ClassDef) else MAX_FUNCTION_LINES
                if lines > limit:
                    oversized.append(f"{path.relative_to(REPO)}:{node.lineno} {node.name} {lines} lines")
    assert oversized == []


def test_the_provider_imports_without_the_emulator_or_the_toolkit() -> None:
    modules = sorted(info.name for info in pkgutil.walk_packages(omics_dynamic.__path__, "omics_dynamic."))
    probe = (
        "import importlib, json, sys\n"
        f"for name in ['omics_dynamic'] + {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & "
        "{'omics_emulator', 'omics_dynamic_testing', 'werkzeug', 'sortedcontainers', 'pytest'})))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert "omics_dynamic.provider" in modules and "omics_dynamic.limits" in modules
    assert json.loads(out.stdout) == []


def test_the_provider_and_the_emulator_import_whatever_aws_profile_names(tmp_path: Path) -> None:
    """Their botocore models come from botocore's data files, not a session: an AWS_PROFILE
    that names no profile, or a config file that does not parse, breaks no import."""
    broken = tmp_path / "config"
    broken.write_text("[profile\n")
    env = {"PATH": "/usr/bin:/bin", "AWS_PROFILE": "nope", "AWS_CONFIG_FILE": str(broken), "HOME": str(tmp_path)}
    probe = "import omics_dynamic, omics_emulator.model as m; print(m.service_model().service_name)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, env=env, cwd=REPO)
    assert (out.returncode, out.stdout.strip()) == (0, "omics"), out.stderr


def test_the_three_distributions_share_one_version() -> None:
    versions = {path: re.search(r'(?m)^version = "([^"]+)"', (REPO / path).read_text()).group(1)
                for path in ("pyproject.toml", "packages/omics-emulator/pyproject.toml",
                             "packages/omics-dynamic-testing/pyproject.toml")}
    assert set(versions.values()) == {omics_dynamic.__version__}
    pins = re.findall(r'"omics-(?:dynamic|emulator|dynamic-testing)==([^"]+)"',
                      (REPO / "pyproject.toml").read_text()
                      + (REPO / "packages/omics-dynamic-testing/pyproject.toml").read_text())
    assert len(pins) == 6 and set(pins) == {omics_dynamic.__version__}


def test_numbers_are_named_in_limits_only() -> None:
    numbered = []
    for path in sorted((REPO / "omics_dynamic").rglob("*.py")):
        if path.name == "limits.py":
            continue
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
            value = getattr(node, "value", None)
            if isinstance(target, ast.Name) and isinstance(value, ast.Constant) and type(value.value) in (int, float):
                numbered.append(f"{path.relative_to(REPO)}:{node.lineno} {target.id} = {value.value!r}")
    assert numbered == []
