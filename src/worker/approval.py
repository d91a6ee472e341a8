"""A person's approval, through the module's approval service (var.approval): a work hands the
task to it, and the approver answers on a page.

    def do_work(task_input, heartbeat, callback):
        if task_input["amount"] <= 100:
            return {"approved": True, "by": "policy"}
        fields = {"amount": task_input["amount"], "by": task_input["by"]}
        return request_approval(callback, "An expense over 100", fields)

The request is kept in the service's table under the SHA-256 of a one-time link ID (256 random
bits): the token stays there, encrypted at rest, until the approver answers or the task times
out (the item expires with the task timeout); the link names the ID alone, never the token. The
link goes to the service's SNS topic (an e-mail subscription, or a channel of the team's own).
The page answers with the task's CallbackHandle: {"approved": true, "approver", "reason",
"decidedAt"} as the execution's output, or the error Rejected with the reason as its cause.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import secrets
import time
from typing import TYPE_CHECKING, Any

import boto3

from worker.callback import CLIENT_CONFIG
from worker.handoff import HandedOff
from worker.messages import TaskError

if TYPE_CHECKING:
    from botocore.client import BaseClient

    from worker.handoff import CallbackHandle

# Set on the worker function by the module when var.approval is on.
TABLE_VARIABLE = "APPROVAL_TABLE_NAME"
TOPIC_VARIABLE = "APPROVAL_TOPIC_ARN"
PAGE_URL_VARIABLE = "APPROVAL_PAGE_URL"  # the page's base: <url>/<link ID>
LINK_ID_BYTES = 32  # 256 bits
MAX_FIELDS = 20
MAX_TEXT = 1000


def link_key(link_id: str) -> str:
    """The table's key for a link: what a reader of the table cannot turn back into the link."""
    return hashlib.sha256(link_id.encode()).hexdigest()


def request_approval(callback: CallbackHandle, title: str, fields: dict[str, Any]) -> HandedOff:
    """Hand the task to the approval service: the approver sees `title` and `fields` (a few values
    of the input, shown as text) and approves or rejects it. Returns what the work returns."""
    table, topic, page_url = (
        os.environ.get(name) for name in (TABLE_VARIABLE, TOPIC_VARIABLE, PAGE_URL_VARIABLE)
    )
    if not (table and topic and page_url):
        # A deployment without the service: the execution fails now, saying so, not after retries.
        raise TaskError(
            "ApprovalNotConfigured",
            "the work asked for a person's approval, but the module deploys no approval service: "
            "set var.approval",
        )
    shown = {
        str(name)[:MAX_TEXT]: _text(value) for name, value in list(fields.items())[:MAX_FIELDS]
    }
    link_id = secrets.token_urlsafe(LINK_ID_BYTES)
    now = int(time.time())
    clients().dynamodb.put_item(
        TableName=table,
        Item={
            "id": {"S": link_key(link_id)},
            "token": {"S": callback.token},
            "execution_arn": {"S": callback.execution_arn},
            "title": {"S": _text(title)},
            "fields": {"S": json.dumps(shown)},
            "requested_at": {"N": str(now)},
            "expires_at": {"N": str(now + int(os.environ["TASK_TIMEOUT_SECONDS"]))},
        },
        ConditionExpression="attribute_not_exists(id)",
    )
    link = f"{page_url.rstrip('/')}/{link_id}"
    lines = [f"{name}: {value}" for name, value in shown.items()]
    execution = f"Execution: {execution_name(callback.execution_arn)}"  # tells like ones apart
    clients().sns.publish(
        TopicArn=topic,
        Subject=_text(title)[:100],
        Message="\n".join([_text(title), "", execution, *lines, "", f"Approve or reject: {link}"]),
        MessageAttributes={"link": {"DataType": "String", "StringValue": link}},
    )
    return HandedOff()


def execution_name(execution_arn: str) -> str:
    """The execution's name, the last part of its ARN (all of it, if it is no ARN)."""
    return execution_arn.rsplit(":", 1)[-1]


def _text(value: Any) -> str:
    return (value if isinstance(value, str) else json.dumps(value))[:MAX_TEXT]


class _Clients:
    def __init__(self) -> None:
        self.dynamodb: BaseClient = boto3.client("dynamodb", config=CLIENT_CONFIG)
        self.sns: BaseClient = boto3.client("sns", config=CLIENT_CONFIG)


@functools.cache
def clients() -> _Clients:
    return _Clients()
