"""examples/complete's two works, one per instance of the module (its orders/ and refunds/, which
work_source_path names): each does what its examples say, against the charges table the example
creates (moto's), and records a charge or a refund once however often its message is delivered;
the refunds' asks a person, through its instance's approval service, for its large refund."""

from __future__ import annotations

import importlib.util
import json
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto import mock_aws

from emulator.deployment import NO_PAGE, create_approval_service
from emulator.terraform import ROOT
from emulator.work_examples import WorkExamples
from worker.handoff import CallbackHandle, HandedOff, call_work
from worker.messages import TaskError

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import ModuleType

EXAMPLE = ROOT / "examples" / "complete"
TABLE = "example-charges"
NO_TASK = CallbackHandle("a-token-of-no-task", "")


def the_work(name: str) -> ModuleType:
    """The instance's work.py, imported under a name of its own (both are `work` on Lambda)."""
    spec = importlib.util.spec_from_file_location(f"complete_{name}", EXAMPLE / name / "work.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def charges(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The example's charges table, as the module creates it, named by CHARGES_TABLE."""
    with mock_aws():
        monkeypatch.setenv("CHARGES_TABLE", TABLE)
        table = boto3.resource("dynamodb").create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield table


@pytest.mark.parametrize("name", ["orders", "refunds"])
def test_the_accepted_example_is_recorded_once_however_often_it_is_delivered(
    charges: Any, name: str
) -> None:
    work, examples = the_work(name), WorkExamples.load(EXAMPLE / name)

    first = call_work(work.do_work, examples.accepted, NO_TASK)
    again = call_work(work.do_work, examples.accepted, NO_TASK)  # a redelivery

    assert first == again
    (item,) = charges.scan()["Items"]
    assert item["amountCents"] == examples.accepted["amountCents"]


@pytest.mark.parametrize("name", ["orders", "refunds"])
def test_the_rejected_example_fails_with_its_error_and_records_nothing(
    charges: Any, name: str
) -> None:
    work, examples = the_work(name), WorkExamples.load(EXAMPLE / name)

    with pytest.raises(TaskError) as rejected:
        call_work(work.do_work, examples.rejected, NO_TASK)

    assert rejected.value.error == examples.rejected_error
    assert charges.scan()["Items"] == []


def test_the_instances_differ_refunds_alone_asks_a_person_for_its_large_refund(
    charges: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the refunds instance's approval service (its `approval`), as the module deploys it
    orders, refunds = WorkExamples.load(EXAMPLE / "orders"), WorkExamples.load(EXAMPLE / "refunds")
    assert orders.handed_off is None
    assert refunds.handed_off is not None
    approval = create_approval_service(boto3.client("sqs"), "cb-refunds", NO_PAGE)
    for name, value in approval.worker_environment().items():
        monkeypatch.setenv(name, value)

    # WHEN its large refund's example runs
    handed_off = call_work(the_work("refunds").do_work, refunds.handed_off.input, NO_TASK)

    # THEN it waits for a person: one request in the service's table, nothing refunded yet
    assert isinstance(handed_off, HandedOff)
    requests = boto3.client("dynamodb").scan(TableName=approval.table_name)["Items"]
    assert [json.loads(item["fields"]["S"]) for item in requests] == [
        {"orderId": "order-3", "refund": "900.00"}
    ]
    assert charges.scan()["Items"] == []
