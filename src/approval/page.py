"""The approval page, behind the service's HTTP API (payload format 2.0): GET /approvals/{id}
shows the request and a form, and answers nothing; POST /approvals/{id} answers the task with the
approver's decision, through the worker's own callback code.

A GET never answers a task, so a mail scanner or a link preview that opens the link decides
nothing. A POST must carry the request's own CSRF value (kept in its item, shown in its form and
set as a cookie by the GET), and must not come from another site (Sec-Fetch-Site, Origin).

The decision is claimed in the table before the answer is sent, so two approvers cannot both
answer: a claim is a lease (LEASE_SECONDS, longer than the function can run), and while it holds,
others are told the request is being answered. The record then follows what Step Functions did:
the token goes once Step Functions has taken the answer; an answer whose fate is unknown (a retry
of a call that had landed, a timeout, a function that died after its claim) is settled by the
task's events in the execution's history: decided as answered, expired if the task timed out,
and released, to be answered again, if the task still waits.

Without sign-in the link is a bearer secret: whoever has it may decide, under a name they type.
With var.approval's jwt, API Gateway admits only requests with a valid token of the issuer, and
this page only the listed approvers, to see a request and to decide it, named by a claim the
identity provider vouches for (`sub`; `email` only when `email_verified` is true).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hmac
import html
import json
import os
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import boto3
from aws_lambda_powertools import Logger
from botocore.config import Config

from worker import callback
from worker.approval import execution_name, request_key, unseal
from worker.callback import TokenNoLongerLive
from worker.handoff import CallbackHandle

if TYPE_CHECKING:
    from botocore.client import BaseClient

logger = Logger()
CSRF_COOKIE = "approval_csrf"
MAX_REASON = 1000
MAX_NAME = 200
MAX_FORM_FIELDS = 10
# The page function's own calls: two attempts each, short timeouts. With the answer's and the
# heartbeat's (the worker's callback client, AWS_MAX_ATTEMPTS = 2: modules/approval/main.tf) a
# POST's calls end within the function's 150 s timeout, and a claim's lease outlasts any run of
# the function (tests/pattern/test_approval.py adds them up).
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 2}, connect_timeout=2, read_timeout=4
)
LEASE_SECONDS = 180
# Where a POST may come from (Sec-Fetch-Site): the page itself, or the browser's own navigation.
SAME_SITE = frozenset({"same-origin", "none"})
HEADERS = {
    "content-type": "text/html; charset=utf-8",
    "cache-control": "no-store",
    # No script, no frame, no request elsewhere; the form posts to this page alone.
    "content-security-policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    # The link is a secret: no other site may see it (the page links to none, and loads nothing).
    "referrer-policy": "same-origin",
    "x-content-type-options": "nosniff",
}


@functools.cache
def dynamodb() -> BaseClient:
    return boto3.client("dynamodb", config=CLIENT_CONFIG)


@functools.cache
def history() -> BaseClient:
    """Step Functions, to read a task's events (what became of an answer)."""
    return boto3.client("stepfunctions", config=CLIENT_CONFIG)


def table() -> tuple[BaseClient, str]:
    """The requests' table, and a client for it."""
    return dynamodb(), os.environ["APPROVAL_TABLE_NAME"]


def approvers() -> tuple[frozenset[str], str] | None:
    """The listed approvers and the JWT claim that names one, when sign-in is on."""
    listed = os.environ.get("APPROVERS")
    if not listed:
        return None
    return frozenset(json.loads(listed)), os.environ.get("APPROVER_CLAIM", "sub")


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event)


NOT_AN_APPROVER = (403, "Not an approver", "<p>You are not one of this request's approvers.</p>")


def handle(event: dict[str, Any]) -> dict[str, Any]:
    """The response to one request of the HTTP API (payload format 2.0)."""
    link_id = (event.get("pathParameters") or {}).get("id", "")
    method = event["requestContext"]["http"]["method"]
    if approvers() is not None and signed_in_approver(event) is None:
        return page(*NOT_AN_APPROVER)  # with sign-in, only an approver sees a request at all
    request = load(link_id)
    if request is None:
        return page(404, "Unknown link", "<p>This link is not known: it may have expired.</p>")
    if claim_lapsed(request):  # an answer whose fate is unknown: as Step Functions says
        request = settle_as_step_functions_says(link_id, request)
    if method == "POST":
        return answer(event, link_id, request)
    return show(event, link_id, request)


def load(link_id: str) -> dict[str, Any] | None:
    if not link_id or len(link_id) > 100:
        return None
    client, name = table()
    item = client.get_item(
        TableName=name, Key={"id": {"S": request_key(link_id)}}, ConsistentRead=True
    )
    return {k: next(iter(v.values())) for k, v in item["Item"].items()} if "Item" in item else None


