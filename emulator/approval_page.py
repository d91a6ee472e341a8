"""The approval service's page on 127.0.0.1, as API Gateway serves it: each request to
/approvals/<id> becomes the HTTP API's event (payload format 2.0) for the page's own handler
(src/approval/page.py), and its response the HTTP response. `make serve` runs it beside the
emulator's endpoint, the browser tests against moto in the test's process.

Like the endpoint, it answers its own user alone: a request for another Host (DNS rebinding) or
from a page of another origin is refused before the handler sees it."""

from __future__ import annotations

import contextlib
import os
import socketserver
import threading
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from emulator.deployment import approval_links, published_requests

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from botocore.client import BaseClient

    from emulator.deployment import Approval

PREFIX = "/approvals/"
REASONS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
           410: "Gone", 503: "Service Unavailable"}  # fmt: skip


def api_gateway_event(environ: dict[str, Any], link_id: str, body: str) -> dict[str, Any]:
    """The HTTP API's event for the route `METHOD /approvals/{id}`, as API Gateway sends it."""
    method = environ["REQUEST_METHOD"]
    headers = {
        key[5:].replace("_", "-").lower(): value
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["content-type"] = environ["CONTENT_TYPE"]
    headers["x-forwarded-proto"] = "http"
    cookies = [c.strip() for c in headers.pop("cookie", "").split(";") if c.strip()]
    return {
        "version": "2.0",
        "routeKey": f"{method} /approvals/{{id}}",
        "rawPath": environ["PATH_INFO"],
        "rawQueryString": environ.get("QUERY_STRING", ""),
        "cookies": cookies,
        "headers": headers,
        "pathParameters": {"id": link_id},
        "body": body,
        "isBase64Encoded": False,
        "requestContext": {
            "http": {
                "method": method,
                "path": environ["PATH_INFO"],
                "protocol": "HTTP/1.1",
                "sourceIp": environ.get("REMOTE_ADDR", "127.0.0.1"),
            },
            "routeKey": f"{method} /approvals/{{id}}",
            "stage": "$default",
        },
    }


class ApprovalPage:
    """A WSGI application: the page's handler behind the routes API Gateway has, for its user."""

    def __init__(self, handler: Callable[[dict[str, Any]], dict[str, Any]], port: int) -> None:
        self.handler = handler
        self.hosts = {f"127.0.0.1:{port}", f"localhost:{port}"}

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        path, method = environ["PATH_INFO"], environ["REQUEST_METHOD"]
        origin = environ.get("HTTP_ORIGIN")
        if environ.get("HTTP_HOST") not in self.hosts or (
            origin is not None and origin.removeprefix("http://") not in self.hosts
        ):
            return plain(start_response, 403, "This page answers its own user only.")
        link_id = path.removeprefix(PREFIX)
        if not path.startswith(PREFIX) or "/" in link_id or method not in ("GET", "POST"):
            return plain(start_response, 404, "Not found.")
        length = environ.get("CONTENT_LENGTH") or "0"
        if not length.isdigit():  # "-1", "1e3": no length to read (wsgi.input would block)
            return plain(start_response, 400, "Content-Length must be a number of bytes.")
        body = environ["wsgi.input"].read(min(int(length), 100_000)).decode("utf-8", "replace")
        response = self.handler(api_gateway_event(environ, link_id, body))
        status = response["statusCode"]
        headers = list(response.get("headers", {}).items())
        headers += [("Set-Cookie", cookie) for cookie in response.get("cookies", [])]
        start_response(f"{status} {REASONS.get(status, 'Error')}", headers)
        return [response.get("body", "").encode()]


def plain(start_response: Callable[..., Any], status: int, text: str) -> list[bytes]:
    start_response(f"{status} {REASONS[status]}", [("Content-Type", "text/plain; charset=utf-8")])
    return [text.encode() + b"\n"]


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """No line per request: the path holds the link's ID."""


class _ThreadingServer(socketserver.ThreadingMixIn, WSGIServer):
    """A thread per request: a browser keeps a connection open while it loads the next page."""

    daemon_threads = True


def page_server(port: int = 0) -> WSGIServer:
    """The page's server, bound now to 127.0.0.1:`port` (a free port where it is 0 or taken) and
    kept: it serves once approval_page runs it, and no other process can take its port
    meanwhile, as one could between a check that the port is free and a later bind."""
    try:
        server = _ThreadingServer(("127.0.0.1", port), _Quiet)
    except OSError:
        server = _ThreadingServer(("127.0.0.1", 0), _Quiet)
    from approval.page import handle

    server.set_app(ApprovalPage(handle, server.server_port))
    return server


def url_of(server: WSGIServer) -> str:
    """The page's base URL: a request's link is <url>/<link ID>."""
    return f"http://127.0.0.1:{server.server_port}/approvals"


@contextlib.contextmanager
def approval_page(server: WSGIServer) -> Iterator[str]:
    """Serve the page on its server (page_server's) until the block ends, then close it; yield
    its base URL. The handler's AWS calls go where this process's go."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield url_of(server)
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def serving_approvals(
    approval: Approval | None, sqs: BaseClient, server: WSGIServer
) -> Iterator[None]:
    """`make serve`'s approval service, where var.approval is on: its page on `server`, and each
    request's link printed as it is published (a queue subscribed to the topic stands in for the
    approver's mailbox). The page's handler reads the table this process's clients reach."""
    if approval is None:
        server.server_close()
        yield
        return
    from approval import page

    os.environ["APPROVAL_TABLE_NAME"] = approval.table_name
    page.logger.setLevel("WARNING")  # the user's screen: a decision shows in the execution
    links = approval_links(sqs, approval)
    stopped = threading.Event()

    def print_links() -> None:
        while not stopped.is_set():
            for published in published_requests(sqs, links, wait_seconds=1):
                print(
                    f"Approval requested: {published.title} (execution {published.execution})\n"
                    f"  {published.link}",
                    flush=True,
                )

    printer = threading.Thread(target=print_links, daemon=True)
    with approval_page(server):
        printer.start()
        try:
            yield
        finally:
            stopped.set()
            printer.join(timeout=5)
