"""The approval service (var.approval), as its page's users meet it: a work hands the task to it,
the link goes out on its topic, and the page, called as API Gateway calls it, shows the request
on GET (answering nothing) and answers the task on a POST that carries its CSRF token. Its link is
a one-time ID of 256 bits, kept in the table only as a hash; the token leaves the table once the
task is answered, stays when the answer was not taken (throttled), and the link of an ended task
says it expired. The browser's view of it is tests/pattern/test_approval_page.py's."""

from __future__ import annotations

import hashlib
import json
import time
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from approval import page
from emulator import external_system
from tests.pattern.approvals import expires, request
from worker import callback, handler

if TYPE_CHECKING:
    import pytest

    from tests.pattern.approvals import Request
    from tests.pattern.helpers import Pattern


def test_a_request_is_linked_by_a_one_time_id_the_table_keeps_only_as_a_hash(
    approval_service: Pattern,
) -> None:
    # WHEN the work asks for approval
    asked = request(approval_service, {"orderId": "o-1", "amount": 250})

    # THEN the execution waits; the link names a 256-bit ID, and the message shows the request
    assert approval_service.status(asked.execution) == "RUNNING"
    assert asked.link.startswith(f"{approval_service.deployment.approval.page_url}/")
    assert len(asked.link_id) == 43  # 32 random bytes, URL-safe base64
    assert "orderId: o-1" in asked.message
    assert "amount: 250" in asked.message
    # AND the table holds the request under the ID's hash, never the ID itself
    client, table = page.table()
    (item,) = client.scan(TableName=table)["Items"]
    assert item["id"]["S"] == hashlib.sha256(asked.link_id.encode()).hexdigest()
    assert asked.link_id not in json.dumps(item)


def test_a_get_shows_the_request_as_text_and_answers_nothing(approval_service: Pattern) -> None:
    asked = request(approval_service, {"note": "<script>alert(1)</script>", "amount": 9})

    shown = asked.get()

    assert shown["statusCode"] == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown["body"]
    assert "<script>" not in shown["body"]
    assert "script-src" not in shown["headers"]["content-security-policy"]  # none may run
    assert shown["headers"]["referrer-policy"] == "same-origin"
    assert approval_service.status(asked.execution) == "RUNNING"


def test_an_approval_ends_the_execution_with_the_approver_and_the_reason(
    approval_service: Pattern,
) -> None:
    asked = request(approval_service, {"amount": 250})

    answered = asked.decide("approve", name="Ana Lima", reason="within budget")

    assert answered["statusCode"] == 200
    assert "Approved by Ana Lima at" in answered["body"]
    ended = approval_service.wait(asked.execution)
    output = json.loads(ended["output"])
    assert (ended["status"], output["approved"], output["approver"], output["reason"]) == (
        "SUCCEEDED",
        True,
        "Ana Lima",
        "within budget",
    )
    # AND the token has left the table; the decision stays, for whoever opens the link again
    item = asked.item()
    assert item is not None
    assert "token" not in item
    assert item["decision"] == "approve"


def test_a_rejection_fails_the_execution_with_the_reason_as_its_cause(
    approval_service: Pattern,
) -> None:
    asked = request(approval_service, {"amount": 90000})

    asked.decide("reject", reason="over the quarter's budget")

    ended = approval_service.wait(asked.execution)
    assert (ended["status"], ended["error"], ended["cause"]) == (
        "FAILED",
        "Rejected",
        "over the quarter's budget",
    )


def test_a_used_link_says_who_decided_and_answers_nothing_more(approval_service: Pattern) -> None:
    asked = request(approval_service, {"amount": 250})
    cookie, token = asked.form()
    asked.post({"csrf": token, "name": "Ana", "decision": "approve"}, cookie=cookie)

    again = asked.post({"csrf": token, "name": "Bo", "decision": "reject"}, cookie=cookie)
    reopened = asked.get()

    for shown in (again, reopened):
        assert "Approved by Ana at" in shown["body"]
        assert "<form" not in shown["body"]
    # AND Bo, who answered from a page opened before Ana decided, is told his answer was not
    # recorded (not shown Ana's decision as if it were his)
    assert again["statusCode"] == 409
    assert "Your answer was not recorded" in again["body"]
    assert "not recorded" not in reopened["body"]
    assert approval_service.wait(asked.execution)["status"] == "SUCCEEDED"


