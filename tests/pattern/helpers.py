"""What the pattern's tests share: moto's services as boto3 clients, a deployment of the pattern
with what a test asks of it, the worker's batch responses, a spy on its callbacks, the callback
task of a workflow, and a copy of the project. tests/pattern/conftest.py makes the fixtures."""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from emulator.deployment import Deployment, Settings, deploy
from emulator.event_source import LambdaContext, sqs_event
from emulator.terraform import ROOT
from emulator.watch import finished, queue_depth

if TYPE_CHECKING:
    import pytest
    from botocore.client import BaseClient

REGION = "us-east-1"
# moto's dummies: no test can reach a real account.
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
}


@functools.cache
def client(service: str) -> BaseClient:
    """One client per service for every test, an administrator's: moto intercepts a client made
    after moto was imported, in whichever test's mock it is used (making one costs ~80 ms)."""
    return boto3.client(
        service,
        region_name=REGION,
        aws_access_key_id=FAKE_AWS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_AWS["AWS_SECRET_ACCESS_KEY"],
    )


class Aws:
    """moto's SQS and Step Functions (executing the ASL), as boto3 clients."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sqs = client("sqs")
        self.sfn = client("stepfunctions")
        self.monkeypatch = monkeypatch

    def deploy(self, *, worker: bool = True, **overrides: Any) -> Pattern:
        """The pattern with these variables; the worker in this process answers for it (with its
        credentials, as Lambda gives them), unless `worker` is False."""
        pattern = Pattern(self, deploy(self.sqs, self.sfn, Settings.from_terraform(**overrides)))
        if worker:
            from worker import callback, receipts

            for name, value in pattern.deployment.worker_credentials.items():
                self.monkeypatch.setenv(name, value)
            environment = pattern.deployment.function_environment()
            for name in (receipts.QUEUE_URL_VARIABLE, receipts.VISIBILITY_TIMEOUT_VARIABLE):
                self.monkeypatch.setenv(name, environment[name])
            self.monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # which keeps what it read
            callback.client.cache_clear()  # made again, with them
            receipts.task_queue.cache_clear()
        if pattern.deployment.approval:  # var.approval: where the worker puts its requests
            for name, value in pattern.deployment.approval.worker_environment().items():
                self.monkeypatch.setenv(name, value)
        return pattern


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

    def definition(self) -> dict[str, Any]:
        described = self.aws.sfn.describe_state_machine(
            stateMachineArn=self.deployment.state_machine_arn
        )
        return json.loads(described["definition"])

    def task_state(self) -> dict[str, Any]:
        """The callback task of the deployed state machine, wherever it stands in it."""
        return callback_task(self.definition())[1]

    def task_name(self) -> str:
        return callback_task(self.definition())[0]

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
        """Put a message on the task queue directly: a body the state machine never sends, but
        one the worker must survive."""
        self.aws.sqs.send_message(QueueUrl=self.deployment.queue_url, MessageBody=body)

    def event(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        return sqs_event(messages, self.deployment.queue_arn, REGION)

    def invoke(self, messages: list[dict[str, Any]], timeout_seconds: float = 30) -> dict[str, Any]:
        """Invoke the worker's lambda_handler with these messages as its SQS event, in an
        invocation that times out `timeout_seconds` from now."""
        from worker.handler import lambda_handler

        return lambda_handler(self.event(messages), LambdaContext(timeout_seconds=timeout_seconds))

    def wait(self, execution_arn: str, timeout: float = 15) -> dict[str, Any]:
        """The execution's description once it has stopped running (or after `timeout`)."""
        return finished(self.aws.sfn, execution_arn, timeout)

    def status(self, execution_arn: str) -> str:
        return self.aws.sfn.describe_execution(executionArn=execution_arn)["status"]

    def queue_depth(self, dlq: bool = False) -> int:
        """Messages in the task queue (or the DLQ), visible or in flight."""
        url = self.deployment.dlq_url if dlq else self.deployment.queue_url
        return queue_depth(self.aws.sqs, url)


def machine_without(
    stand_ins: Path, packages: tuple[str, ...], python_path: tuple[Path, ...] = ()
) -> dict[str, str]:
    """os.environ as on a machine without a terraform CLI on PATH and without these Python
    packages (each a stand-in in `stand_ins` whose import fails), with `python_path` after them."""
    for package in packages:
        (stand_ins / package).mkdir()
        (stand_ins / package / "__init__.py").write_text(f"raise ImportError('no {package}')\n")
    directories = os.environ["PATH"].split(os.pathsep)
    return {
        **os.environ,
        "PATH": os.pathsep.join(p for p in directories if not (Path(p) / "terraform").exists()),
        "PYTHONPATH": os.pathsep.join(map(str, (stand_ins, *python_path))),
    }


