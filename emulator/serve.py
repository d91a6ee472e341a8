"""`make serve`: moto as an AWS endpoint on 127.0.0.1, the pattern deployed in it, the worker
polling its queue, until Ctrl-C or SIGTERM."""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import sys
import threading
import urllib.request

import boto3
from moto.server import ThreadedMotoServer

from emulator.console import WORKER_LOG, worker_output
from emulator.event_source import EventSourceMapping, load_worker
from emulator.pattern import Settings, deploy
from emulator.work_examples import WorkExamples

REGION = "us-east-1"


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def serve(port: int, show_logs: bool = False) -> int:
    if not port_is_free(port):
        print(
            f"Port {port} on 127.0.0.1 is already in use: stop what holds it, or choose another "
            f"port with PORT=5001 make serve (python -m emulator serve --port 5001).",
            file=sys.stderr,
        )
        return 2
    endpoint = f"http://127.0.0.1:{port}"
    # moto's ASL interpreter sends its SQS calls to localhost:$MOTO_PORT; every client here,
    # the worker's included, talks to the endpoint as a user's AWS CLI would.
    os.environ.update(MOTO_PORT=str(port), AWS_ENDPOINT_URL=endpoint)
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())

    with worker_output(show_logs) as screen:
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        try:
            request = urllib.request.Request(
                f"{endpoint}/moto-api/config",
                data=json.dumps({"stepfunctions": {"execute_state_machine": True}}).encode(),
                headers={"Content-Type": "application/json"},
            )
            urllib.request.urlopen(request, timeout=10).close()
            settings = Settings.from_terraform()
            handler = load_worker(settings, REGION)
            sqs = boto3.client("sqs", region_name=REGION)
            sfn = boto3.client("stepfunctions", region_name=REGION)
            deployment = deploy(sqs, sfn, settings)
            with EventSourceMapping(sqs, deployment, handler):
                print(instructions(endpoint, deployment.state_machine_arn, show_logs), file=screen)
                screen.flush()
                stopping.wait()
                print("Stopping ...", file=screen, flush=True)
        finally:
            server.stop()
    return 0


def instructions(endpoint: str, state_machine_arn: str, show_logs: bool) -> str:
    aws = f"aws --endpoint-url {endpoint} --region {REGION}"
    logs = "on stderr" if show_logs else f"in {WORKER_LOG.relative_to(WORKER_LOG.parents[1])}"
    examples = WorkExamples.load()
    executions = state_machine_arn.replace(":stateMachine:", ":execution:")
    return f"""\
The pattern is deployed on the emulator at {endpoint}; the worker is polling its queue.

  state machine  {state_machine_arn}

Try it with the AWS CLI (any credentials do; these are dummies), with the work's examples:

  export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
  {aws} stepfunctions start-execution \\
      --state-machine-arn {state_machine_arn} \\
      --name accepted-1 --input {shlex.quote(json.dumps(examples.accepted))}
  {aws} stepfunctions describe-execution --execution-arn {executions}:accepted-1

  {aws} stepfunctions start-execution \\
      --state-machine-arn {state_machine_arn} \\
      --name rejected-1 --input {shlex.quote(json.dumps(examples.rejected))}
  {aws} stepfunctions describe-execution --execution-arn {executions}:rejected-1

The worker's logs are {logs}. Ctrl-C stops the emulator."""
