"""The sample work: the one module a team replaces with its own (the contract it keeps is in
contract.py, everything a work may import from the worker).

Beside it, work_examples.json gives an input this work accepts and one it rejects, with the error:
`make demo`, `make serve`, the soak, the bench and Terraform's start commands take their inputs
from there, and tests/pattern/test_work_examples.py holds them against `do_work`. Its dependencies,
if any, go in work_requirements.txt; its own tests in tests/test_work.py.
"""

from __future__ import annotations

from typing import Any

from worker.contract import Heartbeat, TaskError, json_type


def do_work(task_input: Any, heartbeat: Heartbeat) -> dict[str, Any]:
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
