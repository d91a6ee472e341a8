"""Handing the task off: a work that starts something that outlives its invocation (a job in
another system, a person's approval) gives that external side what it needs to answer the task
later, and says that it did.

A work asks for it by taking a `callback` parameter; only such a work ever holds the token:

    def do_work(task_input, heartbeat, callback):  # HandedOff from worker.contract
        approvals.request(task_input["orderId"], task_token=callback.token)  # the explicit act
        return HandedOff()

The worker then calls nothing back: the record is done (TaskHandedOff), and the execution waits
for the external side, within the task timeout. The external side answers with the token it was
given, through the worker's own callback code (this module, callback.py and messages.py; boto3
with states:SendTask* on the state machine, the callback_policy_json output):

    CallbackHandle(token).succeed({"approved": True})          # SendTaskSuccess
    CallbackHandle(token).fail("Rejected", "over the limit")   # SendTaskFailure
    CallbackHandle(token).heartbeat()                          # SendTaskHeartbeat

with the worker's limits and errors: a result that is not JSON, or over 256 KiB, raises TaskError
(InvalidTaskOutput, TaskOutputTooLarge) and sends nothing, so the task still waits for a good
answer; error and cause are cut to 256 and 32,768 characters; a token that Step Functions no
longer waits for (the task timed out, or was answered) raises callback.TokenNoLongerLive; and a
handle given no token (empty, not a string, too long) raises InvalidTaskToken at once.
"""

from __future__ import annotations

import functools
import inspect
from typing import TYPE_CHECKING, Any

from worker import callback
from worker.messages import MAX_TOKEN_CHARS, TaskError, encode_output

if TYPE_CHECKING:
    from collections.abc import Callable


class InvalidTaskToken(ValueError):
    """What a CallbackHandle was given is no task token: not a string of 1 to 2,048 characters."""


class HandedOff:
    """What a work returns when it has handed the task off: the worker does not call back."""

    def __repr__(self) -> str:
        return "HandedOff()"


class CallbackHandle:
    """What answers one task: its token, and the calls that answer with it. Its repr names the
    execution, never the token: a work that logs it, or an error reporter that records local
    variables, leaks nothing that could complete the task. Whoever holds `token` can.

    `deadline`, on the handle the worker gives a work: when the task stops waiting at the latest
    (epoch seconds) unless a heartbeat comes first, its timeout or its heartbeat window, whichever
    ends sooner. An external side need not answer after it."""

    __slots__ = ("deadline", "execution_arn", "token")

    def __init__(self, token: str, execution_arn: str = "", deadline: float | None = None) -> None:
        if not isinstance(token, str) or not 1 <= len(token) <= MAX_TOKEN_CHARS:
            given = f"{len(token):,} characters" if isinstance(token, str) else type(token).__name__
            raise InvalidTaskToken(
                f"a task token is a string of 1 to {MAX_TOKEN_CHARS:,} characters (the taskToken "
                f"of the task's message); this is {given}"
            )
        self.token = token
        self.execution_arn = execution_arn
        self.deadline = deadline

    def succeed(self, result: Any) -> None:
        """SendTaskSuccess: `result` becomes the execution's output."""
        callback.send_success(self.token, encode_output(result))

    def fail(self, error: str, cause: str = "") -> None:
        """SendTaskFailure: the execution fails with `error` and `cause`."""
        failure = TaskError(error, cause)
        callback.send_failure(self.token, failure.error, failure.cause)

    def heartbeat(self) -> None:
        """SendTaskHeartbeat: still working (needed within heartbeat_seconds, if that is set)."""
        callback.send_heartbeat(self.token)

    def __repr__(self) -> str:
        return f"CallbackHandle(execution_arn={self.execution_arn!r})"


def call_work(work: Callable[..., Any], task_input: Any, handle: CallbackHandle) -> Any:
    """Run the work as the worker does: its result, or HandedOff(). Only a work that takes
    `callback` is given the handle (and with it the token); a work that returns HandedOff()
    without it has handed the token to nobody, and fails the task rather than let it time out."""
    if takes_callback(work):
        return work(task_input, handle.heartbeat, callback=handle)
    result = work(task_input, handle.heartbeat)
    if isinstance(result, HandedOff):
        raise TaskError(
            "InvalidTaskOutput",
            "the work returned HandedOff() but takes no callback parameter: nobody was given the "
            "token to answer the task",
        )
    return result


@functools.cache
def takes_callback(work: Callable[..., Any]) -> bool:
    """Whether the work asks for the task's callback handle (a parameter named `callback`)."""
    return "callback" in inspect.signature(work).parameters
