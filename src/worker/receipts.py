"""Proof that each record was received from the task queue, before any of its work runs.

Whoever may call lambda:InvokeFunction on the worker writes its event: a live task token (read
from an execution's history, or the DLQ) with an input of the caller's own would run the work on
that input. A record's receipt handle is what SQS gave the receiver of that message, and only
while it is in flight: the task queue's policy lets the worker's role (its event source mapping)
and the queue operators' roles receive, and no one else. So, once per batch, the worker changes
the visibility of every record's message in the task queue it is configured with (never the
queue the event names), to the queue's own visibility timeout: SQS accepts that only for a
receipt handle of a message of that queue that is in flight. A record it refuses is not run.

One ChangeMessageVisibilityBatch call per ten records: no per-record quota to cap throughput.
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING, Any

import boto3

from worker.callback import CLIENT_CONFIG

if TYPE_CHECKING:
    from collections.abc import Iterable

    from botocore.client import BaseClient

# Set on the worker function by the module (worker.tf, locals.tf): the queue whose receipts are
# proof, and its visibility timeout.
QUEUE_URL_VARIABLE = "TASK_QUEUE_URL"
VISIBILITY_TIMEOUT_VARIABLE = "VISIBILITY_TIMEOUT_SECONDS"
MAX_BATCH_ENTRIES = 10  # ChangeMessageVisibilityBatch's limit


@functools.cache
def task_queue() -> tuple[BaseClient, str, int]:
    """The SQS client, the task queue's URL and its visibility timeout: read and made on first
    use, then kept for the life of the process."""
    client = boto3.client("sqs", config=CLIENT_CONFIG)
    return client, os.environ[QUEUE_URL_VARIABLE], int(os.environ[VISIBILITY_TIMEOUT_VARIABLE])


def received(records: Iterable[dict[str, Any]]) -> frozenset[str]:
    """The receipt handles, among these records', of messages in flight in the task queue: each
    one's visibility is now the queue's visibility timeout from now, as at its receive. A handle
    SQS refuses (ReceiptHandleIsInvalid, MessageNotInflight), or a record with none, is left
    out."""
    handles = list(
        dict.fromkeys(
            handle
            for record in records
            if isinstance(handle := record.get("receiptHandle"), str) and handle
        )
    )
    client, queue_url, visibility_timeout = task_queue()
    proven: set[str] = set()
    for start in range(0, len(handles), MAX_BATCH_ENTRIES):
        chunk = handles[start : start + MAX_BATCH_ENTRIES]
        response = client.change_message_visibility_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": visibility_timeout}
                for i, handle in enumerate(chunk)
            ],
        )
        proven.update(chunk[int(entry["Id"])] for entry in response.get("Successful", []))
    return frozenset(proven)
