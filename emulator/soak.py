"""`make soak`: executions through the emulator with invalid inputs, duplicate deliveries and
poison messages; every execution must end as its input calls for, none by timing out."""

from __future__ import annotations

import contextlib
import io
import json
import sys
import time
import zlib
from collections import Counter
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import boto3
from moto import mock_aws

from emulator.console import table, worker_output
from emulator.emf import worker_metrics
from emulator.event_source import EventSourceMapping, load_worker
from emulator.pattern import Settings, deploy, queue_depth
from emulator.work_examples import EXAMPLES_FILE, WorkExamples

if TYPE_CHECKING:
    from collections.abc import Iterator

REGION = "us-east-1"


@dataclass(frozen=True)
class SoakResult:
    executions: int
    seconds: float
    succeeded: int
    failed_as_rejected: int
    other_endings: int
    poison_sent: int
    poison_in_dlq: int
    duplicates_sent: int
    duplicates_absorbed: int
    live_successes: int
    accepted_inputs: int
    work_runs_accepted: int  # runs of the work that returned a result
    work_runs_rejected: int  # runs that raised TaskError (these store nothing: a duplicate reruns)
    slowest_seconds: float

    @property
    def per_second(self) -> float:
        return self.executions / self.seconds

    @property
    def accounted_for(self) -> bool:
        return (
            self.succeeded == self.accepted_inputs
            and self.failed_as_rejected == self.executions - self.accepted_inputs
            and self.other_endings == 0
            and self.poison_in_dlq == self.poison_sent
            and self.duplicates_absorbed == self.duplicates_sent
            and self.live_successes == self.accepted_inputs
            and self.work_runs_accepted == self.accepted_inputs
        )


def every(key: str, percent: int) -> bool:
    """A stable pick of `percent` % of keys."""
    return zlib.crc32(key.encode()) % 100 < percent


