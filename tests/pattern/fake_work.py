"""The pattern's fake work, in place of the team's: it does what its input asks, so the tests of
the pattern (batches, callbacks, retries, faults, the state machine, the emulator) pass whatever
work a team puts in its work.py. The team's work is run by its own tests and, through the flow,
by tests/pattern/test_work_examples.py.

    {"id": "x"}                             returns {"id": "x", "done": true}
    {"reject": "why"}                       raises TaskError("Rejected", "why")
    {"crash": "why"}                        raises RuntimeError("why"): an unexpected error
    {"id": "x", "sleep": 3, "heartbeat_every": 0.3}
                                            sleeps 3 s, heartbeating every 0.3 s (if given)
    anything else                           raises TaskError("InvalidTaskInput", ...)
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from worker.contract import TaskError
from worker.messages import json_type

if TYPE_CHECKING:
    from collections.abc import Callable


def succeeds(task_id: str, **more: Any) -> dict[str, Any]:
    """An input the test work answers with result(task_id)."""
    return {"id": task_id, **more}


def result(task_id: str) -> dict[str, Any]:
    return {"id": task_id, "done": True}


def rejects(cause: str = "the test work rejects this input") -> dict[str, str]:
    """An input the test work fails with the task error Rejected."""
    return {"reject": cause}


def crashes(reason: str = "the test work crashed") -> dict[str, str]:
    """An input on which the test work raises an unexpected error."""
    return {"crash": reason}


def sleeps(task_id: str, seconds: float, heartbeat_every: float | None = None) -> dict[str, Any]:
    extra = {"heartbeat_every": heartbeat_every} if heartbeat_every else {}
    return {"id": task_id, "sleep": seconds, **extra}


# What the soak, the demo and the emulator take from work_examples.json, for this work.
EXAMPLES = {
    "accepted": {"input": succeeds("example")},
    "rejected": {"input": rejects("the example to reject"), "error": "Rejected"},
}


def do_work(task_input: Any, heartbeat: Callable[[], None]) -> Any:
    if not isinstance(task_input, dict):
        raise TaskError("InvalidTaskInput", f"a JSON object is needed, not {json_type(task_input)}")
    if "reject" in task_input:
        raise TaskError("Rejected", str(task_input["reject"]))
    if "crash" in task_input:
        raise RuntimeError(str(task_input["crash"]))
    if not isinstance(task_input.get("id"), str):
        raise TaskError("InvalidTaskInput", "id must be a string")
    deadline = time.monotonic() + task_input.get("sleep", 0)
    interval = task_input.get("heartbeat_every")
    while (left := deadline - time.monotonic()) > 0:
        time.sleep(min(left, interval or left))
        if interval:
            heartbeat()
    return result(task_input["id"])
