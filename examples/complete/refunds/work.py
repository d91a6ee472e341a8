"""The refunds workflow's work: refund an order. `{"orderId": "<id>", "amountCents": <a positive
integer>}`. A refund up to 50.00 is recorded in the charges table (CHARGES_TABLE) at once, once;
a larger one goes to a person on the module's approval page (this instance's `approval`), whose
approval (or refusal) answers the task."""

from __future__ import annotations

import logging
import os
from functools import cache
from typing import Any

import boto3
from botocore.exceptions import ClientError

from worker.contract import CallbackHandle, Heartbeat, TaskError, request_approval

log = logging.getLogger(__name__)
REFUNDED_AT_ONCE_CENTS = 5000


@cache
def charges() -> Any:
    return boto3.resource("dynamodb").Table(os.environ["CHARGES_TABLE"])


def do_work(task_input: Any, heartbeat: Heartbeat, callback: CallbackHandle) -> Any:
    refund = task_input if isinstance(task_input, dict) else {}
    order_id, amount = refund.get("orderId"), refund.get("amountCents")
    if not isinstance(order_id, str) or not order_id:
        raise TaskError("InvalidRefund", "orderId must be a non-empty string")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise TaskError("InvalidRefund", "amountCents must be a positive integer")
    if amount > REFUNDED_AT_ONCE_CENTS:
        log.info("refund handed to an approver", extra={"order_id": order_id})
        shown = {"orderId": order_id, "refund": f"{amount / 100:.2f}"}
        return request_approval(callback, "A refund over 50.00", shown)
    try:
        charges().put_item(
            Item={"id": f"refund#{order_id}", "amountCents": amount},
            ConditionExpression="attribute_not_exists(id)",
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
    return {"orderId": order_id, "refundedCents": amount}