def show(event: dict[str, Any], link_id: str, request: dict[str, Any]) -> dict[str, Any]:
    if "decision" in request:
        return decided(request)
    if expired(request):
        return expired_page(request)
    csrf = request["csrf"]
    return page(
        200, request["title"], form(request, csrf), cookie=csrf_cookie(event, link_id, csrf)
    )


def answer(event: dict[str, Any], link_id: str, request: dict[str, Any]) -> dict[str, Any]:
    if "decision" in request:
        return decided(request, not_recorded=True)
    if expired(request):
        return expired_page(request)
    if not same_site(event):
        logger.warning("A POST from another site was refused")
        return page(
            403,
            "Not answered",
            "<p>This answer came from another site: open the link and answer on its page.</p>",
        )
    try:
        fields = parse_qs(body(event), max_num_fields=MAX_FORM_FIELDS)
    except ValueError:  # more fields than the form has
        return page(400, "Not answered", "<p>This is not the request's form.</p>")
    posted = {k: v[0] for k, v in fields.items()}
    if not csrf_matches(event, request, posted.get("csrf", "")):
        logger.warning("A POST without the request's CSRF value was refused")
        return page(
            403,
            "Not answered",
            "<p>This answer did not come from this request's page: open the link again and "
            "answer there.</p>",
        )
    who = approver(event, posted)
    if who is None:
        return page(*NOT_AN_APPROVER)
    if not who:
        return page(400, "Not answered", "<p>Give your name, then approve or reject.</p>")
    decision = posted.get("decision")
    if decision not in ("approve", "reject"):
        return page(400, "Not answered", "<p>Approve or reject the request.</p>")
    reason = posted.get("reason", "").strip()[:MAX_REASON]
    decided_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    claimed_until = claim(link_id, decision, who, reason, decided_at)
    if claimed_until is None:  # another approver was first
        return decided(load(link_id) or request, not_recorded=True)
    handle = CallbackHandle(
        unseal(link_id, request["sealed_token"]), request.get("execution_arn", "")
    )
    try:
        if decision == "approve":
            output = {"approved": True, "approver": who, "reason": reason, "decidedAt": decided_at}
            handle.succeed(output)
        else:
            handle.fail("Rejected", reason or f"rejected by {who}")
    except Exception as failure:
        # Whether Step Functions took it is unknown (a retry of a call that landed is refused as
        # if the task had ended; a timeout says nothing): the task's events say.
        logger.warning(
            "The answer's fate is unknown: Step Functions' history settles it",
            extra={"reason": callback.describe(failure)},
        )
        settled = settle_as_step_functions_says(
            link_id, {**request, "claimed_until": str(claimed_until)}
        )
        if "decision" not in settled:
            return page(
                503,
                "Not answered yet",
                "<p>Step Functions did not take the answer this time: nothing was decided. Try "
                "again in a moment.</p>",
            )
        return decided(settled)
    settle(link_id, "answered")
    logger.info("Answered", extra={"decision": decision, "execution_arn": handle.execution_arn})
    return decided(load(link_id) or request)


def claim(link_id: str, decision: str, who: str, reason: str, decided_at: str) -> int | None:
    """Record the decision, if no one has yet, as a lease: the claim that makes it this
    approver's, until LEASE_SECONDS from now. When the lease ends, or None if another holds one
    or the request is settled."""
    client, name = table()
    until = int(time.time()) + LEASE_SECONDS
    try:
        client.update_item(
            TableName=name,
            Key={"id": {"S": request_key(link_id)}},
            UpdateExpression=(
                "SET decision = :d, approver = :a, reason = :r, decided_at = :t, "
                "claimed_until = :until"
            ),
            ConditionExpression="attribute_exists(sealed_token) AND attribute_not_exists(decision)",
            ExpressionAttributeValues={
                ":d": {"S": decision},
                ":a": {"S": who},
                ":r": {"S": reason},
                ":t": {"S": decided_at},
                ":until": {"N": str(until)},
            },
        )
    except client.exceptions.ConditionalCheckFailedException:
        return None
    return until


def claim_lapsed(request: dict[str, Any]) -> bool:
    """A claim whose lease has ended unsettled: its function died, or gave up, mid-answer."""
    until = request.get("claimed_until")
    return "sealed_token" in request and until is not None and time.time() >= int(until)


def being_answered(request: dict[str, Any]) -> bool:
    """A claim not yet settled (still within its lease, or past it while Step Functions could
    not be asked): its decision is not yet what Step Functions did."""
    return "sealed_token" in request and "decision" in request


def settle(link_id: str, how: str) -> None:
    """The task was answered ("answered": the claim's decision stands) or stopped waiting
    ("expired"): the sealed token and the lease go, the decision stays."""
    client, name = table()
    expired = how == "expired"
    client.update_item(
        TableName=name,
        Key={"id": {"S": request_key(link_id)}},
        UpdateExpression="REMOVE sealed_token, claimed_until"
        + (" SET decision = :expired" if expired else ""),
        **({"ExpressionAttributeValues": {":expired": {"S": "expired"}}} if expired else {}),
    )


