"""The other side of a hand-off, for `make demo` and `make serve ARGS=--hand-off`: a work that
hands every task off, as an approval step does, and the external system it hands them to, which
answers later with the worker's own callback code (worker.handoff.CallbackHandle).

The system's inbox is a file of JSON lines, one per handed-off task: its execution, its input and
its token (HANDED_OFF_FILE names it). Like any store of live tokens it is a secret: here it holds
the emulator's tokens, which answer nothing outside it."""

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
ANSWER_VARIABLE = "HANDED_OFF_ANSWERED"  # set: a team's handed-off tasks are answered
# What the emulator answers a team's handed-off task with, standing in for the team's system.
STAND_IN_ANSWER = {"answeredBy": "the emulator, standing in for your external system"}
_APPEND = threading.Lock()


def do_work(task_input: Any, heartbeat: Callable[[], None], callback: CallbackHandle) -> HandedOff:
    """Hands the task to the external system: it puts the task in the system's inbox (the token
    with it: handing it on is this work's explicit act) and returns, leaving the answer to it."""
    Inbox(Path(os.environ[INBOX_VARIABLE])).add(callback, task_input)
    return HandedOff()


def teams_work(task_input: Any, heartbeat: Callable[[], None], callback: CallbackHandle) -> Any:
    """The team's work (worker.work.do_work), when it hands tasks off to a system of its own, with
    the emulator's standing in for that one: each task it hands off is also put in the inbox, for
    the user to answer (`make serve`); with ANSWER_VARIABLE set (`make demo`, `make serve
    ARGS=--answer-hand-offs`), the emulator answers it a second later with STAND_IN_ANSWER."""
    from worker.work import do_work

    result = do_work(task_input, heartbeat, callback=callback)
    if isinstance(result, HandedOff):
        Inbox(Path(os.environ[INBOX_VARIABLE])).add(callback, task_input)
        if os.environ.get(ANSWER_VARIABLE):
            answering = threading.Timer(1, callback.succeed, (STAND_IN_ANSWER,))
            answering.daemon = True
            answering.start()
    return result


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


def answer_later(
    inbox: Inbox, execution_arn: str, after_seconds: float, answer: Callable[[CallbackHandle], None]
) -> threading.Thread:
    """The external system at work: once the task is in its inbox, it takes `after_seconds` (a
    job's run, a person's decision) and answers it."""

    def run() -> None:
        handle = inbox.handle(execution_arn)
        if handle is not None:
            threading.Event().wait(after_seconds)
            answer(handle)

    thread = threading.Thread(target=run, name="external-system", daemon=True)
    thread.start()
    return thread
