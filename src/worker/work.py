"""The sample work: the one module a team replaces with its own.

`do_work` receives the execution input and returns the execution output. It raises TaskError
for input it cannot accept (the execution fails with that error now); any other exception is
treated as transient and the message is retried. Long work calls `heartbeat()` more often than
the state machine's HeartbeatSeconds, when that is set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from worker.messages import TaskError, json_type

if TYPE_CHECKING:
    from collections.abc import Callable


def do_work(task_input: Any, heartbeat: Callable[[], None]) -> dict[str, Any]:
    """Accept an order: `{"orderId": "<non-empty string>", ...}` -> `{"orderId", "status"}`."""
    if not isinstance(task_input, dict):
        raise TaskError(
            "InvalidTaskInput",
            f"the execution input must be a JSON object, not {json_type(task_input)}",
        )
    order_id = task_input.get("orderId")
    if not isinstance(order_id, str) or not order_id.strip():
        raise TaskError("InvalidTaskInput", "orderId must be a non-empty string")
    return {"orderId": order_id, "status": "ACCEPTED"}
