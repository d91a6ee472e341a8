"""Deploys the pattern into moto: the queues, the idempotency table and the state machine the module
describes, with the values Terraform computes (emulator/terraform.py), but for the deliberate
differences docs/emulator.md lists (names without the module's random suffix, a fixed state machine
role, the visibility timeout a test asks for, what moto does not run)."""

from __future__ import annotations

import functools
import io
import json
import uuid
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3

from emulator import moto_fixes, principals
from emulator.terraform import ROOT, evaluate, work_folder

if TYPE_CHECKING:
    from pathlib import Path

    from botocore.client import BaseClient

# Where the approval page is when nothing serves it (an in-process test, a demo that answers
# through the page's handler itself).
NO_PAGE = "http://127.0.0.1/approvals"
# moto accepts any role; on AWS this is the role the module creates.
ROLE_ARN = "arn:aws:iam::123456789012:role/task-token-callback-states"


@dataclass(frozen=True)
class Settings:
    """The values the module deploys with, as Terraform computes them (variables.tf, locals.tf)."""

    variables: dict[str, Any]  # every variable's value
    derived: dict[str, Any]  # every value of locals.tf
    visibility_timeout_seconds: int  # Terraform's, unless a test asks for another
    warnings: tuple[str, ...]  # what Terraform's check blocks would say at plan

    @classmethod
    def from_terraform(
        cls, visibility_timeout_seconds: int | None = None, root: Path = ROOT, **variables: Any
    ) -> Settings:
        """Terraform's values for these variables (the others keep their defaults), from the
        configuration in `root`. A visibility timeout given here departs from Terraform's on
        purpose: a test that needs a record back within a second asks for it."""
        evaluation = evaluate(variables, root=root)
        return cls(
            variables=evaluation.variables,
            derived=evaluation.derived,
            visibility_timeout_seconds=visibility_timeout_seconds
            or evaluation.derived["visibility_timeout_seconds"],
            warnings=tuple(evaluation.warnings),
        )

    @property
    def maximum_concurrency(self) -> int | None:
        """The event source mapping's cap; None with provisioned pollers."""
        return self.derived["maximum_concurrency"]

    def __getattr__(self, name: str) -> Any:
        """A variable's value, as `settings.task_timeout_seconds`."""
        try:
            return self.variables[name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass(frozen=True)
class Approval:
    """The approval service's table and topic (var.approval), and where its page is."""

    table_name: str
    topic_arn: str
    page_url: str  # a request's link is <page_url>/<link ID>

    def worker_environment(self) -> dict[str, str]:
        """What the module adds to the worker's environment when var.approval is on."""
        return {
            "APPROVAL_TABLE_NAME": self.table_name,
            "APPROVAL_TOPIC_ARN": self.topic_arn,
            "APPROVAL_PAGE_URL": self.page_url,
        }


@dataclass(frozen=True)
class Deployment:
    settings: Settings
    queue_url: str
    queue_arn: str
    dlq_url: str
    dlq_arn: str
    state_machine_arn: str
    approval: Approval | None = None

    def function_environment(self) -> dict[str, str]:
        """The worker function's environment: the module's settings, and the approval service's
        (var.approval)."""
        approval = self.approval.worker_environment() if self.approval else {}
        return {**worker_environment(self.settings), "TASK_QUEUE_URL": self.queue_url, **approval}

    @property
    def worker_credentials(self) -> dict[str, str]:
        """The worker's credentials, as Lambda gives them to the function in its environment: of
        a role that may answer this state machine's tasks alone (emulator/principals.py)."""
        return {
            "AWS_ACCESS_KEY_ID": principals.worker_access_key(self.state_machine_arn),
            "AWS_SECRET_ACCESS_KEY": principals.SECRET_ACCESS_KEY,
        }

    @property
    def batch_size(self) -> int:
        return self.settings.batch_size

    # The function's code, as its package holds it: the work's files beside the worker's package
    # (and the emulator's own code, for its consumer processes); and its handler.
    handler = "worker.handler.lambda_handler"

    @property
    def python_path(self) -> tuple[Path, ...]:
        return (work_folder(), ROOT / "src", ROOT)

    @property
    def timeout_seconds(self) -> int:
        return self.settings.worker_timeout_seconds


def deploy(
    sqs: BaseClient, sfn: BaseClient, settings: Settings, approval_page_url: str = NO_PAGE
) -> Deployment:
    """Create the task queue, its DLQ and the state machine, named like the module names them
    (in moto with the emulator's corrections applied, before any execution can start), and the
    approval service's table and topic where var.approval is on, its page at
    `approval_page_url`."""
    moto_fixes.apply()
    name = f"{settings.name}-{uuid.uuid4().hex[:6]}"
    dlq_url = sqs.create_queue(
        QueueName=f"{name}-dlq",
        Attributes={
            "SqsManagedSseEnabled": "true",
            "MessageRetentionPeriod": str(settings.derived["dead_letter_retention_seconds"]),
            "MaximumMessageSize": str(settings.derived["max_message_size"]),
        },
    )["QueueUrl"]
    dlq_arn = _queue_arn(sqs, dlq_url)
    queue_url = sqs.create_queue(
        QueueName=f"{name}-tasks",
        Attributes={
            "SqsManagedSseEnabled": "true",
            "VisibilityTimeout": str(settings.visibility_timeout_seconds),
            "MessageRetentionPeriod": str(settings.message_retention_seconds),
            "MaximumMessageSize": str(settings.derived["max_message_size"]),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": settings.max_receive_count}
            ),
        },
    )["QueueUrl"]
    if settings.idempotency:
        create_idempotency_table(dynamodb_client(sqs.meta.region_name, endpoint(sqs)), settings)
    definition = evaluate(settings.variables, queue_url=queue_url).state_machine_definition
    state_machine_arn = sfn.create_state_machine(
        name=name, definition=definition, roleArn=ROLE_ARN, type="STANDARD"
    )["stateMachineArn"]
    approval = None
    if settings.approval is not None:
        approval = create_approval_service(sqs, name, approval_page_url)
    return Deployment(
        settings=settings,
        queue_url=queue_url,
        queue_arn=_queue_arn(sqs, queue_url),
        dlq_url=dlq_url,
        dlq_arn=dlq_arn,
        state_machine_arn=state_machine_arn,
        approval=approval,
    )


