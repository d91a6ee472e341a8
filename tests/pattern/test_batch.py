"""The worker's partial batch response (src/worker/batch.py) is Powertools' own: both run the
same record handler on the same SQS events, and give the same responses, see the same records
and stop on the same exceptions."""

from __future__ import annotations

from typing import Any

import pytest
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
from aws_lambda_powertools.utilities.batch import (
    process_partial_response as powertools_process_partial_response,
)
from aws_lambda_powertools.utilities.batch.exceptions import UnexpectedBatchTypeError

from worker.batch import NotABatch, process_partial_response


def sqs_record(i: int, **fields: Any) -> dict[str, Any]:
    return {
        "messageId": f"m-{i}",
        "receiptHandle": f"r-{i}",
        "body": f'{{"n": {i}}}',
        "attributes": {"N": str(i), "SentTimestamp": "1796697778862"},
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:tasks",
        "awsRegion": "us-east-1",
        **fields,
    }


class Stop(BaseException):
    """Not an Exception: what ends an invocation (the runtime's own), never a record's failure."""


def both(event: dict[str, Any], fails: set[int]) -> list[tuple[Any, list[Any]]]:
    """(response, what the handler saw) from Powertools' batch utility, then from the worker's."""
    outcomes = []
    for run in (
        lambda handler: powertools_process_partial_response(
            event=event,
            record_handler=handler,
            processor=BatchProcessor(EventType.SQS, raise_on_entire_batch_failure=False),
        ),
        lambda handler: process_partial_response(event, handler),
    ):
        seen: list[Any] = []

        def handler(record: Any, seen: list[Any] = seen) -> None:  # Powertools passes record=
            attributes = record.attributes
            seen.append(
                (record.message_id, record.receipt_handle, record.body, attributes.get("N"))
            )
            n = int(record.message_id.split("-")[1])
            if n in fails:
                raise RuntimeError(f"record {n} fails")
            if n == 99:
                raise Stop

        try:
            outcomes.append((run(handler), seen))
        except Stop:
            outcomes.append(("stopped", seen))
    return outcomes


@pytest.mark.parametrize(
    ("count", "fails"),
    [(10, set()), (10, {2, 7}), (3, {0, 1, 2}), (1, {0})],
    ids=["all-succeed", "two-fail", "all-fail", "one-fails"],
)
def test_the_worker_answers_a_batch_as_powertools_does(count: int, fails: set[int]) -> None:
    event = {"Records": [sqs_record(i) for i in range(count)]}

    powertools, worker = both(event, fails)

    assert worker == powertools
    assert worker[0] == {"batchItemFailures": [{"itemIdentifier": f"m-{i}"} for i in sorted(fails)]}


def test_an_exception_that_is_no_records_failure_ends_the_batch_as_in_powertools() -> None:
    event = {"Records": [sqs_record(1), sqs_record(99), sqs_record(2)]}

    powertools, worker = both(event, set())

    assert worker == powertools == ("stopped", worker[1])
    assert [seen[0] for seen in worker[1]] == ["m-1", "m-99"]


def test_a_record_without_attributes_fails_in_both() -> None:
    bare = sqs_record(1)
    del bare["attributes"]

    powertools, worker = both({"Records": [bare]}, set())

    assert worker == powertools
    assert worker[0] == {"batchItemFailures": [{"itemIdentifier": "m-1"}]}


@pytest.mark.parametrize(
    "event", [{"Records": []}, {}, {"Records": "x"}], ids=["empty", "none", "str"]
)
def test_an_event_without_records_raises_in_both(event: dict[str, Any]) -> None:
    with pytest.raises(UnexpectedBatchTypeError):
        powertools_process_partial_response(
            event=event, record_handler=print, processor=BatchProcessor(EventType.SQS)
        )
    with pytest.raises(NotABatch):
        process_partial_response(event, print)
