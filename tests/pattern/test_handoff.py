"""A work that hands its task off (src/worker/handoff.py): the worker does not call back, the
record is done, and the external side answers later with the token it was handed, through the
worker's own callback code: success, failure with a cause, heartbeats; a duplicate delivery does
not hand the task off again; a task nobody answers times out. No token reaches the worker's logs.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

import work
from emulator import external_system
from emulator.emf import worker_metrics
from emulator.terraform import ROOT
from tests.pattern.fake_work import succeeds
from tests.pattern.helpers import CallbackSpy, with_receive_count
from worker import callback, handler
from worker.callback import TokenNoLongerLive
from worker.handoff import CallbackHandle, HandedOff, InvalidTaskToken
from worker.messages import TaskError

if TYPE_CHECKING:
    import io
    from pathlib import Path

    from tests.pattern.helpers import Aws, Pattern


class ExternalSystem:
    """What the work hands its tasks to: it keeps the tokens it is given, as an approval service
    would, and answers with them later."""

    def __init__(self) -> None:
        self.tokens: list[str] = []

    def do_work(self, task_input: Any, heartbeat: Any, callback: CallbackHandle) -> HandedOff:
        self.tokens.append(callback.token)  # the work's explicit act
        return HandedOff()

    def answer(self) -> CallbackHandle:
        """The external side's handle on the one task it holds, from the token alone."""
        (token,) = self.tokens
        return CallbackHandle(token)


@pytest.fixture
def external(monkeypatch: pytest.MonkeyPatch) -> ExternalSystem:
    """The worker runs a work that hands every task off to this external system."""
    system = ExternalSystem()
    monkeypatch.setattr(handler, "do_work", system.do_work)
    return system


def hand_off(pattern: Pattern, capsys: pytest.CaptureFixture[str]) -> tuple[str, dict[str, Any]]:
    """Start an execution and let the worker hand its task off; its ARN and its message."""
    execution = pattern.start(succeeds("approve-me"))
    (message,) = pattern.receive(1)
    capsys.readouterr()
    assert pattern.invoke([message]) == {"batchItemFailures": []}
    assert worker_metrics(capsys.readouterr().out) == {"TaskHandedOff": 1}
    return execution, message


def test_a_handed_off_task_waits_for_the_external_side_which_completes_it(
    pattern: Pattern,
    external: ExternalSystem,
    capsys: pytest.CaptureFixture[str],
    worker_logs: io.StringIO,
) -> None:
    # GIVEN a task the work handed off: the record is done, the worker called nothing back
    execution, _ = hand_off(pattern, capsys)
    time.sleep(0.5)
    assert pattern.status(execution) == "RUNNING"

    # WHEN the external side answers, later, with the token it was handed
    external.answer().succeed({"approved": True})

    # THEN the execution succeeds with its answer, and no log line held the token
    outcome = pattern.wait(execution)
    assert (outcome["status"], json.loads(outcome["output"])) == ("SUCCEEDED", {"approved": True})
    logs = worker_logs.getvalue()
    assert "TaskHandedOff" in logs
    assert external.tokens[0] not in logs


