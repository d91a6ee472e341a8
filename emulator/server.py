"""moto as an AWS endpoint on 127.0.0.1, executing state machines: what `make serve` and the soak
run, so that other processes (a user's AWS CLI, the worker's execution environments) reach it.

It answers only its user: moto itself answers any web page (CORS headers for every origin) and any
Host. A page the user opens could then start executions, read their histories, task tokens
included, and answer them; a host name of the page's that resolves to 127.0.0.1 (DNS rebinding)
could do the same. So a request that names another Host than the server's own address, or that
comes from a page (an Origin header: browsers send it, AWS SDKs and CLIs do not), is refused, and
no response carries a CORS header."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import urllib.request
from typing import TYPE_CHECKING

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from typing import Any


def port_is_free(port: int) -> bool:
    """Whether nothing listens on the port. A port whose last server has just stopped is free: its
    closed connections linger in TIME_WAIT, which the server's own socket, like this probe, may
    bind over (SO_REUSEADDR); a socket that listens may not be bound over."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class OnlyItsUser:
    """WSGI middleware in front of moto: refuses (403) a request for another Host than the
    server's own address, or with an Origin, and takes moto's CORS headers off every response."""

    def __init__(self, app: Callable[..., Iterable[bytes]], port: int) -> None:
        self.app = app
        self.hosts = {f"127.0.0.1:{port}", f"localhost:{port}"}

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("HTTP_HOST") not in self.hosts or "HTTP_ORIGIN" in environ:
            start_response("403 Forbidden", [("Content-Type", "text/plain; charset=utf-8")])
            return [b"This endpoint answers its own user's AWS SDK and CLI only.\n"]

        def without_cors(status: str, headers: list[tuple[str, str]], *rest: Any) -> Any:
            kept = [(k, v) for k, v in headers if not k.lower().startswith("access-control-")]
            return start_response(status, kept, *rest)

        return self.app(environ, without_cors)


class _Server(ThreadedMotoServer):
    """moto's threaded server, behind OnlyItsUser."""

    def _server_entry(self) -> None:
        app = OnlyItsUser(DomainDispatcherApplication(create_backend_app), self._port)
        self._server = make_server(
            self._ip_address, self._port, app, True, request_handler=MotoRequestHandler
        )
        self._server_ready_event.set()
        self._server.serve_forever()


@contextlib.contextmanager
def moto_server(port: int) -> Iterator[str]:
    """Run moto on `port` until the block ends; yield its URL. Its ASL interpreter sends its SQS
    calls to localhost:$MOTO_PORT, so this process's MOTO_PORT is set to the port."""
    os.environ["MOTO_PORT"] = str(port)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # a line for every request otherwise
    endpoint = f"http://127.0.0.1:{port}"
    server = _Server(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        # moto's state lives in the process: a server started earlier in it left its own behind.
        reset = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
        urllib.request.urlopen(reset, timeout=10).close()
        request = urllib.request.Request(
            f"{endpoint}/moto-api/config",
            data=json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode(),
            headers={"Content-Type": "application/json"},
        )
        urllib.request.urlopen(request, timeout=10).close()
        yield endpoint
    finally:
        server.stop()
