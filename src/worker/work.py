"""The sample work: the one module a team replaces with its own.

`do_work` receives the execution input and returns the execution output (a JSON value of at most
256 KiB). It raises TaskError for input it cannot accept (the execution fails with that error
now); any other exception is treated as transient and the message is retried. Long work calls
`heartbeat()` more often than the state machine's HeartbeatSeconds, when that is set.

Beside it, work_examples.json gives an input this work accepts and one it rejects, with the error:
`make demo`, `make serve`, the soak, the bench and Terraform's start commands take their inputs
from there, and tests/test_work_examples.py holds them against `do_work`. Its dependencies, if
any, go in work_requirements.txt; its own tests in tests/test_work.py.
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
