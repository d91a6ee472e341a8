"""`make bench`: what the pattern costs, each figure against a baseline measured in the same run.

  cold start   import the worker and make its clients, vs importing boto3 and making a Step
               Functions and a DynamoDB client (the fastest of 15 new processes each); and the
               same with Powertools' Tracer on, which the worker does not use (var.tracing)
  per record   a 10-record batch through lambda_handler, vs a plain loop making the same calls
               (the heartbeat that proves the task live, a conditional put, the work, an update,
               the callback; stubbed clients: no network); the fastest of 7 processes each; and
               the worker with that heartbeat vs without it: what the proof costs here (on AWS
               add one Step Functions round trip per record)
  end to end   N executions through the emulator's worker, vs making the same calls straight
               from the queue (moto's own baseline), N = 100 and 400
  memory       peak RSS of a process that runs one 10-record batch, vs the plain loop's
Figures go to the screen and to build/bench.json.
"""

from __future__ import annotations

import functools
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from emulator.deployment import Settings, worker_environment
from emulator.terraform import ROOT, work_folder
from emulator.watch import wait_for
from emulator.work_examples import WorkExamples

REGION = "us-east-1"


@functools.cache
def environment() -> dict[str, str]:
    """The worker's environment as the module sets it (Terraform's defaults), for the children."""
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(map(str, (work_folder(), ROOT / "src", ROOT))),
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        **worker_environment(Settings.from_terraform()),
        "TASK_QUEUE_URL": f"https://sqs.{REGION}.amazonaws.com/123456789012/bench-tasks",
    }


# The worker's three clients, made before its first record is done: Step Functions' (callback),
# DynamoDB's (made at import, for idempotency) and SQS's (the receipt check).
COLD_BASELINE = """
import time; t = time.perf_counter()
import boto3; boto3.client("stepfunctions"); boto3.client("dynamodb"); boto3.client("sqs")
print(time.perf_counter() - t)
"""
COLD_WORKER = """
import time; t = time.perf_counter()
import worker.handler; worker.handler.callback.client(); worker.handler.receipts.task_queue()
print(time.perf_counter() - t)
"""
# What a module-level `Tracer()` (patching boto3 for a subsegment per call) would add, in Lambda.
COLD_WORKER_TRACED = """
import os, time; t = time.perf_counter()
os.environ["AWS_LAMBDA_FUNCTION_NAME"] = "bench"  # Tracer is on only in Lambda
from aws_lambda_powertools import Tracer; Tracer()
import worker.handler; worker.handler.callback.client(); worker.handler.receipts.task_queue()
print(time.perf_counter() - t)
"""

# Runs in a child process: `python -c BATCH <mode> <warm-ups> <iterations> <input JSON>`; prints
# the median seconds per 10-record batch and the peak RSS in KiB (Linux's VmHWM: ru_maxrss would
# count the RSS of the bench process it was forked from). Both modes run the work on one input.
BATCH = r"""
import json, os, statistics, sys, time
sys.stdout = open(os.devnull, "w")  # the worker's logs and metrics go where Lambda's stdout goes
import boto3
from botocore.awsrequest import AWSResponse
mode, warm_ups, iterations = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
task_input = json.loads(sys.argv[4])
from worker import callback

class Raw:
    def __init__(self, body=b"{}"):
        self.body = body
    def stream(self, **_):
        yield self.body

ok = lambda request, **_: AWSResponse(request.url, 200, {}, Raw())  # noqa: E731
def in_flight(request, **_):  # SQS's answer to ChangeMessageVisibilityBatch: every entry is
    entries = json.loads(request.body)["Entries"]
    body = json.dumps({"Successful": [{"Id": entry["Id"]} for entry in entries]}).encode()
    return AWSResponse(request.url, 200, {}, Raw(body))
client = callback.client()
client.meta.events.register("before-send", ok)
execution = "arn:aws:states:us-east-1:123456789012:execution:bench:"
attributes = {"ApproximateReceiveCount": "1"}
records = [
    {"messageId": f"m-{i}", "receiptHandle": f"r-{i}", "md5OfBody": "", "eventSource": "aws:sqs",
     "body": json.dumps({"taskToken": f"token-{i}" * 40, "executionArn": f"{execution}{i}",
                         "input": task_input}),
     "attributes": attributes, "messageAttributes": {},
     "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:tasks", "awsRegion": "us-east-1"}
    for i in range(10)
]
event = {"Records": records}
if mode in ("worker", "unproven"):
    from emulator.event_source import LambdaContext
    from worker import idempotency, receipts
    from worker.handler import lambda_handler
    idempotency.persistence.client.meta.events.register("before-send", ok)
    receipts.task_queue()[0].meta.events.register("before-send", in_flight)
    if mode == "unproven":  # the worker without its proofs: of a live task, of a received record
        callback.send_heartbeat = lambda token: None
        receipts.received = lambda records: frozenset(r["receiptHandle"] for r in records)
    def batch():
        response = lambda_handler(event, LambdaContext())
        assert response == {"batchItemFailures": []}, response
else:  # the same calls, in a plain loop (emulator/baseline.py)
    from emulator.baseline import answer, received
    dynamodb = boto3.client("dynamodb", config=callback.CLIENT_CONFIG)
    dynamodb.meta.events.register("before-send", ok)
    table = os.environ["IDEMPOTENCY_TABLE_NAME"]
    sqs = boto3.client("sqs", config=callback.CLIENT_CONFIG)
    sqs.meta.events.register("before-send", in_flight)
    def batch():
        received(records, sqs, os.environ["TASK_QUEUE_URL"])
        for record in records:
            answer(json.loads(record["body"]), client, dynamodb, table)
for _ in range(warm_ups):
    batch()
times = []
for _ in range(iterations):
    t = time.perf_counter(); batch(); times.append(time.perf_counter() - t)
try:
    with open("/proc/self/status") as status:
        peak_kib = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
except FileNotFoundError:  # not Linux: ru_maxrss, in bytes on macOS
    import resource
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_kib /= 1024 if sys.platform == "darwin" else 1
print(statistics.median(times), peak_kib, file=sys.__stdout__)
"""


