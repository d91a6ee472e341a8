"""The SQS partial batch response, as Powertools' batch utility gives it: each record passed to
the record handler in turn, and the message ID of each one that raised listed in
`batchItemFailures` (ReportBatchItemFailures), all of them if all raised.

It is what `process_partial_response(event, record_handler, BatchProcessor(EventType.SQS,
raise_on_entire_batch_failure=False))` returns, without importing Powertools' batch package: that
package imports asyncio (for its async processor) and every event source's data classes, a
quarter of the worker's cold start above boto3's own (docs/bench.md). The worker needs neither.
tests/pattern/test_batch.py runs both on the same events and holds them equal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

if TYPE_CHECKING:
    from collections.abc import Callable


class SQSRecord:
    """One record of an SQS event, with the names Powertools' SQSRecord gives the fields the
    worker reads."""

    __slots__ = ("raw_event",)

    def __init__(self, raw_event: dict[str, Any]) -> None:
        self.raw_event = raw_event

    @property
    def message_id(self) -> str:
        return self.raw_event["messageId"]

    @property
    def receipt_handle(self) -> str:
        return self.raw_event["receiptHandle"]

    @property
    def body(self) -> str:
        return self.raw_event["body"]

    @property
    def attributes(self) -> dict[str, str]:
        return self.raw_event["attributes"]


class NotABatch(Exception):
    """The event holds no batch of SQS records."""


class ItemFailure(TypedDict):
    itemIdentifier: str


class PartialBatchResponse(TypedDict):
    batchItemFailures: list[ItemFailure]


def process_partial_response(
    event: dict[str, Any], record_handler: Callable[[SQSRecord], object]
) -> PartialBatchResponse:
    """Run `record_handler` on each record of the SQS event; the records that raised, for Lambda
    to leave in the queue. An event without records (Lambda sends none such) raises
    NotABatch, as Powertools raises its UnexpectedBatchTypeError."""
    records = event.get("Records")
    if not records or not isinstance(records, list):
        raise NotABatch("an SQS event has a list of Records, and this has none")
    failures: list[ItemFailure] = []
    for raw in records:
        record = SQSRecord(raw)
        try:
            record_handler(record)
        except Exception:  # as Powertools' BatchProcessor: the record comes back, the rest go on
            failures.append({"itemIdentifier": record.message_id})
    return {"batchItemFailures": failures}
