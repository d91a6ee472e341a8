"""The job runner, as the checks run it in place of the real one: it takes a job posted to
/jobs, heartbeats its task every 0.2 s while the job runs (`arguments.seconds`), then answers with
the job's result; a job with `arguments.fails` fails with JobFailed; one with `arguments.dies`
stops heartbeating and never answers, as a runner that died."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from worker.contract import CallbackHandle

if TYPE_CHECKING:
    from collections.abc import Iterator

HEARTBEAT_EVERY = 0.2


def run(job: dict[str, Any]) -> None:
    task = CallbackHandle(job["taskToken"])
    arguments = job.get("arguments", {})
    if arguments.get("dies"):
        return
    deadline = time.monotonic() + float(arguments.get("seconds", 0))
    while time.monotonic() < deadline:
        task.heartbeat()
        time.sleep(HEARTBEAT_EVERY)
    if arguments.get("fails"):
        task.fail("JobFailed", arguments["fails"])
    else:
        task.succeed({"job": job["job"], "rows": int(100 * float(arguments.get("seconds", 0)))})


class Jobs(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        job = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        threading.Thread(target=run, args=(job,), daemon=True).start()
        self.send_response(202)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@contextlib.contextmanager
def running() -> Iterator[dict[str, str]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Jobs)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield {"JOB_RUNNER_URL": f"http://127.0.0.1:{server.server_port}"}
    finally:
        server.shutdown()
        server.server_close()
