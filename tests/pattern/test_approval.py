"""The approval service (var.approval), as its page's users meet it: a work hands the task to it,
the link goes out on its topic, and the page, called as API Gateway calls it, shows the request
on GET (answering nothing) and answers the task on a POST that carries its CSRF token. Its link is
a one-time ID of 256 bits, kept in the table only as a hash; the token leaves the table once the
task is answered, stays when the answer was not taken (throttled), and the link of an ended task
says it expired. The browser's view of it is tests/pattern/test_approval_page.py's."""

from __future__ import annotations

import base64
import http.client
import json
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

import pytest
from botocore.exceptions import ClientError, ParamValidationError, ReadTimeoutError

from approval import page
from emulator import external_system
from emulator.approval_page import approval_page, page_server
from emulator.terraform import load_hcl
from tests.pattern.approvals import expires, request
from worker import callback, handler
from worker.approval import request_approval, request_key

if TYPE_CHECKING:
    from tests.pattern.approvals import Request
    from tests.pattern.helpers import Pattern
    from worker.handoff import CallbackHandle


def test_a_request_is_linked_by_a_one_time_id_and_its_table_holds_no_usable_token(
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
    # AND the table holds the request under a hash of the ID, never the ID itself
    client, table = page.table()
    (item,) = client.scan(TableName=table)["Items"]
    assert item["id"]["S"] == request_key(asked.link_id)
    assert asked.link_id not in json.dumps(item)
    # AND nothing a Scan of it yields is a token Step Functions takes (AmazonDynamoDBReadOnlyAccess
    # grants the Scan): each value, sent as the token, is refused, and the task still waits
    values = [value for attribute in item.values() for value in attribute.values()]
    codes = {taken_as_a_token(approval_service, value) for value in values}
    assert codes <= {*callback.NO_LONGER_LIVE, "not a token"}, codes
    assert approval_service.status(asked.execution) == "RUNNING"


def taken_as_a_token(pattern: Pattern, value: str) -> str:
    """What Step Functions answers a SendTaskSuccess with `value` as its token: its error's code,
    "not a token" if the SDK refuses to send it, or "taken"."""
    try:
        pattern.aws.sfn.send_task_success(taskToken=value, output="{}")
    except ParamValidationError:
        return "not a token"
    except ClientError as refused:
        return str(refused.response["Error"]["Code"])
    return "taken"


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
        # a value of the client's own choosing in both the cookie and the form
        asked.post(
            {"csrf": "chosen", "name": "Eve", "decision": "approve"},
            cookie="approval_csrf=chosen",
        ),
    ]

    assert [shown["statusCode"] for shown in refused] == [403, 403, 403, 403]
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
    assert "sealed_token" not in (timed_out_request.item() or {})
    assert timed_out_request.get()["statusCode"] == 410


