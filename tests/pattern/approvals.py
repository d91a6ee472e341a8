"""What the approval service's tests share: a request as its approver receives it (its link, the
page called as API Gateway calls it), how to make one, and how to move its expiry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from approval import page
from emulator.approval_page import api_gateway_event
from emulator.deployment import approval_links, published_requests
from worker.approval import request_key

if TYPE_CHECKING:
    from tests.pattern.helpers import Pattern


@dataclass
class Request:
    """An approval request, as its approver receives it: the execution waiting, and the link."""

    pattern: Pattern
    execution: str
    link: str
    message: str

    @property
    def link_id(self) -> str:
        return self.link.rsplit("/", 1)[1]

    def get(self, **event: Any) -> dict[str, Any]:
        return page.handle(self.event("GET", "", **event))

    def post(self, fields: dict[str, str], cookie: str | None = None, **event: Any) -> Any:
        return page.handle(self.event("POST", urlencode(fields), cookie=cookie, **event))

    def event(self, method: str, body: str, cookie: str | None = None, **extra: Any) -> Any:
        environ = {
            "REQUEST_METHOD": method,
            "PATH_INFO": f"/approvals/{self.link_id}",
            "HTTP_HOST": "127.0.0.1:8000",
            **({"HTTP_COOKIE": cookie} if cookie else {}),
        }
        event = api_gateway_event(environ, self.link_id, body)
        event["headers"].pop("x-forwarded-proto")  # as API Gateway sends it: over HTTPS
        event["requestContext"].update(extra)
        return event

    def form(self, **event: Any) -> tuple[str, str]:
        """The cookie and the CSRF token a GET of the page gives its approver."""
        shown = self.get(**event)
        (cookie,) = shown["cookies"]
        token = cookie.split(";")[0].split("=", 1)[1]
        assert f'name="csrf" value="{token}"' in shown["body"]
        return cookie.split(";")[0], token

    def decide(self, decision: str, name: str = "Ana", reason: str = "") -> dict[str, Any]:
        cookie, token = self.form()
        fields = {"csrf": token, "name": name, "reason": reason, "decision": decision}
        return self.post(fields, cookie=cookie)

    def item(self) -> dict[str, Any] | None:
        return page.load(self.link_id)


def request(pattern: Pattern, task_input: Any) -> Request:
    """Start an execution, let the worker run the work (which asks for approval), and read the
    link as the topic's subscriber receives it."""
    assert pattern.deployment.approval is not None
    links = approval_links(pattern.aws.sqs, pattern.deployment.approval)
    execution = pattern.start(task_input)
    assert pattern.invoke(pattern.receive(1)) == {"batchItemFailures": []}
    (published,) = published_requests(pattern.aws.sqs, links, wait_seconds=1)
    return Request(pattern, execution, published.link, published.text)


def expires(asked: Request, at: float) -> None:
    """Set when the request's item expires (its task's timeout, as the worker wrote it)."""
    client, table = page.table()
    client.update_item(
        TableName=table,
        Key={"id": {"S": request_key(asked.link_id)}},
        UpdateExpression="SET expires_at = :at",
        ExpressionAttributeValues={":at": {"N": str(int(at))}},
    )