def run_soak(
    executions: int,
    examples: WorkExamples,
    rejected_pct: int = 10,
    duplicate_pct: int = 5,
    poison_pct: int = 2,
) -> SoakResult:
    """Run the soak in a fresh moto: the work's accepted example, and its rejected one for
    `rejected_pct` % of the executions. The worker's output is parsed for its metrics."""
    worker_stdout = io.StringIO()
    with (
        mock_aws(config={"stepfunctions": {"execute_state_machine": True}}),
        contextlib.redirect_stdout(worker_stdout),
    ):
        sqs = boto3.client("sqs", region_name=REGION)
        sfn = boto3.client("stepfunctions", region_name=REGION)
        # A 1 s visibility timeout sends poison messages through their receives quickly.
        settings = Settings.from_terraform(visibility_timeout_seconds=1, task_timeout_seconds=300)
        deployment = deploy(sqs, sfn, settings)
        handler = load_worker(settings, REGION)
        duplicated: set[str] = set()

        def at_least_once(event: dict[str, Any], context: Any) -> dict[str, Any]:
            """SQS delivers at least once: some task messages arrive again, a little later (moto
            accepts a second callback made within moments of the first, where AWS refuses it)."""
            for record in event["Records"]:
                body = record["body"]
                if '"taskToken"' in body and every(body, duplicate_pct) and body not in duplicated:
                    duplicated.add(body)
                    sqs.send_message(
                        QueueUrl=deployment.queue_url, MessageBody=body, DelaySeconds=1
                    )
            return handler(event, context)

        rejected = [every(f"input-{i}", rejected_pct) for i in range(executions)]
        inputs = [examples.rejected if no else examples.accepted for no in rejected]
        poison = [f'{{"poison": {i}}}' for i in range(executions * poison_pct // 100)]
        started = time.monotonic()
        with counting_work_runs() as runs, EventSourceMapping(sqs, deployment, at_least_once):
            # As on AWS, executions start while the worker polls and answers the earlier ones.
            for i, execution_input in enumerate(inputs):
                sfn.start_execution(
                    stateMachineArn=deployment.state_machine_arn,
                    name=f"soak-{i}",
                    input=json.dumps(execution_input),
                )
            for body in poison:
                sqs.send_message(QueueUrl=deployment.queue_url, MessageBody=body)
            results = wait_all(
                sfn, deployment.state_machine_arn, executions, settings.task_timeout_seconds
            )
            wait_for_dlq(sqs, deployment.dlq_url, len(poison), timeout=60)
            seconds = time.monotonic() - started
            drain(sqs, deployment.queue_url, timeout=30)
        dlq = queue_depth(sqs, deployment.dlq_url)

    metrics = worker_metrics(worker_stdout.getvalue())
    accepted = rejected.count(False)
    endings = [(r["status"], r.get("error")) for r in results]
    succeeded = endings.count(("SUCCEEDED", None))
    failed_as_rejected = endings.count(("FAILED", examples.rejected_error))
    return SoakResult(
        executions=executions,
        seconds=round(seconds, 2),
        succeeded=succeeded,
        failed_as_rejected=failed_as_rejected,
        other_endings=len(endings) - succeeded - failed_as_rejected,
        poison_sent=len(poison),
        poison_in_dlq=dlq,
        duplicates_sent=len(duplicated),
        # moto accepts a late SendTaskFailure on a finished execution's token (AWS answers
        # TaskTimedOut): a duplicate of a rejected task shows as an extra TaskFailed there.
        duplicates_absorbed=int(metrics.get("TokenNoLongerLive", 0))
        + max(0, int(metrics.get("TaskFailed", 0)) - (executions - accepted)),
        live_successes=int(metrics.get("TaskSucceeded", 0)),
        work_runs_accepted=runs["accepted"],
        work_runs_rejected=runs["rejected"],
        accepted_inputs=accepted,
        slowest_seconds=max((r["stopDate"] - r["startDate"]).total_seconds() for r in results),
    )


@contextlib.contextmanager
def counting_work_runs() -> Iterator[Counter[str]]:
    """Count the runs of the loaded worker's work, by how they end: its side effects, were it a
    team's real work (a charge, an email)."""
    from worker.messages import TaskError

    worker_handler = sys.modules["worker.handler"]
    work = worker_handler.do_work
    runs: Counter[str] = Counter()

    def counted(task_input: Any, heartbeat: Any) -> Any:
        try:
            result = work(task_input, heartbeat)
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


def wait_all(sfn: Any, state_machine_arn: str, count: int, timeout: float) -> list[dict[str, Any]]:
    """The descriptions of the state machine's executions, once `count` have stopped."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pages = sfn.get_paginator("list_executions").paginate(
            stateMachineArn=state_machine_arn, statusFilter="RUNNING"
        )
        if not sum(len(page["executions"]) for page in pages):
            break
        time.sleep(0.5)
    pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=state_machine_arn)
    arns = [e["executionArn"] for page in pages for e in page["executions"]]
    return [sfn.describe_execution(executionArn=arn) for arn in arns]


def wait_for_dlq(sqs: Any, url: str, expected: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while queue_depth(sqs, url) < expected and time.monotonic() < deadline:
        time.sleep(0.2)


def drain(sqs: Any, url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while queue_depth(sqs, url) and time.monotonic() < deadline:
        time.sleep(0.2)


def main(executions: int) -> int:
    examples = WorkExamples.load()
    with worker_output(show_logs=False) as screen:
        print(
            f"Soak: {executions} executions of the work's examples ({EXAMPLES_FILE.name}), "
            "10% of them the rejected one, 5% of the task messages delivered twice, 2% poison ...",
            file=screen,
            flush=True,
        )
        result = run_soak(executions, examples)
        rows = [[key, str(value)] for key, value in asdict(result).items()]
        rows.insert(2, ["executions per second", f"{result.per_second:.1f}"])
        print(table(rows, ["figure", "value"]), file=screen)
        print(
            f"The work ran {result.work_runs_accepted} times for {result.accepted_inputs} "
            f"accepted executions ({result.work_runs_accepted - result.accepted_inputs} extra, "
            f"with {result.duplicates_sent} duplicates delivered); a rejected input stores "
            f"nothing, so its duplicates ran it again ({result.work_runs_rejected} runs for "
            f"{result.executions - result.accepted_inputs} rejected executions).",
            file=screen,
        )
        print(
            "Every execution accounted for." if result.accounted_for else "NOT all accounted for.",
            file=screen,
        )
    return 0 if result.accounted_for else 1
