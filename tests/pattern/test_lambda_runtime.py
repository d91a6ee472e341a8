"""The worker imports on Lambda what it imports here: the handler, and so the work, imported with
only the Lambda runtime's Python 3.12 and boto3, the Powertools layer's packages and the work's
own layer (emulator/lambda_runtime.py). A module the work imports from elsewhere (the test tools
in .venv) fails make test with one line, as it would fail the function with
Runtime.ImportModuleError."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import pytest

from emulator import lambda_runtime
from emulator.terraform import ROOT
from tests.pattern.helpers import copy_of_the_project

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.skipif(
    sys.version_info[:2] != lambda_runtime.RUNTIME_PYTHON,
    reason="the worker's runtime is Python 3.12: only a 3.12 can stand in for it",
)


def test_the_worker_imports_with_only_what_lambda_will_have() -> None:
    assert lambda_runtime.check() is None


MISSING = (
    "src/work/work.py imports yaml, which the worker will not have on Lambda (Python 3.12, its "
    "boto3, the Powertools layer): list its package in src/work/work_requirements.txt"
)


@pytest.mark.parametrize(
    ("module", "requirement", "problem"),
    [
        ("yaml", "", MISSING),  # in .venv through the test tools, and not on Lambda
        ("yaml", "PyYAML==6.0.2", None),  # listed: in the work's layer
        ("pydantic", "", None),  # the Powertools layer carries its extras
        ("moto", "", MISSING.replace("yaml", "moto")),
    ],
    ids=["unlisted", "listed", "in-the-powertools-layer", "a-test-tool"],
)
def test_a_work_imports_only_what_it_lists_or_lambda_has(
    tmp_path: Path, module: str, requirement: str, problem: str | None
) -> None:
    # GIVEN a work that imports `module`, with `requirement` in its requirements file
    copy = copy_of_the_project(tmp_path)
    work = copy / "src" / "work"
    (work / "work.py").write_text(
        f"import {module}  # noqa: F401\n\n\ndef do_work(task_input, heartbeat):\n"
        "    return task_input\n"
    )
    (work / "work_requirements.txt").write_text(requirement + "\n")

    # WHEN it is imported as Lambda will import it (the runtime's packages as built for this
    # project, the work's layer built for the copy)
    found = lambda_runtime.check(root=copy, cache=ROOT / "build")

    # THEN it imports, or the one line says what to list where
    assert found == problem