def test_the_external_side_fails_the_task_with_its_error_and_cause(
    pattern: Pattern,
    external: ExternalSystem,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    execution, _ = hand_off(pattern, capsys)
    spy = CallbackSpy(callback.client())
    monkeypatch.setattr(callback, "client", lambda: spy)

    external.answer().fail("Rejected", "the approver said no: " + "x" * 40_000)

    outcome = pattern.wait(execution)
    assert (outcome["status"], outcome["error"]) == ("FAILED", "Rejected")
    # moto drops the cause: it is asserted on the call, cut to Step Functions' limit
    ((operation, params),) = spy.calls
    assert operation == "send_task_failure"
    assert params["cause"].startswith("the approver said no: ")
    assert len(params["cause"]) == 32_768


def test_the_external_side_heartbeats_past_heartbeat_seconds_then_completes_it(
    aws: Aws, external: ExternalSystem, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a task handed off to a job that heartbeats, with HeartbeatSeconds of 2
    pattern = aws.deploy(task_timeout_seconds=30, heartbeat_seconds=2)
    execution, _ = hand_off(pattern, capsys)
    job = external.answer()

    # WHEN the job runs for 4 s, heartbeating every 0.25 s, and then succeeds
    deadline = time.monotonic() + 4
    while time.monotonic() < deadline:
        job.heartbeat()
        time.sleep(0.25)
    job.succeed({"rows": 1200})

    # THEN the execution outlived HeartbeatSeconds twice over and succeeded
    outcome = pattern.wait(execution)
    assert (outcome["status"], json.loads(outcome["output"])) == ("SUCCEEDED", {"rows": 1200})


def test_a_duplicate_of_a_handed_off_delivery_does_not_hand_it_off_again(
    pattern: Pattern,
    external: ExternalSystem,
    capsys: pytest.CaptureFixture[str],
    worker_logs: io.StringIO,
) -> None:
    # GIVEN a task handed off
    execution, message = hand_off(pattern, capsys)

    # WHEN SQS delivers its message again
    assert pattern.invoke([with_receive_count(message, 2)]) == {"batchItemFailures": []}

    # THEN the work did not run again (one token handed on), the record is done, and the task
    # still waits for the external side, whose answer completes it
    assert worker_metrics(capsys.readouterr().out) == {"TaskHandedOff": 1}
    assert len(external.tokens) == 1
    assert pattern.status(execution) == "RUNNING"
    external.answer().succeed({"approved": True})
    assert pattern.wait(execution)["status"] == "SUCCEEDED"
    assert external.tokens[0] not in worker_logs.getvalue()


def test_a_handed_off_task_nobody_answers_times_out_and_a_late_answer_is_told(
    aws: Aws, external: ExternalSystem, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a task handed off, with a 2 s task timeout
    pattern = aws.deploy(task_timeout_seconds=2)
    execution, _ = hand_off(pattern, capsys)

    # WHEN nobody answers THEN it times out as any task does
    outcome = pattern.wait(execution)
    assert (outcome["status"], outcome["error"]) == ("FAILED", "CallbackTimedOut")

    # AND an answer that comes too late is told so by name
    with pytest.raises(TokenNoLongerLive):
        external.answer().succeed({"approved": True})


def test_an_answer_step_functions_would_refuse_is_refused_before_it_is_sent(
    pattern: Pattern, external: ExternalSystem, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a handed-off task WHEN the external side answers with what is not JSON
    execution, _ = hand_off(pattern, capsys)
    with pytest.raises(TaskError) as refused:
        external.answer().succeed({"at": {1, 2}})

    # THEN it is told why, by the worker's error name, and the task still waits for a good answer
    assert refused.value.error == "InvalidTaskOutput"
    assert pattern.status(execution) == "RUNNING"
    external.answer().succeed({"approved": False})
    assert pattern.wait(execution)["status"] == "SUCCEEDED"


def test_a_work_that_returns_handed_off_without_taking_the_callback_fails_the_task(
    pattern: Pattern, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a work that says it handed the task off, though it was never given the token
    monkeypatch.setattr(handler, "do_work", lambda task_input, heartbeat: HandedOff())
    execution = pattern.start(succeeds("lost"))

    # WHEN the worker runs it THEN the task fails at once, saying why, rather than time out
    assert pattern.invoke(pattern.receive(1)) == {"batchItemFailures": []}
    outcome = pattern.wait(execution)
    assert (outcome["status"], outcome["error"]) == ("FAILED", "InvalidTaskOutput")


def test_the_handle_names_its_execution_and_never_shows_its_token() -> None:
    handle = CallbackHandle("AQCEAAAAKgAAAA-live-token", "arn:aws:states:eu-west-1:1:execution:m:e")

    assert (
        repr(handle) == "CallbackHandle(execution_arn='arn:aws:states:eu-west-1:1:execution:m:e')"
    )
    assert "live-token" not in f"{handle} {handle!r} {handle.heartbeat!r}"


@pytest.mark.parametrize("token", ["", None, "x" * 2049], ids=["empty", "none", "too-long"])
def test_a_handle_of_no_token_is_refused_by_name_before_any_call(token: object) -> None:
    # An external side that read no token (an empty field, a missing one) hears so at once, not
    # from botocore's parameter validation when it answers.
    with pytest.raises(InvalidTaskToken, match="a task token is a string of 1 to 2,048 characters"):
        CallbackHandle(token)  # type: ignore[arg-type]


@pytest.mark.parametrize("answered", [False, True], ids=["the-user-answers", "the-emulator-does"])
def test_under_make_serve_a_teams_handed_off_tasks_go_to_the_inbox(
    pattern: Pattern,
    external: ExternalSystem,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    answered: bool,
) -> None:
    # GIVEN the team's work handing tasks off to a system of its own, run as make serve runs it
    # (with the emulator's stand-in: the work's folder holds none of its own)
    monkeypatch.setattr(work, "do_work", external.do_work)
    monkeypatch.setattr(external_system, "own_stand_in", lambda: False)
    monkeypatch.setattr(handler, "do_work", external_system.teams_work)
    inbox = external_system.Inbox(tmp_path / "handed-off.jsonl")
    monkeypatch.setenv(external_system.INBOX_VARIABLE, str(inbox.path))
    answer = {"approved": True, "by": "the stand-in"}
    if answered:  # make serve ARGS=--answer-hand-offs
        monkeypatch.setenv(external_system.ANSWER_VARIABLE, json.dumps(answer))

    # WHEN the worker hands a task off
    execution, _ = hand_off(pattern, capsys)

    # THEN the team's system has it, and so does the serve's inbox, for the user to answer
    handle = inbox.handle(execution, timeout=1)
    assert handle is not None
    assert [handle.token] == external.tokens
    if answered:  # or the emulator answers, standing in for the team's system
        outcome = pattern.wait(execution)
        assert json.loads(outcome["output"]) == answer
    else:
        time.sleep(1.5)
        assert pattern.status(execution) == "RUNNING"
        handle.succeed({"approved": True})
        assert pattern.wait(execution)["status"] == "SUCCEEDED"


@dataclass
class ApprovalService:
    """docs/hand-off.md's approval-link example, run as written: its work, its `decide`, its
    store of pending tokens, and the links it sent."""

    do_work: Any
    decide: Any
    pending: dict[str, Any]
    links: list[str]

    def link_id(self) -> str:
        (link,) = self.links
        return link.rsplit("/", 1)[1]

    def csrf(self) -> str:
        (entry,) = self.pending.values()
        return str(entry["csrf"])


@pytest.fixture
def approvals(monkeypatch: pytest.MonkeyPatch) -> ApprovalService:
    page = (ROOT / "docs" / "hand-off.md").read_text()
    (code,) = [
        block
        for block in re.findall(r"```python\n(.*?)```", page, re.DOTALL)
        if "def decide" in block
    ]
    links: list[str] = []
    namespace: dict[str, Any] = {"pending": {}, "notify": links.append}
    exec(compile(code, "docs/hand-off.md", "exec"), namespace)  # the docs' own code, as written
    service = ApprovalService(
        namespace["do_work"], namespace["decide"], namespace["pending"], links
    )
    monkeypatch.setattr(handler, "do_work", service.do_work)
    return service


APPROVER = "lead@example.com"


def test_the_docs_approval_link_names_a_256_bit_id_and_keeps_the_token_under_its_hash(
    pattern: Pattern, approvals: ApprovalService, capsys: pytest.CaptureFixture[str]
) -> None:
    execution, _ = hand_off(pattern, capsys)

    link_id = approvals.link_id()
    (key,) = approvals.pending
    assert len(link_id) >= 43  # 32 random bytes, URL-safe base64
    assert key == hashlib.sha256(link_id.encode()).hexdigest()
    assert approvals.decide(link_id, approvals.csrf(), APPROVER, approved=True) == "Approved."
    outcome = pattern.wait(execution)
    assert json.loads(outcome["output"]) == {"approved": True, "by": APPROVER}
    assert approvals.pending == {}  # one answer per link


@pytest.mark.parametrize("wrong", ["csrf", "approver"])
def test_the_docs_approval_refuses_a_post_without_the_pages_csrf_token_or_by_another(
    pattern: Pattern, approvals: ApprovalService, capsys: pytest.CaptureFixture[str], wrong: str
) -> None:
    execution, _ = hand_off(pattern, capsys)
    csrf = "forged" if wrong == "csrf" else approvals.csrf()
    approver = "mallory@example.com" if wrong == "approver" else APPROVER

    with pytest.raises(PermissionError):
        approvals.decide(approvals.link_id(), csrf, approver, approved=True)

    assert pattern.status(execution) == "RUNNING"
    assert len(approvals.pending) == 1  # the real approver may still answer


def test_the_docs_approval_keeps_the_link_when_the_answer_is_throttled(
    pattern: Pattern,
    approvals: ApprovalService,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a handed-off task, and Step Functions throttling the answer past botocore's retries
    execution, _ = hand_off(pattern, capsys)
    spy = CallbackSpy(callback.client(), fail_with="ThrottlingException")
    monkeypatch.setattr(callback, "client", lambda: spy)

    # WHEN the approver answers THEN the answer fails, and the link still holds the token
    with pytest.raises(ClientError):
        approvals.decide(approvals.link_id(), approvals.csrf(), APPROVER, approved=False)
    assert len(approvals.pending) == 1

    # AND WHEN they answer again, once Step Functions takes it THEN the task is rejected
    spy.fail_with = None
    assert approvals.decide(approvals.link_id(), approvals.csrf(), APPROVER, False) == "Rejected."
    assert (pattern.wait(execution)["error"], approvals.pending) == ("Rejected", {})


def test_the_docs_approval_drops_the_link_of_a_task_that_is_over(
    pattern: Pattern, approvals: ApprovalService, capsys: pytest.CaptureFixture[str]
) -> None:
    execution, message = hand_off(pattern, capsys)
    token = json.loads(message["Body"])["taskToken"]
    pattern.aws.sfn.send_task_failure(taskToken=token, error="Expired")  # ended elsewhere
    pattern.wait(execution)

    said = approvals.decide(approvals.link_id(), approvals.csrf(), APPROVER, approved=True)

    assert said == "This request was answered already, or it expired."
    assert approvals.pending == {}
