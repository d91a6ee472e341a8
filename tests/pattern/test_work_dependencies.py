"""The work's own dependencies: `terraform plan` builds them into a layer for the worker's
architecture and Python 3.12 (build_dependencies.py, run by the module's data "external"), whatever
machine it runs on; with no requirements there is no layer and the package is the source alone.
These tests download two small wheels from PyPI per architecture."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from emulator.terraform import ROOT, evaluate
from tests.pattern.helpers import copy_of_the_project

if TYPE_CHECKING:
    from subprocess import CompletedProcess

# One pure-Python dependency and one with a compiled extension.
REQUIREMENTS = "six==1.17.0\nmarkupsafe==3.0.2\n"
ELF_MACHINE = {"arm64": 183, "x86_64": 62}  # e_machine: EM_AARCH64, EM_X86_64
SO_SUFFIX = {
    "arm64": "cpython-312-aarch64-linux-gnu.so",
    "x86_64": "cpython-312-x86_64-linux-gnu.so",
}


def run_build(requirements: Path, architecture: str, build_dir: Path) -> CompletedProcess[str]:
    """build_dependencies.py as Terraform's external data source runs it."""
    query = {"requirements": str(requirements), "architecture": architecture}
    return subprocess.run(
        [sys.executable, str(ROOT / "build_dependencies.py")],
        input=json.dumps({**query, "build_dir": str(build_dir)}),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def build(requirements: Path, architecture: str, build_dir: Path) -> dict[str, str]:
    run = run_build(requirements, architecture, build_dir)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def refused(requirements: Path) -> str:
    """What the plan says when the layer cannot be built from these requirements (none is)."""
    run = run_build(requirements, "arm64", requirements.parent / "b")
    assert run.returncode == 1
    assert run.stderr.startswith("build_dependencies.py: pip could not install")
    assert not list((requirements.parent / "b").glob("*.zip"))
    return run.stderr


@pytest.mark.parametrize("architecture", ["arm64", "x86_64"])
def test_the_layer_holds_the_dependencies_built_for_the_workers_platform(
    tmp_path: Path, architecture: str
) -> None:
    # GIVEN a work that needs a pure-Python package and one with a compiled extension
    requirements = tmp_path / "work_requirements.txt"
    requirements.write_text(REQUIREMENTS)

    # WHEN Terraform's plan builds the layer
    layer = build(requirements, architecture, tmp_path / "build")

    # THEN its zip holds both under python/, the extension compiled for Lambda's CPython 3.12 on
    # the worker's architecture, never this machine's
    with zipfile.ZipFile(layer["path"]) as archive:
        names = archive.namelist()
        (extension,) = [n for n in names if n.startswith("python/markupsafe/") and ".so" in n]
        elf = archive.read(extension)
    assert "python/six.py" in names
    assert extension.endswith(SO_SUFFIX[architecture])
    assert elf[:4] == b"\x7fELF"
    assert int.from_bytes(elf[18:20], "little") == ELF_MACHINE[architecture]
    assert all(name.startswith("python/") for name in names)


def test_the_same_requirements_build_the_same_bytes(tmp_path: Path) -> None:
    requirements = tmp_path / "work_requirements.txt"
    requirements.write_text(REQUIREMENTS)

    first = build(requirements, "arm64", tmp_path / "first")
    second = build(requirements, "arm64", tmp_path / "second")

    assert first["base64sha256"] == second["base64sha256"]  # the layer changes only with them


def test_a_layer_left_in_build_is_never_taken_for_the_requirements_by_its_name(
    tmp_path: Path,
) -> None:
    # GIVEN the layer an earlier plan built, then replaced in build/ by another zip of its name
    requirements = tmp_path / "work_requirements.txt"
    requirements.write_text("six==1.17.0\n")
    first = build(requirements, "arm64", tmp_path / "build")
    planted = Path(first["path"])
    with zipfile.ZipFile(planted, "w") as archive:
        archive.writestr("python/six.py", "import os; os.system('curl https://example.com')\n")

    # WHEN the next plan builds the layer
    again = build(requirements, "arm64", tmp_path / "build")

    # THEN it is built from the requirements again, byte for byte as the first time, and is
    # what Terraform uploads (the planted zip was overwritten)
    assert again == first
    with zipfile.ZipFile(again["path"]) as archive:
        assert b"os.system" not in archive.read("python/six.py")


def test_requirements_pip_cannot_meet_fail_the_plan_with_pips_reason(tmp_path: Path) -> None:
    requirements = tmp_path / "work_requirements.txt"
    requirements.write_text("no-such-package-for-the-work==0.0.1\n")

    assert "no-such-package-for-the-work" in refused(requirements)


SIX_WHEEL_SHA256 = "4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274"  # PyPI's


def test_a_lock_file_with_hashes_builds_the_layer(tmp_path: Path) -> None:
    requirements = tmp_path / "work_requirements.txt"
    requirements.write_text(f"six==1.17.0 \\\n    --hash=sha256:{SIX_WHEEL_SHA256}\n")

    layer = build(requirements, "arm64", tmp_path / "build")

    with zipfile.ZipFile(layer["path"]) as archive:
        assert "python/six.py" in archive.namelist()


@pytest.mark.parametrize(
    ("lock", "reason"),
    [
        (f"six==1.17.0 --hash=sha256:{'0' * 64}\n", "DO NOT MATCH THE HASHES"),
        (f"six==1.17.0 --hash=sha256:{SIX_WHEEL_SHA256}\nmarkupsafe==3.0.2\n", "markupsafe"),
    ],
    ids=["a-wheel-that-is-not-the-locked-one", "a-package-without-a-hash"],
)
def test_a_lock_file_with_hashes_admits_nothing_else(
    tmp_path: Path, lock: str, reason: str
) -> None:
    requirements = tmp_path / "work_requirements.txt"
    requirements.write_text(lock)

    assert reason in refused(requirements)


def test_a_layer_only_when_the_requirements_name_a_dependency(tmp_path: Path) -> None:
    # GIVEN a work whose requirements file holds only comments and blank lines, and one that
    # names a dependency (whatever this project's own work needs)
    none, one = copy_of_the_project(tmp_path / "none"), copy_of_the_project(tmp_path / "one")
    (none / "src" / "work" / "work_requirements.txt").write_text("# none yet\n\n   # \n")
    (one / "src" / "work" / "work_requirements.txt").write_text("# ours\n\n  six==1.17.0\n")

    # THEN Terraform builds the layer only for the second (tests/main.tftest.hcl holds that the
    # function then takes it, after Powertools')
    assert evaluate(root=none).derived["work_has_dependencies"] is False
    assert evaluate(root=one).derived["work_has_dependencies"] is True
