"""Nothing here needs Terraform, moto or AWS: the work's own tests (src/work/test_work.py) run
with plain pytest. The pattern's tests have their conftest in tests/pattern/."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--moto-logs",
        action="store_true",
        help="show the log of moto's ASL interpreter, hidden by default: it logs a traceback at "
        "ERROR for every Fail state it runs, the expected ones too",
    )