def child(code: str, *args: str) -> list[float]:
    run = subprocess.run(
        [sys.executable, "-c", code, *args],
        env=environment(),
        capture_output=True,
        text=True,
        check=True,
    )
    return [float(value) for value in run.stdout.split()]


def imports_by_package(code: str) -> dict[str, float]:
    """Where a new process's imports go: `python -X importtime`'s self times, in ms, summed by
    top-level package (the work's own imports under their own names)."""
    run = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        env=environment(),
        capture_output=True,
        text=True,
        check=True,
    )
    packages: dict[str, float] = {}
    for line in run.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, _, name = (part.strip() for part in line.removeprefix("import time:").split("|"))
        top = name.split(".")[0]
        packages[top] = packages.get(top, 0.0) + int(own) / 1000
    return packages


def cold_start_breakdown(top: int = 8) -> list[str]:
    """The worker's imports beside the floor's, by package, largest first: what a team's own work
    (its dependencies) adds shows here by name."""
    worker, floor = imports_by_package(COLD_WORKER), imports_by_package(COLD_BASELINE)
    ranked = sorted(worker, key=lambda name: worker[name] - floor.get(name, 0.0), reverse=True)
    shown = ranked[:top]
    rest = [name for name in {*worker, *floor} if name not in shown]
    # The worker's own modules: the DynamoDB client its idempotency module makes at import is
    # among their time, where the floor's three clients are made after its imports.
    label = {"worker": "worker (a client at import)"}
    rows = [(label.get(n, n), worker.get(n, 0.0), floor.get(n, 0.0)) for n in shown]
    rows.append(
        (
            f"the other {len(rest)}",
            sum(worker.get(n, 0.0) for n in rest),
            sum(floor.get(n, 0.0) for n in rest),
        )
    )
    rows.append(("all imports", sum(worker.values()), sum(floor.values())))
    return [
        "  where the cold start's imports go (python -X importtime, one process each; self time "
        "by top-level package, ms):",
        f"    {'package':<26} {'worker':>8} {'floor':>8}",
        *(f"    {name:<26} {mine:>8.1f} {theirs:>8.1f}" for name, mine, theirs in rows),
    ]


def cold_start(repeats: int = 15) -> tuple[dict[str, float], dict[str, float]]:
    """The fastest of `repeats` new processes each (interleaved): like the per-record figure,
    the best a process does here, since the spread between processes is wide on this machine.
    The worker as it is, and as it would be with Powertools' Tracer."""
    baseline, worker, traced = [], [], []
    for _ in range(repeats):  # interleaved, so drift on the machine hits all alike
        baseline += child(COLD_BASELINE)
        worker += child(COLD_WORKER)
        traced += child(COLD_WORKER_TRACED)
    return ratio(min(baseline), min(worker), "ms", 1000), ratio(
        min(baseline), min(traced), "ms", 1000
    )


