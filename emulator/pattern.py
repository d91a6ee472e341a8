"""Deploys the pattern into moto: the queues and the state machine main.tf describes."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from emulator import moto_fixes
from emulator.terraform import render_state_machine, variable_defaults, visibility_timeout_factor

if TYPE_CHECKING:
    from botocore.client import BaseClient

# moto accepts any role; on AWS this is the role main.tf creates.
ROLE_ARN = "arn:aws:iam::123456789012:role/task-token-callback-states"
DLQ_RETENTION_SECONDS = 1_209_600  # main.tf's aws_sqs_queue.dlq


@dataclass(frozen=True)
class Settings:
    """The values main.tf deploys with; `Settings.from_terraform()` reads the defaults."""

    name: str
    task_timeout_seconds: int
    heartbeat_seconds: int | None
    max_receive_count: int
    message_retention_seconds: int
    visibility_timeout_seconds: int
    batch_size: int
    maximum_concurrency: int

    @classmethod
    def from_terraform(cls, **overrides: Any) -> Settings:
        """The variables.tf defaults (the visibility timeout derived as main.tf derives it),
        with any field given explicitly in `overrides`."""
        defaults = variable_defaults()
        settings = cls(
            name=defaults["name"],
            task_timeout_seconds=defaults["task_timeout_seconds"],
            heartbeat_seconds=defaults["heartbeat_seconds"],
            max_receive_count=defaults["max_receive_count"],
            message_retention_seconds=defaults["message_retention_seconds"],
            visibility_timeout_seconds=visibility_timeout_factor()
            * defaults["worker_timeout_seconds"],
            batch_size=defaults["batch_size"],
            maximum_concurrency=defaults["maximum_concurrency"],
        )
        return replace(settings, **overrides)


@dataclass(frozen=True)
class Deployment:
    settings: Settings
    queue_url: str
    queue_arn: str
    dlq_url: str
    state_machine_arn: str


def deploy(sqs: BaseClient, sfn: BaseClient, settings: Settings) -> Deployment:
    """Create the task queue, its DLQ and the state machine, named like main.tf names them
    (in moto with the emulator's corrections applied, before any execution can start)."""
    moto_fixes.apply()
    name = f"{settings.name}-{uuid.uuid4().hex[:6]}"
    dlq_url = sqs.create_queue(
        QueueName=f"{name}-dlq",
        Attributes={
            "SqsManagedSseEnabled": "true",
            "MessageRetentionPeriod": str(DLQ_RETENTION_SECONDS),
        },
    )["QueueUrl"]
    dlq_arn = _queue_arn(sqs, dlq_url)
    queue_url = sqs.create_queue(
        QueueName=f"{name}-tasks",
        Attributes={
            "SqsManagedSseEnabled": "true",
            "VisibilityTimeout": str(settings.visibility_timeout_seconds),
            "MessageRetentionPeriod": str(settings.message_retention_seconds),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": settings.max_receive_count}
            ),
        },
    )["QueueUrl"]
    definition = render_state_machine(
        {
            "partition": "aws",
            "queue_url": queue_url,
            "task_timeout_seconds": settings.task_timeout_seconds,
            "heartbeat_seconds": settings.heartbeat_seconds,
        }
    )
    state_machine_arn = sfn.create_state_machine(
        name=name, definition=definition, roleArn=ROLE_ARN, type="STANDARD"
    )["stateMachineArn"]
    return Deployment(
        settings=settings,
        queue_url=queue_url,
        queue_arn=_queue_arn(sqs, queue_url),
        dlq_url=dlq_url,
        state_machine_arn=state_machine_arn,
    )


def _queue_arn(sqs: BaseClient, queue_url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    return attributes["Attributes"]["QueueArn"]


def worker_environment(settings: Settings) -> dict[str, str]:
    """The environment main.tf gives the worker Lambda (Powertools reads it at import)."""
    return {
        "MAX_RECEIVE_COUNT": str(settings.max_receive_count),
        "POWERTOOLS_SERVICE_NAME": settings.name,
        "POWERTOOLS_METRICS_NAMESPACE": settings.name,
    }


def queue_depth(sqs: BaseClient, queue_url: str) -> int:
    """Messages in a queue, visible or in flight."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())