def test_an_answer_step_functions_did_not_take_leaves_the_request_to_try_again(
    approval_service: Pattern, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = request(approval_service, {"amount": 250})
    real = callback.send_success

    def throttled(token: str, output: str) -> None:
        error = {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}
        raise ClientError(error, "SendTaskSuccess")

    monkeypatch.setattr(callback, "send_success", throttled)
    first = asked.decide("approve")
    monkeypatch.setattr(callback, "send_success", real)
    second = asked.decide("approve")

    assert (first["statusCode"], second["statusCode"]) == (503, 200)
    assert approval_service.wait(asked.execution)["status"] == "SUCCEEDED"


def signed_in(**claims: str) -> dict[str, Any]:
    """The request context API Gateway's JWT authorizer passes on: the token's claims, strings."""
    return {"authorizer": {"jwt": {"claims": claims, "scopes": None}}}


def test_with_sign_in_only_a_listed_approver_sees_and_decides_under_the_sub_claim(
    approval_service: Pattern, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN sign-in with the approvers listed by `sub`, the claim an identity provider vouches for
    monkeypatch.setenv("APPROVERS", json.dumps(["ana-7f3e"]))
    monkeypatch.setenv("APPROVER_CLAIM", "sub")
    asked = request(approval_service, {"amount": 250})
    cookie, token = asked.form(**signed_in(sub="ana-7f3e"))
    fields = {"csrf": token, "decision": "approve", "name": "ignored"}

    # WHEN another signed-in user opens the request, and answers it; then the approver answers
    seen = asked.get(**signed_in(sub="eve-0001", email="ana-7f3e"))
    stranger = asked.post(fields, cookie=cookie, **signed_in(sub="eve-0001"))
    approver = asked.post(fields, cookie=cookie, **signed_in(sub="ana-7f3e"))

    # THEN the stranger is refused both, and sees none of the request; the approver decides
    assert (seen["statusCode"], stranger["statusCode"]) == (403, 403)
    assert "250" not in seen["body"]
    assert approver["statusCode"] == 200
    output = json.loads(approval_service.wait(asked.execution)["output"])
    assert output["approver"] == "ana-7f3e"


@pytest.mark.parametrize("verified", ["false", None], ids=["unverified", "no-email-verified"])
def test_an_email_claim_the_identity_provider_has_not_verified_neither_sees_nor_approves(
    approval_service: Pattern, monkeypatch: pytest.MonkeyPatch, verified: str | None
) -> None:
    # GIVEN approvers listed by e-mail, and a user whose token claims an approver's address that
    # its identity provider has not verified (a profile's e-mail, typed in by its user)
    monkeypatch.setenv("APPROVERS", json.dumps(["ana@example.com"]))
    monkeypatch.setenv("APPROVER_CLAIM", "email")
    asked = request(approval_service, {"amount": 250})
    cookie, token = asked.form(**signed_in(email="ana@example.com", email_verified="true"))
    fields = {"csrf": token, "decision": "approve"}
    claims = {"email": "ana@example.com", "sub": "mallory"}
    forged = signed_in(**claims, **({"email_verified": verified} if verified else {}))

    # WHEN that user opens the request and approves it
    seen, answered = asked.get(**forged), asked.post(fields, cookie=cookie, **forged)

    # THEN both are refused, and the task still waits; Ana, verified, then approves
    assert (seen["statusCode"], answered["statusCode"]) == (403, 403)
    assert approval_service.status(asked.execution) == "RUNNING"
    verified_ana = signed_in(email="ana@example.com", email_verified="true", sub="ana")
    assert asked.post(fields, cookie=cookie, **verified_ana)["statusCode"] == 200
    output = json.loads(approval_service.wait(asked.execution)["output"])
    assert output["approver"] == "ana@example.com"


def test_a_work_that_asks_for_approval_without_the_service_fails_saying_so(
    pattern: Pattern, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(handler, "do_work", external_system.approval_work)
    execution = pattern.start({"amount": 250})

    pattern.invoke(pattern.receive(1))

    ended = pattern.wait(execution)
    assert (ended["status"], ended["error"]) == ("FAILED", "ApprovalNotConfigured")
    assert "set var.approval" in ended["cause"]


@pytest.mark.parametrize(
    "headers",
    [{"sec-fetch-site": "cross-site"}, {"sec-fetch-site": "same-site"}, {"origin": "https://evil"}],
    ids=["cross-site", "same-site-subdomain", "foreign-origin"],
)
def test_a_post_from_another_site_is_refused_even_with_the_pages_values(
    approval_service: Pattern, headers: dict[str, str]
) -> None:
    asked = request(approval_service, {"amount": 250})
    cookie, token = asked.form()
    event = asked.event(
        "POST", urlencode({"csrf": token, "name": "Eve", "decision": "approve"}), cookie=cookie
    )
    event["headers"].update(headers)

    refused = page.handle(event)

    assert refused["statusCode"] == 403
    assert approval_service.status(asked.execution) == "RUNNING"
    # AND the page's own POST, as a browser sends it, is taken
    own = asked.event(
        "POST", urlencode({"csrf": token, "name": "Ana", "decision": "approve"}), cookie=cookie
    )
    own["headers"].update({"sec-fetch-site": "same-origin", "origin": "https://127.0.0.1:8000"})
    assert page.handle(own)["statusCode"] == 200


def test_a_form_posted_base64_encoded_as_api_gateway_sends_it_is_read(
    approval_service: Pattern,
) -> None:
    asked = request(approval_service, {"amount": 250})
    cookie, token = asked.form()
    form = urlencode({"csrf": token, "name": "Ana Lima", "reason": "ok", "decision": "approve"})
    event = asked.event("POST", base64.b64encode(form.encode()).decode(), cookie=cookie)
    event["isBase64Encoded"] = True

    assert page.handle(event)["statusCode"] == 200
    output = json.loads(approval_service.wait(asked.execution)["output"])
    assert (output["approver"], output["reason"]) == ("Ana Lima", "ok")


def test_a_form_of_more_fields_than_the_pages_is_refused_not_a_server_error(
    approval_service: Pattern,
) -> None:
    asked = request(approval_service, {"amount": 250})
    cookie, token = asked.form()
    fields = {"csrf": token, "name": "Ana", "decision": "approve"}

    refused = asked.post({**fields, **{f"x{i}": "1" for i in range(20)}}, cookie=cookie)

    assert refused["statusCode"] == 400
    assert approval_service.status(asked.execution) == "RUNNING"


def test_an_answer_that_landed_though_its_call_failed_is_recorded_as_decided(
    approval_service: Pattern, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a SendTaskSuccess that Step Functions takes, but whose response is lost: botocore
    # retries the read that timed out, and the retry is refused as for a task that has ended
    asked = request(approval_service, {"amount": 250})
    real = callback.send_success

    def landed_then_retried(token: str, output: str) -> None:
        real(token, output)
        real(token, output)

    monkeypatch.setattr(callback, "send_success", landed_then_retried)

    # WHEN the approver approves
    answered = asked.decide("approve", name="Ana")

    # THEN the page, asking the task's events, records what Step Functions did: approved by Ana
    assert answered["statusCode"] == 200
    assert "Approved by Ana at" in answered["body"]
    assert "expired" not in answered["body"]
    item = asked.item() or {}
    assert (item.get("decision"), "sealed_token" in item) == ("approve", False)
    ended = approval_service.wait(asked.execution)
    assert (ended["status"], json.loads(ended["output"])["approver"]) == ("SUCCEEDED", "Ana")


def test_an_answer_that_timed_out_unanswered_is_released_to_answer_again(
    approval_service: Pattern, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a SendTaskSuccess that never reached Step Functions (a read timeout, retries spent)
    asked = request(approval_service, {"amount": 250})
    real = callback.send_success

    def timed_out(token: str, output: str) -> None:
        raise ReadTimeoutError(endpoint_url="https://states.us-east-1.amazonaws.com/")

    monkeypatch.setattr(callback, "send_success", timed_out)
    first = asked.decide("approve", name="Ana")
    monkeypatch.setattr(callback, "send_success", real)

    # THEN the task's events say it still waits: nothing is recorded, and the approver answers
    assert first["statusCode"] == 503
    assert "decision" not in (asked.item() or {})
    assert asked.decide("approve", name="Ana")["statusCode"] == 200
    assert approval_service.wait(asked.execution)["status"] == "SUCCEEDED"


class Died(BaseException):
    """The page function's end, mid-call: Lambda's timeout, or its execution environment gone."""


@pytest.mark.parametrize("landed", [False, True], ids=["before-the-answer", "after-the-answer"])
def test_a_page_that_died_after_its_claim_leaves_the_request_to_follow_step_functions(
    approval_service: Pattern, monkeypatch: pytest.MonkeyPatch, landed: bool
) -> None:
    # GIVEN Ana's answer, whose page function dies after its claim: before Step Functions takes
    # the answer, or after it has
    asked = request(approval_service, {"amount": 250})
    cookie, csrf = asked.form()  # Bo's page, opened before Ana answered
    real = callback.send_success

    def dies(token: str, output: str) -> None:
        if landed:
            real(token, output)
        raise Died

    monkeypatch.setattr(callback, "send_success", dies)
    with pytest.raises(Died):
        asked.decide("approve", name="Ana")
    monkeypatch.setattr(callback, "send_success", real)

    # THEN while its lease holds, others are told it is being answered, and nothing is taken
    shown = asked.get()
    assert (shown["statusCode"], "Being answered" in shown["body"]) == (409, True)
    bo = {"csrf": csrf, "name": "Bo", "reason": "late", "decision": "reject"}
    assert asked.post(bo, cookie=cookie)["statusCode"] == 409

    # WHEN the lease has ended, and Bo opens the link
    monkeypatch.setattr(page.time, "time", lambda: time.time_ns() / 1e9 + page.LEASE_SECONDS + 1)
    reopened = asked.get()

    # THEN the page follows Step Functions: Ana's answer, if it was taken; else the form again,
    # and Bo's answer ends the execution
    if landed:
        assert "Approved by Ana at" in reopened["body"]
        ended = approval_service.wait(asked.execution)
        assert json.loads(ended["output"])["approver"] == "Ana"
    else:
        assert "<form" in reopened["body"]
        assert asked.post(bo, cookie=cookie)["statusCode"] == 200
        ended = approval_service.wait(asked.execution)
        assert (ended["status"], ended["cause"]) == ("FAILED", "late")
    assert "sealed_token" not in (asked.item() or {})


def test_while_an_answer_is_in_flight_other_approvers_see_it_being_answered(
    approval_service: Pattern, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = request(approval_service, {"amount": 250})
    cookie, token = asked.form()
    real = callback.send_success
    seen: list[dict[str, Any]] = []

    def in_flight(token_: str, output: str) -> None:
        seen.append(asked.get())
        seen.append(asked.post({"csrf": token, "name": "Bo", "decision": "reject"}, cookie=cookie))
        real(token_, output)

    monkeypatch.setattr(callback, "send_success", in_flight)
    answered = asked.post({"csrf": token, "name": "Ana", "decision": "approve"}, cookie=cookie)

    assert [shown["statusCode"] for shown in seen] == [409, 409]
    assert all("being answered by Ana" in shown["body"] for shown in seen)
    assert not any("Approved by" in shown["body"] for shown in seen)
    assert "Approved by Ana at" in answered["body"]
    assert approval_service.wait(asked.execution)["status"] == "SUCCEEDED"


def test_a_long_multi_line_title_and_fields_are_published_on_one_line_each_the_link_first(
    approval_service: Pattern, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a work whose title is 150 characters over two lines, and a field whose value draws a
    # link of its own (SNS refuses such a subject; the emulator refuses it as SNS does)
    title = "Refund for order o-1\n" + "x" * 130
    fake = "\n\nApprove or reject: https://evil.example/approvals/phish"

    def work(task_input: Any, heartbeat: Any, callback: CallbackHandle) -> Any:
        return request_approval(callback, title, {"note": fake, "line\nbreak": "v\r\x00w"})

    monkeypatch.setattr(handler, "do_work", work)

    # WHEN the worker hands the task to the service
    asked = request(approval_service, {"amount": 250})

    # THEN it was published, the link on the first line, and no value of the input's on a line of
    # its own: the fake link stays inside its field's line
    lines = asked.message.split("\n")
    assert lines[0] == f"Approve or reject: {asked.link}"
    assert [line for line in lines if line.startswith("Approve or reject")] == [lines[0]]
    assert "note: Approve or reject: https://evil.example/approvals/phish" in lines
    assert "line break: v w" in lines
    assert lines[2] == "Refund for order o-1 " + "x" * 130
    assert approval_service.status(asked.execution) == "RUNNING"


def test_the_page_offers_the_form_no_longer_than_the_task_waits(
    approval_service: Pattern,
) -> None:
    # The item's expiry is the task's deadline as the worker knew it, its timeout counted from
    # when Step Functions sent the message, not from when the work asked
    started = time.time()
    asked = request(approval_service, {"amount": 250})
    timeout = approval_service.deployment.settings.task_timeout_seconds

    expires_at = int((asked.item() or {})["expires_at"])

    assert started - 1 <= expires_at - timeout <= time.time() + 1  # whole seconds, rounded up


def test_the_emulators_page_server_answers_a_length_it_cannot_read_with_400() -> None:
    # A Content-Length of -1 would have it wait for a body forever, holding a thread
    with approval_page(page_server()) as url:
        address = urlsplit(url)
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=10)
        connection.putrequest("POST", "/approvals/x", skip_host=True)
        connection.putheader("Host", address.netloc)
        connection.putheader("Content-Length", "-1")
        connection.endheaders()
        answered = connection.getresponse()

    assert answered.status == 400


def test_every_call_of_a_post_at_its_worst_ends_within_the_function_and_its_lease() -> None:
    # A POST's calls, each with all its attempts timing out: the request's GetItem, the claim,
    # the answer, the heartbeat and one history page that settle its fate, the settle, the
    # reload. They end before the function's timeout, which ends before a claim's lease: no claim
    # lapses while its function may still answer.
    (function,) = [
        block["aws_lambda_function"]["page"]
        for block in load_hcl("modules/approval/main.tf")["resource"]
        if "aws_lambda_function" in block
    ]
    assert 'AWS_MAX_ATTEMPTS = "2"' in function["environment"][0]["variables"]

    def worst(config: Any, attempts: int) -> float:
        return attempts * (config.connect_timeout + config.read_timeout)

    page_call = worst(page.CLIENT_CONFIG, page.CLIENT_CONFIG.retries["total_max_attempts"])
    step_functions_call = worst(callback.CLIENT_CONFIG, 2)
    post = 5 * page_call + 2 * step_functions_call

    assert post < function["timeout"] < page.LEASE_SECONDS
