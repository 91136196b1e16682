"""The demo's pieces that need no emulator (``omics_dynamic_testing.example``, which
``scripts/demo.py`` runs): its directory handling and the words its steps expect in the
provider's lines.

The demo itself (about 20 s) runs in ``make demo``; these check what it decides, fast.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import omics_dynamic_testing.example as demo
from omics_dynamic.costmodel import volume_text

REPO = Path(__file__).resolve().parent.parent



# --------------------------------------------------------------------------- --demo-dir

def test_missing_directory_is_made_with_the_marker(tmp_path):
    target = tmp_path / "a" / "demo"
    assert demo.prepare_demo_dir(target) == target.resolve()
    assert sorted(p.name for p in target.iterdir()) == [demo.DEMO_DIR_MARKER]


def test_empty_directory_is_used(tmp_path):
    assert demo.prepare_demo_dir(tmp_path) == tmp_path.resolve()
    assert sorted(p.name for p in tmp_path.iterdir()) == [demo.DEMO_DIR_MARKER]


def test_directory_the_demo_made_is_cleared(tmp_path):
    target = demo.prepare_demo_dir(tmp_path / "demo")
    (target / "emulator.log").write_text("old run\n")
    (target / "harness").mkdir()
    (target / "harness" / "demo.json").write_text("{}")
    demo.prepare_demo_dir(target)
    assert sorted(p.name for p in target.iterdir()) == [demo.DEMO_DIR_MARKER]


@pytest.mark.parametrize("files", [["notes.txt"], ["notes.txt", "emulator.log"], ["harness/x.json", "src/main.py"]])
def test_users_directory_is_refused_and_kept(tmp_path, files):
    target = tmp_path / "my-project"
    for name in files:
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        (target / name).write_text("mine\n")
    with pytest.raises(demo.DemoDirError) as err:
        demo.prepare_demo_dir(target)
    message = str(err.value)
    assert f"--demo-dir {target.resolve()}: the directory holds files the demo did not create" in message
    assert "nothing was deleted" in message and "Give a new or empty directory" in message
    assert all((target / name).read_text() == "mine\n" for name in files)
    assert not (target / demo.DEMO_DIR_MARKER).exists()


def test_a_file_is_refused(tmp_path):
    target = tmp_path / "demo"
    target.write_text("not a directory\n")
    with pytest.raises(demo.DemoDirError, match="is not a directory"):
        demo.prepare_demo_dir(target)
    assert target.read_text() == "not a directory\n"


def test_default_directory_left_by_an_older_demo_is_cleared_only_with_its_own_files(tmp_path):
    default = tmp_path / ".demo"
    default.mkdir()
    for name in ("emulator.log", "harness", "cli", "cli-backend"):
        (default / name).mkdir() if name != "emulator.log" else (default / name).write_text("log\n")
    demo.prepare_demo_dir(default, default=default)
    assert sorted(p.name for p in default.iterdir()) == [demo.DEMO_DIR_MARKER]
    # The same files elsewhere, or the default with one file more, are not the demo's.
    other = tmp_path / "other"
    other.mkdir()
    (other / "emulator.log").write_text("log\n")
    with pytest.raises(demo.DemoDirError):
        demo.prepare_demo_dir(other, default=default)
    (default / demo.DEMO_DIR_MARKER).unlink()
    (default / "emulator.log").write_text("log\n")
    (default / "notes.txt").write_text("mine\n")
    with pytest.raises(demo.DemoDirError):
        demo.prepare_demo_dir(default, default=default)
    assert (default / "notes.txt").read_text() == "mine\n"


def test_demo_refuses_the_checkout_before_starting_anything(tmp_path):
    """``--demo-dir .`` from the checkout: exit 2 with the error, nothing deleted, no emulator."""
    before = sorted(p.name for p in REPO.iterdir())
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "demo.py"), "--harness", "--demo-dir", "."],
                          cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert f"--demo-dir {REPO}: the directory holds files the demo did not create" in proc.stderr
    assert proc.stdout == ""
    assert sorted(p.name for p in REPO.iterdir()) == before


# --------------------------------------------------------------------------- expected words

@pytest.mark.parametrize("count, noun", [(1, "1 read set"), (2, "2 read sets"), (25, "25 read sets"),
                                         (1000, "1,000 read sets")])
def test_step_4_words_match_the_providers_volume_text(count, noun):
    """The provider writes the update's volume with costmodel.volume_text; the words step 4
    looks for are in its text for every count (1 included: 'will activate 1 read set (')."""
    assert demo.read_sets_text(count) == noun
    line = (f"cohort: update: {count} of 249 read sets are not ACTIVE in HealthOmics ({count} ARCHIVED; "
            f"e.g. 1076822549); `pulumi up` will activate {volume_text(count, 52_300_000_000 * count)}")
    assert all(word in line for word in demo.update_preview_words(count)), (demo.update_preview_words(count), line)
    # ...and not in the text of another count.
    other = line.replace(volume_text(count, 52_300_000_000 * count), volume_text(count + 20, 1))
    assert not all(word in other for word in demo.update_preview_words(count))
