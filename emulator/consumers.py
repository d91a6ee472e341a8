"""Lambda's execution environments for the event source mapping, as processes: up to
`maximum_concurrency` of them poll the task queue of a deployment on a moto server at once, each
with its own import of the worker (module-level state, the idempotency client among it, is per
environment, as on Lambda). `python -m emulator.consumers` is one of them.

Each can also deliver some task messages twice, as SQS may (a duplicate is put back on the queue
a second later, marked so that it is not duplicated again), run another work than the worker's
(the tests run their own), and ask the event source mapping's state before each poll (`make
serve`, where `aws lambda update-event-source-mapping --no-enabled` pauses them). When stopped,
each writes what it did to a report: its records, the runs of the work, the duplicates it made.
The worker's output goes to a log file per consumer, as Lambda writes each environment's stdout
to its own log stream, or to one log that all of them append to.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib
import json
import os
import signal
import subprocess
import sys
import zlib
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulator.stopping import StopSignal
from emulator.terraform import ROOT
from emulator.watch import wait_for

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    from emulator.deployment import Deployment

DUPLICATE = "emulator-duplicate"  # the message attribute that marks a duplicate delivery


@dataclass(frozen=True)
class TaskQueue:
    queue_url: str
    queue_arn: str
    batch_size: int
    timeout_seconds: int


@dataclass(frozen=True)
class Report:
    """What one consumer did."""

    records: int
    failed_records: int
    runs_accepted: int  # runs of the work that returned a result
    runs_rejected: int  # runs that raised TaskError
    duplicates_sent: int


class Consumers:
    """`count` consumer processes on `deployment`, from start to stop."""

    def __init__(
        self,
        endpoint: str,
        deployment: Deployment,
        count: int,
        *,
        work: str | None = None,
        duplicate_pct: int = 0,
        mapping_uuid: str | None = None,
        log_dir: Path = ROOT / "build",
        log: Path | None = None,
        environment: Mapping[str, str] | None = None,
    ) -> None:
        """`environment`: variables the worker gets besides its function's (the team's stand-in
        for its external system, which it reaches through them)."""

        self.count = count
        self.log_dir = log_dir
        self.shared_log = log
        queue = TaskQueue(
            deployment.queue_url,
            deployment.queue_arn,
            deployment.batch_size,
            deployment.timeout_seconds,
        )
        self.arguments = ["--queue", json.dumps(asdict(queue))]
        self.arguments += ["--duplicate-pct", str(duplicate_pct)]
        self.arguments += ["--work", work] if work else []
        self.arguments += ["--mapping-uuid", mapping_uuid] if mapping_uuid else []
        self.environment = {
            **os.environ,
            **deployment.function_environment(),
            **deployment.worker_credentials,
            "AWS_ENDPOINT_URL": endpoint,
            # The queue's Region, as Lambda runs the function in its own.
            "AWS_DEFAULT_REGION": deployment.queue_arn.split(":")[3],
            "AWS_REGION": deployment.queue_arn.split(":")[3],
            "PYTHONPATH": os.pathsep.join(map(str, deployment.python_path)),
            **(environment or {}),
        }
        self.arguments += ["--handler", deployment.handler]
        self.processes: list[subprocess.Popen[str]] = []
        self.reports: list[Report] = []

    def log(self, index: int) -> Path:
        return self.shared_log or self.log_dir / f"emulator-consumer-{index}.log"

    def start(self) -> Consumers:
        """Start the consumers; return once every one polls."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for log in {self.log(index) for index in range(self.count)}:
            if log.is_file():
                log.unlink()  # each run's log starts empty
        for index in range(self.count):
            self.report(index).unlink(missing_ok=True)
            self.report(index).with_suffix(".polling").unlink(missing_ok=True)
            # Each in a session of its own, so that a terminal's Ctrl-C reaches only the process
            # that started them, which stops them (SIGTERM); one that outlives it stops itself.
            with self.log(index).open("a") as log:  # appended to: one line at a time
                process = subprocess.Popen(
                    [sys.executable, "-m", "emulator.consumers", *self.arguments,
                     "--report", str(self.report(index))],
                    cwd=ROOT, env=self.environment, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True,
                )  # fmt: skip
            self.processes.append(process)
        for index, process in enumerate(self.processes):
            polling = self.report(index).with_suffix(".polling")
            started = wait_for(
                lambda p=polling, c=process: p.exists() or c.poll() is not None, timeout=60
            )
            if not started or process.poll() is not None:
                raise RuntimeError(f"consumer {index} did not start: {self.tail(index)}")
        return self

    def stop(self) -> list[Report]:
        """Stop every consumer (each finishes its batch in flight) and read their reports."""
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
        for index, process in enumerate(self.processes):
            if process.wait(timeout=60) != 0:
                raise RuntimeError(f"consumer {index} failed: {self.tail(index)}")
            self.reports.append(Report(**json.loads(self.report(index).read_text())))
        self.processes = []
        return self.reports

    def tail(self, index: int) -> str:
        return self.log(index).read_text()[-2000:]

    def report(self, index: int) -> Path:
        return self.log_dir / f"emulator-consumer-{index}.report.json"

    def worker_output(self) -> str:
        """What the worker printed in every consumer: its logs and metric lines."""
        logs = dict.fromkeys(self.log(index) for index in range(self.count))
        return "".join(log.read_text() for log in logs)

    def __enter__(self) -> Consumers:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        if self.processes:
            self.stop()


