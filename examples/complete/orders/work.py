"""The orders workflow's work: charge an order, once. `{"orderId": "<id>", "amountCents": <a
positive integer>}` -> `{"orderId", "chargedCents"}`, the charge recorded in the charges table
(CHARGES_TABLE). A message delivered again records nothing twice: the write is conditional."""

from __future__ import annotations

import os
from functools import cache
from typing import Any

import boto3
from botocore.exceptions import ClientError

from worker.contract import Heartbeat, TaskError


@cache
def charges() -> Any:
    return boto3.resource("dynamodb").Table(os.environ["CHARGES_TABLE"])


def do_work(task_input: Any, heartbeat: Heartbeat) -> dict[str, Any]:
    order = task_input if isinstance(task_input, dict) else {}
    order_id, amount = order.get("orderId"), order.get("amountCents")
    if not isinstance(order_id, str) or not order_id:
        raise TaskError("InvalidOrder", "orderId must be a non-empty string")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise TaskError("InvalidOrder", "amountCents must be a positive integer")
    try:
        charges().put_item(
            Item={"id": f"charge#{order_id}", "amountCents": amount},
            ConditionExpression="attribute_not_exists(id)",
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise  # the record is retried, then goes to the DLQ
    return {"orderId": order_id, "chargedCents": amount}
