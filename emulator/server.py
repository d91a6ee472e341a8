"""moto as an AWS endpoint on 127.0.0.1, executing state machines: what `make serve` and the soak
run, so that other processes (a user's AWS CLI, the worker's execution environments) reach it."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import urllib.request
from typing import TYPE_CHECKING

from moto.server import ThreadedMotoServer

if TYPE_CHECKING:
    from collections.abc import Iterator


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


@contextlib.contextmanager
def moto_server(port: int) -> Iterator[str]:
    """Run moto on `port` until the block ends; yield its URL. Its ASL interpreter sends its SQS
    calls to localhost:$MOTO_PORT, so this process's MOTO_PORT is set to the port."""
    os.environ["MOTO_PORT"] = str(port)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # a line for every request otherwise
    endpoint = f"http://127.0.0.1:{port}"
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
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
