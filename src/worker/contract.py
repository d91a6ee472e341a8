"""The contract between the worker and the team's work: everything a work may import.

    from worker.contract import Heartbeat, TaskError

    def do_work(task_input: Any, heartbeat: Heartbeat) -> Any:
        ...

`do_work` (in work.py) receives the execution input and returns the execution output: a JSON value
of at most 256 KiB. It raises TaskError for input it cannot accept: the execution fails with that
error and cause, at once. Any other exception is taken for a transient fault: the message comes
back and the work runs again, until its last allowed receive fails the task as WorkerFailed. Long
work calls `heartbeat()` more often than the state machine's heartbeat_seconds, when that is set.

A work that hands the task off to an external system or a person, who answers it later, takes a
`callback` parameter as well: it is given the task's CallbackHandle, hands it (or its token) on,
and returns HandedOff(). The external side answers with CallbackHandle(token).succeed(...),
.fail(...) or .heartbeat(). For a person's approval, the module's approval service (var.approval)
is that external side: `return request_approval(callback, title, fields)` hands the task to it.

Two shapes, on purpose: the task token is a bearer credential (whoever holds it can end the
execution), so only a work that declares it hands tasks off, by that parameter, is given it. A
work without it never sees the token, and cannot leak what it never had.
"""

from __future__ import annotations

from collections.abc import Callable

from worker.approval import request_approval
from worker.handoff import CallbackHandle, HandedOff
from worker.messages import TaskError

type Heartbeat = Callable[[], None]
"""Tells Step Functions the task is still being worked on (SendTaskHeartbeat)."""

__all__ = ["CallbackHandle", "HandedOff", "Heartbeat", "TaskError", "request_approval"]
