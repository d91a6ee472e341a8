"""The pattern's own tests: real Terraform for the values (the tests stop at once, in one line,
where there is none), moto with Step Functions execution on, the worker's environment as the module
sets it, and the fake work in place of the team's. Helpers are in tests/pattern/helpers.py."""

from __future__ import annotations

import io
import logging
import os
from typing import TYPE_CHECKING

import pytest
from moto import mock_aws

from emulator.deployment import Settings, worker_environment
from emulator.terraform import TerraformNotFound, terraform, work_folder
from emulator.work_examples import importable
from tests.pattern.approvals import Request, request
from tests.pattern.helpers import FAKE_AWS, Aws, Pattern

if TYPE_CHECKING:
    from collections.abc import Iterator


def pytest_configure(config: pytest.Config) -> None:
    if not config.getoption("--moto-logs"):
        logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
    try:
        terraform()
    except TerraformNotFound as missing:
        pytest.exit(str(missing), returncode=2)
    # Before any test imports the worker: Powertools reads its settings at import, as in Lambda,
    # where the region and credentials are set (the worker makes its DynamoDB client at import);
    # and the work it imports is the one WORK names (make test WORK=...).
    os.environ.update(worker_environment(Settings.from_terraform()), **FAKE_AWS)
    importable(work_folder())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow tests first, the slowest (`slow(seconds=...)`) before the others (each worker
    takes the next test as it finishes one): a run whose last test is a slow one lasts that much
    longer."""

    def seconds(item: pytest.Item) -> float:
        slow = item.get_closest_marker("slow")
        return slow.kwargs.get("seconds", 10) if slow else 0

    items.sort(key=seconds, reverse=True)


@pytest.fixture(autouse=True)
def fake_work(monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker runs the pattern's fake work (tests/pattern/fake_work.py), not the team's."""
    from tests.pattern import fake_work
    from worker import handler

    monkeypatch.setattr(handler, "do_work", fake_work.do_work)


@pytest.fixture(autouse=True)
def aws_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and the region; the worker gets new AWS clients per test."""
    from approval import page
    from worker import approval, callback, receipts

    for key, value in FAKE_AWS.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    callback.client.cache_clear()  # each test's mock gets a client of its own
    receipts.task_queue.cache_clear()
    approval.clients.cache_clear()
    page.dynamodb.cache_clear()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Aws]:
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield Aws(monkeypatch)


@pytest.fixture
def pattern(aws: Aws) -> Pattern:
    """The pattern with the Terraform defaults."""
    return aws.deploy()


@pytest.fixture
def worker_logs() -> Iterator[io.StringIO]:
    """Every line the worker logs, at DEBUG, as Lambda would write them to CloudWatch."""
    from worker import handler as worker_handler

    stream = io.StringIO()
    log_handler = worker_handler.logger.registered_handler
    previous = log_handler.setStream(stream)
    worker_handler.logger.setLevel("DEBUG")
    yield stream
    worker_handler.logger.setLevel("INFO")
    log_handler.setStream(previous)


@pytest.fixture
def approval_service(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Pattern:
    """The pattern with the approval service (var.approval), its work asking a person for every
    task (the emulator's own)."""
    from emulator import external_system
    from worker import handler

    monkeypatch.setattr(handler, "do_work", external_system.approval_work)
    return aws.deploy(approval={})


@pytest.fixture
def timed_out_request(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Request:
    """An approval request whose task timed out before anyone answered."""
    from emulator import external_system
    from worker import handler

    monkeypatch.setattr(handler, "do_work", external_system.approval_work)
    # long enough for the worker to take the task and ask before it times out, on a loaded machine
    pattern = aws.deploy(approval={}, task_timeout_seconds=4)
    asked = request(pattern, {"amount": 250})
    assert pattern.wait(asked.execution)["error"] == "CallbackTimedOut"
    return asked
