"""The sample work, which accepts an order: the module a team replaces with its own. Beside it
are its examples (work_examples.json), its tests (test_work.py) and, if it needs third-party
packages, work_requirements.txt. Everything it may import from the worker is in worker.contract.
"""

from __future__ import annotations

from typing import Any

from worker.contract import Heartbeat, TaskError


def do_work(task_input: Any, heartbeat: Heartbeat) -> dict[str, Any]:
    """Accept an order: `{"orderId": "<non-empty string>", ...}` -> `{"orderId", "status"}`."""
    if not isinstance(task_input, dict):
        raise TaskError("InvalidTaskInput", "the execution input must be a JSON object")
    order_id = task_input.get("orderId")
    if not isinstance(order_id, str) or not order_id.strip():
        raise TaskError("InvalidTaskInput", "orderId must be a non-empty string")
    return {"orderId": order_id, "status": "ACCEPTED"}