def per_record(
    iterations: int = 420, rounds: int = 7, warm_ups: int = 20
) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """Floor, worker and the worker without its proof of a live task, in alternating child
    processes: the fastest child's median batch time (the same code runs up to 1.6x slower in one
    process than in another on a shared 2-core machine, whatever the core or hash seed), and the
    median peak RSS."""
    task_input = json.dumps(WorkExamples.load().accepted)
    runs: dict[str, list[list[float]]] = {"baseline": [], "worker": [], "unproven": []}
    for _ in range(rounds):
        for mode, found in runs.items():
            found.append(child(BATCH, mode, str(warm_ups), str(iterations // rounds), task_input))
    (floor_time, floor_rss), (worker_time, worker_rss), (unproven_time, _) = (
        (min(t for t, _ in found), statistics.median(r for _, r in found))
        for found in runs.values()
    )
    return (
        ratio(floor_time / 10, worker_time / 10, "ms", 1000),
        ratio(unproven_time / 10, worker_time / 10, "ms", 1000),
        ratio(floor_rss / 1024, worker_rss / 1024, "MiB", 1),
    )


def end_to_end(executions: int) -> dict[str, float]:
    return ratio(
        _end_to_end(executions, worker=False), _end_to_end(executions, worker=True), "s", 1
    )


def _end_to_end(executions: int, worker: bool) -> float:
    import contextlib
    import io

    import boto3
    from moto import mock_aws

    from emulator.deployment import Settings, deploy, idempotency_table_name
    from emulator.event_source import EventSourceMapping, load_worker

    with (
        mock_aws(config={"stepfunctions": {"execute_state_machine": True}}),
        contextlib.redirect_stdout(io.StringIO()),
    ):
        sqs = boto3.client("sqs", region_name=REGION)
        sfn = boto3.client("stepfunctions", region_name=REGION)
        settings = Settings.from_terraform()
        deployment = deploy(sqs, sfn, settings)
        mapping = EventSourceMapping(sqs, deployment, load_worker(deployment, REGION))
        if not worker:  # moto's baseline: answer each token straight from the queue
            mapping.handler = _answer_directly(sfn, idempotency_table_name(settings))
        task_input = json.dumps(WorkExamples.load().accepted)
        started = time.perf_counter()
        with mapping:  # as on AWS, executions start while the worker polls
            for i in range(executions):
                sfn.start_execution(
                    stateMachineArn=deployment.state_machine_arn,
                    name=f"bench-{i}",
                    input=task_input,
                )
            all_succeeded = wait_for(
                lambda: _succeeded(sfn, deployment.state_machine_arn) >= executions,
                timeout=300,
                interval=0.05,
            )
            if not all_succeeded:
                raise TimeoutError(f"{executions} executions did not all succeed in 300 s")
            return time.perf_counter() - started


def _answer_directly(sfn: Any, table: str) -> Any:
    """An event source's handler that makes the worker's calls for each record, no more."""
    import boto3

    from emulator.baseline import answer

    dynamodb = boto3.client("dynamodb", region_name=REGION)

    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        for record in event["Records"]:
            answer(json.loads(record["body"]), sfn, dynamodb, table)
        return {"batchItemFailures": []}

    return handler


def _succeeded(sfn: Any, state_machine_arn: str) -> int:
    pages = sfn.get_paginator("list_executions").paginate(
        stateMachineArn=state_machine_arn, statusFilter="SUCCEEDED"
    )
    return sum(len(page["executions"]) for page in pages)


def ratio(baseline: float, measured: float, unit: str, scale: float) -> dict[str, Any]:
    return {
        "baseline": round(baseline * scale, 3),
        "measured": round(measured * scale, 3),
        "unit": unit,
        "ratio": round(measured / baseline, 3),
    }


def main(quick: bool = False) -> int:
    """Measure and print every figure. `quick` runs each once on a small scale, to check that the
    bench runs (a changed work, say): its figures are not for reading."""
    sizes = (5, 20) if quick else (100, 400)
    figures: dict[str, Any] = {}
    print(
        "Measuring (a quick run) ..." if quick else "Measuring (about two minutes) ...", flush=True
    )
    figures["cold_start"], figures["cold_start_if_traced"] = cold_start(repeats=2 if quick else 15)
    figures["per_record"], figures["per_record_vs_unproven"], figures["peak_memory"] = per_record(
        iterations=2 if quick else 420, rounds=1 if quick else 7, warm_ups=1 if quick else 20
    )
    for executions in sizes:
        figures[f"end_to_end_{executions}"] = end_to_end(executions)
    goals = {"cold_start": 1.15, "per_record": 1.3} | {f"end_to_end_{n}": 1.5 for n in sizes}
    rows = [
        f"  {name:<22} {f['measured']:>9.3f} {f['unit']:<4} "
        f"baseline {f['baseline']:>9.3f} {f['unit']:<4}"
        f" ratio {f['ratio']:.2f}" + (f"  (goal <= {goals[name]})" if name in goals else "")
        for name, f in figures.items()
    ]
    print("\n".join(rows))
    print("\n".join(cold_start_breakdown()))
    small, large = (figures[f"end_to_end_{n}"]["ratio"] for n in sizes)
    growth = large / small
    print(
        f"  end-to-end ratio at N={sizes[1]} over N={sizes[0]}: {growth:.2f}"
        " (1.00 = does not grow with N)"
    )
    if quick:
        return 0
    figures["end_to_end_ratio_growth"] = round(growth, 3)
    figures["python"] = sys.version.split()[0]
    out = Path(ROOT / "build" / "bench.json")
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n")
    print(f"Written to {out.relative_to(ROOT)}")
    return 0