CALLBACK_RESOURCE = re.compile(r"arn:aws[a-z-]*:states:::sqs:sendMessage\.waitForTaskToken")


def callback_task(definition: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The one state of a workflow (its branches and iterators searched too) that sends the task
    to the queue and waits for its token: its name and its definition. A team may put states of
    its own before and after it; the pattern's checks hold this one's contract."""
    found = []

    def search(states: dict[str, Any]) -> None:
        for name, state in states.items():
            if CALLBACK_RESOURCE.fullmatch(str(state.get("Resource", ""))):
                found.append((name, state))
            for nested in (*state.get("Branches", []), state.get("ItemProcessor", {})):
                search(nested.get("States", {}))

    search(definition["States"])
    assert len(found) == 1, f"{len(found)} callback tasks in the workflow, not one"
    return found[0]


def where_a_timeout_leads(
    definition: dict[str, Any], task: dict[str, Any], error: str = "States.Timeout"
) -> dict[str, Any]:
    """The state a timeout (`error`) of the callback task ends in: the Next of the first catch
    that takes it (as Step Functions picks one), followed through the states a team may put there
    (a compensation) to the first that ends the execution."""
    catch = next(c for c in task.get("Catch", []) if {error, "States.ALL"} & set(c["ErrorEquals"]))
    state = definition["States"][catch["Next"]]
    while state["Type"] not in ("Fail", "Succeed") and not state.get("End"):
        state = definition["States"][state["Next"]]
    return state


def execution_error(pattern: Pattern, execution_input: Any, task_error: str) -> str:
    """The error an execution ends with when its callback task fails with `task_error`: that one,
    through whatever states follow; but where the workflow catches failures too (a saga) and the
    input is not an object, the catch's ResultPath cannot put the error beside it, and the
    execution fails there (on AWS with States.ResultPathMatchFailure, on moto States.Runtime)."""
    catches_failures = len(pattern.task_state().get("Catch", [])) > 1
    if catches_failures and not isinstance(execution_input, dict):
        return "States.Runtime"
    return task_error


def settings_warnings(warnings: list[str] | tuple[str, ...]) -> list[str]:
    """What Terraform's check blocks say of the variables: not of the team's requirements file,
    whatever it lists (a list without hashes gets a warning of its own)."""
    return [warning for warning in warnings if "work_requirements.txt" not in warning]


def failed_ids(response: dict[str, Any]) -> set[str]:
    return {item["itemIdentifier"] for item in response["batchItemFailures"]}


def with_receive_count(message: dict[str, Any], count: int) -> dict[str, Any]:
    """The same message as SQS would deliver it on its `count`-th receive."""
    attributes = {**message["Attributes"], "ApproximateReceiveCount": str(count)}
    return {**message, "Attributes": attributes}


def copy_of_the_project(destination: Path) -> Path:
    """The project, copied to `destination` without its virtual environments, build output,
    caches, and what a `terraform init` or `apply` of the user's own left in it."""
    ignored = shutil.ignore_patterns(
        ".git", ".venv*", "build", "__pycache__", ".*_cache", ".terraform", ".terraform.lock.hcl",
        "*.tfstate*",
    )  # fmt: skip
    shutil.copytree(ROOT, destination, ignore=ignored, dirs_exist_ok=True)
    return destination


class CallbackSpy:
    """Wraps the worker's Step Functions client: records each callback (SendTaskSuccess,
    SendTaskFailure), can fail them; the heartbeat that proves a task live before its work, and
    the work's own heartbeats, pass unrecorded."""

    def __init__(self, client: Any, fail_with: str | None = None) -> None:
        self.client = client
        self.fail_with = fail_with
        self.calls: list[tuple[str, dict[str, str]]] = []

    def __getattr__(self, operation: str) -> Any:
        if operation == "send_task_heartbeat":
            return getattr(self.client, operation)

        def call(**params: str) -> Any:
            self.calls.append((operation, params))
            if self.fail_with:
                error = {"Error": {"Code": self.fail_with, "Message": "injected"}}
                raise ClientError(error, operation)
            return getattr(self.client, operation)(**params)

        return call

    def operations(self) -> list[str]:
        return [operation for operation, _ in self.calls]
