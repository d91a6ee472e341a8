"""The pattern's tests' own work that hands some tasks off, as a team's would: an expense up to
100 is approved at once, a larger one is handed off to a person, anything else is rejected. The
tests run the demo, `make serve` and the flow with it (WORK=tests/pattern/expenses), whatever the
project's own work is; it logs as a work may, through both documented loggers."""

from __future__ import annotations

import logging
from typing import Any

from aws_lambda_powertools import Logger

from worker.contract import CallbackHandle, HandedOff, Heartbeat, TaskError

log = logging.getLogger(__name__)
child = Logger(child=True)
LIMIT = 100
APPROVERS: dict[str, float] = {}  # the approvers' service, to a test: what it was asked, by token


def ask_an_approver(task_token: str, amount: float) -> None:
    """Send the request, with the token that answers it, to the approvers (here, a dict)."""
    APPROVERS[task_token] = amount


def do_work(task_input: Any, heartbeat: Heartbeat, callback: CallbackHandle) -> Any:
    amount = task_input.get("amount") if isinstance(task_input, dict) else None
    if not isinstance(amount, int | float) or isinstance(amount, bool) or amount <= 0:
        raise TaskError("InvalidExpense", "amount must be a positive number")
    if amount <= LIMIT:
        log.info("approved at once: %s", amount)
        return {"amount": amount, "approved": True, "by": "policy"}
    ask_an_approver(callback.token, amount)
    child.info("handed off to an approver", extra={"amount": amount})
    return HandedOff()