# In the consumer's own process:


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emulator.consumers")
    parser.add_argument("--queue", required=True, help="the task queue, as JSON")
    parser.add_argument("--report", required=True, type=Path)
    parser.add_argument("--duplicate-pct", type=int, default=0)
    parser.add_argument("--work", help="module:function to run instead of the worker's work")
    parser.add_argument("--mapping-uuid", help="poll only while this mapping is enabled")
    parser.add_argument("--handler", default="worker.handler.lambda_handler", help="the function's")
    args = parser.parse_args(argv)

    # Each line in one write: consumers that share a log never split each other's lines.
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]

    import boto3

    from emulator.event_source import EventSourceMapping, mapping_enabled

    handler_module, handler_name = args.handler.rsplit(".", 1)
    worker_handler = importlib.import_module(handler_module)
    if args.work:
        module, function = args.work.split(":")
        worker_handler.do_work = getattr(importlib.import_module(module), function)
    stop = StopSignal()
    parent = os.getppid()
    queue = TaskQueue(**json.loads(args.queue))
    region = queue.queue_arn.split(":")[3]
    sqs = boto3.client("sqs", region_name=region)
    duplicates = AtLeastOnce(sqs, queue.queue_url, args.duplicate_pct)
    enabled = (
        mapping_enabled(boto3.client("lambda", region_name=region), args.mapping_uuid)
        if args.mapping_uuid
        else lambda: True
    )
    with counting_work_runs(worker_handler) as runs:
        handler = duplicates.wrap(getattr(worker_handler, handler_name))
        mapping = EventSourceMapping(sqs, queue, handler, enabled=enabled, wait_seconds=1)
        with mapping:
            args.report.with_suffix(".polling").touch()
            stop.wait(or_until=lambda: os.getppid() != parent)
    report = Report(
        records=mapping.stats.records,
        failed_records=mapping.stats.failed_records,
        runs_accepted=runs["accepted"],
        runs_rejected=runs["rejected"],
        duplicates_sent=duplicates.sent,
    )
    args.report.write_text(json.dumps(asdict(report)))
    return 0


class AtLeastOnce:
    """SQS delivers at least once: `percent` % of the task messages (a stable pick) are put back
    on the queue, to arrive again a second later, as a duplicate (moto accepts a second callback
    made within moments of the first, where AWS refuses it)."""

    def __init__(self, sqs: Any, queue_url: str, percent: int) -> None:
        self.sqs, self.queue_url, self.percent = sqs, queue_url, percent
        self.sent = 0

    def wrap(self, handler: Callable[[dict[str, Any], Any], Any]) -> Callable[..., Any]:
        def at_least_once(event: dict[str, Any], context: Any) -> Any:
            for record in event["Records"]:
                body = record["body"]
                already = DUPLICATE in record.get("messageAttributes", {})
                if '"taskToken"' in body and not already and every(body, self.percent):
                    self.sqs.send_message(
                        QueueUrl=self.queue_url,
                        MessageBody=body,
                        DelaySeconds=1,
                        MessageAttributes={DUPLICATE: {"DataType": "String", "StringValue": "1"}},
                    )
                    self.sent += 1
            return handler(event, context)

        return at_least_once


def every(key: str, percent: int) -> bool:
    """A stable pick of `percent` % of keys."""
    return zlib.crc32(key.encode()) % 100 < percent


@contextlib.contextmanager
def counting_work_runs(worker_handler: Any) -> Iterator[Counter[str]]:
    """Count the runs of the worker's work, by how they end: its side effects, were it a team's
    real work (a charge, an email)."""
    from worker.messages import TaskError

    work = worker_handler.do_work
    runs: Counter[str] = Counter()

    @functools.wraps(work)  # its signature too: the worker reads whether it takes `callback`
    def counted(*args: Any, **kwargs: Any) -> Any:
        try:
            result = work(*args, **kwargs)
        except TaskError:
            runs["rejected"] += 1
            raise
        runs["accepted"] += 1
        return result

    worker_handler.do_work = counted
    try:
        yield runs
    finally:
        worker_handler.do_work = work


if __name__ == "__main__":
    sys.exit(main())
