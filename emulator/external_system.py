"""The other side of a hand-off, on the emulator: a stand-in for the external system a work hands
its tasks to, which answers them with the worker's own callback code (worker.handoff's
CallbackHandle) as the work's handed-off example says, or leaves them to the user (`make serve`);
or, where the work's folder holds one (work_stand_in.py), the team's own stand-in, which answers
as it decides; and, for `make serve ARGS=--hand-off`, a work of the emulator's own that hands
every task off.

Either stand-in may answer only a task whose token the work passed on: a work that returns
HandedOff() without reading its handle's token (to send it, store it or hand it to
request_approval) has handed the task to nobody. On AWS that task waits until it times out; here
it fails at once with HandOffToNobody, so that the demo and the tests name it.

The stand-in's inbox is a file of JSON lines, one per handed-off task: its execution, its input
and its token (INBOX_VARIABLE names it). Like any store of live tokens it is a secret: here it
holds the emulator's tokens, which answer nothing outside it."""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulator.terraform import work_folder
from emulator.watch import wait_for
from emulator.work_examples import STAND_IN, StandInInvalid, importable, shown
from worker.contract import CallbackHandle, HandedOff, TaskError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

INBOX_VARIABLE = "HANDED_OFF_FILE"
ANSWER_VARIABLE = "HANDED_OFF_ANSWER"  # the JSON the stand-in answers with; unset: it does not
ANSWER_AFTER_SECONDS = 1  # a job's run, a person's decision
NO_ANSWER = object()
HAND_OFF_TO_NOBODY = "HandOffToNobody"
_APPEND = threading.Lock()


def answer_with(answer: Any) -> None:
    """From now on the stand-in answers each handed-off task with `answer` (SendTaskSuccess's
    output), or answers none (NO_ANSWER)."""
    if answer is NO_ANSWER:
        os.environ.pop(ANSWER_VARIABLE, None)
    else:
        os.environ[ANSWER_VARIABLE] = json.dumps(answer)


class PassedOnHandle(CallbackHandle):
    """The task's handle as the checks give it to the team's work: it notes whether the work read
    its token (which passing it on takes: sending it, storing it, request_approval) or answered
    with it. Heartbeats through it are the work's own, and pass nothing on."""

    __slots__ = ("passed_on",)

    def __init__(self, handle: CallbackHandle) -> None:
        self.passed_on = False
        super().__init__(handle.token, handle.execution_arn, handle.deadline)

    @property  # type: ignore[override]
    def token(self) -> str:
        self.passed_on = True
        return self._token

    @token.setter
    def token(self, value: str) -> None:
        CallbackHandle.token.__set__(self, value)  # type: ignore[attr-defined]

    @property
    def _token(self) -> str:
        return CallbackHandle.token.__get__(self)  # type: ignore[attr-defined]

    def heartbeat(self) -> None:
        CallbackHandle(self._token, self.execution_arn).heartbeat()


def teams_work(task_input: Any, heartbeat: Callable[[], None], callback: CallbackHandle) -> Any:
    """The team's work (work.do_work), when it hands tasks off, with a stand-in hearing of each
    task it hands off. A task whose token the work did not pass on fails as HandOffToNobody.
    Without the team's own stand-in, the emulator's: the task goes into the inbox, for the user to
    answer (`make serve`), and, if the stand-in answers (ANSWER_VARIABLE: `make demo`, `make serve
    ARGS=--answer-hand-offs`), it answers a second later. The team's own stand-in (running) has
    been given the task by the work itself, and answers as it decides."""
    from work import do_work

    handle = PassedOnHandle(callback)
    result = do_work(task_input, heartbeat, callback=handle)
    if not isinstance(result, HandedOff):
        return result
    if not handle.passed_on:
        raise TaskError(
            HAND_OFF_TO_NOBODY,
            "the work returned HandedOff() without passing its task's token on (callback.token "
            "sent to its external system, or request_approval(callback, ...)): nobody can answer "
            "the task, which on AWS waits until it times out",
        )
    if not own_stand_in():
        Inbox(Path(os.environ[INBOX_VARIABLE])).add(callback, task_input)
        answer = os.environ.get(ANSWER_VARIABLE)
        if answer is not None:
            answering = threading.Timer(
                ANSWER_AFTER_SECONDS, callback.succeed, (json.loads(answer),)
            )
            answering.daemon = True
            answering.start()
    return result


def own_stand_in() -> bool:
    """Whether the work's folder holds the team's own stand-in for its external system."""
    return (work_folder() / STAND_IN).exists()


@contextlib.contextmanager
def teams_stand_in(folder: Path | None = None) -> Iterator[dict[str, str] | None]:
    """The team's stand-in for its external system (work_stand_in.py in the work's folder),
    running until the block ends: yields the environment it gives the work to reach it (a URL,
    a queue's name: worker_environment), or None where the folder has no stand-in. It answers the
    tasks the work hands it with CallbackHandle(token), through this process's AWS endpoint."""
    folder = folder or work_folder()
    path = folder / STAND_IN
    if not path.exists():
        yield None
        return
    importable(folder)
    module = importlib.import_module(path.stem)
    running = getattr(module, "running", None)
    if not callable(running):
        raise StandInInvalid(
            f"{shown(path)} must define running(): a context manager that runs the stand-in and "
            "yields the work's environment that reaches it (a dict of strings)"
        )
    with running() as environment:
        if not (
            isinstance(environment, dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in environment.items())
        ):
            raise StandInInvalid(
                f"{shown(path)}: running() must yield the work's environment, a dict of strings"
            )
        yield environment


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