def release(link_id: str, claimed_until: str) -> None:
    """Undo a claim whose answer Step Functions did not take: the request waits again."""
    client, name = table()
    with contextlib.suppress(client.exceptions.ConditionalCheckFailedException):
        client.update_item(
            TableName=name,
            Key={"id": {"S": request_key(link_id)}},
            UpdateExpression="REMOVE decision, approver, reason, decided_at, claimed_until",
            ConditionExpression="claimed_until = :until",  # that claim, not a newer one
            ExpressionAttributeValues={":until": {"N": claimed_until}},
        )


def settle_as_step_functions_says(link_id: str, request: dict[str, Any]) -> dict[str, Any]:
    """Settle a claim whose answer's fate is unknown by what the task's events say: answered (the
    claim's decision stands), timed out (expired), or still waiting (the claim is released).
    Returns the request as it now is; left as it was if Step Functions cannot be asked."""
    try:
        token = unseal(link_id, request["sealed_token"])
        fate = task_fate(request.get("execution_arn", ""), token)
    except Exception as failure:
        logger.warning(
            "Step Functions could not be asked: the claim stands until its lease ends",
            extra={"reason": callback.describe(failure)},
        )
        return load(link_id) or request
    logger.info("An answer's fate settled by the task's events", extra={"fate": fate})
    if fate == "waiting":
        release(link_id, request["claimed_until"])
    else:
        settle(link_id, "expired" if fate == "expired" else "answered")
    return load(link_id) or request


def task_fate(execution_arn: str, token: str) -> str:
    """What became of the task this token belongs to: "waiting" if Step Functions takes a
    heartbeat for it (only a task that waits has one); else "expired" if its events say it timed
    out, or its execution ended without an answer, and "answered" if they say it was answered,
    or say nothing yet (an event can come a moment after the call that made it; Step Functions
    answers TaskTimedOut for an answered task as for a timed-out one)."""
    try:
        CallbackHandle(token, execution_arn).heartbeat()
    except TokenNoLongerLive:
        events = task_events(execution_arn, token)
        return "expired" if events & ENDED and not events & ANSWERED else "answered"
    return "waiting"


ANSWERED = frozenset({"TaskSucceeded", "TaskFailed"})
ENDED = frozenset({"TaskTimedOut", "ExecutionTimedOut", "ExecutionAborted"})


def task_events(execution_arn: str, token: str) -> set[str]:
    """The types of the events of this token's task (those that follow its TaskScheduled), and of
    the execution's end: one GetExecutionHistory page per 1,000 events."""
    task: set[int] = set()
    kinds: set[str] = set()
    pages = history().get_paginator("get_execution_history")
    for events in pages.paginate(executionArn=execution_arn, includeExecutionData=True):
        for event in events["events"]:
            kind = event["type"]
            details = event.get("taskScheduledEventDetails", {})
            if kind == "TaskScheduled" and token in details.get("parameters", ""):
                task.add(event["id"])
            elif event.get("previousEventId") in task or kind in ENDED:
                task.add(event["id"])
                kinds.add(kind)
    return kinds


def expired(request: dict[str, Any]) -> bool:
    return time.time() >= int(request["expires_at"])


def signed_in_approver(event: dict[str, Any]) -> str | None:
    """The signed-in approver, as the identity provider vouches for them: the value of the named
    claim if it is a listed approver's, and, for `email`, only if `email_verified` is true (an
    address a user typed into their profile is no proof). None otherwise."""
    listed = approvers()
    if listed is None:
        return None
    names, claim_name = listed
    claims = ((event["requestContext"].get("authorizer") or {}).get("jwt") or {}).get("claims", {})
    who = str(claims.get(claim_name, ""))
    if claim_name == "email" and str(claims.get("email_verified", "")).lower() != "true":
        return None
    return who if who in names else None


def approver(event: dict[str, Any], posted: dict[str, str]) -> str | None:
    """Who decides: the signed-in approver (None if not one), or without sign-in the name typed
    in the form (empty if none)."""
    if approvers() is None:
        return " ".join(posted.get("name", "").split())[:MAX_NAME]
    return signed_in_approver(event)


def body(event: dict[str, Any]) -> str:
    text = event.get("body") or ""
    if event.get("isBase64Encoded"):
        text = base64.b64decode(text).decode("utf-8", "replace")
    return text[:10_000]


def csrf_cookie(event: dict[str, Any], link_id: str, csrf: str) -> str:
    secure = "" if event.get("headers", {}).get("x-forwarded-proto") == "http" else "; Secure"
    path = event.get("rawPath") or f"/approvals/{link_id}"
    return f"{CSRF_COOKIE}={csrf}; Path={path}; HttpOnly; SameSite=Strict{secure}"


