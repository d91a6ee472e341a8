"""`make soak`: executions through the emulator with rejected inputs, duplicate deliveries and
poison messages (malformed, and with a token Step Functions never issued), consumed by 1, 2 and 4
worker processes at once (Lambda's execution environments): every execution must end as its input
calls for, none by timing out, and the work must run once per accepted execution."""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from typing import Any

import boto3

from emulator import work_examples
from emulator.console import table, worker_output
from emulator.consumers import Consumers, every
from emulator.deployment import Settings, deploy
from emulator.emf import worker_metrics
from emulator.server import free_port, moto_server
from emulator.terraform import work_folder
from emulator.watch import queue_depth, wait_for
from emulator.work_examples import WorkExamples

REGION = "us-east-1"
CONSUMER_COUNTS = (1, 2, 4)


@dataclass(frozen=True)
class SoakResult:
    consumers: int
    executions: int
    seconds: float
    succeeded: int
    failed_as_rejected: int
    other_endings: int
    malformed_sent: int
    malformed_in_dlq: int
    forged_sent: int
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
            and self.malformed_in_dlq == self.malformed_sent
            and self.duplicates_absorbed == self.duplicates_sent
            and self.live_successes == self.accepted_inputs
            and self.work_runs_accepted == self.accepted_inputs
        )


