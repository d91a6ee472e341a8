"""Nothing here needs Terraform, moto or AWS: the work's own tests (src/work/test_work.py) run
with plain pytest. The pattern's tests have their conftest in tests/pattern/."""

from __future__ import annotations

import pytest


@pytest.hookimpl(tryfirst=True)  # before tests/pattern's, which has Terraform read them too
def pytest_configure(config: pytest.Config) -> None:
    """The work's examples, which the pattern's and the deployed suite's modules read as they
    load: one line, naming the file and the line or key, where they are not as they must be."""
    from emulator.work_examples import WorkExamples, WorkExamplesInvalid

    try:
        WorkExamples.load()
    except WorkExamplesInvalid as invalid:
        pytest.exit(str(invalid), returncode=2)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--moto-logs",
        action="store_true",
        help="show the log of moto's ASL interpreter, hidden by default: it logs a traceback at "
        "ERROR for every Fail state it runs, the expected ones too",
    )