def csrf_matches(event: dict[str, Any], request: dict[str, Any], posted: str) -> bool:
    """The form's value and the cookie's are both this request's own (kept in its item): a value
    a client chose, even the same in both, is refused."""
    cookies = [c.split("=", 1) for c in event.get("cookies") or [] if "=" in c]
    sent = next((value for name, value in cookies if name.strip() == CSRF_COOKIE), "")
    kept = request.get("csrf", "")
    return bool(kept) and all(hmac.compare_digest(kept, value) for value in (sent, posted))


def same_site(event: dict[str, Any]) -> bool:
    """The POST comes from this page's own site, as the browser says: Sec-Fetch-Site (which a
    page cannot set) is same-origin, or absent; an Origin, when sent, is this host's."""
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    site = headers.get("sec-fetch-site")
    if site is not None and site not in SAME_SITE:
        return False
    origin = headers.get("origin")
    if origin is None:
        return True
    return origin != "null" and urlsplit(origin).netloc == headers.get("host", "")


def form(request: dict[str, Any], csrf: str) -> str:
    fields = json.loads(request.get("fields", "{}"))
    rows = "".join(
        f"<tr><th>{html.escape(name)}</th><td>{html.escape(value)}</td></tr>"
        for name, value in fields.items()
    )
    name = (
        ""
        if approvers()
        else "<label>Your name (recorded with the decision; whoever has this link may answer)"
        f'<input name="name" required maxlength="{MAX_NAME}"></label>'
    )
    execution = execution_name(request.get("execution_arn", ""))
    return (
        f"<p>Execution <code>{html.escape(execution)}</code></p><table>{rows}</table>"
        f'<form method="post"><input type="hidden" name="csrf" value="{csrf}">{name}'
        f'<label>Reason<textarea name="reason" maxlength="{MAX_REASON}"></textarea></label>'
        '<button name="decision" value="approve">Approve</button> '
        '<button name="decision" value="reject">Reject</button></form>'
    )


def decided(request: dict[str, Any], not_recorded: bool = False) -> dict[str, Any]:
    """The decision's page; `not_recorded`: for an approver whose answer came after it (a page
    opened before the decision), who must not take it for their own."""
    if request.get("decision") == "expired":
        return expired_page(request)
    if being_answered(request):
        return page(
            409,
            "Being answered",
            f"<p>This request is being answered by {html.escape(request.get('approver', ''))}: "
            "open the link again in a moment to see the decision.</p>",
        )
    verb = "Approved" if request.get("decision") == "approve" else "Rejected"
    reason = request.get("reason") or ""
    said = f"<p>Reason: {html.escape(reason)}</p>" if reason else ""
    late = (
        "<p><strong>Your answer was not recorded</strong>: this request had been decided "
        "already.</p>"
        if not_recorded
        else ""
    )
    return page(
        409 if not_recorded else 200,
        "Not recorded" if not_recorded else verb,
        f"{late}<p>{verb} by {html.escape(request.get('approver', ''))} at "
        f"{html.escape(request.get('decided_at', ''))}.</p>{said}"
        "<p>This request is decided: nothing more can be answered here.</p>",
    )


def expired_page(request: dict[str, Any]) -> dict[str, Any]:
    at = datetime.fromtimestamp(int(request["expires_at"]), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return page(
        410,
        "Expired",
        f"<p>This request expired (at {at} at the latest): the task no longer waits for an "
        "answer, and nothing was answered here.</p>",
    )


def page(status: int, title: str, content: str, cookie: str | None = None) -> dict[str, Any]:
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><main><h1>{html.escape(title)}</h1>{content}</main></body></html>"
    )
    response: dict[str, Any] = {"statusCode": status, "headers": HEADERS, "body": document}
    if cookie:
        response["cookies"] = [cookie]
    return response


STYLE = (
    "body{font:1rem/1.5 system-ui,sans-serif;margin:0;padding:1rem;color:#111}"
    "main{max-width:36rem;margin:auto}table{border-collapse:collapse;margin:1rem 0;width:100%}"
    "th,td{text-align:left;padding:.4rem;border-bottom:1px solid #ddd;vertical-align:top}"
    # A name breaks between words (or, a word too long for the screen, within it); a value
    # anywhere: a phone's screen is narrow.
    "th{overflow-wrap:break-word;width:35%}td{overflow-wrap:anywhere}code{overflow-wrap:anywhere}"
    "label{display:block;margin:.8rem 0}input,textarea{display:block;width:100%;font:inherit;"
    "padding:.4rem;box-sizing:border-box}textarea{min-height:5rem}"
    "button{font:inherit;padding:.6rem 1.2rem;margin:.4rem .4rem 0 0}"
)