def create_approval_service(sqs: BaseClient, name: str, page_url: str) -> Approval:
    """modules/approval's table (keyed by the link's hash, expiring by expires_at) and topic."""
    region, url = sqs.meta.region_name, endpoint(sqs)
    table = f"{name}-approvals"
    dynamodb = dynamodb_client(region, url)
    dynamodb.create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
    )
    dynamodb.update_time_to_live(
        TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
    )
    sns = boto3.client("sns", region_name=region, endpoint_url=url)
    topic = sns.create_topic(Name=f"{name}-approvals")["TopicArn"]
    return Approval(table_name=table, topic_arn=topic, page_url=page_url)


def approval_links(sqs: BaseClient, approval: Approval) -> str:
    """A queue subscribed to the approval topic, as a team's own channel would be: each message
    is a request's text, its link in the `link` attribute. Returns the queue's URL."""
    queue_url = sqs.create_queue(QueueName=approval.topic_arn.rsplit(":", 1)[1] + "-links")[
        "QueueUrl"
    ]
    sns = boto3.client("sns", region_name=sqs.meta.region_name, endpoint_url=endpoint(sqs))
    sns.subscribe(
        TopicArn=approval.topic_arn,
        Protocol="sqs",
        Endpoint=_queue_arn(sqs, queue_url),
        Attributes={"RawMessageDelivery": "true"},
    )
    return queue_url


@dataclass(frozen=True)
class PublishedRequest:
    """An approval request as the topic delivers it: its text (title, fields, link) and link."""

    text: str
    link: str

    @property
    def title(self) -> str:
        return self.text.split("\n", 1)[0]

    @property
    def execution(self) -> str:
        """The execution's name, as the request's text gives it."""
        lines = [line for line in self.text.splitlines() if line.startswith("Execution: ")]
        return lines[0].removeprefix("Execution: ") if lines else ""


