"""The bench's baseline: the calls the worker makes for one task, in a plain function, with no
batch processing, logging, metrics or idempotency library (imports nothing heavy: the bench
measures its memory)."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from work import do_work
from worker.handoff import CallbackHandle, HandedOff, call_work


def received(records: list[dict[str, Any]], sqs: Any, queue_url: str) -> None:
    """Prove the batch's records came from the task queue: one visibility change per ten."""
    for start in range(0, len(records), 10):
        sqs.change_message_visibility_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": r["receiptHandle"], "VisibilityTimeout": 180}
                for i, r in enumerate(records[start : start + 10])
            ],
        )


def answer(message: dict[str, Any], sfn: Any, dynamodb: Any, table: str) -> None:
    """Prove the task live (a heartbeat), record the attempt (a conditional put), run the work,
    store its result, call back (unless the work handed the task off)."""
    token = message["taskToken"]
    sfn.send_task_heartbeat(taskToken=token)
    key = {"id": {"S": "task-attempt#" + hashlib.sha256(json.dumps(token).encode()).hexdigest()}}
    now = int(time.time())
    dynamodb.put_item(
        TableName=table,
        Item={**key, "expiration": {"N": str(now + 600)}, "status": {"S": "INPROGRESS"}},
        ConditionExpression="attribute_not_exists(#id) OR #expiry < :now",
        ExpressionAttributeNames={"#id": "id", "#expiry": "expiration"},
        ExpressionAttributeValues={":now": {"N": str(now)}},
    )
    result = call_work(do_work, message["input"], CallbackHandle(token))
    output = "null" if isinstance(result, HandedOff) else json.dumps(result)
    dynamodb.update_item(
        TableName=table,
        Key=key,
        UpdateExpression="SET #data = :data, #status = :status",
        ExpressionAttributeNames={"#data": "data", "#status": "status"},
        ExpressionAttributeValues={":data": {"S": output}, ":status": {"S": "COMPLETED"}},
    )
    if not isinstance(result, HandedOff):
        sfn.send_task_success(taskToken=token, output=output)
