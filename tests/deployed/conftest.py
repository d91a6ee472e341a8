"""The deployed suite's hooks: skipped, in one line that says how, without a deployment
(tests/deployed/deployment.py finds it)."""

from __future__ import annotations

import pytest

from tests.deployed.deployment import HOW, Deployment, deployment_outputs


@pytest.hookimpl(trylast=True)  # after -m has chosen the tests
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Without a deployment the suite is skipped, reported in one line that says how to give
    one."""
    if any(item.get_closest_marker("deployed") for item in items) and not deployment_outputs():
        for item in items:
            item.add_marker(pytest.mark.skip(reason=HOW))


@pytest.fixture(scope="session")
def deployment() -> Deployment:
    outputs = deployment_outputs()
    assert outputs is not None  # the tests are skipped without one
    return Deployment(outputs)