def published_requests(
    sqs: BaseClient, queue_url: str, wait_seconds: int = 0
) -> list[PublishedRequest]:
    """The requests delivered to approval_links' queue since the last call, taken off it."""
    messages = sqs.receive_message(
        QueueUrl=queue_url,
        MessageAttributeNames=["All"],
        MaxNumberOfMessages=10,
        WaitTimeSeconds=wait_seconds,
    ).get("Messages", [])
    for message in messages:
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return [
        PublishedRequest(m["Body"], m["MessageAttributes"]["link"]["StringValue"]) for m in messages
    ]


def _queue_arn(sqs: BaseClient, queue_url: str) -> str:
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    return attributes["Attributes"]["QueueArn"]


@functools.cache
def dynamodb_client(region: str, endpoint_url: str | None) -> BaseClient:
    """Made once per endpoint (moto intercepts it in every in-process mock)."""
    return boto3.client("dynamodb", region_name=region, endpoint_url=endpoint_url)


def endpoint(client: BaseClient) -> str | None:
    """The moto server a client talks to, or None for AWS's own endpoints (an in-process mock)."""
    url = client.meta.endpoint_url
    return None if url.endswith(".amazonaws.com") else url


def create_idempotency_table(dynamodb: BaseClient, settings: Settings) -> None:
    """The module's aws_dynamodb_table.idempotency: its key, and its TTL attribute."""
    name = idempotency_table_name(settings)
    key, expiry = (settings.derived[f"idempotency_{a}_attribute"] for a in ("key", "expiry"))
    dynamodb.create_table(
        TableName=name,
        BillingMode="PAY_PER_REQUEST",
        KeySchema=[{"AttributeName": key, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": "S"}],
    )
    dynamodb.update_time_to_live(
        TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": expiry}
    )


def idempotency_table_name(settings: Settings) -> str:
    """The same for every deployment of these settings: the worker reads it at import."""
    return f"{settings.name}-idempotency"


def worker_environment(settings: Settings) -> dict[str, str]:
    """The environment the module gives the worker Lambda (Powertools reads it at import):
    Terraform's local.worker_environment, and the names the module adds from the deployment's
    resources. The service, namespace and table names are built from var.name, to which the module
    adds the deployment's random suffix."""
    table = {"IDEMPOTENCY_TABLE_NAME": idempotency_table_name(settings)}
    return {
        **settings.derived["worker_environment"],
        "VISIBILITY_TIMEOUT_SECONDS": str(settings.visibility_timeout_seconds),  # a test's own
        "POWERTOOLS_SERVICE_NAME": settings.name,
        "POWERTOOLS_METRICS_NAMESPACE": settings.name,
        **(table if settings.idempotency else {}),
    }


def create_worker_mapping(
    lambda_client: BaseClient, iam: BaseClient, deployment: Deployment, function_name: str
) -> str:
    """The module's worker function and its event source mapping, as records in moto, so that
    `aws lambda get-event-source-mapping` and `update-event-source-mapping --no-enabled` work
    on `make serve`; return the mapping's UUID. The emulator's own worker runs the function:
    moto is kept from running it itself (it would need Docker), and keeps only the record."""
    from moto.sqs.models import sqs_backends

    role = iam.create_role(
        RoleName=f"{function_name}-role",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("worker/handler.py", "# the emulator runs src/worker/handler.py\n")
    function_arn = lambda_client.create_function(
        FunctionName=function_name,
        Runtime="python3.12",
        Role=role,
        Handler="worker.handler.lambda_handler",
        Code={"ZipFile": package.getvalue()},
    )["FunctionArn"]
    mapping = lambda_client.create_event_source_mapping(
        EventSourceArn=deployment.queue_arn,
        FunctionName=function_arn,
        BatchSize=deployment.batch_size,
        FunctionResponseTypes=["ReportBatchItemFailures"],
    )
    region, account = deployment.queue_arn.split(":")[3:5]
    for queue in sqs_backends[account][region].queues.values():
        if queue.queue_arn == deployment.queue_arn:
            queue.lambda_event_source_mappings.clear()
    return mapping["UUID"]