def test_the_request_names_its_execution_on_the_page_and_in_the_message(
    approval_service: Pattern,
) -> None:
    # GIVEN two requests alike but for their executions
    first, second = (request(approval_service, {"amount": 250}) for _ in range(2))

    # THEN each names its own execution, where the approver reads it
    for asked in (first, second):
        name = asked.execution.rsplit(":", 1)[1]
        assert f"Execution: {name}" in asked.message
        assert f"Execution <code>{name}</code>" in asked.get()["body"]
    assert first.execution != second.execution


def test_a_post_without_the_pages_csrf_token_is_refused(approval_service: Pattern) -> None:
    asked = request(approval_service, {"amount": 250})
    cookie, token = asked.form()

    refused = [
        asked.post({"name": "Eve", "decision": "approve"}, cookie=cookie),  # no token
        asked.post({"csrf": token, "name": "Eve", "decision": "approve"}),  # no cookie
        asked.post({"csrf": "forged", "name": "Eve", "decision": "approve"}, cookie=cookie),
    ]

    assert [shown["statusCode"] for shown in refused] == [403, 403, 403]
    assert approval_service.status(asked.execution) == "RUNNING"
    assert "decision" not in (asked.item() or {})


def test_a_link_past_its_tasks_timeout_says_it_expired_and_answers_nothing(
    timed_out_request: Request,
) -> None:
    expires(timed_out_request, at=time.time() - 1)

    shown, answered = (
        timed_out_request.get(),
        timed_out_request.post({"decision": "approve", "name": "Ana"}),
    )

    assert [shown["statusCode"], answered["statusCode"]] == [410, 410]
    assert "This request expired" in shown["body"]
    assert "<form" not in shown["body"]


def test_an_answer_to_a_task_that_no_longer_waits_removes_the_token_and_says_it_expired(
    timed_out_request: Request,
) -> None:
    # GIVEN a request whose item has not expired yet, though its task no longer waits
    expires(timed_out_request, at=time.time() + 3600)

    # WHEN the approver answers
    answered = timed_out_request.decide("approve")

    # THEN Step Functions said so (TokenNoLongerLive): the page says it expired, the token is gone
    assert answered["statusCode"] == 410
    assert "token" not in (timed_out_request.item() or {})
    assert timed_out_request.get()["statusCode"] == 410


def test_an_answer_step_functions_did_not_take_leaves_the_request_to_try_again(
    approval_service: Pattern, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = request(approval_service, {"amount": 250})
    real = callback._call

    def throttled(operation: str, **params: str) -> None:
        error = {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}
        raise ClientError(error, operation)

    monkeypatch.setattr(callback, "_call", throttled)
    first = asked.decide("approve")
    monkeypatch.setattr(callback, "_call", real)
    second = asked.decide("approve")

    assert (first["statusCode"], second["statusCode"]) == (503, 200)
    assert approval_service.wait(asked.execution)["status"] == "SUCCEEDED"


def test_with_sign_in_only_a_listed_approver_decides_under_the_tokens_claim(
    approval_service: Pattern, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APPROVERS", json.dumps(["ana@example.com"]))
    monkeypatch.setenv("APPROVER_CLAIM", "email")
    asked = request(approval_service, {"amount": 250})
    cookie, token = asked.form()
    fields = {"csrf": token, "decision": "approve", "name": "ignored"}

    def signed_in(email: str) -> dict[str, Any]:
        return {"authorizer": {"jwt": {"claims": {"email": email}, "scopes": None}}}

    stranger = asked.post(fields, cookie=cookie, **signed_in("eve@example.com"))
    approver = asked.post(fields, cookie=cookie, **signed_in("ana@example.com"))

    assert stranger["statusCode"] == 403
    assert approver["statusCode"] == 200
    assert (
        json.loads(approval_service.wait(asked.execution)["output"])["approver"]
        == "ana@example.com"
    )


def test_a_work_that_asks_for_approval_without_the_service_fails_saying_so(
    pattern: Pattern, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(handler, "do_work", external_system.approval_work)
    execution = pattern.start({"amount": 250})

    pattern.invoke(pattern.receive(1))

    ended = pattern.wait(execution)
    assert (ended["status"], ended["error"]) == ("FAILED", "ApprovalNotConfigured")
    assert "set var.approval" in ended["cause"]
