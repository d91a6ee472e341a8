"""What a user of a deployment watches, in plain boto3 calls, so that the same code serves the
emulator and a real account (tests/deployed): how many messages a queue holds, an execution
until it ends, any condition until it holds."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from botocore.client import BaseClient


def queue_depth(sqs: BaseClient, queue_url: str) -> int:
    """Messages in a queue: visible, in flight, or delayed."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=[
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        ],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def finished(
    sfn: BaseClient, execution_arn: str, timeout: float, interval: float = 0.05
) -> dict[str, Any]:
    """The execution's description once it is no longer RUNNING (or after `timeout` seconds)."""
    deadline = time.monotonic() + timeout
    while (described := sfn.describe_execution(executionArn=execution_arn))["status"] == "RUNNING":
        if time.monotonic() > deadline:
            break
        time.sleep(interval)
    return described


def wait_for(condition: Callable[[], bool], timeout: float, interval: float = 0.2) -> bool:
    """Whether `condition()` came true within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True
