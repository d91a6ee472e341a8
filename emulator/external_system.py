"""The other side of a hand-off, on the emulator: a stand-in for the external system a work hands
its tasks to, which answers them with the worker's own callback code (worker.handoff's
CallbackHandle) as the work's handed-off example says, or leaves them to the user (`make serve`);
and, for `make serve ARGS=--hand-off`, a work of the emulator's own that hands every task off.

The stand-in's inbox is a file of JSON lines, one per handed-off task: its execution, its input
and its token (INBOX_VARIABLE names it). Like any store of live tokens it is a secret: here it
holds the emulator's tokens, which answer nothing outside it."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulator.watch import wait_for
from worker.contract import CallbackHandle, HandedOff

if TYPE_CHECKING:
    from collections.abc import Callable

INBOX_VARIABLE = "HANDED_OFF_FILE"
ANSWER_VARIABLE = "HANDED_OFF_ANSWER"  # the JSON the stand-in answers with; unset: it does not
ANSWER_AFTER_SECONDS = 1  # a job's run, a person's decision
NO_ANSWER = object()
_APPEND = threading.Lock()


def answer_with(answer: Any) -> None:
    """From now on the stand-in answers each handed-off task with `answer` (SendTaskSuccess's
    output), or answers none (NO_ANSWER)."""
    if answer is NO_ANSWER:
        os.environ.pop(ANSWER_VARIABLE, None)
    else:
        os.environ[ANSWER_VARIABLE] = json.dumps(answer)


def teams_work(task_input: Any, heartbeat: Callable[[], None], callback: CallbackHandle) -> Any:
    """The team's work (work.do_work), when it hands tasks off, with the stand-in hearing of each
    task it hands off: the task goes into the inbox, for the user to answer (`make serve`), and,
    if the stand-in answers (ANSWER_VARIABLE: `make demo`, `make serve ARGS=--answer-hand-offs`),
    it answers a second later."""
    from work import do_work

    result = do_work(task_input, heartbeat, callback=callback)
    if isinstance(result, HandedOff):
        Inbox(Path(os.environ[INBOX_VARIABLE])).add(callback, task_input)
        answer = os.environ.get(ANSWER_VARIABLE)
        if answer is not None:
            answering = threading.Timer(
                ANSWER_AFTER_SECONDS, callback.succeed, (json.loads(answer),)
            )
            answering.daemon = True
            answering.start()
    return result


def do_work(task_input: Any, heartbeat: Callable[[], None], callback: CallbackHandle) -> HandedOff:
    """The emulator's own work, for `make serve ARGS=--hand-off`: hands every task to the inbox
    (the token with it: handing it on is this work's explicit act), for the user to answer."""
    Inbox(Path(os.environ[INBOX_VARIABLE])).add(callback, task_input)
    return HandedOff()


def approval_work(task_input: Any, heartbeat: Callable[[], None], callback: CallbackHandle) -> Any:
    """The emulator's own work that asks a person, for `make demo` and `make serve ARGS=--approval`:
    every task goes to the approval service (var.approval), whose page the user answers on. A
    team's work does this for the inputs it chooses, with worker.contract.request_approval."""
    from worker.approval import request_approval

    fields = task_input if isinstance(task_input, dict) else {"input": task_input}
    return request_approval(callback, "A task to approve", fields)


class Inbox:
    """The external system's tasks, as the work handed them off."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def add(self, handle: CallbackHandle, task_input: Any) -> None:
        entry = {
            "executionArn": handle.execution_arn,
            "input": task_input,
            "taskToken": handle.token,
        }
        with _APPEND, self.path.open("a") as inbox:  # one line per write: workers share the file
            inbox.write(json.dumps(entry) + "\n")

    def handle(self, execution_arn: str, timeout: float = 30) -> CallbackHandle | None:
        """The handle of the execution's task, once the work has handed it off."""
        found: list[CallbackHandle] = []

        def arrived() -> bool:
            found[:] = [h for h in self.handles() if h.execution_arn == execution_arn]
            return bool(found)

        return found[0] if wait_for(arrived, timeout=timeout, interval=0.05) else None

    def handles(self) -> list[CallbackHandle]:
        if not self.path.exists():
            return []
        entries = [json.loads(line) for line in self.path.read_text().splitlines() if line]
        return [CallbackHandle(e["taskToken"], e["executionArn"]) for e in entries]
