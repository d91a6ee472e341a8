"""The approval page, behind the service's HTTP API (payload format 2.0): GET /approvals/{id}
shows the request and a form, and answers nothing; POST /approvals/{id} answers the task with the
approver's decision, through the worker's own callback code.

A GET never changes anything, so a mail scanner or a link preview that opens the link decides
nothing. A POST must carry the form's CSRF token, the same as the cookie the GET set (a page of
another site can make a browser post, but cannot read that cookie or the page). The decision is
claimed in the table before the answer is sent (so two approvers cannot both answer), and the
token is removed only once Step Functions has taken the answer, or said the task no longer waits;
an answer that fails otherwise (throttled) leaves the request as it was, to try again.

Without sign-in the link is a bearer secret: whoever has it may decide, under a name they type.
With var.approval's jwt, API Gateway admits only requests with a valid token of the issuer, and
this page only the listed approvers, recording the approver's claim.
"""

from __future__ import annotations

import base64
import functools
import hmac
import html
import json
import os
import secrets
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import boto3
from aws_lambda_powertools import Logger

from worker.approval import execution_name, link_key
from worker.callback import CLIENT_CONFIG, TokenNoLongerLive
from worker.handoff import CallbackHandle

if TYPE_CHECKING:
    from botocore.client import BaseClient

logger = Logger()
CSRF_COOKIE = "approval_csrf"
MAX_REASON = 1000
MAX_NAME = 200
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


def table() -> tuple[BaseClient, str]:
    """The requests' table, and a client for it."""
    return dynamodb(), os.environ["APPROVAL_TABLE_NAME"]


def approvers() -> tuple[frozenset[str], str] | None:
    """The listed approvers and the JWT claim that names one, when sign-in is on."""
    listed = os.environ.get("APPROVERS")
    if not listed:
        return None
    return frozenset(json.loads(listed)), os.environ.get("APPROVER_CLAIM", "email")


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handle(event)


def handle(event: dict[str, Any]) -> dict[str, Any]:
    """The response to one request of the HTTP API (payload format 2.0)."""
    link_id = (event.get("pathParameters") or {}).get("id", "")
    method = event["requestContext"]["http"]["method"]
    request = load(link_id)
    if request is None:
        return page(404, "Unknown link", "<p>This link is not known: it may have expired.</p>")
    if method == "POST":
        return answer(event, link_id, request)
    return show(event, link_id, request)


def load(link_id: str) -> dict[str, Any] | None:
    if not link_id or len(link_id) > 100:
        return None
    client, name = table()
    item = client.get_item(
        TableName=name, Key={"id": {"S": link_key(link_id)}}, ConsistentRead=True
    )
    return {k: next(iter(v.values())) for k, v in item["Item"].items()} if "Item" in item else None


def show(event: dict[str, Any], link_id: str, request: dict[str, Any]) -> dict[str, Any]:
    if "decision" in request:
        return decided(request)
    if expired(request):
        return expired_page(request)
    csrf = secrets.token_urlsafe(32)
    return page(
        200, request["title"], form(request, csrf), cookie=csrf_cookie(event, link_id, csrf)
    )


def answer(event: dict[str, Any], link_id: str, request: dict[str, Any]) -> dict[str, Any]:
    if "decision" in request:
        return decided(request, not_recorded=True)
    if expired(request):
        return expired_page(request)
    posted = {k: v[0] for k, v in parse_qs(body(event), max_num_fields=10).items()}
    if not csrf_matches(event, posted.get("csrf", "")):
        logger.warning("A POST without the page's CSRF token was refused")
        return page(
            403,
            "Not answered",
            "<p>This answer did not come from this request's page: open the link again and "
            "answer there.</p>",
        )
    who = approver(event, posted)
    if who is None:
        return page(403, "Not an approver", "<p>You are not one of this request's approvers.</p>")
    if not who:
        return page(400, "Not answered", "<p>Give your name, then approve or reject.</p>")
    decision = posted.get("decision")
    if decision not in ("approve", "reject"):
        return page(400, "Not answered", "<p>Approve or reject the request.</p>")
    reason = posted.get("reason", "").strip()[:MAX_REASON]
    decided_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if not claim(link_id, decision, who, reason, decided_at):  # another approver was first
        return decided(load(link_id) or request, not_recorded=True)
    handle = CallbackHandle(request["token"], request.get("execution_arn", ""))
    try:
        if decision == "approve":
            output = {"approved": True, "approver": who, "reason": reason, "decidedAt": decided_at}
            handle.succeed(output)
        else:
            handle.fail("Rejected", reason or f"rejected by {who}")
    except TokenNoLongerLive:
        settle(link_id, expired=True)
        return expired_page(request)
    except Exception:
        release(link_id)  # the request stays as it was: the approver may try again
        logger.exception("The answer was not taken: the request is left as it was")
        return page(
            503,
            "Not answered yet",
            "<p>Step Functions did not take the answer this time: nothing was decided. Try again "
            "in a moment.</p>",
        )
    settle(link_id, expired=False)
    logger.info("Answered", extra={"decision": decision, "execution_arn": handle.execution_arn})
    return decided(load(link_id) or request)


