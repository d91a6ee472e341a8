"""Shared fixtures: moto with Step Functions execution on, the pattern deployed into it, and
helpers that drive the worker's real handler with real SQS event records."""

from __future__ import annotations

import functools
import json
import logging
import os
import shutil
import time
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto import mock_aws

from emulator.event_source import LambdaContext, sqs_event
from emulator.pattern import Deployment, Settings, deploy, worker_environment
from emulator.terraform import ROOT, TerraformNotFound, terraform
from emulator.watch import finished, queue_depth

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from botocore.client import BaseClient

REGION = "us-east-1"
# moto's dummies: no test can reach a real account.
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--moto-logs",
        action="store_true",
        help="show the log of moto's ASL interpreter, hidden by default: it logs a traceback at "
        "ERROR for every Fail state it runs, the expected ones too",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.option.markexpr == "deployed":
        return  # the deployed suite talks to a real deployment: no moto, no fake credentials
    if not config.getoption("--moto-logs"):
        logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)
    try:
        terraform()
    except TerraformNotFound as missing:
        pytest.exit(str(missing), returncode=2)
    # Before any test imports the worker: Powertools reads its settings at import, as in Lambda,
    # where the region and credentials are set (the worker makes its DynamoDB client at import).
    os.environ.update(worker_environment(Settings.from_terraform()), **FAKE_AWS)


@pytest.fixture(autouse=True)
def pattern_work(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker runs the pattern's test work (tests/pattern_work.py), not the sample work."""
    if request.node.get_closest_marker("deployed"):
        return
    from tests import pattern_work
    from worker import handler

    monkeypatch.setattr(handler, "do_work", pattern_work.do_work)


@pytest.fixture(autouse=True)
def aws_environment(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials and the region; the worker gets a new Step Functions client per test."""
    if request.node.get_closest_marker("deployed"):
        return
    from worker import callback

    for key, value in FAKE_AWS.items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
    callback.client.cache_clear()  # each test's mock gets a client of its own


@functools.cache
def client(service: str) -> BaseClient:
    """One client per service for every test: moto intercepts a client made after moto was
    imported, in whichever test's mock it is used (making one costs ~80 ms)."""
    return boto3.client(service, region_name=REGION)


class Aws:
    """moto's SQS and Step Functions (executing the ASL), as boto3 clients."""

    def __init__(self) -> None:
        self.sqs = client("sqs")
        self.sfn = client("stepfunctions")

    def deploy(self, **overrides: Any) -> Pattern:
        return Pattern(self, deploy(self.sqs, self.sfn, Settings.from_terraform(**overrides)))


class Pattern:
    """A deployment of the pattern, with what a test asks of it."""

    def __init__(self, aws: Aws, deployment: Deployment) -> None:
        self.aws = aws
        self.deployment = deployment
        self._count = 0

    def start(self, execution_input: Any, name: str | None = None) -> str:
        """Start an execution (named: moto's $$.Execution.Id is wrong for unnamed ones)."""
        self._count += 1
        return self.aws.sfn.start_execution(
            stateMachineArn=self.deployment.state_machine_arn,
            name=name or f"execution-{self._count}",
            input=json.dumps(execution_input),
        )["executionArn"]

    def start_raw(self, execution_input: str) -> str:
        """Start an execution with this input as it is given to StartExecution."""
        self._count += 1
        return self.aws.sfn.start_execution(
            stateMachineArn=self.deployment.state_machine_arn,
            name=f"execution-{self._count}",
            input=execution_input,
        )["executionArn"]

    def receive(self, expected: int, timeout: float = 10) -> list[dict[str, Any]]:
        """Receive exactly `expected` messages from the task queue, waiting for them to arrive."""
        messages: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        while len(messages) < expected and time.monotonic() < deadline:
            messages += self.aws.sqs.receive_message(
                QueueUrl=self.deployment.queue_url,
                MaxNumberOfMessages=min(10, expected - len(messages)),
                WaitTimeSeconds=1,
                MessageSystemAttributeNames=["All"],
            ).get("Messages", [])
        assert len(messages) == expected, f"received {len(messages)} of {expected} messages"
        return messages

    def send_raw(self, body: str) -> None:
        """Put a message on the task queue directly, as a misbehaving producer would."""
        self.aws.sqs.send_message(QueueUrl=self.deployment.queue_url, MessageBody=body)

    def event(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        return sqs_event(messages, self.deployment.queue_arn, REGION)

    def invoke(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """Invoke the worker's lambda_handler with these messages as its SQS event."""
        from worker.handler import lambda_handler

        return lambda_handler(self.event(messages), LambdaContext())

    def wait(self, execution_arn: str, timeout: float = 15) -> dict[str, Any]:
        """The execution's description once it has stopped running (or after `timeout`)."""
        return finished(self.aws.sfn, execution_arn, timeout)

    def status(self, execution_arn: str) -> str:
        return self.aws.sfn.describe_execution(executionArn=execution_arn)["status"]

    def queue_depth(self, dlq: bool = False) -> int:
        """Messages in the task queue (or the DLQ), visible or in flight."""
        url = self.deployment.dlq_url if dlq else self.deployment.queue_url
        return queue_depth(self.aws.sqs, url)


@pytest.fixture
def aws() -> Iterator[Aws]:
    with mock_aws(config={"stepfunctions": {"execute_state_machine": True}}):
        yield Aws()


@pytest.fixture
def pattern(aws: Aws) -> Pattern:
    """The pattern with the Terraform defaults."""
    return aws.deploy()


def failed_ids(response: dict[str, Any]) -> set[str]:
    return {item["itemIdentifier"] for item in response["batchItemFailures"]}


def with_receive_count(message: dict[str, Any], count: int) -> dict[str, Any]:
    """The same message as SQS would deliver it on its `count`-th receive."""
    attributes = {**message["Attributes"], "ApproximateReceiveCount": str(count)}
    return {**message, "Attributes": attributes}


def copy_of_the_project(destination: Path) -> Path:
    """The project, copied to `destination` without its virtual environments, build output and
    caches."""
    ignored = shutil.ignore_patterns(
        ".git", ".venv*", "build", "__pycache__", ".*_cache", ".terraform", "*.tfstate*"
    )
    shutil.copytree(ROOT, destination, ignore=ignored, dirs_exist_ok=True)
    return destination
