"""A team makes the pattern its own by replacing the work, as the README says: in a copy of the
project, the sample work, its examples and its test are replaced with a work that charges an
amount, and nothing else is touched. The copy's own tests of the work pass, and so do
`make demo`, a soak and a (quick) bench with the new work's examples."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from emulator.terraform import ROOT
from tests.conftest import copy_of_the_project

AMOUNT_WORK = '''"""Charge an amount: `{"amount": <positive number>}` -> `{"charged": amount}`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from worker.messages import TaskError

if TYPE_CHECKING:
    from collections.abc import Callable


def do_work(task_input: Any, heartbeat: Callable[[], None]) -> dict[str, Any]:
    amount = task_input.get("amount") if isinstance(task_input, dict) else None
    if isinstance(amount, bool) or not isinstance(amount, int | float) or amount <= 0:
        raise TaskError("InvalidTaskInput", "amount must be a positive number")
    return {"charged": amount}
'''
AMOUNT_EXAMPLES = {
    "accepted": {"input": {"amount": 12.5}},
    "rejected": {"input": {"amount": -3}, "error": "InvalidTaskInput"},
}
AMOUNT_TEST = """import pytest

from worker.messages import TaskError
from worker.work import do_work


def test_an_amount_is_charged() -> None:
    assert do_work({"amount": 12.5}, lambda: None) == {"charged": 12.5}


@pytest.mark.parametrize("task_input", [{"amount": 0}, {"amount": "12"}, {}, [], None])
def test_anything_else_is_invalid_task_input(task_input: object) -> None:
    with pytest.raises(TaskError) as rejected:
        do_work(task_input, lambda: None)
    assert rejected.value.error == "InvalidTaskInput"
"""


def test_a_team_replaces_the_work_its_examples_and_its_test_and_nothing_else(
    tmp_path: Path,
) -> None:
    # GIVEN a copy of the project with the team's work, examples and test in place of the sample's
    copy = copy_of_the_project(tmp_path / "project")
    (copy / "src" / "worker" / "work.py").write_text(AMOUNT_WORK)
    (copy / "src" / "worker" / "work_examples.json").write_text(json.dumps(AMOUNT_EXAMPLES))
    (copy / "tests" / "test_work.py").write_text(AMOUNT_TEST)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("POWERTOOLS_")}
        return subprocess.run(
            [sys.executable, *args],
            cwd=copy,
            env=environment,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    # WHEN the team runs its tests, the demo, a soak and the bench
    tests = run("-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_work.py",
                "tests/test_work_examples.py")  # fmt: skip
    demo = run("-m", "emulator", "demo")
    soak = run("-m", "emulator", "soak", "--executions", "30", "--consumers", "2")
    bench = run("-m", "emulator", "bench", "--quick")

    # THEN each passes with the new work
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert '{"charged": 12.5}' in demo.stdout
    assert '{"amount": -3}' in demo.stdout
    assert soak.returncode == 0, soak.stdout + soak.stderr
    assert "Every execution accounted for." in soak.stdout
    assert bench.returncode == 0, bench.stdout + bench.stderr
    assert "end_to_end_20" in bench.stdout


def test_only_the_works_own_tests_import_it() -> None:
    # The pattern's tests run their own work (tests/pattern_work.py); only the work's test and the
    # check of its examples import work.py (this file writes a team's work, it imports none).
    importing = {
        path.name
        for path in (ROOT / "tests").glob("*.py")
        if "from worker.work import" in path.read_text() or "worker import work" in path.read_text()
    }
    assert importing - {Path(__file__).name} == {"test_work.py", "test_work_examples.py"}