def claim(link_id: str, decision: str, who: str, reason: str, decided_at: str) -> bool:
    """Record the decision, if no one has yet: the claim that makes it this approver's."""
    client, name = table()
    try:
        client.update_item(
            TableName=name,
            Key={"id": {"S": link_key(link_id)}},
            UpdateExpression="SET decision = :d, approver = :a, reason = :r, decided_at = :t",
            ConditionExpression="attribute_exists(#token) AND attribute_not_exists(decision)",
            ExpressionAttributeNames={"#token": "token"},
            ExpressionAttributeValues={
                ":d": {"S": decision},
                ":a": {"S": who},
                ":r": {"S": reason},
                ":t": {"S": decided_at},
            },
        )
    except client.exceptions.ConditionalCheckFailedException:
        return False
    return True


def settle(link_id: str, expired: bool) -> None:
    """The answer was taken, or the task no longer waits: the token goes, the decision stays."""
    client, name = table()
    update = "REMOVE #token" + (" SET decision = :expired" if expired else "")
    values = {":expired": {"S": "expired"}} if expired else None
    client.update_item(
        TableName=name,
        Key={"id": {"S": link_key(link_id)}},
        UpdateExpression=update,
        ExpressionAttributeNames={"#token": "token"},
        **({"ExpressionAttributeValues": values} if values else {}),
    )


def release(link_id: str) -> None:
    """Undo a claim whose answer was not taken."""
    client, name = table()
    client.update_item(
        TableName=name,
        Key={"id": {"S": link_key(link_id)}},
        UpdateExpression="REMOVE decision, approver, reason, decided_at",
    )


def expired(request: dict[str, Any]) -> bool:
    return time.time() >= int(request["expires_at"])


def approver(event: dict[str, Any], posted: dict[str, str]) -> str | None:
    """Who decides: the signed-in approver's claim (None if not a listed approver), or without
    sign-in the name typed in the form (empty if none)."""
    listed = approvers()
    if listed is None:
        return " ".join(posted.get("name", "").split())[:MAX_NAME]
    names, claim_name = listed
    claims = ((event["requestContext"].get("authorizer") or {}).get("jwt") or {}).get("claims", {})
    who = str(claims.get(claim_name, ""))
    return who if who in names else None


def body(event: dict[str, Any]) -> str:
    text = event.get("body") or ""
    if event.get("isBase64Encoded"):
        text = base64.b64decode(text).decode("utf-8", "replace")
    return text[:10_000]


def csrf_cookie(event: dict[str, Any], link_id: str, csrf: str) -> str:
    secure = "" if event.get("headers", {}).get("x-forwarded-proto") == "http" else "; Secure"
    path = event.get("rawPath") or f"/approvals/{link_id}"
    return f"{CSRF_COOKIE}={csrf}; Path={path}; HttpOnly; SameSite=Strict{secure}"


def csrf_matches(event: dict[str, Any], posted: str) -> bool:
    cookies = [c.split("=", 1) for c in event.get("cookies") or [] if "=" in c]
    sent = next((value for name, value in cookies if name.strip() == CSRF_COOKIE), "")
    return bool(sent) and bool(posted) and hmac.compare_digest(sent, posted)


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
