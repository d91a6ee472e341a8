"""A person's approval, through the module's approval service (var.approval): a work hands the
task to it, and the approver answers on a page.

    def do_work(task_input, heartbeat, callback):
        if task_input["amount"] <= 100:
            return {"approved": True, "by": "policy"}
        fields = {"amount": task_input["amount"], "by": task_input["by"]}
        return request_approval(callback, "An expense over 100", fields)

The link names a one-time ID (256 random bits), never the token; the table holds neither. Its
item is keyed by one hash of the ID and holds the token sealed under another (request_key,
seal): a reader of the table (dynamodb:Scan) gets no token Step Functions would take, and no
link. The item stays until the approver answers, or until the task stops waiting (its TTL). The
link goes to the service's SNS topic (an e-mail subscription, or a channel of the team's own),
first in the message, with the title and fields below it cleaned of line breaks and control
characters (SNS refuses them in a subject; in the body they could draw a link of their own).
The page answers with the task's CallbackHandle: {"approved": true, "approver", "reason",
"decidedAt"} as the execution's output, or the error Rejected with the reason as its cause.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import math
import os
import re
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
MAX_SUBJECT = 99  # SNS: "less than 100 characters long", no line breaks or control characters
# Line breaks, tabs and the other control characters (C0, DEL, C1), and Unicode's line and
# paragraph separators: each becomes one space.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def _derived(link_id: str, purpose: bytes) -> bytes:
    """A key for one purpose, from the link ID (HMAC-SHA256): one purpose's key tells nothing of
    another's, nor of the ID."""
    return hmac.new(link_id.encode(), purpose, hashlib.sha256).digest()


def request_key(link_id: str) -> str:
    """The table's key for a link's request: what a reader of the table cannot turn back into
    the link, nor into the key that unseals its token."""
    return _derived(link_id, b"approval request key").hex()


def seal(link_id: str, token: str) -> str:
    """The token, encrypted under a key only the link gives: SHAKE-256 of the key as a one-time
    stream (each link ID is new, so no stream is ever used twice), XORed with the token."""
    return base64.b64encode(_xor_stream(link_id, token.encode())).decode()


def unseal(link_id: str, sealed: str) -> str:
    return _xor_stream(link_id, base64.b64decode(sealed)).decode()


def _xor_stream(link_id: str, data: bytes) -> bytes:
    """`data` XORed with the link's token-key stream: sealing and unsealing are the same."""
    stream = hashlib.shake_256(_derived(link_id, b"approval token key")).digest(len(data))
    return bytes(a ^ b for a, b in zip(data, stream, strict=True))


def one_line(text: str) -> str:
    """The text on one line: each run of control characters and line breaks one space."""
    return _CONTROL.sub(" ", text).strip()


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
        one_line(str(name))[:MAX_TEXT]: one_line(_text(value))
        for name, value in list(fields.items())[:MAX_FIELDS]
    }
    heading = one_line(_text(title)) or "An approval request"
    link_id = secrets.token_urlsafe(LINK_ID_BYTES)
    now = int(time.time())
    # The page offers the form no longer than the task waits: until its deadline (the worker's
    # handle knows it), else its timeout from now.
    deadline = callback.deadline or now + int(os.environ["TASK_TIMEOUT_SECONDS"])
    clients().dynamodb.put_item(
        TableName=table,
        Item={
            "id": {"S": request_key(link_id)},
            "sealed_token": {"S": seal(link_id, callback.token)},
            "execution_arn": {"S": callback.execution_arn},
            "title": {"S": heading},
            "fields": {"S": json.dumps(shown)},
            # What the page's form must carry back: bound to this request, kept server-side.
            "csrf": {"S": secrets.token_urlsafe(32)},
            "requested_at": {"N": str(now)},
            # Whole seconds (DynamoDB's TTL), rounded up: a window of a second or two is not cut
            # short; an answer after the task ended is told so by Step Functions.
            "expires_at": {"N": str(math.ceil(deadline))},
        },
        ConditionExpression="attribute_not_exists(id)",
    )
    link = f"{page_url.rstrip('/')}/{link_id}"
    lines = [f"{name}: {value}" for name, value in shown.items()]
    execution = f"Execution: {execution_name(callback.execution_arn)}"  # tells like ones apart
    clients().sns.publish(
        TopicArn=topic,
        Subject=heading[:MAX_SUBJECT],
        # The link first: no line of the input's can come before it.
        Message="\n".join([f"Approve or reject: {link}", "", heading, execution, *lines]),
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