def run_soak(
    executions: int,
    examples: WorkExamples,
    consumers: int = 1,
    *,
    work: str | None = None,
    rejected_pct: int = 10,
    duplicate_pct: int = 5,
    poison_pct: int = 2,
) -> SoakResult:
    """Run the soak on a moto server of its own with `consumers` worker processes (running
    `work`, module:function, instead of the worker's if given): the work's accepted example, and
    its rejected one for `rejected_pct` % of the executions."""
    saved = dict(os.environ)
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        os.environ.setdefault(key, "testing")  # moto's dummies, unless set
    try:
        with moto_server(free_port()) as endpoint:
            return _soak(endpoint, executions, examples, consumers, work,
                         rejected_pct, duplicate_pct, poison_pct)  # fmt: skip
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _soak(
    endpoint: str,
    executions: int,
    examples: WorkExamples,
    consumers: int,
    work: str | None,
    rejected_pct: int,
    duplicate_pct: int,
    poison_pct: int,
) -> SoakResult:
    clients = {"endpoint_url": endpoint, "region_name": REGION}
    sqs, sfn = boto3.client("sqs", **clients), boto3.client("stepfunctions", **clients)
    # A short visibility timeout sends poison messages through their receives quickly; long
    # enough for a batch to finish, so that SQS hands out no more duplicates than the soak makes.
    settings = Settings.from_terraform(visibility_timeout_seconds=5, task_timeout_seconds=300)
    deployment = deploy(sqs, sfn, settings)
    rejected = [every(f"input-{i}", rejected_pct) for i in range(executions)]
    inputs = [examples.rejected if no else examples.accepted for no in rejected]
    # Poison both ways: bodies the worker cannot read, and task messages whose token Step
    # Functions never issued (as a forged one would be): the first go to the DLQ, the second are
    # done without running the work.
    poison = range(executions * poison_pct // 100)
    malformed = [f'{{"poison": {i}}}' for i in poison if i % 2 == 0]
    forged = [json.dumps({"taskToken": f"forged-{i}", "input": inputs[0]}) for i in poison if i % 2]
    pool = Consumers(endpoint, deployment, consumers, work=work, duplicate_pct=duplicate_pct)
    with pool:
        started = time.monotonic()
        # As on AWS, executions start while the worker polls and answers the earlier ones.
        for i, execution_input in enumerate(inputs):
            sfn.start_execution(
                stateMachineArn=deployment.state_machine_arn,
                name=f"soak-{i}",
                input=json.dumps(execution_input),
            )
        for body in malformed + forged:
            sqs.send_message(QueueUrl=deployment.queue_url, MessageBody=body)
        arn = deployment.state_machine_arn
        wait_for(lambda: not count_running(sfn, arn), settings.task_timeout_seconds, 0.5)
        # Each wait is for an outcome, as long as a loaded machine needs (a poison message takes
        # max_receive_count visibility timeouts; a duplicate refused while its original was in
        # progress, one more), and ends as soon as the outcome holds.
        wait_for(lambda: queue_depth(sqs, deployment.dlq_url) >= len(malformed), timeout=180)
        seconds = time.monotonic() - started
        wait_for(lambda: not queue_depth(sqs, deployment.queue_url), timeout=180)
    reports = pool.reports
    results = describe_all(sfn, arn)
    metrics = worker_metrics(pool.worker_output())
    accepted = rejected.count(False)
    endings = [(r["status"], r.get("error")) for r in results]
    succeeded = endings.count(("SUCCEEDED", None))
    failed_as_rejected = endings.count(("FAILED", examples.rejected_error))
    return SoakResult(
        consumers=consumers,
        executions=executions,
        seconds=round(seconds, 2),
        succeeded=succeeded,
        failed_as_rejected=failed_as_rejected,
        other_endings=len(endings) - succeeded - failed_as_rejected,
        malformed_sent=len(malformed),
        malformed_in_dlq=queue_depth(sqs, deployment.dlq_url),
        forged_sent=len(forged),
        duplicates_sent=sum(report.duplicates_sent for report in reports),
        # The forged tokens and the duplicates are the records Step Functions no longer waits for.
        duplicates_absorbed=int(metrics.get("TokenNoLongerLive", 0)) - len(forged),
        live_successes=int(metrics.get("TaskSucceeded", 0)),
        accepted_inputs=accepted,
        work_runs_accepted=sum(report.runs_accepted for report in reports),
        work_runs_rejected=sum(report.runs_rejected for report in reports),
        slowest_seconds=max((r["stopDate"] - r["startDate"]).total_seconds() for r in results),
    )


def count_running(sfn: Any, state_machine_arn: str) -> int:
    pages = sfn.get_paginator("list_executions").paginate(
        stateMachineArn=state_machine_arn, statusFilter="RUNNING"
    )
    return sum(len(page["executions"]) for page in pages)


def describe_all(sfn: Any, state_machine_arn: str) -> list[dict[str, Any]]:
    pages = sfn.get_paginator("list_executions").paginate(stateMachineArn=state_machine_arn)
    arns = [e["executionArn"] for page in pages for e in page["executions"]]
    return [sfn.describe_execution(executionArn=arn) for arn in arns]


def main(executions: int, consumer_counts: tuple[int, ...] = CONSUMER_COUNTS) -> int:
    examples = WorkExamples.load()
    results = []
    with worker_output(show_logs=False) as screen:
        for consumers in consumer_counts:
            print(
                f"Soak: {executions} executions of the work's examples "
                f"({work_examples.shown(work_folder() / 'work_examples.json')}), "
                "10% of them the rejected one, 5% of the task messages delivered twice, 2% "
                f"poison, {consumers} worker process(es) on {os.cpu_count()} cores ...",
                file=screen,
                flush=True,
            )
            results.append(run_soak(executions, examples, consumers))
        rows = [[key, *map(shown, values)] for key, *values in _by_figure(results)]
        rows.insert(3, ["executions per second", *(f"{r.per_second:.1f}" for r in results)])
        print(
            table(rows, ["figure", *(f"{r.consumers} consumer(s)" for r in results)]), file=screen
        )
        for result in results:
            print(
                f"{result.consumers} consumer(s): the work ran {result.work_runs_accepted} times "
                f"for {result.accepted_inputs} accepted executions "
                f"({result.work_runs_accepted - result.accepted_inputs} extra, with "
                f"{result.duplicates_sent} duplicates delivered); a rejected input stores "
                f"nothing, so its duplicates ran it again ({result.work_runs_rejected} runs for "
                f"{result.executions - result.accepted_inputs} rejected executions). "
                + (
                    "Every execution accounted for."
                    if result.accounted_for
                    else "NOT all accounted for."
                ),
                file=screen,
            )
    return 0 if all(result.accounted_for for result in results) else 1


def shown(value: object) -> str:
    """A figure as the table shows it: seconds to a tenth, counts as they are."""
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def _by_figure(results: list[SoakResult]) -> list[list[Any]]:
    figures = [asdict(result) for result in results]
    return [[key, *(figure[key] for figure in figures)] for key in figures[0]]
